//! `egress pac eval` against pactester, on egress's own rendered PAC file
//! (the whole catalog) and on bad files; a PAC file fetched from a URL.

use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin_cmd;
use egress_test_support::origin::files_origin;
use egress_test_support::tools::{PACTESTER, needs};

fn egress(args: &[&str]) -> Output {
    cargo_bin_cmd!("egress")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("egress runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// URLs around every host of the plan: the host itself, a name under a
/// wildcard and its apex, on each scheme, and hosts that are not in it.
fn urls(plan: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for row in plan["rows"].as_array().unwrap() {
        let host = row["host"].as_str().unwrap();
        if host.contains('<') {
            continue;
        }
        let hosts: Vec<String> = match host.strip_prefix("*.") {
            Some(apex) => vec![format!("a.{apex}"), format!("x.y.{apex}"), apex.to_owned()],
            None if host.contains('*') => vec![host.replace('*', "eu")],
            None => vec![host.to_owned(), format!("sub.{host}")],
        };
        for h in hosts {
            for scheme in ["https", "http"] {
                out.push(format!("{scheme}://{h}/"));
            }
        }
    }
    out.extend([
        "https://evil.example/".to_owned(),
        "http://10.0.0.1/".to_owned(),
    ]);
    out
}

#[test]
fn egress_pac_answers_as_pactester_for_the_whole_catalog() {
    if !needs(&[PACTESTER]) {
        return;
    }
    let pactester = PACTESTER.path();
    let dir = tempfile::tempdir().unwrap();
    let pac = dir.path().join("egress.pac");
    let out = egress(&["render", "pac", "-o", pac.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value =
        serde_json::from_slice(&egress(&["plan", "--format", "json"]).stdout).unwrap();
    let urls = urls(&plan);
    assert!(urls.len() > 200, "{}", urls.len());

    let mut args = vec![
        "pac",
        "eval",
        "--pac",
        pac.to_str().unwrap(),
        "--client-ip",
        "10.1.2.3",
    ];
    args.extend(urls.iter().map(String::as_str));
    let ours = egress(&args);
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours.stderr));

    let list = dir.path().join("urls.txt");
    std::fs::write(&list, urls.join("\n") + "\n").unwrap();
    let theirs = Command::new(pactester)
        .arg("-p")
        .arg(&pac)
        .arg("-f")
        .arg(&list)
        .args(["-c", "10.1.2.3"])
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{}", text(&theirs.stderr));
    let ours: Vec<(String, String)> = text(&ours.stdout)
        .lines()
        .map(|l| {
            let (u, r) = l.split_once('\t').unwrap();
            (u.to_owned(), r.to_owned())
        })
        .collect();
    let theirs: Vec<(String, String)> = text(&theirs.stdout)
        .lines()
        .map(|l| {
            let (u, r) = l.split_once(" : ").unwrap();
            (u.to_owned(), r.to_owned())
        })
        .collect();
    assert_eq!(ours, theirs);
    // The list admits something, and blocks something.
    assert!(ours.iter().any(|(_, r)| r == "DIRECT"));
    assert!(
        ours.iter()
            .any(|(u, r)| u == "https://evil.example/" && r == "PROXY 127.0.0.1:9")
    );
}

#[test]
fn bad_pac_files_exit_2_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    for (body, needle) in [
        (
            "function FindProxyForURL(u, h) {\n  return 'DIRECT'\n  var = 1;\n}\n",
            "bad.pac:3:7: not JavaScript",
        ),
        (
            "function FindProxyForURL(u, h) { for (;;) {} }",
            "bad.pac: FindProxyForURL ran past its budget",
        ),
        (
            "function FindProxyForURL(u, h) { return null.x; }",
            "bad.pac: FindProxyForURL threw: TypeError",
        ),
        (
            "function FindProxyForURL(u, h) { return {}; }",
            "not a string",
        ),
        ("<html>not a PAC</html>", "bad.pac:1:1: not JavaScript"),
    ] {
        let file = dir.path().join("bad.pac");
        std::fs::write(&file, body).unwrap();
        let out = cargo_bin_cmd!("egress")
            .current_dir(dir.path())
            .args(["pac", "eval", "--pac", "bad.pac", "http://a.example/"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{body}");
        assert!(
            text(&out.stderr).contains(needle),
            "{needle}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    let out = egress(&["pac", "eval", "--pac", "/no/such.pac", "http://a.example/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the PAC file /no/such.pac"));
}

#[test]
fn pac_files_come_from_urls_too() {
    let port = files_origin(
        "127.0.0.1:0",
        &[(
            "/proxy.pac",
            "application/x-ns-proxy-autoconfig",
            "function FindProxyForURL(u, h) { return isInNet(dnsResolve(h), '127.0.0.0', '255.0.0.0') ? 'DIRECT' : 'PROXY p.contoso.test:8080'; }",
        )],
    );
    let url = format!("http://127.0.0.1:{port}/proxy.pac");
    // dnsResolve goes through --resolve, as the check's lookups do.
    let out = egress(&[
        "pac",
        "eval",
        "--pac",
        &url,
        "--resolve",
        "pinned.contoso.test:80:127.0.0.7",
        "http://pinned.contoso.test/",
        "http://10.9.9.9/",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "http://pinned.contoso.test/\tDIRECT\nhttp://10.9.9.9/\tPROXY p.contoso.test:8080\n"
    );
    let missing = format!("http://127.0.0.1:{port}/gone.pac");
    let out = egress(&["pac", "eval", "--pac", &missing, "http://a.example/"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the server answered HTTP 404"),
        "{}",
        text(&out.stderr)
    );
}
