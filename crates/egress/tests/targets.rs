//! Rendered allowlists driven through the real tools, on loopback only:
//! Squid (Debian's `squid`) with curl through it to local origin servers,
//! and a real PAC evaluator (`pactester`, Debian's `libpacparser1`).
//!
//! Each Squid gets its own folder, port, pid file and logs, so tests run in
//! parallel.

use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use egress_test_support::origin::{http_origin, https_origin};
use egress_test_support::squid::{self, Squid};
use egress_test_support::tools::{CURL, PACTESTER, SQUID, needs};

/// A local origin's ports: plain HTTP, and TLS for the HTTPS endpoints.
/// Squid decides CONNECT before any TLS; a TLS origin lets curl finish at
/// once after an allowed CONNECT (a plain one would hold curl's hello
/// until its read timeout).
struct Origin {
    http: u16,
    https: u16,
}

fn origin() -> Origin {
    Origin {
        http: http_origin(),
        https: https_origin(NAMES).1,
    }
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

/// Renders the test catalog for Squid in `style` and starts a Squid with
/// it, denying everything else.
fn squid(style: &str) -> (Squid, Origin) {
    let o = origin();
    let dir = squid::folder();
    let catalog = catalog(dir.path(), &o);
    let include = dir.path().join("egress.conf");
    render("squid", &catalog, &["--squid-style", style], &include);
    let rules = format!("include {}\nhttp_access deny all\n", include.display());
    (Squid::start(dir, NAMES, &rules), o)
}

/// What curl gets through the proxy: the origin's 200, or Squid's denial.
fn through(squid: &Squid, url: &str) -> &'static str {
    through_from(squid, "127.0.0.1", url)
}

/// [`through`], from a source address of the loopback range.
fn through_from(squid: &Squid, source: &str, url: &str) -> &'static str {
    let out = Command::new(CURL.path())
        .args(["--interface", source])
        .args([
            "-s",
            "-k",
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
        // CONNECT: the tunnel is what the proxy decides (the origin's
        // certificate does not matter here, hence `-k`).
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
    if !needs(&[SQUID, CURL]) {
        return;
    }
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
    if !needs(&[SQUID, CURL]) {
        return;
    }
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
    if !needs(&[PACTESTER]) {
        return;
    }
    let pactester = PACTESTER.path();
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
            "--pac-proxy",
            "PROXY proxy2.egress.test:3128",
            "--pac-default",
            "DIRECT",
        ],
        &pac,
    );
    // Two proxies: a failover list, in the order given.
    let allow = "PROXY proxy.egress.test:3128; PROXY proxy2.egress.test:3128";
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

/// A profile with two roles on two servers. The SCP needs
/// `download.egress.test` over HTTPS for one feature, the SUP the same host
/// over plain HTTP for another; `shared.egress.test` both need over HTTPS.
/// A real Squid running the rendered file, driven by curl from each
/// server's address, gives each role exactly its own requirements.
#[test]
fn squid_gives_each_role_only_its_own_requirements() {
    if !needs(&[SQUID, CURL]) {
        return;
    }
    let o = origin();
    let (h, s) = (o.http, o.https);
    let dir = squid::folder();
    let d = dir.path();
    std::fs::write(
        d.join("catalog.toml"),
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
id = "servicing"
title = "Updates and servicing"
page = "p"
section = "Servicing"

[[feature]]
id = "updates"
title = "Software updates"
page = "p"
section = "Updates"

[[endpoint]]
id = "servicing-download"
url = "https://download.egress.test:{s}"
features = ["servicing"]
roles = ["scp"]

[[endpoint]]
id = "updates-download"
url = "http://download.egress.test:{h}"
features = ["updates"]
roles = ["sup"]

[[endpoint]]
id = "shared"
url = "https://shared.egress.test:{s}"
features = ["servicing", "updates"]
roles = ["scp", "sup"]
"#
            ),
    )
    .unwrap();
    std::fs::write(
        d.join("site.toml"),
        r#"catalog = "catalog.toml"
roles = ["scp", "sup"]

[[server]]
name = "scp.contoso.com"
roles = ["scp"]
addresses = ["127.0.0.2"]

# A range: the SUPs of a subnet.
[[server]]
name = "sup.contoso.com"
roles = ["sup"]
addresses = ["127.0.0.8/29"]
"#,
    )
    .unwrap();
    let include = d.join("egress.conf");
    let output = cargo_bin_cmd!("egress")
        .args(["render", "squid", "--profile"])
        .arg(d.join("site.toml"))
        .arg("-o")
        .arg(&include)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rules = format!("include {}\nhttp_access deny all\n", include.display());
    let squid = Squid::start(dir, &["download.egress.test", "shared.egress.test"], &rules);
    let download_tls = format!("https://download.egress.test:{s}/");
    let download_plain = format!("http://download.egress.test:{h}/");
    let shared = format!("https://shared.egress.test:{s}/");
    for (source, url, expected) in [
        ("127.0.0.2", &download_tls, "allow"),
        ("127.0.0.2", &download_plain, "deny"),
        ("127.0.0.2", &shared, "allow"),
        ("127.0.0.9", &download_tls, "deny"),
        ("127.0.0.9", &download_plain, "allow"),
        ("127.0.0.9", &shared, "allow"),
        // A machine that is neither server gets nothing.
        ("127.0.0.4", &download_tls, "deny"),
        ("127.0.0.4", &download_plain, "deny"),
        ("127.0.0.4", &shared, "deny"),
    ] {
        assert_eq!(
            through_from(&squid, source, url),
            expected,
            "{url} from {source}"
        );
    }
}
