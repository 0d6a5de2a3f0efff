//! ARCHITECTURE.md's crate graph and its list of crates without I/O,
//! held to the workspace's manifests and sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every crate a manifest depends on: `[dependencies]` and every
/// `[target.*.dependencies]` (not dev ones).
fn dependencies(doc: &toml::Table) -> BTreeSet<String> {
    let mut tables: Vec<&toml::Table> = doc
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .into_iter()
        .collect();
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        tables.extend(
            targets
                .values()
                .filter_map(|t| t.get("dependencies").and_then(toml::Value::as_table)),
        );
    }
    tables.iter().flat_map(|t| t.keys()).cloned().collect()
}

fn manifest(dir: &Path) -> toml::Table {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

/// Each workspace crate and the workspace crates it depends on, from the
/// manifests.
fn manifests() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for dir in std::fs::read_dir(root().join("crates")).unwrap() {
        let doc = manifest(&dir.unwrap().path());
        let name = doc["package"]["name"].as_str().unwrap().to_owned();
        let deps = dependencies(&doc)
            .into_iter()
            .filter(|k| k.starts_with("egress"))
            .collect();
        graph.insert(name, deps);
    }
    graph
}

/// The crate graph as ARCHITECTURE.md draws it, and its crates without I/O.
fn documented() -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split_once("### Crate graph")
        .expect("ARCHITECTURE.md has a `### Crate graph` section")
        .1;
    let block = section
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("the crate graph is a ```text block")
        .0;
    let mut graph = BTreeMap::new();
    for line in block.lines() {
        let (name, deps) = line
            .split_once("──▶")
            .unwrap_or_else(|| panic!("not `crate ──▶ deps`: {line}"));
        let deps = deps
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        assert!(
            graph.insert(name.trim().to_owned(), deps).is_none(),
            "{line}: the crate is listed twice"
        );
    }
    let pure = section
        .split_once("Without I/O")
        .and_then(|(_, rest)| rest.split_once("):"))
        .and_then(|(_, rest)| rest.split_once(".\n"))
        .expect("a `Without I/O (...): a, b.` paragraph")
        .0
        .split(',')
        .map(|c| c.trim().to_owned())
        .collect();
    (graph, pure)
}

#[test]
fn the_crate_graph_is_the_manifests() {
    let (drawn, _) = documented();
    let real = manifests();
    let names = |g: &BTreeMap<String, BTreeSet<String>>| g.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&drawn), names(&real), "the crates");
    for (name, deps) in &real {
        assert_eq!(&drawn[name], deps, "what {name} depends on");
    }
}

/// What a crate without I/O must not depend on, and must not name in its
/// sources.
const IO_CRATES: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "rustls",
    "tokio-rustls",
    "hickory-resolver",
    "socket2",
    "winreg",
    "egress-check",
];
const IO_CALLS: &[&str] = &[
    "std::fs",
    "std::{fs",
    "fs::read",
    "fs::write",
    "OpenOptions",
    "File::open",
    "File::create",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "std::process",
    "tokio::",
    "std::env::var",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn crates_without_io_do_none() {
    let (drawn, pure) = documented();
    let real = manifests();
    for name in &pure {
        assert!(drawn.contains_key(name), "{name} is not in the crate graph");
        let dir = root().join("crates").join(name);
        let deps = dependencies(&manifest(&dir));
        for io in IO_CRATES {
            assert!(
                !deps.iter().any(|d| d == io),
                "{name} depends on {io}, yet ARCHITECTURE.md lists it without I/O"
            );
        }
        assert!(real[name].iter().all(|d| !IO_CRATES.contains(&d.as_str())));
        let mut files = Vec::new();
        sources(&dir.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for call in IO_CALLS {
                    assert!(
                        !code.contains(call),
                        "{}:{}: `{call}` in a crate ARCHITECTURE.md lists without I/O",
                        file.display(),
                        n + 1
                    );
                }
            }
        }
    }
}

/// The binary's modules, each with the modules it names (`crate::x`).
fn modules() -> BTreeMap<String, BTreeSet<String>> {
    let dir = root().join("crates/egress/src");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&dir).unwrap();
        let module = relative
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let names = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let after = &text[i + "crate::".len()..];
            // `crate::x`, or each name of a group `crate::{x, y::z}`.
            let heads: Vec<&str> = match after.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .collect(),
                None => vec![after],
            };
            for head in heads {
                let used: String = head
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !used.is_empty()
                    && used != module
                    && used.starts_with(|c: char| c.is_lowercase())
                {
                    names.insert(used);
                }
            }
        }
    }
    graph
}

/// No two modules of the binary depend on each other, however far round.
#[test]
fn the_binarys_modules_have_no_circle() {
    let graph = modules();
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("a module circle: {} -> {m}", path[at..].join(" -> "));
        }
        if !done.insert(m.to_owned()) {
            return;
        }
        path.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

/// Files of the binary over 500 lines: `cli.rs` (the clap types), and
/// what is still to move into a library crate. Shrink the list; never
/// grow it.
const LONG_BINARY_FILES: &[&str] = &["cli.rs", "proxy.rs"];

/// Product functions over 120 lines, still to split into named steps.
/// Shrink the list; never grow it.
const LONG_FUNCTIONS: &[(&str, &str)] = &[
    ("egress-import/src/m365_changes.rs", "apply"),
    ("egress-audit/src/squid.rs", "acl"),
    ("egress-import/src/m365.rs", "build"),
    ("egress-catalog/src/profile.rs", "load"),
    ("egress/src/proxy.rs", "handle"),
    ("egress-check/src/lib.rs", "send_to_proxy"),
    ("egress-audit/src/asked.rs", "by_asking"),
    ("egress-catalog/src/plan.rs", "resolve"),
    ("egress/src/diff.rs", "table"),
    ("egress-audit/src/allowlist/azure.rs", "application"),
    ("egress-audit/src/tally.rs", "add"),
    ("egress-audit/src/squid.rs", "read"),
    ("egress-audit/src/allowlist/aws.rs", "suricata_rule"),
    ("egress/src/audit/allowlist.rs", "run"),
    ("egress-audit/src/squid.rs", "list"),
    ("egress-check/src/report.rs", "next_steps"),
    ("egress-catalog/src/explain.rs", "plan_verdict"),
    ("egress-audit/src/squid.rs", "truth"),
    ("egress-import/src/page.rs", "event"),
    ("egress-import/src/page.rs", "classify"),
    ("egress-check/src/plan.rs", "check"),
];

#[test]
fn the_binary_stays_thin() {
    let dir = root().join("crates/egress/src");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    for file in files {
        let name = file
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(
            lines <= 500 || LONG_BINARY_FILES.contains(&name.as_str()),
            "crates/egress/src/{name} has {lines} lines: move what is not flags, dispatch or \
             exit codes into a library crate"
        );
        if name == "check.rs" {
            assert!(lines < 300, "check.rs has {lines} lines");
        }
    }
}

/// Every function of a product crate (not tests, benches or test support)
/// over 120 lines, as (file below `crates/`, name): from the `fn` line to
/// the closing brace at its indentation.
fn long_functions() -> BTreeSet<(String, String)> {
    let mut long = BTreeSet::new();
    let crates = root().join("crates");
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if name == "egress-test-support" || name == "egress-bench" {
            continue;
        }
        let mut files = Vec::new();
        sources(&dir.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let relative = file
                .strip_prefix(&crates)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for (i, line) in lines.iter().enumerate() {
                if line.starts_with("#[cfg(test)]") {
                    break;
                }
                let code = line.trim_start();
                let indent = &line[..line.len() - code.len()];
                let code = code
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub(super) ")
                    .trim_start_matches("async ")
                    .trim_start_matches("const ");
                let Some(rest) = code.strip_prefix("fn ") else {
                    continue;
                };
                let fn_name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let close = format!("{indent}}}");
                if let Some(end) = lines[i + 1..].iter().position(|l| *l == close)
                    && end + 2 > 120
                {
                    long.insert((relative.clone(), fn_name));
                }
            }
        }
    }
    long
}

#[test]
fn no_new_long_functions() {
    let listed: BTreeSet<(String, String)> = LONG_FUNCTIONS
        .iter()
        .map(|(f, n)| ((*f).to_owned(), (*n).to_owned()))
        .collect();
    let long = long_functions();
    let new: Vec<_> = long.difference(&listed).collect();
    assert!(
        new.is_empty(),
        "functions over 120 lines: split each into named steps: {new:?}"
    );
    let done: Vec<_> = listed.difference(&long).collect();
    assert!(
        done.is_empty(),
        "no longer over 120 lines: take them off LONG_FUNCTIONS: {done:?}"
    );
}
