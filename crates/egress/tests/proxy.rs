//! `egress proxy` end to end: the real binary between curl,
//! Python `requests` (and raw sockets, for what they will not send) and
//! origins on loopback. Enforce and report mode, near-miss denials (text
//! and JSON), paths of plain HTTP, strict framing, the SSRF rules with a
//! DNS server of the test's, a real Squid as the parent, client
//! authentication, reload and drain, the logs, 5,000 idle tunnels.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egress_test_support::origin::{echo_origin, https_origin};
use egress_test_support::squid::{self, Squid};
use egress_test_support::tools::{
    ARGON2, CURL, KILL, PROMTOOL, PYSPNEGO, PYTHON_REQUESTS, PYTHON3, SQUID, SYSTEMD_ANALYZE,
    free_port, needs, promtool_check_metrics,
};

/// A running `egress proxy`, stopped when dropped.
struct Proxy {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn start(dir: &Path, name: &str, args: &[String]) -> Proxy {
        Proxy::start_with(dir, name, args, &[])
    }

    fn start_with(dir: &Path, name: &str, args: &[String], envs: &[(&str, &str)]) -> Proxy {
        let port = free_port();
        let log = dir.join(format!("{name}.jsonl"));
        let child = Command::new(env!("CARGO_BIN_EXE_egress"))
            .arg("proxy")
            .args(args)
            .envs(envs.iter().copied())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--decision-log")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "egress proxy did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Proxy { child, port, log }
    }

    /// `curl` through the proxy: the origin's status (0 when the tunnel
    /// failed), the CONNECT status, the body.
    fn curl(&self, ca: &Path, url: &str, extra: &[&str]) -> (u16, u16, String) {
        let out = Command::new(CURL.path())
            .args([
                "-s",
                "--max-time",
                "10",
                "-w",
                "\n%{http_code} %{http_connect}",
            ])
            .args(["-x", &format!("http://127.0.0.1:{}", self.port)])
            .arg("--cacert")
            .arg(ca)
            .args(extra)
            .arg(url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, codes) = text.rsplit_once('\n').unwrap();
        let mut codes = codes.split(' ').map(|c| c.parse().unwrap_or(0));
        (
            codes.next().unwrap(),
            codes.next().unwrap(),
            body.to_owned(),
        )
    }

    /// A raw request head to the proxy: its whole answer.
    fn raw(&self, head: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0; 4096];
        // Up to the end of a short body: denials close nothing, so read
        // until the body's length has arrived.
        loop {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse::<usize>().ok());
                if length.is_none_or(|n| body.len() >= n) {
                    break;
                }
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// The first line of the decision log that satisfies `wanted`, once
    /// it is written (a tunnel's line is written when it closes, just
    /// after the client saw it close).
    fn line(&self, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if let Some(line) = log.iter().find(|l| wanted(l)) {
                return line.clone();
            }
            assert!(Instant::now() < deadline, "not in the log: {log:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The decision log's lines.
    fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A catalog: one HTTPS host on the TLS origin's port, a wildcard, and a
/// plain-HTTP endpoint that names a path.
fn catalog(dir: &Path, tls: u16, http: u16) -> PathBuf {
    let text = egress_test_support::catalog_head("proxy-test")
        + &format!(
            r#"
[[feature]]
id = "tls"
title = "Over TLS"
page = "p"
section = "TLS"

[[feature]]
id = "feed"
title = "A feed over plain HTTP"
page = "p"
section = "Feed"

[[endpoint]]
id = "allowed"
url = "https://allowed.egress.test:{tls}/"
features = ["tls"]

[[endpoint]]
id = "wild"
url = "https://*.wild.egress.test:{tls}/"
features = ["tls"]
min_proxy_idle_timeout_secs = 600

[[endpoint]]
id = "link"
url = "https://link.egress.test:{tls}/fwlink/?LinkID=1"
features = ["tls"]

[[endpoint]]
id = "feed"
url = "http://feed.egress.test:{http}/feed/"
features = ["feed"]
"#
        );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn args(catalog: &Path, extra: &[impl AsRef<str>]) -> Vec<String> {
    let mut args = vec!["--catalog".to_owned(), catalog.display().to_string()];
    args.extend(extra.iter().map(|s| s.as_ref().to_owned()));
    args
}

#[test]
fn enforce_mode_allows_exactly_the_plan() {
    if !needs(&[CURL, PROMTOOL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls) = https_origin(&[
        "allowed.egress.test",
        "other.egress.test",
        "a.wild.egress.test",
        "wild.egress.test",
    ]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca = d.join("ca.pem");
    let http = echo_origin();
    let catalog = catalog(d, tls, http);
    let pins: Vec<String> = [
        ("allowed.egress.test", tls),
        ("other.egress.test", tls),
        ("a.wild.egress.test", tls),
        ("wild.egress.test", tls),
        ("feed.egress.test", http),
        ("allowed.egress.test", http),
    ]
    .iter()
    .flat_map(|(h, p)| ["--resolve".to_owned(), format!("{h}:{p}:127.0.0.1")])
    .collect();
    let admin = free_port().to_string();
    let admin_listen = format!("127.0.0.1:{admin}");
    let mut extra = vec![
        "--mode",
        "enforce",
        "--allow-net",
        "127.0.0.0/8",
        "--admin-listen",
        &admin_listen,
    ];
    extra.extend(pins.iter().map(String::as_str));
    let proxy = Proxy::start(d, "enforce", &args(&catalog, &extra));

    // Allowed: the origin answers through the tunnel.
    let (code, connect, body) =
        proxy.curl(&ca, &format!("https://allowed.egress.test:{tls}/"), &[]);
    assert_eq!((code, connect, body.as_str()), (200, 200, "ok"));
    let (code, _, _) = proxy.curl(&ca, &format!("https://a.wild.egress.test:{tls}/"), &[]);
    assert_eq!(code, 200);

    // Denied with 403: an unlisted host, the apex of a wildcard, a wrong
    // port, and HTTPS to a host the plan has for plain HTTP only.
    for url in [
        format!("https://other.egress.test:{tls}/"),
        format!("https://wild.egress.test:{tls}/"),
        format!("https://feed.egress.test:{http}/"),
    ] {
        let (code, connect, _) = proxy.curl(&ca, &url, &[]);
        assert_eq!((code, connect), (0, 403), "{url}");
    }
    // The denial names the near miss in the explain engine's words.
    let answer = proxy.raw(&format!(
        "CONNECT wild.egress.test:{tls} HTTP/1.1\r\nHost: wild.egress.test:{tls}\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        answer.contains("`wild.egress.test` is not covered by `*.wild.egress.test`: a wildcard never includes its own apex"),
        "{answer}"
    );
    let answer = proxy.raw(&format!(
        "CONNECT allowed.egress.test:{http} HTTP/1.1\r\nHost: x\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        answer.contains(&format!("port {http} is not among")) || answer.contains("not https"),
        "{answer}"
    );

    // Plain HTTP: held to the path; forwarded in origin form, Host
    // rewritten, Via added, the proxy's credentials kept from the origin.
    let (code, _, body) = proxy.curl(
        &ca,
        &format!("http://feed.egress.test:{http}/feed/x.cab"),
        &[
            "-H",
            "Proxy-Authorization: Basic bWFya2VyOnNlY3JldA==",
            "-H",
            "Connection: keep-alive, X-Hop",
            "-H",
            "X-Hop: 1",
        ],
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("GET /feed/x.cab HTTP/1.1\r\n"), "{body}");
    let lower = body.to_ascii_lowercase();
    assert!(
        lower.contains(&format!("host: feed.egress.test:{http}\r\n")),
        "{body}"
    );
    assert!(lower.contains("via: 1.1 egress\r\n"), "{body}");
    assert!(!lower.contains("proxy-authorization"), "{body}");
    assert!(!lower.contains("x-hop"), "{body}");
    // User information in the request target goes nowhere: not into the
    // origin's Host, not into the log.
    let answer = proxy.raw(&format!(
        "GET http://user:Target-Marker-21@feed.egress.test:{http}/feed/u HTTP/1.1\r\nHost: x\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains(&format!("host: feed.egress.test:{http}\r\n")),
        "{answer}"
    );
    assert!(!answer.contains("Target-Marker-21"), "{answer}");
    for path in ["/other/", "/feed/%2e%2e/admin", "/"] {
        let (code, _, body) = proxy.curl(
            &ca,
            &format!("http://feed.egress.test:{http}{path}"),
            &["--path-as-is"],
        );
        assert_eq!(code, 403, "{path}: {body}");
        assert!(body.contains("is not under"), "{path}: {body}");
    }

    // Every decision is logged.
    let tunnel = proxy.line(|l| l["host"] == "allowed.egress.test" && l["decision"] == "allow");
    let log = proxy.log();
    let denied: Vec<&serde_json::Value> = log.iter().filter(|l| l["decision"] == "deny").collect();
    let allowed: Vec<&serde_json::Value> =
        log.iter().filter(|l| l["decision"] == "allow").collect();
    assert!(denied.len() >= 8, "{log:?}");
    assert!(allowed.len() >= 3, "{log:?}");
    assert!(
        !std::fs::read_to_string(&proxy.log)
            .unwrap()
            .contains("Target-Marker-21")
    );
    assert_eq!(tunnel["method"], "CONNECT");
    assert_eq!(tunnel["upstream"], format!("127.0.0.1:{tls}"));
    assert_eq!(tunnel["features"], serde_json::json!(["tls"]), "{tunnel}");
    assert!(
        tunnel["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "allowed" || e == "wild"),
        "{tunnel}"
    );
    assert!(tunnel["connect_ms"].as_f64().is_some(), "{tunnel}");
    assert!(tunnel["bytes_up"].as_u64().unwrap() > 0, "{tunnel}");
    assert!(
        tunnel["reason"]
            .as_str()
            .unwrap()
            .starts_with("the plan allows it for tls")
    );
    assert!(log.iter().all(|l| l["would_deny"] == false));

    // The admin listener's metrics: promtool reads them; the decisions
    // and the tunnel's bytes are counted.
    let out = Command::new(CURL.path())
        .args(["-s", "--max-time", "10"])
        .arg(format!("http://{admin_listen}/metrics"))
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&out.stdout).into_owned();
    promtool_check_metrics(&metrics);
    for series in [
        "egress_proxy_requests_total{kind=\"tunnel\",decision=\"allow\",roles=\"all\"} 2",
        "egress_proxy_requests_total{kind=\"http\",decision=\"allow\",roles=\"all\"} 2",
        "egress_proxy_open_tunnels 0",
        "egress_proxy_upstream_connect_seconds_count ",
    ] {
        assert!(metrics.contains(series), "{series}:\n{metrics}");
    }
    let denied = metrics
        .lines()
        .find(|l| l.starts_with("egress_proxy_requests_total{kind=\"tunnel\",decision=\"deny\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(denied >= 4, "{metrics}");
    assert!(
        metrics.contains("egress_proxy_tunnel_bytes_total{direction=\"up\"}"),
        "{metrics}"
    );
}

#[test]
fn report_mode_and_the_ssrf_rules() {
    if !needs(&[CURL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls) = https_origin(&["allowed.egress.test", "other.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca = d.join("ca.pem");
    let http = echo_origin();
    let catalog = catalog(d, tls, http);
    let pin = |h: &str, to: &str| ["--resolve".to_owned(), format!("{h}:{tls}:{to}")];

    // Report mode with the loopback network allowed: an unlisted host is
    // reached and logged would_deny.
    let mut extra: Vec<String> = ["--mode", "report", "--allow-net", "127.0.0.0/8"]
        .map(String::from)
        .to_vec();
    extra.extend(pin("other.egress.test", "127.0.0.1"));
    let report = Proxy::start(d, "report", &args(&catalog, &extra));
    let (code, _, _) = report.curl(&ca, &format!("https://other.egress.test:{tls}/"), &[]);
    assert_eq!(code, 200);
    let line = report.line(|l| l["host"] == "other.egress.test");
    assert_eq!(line["decision"], "allow");
    assert_eq!(line["would_deny"], true);
    assert!(
        line["reason"]
            .as_str()
            .unwrap()
            .contains("no catalog endpoint matches it"),
        "{line}"
    );
    // The proxy itself: never, whatever --allow-net says.
    let answer = report.raw(&format!(
        "CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n\r\n",
        port = report.port
    ));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("own listening address"), "{answer}");

    // Without --allow-net, in either mode: names that resolve to loopback
    // or private addresses, and every spelling of an IP literal, are
    // denied although report mode allows what the plan does not.
    let mut extra: Vec<String> = vec!["--mode".into(), "report".into()];
    extra.extend(pin("allowed.egress.test", "127.0.0.1"));
    extra.extend(pin("other.egress.test", "10.0.0.1"));
    let strict = Proxy::start(d, "strict", &args(&catalog, &extra));
    let (code, connect, _) = strict.curl(&ca, &format!("https://allowed.egress.test:{tls}/"), &[]);
    assert_eq!((code, connect), (0, 403));
    for (authority, why) in [
        (format!("allowed.egress.test:{tls}"), "is loopback"),
        (format!("other.egress.test:{tls}"), "private network"),
        (format!("127.0.0.1:{tls}"), "is loopback"),
        (format!("127.1:{tls}"), "is loopback"),
        (format!("2130706433:{tls}"), "is loopback"),
        (format!("0x7f.1:{tls}"), "is loopback"),
        (format!("0177.0.0.1:{tls}"), "is loopback"),
        (format!("[::1]:{tls}"), "is loopback"),
        (format!("[::ffff:127.0.0.1]:{tls}"), "is loopback"),
        (format!("[64:ff9b::7f00:1]:{tls}"), "(NAT64)"),
        (format!("[2002:7f00:1::1]:{tls}"), "(6to4)"),
        ("169.254.169.254:80".to_owned(), "link-local"),
        ("[fe80::1%25eth0]:443".to_owned(), "IPv6 zone"),
    ] {
        let answer = strict.raw(&format!("CONNECT {authority} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(answer.starts_with("HTTP/1.1 403"), "{authority}: {answer}");
        assert!(answer.contains(why), "{authority}: {answer}");
    }
    let log = strict.log();
    let spelled = log
        .iter()
        .find(|l| l["written"] == "0x7f.1")
        .expect("the written form is logged");
    assert_eq!(spelled["host"], "127.0.0.1");
    assert_eq!(spelled["decision"], "deny");
}

#[test]
fn proxy_reports_bad_input_and_tests_its_configuration() {
    if !needs(&[SYSTEMD_ANALYZE]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, 8443, 8080);
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_egress"))
            .arg("proxy")
            .args(args(&catalog, extra))
            .output()
            .unwrap()
    };
    let out = run(&["--test-config"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("report mode"), "{stdout}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
    // What the proxy cannot hold exactly is said first: a path behind a
    // tunnel. The default idle timeout (15m) keeps the wildcard's 10m.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("egress proxy: loss: `link.egress.test/fwlink/?LinkID=1` names a path, but a CONNECT tunnel shows only the host"),
        "{stderr}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    let out = run(&["--tunnel-idle-timeout", "5m", "--test-config"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("egress proxy: warning: `*.wild.egress.test` keeps connections idle for up to 10m; --tunnel-idle-timeout 5m closes them sooner"),
        "{stderr}"
    );
    // Every problem at once, exit 2, nothing listens.
    let out = run(&[
        "--allow-net",
        "10.0.0.1/8",
        "--resolve",
        "nonsense",
        "--test-config",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("host bits set"), "{stderr}");
    assert!(stderr.contains("expected HOST:PORT:ADDR"), "{stderr}");
    let out = run(&["--role", "no-such-role", "--test-config"]);
    assert_eq!(out.status.code(), Some(2));
    // The port in use: an error naming it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = run(&["--listen", &address]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&address));

    // The systemd unit in deploy/, with this build's binary in place of
    // /usr/local/bin/egress.
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/systemd/egress-proxy.service"),
    )
    .unwrap()
    .replace("/usr/local/bin/egress", env!("CARGO_BIN_EXE_egress"));
    std::fs::write(d.join("egress-proxy.service"), unit).unwrap();
    let out = Command::new(SYSTEMD_ANALYZE.path())
        .arg("verify")
        .arg(d.join("egress-proxy.service"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn oversized_heads_and_origin_form() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, 8443, 8080);
    let proxy = Proxy::start(
        d,
        "limits",
        &args(
            &catalog,
            &[
                "--resolve",
                "feed.egress.test:8080:127.0.0.1",
                "--header-timeout",
                "2s",
            ],
        ),
    );
    let big = "x".repeat(40 * 1024);
    let answer = proxy.raw(&format!(
        "GET http://feed.egress.test:8080/feed/ HTTP/1.1\r\nHost: feed.egress.test\r\nX-Big: {big}\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let answer = proxy.raw("GET /feed/ HTTP/1.1\r\nHost: feed.egress.test\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("forward proxy"), "{answer}");
    let answer = proxy.raw("CONNECT feed.egress.test HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // Framings two parsers could read differently: 400 with the reason,
    // in report mode too, before anything is forwarded.
    let post =
        "POST http://feed.egress.test:8080/feed/ HTTP/1.1\r\nHost: feed.egress.test:8080\r\n";
    for (framing, reason) in [
        (
            "Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
            "more than one Content-Length",
        ),
        (
            "Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
            "more than one Content-Length",
        ),
        (
            "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "both Content-Length and Transfer-Encoding",
        ),
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
            "both Content-Length and Transfer-Encoding",
        ),
        (
            "Transfer-Encoding: gzip\r\n\r\n",
            "does not end with chunked",
        ),
        (
            "X-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
            "obsolete line folding",
        ),
        ("Content-Length: 0\n\n", "bare LF"),
    ] {
        let answer = proxy.raw(&format!("{post}{framing}"));
        assert!(answer.starts_with("HTTP/1.1 400"), "{framing:?}: {answer}");
        assert!(answer.contains(reason), "{framing:?}: {answer}");
    }
    // Pipelined after a request the proxy answers itself: that answer
    // first, then the 400, then the connection closes.
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        format!("GET /feed/ HTTP/1.1\r\nHost: x\r\n\r\n{post}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx")
            .as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let statuses: Vec<&str> = answer
        .lines()
        .filter(|l| l.starts_with("HTTP/1.1"))
        .collect();
    assert_eq!(statuses, ["HTTP/1.1 400 Bad Request"; 2], "{answer}");
    assert!(
        answer.contains("forward proxy") && answer.contains("more than one Content-Length"),
        "{answer}"
    );

    // A head sent a byte a second is cut at --header-timeout (2s), long
    // before its 40 bytes are all sent.
    let mut slow = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let head = b"GET http://feed.egress.test:8080/ HTTP/1.1\r\n";
    let mut sent = 0;
    let cut = loop {
        if sent == head.len() {
            break false;
        }
        if slow.write_all(&head[sent..=sent]).is_err() {
            break true;
        }
        sent += 1;
        let mut byte = [0u8; 1];
        match slow.read(&mut byte) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(900));
    };
    assert!(cut, "a slow head was not cut: {sent} bytes sent");
    assert!(sent < head.len(), "{sent} bytes sent");
    // Keep-alive to the origin: two clients, one after the other, one
    // origin connection.
    let (alive, accepted) = egress_test_support::origin::keep_alive_origin();
    let pooled = Proxy::start(
        d,
        "pooled",
        &args(
            &catalog,
            &[
                "--allow-net",
                "127.0.0.0/8",
                "--resolve",
                &format!("feed.egress.test:{alive}:127.0.0.1"),
            ],
        ),
    );
    for _ in 0..3 {
        let answer = pooled.raw(&format!(
            "GET http://feed.egress.test:{alive}/feed/ HTTP/1.1\r\nHost: feed.egress.test\r\n\r\n"
        ));
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{answer}"
        );
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Upgrade on plain HTTP is refused.
    let answer = proxy.raw(
        "GET http://feed.egress.test:8080/feed/ HTTP/1.1\r\nHost: feed.egress.test:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("Upgrade on plain HTTP"), "{answer}");
}

/// Allowed traffic goes through a real Squid that requires NTLM (the
/// pyspnego helper), authenticated by the check's code; a wrong password
/// reaches the client as 502 with Squid's refusal; the password shows
/// nowhere.
#[test]
fn through_a_parent_squid_with_ntlm() {
    if !needs(&[SQUID, PYSPNEGO, CURL]) {
        return;
    }
    const MARKER: &str = "Marker-Pa55word-21";
    const WRONG: &str = "Wrong-Marker-Pa55word-21";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls) = https_origin(&["allowed.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca = d.join("ca.pem");
    let http = echo_origin();
    let catalog = catalog(d, tls, http);
    let folder = squid::folder();
    let rules = squid::ntlm_rules(folder.path(), &[("CONTOSO", "alice", MARKER)], false);
    let squid = Squid::start(folder, &["allowed.egress.test", "feed.egress.test"], &rules);
    let args = args(
        &catalog,
        &[
            "--mode",
            "enforce",
            "--parent",
            &format!("http://127.0.0.1:{}", squid.port),
            "--proxy-auth",
            "ntlm",
        ],
    );
    let mut good_args = args.clone();
    good_args.extend([
        "--access-log".to_owned(),
        d.join("access.log").display().to_string(),
    ]);
    let good = Proxy::start_with(
        d,
        "parent-good",
        &good_args,
        &[
            ("EGRESS_PROXY_USER", "CONTOSO\\alice"),
            ("EGRESS_PROXY_PASSWORD", MARKER),
        ],
    );
    // Through the tunnel Squid opened for egress.
    let (code, connect, body) = good.curl(&ca, &format!("https://allowed.egress.test:{tls}/"), &[]);
    assert_eq!((code, connect, body.as_str()), (200, 200, "ok"));
    // Plain HTTP in absolute form through Squid; the origin sees no
    // proxy credentials.
    let (code, _, body) = good.curl(&ca, &format!("http://feed.egress.test:{http}/feed/a"), &[]);
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("GET /feed/a HTTP/1.1"), "{body}");
    assert!(
        !body.to_ascii_lowercase().contains("proxy-authorization"),
        "{body}"
    );
    // A request body goes through too (NTLM sends it more than once).
    let (code, _, body) = good.curl(
        &ca,
        &format!("http://feed.egress.test:{http}/feed/post"),
        &["--data-binary", "the body through the parent"],
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("POST /feed/post HTTP/1.1"), "{body}");
    assert!(
        body.ends_with("\r\n\r\nthe body through the parent"),
        "{body}"
    );
    // The plan still decides first: Squid is never asked.
    let (_, connect, _) = good.curl(&ca, &format!("https://other.egress.test:{tls}/"), &[]);
    assert_eq!(connect, 403);

    // The access log reads as Squid's own: the same fields, in the same
    // places, as the parent Squid's line for the same tunnel.
    let connect = "TCP_TUNNEL/200";
    let deadline = Instant::now() + Duration::from_secs(10);
    let (ours, theirs) = loop {
        let line = |path: &Path| {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .find(|l| l.contains(connect) && l.contains("CONNECT allowed.egress.test"))
                .map(str::to_owned)
        };
        match (
            line(&d.join("access.log")),
            line(&squid.dir.path().join("access.log")),
        ) {
            (Some(ours), Some(theirs)) => break (ours, theirs),
            _ => assert!(Instant::now() < deadline, "no access log lines"),
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let ours: Vec<&str> = ours.split_whitespace().collect();
    let theirs: Vec<&str> = theirs.split_whitespace().collect();
    assert_eq!(ours.len(), theirs.len(), "{ours:?} / {theirs:?}");
    for i in [2, 3, 5, 6] {
        assert_eq!(ours[i], theirs[i], "field {i}: {ours:?} / {theirs:?}");
    }
    assert_eq!(ours[3], "TCP_TUNNEL/200");
    // Both count the bytes sent to the client (TLS records and all).
    assert!(ours[4].parse::<u64>().unwrap() > 0, "{ours:?}");
    assert!(theirs[4].parse::<u64>().unwrap() > 0, "{theirs:?}");
    assert_eq!(ours[8], "FIRSTUP_PARENT/127.0.0.1");
    assert!(ours[0].parse::<f64>().is_ok() && theirs[0].parse::<f64>().is_ok());

    // A wrong password, given in the parent's URL this time.
    let bad_args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace(
                "http://127.0.0.1:",
                &format!("http://CONTOSO%5Calice:{WRONG}@127.0.0.1:"),
            )
        })
        .collect();
    assert!(bad_args.iter().any(|a| a.contains(WRONG)));
    let bad = Proxy::start_with(d, "parent-bad", &bad_args, &[]);
    let (code, connect, _) = bad.curl(&ca, &format!("https://allowed.egress.test:{tls}/"), &[]);
    assert_eq!((code, connect), (0, 502));
    let answer = bad.raw(&format!(
        "CONNECT allowed.egress.test:{tls} HTTP/1.1\r\nHost: x\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.contains("rejected"), "{answer}");
    let line = bad.line(|l| l["error"].is_string());
    assert!(
        line["error"].as_str().unwrap().contains("rejected"),
        "{line}"
    );

    drop((good, bad));
    for file in [
        "parent-good.jsonl",
        "parent-good.stderr",
        "parent-bad.jsonl",
        "parent-bad.stderr",
    ] {
        let text = std::fs::read_to_string(d.join(file)).unwrap_or_default();
        assert!(!text.contains(MARKER), "{file} shows the password");
        assert!(!text.contains(WRONG), "{file} shows the password");
    }

    // A parent that takes Basic (Squid's basic_ncsa_auth, offered first).
    let folder = squid::folder();
    let rules = squid::ntlm_rules(folder.path(), &[("CONTOSO", "alice", MARKER)], true);
    let basic_squid = Squid::start(folder, &["allowed.egress.test", "feed.egress.test"], &rules);
    let basic = Proxy::start_with(
        d,
        "parent-basic",
        &[
            "--catalog".to_owned(),
            catalog.display().to_string(),
            "--parent".to_owned(),
            format!("http://127.0.0.1:{}", basic_squid.port),
            "--proxy-auth".to_owned(),
            "basic".to_owned(),
        ],
        &[
            ("EGRESS_PROXY_USER", "alice"),
            ("EGRESS_PROXY_PASSWORD", "s3cret"),
        ],
    );
    let (code, connect, body) =
        basic.curl(&ca, &format!("https://allowed.egress.test:{tls}/"), &[]);
    assert_eq!((code, connect, body.as_str()), (200, 200, "ok"));
    let (code, _, body) = basic.curl(
        &ca,
        &format!("http://feed.egress.test:{http}/feed/basic"),
        &["--data-binary", "through Basic"],
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.ends_with("\r\n\r\nthrough Basic"), "{body}");
    let parent_log =
        std::fs::read_to_string(basic_squid.dir.path().join("access.log")).unwrap_or_default();
    assert!(parent_log.contains(" alice "), "{parent_log}");
}

/// The source address picks the plan: a server of the profile gets its
/// roles' plan; other sources get `--role`'s, or nothing.
#[test]
fn each_source_gets_its_roles_plan() {
    if !needs(&[CURL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls) = https_origin(&["scp.egress.test", "sup.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let ca = d.join("ca.pem");
    let catalog = d.join("roles.toml");
    std::fs::write(
        &catalog,
        egress_test_support::catalog_head("roles-test")
            + &format!(
                r#"
[[role]]
id = "scp"
title = "Service connection point"

[[role]]
id = "sup"
title = "Software update point"

[[feature]]
id = "f"
title = "F"
page = "p"
section = "F"

[[endpoint]]
id = "scp"
url = "https://scp.egress.test:{tls}/"
features = ["f"]
roles = ["scp"]

[[endpoint]]
id = "sup"
url = "https://sup.egress.test:{tls}/"
features = ["f"]
roles = ["sup"]
"#
            ),
    )
    .unwrap();
    let profile = |name: &str, address: &str| {
        let path = d.join(name);
        std::fs::write(
            &path,
            format!("[[server]]\nname = \"cm01.contoso.com\"\nroles = [\"scp\"]\naddresses = [\"{address}\"]\n"),
        )
        .unwrap();
        path.display().to_string()
    };
    let common = [
        "--mode",
        "enforce",
        "--allow-net",
        "127.0.0.0/8",
        "--resolve",
        &format!("scp.egress.test:{tls}:127.0.0.1"),
        "--resolve",
        &format!("sup.egress.test:{tls}:127.0.0.1"),
    ]
    .map(str::to_owned);
    let start = |name: &str, extra: &[&str]| {
        let mut a = args(&catalog, &common);
        a.extend(extra.iter().map(|s| s.to_string()));
        Proxy::start(d, name, &a)
    };
    let reach =
        |proxy: &Proxy, host: &str| proxy.curl(&ca, &format!("https://{host}:{tls}/"), &[]).1;

    // This machine is the server: the scp role only.
    let server = start(
        "server",
        &["--profile", &profile("server.toml", "127.0.0.0/8")],
    );
    assert_eq!(reach(&server, "scp.egress.test"), 200);
    assert_eq!(reach(&server, "sup.egress.test"), 403);
    let line = server.line(|l| l["host"] == "sup.egress.test");
    assert_eq!(line["servers"][0], "cm01.contoso.com");
    assert_eq!(line["roles"][0], "scp");

    // Not a server of the profile, no --role: no plan.
    let elsewhere = profile("elsewhere.toml", "10.9.9.9");
    let stranger = start("stranger", &["--profile", &elsewhere]);
    assert_eq!(reach(&stranger, "scp.egress.test"), 403);
    let answer = stranger.raw(&format!(
        "CONNECT scp.egress.test:{tls} HTTP/1.1\r\nHost: x\r\n\r\n"
    ));
    assert!(
        answer.contains("is not an address of a server in the profile"),
        "{answer}"
    );
    // ... and with --role, that role's plan.
    let other = start("other", &["--profile", &elsewhere, "--role", "sup"]);
    assert_eq!(reach(&other, "sup.egress.test"), 200);
    assert_eq!(reach(&other, "scp.egress.test"), 403);
}

/// An idle tunnel closes after `--tunnel-idle-timeout`; a source holds at
/// most `--max-tunnels-per-source` (then 429).
#[test]
fn tunnel_idle_timeout_and_per_source_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_ca, tls) = https_origin(&["allowed.egress.test"]);
    let catalog = catalog(d, tls, 8080);
    let pin = format!("allowed.egress.test:{tls}:127.0.0.1");
    let proxy = Proxy::start(
        d,
        "limits",
        &args(
            &catalog,
            &[
                "--allow-net",
                "127.0.0.0/8",
                "--resolve",
                &pin,
                "--tunnel-idle-timeout",
                "1s",
                "--max-tunnels-per-source",
                "1",
            ],
        ),
    );
    let connect = format!("CONNECT allowed.egress.test:{tls} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut first = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    first.write_all(connect.as_bytes()).unwrap();
    let mut head = [0; 256];
    let n = first.read(&mut head).unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    // A second tunnel from the same source while the first is open.
    let answer = proxy.raw(&connect);
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("--max-tunnels-per-source 1"), "{answer}");
    // Idle: closed after about a second, not before.
    let opened = Instant::now();
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = [0; 64];
    assert_eq!(first.read(&mut rest).unwrap_or(0), 0, "closed");
    let idle = opened.elapsed();
    assert!(idle >= Duration::from_millis(900), "closed after {idle:?}");
    // Its slot is free again.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = proxy.raw(&connect);
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A CONNECT through the proxy on `port`: the connection and the status
/// line.
fn tunnel(port: u16, authority: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    (s, status)
}

/// Bytes through an open tunnel to the byte-echo origin come back.
#[track_caller]
fn echoes(s: &mut TcpStream, what: &str) {
    s.write_all(what.as_bytes()).unwrap();
    let mut back = vec![0u8; what.len()];
    s.read_exact(&mut back).unwrap();
    assert_eq!(String::from_utf8_lossy(&back), what);
}

/// Waits until the proxy's standard error holds `text`.
#[track_caller]
fn stderr_holds(d: &Path, name: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let err = std::fs::read_to_string(d.join(format!("{name}.stderr"))).unwrap_or_default();
        if err.contains(text) {
            return err;
        }
        assert!(Instant::now() < deadline, "no `{text}` in: {err}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(proxy: &Proxy, name: &str) {
    let status = Command::new(KILL.path())
        .args([&format!("-{name}"), &proxy.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// SIGHUP and `POST /-/reload` re-read the catalog: open tunnels go on,
/// the next request gets the new plan, a bad catalog is refused and the
/// running one kept. SIGTERM drains: no new connections, open tunnels run
/// until they end, then the proxy exits 0.
#[test]
fn proxy_reloads_and_drains() {
    if !needs(&[CURL, KILL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let echo = egress_test_support::origin::byte_echo_origin();
    let write = |hosts: &[&str]| {
        let mut text = egress_test_support::catalog_head("reload")
            + "[[feature]]\nid = \"f\"\ntitle = \"F\"\npage = \"p\"\nsection = \"S\"\n";
        for host in hosts {
            text += &format!(
                "\n[[endpoint]]\nid = \"{host}\"\nurl = \"https://{host}.egress.test:{echo}/\"\nfeatures = [\"f\"]\n"
            );
        }
        std::fs::write(d.join("catalog.toml"), text).unwrap();
    };
    write(&["hold", "old"]);
    let admin = format!("127.0.0.1:{}", free_port());
    let mut extra: Vec<String> = [
        "--mode",
        "enforce",
        "--allow-net",
        "127.0.0.0/8",
        "--admin-listen",
        &admin,
        "--drain-timeout",
        "20s",
    ]
    .map(str::to_owned)
    .to_vec();
    for host in ["hold", "old", "new"] {
        extra.push("--resolve".into());
        extra.push(format!("{host}.egress.test:{echo}:127.0.0.1"));
    }
    let mut proxy = Proxy::start(d, "reload", &args(&d.join("catalog.toml"), &extra));
    let reach = |host: &str| tunnel(proxy.port, &format!("{host}.egress.test:{echo}")).1;

    let (mut held, status) = tunnel(proxy.port, &format!("hold.egress.test:{echo}"));
    assert_eq!(status, "HTTP/1.1 200 OK");
    echoes(&mut held, "before");
    assert_eq!(reach("old"), "HTTP/1.1 200 OK");
    assert_eq!(reach("new"), "HTTP/1.1 403 Forbidden");

    // SIGHUP: the new catalog applies to the next request; the open
    // tunnel goes on.
    write(&["hold", "new"]);
    signal(&proxy, "HUP");
    stderr_holds(d, "reload", "reloaded (SIGHUP)");
    assert_eq!(reach("new"), "HTTP/1.1 200 OK");
    assert_eq!(reach("old"), "HTTP/1.1 403 Forbidden");
    echoes(&mut held, "after the reload");

    // A bad catalog through POST /-/reload: refused with where and why,
    // the running plan stays.
    std::fs::write(d.join("catalog.toml"), "[catalog\n").unwrap();
    let post = |path: &str| {
        let out = Command::new(CURL.path())
            .args([
                "-s",
                "--max-time",
                "10",
                "-w",
                "\n%{http_code}",
                "-X",
                "POST",
            ])
            .arg(format!("http://{admin}{path}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let answer = post("/-/reload");
    assert!(answer.ends_with("\n400"), "{answer}");
    assert!(
        answer.contains("the running configuration stays"),
        "{answer}"
    );
    assert!(answer.contains("catalog.toml:1:"), "{answer}");
    assert_eq!(reach("new"), "HTTP/1.1 200 OK");
    write(&["hold", "old", "new"]);
    let answer = post("/-/reload");
    assert!(answer.ends_with("\n200"), "{answer}");
    assert_eq!(reach("old"), "HTTP/1.1 200 OK");
    let metrics = Command::new(CURL.path())
        .args(["-s", "--max-time", "10"])
        .arg(format!("http://{admin}/metrics"))
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics.stdout).into_owned();
    assert!(
        metrics.contains("egress_proxy_reloads_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("egress_proxy_reloads_total{result=\"failed\"} 1"),
        "{metrics}"
    );

    // SIGTERM: no new connections; the open tunnel runs until it ends.
    signal(&proxy, "TERM");
    stderr_holds(d, "reload", "draining");
    assert!(TcpStream::connect(("127.0.0.1", proxy.port)).is_err());
    echoes(&mut held, "while draining");
    assert!(proxy.child.try_wait().unwrap().is_none(), "still running");
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = proxy.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the proxy did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let err = stderr_holds(d, "reload", "egress proxy: drained");
    assert!(err.contains("egress proxy: stopped"), "{err}");
}

/// Names resolved through `--dns-server` (a DNS server of the test's):
/// a name that resolves to loopback or a private address is denied
/// without `--allow-net`; an intranet row of the plan may reach them; a
/// resolver that answers differently the second time gets nowhere (the
/// address checked is the one connected, and DNS is asked once);
/// denials in JSON; Python `requests` as a client.
#[test]
fn dns_rebinding_intranet_json_and_python_requests() {
    use egress_test_support::dns::{DnsServer, RecordType, Reply};
    if !needs(&[PYTHON_REQUESTS, CURL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls) = https_origin(&["sup.egress.test", "loop.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let good = egress_test_support::origin::files_origin(
        "127.0.0.1:0",
        &[("/", "text/plain", "the checked address")],
    );
    // The same port on 127.0.0.2: what a second resolution would reach.
    egress_test_support::origin::files_origin(
        &format!("127.0.0.2:{good}"),
        &[("/", "text/plain", "SECRET")],
    );
    let dns = DnsServer::start(|name, kind, n| {
        let ip = match (name, kind) {
            (_, RecordType::AAAA) => return Reply::Addresses(Vec::new()),
            ("rebind.egress.test", _) if n == 0 => "127.0.0.1",
            ("rebind.egress.test", _) => "127.0.0.2",
            ("private.egress.test", _) => "10.0.0.1",
            _ => "127.0.0.1",
        };
        Reply::Addresses(vec![ip.parse().unwrap()])
    });
    let text = egress_test_support::catalog_head("dns")
        + &format!(
            r#"
[[feature]]
id = "f"
title = "F"
page = "p"
section = "S"

[[endpoint]]
id = "loop"
url = "https://loop.egress.test:{tls}/"
features = ["f"]

[[endpoint]]
id = "private"
url = "https://private.egress.test:{tls}/"
features = ["f"]

[[endpoint]]
id = "sup"
url = "https://sup.egress.test:{tls}/"
direction = "intranet"
features = ["f"]

[[endpoint]]
id = "rebind"
url = "http://rebind.egress.test:{good}/"
features = ["f"]
"#
        );
    std::fs::write(d.join("catalog.toml"), text).unwrap();
    let catalog = d.join("catalog.toml");
    let server = dns.address.to_string();
    let strict = Proxy::start(
        d,
        "strict",
        &args(&catalog, &["--mode", "enforce", "--dns-server", &server]),
    );

    // Loopback and private answers: denied, with the address's class.
    let answer = strict.raw(&format!(
        "CONNECT loop.egress.test:{tls} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["decision"], "deny");
    assert_eq!(body["host"], "loop.egress.test");
    assert_eq!(body["port"], tls);
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1 is loopback"),
        "{body}"
    );
    let answer = strict.raw(&format!(
        "CONNECT private.egress.test:{tls} HTTP/1.1\r\nHost: x\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("10.0.0.1"), "{answer}");
    // A plan denial in JSON: the near miss too.
    let answer = strict.raw(&format!(
        "CONNECT loop.egress.test:{} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n",
        tls + 1
    ));
    let body: serde_json::Value =
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["roles"][0], "all", "{body}");
    assert!(
        body["near_miss"]
            .as_str()
            .is_some_and(|n| n.contains("port")),
        "{body}"
    );

    // An intranet row's host may resolve to any address; Python requests
    // reaches it through the proxy.
    let script = r#"
import sys, requests
proxy = sys.argv[1]
r = requests.get(sys.argv[2], proxies={"https": proxy, "http": proxy}, verify=sys.argv[3], timeout=10)
print(r.status_code, r.text)
try:
    requests.get(sys.argv[4], proxies={"https": proxy}, verify=sys.argv[3], timeout=10)
    print("reached")
except requests.exceptions.ProxyError as e:
    print("refused", "403" in str(e))
"#;
    let out = Command::new(PYTHON_REQUESTS.path())
        .args(["-c", script])
        .arg(format!("http://127.0.0.1:{}", strict.port))
        .arg(format!("https://sup.egress.test:{tls}/"))
        .arg(d.join("ca.pem"))
        .arg(format!("https://loop.egress.test:{tls}/"))
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said,
        "200 ok\nrefused True\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = strict.line(|l| l["host"] == "sup.egress.test");
    assert_eq!(line["upstream"], format!("127.0.0.1:{tls}"));

    // Rebinding: the first answer is allowed (--allow-net 127.0.0.1/32),
    // the second is not. The request reaches the checked address, and
    // DNS is asked once.
    let rebind = Proxy::start(
        d,
        "rebind",
        &args(
            &catalog,
            &[
                "--mode",
                "enforce",
                "--dns-server",
                &server,
                "--allow-net",
                "127.0.0.1/32",
            ],
        ),
    );
    let url = format!("http://rebind.egress.test:{good}/");
    let (code, _, body) = rebind.curl(&d.join("ca.pem"), &url, &[]);
    assert_eq!((code, body.as_str()), (200, "the checked address"));
    assert_eq!(dns.queries("rebind.egress.test", RecordType::A), 1);
    // The next request resolves again, and the new answer is judged.
    let (code, _, body) = rebind.curl(&d.join("ca.pem"), &url, &[]);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("127.0.0.2"), "{body}");
    assert!(!body.contains("SECRET"));
}

/// Clients authenticate with Basic against the profile's
/// `[[proxy_client]]` argon2 hashes (made by the Debian `argon2` tool):
/// none or a wrong password gets 407 with `Proxy-Authenticate`; the
/// right one passes, and the user is logged; the password shows nowhere;
/// a hash that is not one is a located error.
#[test]
fn clients_authenticate_with_basic() {
    if !needs(&[ARGON2, CURL]) {
        return;
    }
    const MARKER: &str = "Marker-Pa55-egress!";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls) = https_origin(&["allowed.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let catalog = catalog(d, tls, 8080);
    let mut argon2 = Command::new(ARGON2.path())
        .args(["egress-test-salt", "-id", "-e"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    argon2
        .stdin
        .take()
        .unwrap()
        .write_all(MARKER.as_bytes())
        .unwrap();
    let hash = String::from_utf8(argon2.wait_with_output().unwrap().stdout).unwrap();
    let profile = d.join("profile.toml");
    std::fs::write(
        &profile,
        format!(
            "[[proxy_client]]\nuser = \"sccm-site\"\npassword_hash = \"{}\"\n",
            hash.trim()
        ),
    )
    .unwrap();
    let access = d.join("access.log");
    let proxy = Proxy::start(
        d,
        "clients",
        &args(
            &catalog,
            &[
                "--profile",
                &profile.display().to_string(),
                "--allow-net",
                "127.0.0.0/8",
                "--resolve",
                &format!("allowed.egress.test:{tls}:127.0.0.1"),
                "--access-log",
                &access.display().to_string(),
            ],
        ),
    );
    let url = format!("https://allowed.egress.test:{tls}/");
    let ca = d.join("ca.pem");
    let answer = proxy.raw(&format!(
        "CONNECT allowed.egress.test:{tls} HTTP/1.1\r\nHost: x\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 407"), "{answer}");
    assert!(
        answer.contains("proxy-authenticate: Basic realm=\"egress proxy\""),
        "{answer}"
    );
    let wrong = format!("sccm-site:{MARKER}x");
    assert_eq!(proxy.curl(&ca, &url, &["--proxy-user", &wrong]).1, 407);
    let right = format!("sccm-site:{MARKER}");
    for _ in 0..2 {
        let (code, connect, body) = proxy.curl(&ca, &url, &["--proxy-user", &right]);
        assert_eq!((code, connect, body.as_str()), (200, 200, "ok"));
    }
    let line = proxy.line(|l| l["decision"] == "allow");
    assert_eq!(line["user"], "sccm-site");
    let refused = proxy.line(|l| l["decision"] == "deny");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("requires authentication"),
        "{refused}"
    );
    // The decision log says the status the client got: a challenge is
    // not a 403.
    assert_eq!(refused["status"], 407, "{refused}");
    assert_eq!(line["status"], 200, "{line}");
    let squid_log = std::fs::read_to_string(&access).unwrap();
    assert!(squid_log.contains(" TCP_DENIED/407 "), "{squid_log}");
    assert!(squid_log.contains(" sccm-site HIER_DIRECT/"), "{squid_log}");
    drop(proxy);
    // `audit log` reads the proxy's own logs: the 407s are challenges
    // the later tunnels answer, not denials.
    for (file, input) in [("clients.jsonl", "egress"), ("access.log", "squid")] {
        let out = Command::new(env!("CARGO_BIN_EXE_egress"))
            .args([
                "audit",
                "log",
                "--input",
                input,
                "--format",
                "json",
                "--catalog",
            ])
            .arg(&catalog)
            .arg(d.join(file))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{file}: {text}");
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(report["challenged"], 2, "{file}: {text}");
        assert_eq!(report["denied"], 0, "{file}: {text}");
        assert_eq!(
            report["auth_failing"],
            serde_json::json!([]),
            "{file}: {text}"
        );
    }
    for file in ["clients.stderr", "clients.jsonl", "access.log"] {
        let text = std::fs::read_to_string(d.join(file)).unwrap();
        assert!(!text.contains(MARKER), "{file}: {text}");
    }

    // A hash that is not one: located, exit 2, the hash not shown.
    std::fs::write(
        &profile,
        "[[proxy_client]]\nuser = \"sccm site\"\npassword_hash = \"md5-0123456789\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_egress"))
        .args(["proxy", "--test-config", "--profile"])
        .arg(&profile)
        .arg("--catalog")
        .arg(&catalog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("profile.toml:3:"), "{err}");
    assert!(err.contains("not an argon2 password hash"), "{err}");
    assert!(err.contains("profile.toml:2:"), "{err}");
    assert!(!err.contains("0123456789"), "{err}");
}

/// 5,000 idle tunnels, with the clients, the proxy and the origin each in
/// a process of its own under a 20,000 open-file limit: all are held
/// (the proxy's metrics count them), and the proxy's memory is recorded.
#[test]
fn five_thousand_idle_tunnels_in_separate_processes() {
    if !needs(&[PYTHON3, CURL]) {
        return;
    }
    const TUNNELS: usize = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_origin, port) = egress_test_support::tunnels::origin();
    let text = egress_test_support::catalog_head("many")
        + &format!(
            "[[feature]]\nid = \"f\"\ntitle = \"F\"\npage = \"p\"\nsection = \"S\"\n\n[[endpoint]]\nid = \"channel\"\nurl = \"https://channel.egress.test:{port}/\"\nfeatures = [\"f\"]\n"
        );
    std::fs::write(d.join("catalog.toml"), text).unwrap();
    let admin = format!("127.0.0.1:{}", free_port());
    let proxy = Proxy::start(
        d,
        "many",
        &args(
            &d.join("catalog.toml"),
            &[
                "--mode",
                "enforce",
                "--allow-net",
                "127.0.0.0/8",
                "--resolve",
                &format!("channel.egress.test:{port}:127.0.0.1"),
                "--max-tunnels-per-source",
                "10000",
                "--admin-listen",
                &admin,
            ],
        ),
    );
    let limit = std::fs::read_to_string(format!("/proc/{}/limits", proxy.child.id())).unwrap();
    let open_files = limit
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .nth(3)
        .unwrap()
        .parse::<usize>()
        .unwrap();
    assert!(
        open_files >= 2 * TUNNELS + 100,
        "the proxy may open {open_files} files: 5,000 tunnels need 10,000 (ulimit -n 20000)"
    );
    let clients = egress_test_support::tunnels::clients(
        proxy.port,
        &format!("channel.egress.test:{port}"),
        TUNNELS,
    );
    let metrics = || {
        let out = Command::new(CURL.path())
            .args(["-s", "--max-time", "10"])
            .arg(format!("http://{admin}/metrics"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        metrics().contains(&format!("egress_proxy_open_tunnels {TUNNELS}\n")),
        "{}",
        metrics()
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", proxy.child.id())).unwrap();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    eprintln!("egress proxy (debug build) holding {TUNNELS} idle tunnels: {rss}");
    // The clients close: every tunnel ends, and is logged.
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !metrics().contains("egress_proxy_open_tunnels 0\n") {
        assert!(Instant::now() < deadline, "{}", metrics());
        std::thread::sleep(Duration::from_millis(100));
    }
    let closed = proxy
        .log()
        .iter()
        .filter(|l| l["method"] == "CONNECT")
        .count();
    assert_eq!(closed, TUNNELS);
}
