//! Squid configurations as sites write them, held against a real Squid
//! (Debian's `squid-openssl`): for each configuration, Squid runs it on
//! loopback, curl sends every plan row's request through it, and egress's
//! verdict for every row (`audit allowlist --input squid --root`, reading
//! the configuration as written) must be what Squid did: allowed,
//! blocked, a 407 where egress says the row needs authentication, and
//! Squid's own certificate where egress says TLS-inspected.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use egress_test_support::origin::{http_origin, https_origin, https_origin_at};
use egress_test_support::squid::{Squid, write_tree};
use egress_test_support::tls::Ca;
use egress_test_support::tools::{CURL, ROOT, SQUID, needs};

/// The address of the HTTPS origin on port 443 (`secure.egress.test`).
const SECURE: &str = "127.0.0.44";

/// The loopback origins, and the catalog whose rows the tests ask.
struct Origins {
    ca: Ca,
    tls: u16,
    http: u16,
    /// Each plan row's host pattern, and the URL curl asks for it.
    rows: BTreeMap<String, String>,
}

fn origins() -> Origins {
    let names = [
        "needed.egress.test",
        "allowed.egress.test",
        "egress-audit-sample.wild.egress.test",
        "secure.egress.test",
    ];
    let (ca, tls) = https_origin(&names);
    https_origin_at(&format!("{SECURE}:443"), &ca, &names).unwrap_or_else(|| {
        panic!("cannot listen on {SECURE}:443: the Squid configuration tests need root (scripts/test runs them as root)")
    });
    let http = http_origin();
    let rows = [
        (
            "needed.egress.test",
            format!("https://needed.egress.test:{tls}/"),
        ),
        (
            "allowed.egress.test",
            format!("https://allowed.egress.test:{tls}/"),
        ),
        (
            "*.wild.egress.test",
            format!("https://egress-audit-sample.wild.egress.test:{tls}/"),
        ),
        (
            "secure.egress.test",
            "https://secure.egress.test/".to_owned(),
        ),
        (
            "feed.egress.test",
            format!("http://feed.egress.test:{http}/feed/"),
        ),
        (
            "plain.egress.test",
            format!("http://plain.egress.test:{http}/"),
        ),
    ]
    .into_iter()
    .map(|(row, url)| (row.to_owned(), url))
    .collect();
    Origins {
        ca,
        tls,
        http,
        rows,
    }
}

fn write_catalog(d: &Path, o: &Origins) -> std::path::PathBuf {
    let text = egress_test_support::catalog_head("squidconf")
        + &format!(
            r#"
[[role]]
id = "scp"
title = "Service connection point"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "U"

[[feature]]
id = "content"
title = "Content"
page = "p"
section = "C"

[[endpoint]]
id = "needed"
url = "https://needed.egress.test:{tls}/"
features = ["updates"]
roles = ["scp"]

[[endpoint]]
id = "allowed"
url = "https://allowed.egress.test:{tls}/"
features = ["updates"]

[[endpoint]]
id = "wild"
url = "https://*.wild.egress.test:{tls}/"
features = ["updates"]

[[endpoint]]
id = "secure"
url = "https://secure.egress.test/"
features = ["content"]

[[endpoint]]
id = "feed"
url = "http://feed.egress.test:{http}/feed/"
features = ["content"]

[[endpoint]]
id = "plain"
url = "http://plain.egress.test:{http}/"
features = ["content"]
"#,
            tls = o.tls,
            http = o.http
        );
    let path = d.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Squid's hosts file: every test name on loopback.
fn hosts() -> Vec<(&'static str, &'static str)> {
    vec![
        ("needed.egress.test", "127.0.0.1"),
        ("allowed.egress.test", "127.0.0.1"),
        ("egress-audit-sample.wild.egress.test", "127.0.0.1"),
        ("feed.egress.test", "127.0.0.1"),
        ("plain.egress.test", "127.0.0.1"),
        ("secure.egress.test", SECURE),
    ]
}

/// What Squid did with one request: `allowed`, `inspected` (allowed,
/// through Squid's own certificate), `blocked` or `auth` (a 407 to a
/// client without credentials).
fn through(squid: &Squid, url: &str, credentials: Option<&str>) -> &'static str {
    let mut curl = Command::new(CURL.path());
    curl.args(["-k", "-v", "-s", "-o", "/dev/null", "--max-time", "10"])
        .args(["-w", "%{http_code} %{http_connect}"])
        .args(["-x", &format!("http://127.0.0.1:{}", squid.port)])
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    if let Some(c) = credentials {
        curl.args(["--proxy-user", c]);
    }
    let out = curl.arg(url).output().unwrap();
    let codes = String::from_utf8_lossy(&out.stdout).into_owned();
    let verbose = String::from_utf8_lossy(&out.stderr).into_owned();
    let (code, connect) = codes.split_once(' ').unwrap_or((&codes, "000"));
    let status = if url.starts_with("https") {
        connect
    } else {
        code
    };
    match status {
        "200" if verbose.contains("Squid Bump CA") => "inspected",
        "200" => "allowed",
        "403" => "blocked",
        // Asked again for credentials it was given: refused.
        "407" if credentials.is_some() => "blocked",
        "407" => "auth",
        other => panic!(
            "{url}: curl saw {other} (exit {:?}):\n{verbose}",
            out.status
        ),
    }
}

/// egress's verdict for a row, in the words of [`through`]; `None`: not
/// judged.
fn said(row: &serde_json::Value) -> Option<&'static str> {
    let inspected = row["tls"]
        .as_str()
        .is_some_and(|t| t.starts_with("TLS inspection:"));
    match row["verdict"].as_str().unwrap() {
        "allowed" | "broader" if inspected => Some("inspected"),
        "allowed" | "broader" => Some("allowed"),
        "blocked" => Some("blocked"),
        "needs_auth" => Some("auth"),
        "not_judged" => None,
        other => panic!("unexpected verdict {other}: {row}"),
    }
}

/// One configuration: its name, its files (absolute path, text), extra
/// arguments for egress, curl's credentials, and the rows egress must
/// leave not judged.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    args: Vec<&'static str>,
    credentials: Option<&'static str>,
    not_judged: Vec<&'static str>,
    /// Files in Squid's tree that egress's copy lacks.
    hidden: Vec<&'static str>,
}

/// Runs Squid and egress on `case`; every row agrees, and what Squid did
/// is returned (row to verdict) for the test to hold the case's point.
fn check(o: &Origins, catalog: &Path, case: &Case) -> BTreeMap<String, &'static str> {
    let squid = Squid::start_tree(&case.files, "/etc/squid/squid.conf", &hosts());
    let root = tempfile::tempdir().unwrap();
    let visible: Vec<(&str, String)> = case
        .files
        .iter()
        .filter(|(p, _)| !case.hidden.contains(p))
        .cloned()
        .collect();
    write_tree(root.path(), &visible);
    let conf = root.path().join("etc/squid/squid.conf");
    let out = Command::new(env!("CARGO_BIN_EXE_egress"))
        .args(["audit", "allowlist", "--input", "squid", "--format", "json"])
        .arg("--catalog")
        .arg(catalog)
        .arg("--root")
        .arg(root.path())
        .args(&case.args)
        .arg(&conf)
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: egress failed: {err}",
        case.name
    );
    let report: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}: {json}{err}", case.name));
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), o.rows.len(), "{}: {json}", case.name);
    let mut seen = BTreeMap::new();
    let mut unjudged = Vec::new();
    for row in rows {
        let pattern = row["row"].as_str().unwrap();
        let url = &o.rows[pattern];
        let squid_did = through(&squid, url, case.credentials);
        match said(row) {
            Some(verdict) => assert_eq!(
                verdict, squid_did,
                "{}: {pattern}: egress says {verdict}, Squid did {squid_did}: {row}",
                case.name
            ),
            None => unjudged.push(pattern),
        }
        seen.insert(pattern.to_owned(), squid_did);
    }
    unjudged.sort_unstable();
    let mut expected = case.not_judged.clone();
    expected.sort_unstable();
    assert_eq!(unjudged, expected, "{}: rows not judged: {json}", case.name);
    // A row that blocks means exit 1, and only then.
    let blocks = rows
        .iter()
        .any(|r| matches!(r["verdict"].as_str(), Some("blocked" | "partly")));
    assert_eq!(out.status.code(), Some(i32::from(blocks)), "{}", case.name);
    seen
}

fn stock_file(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e}: install Debian's squid-openssl (scripts/test does)")
    })
}

#[test]
fn squid_configurations_agree_with_a_real_squid() {
    if !needs(&[SQUID, CURL, ROOT]) {
        return;
    }
    let o = origins();
    let dir = tempfile::tempdir().unwrap();
    let catalog = write_catalog(dir.path(), &o);
    let (tls, http) = (o.tls, o.http);
    let bump_ca = Ca::new("Squid Bump CA");
    let passwd = "alice:$apr1$hCCxMmJN$7mYY4mPzOl/9V//VgImkU.\n".to_owned();

    let cases = vec![
        Case {
            // Debian's own file, untouched, with an allowlist in conf.d.
            name: "Debian's stock squid.conf with conf.d",
            files: vec![
                ("/etc/squid/squid.conf", stock_file("/etc/squid/squid.conf")),
                ("/etc/squid/conf.d/debian.conf", stock_file("/etc/squid/conf.d/debian.conf")),
                (
                    "/etc/squid/conf.d/egress.conf",
                    "# ConfigMgr's hosts\n\
                     acl configmgr dstdomain needed.egress.test .wild.egress.test   # the SCP\n\
                     acl configmgr dstdomain secure.egress.test feed.egress.test\n\
                     http_access allow configmgr\n\
                     http_access deny all\n"
                        .to_owned(),
                ),
            ],
            args: vec!["--client", "127.0.0.1"],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "nested includes, globs in byte order, a continued line",
            files: vec![
                (
                    "/etc/squid/squid.conf",
                    "http_port 3128\n\
                     include /etc/squid/conf.d/*.conf /etc/squid/last.conf\n"
                        .to_owned(),
                ),
                (
                    "/etc/squid/conf.d/B-deny.conf",
                    "acl early dstdomain plain.egress.test\nhttp_access deny early\n".to_owned(),
                ),
                (
                    "/etc/squid/conf.d/a-allow.conf",
                    "include /etc/squid/conf.d/nested/*.inc\n\
                     http_access allow early\n"
                        .to_owned(),
                ),
                (
                    "/etc/squid/conf.d/nested/hosts.inc",
                    format!(
                        "acl hosts dstdomain needed.egress.test \\\n    allowed.egress.test\n\
                         acl tls port {tls}\n\
                         http_access allow CONNECT hosts tls\n"
                    ),
                ),
                ("/etc/squid/conf.d/.hidden.conf", "http_access allow all\n".to_owned()),
                ("/etc/squid/last.conf", "http_access deny all\n".to_owned()),
            ],
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "quoted list files with comments, CRLF, trailing comments",
            files: vec![
                (
                    "/etc/squid/squid.conf",
                    format!(
                        "http_port 3128   # the site's proxy port\r\n\
                         acl listed dstdomain \"/etc/squid/allow.txt\"\r\n\
                         acl web port 80 {http} # plain http\r\n\
                         acl tls port 443 {tls}\t# https\r\n\
                         http_access deny !web !tls\r\n\
                         http_access allow listed    # the allowlist\r\n\
                         http_access deny all\r\n"
                    ),
                ),
                (
                    "/etc/squid/allow.txt",
                    "# hosts the SCP needs\r\n\r\nneeded.egress.test # trailing comment\r\n  .wild.egress.test\r\nfeed.egress.test\r\n#plain.egress.test\r\n"
                        .to_owned(),
                ),
            ],
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "ACL names in another case, predefined ACLs",
            files: vec![(
                "/etc/squid/squid.conf",
                format!(
                    "http_port 3128\n\
                     acl SSL_Ports port 443 {tls}\n\
                     acl Safe_ports port 80 {http}\n\
                     acl Safe_ports port 443 {tls}\n\
                     acl CMhosts dstdomain .egress.test\n\
                     http_access deny !safe_ports\n\
                     http_access deny connect !ssl_ports\n\
                     http_access deny TO_LOCALHOST !cmhosts\n\
                     http_access allow cmhosts ALL\n\
                     http_access deny all\n"
                ),
            )],
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "Basic authentication, as a site system that gives no user",
            files: auth_files(&passwd, tls),
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "Basic authentication, as the user alice",
            files: auth_files(&passwd, tls),
            args: vec!["--proxy-user", "alice"],
            credentials: Some("alice:s3cret"),
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "regular expressions on hosts, URLs and paths",
            files: vec![(
                "/etc/squid/squid.conf",
                format!(
                    "http_port 3128\n\
                     acl cm dstdom_regex -i ^(NEEDED|allowed)\\.egress\\.test$ \\.wild\\.egress\\.test$\n\
                     acl feeds url_regex ^http://feed\\.egress\\.test:{http}/feed/\n\
                     acl root urlpath_regex ^/$\n\
                     acl secure url_regex ^secure\\.egress\\.test:443$\n\
                     http_access allow CONNECT cm\n\
                     http_access allow feeds\n\
                     http_access allow root !CONNECT\n\
                     http_access allow CONNECT secure\n\
                     http_access deny all\n"
                ),
            )],
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "deny before allow; no rule matches: the opposite of the last",
            files: vec![(
                "/etc/squid/squid.conf",
                "http_port 3128\n\
                 acl bad dstdomain allowed.egress.test .wild.egress.test\n\
                 acl web method GET\n\
                 acl plain dstdomain plain.egress.test\n\
                 http_access deny bad\n\
                 http_access allow web !plain\n\
                 http_access deny plain\n"
                    .to_owned(),
            )],
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "ssl_bump: peek, splice one host, bump the rest",
            files: vec![
                (
                    "/etc/squid/squid.conf",
                    "http_port 3128 ssl-bump tls-cert=/etc/squid/bump-ca.pem tls-key=/etc/squid/bump-ca.key\n\
                     sslcrtd_program /usr/lib/squid/security_file_certgen -s /etc/squid/ssl_db -M 4MB\n\
                     tls_outgoing_options cafile=/etc/squid/origin-ca.pem\n\
                     acl step1 at_step SslBump1\n\
                     acl pinned ssl::server_name needed.egress.test secure.egress.test\n\
                     ssl_bump peek step1\n\
                     ssl_bump splice pinned\n\
                     ssl_bump bump all\n\
                     http_access allow all\n"
                        .to_owned(),
                ),
                ("/etc/squid/bump-ca.pem", bump_ca.pem.clone()),
                ("/etc/squid/bump-ca.key", bump_ca.key_pem.clone()),
                ("/etc/squid/origin-ca.pem", o.ca.pem.clone()),
            ],
            args: vec![],
            credentials: None,
            not_judged: vec![],
            hidden: vec![],
        },
        Case {
            name: "what egress does not judge: a time ACL, a list file it lacks",
            files: vec![
                (
                    "/etc/squid/squid.conf",
                    format!(
                        "http_port 3128\n\
                         acl early dstdomain needed.egress.test\n\
                         acl always time 00:00-23:59\n\
                         acl more dstdomain \"/etc/squid/more.txt\"\n\
                         acl plainhost dstdomain plain.egress.test\n\
                         acl tls port {tls} 443\n\
                         http_access allow CONNECT early tls\n\
                         http_access deny !tls CONNECT\n\
                         http_access allow always plainhost\n\
                         http_access allow more\n\
                         http_access deny all\n"
                    ),
                ),
                ("/etc/squid/more.txt", "allowed.egress.test\n".to_owned()),
            ],
            args: vec![],
            credentials: None,
            not_judged: vec![
                "*.wild.egress.test",
                "allowed.egress.test",
                "feed.egress.test",
                "plain.egress.test",
                "secure.egress.test",
            ],
            hidden: vec!["/etc/squid/more.txt"],
        },
    ];
    let mut results = Vec::new();
    for case in &cases {
        results.push((case.name, check(&o, &catalog, case)));
    }
    // Each case's point, as Squid itself decided it.
    let did = |name: &str, row: &str| results.iter().find(|(n, _)| *n == name).unwrap().1[row];
    assert_eq!(
        did(
            "Debian's stock squid.conf with conf.d",
            "secure.egress.test"
        ),
        "allowed"
    );
    assert_eq!(
        did(
            "Debian's stock squid.conf with conf.d",
            "needed.egress.test"
        ),
        "blocked"
    );
    assert_eq!(
        did("Debian's stock squid.conf with conf.d", "plain.egress.test"),
        "blocked"
    );
    let nested = "nested includes, globs in byte order, a continued line";
    assert_eq!(did(nested, "plain.egress.test"), "blocked");
    assert_eq!(did(nested, "allowed.egress.test"), "allowed");
    assert_eq!(did(nested, "secure.egress.test"), "blocked");
    let listed = "quoted list files with comments, CRLF, trailing comments";
    assert_eq!(did(listed, "needed.egress.test"), "allowed");
    assert_eq!(did(listed, "plain.egress.test"), "blocked");
    let cased = "ACL names in another case, predefined ACLs";
    assert_eq!(did(cased, "secure.egress.test"), "allowed");
    assert_eq!(
        did(
            "Basic authentication, as a site system that gives no user",
            "needed.egress.test"
        ),
        "auth"
    );
    assert_eq!(
        did(
            "Basic authentication, as the user alice",
            "needed.egress.test"
        ),
        "allowed"
    );
    assert_eq!(
        did(
            "Basic authentication, as the user alice",
            "allowed.egress.test"
        ),
        "blocked"
    );
    let regex = "regular expressions on hosts, URLs and paths";
    assert_eq!(did(regex, "needed.egress.test"), "allowed");
    assert_eq!(did(regex, "plain.egress.test"), "allowed");
    let order = "deny before allow; no rule matches: the opposite of the last";
    assert_eq!(did(order, "allowed.egress.test"), "blocked");
    assert_eq!(did(order, "needed.egress.test"), "allowed");
    let bump = "ssl_bump: peek, splice one host, bump the rest";
    assert_eq!(did(bump, "needed.egress.test"), "allowed");
    assert_eq!(did(bump, "allowed.egress.test"), "inspected");
}

/// A configuration that requires Basic authentication (Squid's
/// `basic_ncsa_auth`, the user alice), and lets only bob reach one host.
fn auth_files(passwd: &str, tls: u16) -> Vec<(&'static str, String)> {
    vec![
        (
            "/etc/squid/squid.conf",
            format!(
                "http_port 3128\n\
                 auth_param basic program /usr/lib/squid/basic_ncsa_auth /etc/squid/passwd\n\
                 auth_param basic realm egress\n\
                 acl authenticated proxy_auth REQUIRED\n\
                 acl bob proxy_auth bob\n\
                 acl bobs dstdomain allowed.egress.test\n\
                 acl tls port 443 {tls}\n\
                 http_access deny !authenticated\n\
                 http_access allow bobs bob\n\
                 http_access deny bobs\n\
                 http_access allow CONNECT tls\n\
                 http_access allow !CONNECT\n\
                 http_access deny all\n"
            ),
        ),
        ("/etc/squid/passwd", passwd.to_owned()),
    ]
}

/// `egress audit allowlist --input squid` with `args`, in `dir`: exit
/// status, standard output and error.
fn audit(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_egress"))
        .current_dir(dir)
        .args(["audit", "allowlist"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_file_that_is_not_a_squid_configuration_is_refused_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rules.json"), "{\n  \"RuleGroup\": {}\n}\n").unwrap();
    let (code, out, err) = audit(d, &["--input", "squid", "rules.json"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(out, "", "nothing is written");
    assert!(err.contains("cannot be read (3 problems)"), "{err}");
    assert!(
        err.contains("rules.json:1:1: `{` is not a Squid directive"),
        "{err}"
    );
    assert!(
        err.contains("rules.json:2:3: `\"RuleGroup\":` is not a Squid directive"),
        "{err}"
    );
    // Options of the Squid reader with another input: a usage error.
    std::fs::write(d.join("list.txt"), "a.example\n").unwrap();
    let (code, _, err) = audit(d, &["--input", "plain", "--root", ".", "list.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("--root goes with --input squid"), "{err}");
    let (code, _, err) = audit(
        d,
        &["--input", "squid", "--client", "10.0.0.300", "list.txt"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--client 10.0.0.300"), "{err}");
}

/// The profile's `[proxy]` user is the user the audit judges as, and
/// its servers are the clients of their roles' rows; its password shows
/// nowhere.
#[test]
fn the_profile_says_who_asks_and_from_where() {
    const MARKER: &str = "Marker-Password-9f3c";
    let o = Origins {
        ca: Ca::new("unused"),
        tls: 8443,
        http: 8080,
        rows: BTreeMap::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_catalog(d, &o);
    std::fs::write(
        d.join("site.toml"),
        format!(
            "catalog = \"catalog.toml\"\n\
             [proxy]\nurl = \"http://proxy.example:3128\"\nuser = \"alice\"\npassword = \"{MARKER}\"\n\
             [[server]]\nname = \"scp01\"\nroles = [\"scp\"]\naddresses = [\"10.1.0.5\"]\n"
        ),
    )
    .unwrap();
    // Latin-1 in a comment, as Squid reads it: bytes.
    let mut conf = b"# r\xe9seau du site\n".to_vec();
    conf.extend_from_slice(
        b"auth_param basic program /usr/lib/squid/basic_ncsa_auth /etc/squid/passwd\n\
          acl users proxy_auth alice\n\
          acl scp src 10.1.0.0/24\n\
          acl needed dstdomain needed.egress.test\n\
          http_access allow needed scp users\n\
          http_access allow users\n\
          http_access deny all\n",
    );
    std::fs::write(d.join("squid.conf"), conf).unwrap();
    let (code, out, err) = audit(
        d,
        &[
            "--input",
            "squid",
            "--profile",
            "site.toml",
            "--format",
            "json",
            "squid.conf",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n
            == "authentication rules are judged as the user `alice` (the profile's [proxy] user)"),
        "{out}"
    );
    let row = |host: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["row"] == host)
            .unwrap()
            .clone()
    };
    // The SCP's row is asked from the SCP's address.
    assert_eq!(row("needed.egress.test")["verdict"], "broader", "{out}");
    assert!(
        row("needed.egress.test")["entries"][0]
            == "squid.conf:6: http_access allow needed scp users",
        "{out}"
    );
    // Another user: the rows need bob, not alice; no user at all: they
    // need authentication.
    let (code, out, _) = audit(
        d,
        &[
            "--input",
            "squid",
            "--profile",
            "site.toml",
            "--proxy-user",
            "bob",
            "squid.conf",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("judged as the user `bob` (--proxy-user)"),
        "{out}"
    );
    std::fs::write(
        d.join("bare.toml"),
        "catalog = \"catalog.toml\"\n[proxy]\nurl = \"http://proxy.example:3128\"\n",
    )
    .unwrap();
    let (code, table, err) = audit(
        d,
        &["--input", "squid", "--profile", "bare.toml", "squid.conf"],
    );
    assert_eq!(code, 0, "{table}{err}");
    // Without servers in the profile, the SCP's address is not known
    // either, and its rule names it before the user.
    assert!(
        table.contains(
            "6 plan rows: 1 NOT JUDGED, 5 need authentication (give --proxy-user), 0 allowed"
        ),
        "{table}"
    );
    assert!(
        table.contains("needs authentication  plain.egress.test"),
        "{table}"
    );
    for (args, what) in [
        (vec!["--format", "markdown"], "markdown"),
        (vec!["--format", "table"], "table"),
        (vec!["--format", "json"], "json"),
    ] {
        let mut all = vec!["--input", "squid", "--profile", "site.toml", "squid.conf"];
        all.extend(args);
        let (_, out, err) = audit(d, &all);
        assert!(
            !out.contains(MARKER) && !err.contains(MARKER),
            "{what}: {out}{err}"
        );
    }
}
