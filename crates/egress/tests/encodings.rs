//! Every text input is read through one decoder (egress-text): the same
//! file saved as UTF-8, as UTF-8 with a byte order mark, as UTF-16 LE or
//! BE with one (what Notepad's "Unicode" and Windows PowerShell 5.1's
//! `Out-File` write) and with CRLF line ends gives the same answer, for a
//! profile, a catalog, a Microsoft 365 answer, a markdown page, each
//! allowlist format, a proxy log, a PAC file and a `reg export`. Bytes in a
//! legacy code page are refused with what they look like and how to save
//! the file as UTF-8, and change nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Utf8,
    Crlf,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

const ALL: [Encoding; 5] = [
    Encoding::Utf8,
    Encoding::Crlf,
    Encoding::Utf8Bom,
    Encoding::Utf16Le,
    Encoding::Utf16Be,
];

/// `text` as a Windows or Unix editor saves it (UTF-16 with CRLF, as
/// Windows writes it).
fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Crlf => crlf.into_bytes(),
        Encoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], crlf.as_bytes()].concat(),
        Encoding::Utf16Le => [0xFF, 0xFE]
            .into_iter()
            .chain(crlf.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        Encoding::Utf16Be => [0xFE, 0xFF]
            .into_iter()
            .chain(crlf.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
    }
}

/// Exit status and standard output.
fn egress(dir: &Path, args: &[String]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_egress"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` as `name` in every encoding and runs `args` (`{}` stands
/// for the file): every run answers as the UTF-8 one, which succeeds (0,
/// or 1 for an audit that finds a block) and prints `says` (so the file
/// was read, not passed over).
#[track_caller]
fn check(name: &str, text: &str, args: &[&str], says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("catalog.toml"), catalog()).unwrap();
    let mut first: Option<(Option<i32>, String)> = None;
    for encoding in ALL {
        let file: PathBuf = d.join(name);
        std::fs::write(&file, encode(text, encoding)).unwrap();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{}", file.to_str().unwrap()))
            .collect();
        let (code, out, err) = egress(d, &args);
        match &first {
            None => {
                assert!(matches!(code, Some(0 | 1)), "{name} {encoding:?}: {err}");
                assert!(out.contains(says), "{name}: {says}: {out}");
                first = Some((code, out));
            }
            Some(expected) => assert_eq!(
                &(code, out),
                expected,
                "{name} as {encoding:?} answers as in UTF-8: {err}"
            ),
        }
    }
}

fn catalog() -> String {
    egress_test_support::catalog_head("encodings")
        + r#"
[[role]]
id = "scp"
title = "Service connection point"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "U"

[[endpoint]]
id = "needed"
url = "https://needed.egress.test/"
features = ["updates"]
roles = ["scp"]

[[endpoint]]
id = "wild"
url = "https://*.wild.egress.test/"
features = ["updates"]
"#
}

#[test]
fn every_input_reads_the_same_in_every_encoding() {
    check(
        "site.toml",
        "# Saved by Notepad\nrevision = \"latest\"\nas_of = 2026-01-15\nfeatures = [\"updates-and-servicing\"]\n\n[[server]]\nname = \"cm01.contoso.com\"\nroles = [\"service-connection-point\"]\naddresses = [\"10.0.0.5\"]\n",
        &["plan", "--profile", "{}", "--format", "json"],
        "updates-and-servicing",
    );
    check(
        "vendor.toml",
        &catalog(),
        &["catalog", "features", "--catalog", "{}"],
        "updates",
    );
    check(
        "answer.json",
        r#"[{"id": 1, "serviceArea": "Exchange", "serviceAreaDisplayName": "Exchange Online", "urls": ["outlook.office.com"], "tcpPorts": "443", "expressRoute": "true", "category": "Optimize", "required": true}]
"#,
        &["plan", "--catalog", "{}", "--format", "json"],
        "outlook.office.com",
    );
    check(
        "page.md",
        "---\ntitle: Internet access requirements\nms.date: 03/15/2025\n---\n\n# Internet access requirements\n\n## Service connection point\n\n- `https://go.microsoft.com`\n- `*.manage.microsoft.com`\n",
        &["catalog", "import", "{}"],
        "go.microsoft.com",
    );
    let audit = ["audit", "allowlist", "--catalog", "catalog.toml", "--input"];
    check(
        "list.txt",
        "needed.egress.test\n*.wild.egress.test\n",
        &[&audit[..], &["plain", "{}"]].concat(),
        "2 plan rows: 2 allowed",
    );
    check(
        "edl.txt",
        "^needed.egress.test\n*.wild.egress.test/\n",
        &[&audit[..], &["pan-edl", "{}"]].concat(),
        "2 plan rows: 2 allowed",
    );
    check(
        "policy.json",
        r#"{"rules": [{"name": "r", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["needed.egress.test"]}]}
"#,
        &[&audit[..], &["azure-firewall", "{}"]].concat(),
        "2 plan rows: 1 allowed",
    );
    check(
        "group.json",
        "{\"RulesSource\": {\"RulesSourceList\": {\"GeneratedRulesType\": \"ALLOWLIST\", \"TargetTypes\": [\"TLS_SNI\"], \"Targets\": [\"needed.egress.test\"]}}}\n",
        &[&audit[..], &["aws-network-firewall", "{}"]].concat(),
        "2 plan rows: 1 allowed",
    );
    check(
        "access.log",
        "1767225600.000    120 10.0.0.5 TCP_TUNNEL/200 4000 CONNECT needed.egress.test:443 - HIER_DIRECT/192.0.2.1 -\n1767225601.000      0 10.0.0.5 TCP_DENIED/403 3900 CONNECT a.wild.egress.test:443 - HIER_NONE/- text/html\n",
        &[
            "audit",
            "log",
            "--catalog",
            "catalog.toml",
            "--input",
            "squid",
            "{}",
        ],
        "a.wild.egress.test",
    );
    check(
        "proxy.pac",
        "function FindProxyForURL(url, host) {\n  if (host.substr(0, 6) == \"needed\") return \"PROXY p.contoso.com:8080\";\n  return \"DIRECT\";\n}\n",
        &["pac", "eval", "--pac", "{}", "https://needed.egress.test/"],
        "PROXY p.contoso.com:8080",
    );
    check(
        "proxy.reg",
        "Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\n\"ProxyEnable\"=dword:00000001\n\"ProxyServer\"=\"p.contoso.com:8080\"\n",
        &[
            "routes",
            "--catalog",
            "catalog.toml",
            "--registry",
            "{}",
            "--format",
            "json",
        ],
        "proxy p.contoso.com:8080",
    );
}

/// A list saved in a legacy code page: refused with where, what the bytes
/// look like and how to save the file; UTF-16 without its mark too.
#[test]
fn text_that_is_not_unicode_is_refused_with_how_to_save_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("catalog.toml"), catalog()).unwrap();
    std::fs::write(d.join("latin1.txt"), b"needed.egress.test\n# caf\xE9\n").unwrap();
    let bare: Vec<u8> = "needed.egress.test\r\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    std::fs::write(d.join("bare.txt"), bare).unwrap();
    for (file, says) in [
        (
            "latin1.txt",
            "latin1.txt:2:6: byte 0xE9 is not UTF-8: it looks like text in a legacy code page such as Windows-1252; save the file as UTF-8",
        ),
        (
            "bare.txt",
            "bare.txt:1:2: byte 0x00 is not text: it looks like UTF-16 LE without a byte order mark; save the file as UTF-8",
        ),
    ] {
        let args: Vec<String> = [
            "audit",
            "allowlist",
            "--catalog",
            "catalog.toml",
            "--input",
            "plain",
            file,
        ]
        .map(str::to_owned)
        .to_vec();
        let (code, out, err) = egress(d, &args);
        assert_eq!(code, Some(2), "{err}");
        assert!(out.is_empty());
        assert!(err.contains(says), "{err}");
    }
    // A profile too, by the same decoder.
    std::fs::write(d.join("site.toml"), b"# caf\xE9\nrevision = \"latest\"\n").unwrap();
    let (code, _, err) = egress(d, &["plan", "--profile", "site.toml"].map(str::to_owned));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("site.toml:1:6: byte 0xE9 is not UTF-8"),
        "{err}"
    );
}

/// Standard input of `explain -` and the catalog `--to` of a `/changes`
/// answer are decoded too: UTF-16 from PowerShell answers as UTF-8.
#[test]
fn explain_input_and_the_changes_target_in_every_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut first: Option<String> = None;
    for encoding in ALL {
        let mut child = Command::new(env!("CARGO_BIN_EXE_egress"))
            .args(["explain", "-", "--format", "jsonl"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&encode("go.microsoft.com\nexample.org\n", encoding))
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(text.lines().count(), 2, "{encoding:?}: {text}");
        assert!(text.contains("go.microsoft.com"), "{text}");
        match &first {
            None => first = Some(text),
            Some(expected) => assert_eq!(&text, expected, "{encoding:?}"),
        }
    }

    // A catalog imported from an answer, saved again as UTF-16 by an
    // editor, takes a `/changes` answer as the UTF-8 one does.
    let answer = d.join("answer.json");
    std::fs::write(
        &answer,
        r#"[{"id": 1, "serviceArea": "MEM", "urls": ["a.manage.microsoft.com"], "tcpPorts": "443", "expressRoute": false, "category": "Allow", "required": true}]"#,
    )
    .unwrap();
    let base = d.join("m365.toml");
    let (code, _, err) = egress(
        d,
        &[
            "catalog",
            "import",
            "--format",
            "m365-json",
            answer.to_str().unwrap(),
            "--revision",
            "2026113000",
            "-o",
            base.to_str().unwrap(),
        ]
        .map(str::to_owned),
    );
    assert_eq!(code, Some(0), "{err}");
    let changes = d.join("changes.json");
    std::fs::write(
        &changes,
        r#"[{"id": 5, "endpointSetId": 1, "disposition": "Change", "version": "2026120100", "add": {"effectiveDate": "20261201", "urls": ["b.manage.microsoft.com"]}}]"#,
    )
    .unwrap();
    let catalog = std::fs::read_to_string(&base).unwrap();
    let mut first: Option<String> = None;
    for encoding in ALL {
        let to = d.join("to.toml");
        std::fs::write(&to, encode(&catalog, encoding)).unwrap();
        let out = d.join("out.toml");
        let (code, _, err) = egress(
            d,
            &[
                "catalog",
                "import",
                "--format",
                "m365-changes",
                changes.to_str().unwrap(),
                "--to",
                to.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]
            .map(str::to_owned),
        );
        assert_eq!(code, Some(0), "{encoding:?}: {err}");
        let written = std::fs::read_to_string(&out).unwrap();
        assert!(written.contains("b.manage.microsoft.com"), "{written}");
        match &first {
            None => first = Some(written),
            Some(expected) => assert_eq!(&written, expected, "{encoding:?}"),
        }
    }
}

/// `--client` holds an Azure rule's sources for the list inputs too.
#[test]
fn client_addresses_judge_azure_sources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("catalog.toml"), catalog()).unwrap();
    std::fs::write(
        d.join("policy.json"),
        r#"{"rules": [{"name": "r", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["needed.egress.test"], "sourceAddresses": ["10.0.0.0/24"]}]}"#,
    )
    .unwrap();
    let run = |client: &str| {
        egress(
            d,
            &[
                "audit",
                "allowlist",
                "--catalog",
                "catalog.toml",
                "--input",
                "azure-firewall",
                "policy.json",
                "--client",
                client,
            ]
            .map(str::to_owned),
        )
    };
    let (code, out, err) = run("10.0.0.5");
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("2 plan rows: 1 allowed"), "{out}");
    let (code, out, err) = run("192.168.1.5");
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("2 plan rows: 0 allowed"), "{out}");
}
