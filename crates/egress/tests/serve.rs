//! `egress serve` end to end: the real binary, scheduled against
//! origins on loopback, scraped with curl, its metrics read by promtool,
//! its status page by headless Chromium; and the faults: an address in
//! use, bad input before binding, unknown paths and methods, SIGTERM.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egress_test_support::origin::https_origin;
use egress_test_support::tools::{
    CHROMIUM, CURL, KILL, PROMTOOL, SYSTEMD_ANALYZE, free_port, needs, promtool_check_metrics,
};

/// A running `egress serve`, stopped when dropped.
struct Serve {
    child: Child,
    port: u16,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A catalog with a reachable HTTPS endpoint (`good`) and a refused one
/// (`bad`).
fn catalog(dir: &Path, tls: u16, refused: u16) -> PathBuf {
    let text = egress_test_support::catalog_head("serve-test")
        + &format!(
            r#"
[[feature]]
id = "good"
title = "Reachable"
page = "p"
section = "Good"

[[feature]]
id = "bad"
title = "Refused"
page = "p"
section = "Bad"

[[endpoint]]
id = "good-tls"
url = "https://localhost:{tls}/"
features = ["good"]

[[endpoint]]
id = "bad-tls"
url = "https://localhost:{refused}/"
features = ["bad"]
"#
        );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn egress() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_egress"));
    for v in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
        cmd.env_remove(v);
    }
    cmd
}

/// `curl -s -i` of `path` with `extra` arguments: the status line's code,
/// the headers (lowercase) and the body.
fn curl(port: u16, path: &str, extra: &[&str]) -> (u16, String, String) {
    let out = Command::new(CURL.path())
        .args(["-s", "-i", "--max-time", "10"])
        .args(extra)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head.to_ascii_lowercase(), body.to_owned())
}

fn start(dir: &Path, args: &[&str]) -> Serve {
    start_on(dir, args, "127.0.0.1")
}

/// [`start`], listening on `address` (a free port of 127.0.0.1).
fn start_on(dir: &Path, args: &[&str], address: &str) -> Serve {
    let port = free_port();
    let listen = if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    };
    let child = egress()
        .arg("serve")
        .args(args)
        .args(["--listen", &listen])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let serve = Serve { child, port };
    // Up once the first run has finished.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, _, body) = curl(port, "/healthz", &[]);
        if code != 0 && !body.starts_with("starting") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "egress serve did not come up: {}",
            std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    serve
}

#[test]
fn serve_scrapes_pages_and_faults() {
    if !needs(&[CURL, PROMTOOL, CHROMIUM, KILL]) {
        return;
    }
    let (ca, tls) = https_origin(&["localhost"]);
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, tls, refused);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca_file = d.join("ca.pem");
    let args = [
        "--catalog",
        catalog.to_str().unwrap(),
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--public-roots",
        ca_file.to_str().unwrap(),
        "--roots-only",
        "--interval",
        "1s",
        "--timeout",
        "2s",
    ];
    let serve = start(d, &args);
    let port = serve.port;

    // /metrics: the classic text by default, which promtool reads.
    let (code, head, body) = curl(port, "/metrics", &[]);
    assert_eq!(code, 200);
    assert!(
        head.contains("content-type: text/plain; version=0.0.4")
            && !head.contains("content-encoding"),
        "{head}"
    );
    promtool_check_metrics(&body);
    for series in [
        format!("egress_endpoint_up{{feature=\"good\",endpoint=\"https://localhost:{tls}/\"}} 1"),
        format!(
            "egress_endpoint_up{{feature=\"bad\",endpoint=\"https://localhost:{refused}/\"}} 0"
        ),
        "egress_feature_status{feature=\"bad\",status=\"critical\"} 1".to_owned(),
        "egress_feature_status_message{feature=\"good\"} 11410".to_owned(),
        "egress_catalog_info{vendor=\"egress\",revision=\"1\",describes=\"2026-01-01\"} 1"
            .to_owned(),
    ] {
        assert!(body.contains(&series), "{series} is missing:\n{body}");
    }
    // Compressed for scrapers that accept gzip, as Prometheus does: the
    // same text once curl has decompressed it.
    let (code, head, gzipped) = curl(port, "/metrics", &["--compressed"]);
    assert_eq!(code, 200);
    assert!(head.contains("content-encoding: gzip"), "{head}");
    promtool_check_metrics(&gzipped);
    // OpenMetrics when asked for.
    let (code, head, body) = curl(
        port,
        "/metrics",
        &["-H", "Accept: application/openmetrics-text; version=1.0.0"],
    );
    assert_eq!(code, 200);
    assert!(
        head.contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(body.contains("# TYPE egress_build info"), "{body}");
    // Failures add up over runs: the counter reaches 2 with the second run.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, _, body) = curl(port, "/metrics", &[]);
        let failures = body
            .lines()
            .find(|l| l.starts_with("egress_endpoint_failures_total{"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if failures >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no second failure: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // /healthz: 503 naming the critical feature.
    let (code, _, body) = curl(port, "/healthz", &[]);
    assert_eq!((code, body.as_str()), (503, "critical: bad\n"));

    // /api/status: the check's JSON, and the history.
    let (code, _, body) = curl(port, "/api/status", &[]);
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["format"], "egress.serve-status/1");
    assert_eq!(doc["check"]["format"], "egress.check/2");
    assert!(doc["runs"].as_u64().unwrap() >= 2, "{doc}");
    assert!(!doc["history"].as_array().unwrap().is_empty());

    // Unknown paths, other methods.
    assert_eq!(curl(port, "/nope", &[]).0, 404);
    let big = format!("X-Big: {}", "x".repeat(20 * 1024));
    assert_eq!(curl(port, "/metrics", &["-H", &big]).0, 431);
    let (code, head, _) = curl(port, "/metrics", &["-X", "POST"]);
    assert_eq!(code, 405);
    assert!(head.contains("allow: get, head"), "{head}");

    // The status page, in headless Chromium: every feature and status in
    // the DOM; a screenshot for review under target/.
    let chromium = CHROMIUM.path();
    let url = format!("http://127.0.0.1:{port}/");
    let dom = Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for needle in [
        "<h1>egress: internet access of this site system</h1>",
        "<th scope=\"row\"><code>good</code></th><td class=\"status\">OK</td><td>11410</td>",
        "<th scope=\"row\"><code>bad</code></th><td class=\"status\">critical</td><td>11412</td>",
        &format!("https://localhost:{refused}/"),
        "connection refused",
    ] {
        assert!(dom.contains(needle), "{needle} is not in the DOM:\n{dom}");
    }
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-status.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,900",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The address in use: exit 2, naming it.
    let out = egress()
        .arg("serve")
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );

    // SIGTERM: a clean stop.
    #[cfg(unix)]
    {
        let mut serve = serve;
        let status = Command::new(KILL.path())
            .args(["-TERM", &serve.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            if let Some(s) = serve.child.try_wait().unwrap() {
                break s.code();
            }
            assert!(Instant::now() < deadline, "egress serve did not stop");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(code, Some(0));
    }
}

/// Bad input is reported before the port is bound: exit 2, and nothing
/// listens.
#[test]
fn serve_reports_bad_input_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[catalog]\nid = 3\n").unwrap();
    for args in [
        vec!["--catalog", bad.to_str().unwrap()],
        vec!["--interval", "soon"],
        vec!["--timeout", "0s"],
        vec!["--proxy-auth", "kerberos"],
    ] {
        let port = free_port();
        let out = egress()
            .arg("serve")
            .args(&args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{args:?}: something listens"
        );
        assert!(!out.stderr.is_empty());
    }
}

/// `POST /-/reload` and SIGHUP read the catalog again: a bad one is
/// reported and the running configuration kept; a good one takes over at
/// once. `--state` keeps the history over a restart; a corrupt state file
/// is set aside, never fatal.
#[test]
fn reload_keeps_a_good_configuration_and_state_survives_a_restart() {
    if !needs(&[CURL, KILL]) {
        return;
    }
    let (ca, tls) = https_origin(&["localhost"]);
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, tls, refused);
    let good_only = std::fs::read_to_string(&catalog)
        .unwrap()
        .split("\n[[endpoint]]\nid = \"bad-tls\"")
        .next()
        .unwrap()
        .replace(
            "\n[[feature]]\nid = \"bad\"\ntitle = \"Refused\"\npage = \"p\"\nsection = \"Bad\"\n",
            "",
        );
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca_file = d.join("ca.pem");
    let state = d.join("history.jsonl");
    let args = [
        "--catalog",
        catalog.to_str().unwrap(),
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--public-roots",
        ca_file.to_str().unwrap(),
        "--roots-only",
        "--interval",
        "1h",
        "--state",
        state.to_str().unwrap(),
    ];
    // A reload from this machine is taken on a listener on every address
    // too, where 127.0.0.1 arrives as ::ffff:127.0.0.1.
    {
        let mut everywhere = args[..args.len() - 2].to_vec();
        everywhere.push("--allow-remote");
        let serve = start_on(d, &everywhere, "::");
        let (code, _, body) = curl(serve.port, "/-/reload", &["-X", "POST"]);
        assert_eq!((code, body.as_str()), (200, "reloaded; a run starts now\n"));
    }
    let serve = start(d, &args);
    let port = serve.port;
    assert_eq!(curl(port, "/healthz", &[]).0, 503);
    let kept = std::fs::read_to_string(&state).unwrap();
    let run: serde_json::Value = serde_json::from_str(kept.lines().next().unwrap()).unwrap();
    assert_eq!(run["features"][1], serde_json::json!(["bad", "critical"]));

    // A bad catalog: 400 with the located problem; the old one runs on.
    std::fs::write(&catalog, "[catalog]\nid = 3\n").unwrap();
    let (code, _, body) = curl(port, "/-/reload", &["-X", "POST"]);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("catalog.toml:"), "{body}");
    assert_eq!(curl(port, "/healthz", &[]).0, 503);
    assert_eq!(curl(port, "/-/reload", &[]).0, 405);
    #[cfg(unix)]
    {
        Command::new(KILL.path())
            .args(["-HUP", &serve.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(d.join("serve.log"))
            .unwrap()
            .contains("the reload (SIGHUP) failed")
        {
            assert!(Instant::now() < deadline, "no word of the SIGHUP");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(curl(port, "/healthz", &[]).0, 503, "still serving");
    }

    // A good one: a run at once, and the refused feature is gone.
    std::fs::write(&catalog, &good_only).unwrap();
    let (code, _, body) = curl(port, "/-/reload", &["-X", "POST"]);
    assert_eq!(code, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while curl(port, "/healthz", &[]).0 != 200 {
        assert!(Instant::now() < deadline, "no run after the reload");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The run is served before it is kept: its log line comes after the
    // state file is written.
    while std::fs::read_to_string(d.join("serve.log"))
        .unwrap()
        .matches("run finished")
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "the run was not kept");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(serve);
    assert_eq!(std::fs::read_to_string(&state).unwrap().lines().count(), 2);

    // A restart keeps the history; a corrupt file is set aside.
    let serve = start(d, &args);
    let (_, _, body) = curl(serve.port, "/api/status", &[]);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(doc["history"].as_array().unwrap().len() >= 3, "{doc}");
    drop(serve);
    std::fs::write(&state, "{\"finished\": 3}\n").unwrap();
    let serve = start(d, &args);
    let (_, _, body) = curl(serve.port, "/api/status", &[]);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["history"].as_array().unwrap().len(), 1, "{doc}");
    assert!(d.join("history.corrupt").exists());
    let log = std::fs::read_to_string(d.join("serve.log")).unwrap();
    assert!(log.contains("history.jsonl:1: not a run"), "{log}");
}

/// The repository's deploy/ folder, from this crate.
fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn promtool(args: &[&str], dir: &Path) {
    let out = Command::new(PROMTOOL.path())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `promtool test rules` file that feeds `exposition`'s samples (with
/// `instance="site1"`) for 40 minutes and expects, at 16 minutes, exactly
/// `firing` (alert name, feature) among the alerts.
fn rules_test_from(exposition: &str, firing: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "rule_files: [egress-rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n",
    );
    for line in exposition.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let series = match series.split_once('{') {
            Some((name, rest)) => format!("{name}{{instance=\"site1\",{rest}"),
            None => format!("{series}{{instance=\"site1\"}}"),
        };
        out.push_str(&format!(
            "      - series: '{}'\n        values: '{value}x40'\n",
            series.replace('\'', "''")
        ));
    }
    out.push_str("    promql_expr_test:\n      - expr: count by (alertname, feature) (ALERTS{alertstate=\"firing\"})\n        eval_time: 16m\n        exp_samples:\n");
    for (alert, feature) in firing {
        out.push_str(&format!(
            "          - labels: '{{alertname=\"{alert}\",feature=\"{feature}\"}}'\n            value: 1\n"
        ));
    }
    out
}

/// deploy/: the alert rules pass `promtool check rules` and their unit
/// tests, and fire as they should on both real outputs (`check --format
/// prometheus` written into a textfile-collector folder, and a scrape of
/// `serve`); the fleet configuration passes `promtool check config`; every
/// query of the Grafana dashboard names a metric egress exports; the
/// systemd unit passes `systemd-analyze verify`.
#[test]
fn deploy_rules_dashboard_and_unit() {
    if !needs(&[PROMTOOL, CURL, SYSTEMD_ANALYZE]) {
        return;
    }
    let deploy = deploy();
    let prometheus = deploy.join("prometheus");
    promtool(&["check", "rules", "egress-rules.yml"], &prometheus);
    promtool(&["test", "rules", "egress-rules.test.yml"], &prometheus);
    promtool(&["check", "config", "prometheus.yml"], &prometheus);

    let (ca, tls) = https_origin(&["localhost"]);
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, tls, refused);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca_file = d.join("ca.pem");
    let common = [
        "--catalog",
        catalog.to_str().unwrap(),
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--public-roots",
        ca_file.to_str().unwrap(),
        "--roots-only",
    ];

    // The textfile collector's layout: one folder node_exporter reads
    // `*.prom` from; egress writes beside and renames, so no partial file
    // ever has that name, and the file others read has the umask's mode.
    let textfile = d.join("textfile");
    std::fs::create_dir(&textfile).unwrap();
    let prom = textfile.join("egress.prom");
    let out = egress()
        .arg("check")
        .args(common)
        .args(["--format", "prometheus", "--progress", "never", "-o"])
        .arg(&prom)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the bad feature is critical");
    let names: Vec<String> = std::fs::read_dir(&textfile)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["egress.prom"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&prom).unwrap().permissions().mode() & 0o777;
        // The tests run with umask 022 or stricter.
        assert_eq!(mode & 0o004, 0o004 & !umask(), "{mode:o}");
    }
    let from_check = std::fs::read_to_string(&prom).unwrap();
    promtool_check_metrics(&from_check);

    let serve = start(d, &[&common[..], &["--interval", "1h"]].concat());
    let (_, _, from_serve) = curl(serve.port, "/metrics", &[]);
    drop(serve);

    let rules_dir = d.join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    std::fs::copy(
        prometheus.join("egress-rules.yml"),
        rules_dir.join("egress-rules.yml"),
    )
    .unwrap();
    for (what, exposition) in [("check", &from_check), ("serve", &from_serve)] {
        let file = format!("{what}.test.yml");
        std::fs::write(
            rules_dir.join(&file),
            rules_test_from(exposition, &[("EgressFeatureCritical", "bad")]),
        )
        .unwrap();
        promtool(&["test", "rules", &file], &rules_dir);
    }

    // Every metric a dashboard query names is one egress exports.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(deploy.join("grafana/egress-dashboard.json")).unwrap(),
    )
    .unwrap();
    let exported: Vec<&str> = from_serve
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            queries += 1;
            let mut rest = expr;
            while let Some(at) = rest.find("egress_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    exported.contains(&name.as_str()),
                    "panel {}: {name} is not exported ({exported:?})",
                    panel["title"]
                );
                rest = &rest[at + name.len()..];
            }
        }
    }
    assert!(queries >= 10);

    // The systemd unit, with this build's binary in place of
    // /usr/local/bin/egress.
    let analyze = SYSTEMD_ANALYZE.path();
    let unit = std::fs::read_to_string(deploy.join("systemd/egress.service"))
        .unwrap()
        .replace("/usr/local/bin/egress", env!("CARGO_BIN_EXE_egress"));
    std::fs::write(d.join("egress.service"), unit).unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(d.join("egress.service"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The process's umask.
#[cfg(unix)]
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .unwrap_or(0o022)
}
