//! `egress check` on loopback, run once (not a statistics loop):
//!
//! 1. 200 reachable HTTPS endpoints: the whole check, target under 0.5 s;
//! 2. the same plus 20 endpoints that never answer, with a 3 s timeout:
//!    target within 3.5 s, against a sequential `curl` loop with the same
//!    timeouts and `xargs -P 16 curl` over the same URLs.
//!
//! Run: `cargo bench -p egress --bench check` (needs curl and xargs).

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use egress_test_support::origin::https_origin;

const REACHABLE: usize = 200;
const SILENT: usize = 20;

/// The TLS origin, its CA written to `dir/ca.pem`.
fn origin(dir: &std::path::Path) -> u16 {
    let (ca, port) = https_origin(&["*.bench.egress.test"]);
    std::fs::write(dir.join("ca.pem"), ca.pem).unwrap();
    port
}

/// Accepts and never answers.
fn silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = origin(d);
    let quiet = silent();
    let hosts: Vec<(String, u16)> = (0..REACHABLE)
        .map(|i| (format!("h{i}.bench.egress.test"), good))
        .chain((0..SILENT).map(|i| (format!("s{i}.bench.egress.test"), quiet)))
        .collect();

    let mut catalog = String::from(
        "[catalog]\nid = \"bench\"\ntitle = \"Bench\"\nvendor = \"egress\"\nproduct = \"bench\"\nrevision = \"1\"\ndescribes = 2026-01-01\n\n[[page]]\nid = \"p\"\ntitle = \"P\"\nlanguage = \"en-US\"\n\n[[feature]]\nid = \"f\"\ntitle = \"F\"\npage = \"p\"\nsection = \"F\"\n",
    );
    for (i, (h, port)) in hosts.iter().enumerate() {
        catalog.push_str(&format!(
            "\n[[endpoint]]\nid = \"e{i}\"\nurl = \"https://{h}:{port}/\"\nfeatures = [\"f\"]\n"
        ));
    }
    std::fs::write(d.join("catalog.toml"), catalog).unwrap();
    let ca = d.join("ca.pem");
    let egress = env!("CARGO_BIN_EXE_egress");

    let check = |count: usize| {
        let mut args: Vec<String> = [
            "check",
            "--catalog",
            d.join("catalog.toml").to_str().unwrap(),
            "--ca-file",
            ca.to_str().unwrap(),
            "--public-roots",
            ca.to_str().unwrap(),
            "--roots-only",
            "--timeout",
            "3s",
            "--connect-timeout",
            "3s",
            "--concurrency",
            "256",
            "--progress",
            "never",
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for (h, port) in hosts.iter().take(count) {
            args.push("--resolve".to_owned());
            args.push(format!("{h}:{port}:127.0.0.1"));
        }
        // Endpoints beyond `count` are left out of the run by feature: all
        // are in `f`, so the catalog is cut instead.
        let start = Instant::now();
        let out = Command::new(egress)
            .args(&args)
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ok = doc["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["verdict"] == "ok")
            .count();
        (elapsed, ok)
    };

    // 1. The reachable endpoints only: a catalog of the first 200.
    let full = std::fs::read_to_string(d.join("catalog.toml")).unwrap();
    let first: String = full
        .split("\n[[endpoint]]")
        .take(REACHABLE + 1)
        .collect::<Vec<_>>()
        .join("\n[[endpoint]]");
    std::fs::write(d.join("catalog.toml"), &first).unwrap();
    let (t1, ok1) = check(REACHABLE);
    std::fs::write(d.join("catalog.toml"), &full).unwrap();
    let (t2, ok2) = check(REACHABLE + SILENT);

    // Baselines over the same URLs, with the same timeouts.
    let curl_args = |h: &str, port: u16| -> Vec<String> {
        vec![
            "-s".into(),
            "-o".into(),
            "/dev/null".into(),
            "--cacert".into(),
            ca.to_str().unwrap().into(),
            "--connect-timeout".into(),
            "3".into(),
            "--max-time".into(),
            "3".into(),
            "--resolve".into(),
            format!("{h}:{port}:127.0.0.1"),
            "-I".into(),
            format!("https://{h}:{port}/"),
        ]
    };
    let start = Instant::now();
    for (h, port) in &hosts {
        let _ = Command::new("curl").args(curl_args(h, *port)).status();
    }
    let sequential = start.elapsed();

    let mut list = String::new();
    for (h, port) in &hosts {
        list.push_str(&curl_args(h, *port).join(" "));
        list.push('\n');
    }
    std::fs::write(d.join("curl-args"), list).unwrap();
    let start = Instant::now();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "xargs -P 16 -L 1 curl < {}",
            d.join("curl-args").display()
        ))
        .stdout(Stdio::null())
        .status();
    let parallel = start.elapsed();

    let s = |d: Duration| d.as_secs_f64();
    println!(
        "egress check, {REACHABLE} reachable HTTPS endpoints: {:.3} s, {ok1} ok (target < 0.5 s)",
        s(t1)
    );
    println!(
        "egress check, {REACHABLE} reachable + {SILENT} silent, 3 s timeout: {:.3} s, {ok2} ok (target <= 3.5 s)",
        s(t2)
    );
    println!(
        "sequential curl loop, same {} URLs and timeouts: {:.1} s ({:.1}x egress)",
        hosts.len(),
        s(sequential),
        s(sequential) / s(t2)
    );
    println!(
        "xargs -P 16 curl, same URLs and timeouts: {:.1} s ({:.1}x egress)",
        s(parallel),
        s(parallel) / s(t2)
    );
}
