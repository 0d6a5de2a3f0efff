//! The real `egress` binary on fixture catalogs and profiles: outputs,
//! exit codes, and the message every class of bad input gets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

fn fixture(name: &str) -> String {
    // Relative paths keep the messages (and snapshots) free of the checkout's
    // location.
    format!("tests/fixtures/{name}")
}

fn egress(args: &[&str]) -> Output {
    cargo_bin_cmd!("egress")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("egress runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Runs egress on bad input: exit status 2, nothing on stdout, and the
/// message on stderr as in the snapshot.
#[track_caller]
fn check_bad(name: &str, args: &[&str]) {
    let out = egress(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}\n{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "", "{args:?}");
    insta::assert_snapshot!(name, text(&out.stderr));
}

#[test]
fn bad_catalogs() {
    let v = |f: &str| vec!["catalog".to_owned(), "validate".to_owned(), fixture(f)];
    for (name, file) in [
        ("catalog-syntax", "syntax.toml"),
        ("catalog-unknown-key", "unknown-key.toml"),
        ("catalog-duplicate-id", "duplicate-id.toml"),
        ("catalog-bad-pattern", "bad-pattern.toml"),
        ("catalog-unknown-feature", "unknown-feature.toml"),
        ("catalog-wrong-type", "wrong-type.toml"),
        ("catalog-many-problems", "many-problems.toml"),
    ] {
        let args = v(file);
        check_bad(name, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    check_bad(
        "catalog-missing-file",
        &["catalog", "validate", "tests/fixtures/none.toml"],
    );
    // The same checks apply wherever a catalog is read.
    check_bad(
        "plan-bad-catalog",
        &["plan", "--catalog", &fixture("unknown-feature.toml")],
    );
}

#[test]
fn bad_profiles() {
    for (name, file) in [
        ("profile-syntax", "profile-syntax.toml"),
        ("profile-unknown-key", "profile-unknown-key.toml"),
        ("profile-unknown-ids", "profile-unknown-ids.toml"),
        ("profile-wrong-type", "profile-wrong-type.toml"),
        ("profile-many-problems", "profile-many-problems.toml"),
        ("profile-bad-proxy", "profile-bad-proxy.toml"),
        ("profile-unknown-revision", "profile-unknown-revision.toml"),
        ("profile-missing-catalog", "profile-missing-catalog.toml"),
    ] {
        check_bad(name, &["plan", "--profile", &fixture(file)]);
    }
}

#[test]
fn bad_options() {
    check_bad(
        "option-unknown-ids",
        &["plan", "--feature", "cloud-service", "--role", "sup"],
    );
    check_bad(
        "option-unknown-revision",
        &["plan", "--revision", "2019-01"],
    );
    check_bad(
        "option-revision-of-file",
        &[
            "catalog",
            "list",
            "--catalog",
            &fixture("vendor.toml"),
            "--revision",
            "2020-07",
        ],
    );
    let out = egress(&["plan", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'yaml'"));
    let out = egress(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    // Options a command would ignore are refused.
    for args in [
        &["profile", "validate", "--profile", "a.toml", "b.toml"][..],
        &["catalog", "revisions", "--catalog", "a.toml"],
    ] {
        let out = egress(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("unexpected argument"),
            "{args:?}"
        );
    }
    // Not a host, rather than no match.
    let out = egress(&["explain", "--", "-x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a label cannot start or end with '-'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_outputs() {
    let profile = fixture("site.toml");
    for (format, name) in [
        ("table", "plan-site-table"),
        ("json", "plan-site-json"),
        ("csv", "plan-site-csv"),
        ("markdown", "plan-site-markdown"),
    ] {
        let out = egress(&["plan", "--profile", &profile, "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        insta::assert_snapshot!(name, text(&out.stdout));
    }
    // The command line wins over the profile.
    let out = egress(&[
        "plan",
        "--profile",
        &profile,
        "--revision",
        "2020-07",
        "--feature",
        "software-updates",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("plan-site-cli-wins", text(&out.stdout));
}

/// `required = false` and `attributes` in a catalog: shown in every plan
/// format (a row is optional only when every endpoint behind it is).
#[test]
fn plan_shows_optional_rows_and_attributes() {
    let profile = fixture("profile-optional.toml");
    for (format, name) in [
        ("table", "plan-optional-table"),
        ("json", "plan-optional-json"),
        ("csv", "plan-optional-csv"),
    ] {
        let out = egress(&["plan", "--profile", &profile, "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        insta::assert_snapshot!(name, text(&out.stdout));
    }
}

#[test]
fn plan_without_profile_names_missing_placeholders() {
    let out = egress(&[
        "plan",
        "--revision",
        "2020-07",
        "--feature",
        "cloud-services",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing: Vec<(&str, &str)> = doc["missing_placeholders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["placeholder"].as_str().unwrap(),
                m["profile_key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(missing, [("cmg-name", "placeholders.cmg-name")]);
    let needs_input = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "needs-input")
        .count();
    assert_eq!(needs_input, 2);
}

#[test]
fn a_profile_can_choose_a_vendor_catalog() {
    let out = egress(&["plan", "--profile", &fixture("profile-vendor.toml")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("plan-vendor", text(&out.stdout));
}

/// `catalog list --format json` has every endpoint of the revision, with
/// the attributes the catalog gives it.
#[test]
fn catalog_list_json_has_every_endpoint() {
    for catalog in egress_catalog::embedded::all().unwrap() {
        let out = egress(&[
            "catalog",
            "list",
            "--revision",
            &catalog.meta.revision,
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["format"], "egress.catalog/1");
        let listed = doc["endpoints"].as_array().unwrap();
        assert_eq!(listed.len(), catalog.endpoints.len());
        for (e, j) in catalog.endpoints.iter().zip(listed) {
            assert_eq!(j["id"], e.id.as_str());
            assert_eq!(j["target"], e.destination.to_string());
            assert_eq!(j["cloud"], e.cloud.as_str());
            assert_eq!(j["roles"]["value"], serde_json::json!(e.roles.value));
            assert_eq!(j["ports"]["value"], serde_json::json!(e.ports.value));
            assert_eq!(j["ports"]["basis"], e.ports.basis.as_str());
            assert_eq!(j["features"], serde_json::json!(e.features));
        }
    }
}

#[test]
fn catalog_browsing() {
    for (name, args) in [
        ("catalog-features", vec!["catalog", "features"]),
        (
            "catalog-roles",
            vec!["catalog", "roles", "--revision", "2020-07"],
        ),
        ("catalog-placeholders", vec!["catalog", "placeholders"]),
        ("catalog-revisions", vec!["catalog", "revisions"]),
        (
            "catalog-list-table",
            vec![
                "catalog",
                "list",
                "--feature",
                "cloud-services",
                "--cloud",
                "usgov",
            ],
        ),
        (
            "catalog-list-csv",
            vec!["catalog", "list", "--role", "console", "--format", "csv"],
        ),
        (
            "catalog-list-markdown",
            vec![
                "catalog",
                "list",
                "--revision",
                "2020-07",
                "--feature",
                "software-updates",
                "--format",
                "markdown",
            ],
        ),
    ] {
        let out = egress(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        insta::assert_snapshot!(name, text(&out.stdout));
    }
    let out = egress(&["catalog", "validate", &fixture("vendor.toml")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "ok: tests/fixtures/vendor.toml: catalog contoso-agent revision 2024-05: 2 features, 2 roles, 1 placeholders, 2 endpoints\n"
    );
}

/// The table stays readable at 100 columns.
#[test]
fn tables_fit_100_columns() {
    for args in [
        vec!["plan"],
        vec!["plan", "--revision", "2020-07"],
        vec!["catalog", "list"],
        vec!["catalog", "features"],
    ] {
        let out = egress(&args);
        let stdout = text(&out.stdout);
        let table = stdout
            .lines()
            .filter(|l| !l.starts_with('#') && !l.contains("<http"));
        for line in table {
            assert!(line.chars().count() <= 100, "{args:?}: {line}");
        }
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn output_files_are_written_whole_or_not_at_all() {
    let dir = scratch();
    let path = dir.path().join("plan.json");
    let p = path.to_str().unwrap();
    let out = egress(&["plan", "--format", "json", "-o", p]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "");
    let stdout = egress(&["plan", "--format", "json"]).stdout;
    assert_eq!(std::fs::read(&path).unwrap(), stdout);

    // Bad input: the existing file is untouched and no temporary is left.
    let out = egress(&[
        "plan",
        "--profile",
        &fixture("profile-unknown-ids.toml"),
        "-o",
        p,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&path).unwrap(), stdout);
    let missing = dir.path().join("new.csv");
    let out = egress(&[
        "plan",
        "--catalog",
        &fixture("syntax.toml"),
        "-o",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
    assert_eq!(entries(dir.path()), ["plan.json"]);

    // A folder that does not exist is a clear error.
    let out = egress(&[
        "plan",
        "-o",
        dir.path().join("no/such/dir/x").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cannot create a file in"), "{err}");
    assert!(err.contains("no/such/dir"), "{err}");
    assert!(!err.contains(".egress-"), "{err}");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn profile_init_writes_a_valid_profile_and_never_overwrites() {
    let dir = scratch();
    let path: PathBuf = dir.path().join("site.toml");
    let p = path.to_str().unwrap();
    let out = egress(&["profile", "init", "-o", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text(&egress(&["profile", "init"]).stdout)
    );
    let out = egress(&["profile", "validate", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = egress(&["plan", "--profile", p, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Uncommenting its `catalog` line gives a profile that loads
    // (here with an exported catalog of another revision than the latest).
    let exported = dir.path().join("my-vendor-catalog.toml");
    let out = egress(&[
        "catalog",
        "export",
        "--revision",
        "2020-07",
        "-o",
        exported.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let template = std::fs::read_to_string(&path).unwrap();
    assert!(template.contains("\n# catalog = \"my-vendor-catalog.toml\"\n"));
    // (2020-07 has no `<region>` placeholder.)
    let mine: String = template
        .replace("# catalog = \"my-vendor", "catalog = \"my-vendor")
        .lines()
        .filter(|l| !l.starts_with("cmg-region"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, mine).unwrap();
    let out = egress(&["profile", "validate", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("revision 2020-07"));

    std::fs::write(&path, "mine").unwrap();
    let out = egress(&["profile", "init", "-o", p]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
}

#[test]
fn completions_and_help() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = egress(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("egress"));
    }
    for args in [
        vec!["--help"],
        vec!["plan", "--help"],
        vec!["catalog", "--help"],
        vec!["catalog", "list", "--help"],
        vec!["profile", "init", "--help"],
    ] {
        let out = egress(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text(&out.stdout).contains("Usage: egress"), "{args:?}");
    }
}

/// `egress plan | head -1`: a reader that goes away early is not an error.
#[test]
fn broken_pipe_exits_0() {
    let bin = assert_cmd::cargo::cargo_bin!("egress");
    let mut child = Command::new(bin)
        .args(["catalog", "list", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

fn egress_stdin(args: &[&str], stdin: &str) -> Output {
    cargo_bin_cmd!("egress")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("egress runs")
}

#[test]
fn explain_exit_codes_and_outputs() {
    let out = egress(&[
        "explain",
        "ssu2.manage.microsoft.com",
        "https://go.microsoft.com/fwlink/?LinkID=619849",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("explain-matched", text(&out.stdout));

    let out = egress(&[
        "explain",
        "windowsupdate.com",
        "x.manage.microsoft.com.evil.test",
        "download.microsoft.com:8443",
        "aka.ms",
    ]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("explain-near-misses", text(&out.stdout));

    let out = egress(&[
        "explain",
        "--profile",
        &fixture("site.toml"),
        "granitefalls.blob.core.windows.net",
        "github.com",
    ]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("explain-plan", text(&out.stdout));

    // Bad input on the command line: every one reported, nothing explained.
    check_bad(
        "explain-bad-input",
        &["explain", "aka.ms", "bad host", "x.example:99999"],
    );
}

#[test]
fn explain_reads_stdin_and_skips_malformed_lines() {
    let out = egress_stdin(
        &["explain", "-", "--format", "jsonl"],
        "aka.ms\n\nexa mple.com\nhttp://maps.bing.com\nnothing.example\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "line 3: `exa mple.com`: invalid host `exa mple.com`: character ' ' is not allowed in a host name (letters, digits, '-' and '.') (at character 4); skipped\n1 malformed line(s) skipped\n"
    );
    let docs: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, bool)> = docs
        .iter()
        .map(|d| {
            (
                d["input"].as_str().unwrap(),
                d["matched"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("aka.ms", true),
            ("http://maps.bing.com", true),
            ("nothing.example", false)
        ]
    );
    assert_eq!(docs[1]["matches"][0]["endpoint"], "console-maps-bing");

    // Every line matched: exit 0.
    let out = egress_stdin(
        &["explain", "-", "--revision", "2020-07"],
        "aka.ms\nGO.microsoft.com.\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn render_targets() {
    let profile = fixture("site.toml");
    for target in [
        "squid",
        "pac",
        "pan-edl",
        "azure-firewall",
        "aws-network-firewall",
        "plain",
    ] {
        let out = egress(&["render", target, "--profile", &profile]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{target}: {}",
            text(&out.stderr)
        );
        insta::assert_snapshot!(format!("render-{target}"), text(&out.stdout));
        insta::assert_snapshot!(format!("render-{target}-stderr"), text(&out.stderr));
    }
    let out = egress(&[
        "render",
        "pan-edl",
        "--edl-type",
        "url",
        "--profile",
        &profile,
    ]);
    insta::assert_snapshot!("render-pan-edl-url", text(&out.stdout));
    let out = egress(&[
        "render",
        "squid",
        "--squid-style",
        "loose",
        "--role",
        "service-connection-point",
        "--profile",
        &profile,
    ]);
    insta::assert_snapshot!("render-squid-loose-role", text(&out.stdout));
}

/// `render json` is exactly `plan --format json`; csv and markdown too.
#[test]
fn render_plan_formats_are_the_plan() {
    let profile = fixture("site.toml");
    for format in ["json", "csv", "markdown"] {
        let rendered = egress(&["render", format, "--profile", &profile]);
        let planned = egress(&["plan", "--format", format, "--profile", &profile]);
        assert_eq!(rendered.status.code(), Some(0));
        assert_eq!(rendered.stdout, planned.stdout, "{format}");
    }
}

/// The ARM template and the AWS rule group have the shape their services
/// take.
#[test]
fn render_json_documents_have_the_expected_structure() {
    let out = egress(&[
        "render",
        "azure-firewall",
        "--profile",
        &fixture("site.toml"),
    ]);
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        arm["$schema"],
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    );
    assert_eq!(arm["contentVersion"], "1.0.0.0");
    assert!(arm["parameters"]["firewallPolicyName"]["type"] == "string");
    let resource = &arm["resources"][0];
    assert_eq!(
        resource["type"],
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups"
    );
    let collections = resource["properties"]["ruleCollections"]
        .as_array()
        .unwrap();
    assert_eq!(
        collections[0]["ruleCollectionType"],
        "FirewallPolicyFilterRuleCollection"
    );
    assert_eq!(collections[0]["action"]["type"], "Allow");
    let rules = collections[0]["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    let mut names = std::collections::BTreeSet::new();
    for r in rules {
        assert_eq!(r["ruleType"], "ApplicationRule");
        assert!(
            names.insert(r["name"].as_str().unwrap().to_owned()),
            "rule names are unique"
        );
        for p in r["protocols"].as_array().unwrap() {
            assert!(matches!(p["protocolType"].as_str(), Some("Http" | "Https")));
            assert!(p["port"].as_u64().is_some_and(|n| (1..=65535).contains(&n)));
        }
        let fqdns = r["targetFqdns"].as_array().unwrap();
        assert!(!fqdns.is_empty());
        for f in fqdns {
            let f = f.as_str().unwrap();
            // Azure takes a wildcard only as a leading `*.`.
            assert!(
                !f.contains('*') || (f.starts_with("*.") && !f[2..].contains('*')),
                "{f}"
            );
        }
        // The profile names the SCP's address, so the SCP's rules
        // have it as their source, and every other role's rules, which
        // the SCP must not get, admit any source (a reported loss).
        let name = r["name"].as_str().unwrap();
        let sources = if name.contains("-service-connection-point-") {
            serde_json::json!(["10.0.0.5"])
        } else {
            serde_json::json!(["*"])
        };
        assert_eq!(r["sourceAddresses"], sources, "{name}");
    }
    let not_included = arm["metadata"]["notIncluded"].as_array().unwrap();
    assert!(
        not_included[0]
            .as_str()
            .unwrap()
            .starts_with("co-management: ")
    );
    assert!(
        not_included[1]
            .as_str()
            .unwrap()
            .starts_with("intranet, between site systems")
    );

    let out = egress(&[
        "render",
        "aws-network-firewall",
        "--profile",
        &fixture("site.toml"),
    ]);
    let aws: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(aws["Type"], "STATEFUL");
    let name = aws["RuleGroupName"].as_str().unwrap();
    assert!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && name.len() <= 128,
        "{name}"
    );
    assert!(aws["Capacity"].as_u64().is_some_and(|c| c >= 1));
    assert!(aws["Description"].as_str().unwrap().len() <= 512);
    let list = &aws["RuleGroup"]["RulesSource"]["RulesSourceList"];
    assert_eq!(list["GeneratedRulesType"], "ALLOWLIST");
    for t in list["TargetTypes"].as_array().unwrap() {
        assert!(matches!(t.as_str(), Some("TLS_SNI" | "HTTP_HOST")));
    }
    let targets = list["Targets"].as_array().unwrap();
    assert!(!targets.is_empty());
    assert!(targets.iter().all(|t| !t.as_str().unwrap().contains('*')));
    let tags = aws["Tags"].as_array().unwrap();
    assert!(
        tags.len() <= 50
            && tags.iter().all(|t| t["Key"].as_str().unwrap().len() <= 128
                && t["Value"].as_str().unwrap().len() <= 256)
    );
}

#[test]
fn render_strict_writes_nothing_when_anything_is_lost() {
    let dir = scratch();
    let path = dir.path().join("list.txt");
    let p = path.to_str().unwrap();
    let out = egress(&[
        "render",
        "plain",
        "--strict",
        "--profile",
        &fixture("site.toml"),
        "-o",
        p,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!path.exists());
    assert!(text(&out.stderr).contains("--strict"));
    // Squid can express this feature exactly: strict passes.
    let out = egress(&[
        "render",
        "squid",
        "--strict",
        "--feature",
        "software-updates",
        "--profile",
        &fixture("site.toml"),
        "-o",
        p,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("# losses: none")
    );
    check_bad(
        "render-bad-pac-proxy",
        &["render", "pac", "--pac-proxy", "not a proxy"],
    );
}

#[test]
fn catalog_diff() {
    let out = egress(&["catalog", "diff", "configmgr@2020-07", "configmgr@2025-03"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("diff-2020-07-2025-03", text(&out.stdout));
    let out = egress(&[
        "catalog",
        "diff",
        "configmgr@2020-07",
        "configmgr@2025-03",
        "--profile",
        &fixture("site.toml"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("diff-site", text(&out.stdout));
    let out = egress(&["catalog", "diff", "configmgr@latest", "configmgr@2025-03"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(0),
            "configmgr@latest (configmgr@2025-03) -> configmgr@2025-03\n\nNo change.\n".to_owned()
        )
    );
    // A file against an embedded revision; json.
    let out = egress(&[
        "catalog",
        "diff",
        &fixture("vendor.toml"),
        &fixture("vendor.toml"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "egress.diff/1");
    let out = egress(&[
        "catalog",
        "diff",
        "configmgr@2020-07",
        "configmgr@2025-03",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let removed: Vec<&str> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "remove")
        .map(|c| c["host"].as_str().unwrap())
        .collect();
    assert!(removed.contains(&"test.stats.update.microsoft.com"));
    // The firewall view and --ignore leave out what does not
    // count; -o writes the file; markdown says added/removed in words;
    // both sides are named as given.
    let dir = scratch();
    let file = dir.path().join("diff.md");
    let out = egress(&[
        "catalog",
        "diff",
        "configmgr@2020-07",
        "configmgr@latest",
        "--view",
        "firewall",
        "--format",
        "markdown",
        "--profile",
        &fixture("site.toml"),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(
        md.starts_with("# configmgr@2020-07 -> configmgr@latest (configmgr@2025-03)\n"),
        "{md}"
    );
    assert!(
        md.contains("compared: hosts and schemes, ports, cloud"),
        "{md}"
    );
    assert!(!md.contains("- - ") && !md.contains("- + "), "{md}");
    assert!(
        md.contains("- removed `granitefalls.cloudapp.net` (https)"),
        "{md}"
    );
    assert!(!md.contains("versions:") && !md.contains("notes:"), "{md}");
    let count = |args: &[&str]| {
        let out = egress(
            &[
                &[
                    "catalog",
                    "diff",
                    "configmgr@2020-07",
                    "configmgr@2025-03",
                    "--format",
                    "json",
                ][..],
                args,
            ]
            .concat(),
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == "change")
            .count()
    };
    let all = count(&[]);
    let without_notes = count(&["--ignore", "notes"]);
    let firewall = count(&["--view", "firewall"]);
    assert!(
        all > without_notes && without_notes > firewall,
        "{all} {without_notes} {firewall}"
    );
    let out = egress(&[
        "catalog",
        "diff",
        &fixture("vendor.toml"),
        "configmgr@2025-03",
    ]);
    assert!(
        text(&out.stdout).starts_with(
            "tests/fixtures/vendor.toml (contoso-agent@2024-05) -> configmgr@2025-03\n"
        ),
        "{}",
        text(&out.stdout)
    );
    check_bad(
        "diff-bad-revision",
        &["catalog", "diff", "configmgr@2019-01", "configmgr@latest"],
    );
    check_bad(
        "diff-bad-file",
        &[
            "catalog",
            "diff",
            &fixture("syntax.toml"),
            "configmgr@latest",
        ],
    );
}

fn page(name: &str) -> String {
    format!("../egress-import/tests/pages/{name}")
}

#[test]
fn catalog_import_writes_a_catalog_and_reports_what_it_left() {
    let out = egress(&["catalog", "import", &page("site.md")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("import-site-report", text(&out.stderr));
    // What it prints is a catalog egress loads, and diffs like any other.
    let dir = scratch();
    let imported = dir.path().join("imported.toml");
    std::fs::write(&imported, &out.stdout).unwrap();
    let imported = imported.to_str().unwrap();
    let validate = egress(&["catalog", "validate", imported]);
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        text(&validate.stderr)
    );
    let list = egress(&["catalog", "list", "--catalog", imported, "--format", "json"]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let diff = egress(&["catalog", "diff", imported, imported]);
    assert_eq!(diff.status.code(), Some(0));

    // -o writes the same text atomically; --revision names the revision.
    let file = dir.path().join("out.toml");
    let written = egress(&[
        "catalog",
        "import",
        &page("site.md"),
        "--revision",
        "2025-11",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(written.status.code(), Some(0));
    assert_eq!(text(&written.stdout), "");
    let text_written = std::fs::read_to_string(&file).unwrap();
    assert!(text_written.contains("revision = \"2025-11\""));
    assert_eq!(
        text_written.replace("revision = \"2025-11\"", "revision = \"2025-03\""),
        text(&out.stdout)
    );
}

#[test]
fn catalog_import_refuses_bad_pages_and_writes_nothing() {
    check_bad("import-cycle", &["catalog", "import", &page("cycle/a.md")]);
    check_bad(
        "import-missing-include",
        &["catalog", "import", &page("missing-include.md")],
    );
    check_bad(
        "import-no-endpoints",
        &["catalog", "import", &page("no-endpoints.md")],
    );
    check_bad("import-html", &["catalog", "import", &page("page.html")]);
    check_bad("import-binary", &["catalog", "import", &page("binary.md")]);
    check_bad(
        "import-no-such-page",
        &["catalog", "import", &page("gone.md")],
    );
    let dir = scratch();
    let file = dir.path().join("out.toml");
    let out = egress(&[
        "catalog",
        "import",
        &page("cycle/a.md"),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

/// A profile's exclusions are checked against the catalog, every
/// unknown id reported with file, line and column and a did-you-mean, and
/// `--strict=nonsense` is a usage error; nothing is written.
#[test]
fn exclusions_and_strict_kinds_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("site.toml");
    std::fs::write(
        &profile,
        "exclude_features = [\"cloud-service\"]\nexclude_endpoints = [\"uas-go-microsoft-cm\"]\n",
    )
    .unwrap();
    let out_file = dir.path().join("out.conf");
    let out = cargo_bin_cmd!("egress")
        .args(["render", "squid", "--profile"])
        .arg(&profile)
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("site.toml:1:"), "{err}");
    assert!(err.contains("unknown feature `cloud-service`"), "{err}");
    assert!(err.contains("did you mean `cloud-services`?"), "{err}");
    assert!(err.contains("site.toml:2:"), "{err}");
    assert!(
        err.contains("unknown endpoint `uas-go-microsoft-cm`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean `uas-go-microsoft-com`?"),
        "{err}"
    );
    assert!(!out_file.exists());

    let out = cargo_bin_cmd!("egress")
        .args(["render", "squid", "--strict=nonsense", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid value 'nonsense' for '--strict")
    );
    assert!(!out_file.exists());
    // Bare `--strict` before the target still reads the target, and refuses
    // every loss; `--strict=KIND,...` refuses only those kinds (squid's
    // exact style has no apex or broadened loss).
    let out = cargo_bin_cmd!("egress")
        .args(["render", "--strict", "plain", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_file.exists());
    let out = cargo_bin_cmd!("egress")
        .args(["render", "squid", "--strict=apex,broadened", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_file.exists());
}

/// `catalog export` writes each embedded revision as a file that
/// loads on its own and plans exactly as the embedded one.
#[test]
fn catalog_export_loads_as_the_embedded_catalog() {
    let dir = tempfile::tempdir().unwrap();
    for revision in ["2020-07", "latest"] {
        let file = dir.path().join(format!("{revision}.toml"));
        let out = cargo_bin_cmd!("egress")
            .args(["catalog", "export", "--revision", revision, "-o"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let plan = |args: &[&str]| {
            let out = cargo_bin_cmd!("egress")
                .args(["plan", "--format", "json"])
                .args(args)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0));
            let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            // Only where the catalog came from differs.
            doc["catalog"]["origin"] = serde_json::Value::Null;
            doc
        };
        assert_eq!(
            plan(&["--catalog", file.to_str().unwrap()]),
            plan(&["--revision", revision]),
            "{revision}"
        );
    }
    let out = cargo_bin_cmd!("egress")
        .args(["catalog", "export", "--revision", "2019"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown revision `2019`"));
}

/// A site's own endpoint and a correction are in the plan
/// (marked), in every allowlist and in explain, which agree; the catalog's
/// original destination is gone.
#[test]
fn site_endpoints_and_corrections() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("site.toml");
    std::fs::write(
        &profile,
        r#"cloud = "usgov"
features = ["cloud-services", "updates-and-servicing"]

[[endpoint]]
id = "site-wsus-upstream"
host = "wsus.contoso.com"
features = ["updates-and-servicing"]
roles = ["service-connection-point"]

[[replace]]
endpoint = "cs-scp-graph-microsoft-com"
host = "graph.microsoft.us"
"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = cargo_bin_cmd!("egress")
            .args(args)
            .arg("--profile")
            .arg(&profile)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, plan) = run(&["plan"]);
    assert_eq!(code, Some(0));
    assert!(plan.contains("wsus.contoso.com"), "{plan}");
    assert!(plan.contains("  (site)"), "{plan}");
    assert!(
        plan.contains("(replaced by the site, was https://graph.microsoft.com)"),
        "{plan}"
    );
    for target in ["squid", "plain", "pan-edl", "azure-firewall"] {
        let (code, text) = run(&["render", target]);
        assert_eq!(code, Some(0), "{target}");
        assert!(text.contains("wsus.contoso.com"), "{target}");
        assert!(text.contains("graph.microsoft.us"), "{target}");
        assert!(!text.contains("graph.microsoft.com"), "{target}: {text}");
    }
    let (code, explained) = run(&["explain", "wsus.contoso.com", "graph.microsoft.us"]);
    assert_eq!(code, Some(0));
    assert!(
        explained.contains("(site-wsus-upstream)  [site]"),
        "{explained}"
    );
    assert!(
        explained.contains("plan: allowed: the plan allows it for updates-and-servicing"),
        "{explained}"
    );
    assert!(
        explained.contains("[replaced by the site, was https://graph.microsoft.com]"),
        "{explained}"
    );
    // The catalog's original is no longer in the site's plan (an older
    // revision still lists it).
    let (_, original) = run(&["explain", "graph.microsoft.com"]);
    assert!(original.contains("plan: not allowed"), "{original}");
}

/// Every problem of a profile's `[[endpoint]]` and `[[replace]]`
/// tables, with the catalog's own messages and positions, in one run.
#[test]
fn site_tables_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("site.toml");
    std::fs::write(
        &profile,
        r#"exclude_features = ["cloud-servics"]

[[endpoint]]
id = "uas-go-microsoft-com"
host = "wsus.contoso.com"
features = ["updates-and-servicing"]

[[endpoint]]
id = "site-dup"
host = "go.microsoft.com"
features = ["updates-and-servicing"]

[[endpoint]]
id = "site-bad"
host = "*.*.contoso.com"
features = ["updates-and-servicng"]

[[replace]]
endpoint = "cs-scp-graph-microsoft-cm"
host = "graph.microsoft.us"
"#,
    )
    .unwrap();
    let out = cargo_bin_cmd!("egress")
        .args(["plan", "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "unknown feature `cloud-servics`",
        "endpoint `uas-go-microsoft-com` is the catalog's",
        "`site-dup` duplicates",
        "unknown feature `updates-and-servicng`",
        "did you mean `updates-and-servicing`?",
        "unknown endpoint `cs-scp-graph-microsoft-cm`",
        "did you mean `cs-scp-graph-microsoft-com`?",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(err.contains("site.toml:4:"), "{err}");
    assert!(err.contains("site.toml:9:"), "{err}");
    assert!(err.contains("site.toml:19:"), "{err}");
    assert!(out.stdout.is_empty());
}

/// The software update point's intranet rows take the site's
/// WSUS ports (`wsus_ports`, default 8530/8531), in every output.
#[test]
fn intranet_rows_take_the_sites_wsus_ports() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("site.toml");
    let site = "placeholders = { child-sup-fqdn = \"sup.child.contoso.com\", parent-sup-fqdn = \"sup.contoso.com\" }\n";
    let rules = |profile_text: &str| {
        std::fs::write(&profile, profile_text).unwrap();
        let out = cargo_bin_cmd!("egress")
            .args(["render", "firewall-rules", "--intranet", "--profile"])
            .arg(&profile)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split("  #").next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rules(site),
        [
            "software-update-point (any) -> sup.child.contoso.com 8530/tcp http",
            "software-update-point (any) -> sup.child.contoso.com 8531/tcp https",
            "software-update-point (any) -> sup.contoso.com 8530/tcp http",
            "software-update-point (any) -> sup.contoso.com 8531/tcp https",
        ]
    );
    // WSUS on the IIS default web site; one key left at its default.
    assert_eq!(
        rules(&format!("wsus_ports = {{ http = 80 }}\n{site}")),
        [
            "software-update-point (any) -> sup.child.contoso.com 80/tcp http",
            "software-update-point (any) -> sup.child.contoso.com 8531/tcp https",
            "software-update-point (any) -> sup.contoso.com 80/tcp http",
            "software-update-point (any) -> sup.contoso.com 8531/tcp https",
        ]
    );
    // The plan and explain agree.
    let out = cargo_bin_cmd!("egress")
        .args(["explain", "https://sup.contoso.com:8531/", "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = cargo_bin_cmd!("egress")
        .args(["explain", "https://sup.contoso.com/", "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));

    // Bad values: located, nothing written.
    let out_file = dir.path().join("rules.txt");
    for (bad, needle) in [
        (
            "wsus_ports = { http = 0 }",
            "site.toml:1:23: a port must be 1 to 65535",
        ),
        ("wsus_ports = { https = 70000 }", "site.toml:1:24"),
        (
            "wsus_ports = { htps = 8531 }",
            "unknown field `htps`, expected `http` or `https`",
        ),
    ] {
        std::fs::write(&profile, bad).unwrap();
        let out = cargo_bin_cmd!("egress")
            .args(["render", "firewall-rules", "--intranet", "--profile"])
            .arg(&profile)
            .arg("-o")
            .arg(&out_file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!out_file.exists());
    }
}

/// The profile's `[proxy]` is validated with the check's parsers,
/// each problem at its place, and the password never shows: not in the
/// message, not in the lines quoted around it.
#[test]
fn profile_proxy_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("site.toml");
    for (proxy, needles) in [
        (
            "url = \"proxy.contoso.com:8080\"",
            &[
                "site.toml:2:7: the proxy URL has no scheme",
                "`http://proxy.contoso.com:8080`",
            ][..],
        ),
        (
            "url = \"socks5://proxy.contoso.com:1080\"",
            &["site.toml:2:7", "SOCKS proxies are not supported"],
        ),
        (
            "url = \"http://proxy.contoso.com:3128/proxy.pac\"",
            &["site.toml:2:7", "a proxy URL has no path"],
        ),
        (
            "url = \"http://proxy.contoso.com:99999\"",
            &["site.toml:2:7", "the port is not a number from 1 to 65535"],
        ),
        (
            "url = \"http://bob:SECRET-MARKER@proxy.contoso.com:3128\"\npassword = \"SECRET-MARKER\"",
            &["site.toml:3:12: the password is given twice"],
        ),
        (
            "user = 'bob'\nno_proxy = [\"contoso.com\", \"10.1.2.3/16\"]",
            &[
                "site.toml:2:8: `user` without `password`",
                "site.toml:3:28: `no_proxy` entry `10.1.2.3/16`",
            ],
        ),
    ] {
        std::fs::write(&profile, format!("[proxy]\n{proxy}\n")).unwrap();
        for args in [&["profile", "validate"][..], &["check", "--profile"]] {
            let out = cargo_bin_cmd!("egress")
                .args(args)
                .arg(&profile)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{proxy}");
            // Messages wrap at 100 columns.
            let err = text(&out.stderr).replace("\n  │ ", " ");
            for needle in needles {
                assert!(err.contains(needle), "{needle}: {err}");
            }
            assert!(!err.contains("SECRET-MARKER"), "{err}");
            assert!(out.stdout.is_empty());
        }
    }
}

/// `render plain --no-header` is hosts only, one a line (its
/// losses still on stderr); other targets keep their header; an empty
/// list says so.
#[test]
fn plain_without_header_and_empty_lists() {
    let out = egress(&[
        "render",
        "plain",
        "--no-header",
        "--feature",
        "url-forwarding",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "go.microsoft.com\naka.ms\n");
    assert!(text(&out.stderr).contains("loss:"), "{}", text(&out.stderr));
    let out = egress(&["render", "squid", "--no-header"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--no-header applies to `plain` only"));
    let out = egress(&["render", "plain", "--feature", "software-updates-intranet"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("warning: the list is empty")
            && text(&out.stderr).contains("need --intranet"),
        "{}",
        text(&out.stderr)
    );
}
