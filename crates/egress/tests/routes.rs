//! Where the proxy comes from. `egress routes` and `check
//! --proxy-from` read WinHTTP and WinINET settings from a `reg export`
//! file (as Windows writes it: UTF-16 with a byte order mark), follow PAC
//! files with WinHTTP's failover, and `--routes` checks every route.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use egress_test_support::dns::{DnsServer, Reply};
use egress_test_support::origin::{files_origin, http_origin};
use egress_test_support::proxies::tinyproxy;
use egress_test_support::tools::{ROOT, TINYPROXY, free_port, needs};
use egress_winproxy::Store;
use egress_winproxy::blob::{FLAG_AUTO_CONFIG_URL, FLAG_DIRECT, FLAG_PROXY, encode};

fn egress(dir: &Path, args: &[&str]) -> Output {
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
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A binary value as `reg export` writes it: `hex:` bytes.
fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A `reg export` (UTF-16LE with its mark, CRLF) of `body`'s keys.
fn reg_text(dir: &Path, name: &str, body: &str) -> PathBuf {
    let text = format!("Windows Registry Editor Version 5.00\r\n\r\n{body}");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        text.replace('\n', "\r\n")
            .replace("\r\r\n", "\r\n")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A `reg export` of the three values.
fn reg_file(dir: &Path, winhttp: &[u8], system: &[u8], user: &[u8]) -> PathBuf {
    let key = "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
    reg_text(
        dir,
        "proxy.reg",
        &format!(
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\n\
             \"WinHttpSettings\"=hex:{}\n\n\
             [HKEY_USERS\\S-1-5-18\\{key}]\n\"DefaultConnectionSettings\"=hex:{}\n\n\
             [HKEY_CURRENT_USER\\{key}]\n\"DefaultConnectionSettings\"=hex:{}\n",
            hex(winhttp),
            hex(system),
            hex(user)
        ),
    )
}

/// `egress routes --format json` with a `reg export`: its document.
fn routes_json(dir: &Path, catalog: &str, reg: &str) -> serde_json::Value {
    let out = egress(
        dir,
        &[
            "routes",
            "--catalog",
            catalog,
            "--registry",
            reg,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn catalog(dir: &Path, plain: u16) -> PathBuf {
    let text = egress_test_support::catalog_head("routes-test")
        + &format!(
            "\n[[role]]\nid = \"service-connection-point\"\ntitle = \"SCP\"\n\n[[role]]\nid = \"management-point\"\ntitle = \"MP\"\n\n[[role]]\nid = \"console\"\ntitle = \"Console\"\n\n[[feature]]\nid = \"updates\"\ntitle = \"Updates\"\npage = \"p\"\nsection = \"Updates\"\n\n[[endpoint]]\nid = \"updates-plain\"\nurl = \"http://localhost:{plain}/\"\nfeatures = [\"updates\"]\nroles = [\"service-connection-point\", \"management-point\", \"console\"]\n"
        );
    let path = dir.join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn routes_and_checks_through_windows_settings() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let plain = http_origin();
    let proxy = tinyproxy("", None);
    let dead = free_port();
    let pac = files_origin(
        "127.0.0.1:0",
        &[
            (
                "/failover.pac",
                "application/x-ns-proxy-autoconfig",
                &format!(
                    "function FindProxyForURL(u, h) {{ return 'PROXY 127.0.0.1:{dead}; PROXY 127.0.0.1:{}'; }}",
                    proxy.port
                ),
            ),
            (
                "/dead.pac",
                "application/x-ns-proxy-autoconfig",
                &format!("function FindProxyForURL(u, h) {{ return 'PROXY 127.0.0.1:{dead}'; }}"),
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, plain);
    let winhttp = encode(
        Store::WinHttp,
        FLAG_DIRECT | FLAG_PROXY,
        &format!("127.0.0.1:{}", proxy.port),
        "<local>",
        "",
    );
    let system = encode(
        Store::WinInet,
        FLAG_DIRECT | FLAG_AUTO_CONFIG_URL,
        "",
        "",
        &format!("http://127.0.0.1:{pac}/dead.pac"),
    );
    let user = encode(Store::WinInet, FLAG_DIRECT, "", "", "");
    let reg = reg_file(d, &winhttp, &system, &user);
    let (c, r) = (catalog.to_str().unwrap(), reg.to_str().unwrap());

    // routes: what each source says, and which each role uses.
    let doc = routes_json(d, c, r);
    let says = |source: &str| {
        doc["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == source)
            .map(|s| s["says"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(
        says("winhttp"),
        format!("proxy 127.0.0.1:{}; bypass <local>", proxy.port)
    );
    assert_eq!(
        says("wininet-system"),
        format!("PAC http://127.0.0.1:{pac}/dead.pac")
    );
    assert_eq!(says("wininet-user"), "direct");
    assert!(says("profile").starts_with("not set"));
    let uses = |role: &str| {
        doc["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["role"] == role)
            .map(|x| x["source"].as_str().unwrap_or("-").to_owned())
            .unwrap()
    };
    assert_eq!(uses("service-connection-point"), "winhttp");
    assert_eq!(uses("management-point"), "winhttp");
    assert_eq!(uses("console"), "wininet-user");
    let table = egress(d, &["routes", "--catalog", c, "--registry", r]);
    assert!(
        text(&table.stdout).contains("WinINET (SYSTEM)"),
        "{}",
        text(&table.stdout)
    );

    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--catalog",
            c,
            "--registry",
            r,
            "--timeout",
            "3s",
            "--progress",
            "never",
            "--format",
            "json",
        ];
        args.extend(extra);
        egress(d, &args)
    };
    // Through WinHTTP's proxy: tinyproxy carries it.
    let out = check(&["--proxy-from", "winhttp"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["header"].as_array().unwrap().iter().any(|h| h
            .as_str()
            .unwrap()
            .starts_with("route: WinHTTP (proxy 127.0.0.1:")),
        "{doc}"
    );
    // A PAC file's list: the dead proxy fails over to tinyproxy.
    let failover = format!("pac:http://127.0.0.1:{pac}/failover.pac");
    let out = check(&["--proxy-from", &failover]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["endpoints"][0]["via"],
        format!(
            "PROXY 127.0.0.1:{}, after PROXY 127.0.0.1:{dead} failed",
            proxy.port
        )
    );
    // auto: the roles take different routes: one at a time.
    let out = check(&["--proxy-from", "auto"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("take different routes"),
        "{}",
        text(&out.stderr)
    );
    let out = check(&["--proxy-from", "auto", "--role", "management-point"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Every route: WinINET (SYSTEM)'s PAC names only a dead proxy.
    let out = egress(
        d,
        &[
            "check",
            "--catalog",
            c,
            "--registry",
            r,
            "--timeout",
            "3s",
            "--progress",
            "never",
            "--routes",
        ],
    );
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    let line = report.lines().find(|l| l.starts_with("updates: ")).unwrap();
    assert!(line.contains("OK via direct"), "{line}");
    assert!(line.contains("OK via WinHTTP"), "{line}");
    assert!(line.contains("critical via WinINET (SYSTEM)"), "{line}");
    assert!(
        line.contains(&format!(
            "connection refused by 127.0.0.1:{dead} (the proxy)"
        )),
        "{line}"
    );
}

#[test]
fn bad_registry_files_and_sources_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let check = |args: &[&str], needle: &str| {
        let out = egress(d, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(needle),
            "{needle}: {}",
            text(&out.stderr)
        );
    };
    std::fs::write(d.join("bad.reg"), "Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\X]\n\"WinHttpSettings\"=hex:zz\n").unwrap();
    check(
        &["routes", "--registry", "bad.reg"],
        "bad.reg:3:19: byte 1 `zz` is not two hexadecimal digits",
    );
    // A value cut short.
    let mut blob = encode(Store::WinHttp, FLAG_PROXY, "a:80", "", "");
    blob.truncate(14);
    let user = encode(Store::WinInet, FLAG_DIRECT, "", "", "");
    reg_file(d, &blob, &user, &user);
    check(
        &[
            "routes",
            "--registry",
            "proxy.reg",
            "--proxy-from",
            "winhttp",
        ],
        "proxy.reg: WinHttpSettings: the length of the proxy list at byte 12 is cut short (2 of 4 bytes)",
    );
    // A WinINET value where WinHTTP's belongs: the version word says so.
    reg_file(d, &user, &user, &user);
    check(
        &[
            "routes",
            "--registry",
            "proxy.reg",
            "--proxy-from",
            "winhttp",
        ],
        "version word 0x46",
    );
    check(
        &["check", "--proxy-from", "winhttps"],
        "expected profile, env, winhttp",
    );
    if !cfg!(windows) {
        check(
            &["routes", "--proxy-from", "winhttp"],
            "give a `reg export` of that key with --registry FILE.reg",
        );
    }
}

/// WPAD by DNS: `wpad.<domain>` and each parent, then
/// `http://wpad.<domain>/wpad.dat` on port 80 (so this test listens on
/// 127.0.0.2:80, which needs root, as scripts/test runs). Names other than
/// the pinned one go to a loopback DNS server that answers NXDOMAIN: no
/// query leaves the machine.
#[test]
fn wpad_is_found_by_dns_and_followed() {
    if !needs(&[TINYPROXY, ROOT]) {
        return;
    }
    let plain = http_origin();
    let proxy = tinyproxy("", None);
    files_origin(
        "127.0.0.2:80",
        &[(
            "/wpad.dat",
            "application/x-ns-proxy-autoconfig",
            &format!(
                "function FindProxyForURL(u, h) {{ return 'PROXY 127.0.0.1:{}'; }}",
                proxy.port
            ),
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, plain);
    let c = catalog.to_str().unwrap();
    // A DNS server that knows no name: the other candidates do not resolve.
    let dns = DnsServer::start(|_, _, _| Reply::NoSuchName)
        .address
        .to_string();
    let net = [
        "--wpad-domain",
        "site.a.contoso.test",
        "--resolve",
        "wpad.contoso.test:80:127.0.0.2",
        "--dns-server",
        &dns,
    ];
    let mut args = vec![
        "routes",
        "--catalog",
        c,
        "--proxy-from",
        "wpad",
        "--format",
        "json",
        "--timeout",
        "2s",
    ];
    args.extend(net);
    let out = egress(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<&str> = doc["wpad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(
        steps[0].starts_with("wpad.site.a.contoso.test: does not resolve"),
        "{steps:?}"
    );
    assert!(
        steps[1].starts_with("wpad.a.contoso.test: does not resolve"),
        "{steps:?}"
    );
    assert_eq!(
        steps[2],
        "wpad.contoso.test (127.0.0.2): http://wpad.contoso.test/wpad.dat found"
    );
    assert_eq!(
        doc["sources"][0]["says"],
        "WPAD: http://wpad.contoso.test/wpad.dat"
    );
    // The check goes through the proxy the PAC file names.
    let mut args = vec![
        "check",
        "--catalog",
        c,
        "--proxy-from",
        "wpad",
        "--format",
        "json",
        "--progress",
        "never",
        "--timeout",
        "2s",
    ];
    args.extend(net);
    let out = egress(d, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["endpoints"][0]["verdict"], "ok");
}

/// A PAC file that cannot be fetched is the network's problem: every
/// endpoint fails in the proxy phase, saying why (exit 1), while a file
/// that is not a PAC file is the input's (exit 2).
#[test]
fn an_unreachable_pac_file_fails_the_endpoints() {
    let plain = http_origin();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, plain);
    let closed = free_port();
    // A PAC URL with user information: it never shows.
    let from = format!("pac:http://bob:SECRET-MARKER@127.0.0.1:{closed}/proxy.pac");
    let out = egress(
        d,
        &[
            "check",
            "--catalog",
            catalog.to_str().unwrap(),
            "--proxy-from",
            &from,
            "--progress",
            "never",
            "--timeout",
            "2s",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("SECRET-MARKER")
            && !text(&out.stderr).contains("SECRET-MARKER")
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &doc["endpoints"][0];
    assert_eq!(e["phase"], "proxy");
    assert!(
        e["reason"].as_str().unwrap().starts_with(&format!(
            "proxy: no route: cannot fetch the PAC file http://***@127.0.0.1:{closed}/proxy.pac"
        )),
        "{e}"
    );
    std::fs::write(d.join("not.pac"), "<html>").unwrap();
    let out = egress(
        d,
        &[
            "check",
            "--catalog",
            catalog.to_str().unwrap(),
            "--proxy-from",
            "pac:not.pac",
            "--progress",
            "never",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not.pac:1:1: not JavaScript"),
        "{}",
        text(&out.stderr)
    );
}

/// The flat WinINET values (`ProxyEnable`, `ProxyServer`, `ProxyOverride`,
/// `MigrateProxy`) are real configuration: read without a blob, shown
/// beside the blob when they say something else, and machine-wide under
/// the policy `ProxySettingsPerUser` = 0. A check goes through the flat
/// values' proxy.
#[test]
fn flat_wininet_values_are_read_and_disagreements_shown() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let plain = http_origin();
    let proxy = tinyproxy("", None);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let catalog = catalog(d, plain);
    let settings = "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";
    let direct = encode(Store::WinInet, FLAG_DIRECT, "", "", "");
    let port = proxy.port;
    let reg = reg_text(
        d,
        "flat.reg",
        &format!(
            "[HKEY_CURRENT_USER\\{settings}]\n\"MigrateProxy\"=dword:00000001\n\"ProxyEnable\"=dword:00000001\n\"ProxyServer\"=\"127.0.0.1:{port}\"\n\"ProxyOverride\"=\"<local>\"\n\n\
             [HKEY_USERS\\S-1-5-18\\{settings}]\n\"ProxyEnable\"=dword:00000001\n\"ProxyServer\"=\"b.contoso.com:3128\"\n\n\
             [HKEY_USERS\\S-1-5-18\\{settings}\\Connections]\n\"DefaultConnectionSettings\"=hex:{}\n",
            hex(&direct)
        ),
    );
    let (c, r) = (catalog.to_str().unwrap(), reg.to_str().unwrap());
    let says = |r: &str| -> serde_json::Value {
        routes_json(d, c, r)["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["source"].as_str().unwrap().to_owned(), s["says"].clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let doc = says(r);
    assert_eq!(
        doc["wininet-user"],
        format!(
            "proxy 127.0.0.1:{port}; bypass <local> (from the flat values: there is no DefaultConnectionSettings, so WinINET reads the flat values)"
        )
    );
    assert_eq!(
        doc["wininet-system"],
        "direct; the flat values say `proxy b.contoso.com:3128`, unused: WinINET reads DefaultConnectionSettings at run time and keeps the flat values as its copy"
    );
    // The console uses the user's WinINET: through tinyproxy.
    let out = egress(
        d,
        &[
            "check",
            "--catalog",
            c,
            "--registry",
            r,
            "--proxy-from",
            "wininet-user",
            "--timeout",
            "3s",
            "--progress",
            "never",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains(&format!("127.0.0.1:{port}")));

    // MigrateProxy = 1 beside a blob: the blob, both shown, and why.
    let reg = reg_text(
        d,
        "migrate.reg",
        &format!(
            "[HKEY_CURRENT_USER\\{settings}]\n\"MigrateProxy\"=dword:00000001\n\"ProxyEnable\"=dword:00000001\n\"ProxyServer\"=\"a.contoso.com:8080\"\n\n\
             [HKEY_CURRENT_USER\\{settings}\\Connections]\n\"DefaultConnectionSettings\"=hex:{}\n",
            hex(&direct)
        ),
    );
    assert_eq!(
        says(reg.to_str().unwrap())["wininet-user"],
        "direct; the flat values say `proxy a.contoso.com:8080`, unused: WinINET reads DefaultConnectionSettings at run time; MigrateProxy is 1, so it may rebuild it from the flat values when it next starts"
    );

    // A flat value of the wrong type: said beside a blob, an error without.
    let reg = reg_text(
        d,
        "wrong.reg",
        &format!(
            "[HKEY_CURRENT_USER\\{settings}]\n\"ProxyEnable\"=\"1\"\n\n\
             [HKEY_CURRENT_USER\\{settings}\\Connections]\n\"DefaultConnectionSettings\"=hex:{}\n",
            hex(&direct)
        ),
    );
    let said = says(reg.to_str().unwrap())["wininet-user"].clone();
    assert!(
        said.as_str()
            .unwrap()
            .starts_with("direct; the flat values cannot all be read (")
            && said
                .as_str()
                .unwrap()
                .contains("ProxyEnable is not a dword value"),
        "{said}"
    );
    let reg = reg_text(
        d,
        "wrong-alone.reg",
        &format!("[HKEY_CURRENT_USER\\{settings}]\n\"ProxyEnable\"=\"1\"\n"),
    );
    let out = egress(
        d,
        &[
            "routes",
            "--catalog",
            c,
            "--registry",
            reg.to_str().unwrap(),
            "--proxy-from",
            "wininet-user",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("ProxyEnable is not a dword value"),
        "{}",
        text(&out.stderr)
    );

    // ProxySettingsPerUser = 0: every user reads the machine's settings,
    // its Connections blob included.
    let machine = encode(
        Store::WinInet,
        FLAG_DIRECT | FLAG_PROXY,
        "m.contoso.com:8080",
        "",
        "",
    );
    let reg = reg_text(
        d,
        "machine.reg",
        &format!(
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\n\"ProxySettingsPerUser\"=dword:00000000\n\n\
             [HKEY_LOCAL_MACHINE\\{settings}\\Connections]\n\"DefaultConnectionSettings\"=hex:{}\n\n\
             [HKEY_CURRENT_USER\\{settings}]\n\"ProxyEnable\"=dword:00000001\n\"ProxyServer\"=\"u.contoso.com:3128\"\n",
            hex(&machine)
        ),
    );
    let doc = says(reg.to_str().unwrap());
    for source in ["wininet-user", "wininet-system"] {
        assert_eq!(
            doc[source],
            "proxy m.contoso.com:8080 (machine-wide: the policy ProxySettingsPerUser is 0)"
        );
    }
}
