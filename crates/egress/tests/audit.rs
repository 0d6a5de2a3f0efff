//! `egress audit log` end to end: a real Squid's access.log (and the same
//! gzip-compressed, by the `gzip` tool), a W3C extended log, egress
//! proxy's decision log; bad lines counted, never fatal; exit statuses.

use std::path::Path;
use std::process::Command;

use egress_test_support::origin::https_origin;
use egress_test_support::squid::{self, Squid};
use egress_test_support::tools::{CURL, PACTESTER, PYSPNEGO, SQUID, needs};

fn write_catalog(d: &Path, port: u16) -> std::path::PathBuf {
    let text = egress_test_support::catalog_head("audit")
        + &format!(
            r#"
[[role]]
id = "scp"
title = "Service connection point"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "U"

[[endpoint]]
id = "needed"
url = "https://needed.egress.test:{port}/"
features = ["updates"]
roles = ["scp"]

[[endpoint]]
id = "allowed"
url = "https://allowed.egress.test:{port}/"
features = ["updates"]

[[endpoint]]
id = "wild"
url = "https://*.wild.egress.test:{port}/"
features = ["updates"]
"#
        );
    let path = d.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `egress audit log --catalog CATALOG EXTRA...`: exit status, standard
/// output and error.
fn audit(catalog: &Path, extra: &[&str]) -> (i32, String, String) {
    run(&["audit", "log"], catalog, extra)
}

/// `egress audit log FILE --input INPUT --format json` that finds what
/// the plan needs denied (exit 1): its report.
fn audit_json(catalog: &Path, file: &Path, input: &str) -> serde_json::Value {
    let file = file.display().to_string();
    let (code, out, err) = audit(catalog, &[&file, "--input", input, "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// `egress audit allowlist --input plain --catalog CATALOG EXTRA...`.
fn audit_allowlist(catalog: &Path, extra: &[&str]) -> (i32, String, String) {
    run(&["audit", "allowlist", "--input", "plain"], catalog, extra)
}

fn run(command: &[&str], catalog: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_egress"))
        .args(command)
        .arg("--catalog")
        .arg(catalog)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// curl through a real Squid whose allowlist misses a host the plan
/// needs; the audit of Squid's own access.log finds it, with its feature
/// and role, the wildcard's hosts, and the unknown host it denied.
#[test]
fn a_real_squid_access_log_finds_the_missing_host() {
    if !needs(&[SQUID, CURL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = [
        "needed.egress.test",
        "allowed.egress.test",
        "a.wild.egress.test",
        "unknown.example",
    ];
    let (ca, tls) = https_origin(&names);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let catalog = write_catalog(d, tls);
    let rules = "acl ok dstdomain allowed.egress.test .wild.egress.test\n\
                 http_access allow ok\n\
                 http_access deny all\n";
    let squid = Squid::start(squid::folder(), &names, rules);
    let curl = |host: &str| {
        Command::new(CURL.path())
            .args(["-s", "-o", "/dev/null", "--max-time", "10", "--cacert"])
            .arg(d.join("ca.pem"))
            .args(["-x", &format!("http://127.0.0.1:{}", squid.port)])
            .arg(format!("https://{host}:{tls}/"))
            .env_remove("NO_PROXY")
            .status()
            .unwrap();
    };
    for host in names {
        curl(host);
    }
    curl("needed.egress.test");
    let log = squid.dir.path().join("access.log");
    // Squid writes its log lines as transactions end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count()
        < 5
    {
        assert!(
            std::time::Instant::now() < deadline,
            "Squid logged too little"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = log.display().to_string();
    let (code, out, err) = audit(&catalog, &[&log, "--input", "squid", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["requests"], 5, "{out}");
    assert_eq!(report["denied"], 3, "{out}");
    assert_eq!(report["needed"][0]["row"], "needed.egress.test", "{out}");
    assert_eq!(report["needed"][0]["count"], 2, "{out}");
    assert_eq!(report["needed"][0]["features"][0], "updates");
    assert_eq!(report["needed"][0]["roles"][0], "scp");
    assert_eq!(report["needed"][0]["clients"][0], "127.0.0.1");
    assert_eq!(report["wildcards"][0]["row"], "*.wild.egress.test");
    assert_eq!(
        report["wildcards"][0]["hosts"][0]["host"],
        "a.wild.egress.test"
    );
    assert_eq!(
        report["denied_not_in_catalog"][0]["host"],
        "unknown.example"
    );

    // The same log, compressed by gzip: the same report; and as a table.
    let gz = Command::new("gzip").args(["-k", &log]).status().unwrap();
    assert!(gz.success());
    let (code, again, _) = audit(
        &catalog,
        &[&format!("{log}.gz"), "--input", "squid", "--format", "json"],
    );
    assert_eq!((code, again), (1, out));
    let (_, table, _) = audit(&catalog, &[&log, "--input", "squid"]);
    assert!(
        table.contains("Denied or failed requests the plan needs (1 rows)"),
        "{table}"
    );
    assert!(
        table.contains("  needed.egress.test  2 requests (403 x2)"),
        "{table}"
    );
    assert!(table.contains("unknown.example (1)"), "{table}");

    // A role the catalog does not know: a usage error, exit 2.
    let (code, _, err) = audit(
        &catalog,
        &[&log, "--input", "squid", "--role", "nobody-here"],
    );
    assert_eq!(code, 2, "{err}");
}

/// A W3C extended log (TMG's fields) and egress proxy's decision log; bad
/// lines are counted and the first shown with their line numbers; an
/// unreadable file is exit 2.
#[test]
fn w3c_and_egress_logs_and_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = write_catalog(d, 443);
    let w3c = d.join("w3c.log");
    std::fs::write(
        &w3c,
        "#Software: Microsoft Forefront Threat Management Gateway\n\
         #Fields: date time c-ip cs-username cs-method cs-uri sc-status action r-host r-port\n\
         2026-12-01 10:00:00 10.0.0.5 - CONNECT needed.egress.test:443 0 Denied needed.egress.test 443\n\
         2026-12-01 10:00:01 10.0.0.5 - CONNECT x.wild.egress.test:443 0 Allowed x.wild.egress.test 443\n\
         this line is not one\n\
         2026-12-01 10:00:02 10.0.0.6 - CONNECT needed.egress.test:443 0 Denied needed.egress.test 443\n",
    )
    .unwrap();
    let r = audit_json(&catalog, &w3c, "w3c");
    assert_eq!(r["needed"][0]["count"], 2);
    assert_eq!(r["needed"][0]["first_seen"], "2026-12-01 10:00:00");
    assert_eq!(r["needed"][0]["last_seen"], "2026-12-01 10:00:02");
    assert_eq!(r["bad_lines"], 1);
    assert_eq!(r["first_bad_lines"][0]["line"], 5);
    assert!(
        r["first_bad_lines"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("fields where `#Fields:` names 10"),
        "{r}"
    );

    let decisions = d.join("decisions.jsonl");
    std::fs::write(
        &decisions,
        r#"{"time":"2026-12-02T05:59:34Z","source":"10.0.0.9","method":"CONNECT","host":"allowed.egress.test","port":443,"decision":"allow","would_deny":false,"reason":"r","roles":[],"servers":[],"rows":[],"duration_ms":0}
"#,
    )
    .unwrap();
    let (code, out, _) = audit(
        &catalog,
        &[
            &decisions.display().to_string(),
            "--input",
            "egress",
            "--format",
            "markdown",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("## Denied or failed requests the plan needs\n\nNone."),
        "{out}"
    );

    let (code, _, err) = audit(
        &catalog,
        &[
            &d.join("missing.log").display().to_string(),
            "--input",
            "squid",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.log"), "{err}");
}

/// A file in which no line is a request gives no report (exit 2, the
/// first reason located); one in which most lines are not requests says
/// so before any verdict; the shapes read are named.
#[test]
fn never_all_clear_from_a_file_read_as_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = write_catalog(d, 443);
    let json = d.join("rules.json");
    std::fs::write(&json, "{\n  \"RuleGroup\": {}\n}\n").unwrap();
    let (code, out, err) = audit(&catalog, &[&json.display().to_string(), "--input", "squid"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("lines of ")
            && err.contains(
                "is a request in Squid's native, common or combined format: first reason at "
            )
            && err.contains("rules.json:1:"),
        "{err}"
    );
    let empty = d.join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = audit(&catalog, &[&empty.display().to_string(), "--input", "w3c"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("none of 0 lines of ")
            && err.contains("empty.log is a request in the W3C extended format"),
        "{err}"
    );
    // A log of directives only, given with a good one: each file on its
    // own.
    let directives = d.join("quiet.log");
    std::fs::write(
        &directives,
        "#Software: SGOS 7.3\n#Fields: date time c-ip cs-host sc-status\n",
    )
    .unwrap();
    let good = d.join("good.log");
    std::fs::write(&good, "#Fields: date time c-ip cs-host sc-status\n2026-12-07 10:00:00 10.0.0.5 needed.egress.test 200\n").unwrap();
    let (code, _, err) = audit(
        &catalog,
        &[
            &good.display().to_string(),
            &directives.display().to_string(),
            "--input",
            "w3c",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("none of 2 lines of ")
            && err.contains("quiet.log is a request in the W3C extended format (its lines are comments, directives or transactions without a request)"),
        "{err}"
    );

    let mostly = d.join("mostly.log");
    std::fs::write(
        &mostly,
        "not a line\nnor this\nnor that\n\
         10.0.0.5 - - [07/Dec/2026:10:00:01 +0000] \"CONNECT needed.egress.test:443 HTTP/1.1\" 403 3900 TCP_DENIED:HIER_NONE\n",
    )
    .unwrap();
    let (code, out, _) = audit(
        &catalog,
        &[&mostly.display().to_string(), "--input", "squid"],
    );
    assert_eq!(code, 1, "{out}");
    let note = out
        .find("mostly.log are not requests (3 of 4): first ")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(note < out.find("Denied or failed").unwrap(), "{out}");
    assert!(
        out.contains("# read as: Squid common (logformat common)"),
        "{out}"
    );
}

/// Logs of several megabytes (read in blocks, on several threads): every
/// line counted once, bad lines numbered as in the file (one not UTF-8,
/// in a block checked line by line), the same clients named on every
/// run; a gzip log the same; a W3C log whose second `#Fields:` (past the
/// first block) applies to the lines after it.
#[test]
fn logs_larger_than_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = write_catalog(d, 443);
    let bad = [12_345u64, 20_000, 25_000, 29_999];
    let mut text = String::new();
    for n in 1..=30_000u64 {
        if n == 20_000 {
            text.push_str(
                "1796177220000.766 1 10.0.0.7 TCP_DENIED/403 0 CONNECT \u{1}:443 - HIER_NONE/- -\n",
            );
        } else if bad.contains(&n) {
            text.push_str("not a request\n");
        } else if n % 10 == 0 {
            text.push_str(&format!(
                "17961772{n:05}.766 1 10.0.0.{} TCP_DENIED/403 0 CONNECT needed.egress.test:443 - HIER_NONE/- -\n",
                n % 200
            ));
        } else {
            text.push_str(&format!(
                "17961772{n:05}.766 1 10.0.1.1 TCP_TUNNEL/200 0 CONNECT h{n}.wild.egress.test:443 - HIER_DIRECT/192.0.2.7 -\n"
            ));
        }
    }
    assert!(text.len() > 3 << 20);
    // Line 20,000's host becomes a byte that is not UTF-8.
    let mut text = text.into_bytes();
    let marker = text.iter().position(|&b| b == 1).unwrap();
    text[marker] = 0xff;
    let plain = d.join("access.log");
    std::fs::write(&plain, &text).unwrap();
    let gz = d.join("access.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &text).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for file in [&plain, &gz, &plain] {
        let r = audit_json(&catalog, file, "squid");
        assert_eq!(
            (r["lines"].as_u64(), r["bad_lines"].as_u64()),
            (Some(30_000), Some(4))
        );
        assert_eq!(r["first_bad_lines"][1]["reason"], "not UTF-8", "{r}");
        let lines: Vec<u64> = r["first_bad_lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, bad, "{r}");
        assert_eq!(r["needed"][0]["count"], 3_000 - 2, "{r}");
        assert_eq!(r["needed"][0]["first_seen"], "1796177200010.766");
        assert_eq!(r["needed"][0]["last_seen"], "1796177230000.766");
        // Twenty clients (10.0.0.0, .10, ... .190): the ten lowest.
        let lowest: Vec<String> = [
            "0", "10", "100", "110", "120", "130", "140", "150", "160", "170",
        ]
        .iter()
        .map(|n| format!("10.0.0.{n}"))
        .collect();
        assert_eq!(r["needed"][0]["clients"], serde_json::json!(lowest), "{r}");
        assert_eq!(r["needed"][0]["more_clients"], true);
    }

    // Two `#Fields:` lines, the second past the first block and with the
    // fields in another order.
    let mut w3c =
        String::from("#Fields: date time c-ip cs-method r-host r-port sc-status action\n");
    let mut n = 1;
    while w3c.len() < (3 << 20) / 2 {
        w3c.push_str("2026-12-01 10:00:00 10.0.0.5 CONNECT x.wild.egress.test 443 200 Allowed\n");
        n += 1;
    }
    w3c.push_str("#Fields: action r-host r-port date time c-ip cs-method sc-status\n");
    for _ in 0..10 {
        w3c.push_str("Denied needed.egress.test 443 2026-12-01 11:00:00 10.0.0.6 CONNECT 403\n");
    }
    let file = d.join("w3c.log");
    std::fs::write(&file, &w3c).unwrap();
    let r = audit_json(&catalog, &file, "w3c");
    assert_eq!(r["bad_lines"], 0, "{r}");
    assert_eq!(r["lines"], n + 11);
    assert_eq!(r["needed"][0]["count"], 10);
    assert_eq!(r["needed"][0]["clients"], serde_json::json!(["10.0.0.6"]));
}

/// `egress render T | egress audit allowlist - --input T`, same
/// selection, for every target audit reads: nothing blocked, no entry
/// unexplained, exit 0 (a plain list: every row allowed exactly); over
/// both revisions and both clouds, with a profile that fills every
/// placeholder.
#[test]
fn rendered_allowlists_audit_as_allowing_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    for (revision, extra) in [
        ("2020-07", ""),
        (
            "2025-03",
            "cmg-region = \"westus\"\nlogic-app-region = \"westus\"\n",
        ),
    ] {
        let profile = dir.path().join(format!("site-{revision}.toml"));
        std::fs::write(
            &profile,
            format!(
                "[placeholders]\n\
                 cmg-name = \"granitefalls\"\n\
                 child-sup-fqdn = \"sup01.child.contoso.com\"\n\
                 parent-sup-fqdn = \"sup01.contoso.com\"\n{extra}"
            ),
        )
        .unwrap();
        for (cloud, target, extra) in ["public", "usgov"].into_iter().flat_map(|cloud| {
            [
                ("squid", None),
                ("squid", Some("--squid-style=loose")),
                ("pac", None),
                ("plain", None),
                ("pan-edl", None),
                ("pan-edl", Some("--edl-type=url")),
                ("aws-network-firewall", None),
                ("azure-firewall", None),
            ]
            .map(|(t, e)| (cloud, t, e))
        }) {
            let at = format!("{revision} {cloud} {target} {extra:?}");
            let selection = [
                "--revision",
                revision,
                "--cloud",
                cloud,
                "--profile",
                profile.to_str().unwrap(),
            ];
            let rendered = Command::new(env!("CARGO_BIN_EXE_egress"))
                .args(["render", target])
                .args(extra)
                .args(selection)
                .output()
                .unwrap();
            assert!(
                rendered.status.success(),
                "{at}: {}",
                String::from_utf8_lossy(&rendered.stderr)
            );
            let mut audit = Command::new(env!("CARGO_BIN_EXE_egress"))
                .args([
                    "audit",
                    "allowlist",
                    "-",
                    "--format",
                    "json",
                    "--input",
                    target,
                ])
                .args(selection)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            audit
                .stdin
                .take()
                .unwrap()
                .write_all(&rendered.stdout)
                .unwrap();
            let out = audit.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{at}: {text}");
            let r: serde_json::Value = serde_json::from_str(&text).unwrap();
            let rows = r["rows"].as_array().unwrap();
            assert!(rows.len() > 5, "{at}: {text}");
            // Where a target cannot say a row exactly (an apex it adds, a
            // partial-label wildcard it widens), the row is allowed more
            // broadly: the losses `render` reported.
            let exact = matches!(target, "plain" | "pac") || (target == "squid" && extra.is_none());
            let wanted: &[&str] = if exact {
                &["allowed"]
            } else {
                &["allowed", "broader"]
            };
            assert!(
                rows.iter()
                    .all(|row| wanted.iter().any(|w| row["verdict"] == *w)),
                "{at}: {text}"
            );
            assert_eq!(r["unexplained"], serde_json::json!([]), "{at}");
        }
    }
}

/// A hand-written plain list: a wildcard that admits more, a host of a
/// wildcard row, a missing host, an entry the plan does not need (with
/// what the catalog knows of it), an entry the catalog does not know; and
/// a list that is not one: every bad line located, exit 2.
#[test]
fn plain_allowlist_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = write_catalog(d, 443);
    let list = d.join("list.txt");
    std::fs::write(
        &list,
        "# the site's list\n*.egress.test\nx.wild.egress.test\n*.example.org\n",
    )
    .unwrap();
    let (code, out, err) =
        audit_allowlist(&catalog, &[&list.display().to_string(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let verdicts: Vec<(&str, &str)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["row"].as_str().unwrap(),
                row["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("allowed.egress.test", "broader"),
            ("needed.egress.test", "broader"),
            ("*.wild.egress.test", "broader"),
        ]
    );
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .contains("cannot restrict ports or schemes"),
        "{out}"
    );
    assert_eq!(r["unexplained"][0]["entry"], "*.example.org");
    assert_eq!(r["unexplained"].as_array().unwrap().len(), 1, "{out}");

    std::fs::write(&list, "needed.egress.test\nx.wild.egress.test\n").unwrap();
    let (code, out, _) = audit_allowlist(&catalog, &[&list.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BLOCKED  allowed.egress.test"), "{out}");
    assert!(out.contains("BLOCKED in part  *.wild.egress.test"), "{out}");
    assert!(out.contains("by "), "{out}");
    assert!(out.contains("list.txt:2: x.wild.egress.test"), "{out}");

    std::fs::write(&list, "ok.example\nnot a host\n\n  *.*.bad\n").unwrap();
    let (code, out, err) = audit_allowlist(&catalog, &[&list.display().to_string()]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("cannot be read (2 problems)"), "{err}");
    assert!(err.contains("list.txt:2:1: `not a host`"), "{err}");
    assert!(err.contains("list.txt:4:3: `*.*.bad`"), "{err}");
}

/// A real Squid runs with the rules `egress render squid` wrote, then
/// with a `deny` before them: curl through it is allowed exactly where
/// `audit allowlist --input squid`, reading the configuration Squid runs
/// with, says the row is allowed.
#[test]
fn squid_configurations_against_a_real_squid() {
    if !needs(&[SQUID, CURL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = [
        "needed.egress.test",
        "allowed.egress.test",
        "a.wild.egress.test",
    ];
    let (ca, tls) = https_origin(&names);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let catalog = write_catalog(d, tls);
    let rendered = Command::new(env!("CARGO_BIN_EXE_egress"))
        .args(["render", "squid", "--catalog"])
        .arg(&catalog)
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let rules = String::from_utf8(rendered.stdout).unwrap();
    for (name, before, blocked) in [
        ("as rendered", "", None),
        (
            "with a deny first",
            "acl nope dstdomain needed.egress.test\nhttp_access deny nope\n",
            Some("needed.egress.test"),
        ),
    ] {
        let squid = Squid::start(
            squid::folder(),
            &names,
            &format!("{before}{rules}http_access deny all\n"),
        );
        let conf = squid.dir.path().join("squid.conf");
        let (code, out, err) = {
            let out = Command::new(env!("CARGO_BIN_EXE_egress"))
                .args([
                    "audit",
                    "allowlist",
                    "--input",
                    "squid",
                    "--format",
                    "json",
                    "--catalog",
                ])
                .arg(&catalog)
                .arg(&conf)
                .output()
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        assert_eq!(code, i32::from(blocked.is_some()), "{name}: {out}{err}");
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        agree(&r, name, blocked, |host| {
            Command::new(CURL.path())
                .args(["-s", "-o", "/dev/null", "--max-time", "10", "--cacert"])
                .arg(d.join("ca.pem"))
                .args(["-x", &format!("http://127.0.0.1:{}", squid.port)])
                .arg(format!("https://{host}:{tls}/"))
                .env_remove("NO_PROXY")
                .status()
                .unwrap()
                .success()
        });
        assert_eq!(r["unexplained"], serde_json::json!([]), "{name}: {out}");
    }
}

/// `pactester` (libpacparser, Debian) and the audit agree on the PAC file
/// `render pac` wrote, and on one that sends a needed host to the
/// blackhole.
#[test]
fn pac_files_against_pactester() {
    if !needs(&[PACTESTER]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = write_catalog(d, 443);
    let rendered = Command::new(env!("CARGO_BIN_EXE_egress"))
        .args(["render", "pac", "--catalog"])
        .arg(&catalog)
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let pac = String::from_utf8(rendered.stdout).unwrap();
    let edited = pac.replacen(
        "function FindProxyForURL(url, host) {",
        "function FindProxyForURL(url, host) {\n  if (host == \"needed.egress.test\") return \"PROXY 127.0.0.1:9\";",
        1,
    );
    assert_ne!(
        pac, edited,
        "the PAC file's function is where the test expects it"
    );
    for (name, text, blocked) in [
        ("as rendered", pac, None),
        ("edited", edited, Some("needed.egress.test")),
    ] {
        let file = d.join("proxy.pac");
        std::fs::write(&file, &text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_egress"))
            .args([
                "audit",
                "allowlist",
                "--input",
                "pac",
                "--format",
                "json",
                "--catalog",
            ])
            .arg(&catalog)
            .arg(&file)
            .output()
            .unwrap();
        let json = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(i32::from(blocked.is_some())),
            "{name}: {json}"
        );
        let r: serde_json::Value = serde_json::from_str(&json).unwrap();
        agree(&r, name, blocked, |host| {
            let said = Command::new(PACTESTER.path())
                .arg("-p")
                .arg(&file)
                .args(["-u", &format!("https://{host}/")])
                .output()
                .unwrap();
            String::from_utf8_lossy(&said.stdout).trim() != "PROXY 127.0.0.1:9"
        });
    }
}

/// Each row of an audit report (JSON) against what a real tool did for a
/// host of the row (`tool_allows`): allowed or broader exactly when the
/// tool let it through; blocked exactly for the row `blocked` names.
#[track_caller]
fn agree(
    r: &serde_json::Value,
    name: &str,
    blocked: Option<&str>,
    tool_allows: impl Fn(&str) -> bool,
) {
    for row in r["rows"].as_array().unwrap() {
        let pattern = row["row"].as_str().unwrap();
        let host = pattern.replacen('*', "a", 1);
        let audit_allows = row["verdict"] == "allowed" || row["verdict"] == "broader";
        assert_eq!(tool_allows(&host), audit_allows, "{name}: {host}: {row}");
        assert_eq!(
            row["verdict"] == "blocked",
            blocked == Some(pattern),
            "{name}: {row}"
        );
    }
}

/// A real Squid that requires authentication (NTLM through the test
/// helper, Basic through `basic_ncsa_auth`) writes the log: curl's NTLM
/// handshakes (407, then the tunnel) and a Basic login are nothing wrong;
/// a wrong Basic password, 407 only, is authentication failing.
#[test]
fn authentication_challenges_in_a_real_squid_log() {
    if !needs(&[SQUID, PYSPNEGO, CURL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = [
        "needed.egress.test",
        "allowed.egress.test",
        "a.wild.egress.test",
    ];
    let (ca, tls) = https_origin(&names);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let catalog = write_catalog(d, tls);
    let folder = squid::folder();
    let rules = squid::ntlm_rules(folder.path(), &[("CONTOSO", "alice", "s3cret")], true);
    let squid = Squid::start(folder, &names, &rules);
    let curl = |host: &str, auth: &[&str]| {
        let status = Command::new(CURL.path())
            .args(["-s", "-o", "/dev/null", "--max-time", "10", "--cacert"])
            .arg(d.join("ca.pem"))
            .args(["-x", &format!("http://127.0.0.1:{}", squid.port)])
            .args(auth)
            .arg(format!("https://{host}:{tls}/"))
            .env_remove("NO_PROXY")
            .status()
            .unwrap();
        status.success()
    };
    for _ in 0..2 {
        assert!(curl(
            "needed.egress.test",
            &["--proxy-ntlm", "--proxy-user", "CONTOSO\\alice:s3cret"]
        ));
    }
    assert!(curl(
        "allowed.egress.test",
        &["--proxy-basic", "--proxy-user", "alice:s3cret"]
    ));
    assert!(!curl(
        "a.wild.egress.test",
        &["--proxy-basic", "--proxy-user", "alice:wrong"]
    ));
    let log = squid.dir.path().join("access.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let challenges = |text: &str| text.matches("/407 ").count();
    while challenges(&std::fs::read_to_string(&log).unwrap_or_default()) < 3
        || !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("allowed.egress.test")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "Squid logged too little: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let log = log.display().to_string();
    let (code, out, err) = audit(&catalog, &[&log, "--input", "squid", "--format", "json"]);
    assert_eq!(code, 1, "{err}\n{text}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["needed"], serde_json::json!([]), "{out}\n{text}");
    assert_eq!(report["denied"], 0, "{out}");
    assert_eq!(
        report["challenged"].as_u64(),
        Some(challenges(&text) as u64),
        "{out}\n{text}"
    );
    let failing = report["auth_failing"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "{out}\n{text}");
    assert_eq!(failing[0]["host"], "a.wild.egress.test");
    assert_eq!(failing[0]["client"], "127.0.0.1");
    assert_eq!(failing[0]["row"], "*.wild.egress.test");
    let (_, table, _) = audit(&catalog, &[&log, "--input", "squid"]);
    assert!(
        table.contains("Authentication failing (1 client and host pairs)"),
        "{table}"
    );
    assert!(
        table.contains("No denied or failed request is one the plan needs."),
        "{table}"
    );
}
