//! `egress check` end to end: the real binary against origins on loopback,
//! names pinned with `--resolve`, certificates made at test time.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;

use egress_test_support::origin::https_origin;

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A catalog with: a reachable endpoint, a refused one, a wildcard with no
/// concrete host, one that needs a placeholder, and an external list.
fn catalog(dir: &Path, good: u16, refused: u16) -> std::path::PathBuf {
    let text = format!(
        r#"[catalog]
id = "check-test"
title = "Check test"
vendor = "egress"
product = "tests"
revision = "1"
describes = 2026-01-01

[[page]]
id = "p"
title = "Page"
language = "en-US"

[[placeholder]]
name = "tenant"
title = "Tenant"
kind = "label"

[[feature]]
id = "good"
title = "Reachable"
page = "p"
section = "Good"

[[feature]]
id = "bad"
title = "Blocked"
page = "p"
section = "Bad"

[[feature]]
id = "partial"
title = "Untestable"
page = "p"
section = "Partial"

[[feature]]
id = "elsewhere"
title = "Listed elsewhere"
page = "p"
section = "Elsewhere"
external = [{{ title = "Another list", url = "https://example.test/list" }}]

[[endpoint]]
id = "good"
url = "https://good.egress.test:{good}/"
features = ["good"]

[[endpoint]]
id = "refused"
url = "https://refused.egress.test:{refused}/"
features = ["bad"]

[[endpoint]]
id = "wild"
host = "*.wild.egress.test"
features = ["partial"]

[[endpoint]]
id = "tenant"
host = "<tenant>.egress.test"
features = ["partial"]
"#
    );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn egress(args: &[&str]) -> std::process::Output {
    cargo_bin_cmd!("egress")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// The options every check here shares: trust only the test CA, pin the
/// names to loopback, short timeouts, no progress bar.
fn loopback_options(ca_file: &str, resolve: &[String]) -> Vec<String> {
    let mut options: Vec<String> = [
        "--ca-file",
        ca_file,
        "--public-roots",
        ca_file,
        "--roots-only",
    ]
    .map(String::from)
    .to_vec();
    for r in resolve {
        options.extend(["--resolve".to_string(), r.clone()]);
    }
    options.extend(
        [
            "--timeout",
            "2s",
            "--connect-timeout",
            "1s",
            "--progress",
            "never",
        ]
        .map(String::from),
    );
    options
}

#[test]
fn check_rolls_up_per_feature_and_fails_on_critical() {
    let (ca, good) = https_origin(&["good.egress.test"]);
    let refused = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path(), good, refused);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let (c, ca_f) = (catalog.to_str().unwrap(), ca_file.to_str().unwrap());
    let options = loopback_options(
        ca_f,
        &[
            format!("good.egress.test:{good}:127.0.0.1"),
            format!("refused.egress.test:{refused}:127.0.0.1"),
        ],
    );
    let mut base = vec!["check", "--catalog", c];
    base.extend(options.iter().map(String::as_str));

    let mut args = base.to_vec();
    args.extend(["--format", "json"]);
    let out = egress(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "egress.check/2");
    assert_eq!(doc["critical"], true);
    let features: Vec<(String, String, serde_json::Value)> = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
                f["status_message"].clone(),
            )
        })
        .collect();
    assert_eq!(
        features,
        [
            ("good".to_owned(), "OK".to_owned(), serde_json::json!(11410)),
            (
                "bad".to_owned(),
                "critical".to_owned(),
                serde_json::json!(11412)
            ),
            (
                "partial".to_owned(),
                "degraded".to_owned(),
                serde_json::json!(11411)
            ),
            (
                "elsewhere".to_owned(),
                "external".to_owned(),
                serde_json::Value::Null
            ),
        ]
    );
    let by_row = |row: &str| {
        doc["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["row"] == row)
            .unwrap()
            .clone()
    };
    let g = by_row("good.egress.test");
    assert_eq!(
        (g["verdict"].as_str(), g["http_status"].as_u64()),
        (Some("ok"), Some(200))
    );
    assert_eq!(g["tls"]["chain"][0]["issuer"], "CN=Egress Test CA");
    // egress.check/2: RFC 3339 dates, TLS1.x, timings as
    // {phase, ms}, warnings as a list.
    let not_after = g["tls"]["chain"][0]["not_after"].as_str().unwrap();
    assert!(
        not_after.parse::<jiff::Timestamp>().is_ok() && not_after.ends_with('Z'),
        "{not_after}"
    );
    assert!(
        matches!(g["tls"]["version"].as_str(), Some("TLS1.2" | "TLS1.3")),
        "{g}"
    );
    let phases: Vec<&str> = g["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{t}");
            t["phase"].as_str().unwrap()
        })
        .collect();
    assert!(
        phases.contains(&"tls") && phases.contains(&"processing"),
        "{phases:?}"
    );
    assert_eq!(g["warnings"], serde_json::json!([]));
    let r = by_row("refused.egress.test");
    assert_eq!(r["verdict"], "failed");
    assert_eq!(
        r["reason"],
        format!("TCP: connection refused by 127.0.0.1:{refused}")
    );
    assert_eq!(by_row("*.wild.egress.test")["verdict"], "not testable");
    let t = by_row("<tenant>.egress.test");
    assert_eq!(
        (t["verdict"].as_str(), t["reason"].as_str()),
        (
            Some("needs input"),
            Some("set placeholders.tenant in the profile")
        )
    );

    // `--progress always` draws though stderr is a pipe; `auto` does not.
    for (progress, drawn) in [("always", true), ("auto", false), ("never", false)] {
        let mut args = base.to_vec();
        let at = args.iter().position(|a| *a == "--progress").unwrap();
        args.drain(at..at + 2);
        args.extend(["--format", "json", "--progress", progress]);
        let out = egress(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.contains("endpoints checked"),
            drawn,
            "{progress}: {err}"
        );
    }

    // Every format says the same.
    for (format, needle) in [
        ("table", "== bad: critical (11412): Blocked"),
        ("table", "Roles affected: unspecified"),
        (
            "markdown",
            "| bad | critical | `https://refused.egress.test:",
        ),
        (
            "junit",
            "<testsuite name=\"bad\" tests=\"1\" failures=\"1\" skipped=\"0\">",
        ),
        (
            "prometheus",
            "egress_feature_status{feature=\"bad\",status=\"critical\"} 1.0",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        let out = egress(&args);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(needle), "{format}:\n{text}");
    }

    // Without the blocked feature, nothing is critical: exit 0.
    let mut args = base.to_vec();
    args.extend([
        "--feature",
        "good",
        "--feature",
        "partial",
        "--format",
        "table",
    ]);
    let out = egress(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Every bad option is a usage error (exit 2) before any probe, and the
/// password never shows.
#[test]
fn bad_check_options_are_usage_errors() {
    for (args, needle) in [
        (
            vec!["check", "--timeout", "fast"],
            "--timeout `fast`: expected number at 0; write a duration with its unit",
        ),
        (
            vec!["check", "--timeout", "5"],
            "--timeout `5`: time unit needed",
        ),
        (
            vec!["check", "--timeout", "999999999999999999m"],
            "--timeout `999999999999999999m`",
        ),
        (
            vec!["check", "--timeout", "2h"],
            "--timeout `2h`: at most 1h",
        ),
        (vec!["check", "--concurrency", "0"], "--concurrency"),
        (
            vec!["check", "--resolve", "example.com:443"],
            "--resolve `example.com:443`: expected HOST:PORT:ADDR",
        ),
        (
            vec!["check", "--ca-file", "/nonexistent/ca.pem"],
            "cannot read /nonexistent/ca.pem",
        ),
        (
            vec!["check", "--proxy", "http://user:hunter2@:3128"],
            "proxy `http://***@:3128`: no host",
        ),
        (
            vec!["check", "--proxy", "http://alice:hunter2"],
            "proxy `http://...`: the port is not a number",
        ),
        (
            vec!["check", "--proxy", "socks5://h:1080"],
            "SOCKS proxies are not supported",
        ),
        (
            vec!["check", "--proxy", "https://bob:hunter2@h:3128"],
            "HTTPS proxies (TLS to the proxy) are not supported",
        ),
        (
            vec!["check", "--no-proxy", "-o", "/nonexistent/dir/report.json"],
            "cannot write /nonexistent/dir/report.json: cannot create a file in /nonexistent/dir",
        ),
    ] {
        let out = egress(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("hunter2"), "the password never shows: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

/// The profile's proxy is used; its `no_proxy` hosts go direct.
#[test]
fn check_uses_the_profiles_proxy() {
    let (ca, good) = https_origin(&["good.egress.test"]);
    let refused = closed_port();
    let dir = tempfile::tempdir().unwrap();
    catalog(dir.path(), good, refused);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let dead_proxy = closed_port();
    let profile = dir.path().join("site.toml");
    std::fs::write(
        &profile,
        format!(
            "catalog = \"catalog.toml\"\nfeatures = [\"good\"]\n\n[proxy]\nurl = \"http://127.0.0.1:{dead_proxy}\"\nuser = \"svc\"\npassword = \"hunter2\"\n"
        ),
    )
    .unwrap();
    let (p, ca_f) = (profile.to_str().unwrap(), ca_file.to_str().unwrap());
    let options = loopback_options(ca_f, &[format!("good.egress.test:{good}:127.0.0.1")]);
    let mut base = vec!["check", "--profile", p, "--format", "json"];
    base.extend(options.iter().map(String::as_str));
    let out = egress(&base);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "TCP: connection refused by 127.0.0.1:{dead_proxy} (the proxy)"
        )),
        "{text}"
    );
    assert!(!text.contains("hunter2"));

    // --no-proxy wins over the profile.
    let mut args = base.to_vec();
    args.push("--no-proxy");
    let out = egress(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The profile's no_proxy list goes direct too.
    std::fs::write(
        &profile,
        format!(
            "catalog = \"catalog.toml\"\nfeatures = [\"good\"]\n\n[proxy]\nurl = \"http://127.0.0.1:{dead_proxy}\"\nno_proxy = [\"egress.test\"]\n"
        ),
    )
    .unwrap();
    let out = egress(&base);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Without --proxy or a profile proxy, HTTPS_PROXY applies, and NO_PROXY
/// sends its hosts direct.
#[test]
fn check_honours_the_proxy_environment() {
    let (ca, good) = https_origin(&["good.egress.test"]);
    let dir = tempfile::tempdir().unwrap();
    catalog(dir.path(), good, closed_port());
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let dead_proxy = closed_port();
    let (c, ca_f) = (dir.path().join("catalog.toml"), ca_file.to_str().unwrap());
    let options = loopback_options(ca_f, &[format!("good.egress.test:{good}:127.0.0.1")]);
    let mut args = vec![
        "check",
        "--catalog",
        c.to_str().unwrap(),
        "--feature",
        "good",
    ];
    args.extend(["--format", "json"]);
    args.extend(options.iter().map(String::as_str));
    let run = |no_proxy: Option<&str>| {
        let mut cmd = cargo_bin_cmd!("egress");
        cmd.env("HTTPS_PROXY", format!("http://127.0.0.1:{dead_proxy}"))
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
        if let Some(n) = no_proxy {
            cmd.env("NO_PROXY", n);
        }
        cmd.args(&args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(the proxy)"));
    let out = run(Some(".egress.test"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
