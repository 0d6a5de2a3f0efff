//! Rendered allowlists driven through the real tools, on loopback only:
//! Squid (Debian's `squid`) with curl through it to local origin servers,
//! and a real PAC evaluator (`pactester`, Debian's `libpacparser1`).
//!
//! Each Squid gets its own folder, port, pid file and logs, so tests run in
//! parallel. A missing tool fails the test with the package to install.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;

fn require(tool: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{tool}` is missing: install the Debian package `{package}` (scripts/test does, as root)"
    );
}

/// A local origin: answers any HTTP request with 200, on every port given.
struct Origin {
    http: u16,
    https: u16,
}

fn origin() -> Origin {
    let serve = |listener: TcpListener| {
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || answer(stream));
            }
        });
    };
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let https = TcpListener::bind("127.0.0.1:0").unwrap();
    let ports = Origin {
        http: http.local_addr().unwrap().port(),
        https: https.local_addr().unwrap().port(),
    };
    serve(http);
    serve(https);
    ports
}

fn answer(mut stream: TcpStream) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A catalog whose endpoints live on the origin's ports.
fn catalog(dir: &Path, o: &Origin) -> PathBuf {
    let (h, s) = (o.http, o.https);
    let text = format!(
        r#"[catalog]
id = "targets-test"
title = "Targets test"
vendor = "egress"
product = "tests"
revision = "1"
describes = 2026-01-01

[[page]]
id = "p"
title = "Test page"
language = "en-US"

[[feature]]
id = "f"
title = "Feature"
page = "p"
section = "Section"

[[endpoint]]
id = "exact"
url = "https://exact.egress.test:{s}"
features = ["f"]

[[endpoint]]
id = "exact-http"
url = "http://exact.egress.test:{h}"
features = ["f"]

[[endpoint]]
id = "wild"
url = "https://*.wild.egress.test:{s}"
features = ["f"]

# Covered by `*.wild.egress.test`: in loose style `.wild.egress.test` covers
# it, and Squid would warn about both in one dstdomain list.
[[endpoint]]
id = "covered"
url = "https://sub.wild.egress.test:{s}"
features = ["f"]

[[endpoint]]
id = "in-label"
url = "https://*-lab.part.egress.test:{s}"
features = ["f"]

[[endpoint]]
id = "http-only"
url = "http://plain.egress.test:{h}"
features = ["f"]

[[endpoint]]
id = "http-path"
url = "http://path.egress.test:{h}/allowed"
features = ["f"]
"#
    );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every name the tests use, for Squid's hosts file.
const NAMES: &[&str] = &[
    "exact.egress.test",
    "a.wild.egress.test",
    "a.b.wild.egress.test",
    "sub.wild.egress.test",
    "wild.egress.test",
    "evilwild.egress.test",
    "x-lab.part.egress.test",
    "a.x-lab.part.egress.test",
    "lab.part.egress.test",
    "plain.egress.test",
    "path.egress.test",
    "evilexact.egress.test",
    "exact.egress.test.evil.test",
];

fn render(target: &str, catalog: &Path, extra: &[&str], out: &Path) {
    let mut args = vec![
        "render",
        target,
        "--catalog",
        catalog.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = cargo_bin_cmd!("egress").args(&args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

struct Squid {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a squid.conf around the rendered include, checks it with
/// `squid -k parse` (no WARNING or ERROR), and starts Squid on loopback.
fn squid(style: &str) -> (Squid, Origin) {
    let squid = require("squid", "squid");
    require("curl", "curl");
    let o = origin();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Squid drops root for the `proxy` user, which must write here.
    std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let catalog = catalog(d, &o);
    let include = d.join("egress.conf");
    render("squid", &catalog, &["--squid-style", style], &include);
    let hosts: String = NAMES.iter().map(|n| format!("127.0.0.1 {n}\n")).collect();
    std::fs::write(d.join("hosts"), hosts).unwrap();
    let port = free_port();
    let conf = format!(
        "http_port 127.0.0.1:{port}\n\
         pid_filename {d}/squid.pid\n\
         access_log stdio:{d}/access.log\n\
         cache_log {d}/cache.log\n\
         cache_store_log none\n\
         cache deny all\n\
         cache_mem 8 MB\n\
         coredump_dir {d}\n\
         hosts_file {d}/hosts\n\
         dns_nameservers 127.0.0.1\n\
         pinger_enable off\n\
         netdb_filename none\n\
         shutdown_lifetime 0 seconds\n\
         visible_hostname egress-test\n\
         include {include}\n\
         http_access deny all\n",
        d = d.display(),
        include = include.display(),
    );
    let conf_path = d.join("squid.conf");
    std::fs::write(&conf_path, conf).unwrap();

    let parse = Command::new(&squid)
        .args(["-k", "parse", "-f"])
        .arg(&conf_path)
        .output()
        .unwrap();
    let messages = String::from_utf8_lossy(&parse.stderr).into_owned()
        + &String::from_utf8_lossy(&parse.stdout);
    assert!(parse.status.success(), "squid -k parse failed:\n{messages}");
    let bad: Vec<&str> = messages
        .lines()
        .filter(|l| l.contains("WARNING") || l.contains("ERROR"))
        .collect();
    assert!(
        bad.is_empty(),
        "squid -k parse complains:\n{}",
        bad.join("\n")
    );

    let child = Command::new(&squid)
        .args(["-N", "-f"])
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "squid did not start: {}",
            std::fs::read_to_string(d.join("cache.log")).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(50));
    }
    (Squid { child, port, dir }, o)
}

/// What curl gets through the proxy: the origin's 200, or Squid's denial.
fn through(squid: &Squid, url: &str) -> &'static str {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "10",
            "-w",
            "%{http_code} %{http_connect}",
            "-x",
        ])
        .arg(format!("http://127.0.0.1:{}", squid.port))
        .arg(url)
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&out.stdout).into_owned();
    let (http, connect) = codes.split_once(' ').unwrap_or((&codes, ""));
    match (url.starts_with("https"), http, connect) {
        // CONNECT: the tunnel is what the proxy decides (TLS then fails
        // against the plain origin, which does not matter here).
        (true, _, "200") => "allow",
        (true, _, "403") => "deny",
        (false, "200", _) => "allow",
        (false, "403", _) => "deny",
        _ => panic!(
            "unexpected curl result for {url}: `{codes}` (exit {:?})",
            out.status.code()
        ),
    }
}

#[track_caller]
fn check(squid: &Squid, url: &str, expected: &str) {
    assert_eq!(through(squid, url), expected, "{url}");
}

#[test]
fn squid_exact_style_admits_exactly_the_plan() {
    let (s, o) = squid("exact");
    let (h, p) = (o.http, o.https);
    // CONNECT only to the hosts and ports the plan names for https.
    check(&s, &format!("https://exact.egress.test:{p}/"), "allow");
    check(&s, &format!("https://exact.egress.test:{h}/"), "deny");
    check(&s, &format!("https://a.wild.egress.test:{p}/"), "allow");
    check(&s, &format!("https://a.b.wild.egress.test:{p}/"), "allow");
    check(&s, &format!("https://wild.egress.test:{p}/"), "deny");
    check(&s, &format!("https://evilwild.egress.test:{p}/"), "deny");
    check(&s, &format!("https://x-lab.part.egress.test:{p}/"), "allow");
    check(
        &s,
        &format!("https://a.x-lab.part.egress.test:{p}/"),
        "deny",
    );
    check(&s, &format!("https://lab.part.egress.test:{p}/"), "deny");
    check(&s, &format!("https://evilexact.egress.test:{p}/"), "deny");
    check(
        &s,
        &format!("https://exact.egress.test.evil.test:{p}/"),
        "deny",
    );
    // Plain HTTP only to what the plan names for http.
    check(&s, &format!("http://exact.egress.test:{h}/"), "allow");
    check(&s, &format!("http://exact.egress.test:{p}/"), "deny");
    check(&s, &format!("http://a.wild.egress.test:{h}/"), "deny");
    check(&s, &format!("http://plain.egress.test:{h}/x"), "allow");
    // A host the plan allows only over http is not reachable by CONNECT.
    check(&s, &format!("https://plain.egress.test:{h}/"), "deny");
    check(&s, &format!("https://plain.egress.test:{p}/"), "deny");
    // A path: it and what is below it, nothing else.
    check(&s, &format!("http://path.egress.test:{h}/allowed"), "allow");
    check(
        &s,
        &format!("http://path.egress.test:{h}/allowed/more"),
        "allow",
    );
    check(&s, &format!("http://path.egress.test:{h}/other"), "deny");
    drop(s.dir.path().to_owned());
}

#[test]
fn squid_loose_style_admits_the_apex_as_reported() {
    let (s, o) = squid("loose");
    let p = o.https;
    check(&s, &format!("https://a.wild.egress.test:{p}/"), "allow");
    // The reported loss: `.wild.egress.test` admits the apex.
    check(&s, &format!("https://wild.egress.test:{p}/"), "allow");
    check(&s, &format!("https://evilwild.egress.test:{p}/"), "deny");
    check(&s, &format!("https://sub.wild.egress.test:{p}/"), "allow");
    check(&s, &format!("https://exact.egress.test:{p}/"), "allow");
    check(
        &s,
        &format!("https://exact.egress.test.evil.test:{p}/"),
        "deny",
    );
}

#[test]
fn pac_file_routes_exactly_the_plan() {
    let pactester = require("pactester", "libpacparser1");
    let o = origin();
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog(dir.path(), &o);
    let pac = dir.path().join("egress.pac");
    render(
        "pac",
        &catalog,
        &[
            "--pac-proxy",
            "proxy.egress.test:3128",
            "--pac-default",
            "DIRECT",
        ],
        &pac,
    );
    let allow = "PROXY proxy.egress.test:3128";
    for (host, expected) in [
        ("exact.egress.test", allow),
        ("EXACT.egress.test", allow),
        ("exact.egress.test.", allow),
        ("a.wild.egress.test", allow),
        ("a.b.wild.egress.test", allow),
        ("wild.egress.test", "DIRECT"),
        ("evilwild.egress.test", "DIRECT"),
        ("x-lab.part.egress.test", allow),
        // A partial-label wildcard never matches across a dot.
        ("a.x-lab.part.egress.test", "DIRECT"),
        ("a.b-lab.part.egress.test", "DIRECT"),
        ("-lab.part.egress.test", "DIRECT"),
        ("plain.egress.test", allow),
        ("evilexact.egress.test", "DIRECT"),
        ("exact.egress.test.evil.test", "DIRECT"),
    ] {
        let out = Command::new(&pactester)
            .arg("-p")
            .arg(&pac)
            .args(["-u", &format!("https://{host}/"), "-h", host])
            .output()
            .unwrap();
        let route = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success(),
            "pactester: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(route, expected, "{host}");
    }
}
