//! `egress check` of 200 HTTPS endpoints on loopback, the whole process as
//! a user runs it (the test CA given with `--ca-file`, which the platform
//! verifier takes as an extra root; default concurrency), against a
//! sequential `curl` loop and `xargs -P 16 curl` over the same URLs, in
//! the same run. Median of 5 runs of each. Also with `--roots-only` (the
//! tests' path, no platform trust store), for comparison.
//!
//! Target (issue 15): the default path at least 15x the sequential loop and
//! 5x `xargs -P 16 curl`.
//!
//! Run: `cargo bench -p egress --bench check` (needs curl and xargs).

use std::process::{Command, Stdio};
use std::time::Duration;

use egress_test_support::origin::https_origin;

const ENDPOINTS: usize = 200;
const RUNS: usize = 5;

fn median<T>(f: impl FnMut() -> T) -> (Duration, T) {
    egress_bench::median(RUNS, f)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, port) = https_origin(&["*.bench.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let hosts = egress_bench::bench_hosts(ENDPOINTS);
    let catalog = egress_bench::https_catalog(&hosts, port);
    std::fs::write(d.join("catalog.toml"), catalog).unwrap();
    let ca_file = d.join("ca.pem");
    let egress = env!("CARGO_BIN_EXE_egress");

    let check = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "check",
            "--catalog",
            d.join("catalog.toml").to_str().unwrap(),
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--progress",
            "never",
            "--format",
            "json",
        ]
        .map(String::from)
        .to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        for h in &hosts {
            args.push("--resolve".to_owned());
            args.push(format!("{h}:{port}:127.0.0.1"));
        }
        let out = Command::new(egress)
            .args(&args)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // Reachable: ok, or a warning (the test CA is not a public one).
        doc["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["verdict"] == "ok" || e["verdict"] == "warning")
            .count()
    };
    let curl_args = |h: &str| -> Vec<String> {
        vec![
            "-s".into(),
            "-o".into(),
            "/dev/null".into(),
            "--cacert".into(),
            ca_file.to_str().unwrap().into(),
            "--connect-timeout".into(),
            "3".into(),
            "--max-time".into(),
            "5".into(),
            "--resolve".into(),
            format!("{h}:{port}:127.0.0.1"),
            "-I".into(),
            format!("https://{h}:{port}/"),
        ]
    };
    let mut list = String::new();
    for h in &hosts {
        list.push_str(&curl_args(h).join(" "));
        list.push('\n');
    }
    std::fs::write(d.join("curl-args"), list).unwrap();

    let (default_path, ok) = median(|| check(&[]));
    let (roots_only, ok_roots) =
        median(|| check(&["--public-roots", ca_file.to_str().unwrap(), "--roots-only"]));
    let (sequential, _) = median(|| {
        for h in &hosts {
            let _ = Command::new("curl").args(curl_args(h)).status();
        }
    });
    let (parallel, _) = median(|| {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "xargs -P 16 -L 1 curl < {}",
                d.join("curl-args").display()
            ))
            .stdout(Stdio::null())
            .status();
    });

    let s = |d: Duration| d.as_secs_f64();
    println!("{ENDPOINTS} HTTPS endpoints on loopback, median of {RUNS} whole-process runs each:");
    println!(
        "  egress check (default path)      {:.3} s  {ok} reachable  {:.1}x sequential curl, {:.1}x xargs -P 16 curl  (targets: 15x, 5x)",
        s(default_path),
        s(sequential) / s(default_path),
        s(parallel) / s(default_path)
    );
    println!(
        "  egress check --roots-only        {:.3} s  {ok_roots} reachable",
        s(roots_only)
    );
    println!("  sequential curl loop             {:.3} s", s(sequential));
    println!("  xargs -P 16 curl                 {:.3} s", s(parallel));
}
