//! `egress check` through real proxies and in every output format, end to
//! end: the password never shows, one host needed by two
//! features counts under each on its own scheme and port, Prometheus text
//! has one series per URL and feature and passes `promtool`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use egress_test_support::origin::{http_origin, https_origin};
use egress_test_support::proxies::tinyproxy;
use egress_test_support::tools::{PROMTOOL, PYSPNEGO, SQUID, TINYPROXY, needs};

/// One run: its extra arguments and environment.
type Case = (Vec<String>, Vec<(&'static str, &'static str)>);

/// A run's environment, borrowed.
type Env<'a> = &'a [(&'a str, &'a str)];

/// The marker password: no output may contain it.
const MARKER: &str = "Mark3rPassw0rd";

fn egress(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = cargo_bin_cmd!("egress");
    for v in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// A catalog of `localhost` endpoints: `shared` over HTTPS for `servicing`
/// and over plain HTTP for `updates`; a wildcard whose probe host is the
/// same URL; and `127.0.0.1`, which the proxy's filter denies.
fn catalog(dir: &Path, tls: u16, plain: u16) -> PathBuf {
    let text = egress_test_support::catalog_head("proxy-test")
        + &format!(
            r#"
[[feature]]
id = "servicing"
title = "Servicing"
page = "p"
section = "Servicing"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "Updates"

[[feature]]
id = "blocked"
title = "Blocked"
page = "p"
section = "Blocked"

[[endpoint]]
id = "servicing-tls"
url = "https://localhost:{tls}/"
features = ["servicing"]

[[endpoint]]
id = "updates-plain"
url = "http://localhost:{plain}/"
features = ["updates"]

[[endpoint]]
id = "servicing-wild"
url = "https://*.localhost:{tls}/"
features = ["servicing"]
probe = {{ hosts = ["a.localhost"] }}

[[endpoint]]
id = "blocked-plain"
url = "http://127.0.0.1:{plain}/"
features = ["blocked"]
"#
        );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every output format through tinyproxy with Basic authentication, with
/// the right password and a wrong one, from the URL, the profile and the
/// environment; and the error paths of a bad proxy URL: no stdout, stderr
/// or `-o` file holds the password.
#[test]
fn the_password_never_shows() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let (ca, tls) = https_origin(&["localhost", "a.localhost"]);
    let plain = http_origin();
    let proxy = tinyproxy(&format!("BasicAuth alice {MARKER}\n"), None);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, tls, plain);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca_file = d.join("ca.pem");
    let proxy_url = |password: &str| format!("http://alice:{password}@127.0.0.1:{}", proxy.port);
    std::fs::write(
        d.join("site.toml"),
        format!(
            "catalog = \"catalog.toml\"\n[proxy]\nurl = \"http://127.0.0.1:{}\"\nuser = \"alice\"\npassword = \"{MARKER}\"\n",
            proxy.port
        ),
    )
    .unwrap();
    let common = |format: &str, out: &Path| -> Vec<String> {
        [
            "check",
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--public-roots",
            ca_file.to_str().unwrap(),
            "--roots-only",
            "--timeout",
            "5s",
            "--progress",
            "never",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let encoded = MARKER.replace('0', "%30");
    let mut runs = 0;
    for format in ["table", "json", "junit", "markdown", "prometheus"] {
        let out = d.join(format!("report.{format}"));
        let cases: Vec<Case> = vec![
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    proxy_url(MARKER),
                ],
                vec![],
            ),
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    proxy_url(&encoded),
                ],
                vec![],
            ),
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    proxy_url("wrong"),
                ],
                vec![],
            ),
            (
                vec![
                    "--profile".into(),
                    d.join("site.toml").display().to_string(),
                ],
                vec![],
            ),
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    format!("http://127.0.0.1:{}", proxy.port),
                ],
                vec![
                    ("EGRESS_PROXY_USER", "alice"),
                    ("EGRESS_PROXY_PASSWORD", MARKER),
                ],
            ),
            (
                vec!["--catalog".into(), catalog.display().to_string()],
                vec![("HTTPS_PROXY", proxy_url(MARKER).leak())],
            ),
            // Error paths: a URL without a host, an unsupported scheme.
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    format!("http://alice:{MARKER}"),
                ],
                vec![],
            ),
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    format!("socks5://alice:{MARKER}@h:1080"),
                ],
                vec![],
            ),
            (
                vec![
                    "--catalog".into(),
                    catalog.display().to_string(),
                    "--proxy".into(),
                    format!("http://alice:{MARKER}@h:99999"),
                ],
                vec![],
            ),
        ];
        for (extra, envs) in cases {
            let _ = std::fs::remove_file(&out);
            let mut args = common(format, &out);
            args.extend(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = egress(&args, &envs);
            let written = std::fs::read_to_string(&out).unwrap_or_default();
            for (what, text) in [
                ("stdout", String::from_utf8_lossy(&o.stdout).into_owned()),
                ("stderr", String::from_utf8_lossy(&o.stderr).into_owned()),
                ("-o file", written),
            ] {
                assert!(
                    !text.contains(MARKER) && !text.contains(&encoded),
                    "{args:?} {envs:?}: the password shows on {what}:\n{text}"
                );
            }
            assert!(matches!(o.status.code(), Some(0..=2)), "{args:?}");
            runs += 1;
        }
    }
    assert_eq!(runs, 45);
}

/// One host needed over HTTPS by one feature and over plain HTTP by
/// another counts under each feature only for its own probe; Prometheus
/// text has each series once and one feature id per `feature` label, and
/// promtool accepts it.
#[test]
fn per_feature_counts_and_prometheus_text() {
    if !needs(&[PROMTOOL]) {
        return;
    }
    let promtool = PROMTOOL.path();
    let (ca, tls) = https_origin(&["localhost", "a.localhost"]);
    let plain = http_origin();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, tls, plain);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca_file = d.join("ca.pem");
    let run = |format: &str| {
        let o = egress(
            &[
                "check",
                "--catalog",
                catalog.to_str().unwrap(),
                "--ca-file",
                ca_file.to_str().unwrap(),
                "--public-roots",
                ca_file.to_str().unwrap(),
                "--roots-only",
                "--resolve",
                &format!("a.localhost:{tls}:127.0.0.1"),
                "--feature",
                "servicing",
                "--feature",
                "updates",
                "--progress",
                "never",
                "--format",
                format,
            ],
            &[],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let doc: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    for e in doc["endpoints"].as_array().unwrap() {
        let url = e["url"].as_str().unwrap_or_default();
        let features: Vec<&str> = e["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let expected: &[&str] = if url.starts_with("https://") {
            &["servicing"]
        } else {
            &["updates"]
        };
        assert_eq!(features, expected, "{url}");
    }

    let text = run("prometheus");
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let series = line.rsplit_once(' ').unwrap().0;
        assert!(seen.insert(series.to_owned()), "duplicate series: {series}");
        if let Some(at) = series.find("feature=\"") {
            let value = &series[at + 9..];
            let value = &value[..value.find('"').unwrap()];
            assert!(!value.contains(','), "one feature per label: {series}");
        }
    }
    // The metric set of docs/serve.md, shared with `egress serve`.
    for name in [
        "egress_feature_status{",
        "egress_feature_status_message{",
        "egress_endpoint_up{",
        "egress_probe_phase_duration_seconds{",
        "egress_tls_certificate_not_after_timestamp_seconds{",
        "egress_tls_inspected{",
        "egress_run_duration_seconds",
        "egress_last_run_timestamp_seconds",
        "egress_catalog_info{",
        "egress_build_info{",
    ] {
        assert!(
            seen.iter().any(|s| s.starts_with(name)),
            "{name} is missing:\n{text}"
        );
    }
    assert!(seen.contains(&format!(
        "egress_endpoint_up{{feature=\"servicing\",endpoint=\"https://localhost:{tls}/\"}}"
    )));
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Next steps follow from the phase and from whether the proxy or the
/// target failed: a dead proxy is not "the proxy blocks endpoints", and a
/// set proxy is not suggested again.
#[test]
fn next_steps_name_the_proxy_when_it_failed() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path(), 1, 1);
    let dead = egress_test_support::tools::free_port();
    for (proxy, reason, step) in [
        (
            format!("http://127.0.0.1:{dead}"),
            format!("TCP: connection refused by 127.0.0.1:{dead} (the proxy)"),
            "Next: the proxy does not accept connections: check its address and port, and that it runs",
        ),
        (
            // `.invalid` never resolves (RFC 6761): no such host, or no
            // answer where no DNS server is reachable; either is the proxy's.
            "http://proxy.invalid:3128".to_owned(),
            "(the proxy)".to_owned(),
            "Next: the proxy's name does not resolve: check the proxy address, or name a DNS server with --dns-server",
        ),
    ] {
        let o = egress(
            &[
                "check",
                "--catalog",
                catalog.to_str().unwrap(),
                "--proxy",
                &proxy,
                "--progress",
                "never",
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(1));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&reason), "{text}");
        assert!(text.contains(step), "{text}");
        assert!(
            !text.contains("(--proxy)"),
            "a set proxy is not suggested: {text}"
        );
        assert!(!text.contains("the proxy blocks"), "{text}");
        assert!(text.contains(&format!("# proxy {}", &proxy[7..])), "{text}");
    }
}

/// `egress check` through a real Squid that requires NTLM:
/// without credentials every probe fails in the `proxy-auth` phase naming
/// what the proxy offers; `DOMAIN\user` from the environment, the URL or
/// the profile passes, and says NTLM was used; a wrong password is
/// "rejected". In every format, and on every error path of bad input
/// (exit 2, no `-o` file), the password shows nowhere.
#[test]
fn check_authenticates_with_ntlm_through_squid() {
    use egress_test_support::squid::{self, Squid};
    if !needs(&[SQUID, PYSPNEGO]) {
        return;
    }
    let (ca, tls) = https_origin(&["localhost", "a.localhost"]);
    let plain = http_origin();
    let folder = squid::folder();
    let rules = squid::ntlm_rules(folder.path(), &[("CONTOSO", "alice", MARKER)], false);
    let proxy = Squid::start(folder, &["localhost", "a.localhost"], &rules);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, tls, plain);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca_file = d.join("ca.pem");
    let proxy_plain = format!("http://127.0.0.1:{}", proxy.port);
    std::fs::write(
        d.join("site.toml"),
        format!(
            "catalog = \"catalog.toml\"\n[proxy]\nurl = \"{proxy_plain}\"\nuser = 'CONTOSO\\alice'\npassword = \"{MARKER}\"\n"
        ),
    )
    .unwrap();
    let run = |format: &str, extra: &[&str], envs: &[(&str, &str)]| {
        let out = d.join(format!("report.{format}"));
        let _ = std::fs::remove_file(&out);
        let mut args = vec![
            "check",
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--public-roots",
            ca_file.to_str().unwrap(),
            "--roots-only",
            "--progress",
            "never",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = egress(&args, envs);
        let written = std::fs::read_to_string(&out).ok();
        for (what, text) in [
            ("stdout", String::from_utf8_lossy(&o.stdout).into_owned()),
            ("stderr", String::from_utf8_lossy(&o.stderr).into_owned()),
            ("-o file", written.clone().unwrap_or_default()),
        ] {
            assert!(
                !text.contains(MARKER),
                "{args:?} {envs:?}: the password shows on {what}:\n{text}"
            );
        }
        (o, written)
    };
    let cat = catalog.to_str().unwrap();
    let alice = [
        ("EGRESS_PROXY_USER", "CONTOSO\\alice"),
        ("EGRESS_PROXY_PASSWORD", MARKER),
    ];
    let json = |written: Option<String>| -> serde_json::Value {
        serde_json::from_str(&written.expect("a report")).unwrap()
    };
    let endpoint = |doc: &serde_json::Value, id: &str| -> serde_json::Value {
        doc["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"].as_str().is_some_and(|u| u.contains(id)))
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {doc}"))
    };
    let tls_url = format!("https://localhost:{tls}/");
    let plain_url = format!("http://localhost:{plain}/");

    // No credentials: 407, with what the proxy offers.
    let (o, written) = run("json", &["--catalog", cat, "--proxy", &proxy_plain], &[]);
    assert_eq!(o.status.code(), Some(1));
    let doc = json(written);
    for url in [&tls_url, &plain_url] {
        let e = endpoint(&doc, url);
        assert_eq!(e["phase"], "proxy-auth", "{e}");
        assert!(e["reason"].as_str().unwrap().contains("offers NTLM"), "{e}");
        assert_eq!(e["proxy_auth"]["offered"][0], "NTLM", "{e}");
    }

    // The right account, from the environment, the URL and the profile.
    let in_url = format!("http://CONTOSO%5Calice:{MARKER}@127.0.0.1:{}", proxy.port);
    let site = d.join("site.toml");
    let sources: [(Vec<&str>, Env); 3] = [
        (vec!["--catalog", cat, "--proxy", &proxy_plain], &alice),
        (vec!["--catalog", cat, "--proxy", &in_url], &[]),
        (vec!["--profile", site.to_str().unwrap()], &[]),
    ];
    for (extra, envs) in &sources {
        let (_, written) = run("json", extra, envs);
        let doc = json(written);
        for url in [&tls_url, &plain_url] {
            let e = endpoint(&doc, url);
            assert!(
                matches!(e["verdict"].as_str(), Some("ok" | "warning")),
                "{extra:?}: {e}"
            );
            assert_eq!(e["proxy_auth"]["used"], "NTLM", "{e}");
        }
    }
    let (o, _) = run(
        "table",
        &["--catalog", cat, "--proxy", &proxy_plain],
        &alice,
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.is_empty(), "the report went to -o");
    let (_, written) = run(
        "table",
        &["--catalog", cat, "--proxy", &proxy_plain],
        &alice,
    );
    assert!(
        written.unwrap().contains("Proxy authentication: NTLM for "),
        "the table's summary names the scheme"
    );

    // A wrong password: rejected, in the proxy-auth phase.
    let (o, written) = run(
        "json",
        &["--catalog", cat, "--proxy", &proxy_plain],
        &[
            ("EGRESS_PROXY_USER", "CONTOSO\\alice"),
            ("EGRESS_PROXY_PASSWORD", "wrong"),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = endpoint(&json(written), &tls_url);
    assert_eq!(e["phase"], "proxy-auth");
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .starts_with("proxy-auth: the proxy rejected the NTLM credentials"),
        "{e}"
    );

    // Every format, every mode: the password nowhere.
    for format in ["table", "json", "junit", "markdown", "prometheus"] {
        for mode in ["auto", "ntlm", "basic", "negotiate", "none"] {
            let (o, _) = run(
                format,
                &["--catalog", cat, "--proxy", &in_url, "--proxy-auth", mode],
                &[],
            );
            assert!(matches!(o.status.code(), Some(0 | 1)), "{format} {mode}");
        }
    }

    // Bad input: exit 2, a clear message, no report written.
    let bad: [(Vec<&str>, Env, &str); 4] = [
        (
            vec!["--catalog", cat, "--proxy-auth", "kerberos"],
            &alice,
            "invalid value 'kerberos' for '--proxy-auth <SCHEME>'",
        ),
        (
            vec![
                "--catalog",
                cat,
                "--proxy",
                &proxy_plain,
                "--proxy-auth",
                "ntlm",
            ],
            &[
                ("EGRESS_PROXY_USER", "alice"),
                ("EGRESS_PROXY_PASSWORD", MARKER),
            ],
            "proxy user `alice`: NTLM needs the user's domain; write it DOMAIN\\user or user@domain.example",
        ),
        (
            vec![
                "--catalog",
                cat,
                "--proxy",
                &proxy_plain,
                "--proxy-auth",
                "ntlm",
            ],
            &[],
            "--proxy-auth ntlm needs credentials",
        ),
        (
            vec!["--catalog", cat, "--proxy", &proxy_plain],
            &[
                ("EGRESS_PROXY_USER", "CONTOSO\\"),
                ("EGRESS_PROXY_PASSWORD", MARKER),
            ],
            "proxy user `CONTOSO\\`: NTLM needs the user's domain",
        ),
    ];
    for (extra, envs, message) in bad {
        let (o, written) = run("json", &extra, envs);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(written.is_none(), "{extra:?}: a report was written");
    }
}
