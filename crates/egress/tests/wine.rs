//! The Windows build, run. `scripts/test` builds the
//! `x86_64-pc-windows-gnu` release binary and a wine prefix of its own
//! (`target/test-tools/wine`, with the `bcryptprimitives.dll` stand-in of
//! `scripts/wine/`); this test runs the binary there: `--version`, `plan`,
//! `render squid`, `routes --proxy-from winhttp` and `wininet-user` (the
//! flat values) after `wine reg import` (so the code that reads the live
//! registry runs), and `check` against
//! loopback origins, directly and through WinHTTP's proxy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use egress_test_support::origin::{http_origin, https_origin};
use egress_test_support::proxies::tinyproxy;
use egress_test_support::tools::{TINYPROXY, WINE, needs, windows_tier};
use egress_winproxy::Store;
use egress_winproxy::blob::{FLAG_DIRECT, FLAG_PROXY, encode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn exe() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let exe = target.join("x86_64-pc-windows-gnu/release/egress.exe");
    assert!(
        exe.exists(),
        "{} is missing: scripts/test builds it (cargo build --release --target x86_64-pc-windows-gnu -p egress)",
        exe.display()
    );
    exe
}

fn prefix() -> PathBuf {
    let prefix = root().join("target/test-tools/wine");
    assert!(
        prefix
            .join("drive_c/windows/system32/bcryptprimitives.dll")
            .exists(),
        "{} has no bcryptprimitives.dll stand-in: scripts/test makes the prefix",
        prefix.display()
    );
    prefix
}

/// The prefix's wineserver and services (`services.exe`, `winedevice.exe`
/// and the rest, which the first program started in a prefix starts),
/// running for the whole test with their output elsewhere, stopped when
/// dropped. Otherwise each `wine` call starts them, and they hold the
/// call's output pipes open for the server's 3 s of persistence after the
/// program ends.
struct WineServer;

impl WineServer {
    fn start() -> WineServer {
        let wineserver = WINE.path().with_file_name("wineserver");
        let status = Command::new(wineserver)
            .env("WINEPREFIX", prefix())
            .arg("--persistent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wineserver starts");
        assert!(status.success(), "wineserver --persistent: {status}");
        let server = WineServer;
        let status = Command::new(WINE.path())
            .env("WINEPREFIX", prefix())
            .env("WINEDEBUG", "-all")
            .arg(exe())
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wine starts");
        assert!(status.success(), "wine egress.exe --version: {status}");
        server
    }
}

impl Drop for WineServer {
    fn drop(&mut self) {
        let _ = Command::new(WINE.path().with_file_name("wineserver"))
            .env("WINEPREFIX", prefix())
            .arg("--kill")
            .status();
    }
}

fn wine(args: &[&str]) -> Output {
    let wine = WINE.path();
    Command::new(wine)
        .env("WINEPREFIX", prefix())
        .env("WINEDEBUG", "-all")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .arg(exe())
        .args(args)
        .output()
        .unwrap()
}

/// Imports `reg` (UTF-16LE with its mark, as `reg export` writes it)
/// into the prefix's registry with wine's own `reg`.
fn reg_import(dir: &Path, name: &str, reg: &str) {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(reg.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(dir.join(name), bytes).unwrap();
    let imported = Command::new(WINE.path())
        .env("WINEPREFIX", prefix())
        .env("WINEDEBUG", "-all")
        .args(["reg", "import"])
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", text(&imported.stderr));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\n")
}

#[test]
fn the_windows_binary_runs_under_wine() {
    if !(windows_tier() && needs(&[WINE, TINYPROXY])) {
        return;
    }
    let _server = WineServer::start();
    let out = wine(&["--version"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("egress {}", env!("CARGO_PKG_VERSION"))
    );

    let out = wine(&["plan", "--feature", "url-forwarding"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("go.microsoft.com"),
        "{}",
        text(&out.stdout)
    );
    let out = wine(&["render", "squid"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("http_access allow"),
        "{}",
        text(&out.stdout)
    );

    // WinHTTP's proxy in the prefix's registry, as `netsh winhttp set
    // proxy` leaves it, imported with wine's own `reg`.
    let proxy = tinyproxy("", None);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blob = encode(
        Store::WinHttp,
        FLAG_DIRECT | FLAG_PROXY,
        &format!("127.0.0.1:{}", proxy.port),
        "<-loopback>",
        "",
    );
    let hex: Vec<String> = blob.iter().map(|b| format!("{b:02x}")).collect();
    let reg = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\r\n\"WinHttpSettings\"=hex:{}\r\n",
        hex.join(",")
    );
    reg_import(d, "winhttp.reg", &reg);

    let plain = http_origin();
    let (ca, tls) = https_origin(&["localhost"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let catalog = egress_test_support::catalog_head("wine-test")
        + &format!(
            "\n[[feature]]\nid = \"f\"\ntitle = \"F\"\npage = \"p\"\nsection = \"F\"\n\n[[endpoint]]\nid = \"tls\"\nurl = \"https://localhost:{tls}/\"\nfeatures = [\"f\"]\n\n[[endpoint]]\nid = \"plain\"\nurl = \"http://localhost:{plain}/\"\nfeatures = [\"f\"]\n"
        );
    std::fs::write(d.join("catalog.toml"), catalog).unwrap();
    let (c, ca_file) = (d.join("catalog.toml"), d.join("ca.pem"));
    let (c, ca_file) = (c.to_str().unwrap(), ca_file.to_str().unwrap());

    let out = wine(&[
        "routes",
        "--catalog",
        c,
        "--proxy-from",
        "winhttp",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(
        doc["sources"][0]["says"],
        format!("proxy 127.0.0.1:{}; bypass <-loopback>", proxy.port)
    );

    // The user's WinINET as flat values only (what Group Policy and older
    // tools write), read from the live registry: REG_DWORD and REG_SZ.
    let reg = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\r\n\"ProxyEnable\"=dword:00000001\r\n\"ProxyServer\"=\"127.0.0.1:{}\"\r\n\"ProxyOverride\"=\"<local>\"\r\n\"MigrateProxy\"=dword:00000001\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\r\n\"DefaultConnectionSettings\"=-\r\n",
        proxy.port
    );
    reg_import(d, "flat.reg", &reg);
    let out = wine(&[
        "routes",
        "--catalog",
        c,
        "--proxy-from",
        "wininet-user",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(
        doc["sources"][0]["says"],
        format!(
            "proxy 127.0.0.1:{}; bypass <local> (from the flat values: there is no DefaultConnectionSettings, so WinINET reads the flat values)",
            proxy.port
        )
    );

    for route in ["none", "winhttp"] {
        let out = wine(&[
            "check",
            "--catalog",
            c,
            "--ca-file",
            ca_file,
            "--public-roots",
            ca_file,
            "--roots-only",
            "--progress",
            "never",
            "--timeout",
            "5s",
            "--format",
            "json",
            "--proxy-from",
            route,
        ]);
        let report = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{route}: {report}{}",
            text(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_str(&report).unwrap();
        for e in doc["endpoints"].as_array().unwrap() {
            assert_eq!(e["verdict"], "ok", "{route}: {e}");
        }
    }
}
