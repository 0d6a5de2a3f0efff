//! `egress catalog import --format m365-json`: the Microsoft 365 web
//! service's `/endpoints` answer (a fixture written from the service's
//! public documentation) as a catalog that plans, with every record's
//! problem reported and nothing written on error.

use std::path::Path;
use std::process::{Command, Output};

fn egress(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_egress"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const FIXTURE: &str = "tests/fixtures/m365-worldwide.json";

fn import(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "catalog",
        "import",
        "--format",
        "m365-json",
        FIXTURE,
        "--describes",
        "2026-11-30",
        "--revision",
        "2026113000",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    egress(&args)
}

#[test]
fn web_service_records_become_a_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m365.toml");
    let out = import(&file, &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // What is not taken is said, at the record's line.
    for remark in [
        "m365-worldwide.json:46: not taken: `udp 3478`: record 12: UDP ports of URLs are not egress's",
        "not taken: `tcp 1024-65535`: record 12",
        "record 46: `*` as a whole middle label is one tenant's name: imported as `autodiscover.<tenant>.onmicrosoft.com`",
        "not understood: `Copilot`: not a service area the web service documents: imported as feature `copilot`",
        "not understood: `Preferred`: record 900",
        "not understood: `tcp 25`: record 10",
    ] {
        assert!(err.contains(remark), "{remark}\n{err}");
    }
    assert!(
        err.contains("imported 16 endpoints and 4 networks (IP ranges) in 6 features"),
        "{err}"
    );
    assert!(!err.contains("IP ranges`"), "IP ranges are imported: {err}");

    let plan = egress(&[
        "plan",
        "--catalog",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let row = |host: &str| {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == host)
            .unwrap_or_else(|| panic!("no row {host}"))
            .clone()
    };
    let office = row("*.office.com");
    assert_eq!(office["optional"], true);
    assert_eq!(office["attributes"]["category"], "Default");
    assert_eq!(office["features"], serde_json::json!(["common"]));
    let outlook = row("outlook.office.com");
    assert!(outlook.get("optional").is_none());
    assert_eq!(outlook["attributes"]["express_route"], "true");
    let pairs: Vec<String> = outlook["requirements"][0]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}:{}", p["scheme"].as_str().unwrap(), p["port"]))
        .collect();
    assert_eq!(pairs, ["http:80", "https:443"]);
    assert_eq!(row("*-files.sharepoint.com")["kind"], "in-label");
    assert_eq!(
        row("autodiscover.<tenant>.onmicrosoft.com")["status"],
        "needs-input"
    );
    assert_eq!(
        row("*.mail.protection.outlook.com")["ports"][0]["value"],
        25
    );
    // IP ranges: a network per record, on its TCP and UDP ports as written.
    let networks = doc["networks"].as_array().unwrap();
    let network = |address: &str| {
        networks
            .iter()
            .find(|n| n["address"] == address)
            .unwrap_or_else(|| panic!("no network {address}: {networks:?}"))
            .clone()
    };
    let v6 = network("2603:1006::/40");
    assert_eq!(v6["tcp_ports"], serde_json::json!(["80", "443"]));
    assert_eq!(v6["features"], serde_json::json!(["exchange"]));
    assert_eq!(v6["networks"], serde_json::json!(["r1-ips"]));
    let teams = network("52.112.0.0/14");
    assert_eq!(teams["udp_ports"], serde_json::json!(["3478-3481"]));
    assert_eq!(teams["tcp_ports"], serde_json::json!([]));

    // Service areas by name, any case.
    let only = dir.path().join("mem.toml");
    let out = import(
        &only,
        &["--service-area", "mem", "--service-area", "Exchange"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list = egress(&[
        "catalog",
        "list",
        "--catalog",
        only.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let mut features: Vec<&str> = doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["features"].as_array().unwrap())
        .map(|f| f.as_str().unwrap())
        .collect();
    features.sort_unstable();
    features.dedup();
    assert_eq!(features, ["exchange", "mem"]);
}

#[test]
fn bad_answers_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kept = d.join("m365.toml");
    std::fs::write(&kept, "the previous catalog\n").unwrap();
    let run = |json: &str| {
        let input = d.join("answer.json");
        std::fs::write(&input, json).unwrap();
        egress(&[
            "catalog",
            "import",
            "--format",
            "m365-json",
            input.to_str().unwrap(),
            "--describes",
            "2026-11-30",
            "-o",
            kept.to_str().unwrap(),
        ])
    };
    // Not the service's shape: where serde_json stopped.
    let out = run("{\"id\": 1}\n");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("answer.json:1:1: not the Microsoft 365 web service's `/endpoints` answer"),
        "{err}"
    );
    // A `/changes` answer given as an `/endpoints` one: named.
    let out = run(&std::fs::read_to_string("tests/fixtures/m365-changes.json").unwrap());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not the Microsoft 365 web service's `/endpoints` answer")
            && err.contains("it is a `/changes` answer"),
        "{err}"
    );
    // A JSON file as `--catalog` is read as JSON, and refused as JSON.
    let elsewhere = tempfile::tempdir().unwrap();
    let json = elsewhere.path().join("other.json");
    std::fs::write(&json, "{\"name\": \"not an answer\"}\n").unwrap();
    let out = egress(&["plan", "--catalog", json.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("other.json:1:1: not the Microsoft 365 web service's `/endpoints` answer")
            && !err.contains("TOML")
            && !err.contains("problems"),
        "{err}"
    );
    // Every bad record, each at its line.
    let out = run(r#"[
  {"id": 1, "serviceArea": "Common", "urls": ["a.example.com"], "tcpPorts": "80,x"},
  {"id": 2, "serviceArea": "Common", "urls": ["a..example.com"], "tcpPorts": "443"},
  {"id": 3, "serviceArea": "Common", "urls": ["ok.example.com"], "tcpPorts": "443-80"}
]"#);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("answer.json:2: record 1: `x` in tcpPorts is not a port or a range"),
        "{err}"
    );
    assert!(
        err.contains("answer.json:3: record 2: `a..example.com` is not a host egress can match"),
        "{err}"
    );
    assert!(
        err.contains("answer.json:4: record 3: `443-80` in tcpPorts is not a port or a range"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "the previous catalog\n"
    );
    assert_eq!(std::fs::read_dir(d).unwrap().count(), 2, "no stray files");
}

/// `--catalog configmgr --catalog m365.json`: the catalogs composed, and
/// co-management's link to the Intune list expanded into the web
/// service's MEM records, which `plan` lists and `check` probes (on
/// loopback: the one exact host resolves to 127.0.0.1); without the M365
/// catalog, the link is printed as before.
#[test]
fn composed_catalogs_expand_the_intune_link() {
    let both = ["--catalog", "configmgr", "--catalog", FIXTURE];
    let plan = |catalogs: &[&str]| {
        let mut args = vec!["plan", "--feature", "co-management", "--format", "json"];
        args.extend(catalogs);
        let out = egress(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let alone = plan(&[]);
    assert_eq!(alone["rows"].as_array().unwrap().len(), 0, "{alone}");
    assert_eq!(alone["external"][0]["feature"], "co-management");
    let doc = plan(&both);
    let hosts: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "manage.microsoft.com",
            "*.manage.microsoft.com",
            "*.dl.delivery.mp.microsoft.com",
            "*.do.dsp.mp.microsoft.com"
        ]
    );
    assert_eq!(doc["external"], serde_json::json!([]), "{doc}");
    assert_eq!(doc["catalog"]["id"], "configmgr");
    assert_eq!(doc["catalog"]["composed"][0]["id"], "m365", "{doc}");
    // `catalog:feature` names a composed catalog's feature whether or not
    // its id was taken (`mem` is not: it keeps its id).
    let out = egress(&[
        "plan",
        "--feature",
        "m365:mem",
        "--catalog",
        "configmgr",
        "--catalog",
        FIXTURE,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mem: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(mem["features"], serde_json::json!(["mem"]));
    assert_eq!(mem["rows"].as_array().unwrap().len(), 4, "{mem}");
    let out = egress(&[
        "plan",
        "--feature",
        "m365:nope",
        "--catalog",
        "configmgr",
        "--catalog",
        FIXTURE,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown feature `m365:nope` in --feature"));
    // The same from a profile: `catalog` as a list, `features` by
    // `catalog:feature`.
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    std::fs::copy(&fixture, dir.path().join("m365.json")).unwrap();
    let site = dir.path().join("site.toml");
    std::fs::write(
        &site,
        "catalog = [\"configmgr\", \"m365.json\"]\nfeatures = [\"m365:mem\"]\n",
    )
    .unwrap();
    let out = egress(&[
        "plan",
        "--profile",
        site.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let from_profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_profile["features"], serde_json::json!(["mem"]));
    assert_eq!(from_profile["catalog"]["composed"][0]["id"], "m365");
    assert_eq!(from_profile["rows"], mem["rows"]);
    let table = egress(&[
        "plan",
        "--feature",
        "co-management",
        "--catalog",
        "configmgr",
        "--catalog",
        FIXTURE,
    ]);
    assert!(
        text(&table.stdout)
            .contains("(configmgr embedded + m365 tests/fixtures/m365-worldwide.json)"),
        "{}",
        text(&table.stdout)
    );

    let mut args = vec![
        "check",
        "--feature",
        "co-management",
        "--resolve",
        "manage.microsoft.com:443:127.0.0.1",
        "--resolve",
        "manage.microsoft.com:80:127.0.0.1",
        "--connect-timeout",
        "2s",
        "--format",
        "json",
    ];
    args.extend(both);
    let out = egress(&args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    assert_ne!(doc["features"][0]["status"], "external", "{doc}");
    let probed: Vec<(&str, &str)> = doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["row"] == "manage.microsoft.com")
        .map(|e| {
            (
                e["url"].as_str().unwrap(),
                e["addresses"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        probed,
        [
            ("http://manage.microsoft.com/", "127.0.0.1"),
            ("https://manage.microsoft.com/", "127.0.0.1")
        ]
    );

    // Both catalogs are listed; one named twice is refused.
    let out = egress(&[
        "catalog",
        "list",
        "--format",
        "json",
        "--catalog",
        "configmgr",
        "--catalog",
        FIXTURE,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"scp-sccmconnected") || ids.iter().any(|i| !i.starts_with('r')),
        "{ids:?}"
    );
    assert!(ids.contains(&"r163-manage-microsoft-com"), "{ids:?}");
    let out = egress(&["plan", "--catalog", "configmgr", "--catalog", "configmgr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("catalog `configmgr` is named twice"),
        "{}",
        text(&out.stderr)
    );
}

/// A `/changes` answer (fixture written from the documented change-record
/// shape) applied to the imported catalog: adds with their effective
/// date, removals, a new endpoint set, changed values, a removed set; the
/// older change skipped; applying again changes nothing; what cannot be
/// applied is exit 2 with nothing written.
#[test]
fn changes_apply_to_the_imported_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = d.join("m365.toml");
    let out = import(&base, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let apply = |to: &Path, output: &Path, changes: &str| {
        egress(&[
            "catalog",
            "import",
            "--format",
            "m365-changes",
            changes,
            "--to",
            to.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ])
    };
    let newer = d.join("m365-new.toml");
    let out = apply(&base, &newer, "tests/fixtures/m365-changes.json");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("applied: `7 change records`: applied to ")
            && err.contains(
                "(version 2026113000), now version 2026120100; 1 older ones were already in it"
            ),
        "{err}"
    );
    // Remarks of sets no change touched were said at import, not again.
    assert!(!err.contains("record 10:"), "{err}");
    let plan = egress(&[
        "plan",
        "--catalog",
        newer.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    let row = |host: &str| rows.iter().find(|r| r["host"] == host).cloned();
    assert_eq!(doc["catalog"]["revision"], "2026120100", "{doc}");
    // Added, with the day it goes live; in the plan now (allow it before).
    let portal = row("portal.manage.microsoft.com").expect("added URL");
    assert_eq!(portal["attributes"]["effective_date"], "2026-12-15");
    assert_eq!(portal["features"], serde_json::json!(["mem"]));
    assert_eq!(portal["status"], "required");
    // A new endpoint set with its own values.
    let help = row("remoteassistance.support.services.microsoft.com").expect("new set");
    assert_eq!(help["optional"], true);
    assert_eq!(help["attributes"]["category"], "Allow");
    // Removed URL, removed set; the older change was already applied.
    assert!(row("*.do.dsp.mp.microsoft.com").is_none());
    assert!(row("*.dl.delivery.mp.microsoft.com").is_some());
    assert!(row("*.teams.microsoft.com").is_none());
    assert!(row("outlook.office.com").is_some());
    // IP ranges added and removed.
    let networks: Vec<(String, serde_json::Value)> = doc["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["address"].as_str().unwrap().to_owned(),
                n["features"].clone(),
            )
        })
        .collect();
    assert!(
        networks.contains(&("20.190.0.0/16".to_owned(), serde_json::json!(["mem"]))),
        "{networks:?}"
    );
    assert!(
        !networks.iter().any(|(a, _)| a == "13.107.136.0/22"),
        "{networks:?}"
    );
    assert_eq!(
        networks
            .iter()
            .filter(|(a, _)| a == "52.112.0.0/14")
            .count(),
        1,
        "{networks:?}"
    );
    // Changed values: *.office.com is now required, on HTTP too.
    let office = row("*.office.com").unwrap();
    assert!(office.get("optional").is_none(), "{office}");
    let schemes: Vec<&str> = office["requirements"][0]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["scheme"].as_str().unwrap())
        .collect();
    assert_eq!(schemes, ["http", "https"]);

    // `catalog diff` shows the ranges too.
    let diff = egress(&[
        "catalog",
        "diff",
        base.to_str().unwrap(),
        newer.to_str().unwrap(),
    ]);
    let stdout = text(&diff.stdout);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "{stdout}{}",
        text(&diff.stderr)
    );
    assert!(stdout.contains("\n== IP ranges\n"), "{stdout}");
    assert!(
        stdout.contains("  + 20.190.0.0/16 (mem): tcp 80,443"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  - 13.107.136.0/22 (sharepoint): tcp 80,443"),
        "{stdout}"
    );
    assert!(
        stdout.contains("IP ranges: 1 added, 1 removed, 0 changed."),
        "{stdout}"
    );
    let json = egress(&[
        "catalog",
        "diff",
        base.to_str().unwrap(),
        newer.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        doc["networks"][0],
        serde_json::json!({"action": "add", "feature": "mem", "address": "20.190.0.0/16", "old": "", "new": "tcp 80,443"}),
        "{doc}"
    );

    // Applying the same answer again: nothing newer, the same catalog.
    let again = d.join("m365-again.toml");
    let out = apply(&newer, &again, "tests/fixtures/m365-changes.json");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("`0 change records`"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&newer).unwrap()
    );

    // What cannot be applied: every problem, exit 2, nothing written.
    let bad = d.join("bad.json");
    std::fs::write(
        &bad,
        r#"[
  {"id": 2001, "endpointSetId": 555, "disposition": "Change", "version": "2026120200",
   "add": {"urls": ["new.example.com"]}},
  {"id": 2002, "endpointSetId": 1, "disposition": "Rename", "version": "2026120200"},
  {"id": 2003, "endpointSetId": 1, "disposition": "Change", "version": "12/02/2026"}
]"#,
    )
    .unwrap();
    let kept = d.join("kept.toml");
    std::fs::write(&kept, "previous\n").unwrap();
    let out = apply(&newer, &kept, bad.to_str().unwrap());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for expected in [
        "bad.json:2: change 2001: endpoint set 555 is not in",
        "bad.json:4: change 2002: disposition `Rename` is not one the web service documents",
        "bad.json:5: change 2003: `version` is `12/02/2026`, not YYYYMMDDNN",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "previous\n");

    // Only onto a catalog imported from `/endpoints` at a version.
    let exported = d.join("configmgr.toml");
    let out = egress(&["catalog", "export", "-o", exported.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let out = apply(&exported, &kept, "tests/fixtures/m365-changes.json");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "not a catalog `egress catalog import --format m365-json` wrote: its id is `configmgr`"
        ),
        "{err}"
    );
    let dated = d.join("dated.toml");
    let out = egress(&[
        "catalog",
        "import",
        "--format",
        "m365-json",
        FIXTURE,
        "--describes",
        "2026-11-30",
        "-o",
        dated.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = apply(&dated, &kept, "tests/fixtures/m365-changes.json");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("its revision `2026-11-30` is not a web service version"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "previous\n");
}

/// IP ranges render where a target takes addresses (an IP EDL, 5-tuple
/// rules, Azure network rules, firewall rules) and are a loss everywhere
/// else; the audit says it does not judge them.
#[test]
fn ip_ranges_render_where_a_target_takes_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m365.toml");
    let out = import(&file, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let catalog = file.to_str().unwrap();
    let render = |extra: &[&str]| {
        let mut args = vec!["render"];
        args.extend(extra);
        args.extend(["--catalog", catalog]);
        egress(&args)
    };
    let edl = render(&["pan-edl", "--edl-type", "ip"]);
    let (stdout, stderr) = (text(&edl.stdout), text(&edl.stderr));
    assert_eq!(edl.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "13.67.13.176/28\n13.107.6.152/31\n13.107.136.0/22\n52.112.0.0/14\n2603:1006::/40\n"
    );
    assert!(
        stderr.contains("loss: hosts left out: *: 15 host rows are not in an IP list"),
        "{stderr}"
    );
    assert!(
        stderr.contains("an IP list cannot restrict ports or protocols: the plan names tcp 80,443; udp 3478-3481"),
        "{stderr}"
    );

    // The ConfigMgr catalog has no ranges: its IP list is empty, and says so.
    let empty = egress(&["render", "pan-edl", "--edl-type", "ip"]);
    assert_eq!(empty.status.code(), Some(0));
    assert!(empty.stdout.is_empty());
    assert!(
        text(&empty.stderr).contains("warning: the list is empty"),
        "{}",
        text(&empty.stderr)
    );

    for target in [
        &["squid"][..],
        &["pac"],
        &["plain"],
        &["pan-edl"],
        &["aws-network-firewall"],
    ] {
        let out = render(target);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{target:?}: {stderr}");
        assert!(
            stderr.contains("loss: IP ranges left out: *: 5 IP ranges of ")
                && stderr
                    .contains("are not in a list of hosts: render them with pan-edl --edl-type ip"),
            "{target:?}: {stderr}"
        );
        // `--strict=kinds` refuses exactly that loss.
        let strict = render(&[target, &["--strict=kinds"]].concat());
        let stderr = text(&strict.stderr);
        assert_eq!(strict.status.code(), Some(1), "{target:?}: {stderr}");
        assert!(
            stderr.contains("--strict=kinds: 1 loss(es) of precision"),
            "{target:?}: {stderr}"
        );
        assert!(strict.stdout.is_empty(), "{target:?}");
    }

    let aws = render(&["aws-network-firewall", "--aws-rules", "5-tuple"]);
    assert_eq!(aws.status.code(), Some(0), "{}", text(&aws.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&aws.stdout).unwrap();
    let rules = doc["RuleGroup"]["RulesSource"]["StatefulRules"]
        .as_array()
        .unwrap();
    assert!(
        doc["RuleGroup"]["RulesSource"]
            .get("RulesSourceList")
            .is_none()
    );
    let headers: Vec<String> = rules
        .iter()
        .map(|r| {
            let h = &r["Header"];
            format!(
                "{} {} {} {} {}",
                r["Action"].as_str().unwrap(),
                h["Protocol"].as_str().unwrap(),
                h["Source"].as_str().unwrap(),
                h["Destination"].as_str().unwrap(),
                h["DestinationPort"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        headers.contains(&"PASS UDP ANY 52.112.0.0/14 3478:3481".to_owned()),
        "{headers:?}"
    );
    assert!(
        headers.contains(&"PASS TCP ANY 2603:1006::/40 443".to_owned()),
        "{headers:?}"
    );
    assert_eq!(headers.len(), 9, "{headers:?}");
    let sids: std::collections::BTreeSet<&str> = rules
        .iter()
        .map(|r| r["RuleOptions"][0]["Settings"][0].as_str().unwrap())
        .collect();
    assert_eq!(sids.len(), 9);

    let azure = render(&["azure-firewall"]);
    assert_eq!(azure.status.code(), Some(0), "{}", text(&azure.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&azure.stdout).unwrap();
    let collections = doc["resources"][0]["properties"]["ruleCollections"]
        .as_array()
        .unwrap();
    assert_eq!(collections.len(), 2);
    let network_rules = collections[1]["rules"].as_array().unwrap();
    let exchange = network_rules
        .iter()
        .find(|r| r["name"] == "exchange-tcp")
        .unwrap();
    assert_eq!(exchange["ruleType"], "NetworkRule");
    assert_eq!(
        exchange["destinationAddresses"],
        serde_json::json!(["13.107.6.152/31", "2603:1006::/40"])
    );
    assert_eq!(
        exchange["destinationPorts"],
        serde_json::json!(["80", "443"])
    );
    let skype = network_rules
        .iter()
        .find(|r| r["name"] == "skype-udp")
        .unwrap();
    assert_eq!(skype["ipProtocols"], serde_json::json!(["UDP"]));
    assert_eq!(skype["destinationPorts"], serde_json::json!(["3478-3481"]));
    assert!(!text(&azure.stderr).contains("IP ranges left out"));

    let rules = render(&["firewall-rules"]);
    let stdout = text(&rules.stdout);
    assert!(
        stdout.contains("unspecified (any) -> 52.112.0.0/14 3478-3481/udp  # skype"),
        "{stdout}"
    );

    // A site leaves a network out by id, as an endpoint.
    let site = dir.path().join("site.toml");
    std::fs::write(
        &site,
        format!("catalog = \"{catalog}\"\nexclude_endpoints = [\"r1-ips\"]\n"),
    )
    .unwrap();
    let plan = egress(&[
        "plan",
        "--profile",
        site.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let addresses: Vec<&str> = doc["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        ["13.67.13.176/28", "13.107.136.0/22", "52.112.0.0/14"]
    );
    assert_eq!(doc["excluded"][0]["endpoint"], "r1-ips", "{doc}");

    // The listing shows both catalogs and the ranges.
    let list = egress(&[
        "catalog",
        "list",
        "--catalog",
        "configmgr",
        "--catalog",
        catalog,
        "--feature",
        "m365:mem",
        "--format",
        "json",
    ]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(doc["catalog"]["composed"][0]["id"], "m365");
    assert_eq!(doc["networks"][0]["id"], "r163-ips", "{doc}");
    assert_eq!(
        doc["networks"][0]["addresses"],
        serde_json::json!(["13.67.13.176/28"])
    );
    let table = egress(&[
        "catalog",
        "list",
        "--catalog",
        "configmgr",
        "--catalog",
        catalog,
    ]);
    let stdout = text(&table.stdout);
    assert!(
        stdout.contains("IP ranges r11-ips (udp 3478-3481): 52.112.0.0/14"),
        "{stdout}"
    );
    assert!(stdout.contains("== co-management:"), "{stdout}");

    // The audit reads hosts only, and says so.
    let plain = render(&["plain"]);
    let list = dir.path().join("list.txt");
    std::fs::write(&list, &plain.stdout).unwrap();
    let audit = egress(&[
        "audit",
        "allowlist",
        list.to_str().unwrap(),
        "--input",
        "plain",
        "--catalog",
        catalog,
        "--format",
        "json",
    ]);
    let stdout = text(&audit.stdout);
    assert!(
        stdout.contains("the plan's 5 IP ranges are not judged: the audit reads host entries"),
        "{stdout}{}",
        text(&audit.stderr)
    );
}
