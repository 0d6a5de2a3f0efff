//! `egress catalog fetch`: the Microsoft 365 web service and a docs page's
//! Markdown fetched from loopback HTTPS origins serving fixture files,
//! through a real proxy with authentication; the version skip; and every
//! failure leaving the previous file untouched.

use std::path::Path;
use std::process::{Command, Output};

use egress_test_support::origin::https_files_origin;
use egress_test_support::proxies::tinyproxy;
use egress_test_support::tools::{TINYPROXY, needs};

/// A password that must never show.
const MARKER: &str = "Fetch-Marker-Pw-6271";

fn egress(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_egress"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const FIXTURE: &str = "tests/fixtures/m365-worldwide.json";

fn fixture() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap()
}

fn version(v: &str) -> String {
    format!("{{\"instance\": \"Worldwide\", \"latest\": \"{v}\"}}")
}

/// `catalog fetch SOURCE -o out` with the origin's CA and `extra`.
fn fetch(source: &str, out: &Path, ca: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "catalog",
        "fetch",
        source,
        "-o",
        out.to_str().unwrap(),
        "--ca-file",
        ca.to_str().unwrap(),
        "--roots-only",
        "--timeout",
        "5s",
    ];
    args.extend(extra);
    egress(&args)
}

#[test]
fn the_web_service_through_an_authenticating_proxy() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let json = fixture();
    let v1 = version("2026113000");
    let (ca, port, seen) = https_files_origin(
        &["localhost"],
        &[
            ("/version/Worldwide", "application/json", &v1),
            ("/endpoints/Worldwide", "application/json", &json),
        ],
    );
    let proxy = tinyproxy(&format!("BasicAuth alice {MARKER}\n"), None);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let out = dir.path().join("m365.toml");
    let service = format!("https://localhost:{port}");
    let proxy_url = format!("http://alice:{MARKER}@127.0.0.1:{}", proxy.port);
    let args = ["--service-url", &service, "--proxy", &proxy_url];

    let first = fetch("m365:worldwide", &out, &ca_file, &args);
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert_eq!(first.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("m365.toml: new, "), "{stdout}");
    assert!(stderr.contains("(m365@2026113000)"), "{stderr}");
    // The importer's remarks name the web service's URL, without the id.
    assert!(
        stderr.contains(&format!(
            "{service}/endpoints/Worldwide:14: not understood: `tcp 25`"
        )),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("describes = 2026-11-30"), "{written}");
    let valid = egress(&["catalog", "validate", out.to_str().unwrap()]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stderr));
    // One client id, a version 4 GUID, on both requests.
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let id = requests[0]
        .strip_prefix("/version/Worldwide?clientrequestid=")
        .unwrap_or_else(|| panic!("{requests:?}"));
    assert_eq!(
        requests[1],
        format!("/endpoints/Worldwide?clientrequestid={id}")
    );
    let parts: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
    assert_eq!(&id[14..15], "4", "{id}");
    // Through the proxy, which saw the tunnels.
    let log = std::fs::read_to_string(proxy.dir.path().join("tinyproxy.log")).unwrap();
    assert!(
        log.matches(&format!("CONNECT localhost:{port}")).count() >= 2,
        "{log}"
    );
    assert!(!stdout.contains(MARKER) && !stderr.contains(MARKER));

    // A wrong password: the proxy's refusal, named by phase; the password
    // shows nowhere.
    let wrong = format!("http://alice:{MARKER}x@127.0.0.1:{}", proxy.port);
    let refused = fetch(
        "m365:worldwide",
        &out,
        &ca_file,
        &["--service-url", &service, "--proxy", &wrong],
    );
    let (stdout, stderr) = (text(&refused.stdout), text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot fetch {service}/version/Worldwide: proxy-auth: "
        )),
        "{stderr}"
    );
    assert!(
        !stdout.contains(MARKER) && !stderr.contains(MARKER),
        "{stderr}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);

    // The same version again: only `/version` is asked, nothing written.
    let before = std::fs::metadata(&out).unwrap().modified().unwrap();
    let again = fetch("m365:worldwide", &out, &ca_file, &args);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("holds version 2026113000 of Worldwide, the latest: nothing fetched"),
        "{stderr}"
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), before);

    // Another selection of service areas is not the same file.
    let mem = fetch(
        "m365:worldwide",
        &out,
        &ca_file,
        &[&args[..], &["--service-area", "MEM"]].concat(),
    );
    assert_eq!(mem.status.code(), Some(0), "{}", text(&mem.stderr));
    let stdout = text(&mem.stdout);
    assert!(stdout.contains("feature removed: exchange"), "{stdout}");
    assert_eq!(seen.lock().unwrap().len(), 5);

    // A newer version with a record gone: the change is shown, the file
    // rewritten.
    let v2 = version("2026120100");
    let fewer = json.replacen(
        "\"manage.microsoft.com\"",
        "\"enrollment.manage.microsoft.com\"",
        1,
    );
    assert_ne!(fewer, json, "the fixture lists manage.microsoft.com");
    let (ca2, port2, _) = https_files_origin(
        &["localhost"],
        &[
            ("/version/Worldwide", "application/json", &v2),
            ("/endpoints/Worldwide", "application/json", &fewer),
        ],
    );
    std::fs::write(&ca_file, &ca2.pem).unwrap();
    let service2 = format!("https://localhost:{port2}");
    let newer = fetch(
        "m365:worldwide",
        &out,
        &ca_file,
        &[
            "--service-url",
            &service2,
            "--proxy",
            &proxy_url,
            "--service-area",
            "mem",
        ],
    );
    let stdout = text(&newer.stdout);
    assert_eq!(newer.status.code(), Some(0), "{}", text(&newer.stderr));
    assert!(stdout.contains("manage.microsoft.com"), "{stdout}");
    assert!(stdout.contains("2026120100"), "{stdout}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("revision = \"2026120100\""), "{written}");

    // The file holds only MEM: asking for every area is not the same file,
    // so the same version is fetched again.
    let all = fetch(
        "m365:worldwide",
        &out,
        &ca_file,
        &["--service-url", &service2, "--proxy", &proxy_url],
    );
    let stderr = text(&all.stderr);
    assert_eq!(all.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("nothing fetched"), "{stderr}");
    assert!(
        text(&all.stdout).contains("feature added: exchange"),
        "{}",
        text(&all.stdout)
    );
}

#[test]
fn a_failed_fetch_leaves_the_file_untouched() {
    let json = fixture();
    let v1 = version("2026113000");
    let (ca, port, _) = https_files_origin(
        &["localhost"],
        &[
            ("/version/Worldwide", "application/json", &v1),
            (
                "/endpoints/Worldwide",
                "application/json",
                "{\"error\": \"busy\"}",
            ),
            (
                "/html/page.md",
                "text/html; charset=utf-8",
                "<!DOCTYPE html><html></html>",
            ),
            (
                "/disguised/page.md",
                "text/plain",
                "\n<html><body>docs</body></html>",
            ),
            ("/json/version/Worldwide", "application/json", "[1, 2]"),
            ("/json/endpoints/Worldwide", "application/json", &json),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let other_ca = dir.path().join("other.pem");
    std::fs::write(&other_ca, egress_test_support::tls::Ca::new("Other CA").pem).unwrap();
    let out = dir.path().join("m365.toml");
    std::fs::write(&out, "previous\n").unwrap();
    let service = format!("https://localhost:{port}");
    let dead = egress_test_support::tools::free_port();
    // A DNS server that knows no name, answering at once.
    let no_names = egress_test_support::dns::DnsServer::start(|_, _, _| {
        egress_test_support::dns::Reply::NoSuchName
    });
    let html = format!("{service}/html/page.md");
    let disguised = format!("{service}/disguised/page.md");
    let cases: Vec<(&str, Vec<String>, &Path, String)> = vec![
        (
            "m365:worldwide",
            vec!["--service-url".into(), format!("{service}/missing")],
            &ca_file,
            format!(
                "cannot fetch {service}/missing/version/Worldwide: HTTP: the server answered 404"
            ),
        ),
        (
            "m365:worldwide",
            vec!["--service-url".into(), service.clone()],
            &other_ca,
            format!("cannot fetch {service}/version/Worldwide: TLS: "),
        ),
        (
            "m365:worldwide",
            vec![
                "--service-url".into(),
                "https://endpoints.example.test".into(),
                "--dns-server".into(),
                no_names.address.to_string(),
            ],
            &ca_file,
            "cannot fetch https://endpoints.example.test/version/Worldwide: DNS: ".to_owned(),
        ),
        (
            "m365:worldwide",
            vec![
                "--service-url".into(),
                format!("https://mirror:{MARKER}@localhost:{dead}"),
            ],
            &ca_file,
            format!("cannot fetch https://***@localhost:{dead}/version/Worldwide: TCP: "),
        ),
        (
            "m365:worldwide",
            vec!["--service-url".into(), format!("https://localhost:{dead}")],
            &ca_file,
            format!("cannot fetch https://localhost:{dead}/version/Worldwide: TCP: "),
        ),
        (
            "m365:worldwide",
            vec![
                "--service-url".into(),
                service.clone(),
                "--proxy".into(),
                format!("http://127.0.0.1:{dead}"),
            ],
            &ca_file,
            format!("cannot fetch {service}/version/Worldwide: TCP: "),
        ),
        (
            "m365:worldwide",
            vec!["--service-url".into(), service.clone()],
            &ca_file,
            "not the Microsoft 365 web service's `/endpoints` answer".to_owned(),
        ),
        (
            "m365:worldwide",
            vec!["--service-url".into(), format!("{service}/json")],
            &ca_file,
            format!("{service}/json/version/Worldwide: not the web service's version answer"),
        ),
        (
            &html,
            vec![],
            &ca_file,
            "/html/page.md is an HTML page, not Markdown".to_owned(),
        ),
        (
            &disguised,
            vec![],
            &ca_file,
            "/disguised/page.md is an HTML page, not Markdown".to_owned(),
        ),
        (
            "m365:germany",
            vec![],
            &ca_file,
            "no such instance of the Microsoft 365 web service".to_owned(),
        ),
        (
            "ftp://x/y.md",
            vec![],
            &ca_file,
            "is not a source to fetch".to_owned(),
        ),
    ];
    for (source, extra, ca, expected) in &cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let run = fetch(source, &out, ca, &extra);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{source} {extra:?}: {stderr}");
        assert!(
            stderr.contains(expected.as_str()),
            "{source} {extra:?}: {expected}\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains(MARKER), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "previous\n",
            "{source}"
        );
    }
    // Only the file remains: no temporary file left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

/// The docs page's Markdown and its includes, served as GitHub serves raw
/// files, imported and compared with the embedded catalog.
#[test]
fn a_docs_page_with_its_includes() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let Some(reference) = egress_test_support::reference::pages() else {
        return;
    };
    let current = reference.join("current");
    let page = std::fs::read_to_string(current.join("internet-endpoints.md")).unwrap();
    let mut files = vec![(
        "/docs/core/plan-design/network/internet-endpoints.md".to_owned(),
        page,
    )];
    for entry in std::fs::read_dir(current.join("includes")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((
            format!("/docs/core/plan-design/network/includes/{name}"),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    let served: Vec<(&str, &str, &str)> = files
        .iter()
        .map(|(p, b)| (p.as_str(), "text/plain; charset=utf-8", b.as_str()))
        .collect();
    let (ca, port, seen) = https_files_origin(&["localhost"], &served);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let out = dir.path().join("configmgr.toml");
    let url =
        format!("https://localhost:{port}/docs/core/plan-design/network/internet-endpoints.md");
    let run = fetch(&url, &out, &ca_file, &[]);
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stdout}{stderr}");
    // Every include was fetched, relative to the page.
    assert_eq!(
        seen.lock().unwrap().len(),
        files.len(),
        "{:?}",
        seen.lock().unwrap()
    );
    // Compared with the embedded catalog it was made from.
    assert!(stdout.starts_with("configmgr@latest"), "{stdout}");
    let valid = egress(&["catalog", "validate", out.to_str().unwrap()]);
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stderr));
    assert!(
        text(&valid.stdout).contains("catalog configmgr revision "),
        "{}",
        text(&valid.stdout)
    );

    // Plain HTTP through a proxy (absolute-form requests), the URL with
    // user information: the proxy sees the page and its includes, never
    // the password.
    let plain = egress_test_support::origin::files_origin("127.0.0.1:0", &served);
    let proxy = tinyproxy("", None);
    let url = format!(
        "http://reader:{MARKER}@127.0.0.1:{plain}/docs/core/plan-design/network/internet-endpoints.md"
    );
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let run = fetch(&url, &out, &ca_file, &["--proxy", &proxy_url]);
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("(before) -> "), "{stdout}");
    let log = std::fs::read_to_string(proxy.dir.path().join("tinyproxy.log")).unwrap();
    assert!(
        log.contains(&format!(
            "GET http://127.0.0.1:{plain}/docs/core/plan-design/network/includes/"
        )),
        "{log}"
    );
    for shown in [&stdout, &stderr, &log] {
        assert!(!shown.contains(MARKER), "{shown}");
    }

    // An include that is missing: the include's URL and status, exit 2.
    let (ca, port, _) = https_files_origin(&["localhost"], &served[..1]);
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let before = std::fs::read_to_string(&out).unwrap();
    let url =
        format!("https://localhost:{port}/docs/core/plan-design/network/internet-endpoints.md");
    let run = fetch(&url, &out, &ca_file, &[]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot fetch https://localhost:{port}/docs/core/plan-design/network/includes/internet-endpoints-service-connection-point.md: HTTP: the server answered 404"
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), before);
}
