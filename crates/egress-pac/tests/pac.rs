//! PAC files evaluated by egress, and the same files and URLs by pactester
//! (libpacparser, SpiderMonkey): the answers must be the same.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::rc::Rc;

use egress_pac::{Pac, PacEntry, PacError, PacHost, parse_result};
use egress_test_support::tools::{PACTESTER, needs};

/// A machine whose only names are `localhost` and IP literals (the tests
/// reach no DNS), at 10.1.2.3.
struct Offline;

impl PacHost for Offline {
    fn resolve(&self, host: &str) -> Vec<IpAddr> {
        match host {
            "localhost" => vec!["127.0.0.1".parse().unwrap()],
            _ => host.parse().into_iter().collect(),
        }
    }
    fn my_addresses(&self) -> Vec<IpAddr> {
        vec!["10.1.2.3".parse().unwrap()]
    }
}

fn compile(text: &str) -> Result<Pac, PacError> {
    Pac::compile("test.pac", text, Rc::new(Offline))
}

/// The host of a URL, as pactester derives it.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Evaluates `pac` for every URL with egress and with pactester (client
/// address 10.1.2.3), and compares the answers.
#[track_caller]
fn check_against_pactester(pac: &str, urls: &[&str]) {
    let pactester = PACTESTER.path();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proxy.pac");
    std::fs::write(&file, pac).unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(&list, urls.join("\n") + "\n").unwrap();
    let theirs = pactester_answers(&pactester, &file, &list);
    let mut compiled = compile(pac).unwrap();
    let ours: Vec<String> = urls
        .iter()
        .map(|u| compiled.find_proxy(u, host_of(u)).unwrap().0)
        .collect();
    assert_eq!(ours.len(), theirs.len());
    for ((url, ours), theirs) in urls.iter().zip(&ours).zip(&theirs) {
        assert_eq!(ours, theirs, "{url}");
    }
}

fn pactester_answers(pactester: &Path, file: &Path, list: &Path) -> Vec<String> {
    let out = Command::new(pactester)
        .arg("-p")
        .arg(file)
        .arg("-f")
        .arg(list)
        .args(["-c", "10.1.2.3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `-f` prints `URL : RESULT` a line.
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_once(" : ").map_or(l, |(_, r)| r).to_owned())
        .collect()
}

const CORPORATE: &str = r#"
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || localHostOrDomainIs(host, "intranet.contoso.com")) return "DIRECT";
  if (dnsDomainIs(host, ".contoso.com") && !shExpMatch(host, "*.ext.contoso.com")) return "DIRECT";
  if (isInNet(host, "10.0.0.0", "255.0.0.0") || isInNet(host, "192.168.0.0", "255.255.0.0")) return "DIRECT";
  if (shExpMatch(url, "http://*.windowsupdate.com/*")) return "PROXY wsus-proxy.contoso.com:8080";
  if (shExpMatch(host, "*.manage.microsoft.com") || host == "login.microsoftonline.com") return "PROXY proxy1.contoso.com:8080; PROXY proxy2.contoso.com:3128";
  if (dnsDomainLevels(host) > 4) return "PROXY deep.contoso.com:8080";
  if (url.substring(0, 6) == "https:") return "PROXY tls-proxy.contoso.com:8443; DIRECT";
  if (isInNet(myIpAddress(), "10.1.0.0", "255.255.0.0")) return "PROXY site-a.contoso.com:8080";
  return "PROXY default.contoso.com:8080";
}
"#;

const URLS: &[&str] = &[
    "http://intranet/",
    "https://intranet.contoso.com/",
    "https://app.contoso.com/login",
    "https://x.ext.contoso.com/",
    "http://10.20.30.40/",
    "http://192.168.1.10:8080/x",
    "http://192.169.1.10/",
    "http://download.windowsupdate.com/c/msdownload/update.cab",
    "https://a.manage.microsoft.com/",
    "https://login.microsoftonline.com/common",
    "https://a.b.c.d.e.example.com/",
    "https://graph.microsoft.com/v1.0",
    "http://go.microsoft.com/fwlink",
    "http://localhost/",
    "https://[2001:db8::1]/",
];

#[test]
fn a_corporate_pac_answers_as_pactester_does() {
    if !needs(&[PACTESTER]) {
        return;
    }
    check_against_pactester(CORPORATE, URLS);
}

/// Every standard function, with arguments that need no DNS.
#[test]
fn standard_functions_answer_as_pactester_does() {
    if !needs(&[PACTESTER]) {
        return;
    }
    let pac = r#"
function FindProxyForURL(url, host) {
  var r = [];
  r.push(isPlainHostName(host));
  r.push(dnsDomainIs(host, ".example.com"));
  r.push(localHostOrDomainIs(host, "www.example.com"));
  r.push(isResolvable("127.0.0.1"));
  r.push(isInNet("10.5.6.7", "10.0.0.0", "255.0.0.0"));
  r.push(isInNet("172.16.5.4", "172.16.0.0", "255.240.0.0"));
  r.push(isInNet("200.1.1.1", "0.0.0.0", "0.0.0.0"));
  r.push(dnsResolve("127.0.0.1"));
  r.push(myIpAddress());
  r.push(dnsDomainLevels(host));
  r.push(shExpMatch(host, "*.example.*"));
  r.push(shExpMatch(host, "w?w.*"));
  r.push(weekdayRange("SUN", "SAT"));
  r.push(dateRange(1, 31));
  r.push(timeRange(0, 23));
  r.push(dateRange("JAN", "DEC"));
  r.push(isInNetEx("2001:db8::1", "2001:db8::/32"));
  r.push(isInNetEx("10.1.2.3", "10.1.0.0/16"));
  r.push(isResolvableEx("127.0.0.1"));
  return "PROXY " + r.join(",").replace(/[^A-Za-z0-9.,:;]/g, "_") + ":1";
}
"#;
    check_against_pactester(
        pac,
        &[
            "http://www.example.com/",
            "http://intranet/",
            "https://a.b.example.org/x",
        ],
    );
}

/// `substr`, `escape` and `unescape` are ECMAScript Annex B: real PAC
/// files use them, and pacparser's SpiderMonkey has them.
#[test]
fn annex_b_functions_answer_as_pactester_does() {
    if !needs(&[PACTESTER]) {
        return;
    }
    let pac = r#"
function FindProxyForURL(url, host) {
  if (host.substr(0, 4) == "www.") return "PROXY " + host.substr(4) + ":8080";
  if (host.substr(-4) == ".org") return "PROXY " + unescape("%70%72%6Fxy") + ".example.org:3128";
  var e = escape(url + " \u00e9&x=1");
  return "PROXY e" + e.length + "." + e.substr(0, 5).replace(/%/g, "-") + ".example:1";
}
"#;
    check_against_pactester(
        pac,
        &[
            "http://www.example.com/",
            "https://a.example.org/x",
            "http://intranet/a%20b?q=&r",
        ],
    );
}

/// A PAC file that is not JavaScript: egress names the line pactester
/// names (pacparser's SpiderMonkey reports lines only).
#[test]
fn syntax_errors_are_on_the_line_pactester_names() {
    if !needs(&[PACTESTER]) {
        return;
    }
    let pactester = PACTESTER.path();
    for pac in [
        "function FindProxyForURL(url, host) {\n  var x = ;\n  return \"DIRECT\";\n}\n",
        "function FindProxyForURL(url, host) {\n  return \"DIRECT\";\n\n",
        "function FindProxyForURL(url, host) {\n  if (host == \"a\" {\n    return \"DIRECT\";\n  }\n}\n",
        "\n\nfunction FindProxyForURL(url, host) {\n  return \"DIRECT\" +;\n}\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("broken.pac");
        std::fs::write(&file, pac).unwrap();
        let out = Command::new(&pactester)
            .arg("-p")
            .arg(&file)
            .args(["-u", "http://a.example/"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let theirs: u32 = stderr
            .split("PAC script:")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|line| line.parse().ok())
            .unwrap_or_else(|| panic!("no line in pactester's error: {stderr}"));
        match compile(pac) {
            Err(PacError::Syntax { line, column, .. }) => {
                assert_eq!(line, theirs, "{pac}");
                assert!(column >= 1);
            }
            other => panic!("not a syntax error: {other:?}"),
        }
    }
}

#[test]
fn results_parse_in_order() {
    assert_eq!(
        parse_result(
            "PROXY a:8080; PROXY [fd00::1]:3128;DIRECT; HTTPS s:443; SOCKS5 k:1080; BOGUS x"
        ),
        [
            PacEntry::Proxy {
                host: "a".into(),
                port: 8080
            },
            PacEntry::Proxy {
                host: "fd00::1".into(),
                port: 3128
            },
            PacEntry::Direct,
            PacEntry::Https {
                host: "s".into(),
                port: 443
            },
            PacEntry::Socks {
                kind: "SOCKS5".into(),
                host: "k".into(),
                port: 1080
            },
            PacEntry::Invalid("BOGUS x".into()),
        ]
    );
    assert_eq!(parse_result(""), [PacEntry::Direct]);
    assert_eq!(
        parse_result("PROXY a"),
        [PacEntry::Proxy {
            host: "a".into(),
            port: 80
        }]
    );
}

#[track_caller]
fn check_error(pac: &str, expected: &str) {
    let message = match compile(pac) {
        Err(e) => e.to_string(),
        Ok(mut p) => p
            .find_proxy("http://a.example/", "a.example")
            .unwrap_err()
            .to_string(),
    };
    assert!(message.starts_with(expected), "{message}");
}

#[test]
fn bad_pac_files_end_with_an_error() {
    check_error(
        "function FindProxyForURL(u, h) {\n  return ;;\n  var x = ;\n}",
        "test.pac:3:11: not JavaScript: unexpected token ';'",
    );
    check_error(
        "var x = 1;",
        "test.pac: defines no FindProxyForURL function",
    );
    check_error(
        "function FindProxyForURL(u, h) { throw new Error('boom'); }",
        "test.pac: FindProxyForURL threw: Error: boom",
    );
    check_error(
        "function FindProxyForURL(u, h) { return 42; }",
        "test.pac: FindProxyForURL returned 42, not a string",
    );
    check_error(
        "function FindProxyForURL(u, h) { while (true) {} }",
        "test.pac: FindProxyForURL ran past its budget",
    );
    check_error(
        "function f(n) { return f(n + 1); }\nfunction FindProxyForURL(u, h) { return f(0); }",
        "test.pac: FindProxyForURL ran past its budget",
    );
    check_error(
        "throw 'at load';",
        "test.pac: threw as it loaded: \"at load\"",
    );
}

#[test]
fn the_ex_function_wins_and_alerts_are_kept() {
    let mut pac = compile(
        "function FindProxyForURL(u, h) { return 'DIRECT'; }\nfunction FindProxyForURLEx(u, h) { alert('ex for ' + h); return 'PROXY [' + dnsResolveEx('::1') + ']:8080'; }",
    )
    .unwrap();
    assert!(pac.is_ex());
    let mut sorted =
        compile("function FindProxyForURL(u, h) { return sortIpAddressList(h); }").unwrap();
    assert_eq!(
        sorted
            .find_proxy("http://x/", "10.1.1.1;2001:db8::2;10.0.0.9;2001:db8::1")
            .unwrap()
            .0,
        "2001:db8::1;2001:db8::2;10.0.0.9;10.1.1.1"
    );
    assert_eq!(
        pac.find_proxy("http://a/", "a").unwrap(),
        ("PROXY [::1]:8080".to_owned(), vec!["ex for a".to_owned()])
    );
}
