//! `egress check` of 200 HTTPS endpoints through a real Squid that offers
//! Basic and NTLM, the whole process as a user runs it: `--proxy-auth
//! ntlm`, `--proxy-auth auto` (which picks NTLM from the first 407, then
//! starts each connection with it) and `--proxy-auth basic`, in the same
//! run, against the same Squid: NTLM checked by the pyspnego helper of the
//! test support crate (passwords verified, in Python), Basic by
//! `basic_ncsa_auth`. (Squid's C `ntlm_fake_auth` cannot stand in for the
//! helper: its CHALLENGE has no target information, which NTLMv2 needs, and
//! egress refuses it.) Median of 5 runs of
//! each after a warm-up run (Squid starts helpers on demand); every
//! endpoint must be reachable in every run. Also the CPU time Squid and its
//! helpers spent per run, from /proc.
//!
//! Target (issue 19): NTLM at most 1.5x Basic.
//!
//! Run: `cargo bench -p egress --bench proxy_auth` (Linux; needs squid and
//! pyspnego: scripts/test installs them).

use std::process::{Command, Stdio};
use std::time::Duration;

use egress_test_support::origin::https_origin;
use egress_test_support::squid::{self, Squid};

const ENDPOINTS: usize = 200;
const RUNS: usize = 5;

/// CPU seconds used so far by Squid and its helpers (the processes whose
/// command line mentions `squid` or `_helper.py`).
fn squid_cpu() -> f64 {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmd = std::fs::read_to_string(entry.path().join("cmdline")).unwrap_or_default();
        if !cmd.contains("squid") && !cmd.contains("_helper.py") {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // utime and stime, after the parenthesised command name.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        if let (Some(u), Some(s)) = (fields.get(11), fields.get(12)) {
            total += (u.parse::<f64>().unwrap_or(0.0) + s.parse::<f64>().unwrap_or(0.0)) / 100.0;
        }
    }
    total
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, port) = https_origin(&["*.bench.egress.test"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let hosts = egress_bench::bench_hosts(ENDPOINTS);
    std::fs::write(
        d.join("catalog.toml"),
        egress_bench::https_catalog(&hosts, port),
    )
    .unwrap();
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let egress = env!("CARGO_BIN_EXE_egress");

    let check = |proxy: &Squid, mode: &str, user: &str| {
        let out = Command::new(egress)
            .args([
                "check",
                "--catalog",
                d.join("catalog.toml").to_str().unwrap(),
                "--ca-file",
                d.join("ca.pem").to_str().unwrap(),
                "--proxy",
                &format!("http://127.0.0.1:{}", proxy.port),
                "--proxy-auth",
                mode,
                "--progress",
                "never",
                "--format",
                "json",
            ])
            .env("EGRESS_PROXY_USER", user)
            .env("EGRESS_PROXY_PASSWORD", "s3cret")
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let endpoints = doc["endpoints"].as_array().unwrap();
        let failed: Vec<String> = endpoints
            .iter()
            .filter(|e| e["verdict"] == "failed")
            .map(|e| e["reason"].to_string())
            .collect();
        assert!(failed.is_empty(), "--proxy-auth {mode}: {failed:?}");
        endpoints[0]["proxy_auth"]["used"]
            .as_str()
            .unwrap_or("none")
            .to_owned()
    };
    let s = |d: Duration| d.as_secs_f64();
    let measure = |title: &str, proxy: &Squid| {
        check(proxy, "ntlm", "CONTOSO\\alice");
        check(proxy, "basic", "alice");
        let cpu = squid_cpu();
        let (ntlm, used) = egress_bench::median(RUNS, || check(proxy, "ntlm", "CONTOSO\\alice"));
        let ntlm_cpu = (squid_cpu() - cpu) / RUNS as f64;
        assert_eq!(used, "NTLM");
        let (auto, used) = egress_bench::median(RUNS, || check(proxy, "auto", "CONTOSO\\alice"));
        assert_eq!(used, "NTLM");
        let cpu = squid_cpu();
        let (basic, used) = egress_bench::median(RUNS, || check(proxy, "basic", "alice"));
        let basic_cpu = (squid_cpu() - cpu) / RUNS as f64;
        assert_eq!(used, "Basic");
        println!("{title}:");
        println!(
            "  --proxy-auth ntlm   {:.3} s  {:.2}x Basic  (target: at most 1.5x)  Squid and helpers: {ntlm_cpu:.2} CPU s a run",
            s(ntlm),
            s(ntlm) / s(basic)
        );
        println!(
            "  --proxy-auth auto   {:.3} s  {:.2}x Basic  (picks NTLM)",
            s(auto),
            s(auto) / s(basic)
        );
        println!(
            "  --proxy-auth basic  {:.3} s                                   Squid and helpers: {basic_cpu:.2} CPU s a run",
            s(basic)
        );
    };

    println!(
        "{ENDPOINTS} HTTPS endpoints through Squid (Basic and NTLM offered), median of {RUNS} whole-process runs each:"
    );
    let folder = squid::folder();
    let rules = squid::ntlm_rules(folder.path(), &[("CONTOSO", "alice", "s3cret")], true);
    let proxy = Squid::start(folder, &names, &rules);
    measure("NTLM verified by the pyspnego helper", &proxy);
}
