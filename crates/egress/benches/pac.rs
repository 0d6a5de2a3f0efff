//! `egress pac eval` against `pactester -f` (libpacparser), the whole
//! process as a user runs it, on the same 10,000 URLs in the same run:
//! egress's own rendered PAC for the full catalog, and a 300-rule
//! corporate-style PAC. Median of 5 runs of each; the answers must agree.
//!
//! Target (issue 18): within 2x of pactester. To hold egress to a
//! previous commit as well (issue 35: within 1.10x), give that commit's
//! release binary as `EGRESS_BASELINE`: it runs in turns with this one.
//!
//! ```text
//! git worktree add /tmp/prev HEAD~1
//! (cd /tmp/prev && CARGO_TARGET_DIR=/tmp/prev-target cargo build --release -p egress)
//! EGRESS_BASELINE=/tmp/prev-target/release/egress cargo bench -p egress --bench pac
//! ```
//!
//! Run: `cargo bench -p egress --bench pac` (needs pactester).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const URLS: usize = 10_000;
const RUNS: usize = 5;

fn median(f: impl FnMut() -> Vec<u8>) -> (Duration, Vec<u8>) {
    egress_bench::median(RUNS, f)
}

/// A corporate PAC file of `rules` rules: domains direct, shell
/// expressions to proxies, address ranges (only for hosts written as
/// addresses: no DNS), and a default.
fn corporate(rules: usize) -> String {
    let mut out = String::from(
        "function FindProxyForURL(url, host) {\n  var ip = /^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$/.test(host);\n  if (isPlainHostName(host)) return \"DIRECT\";\n",
    );
    for i in 0..rules {
        out.push_str(&match i % 4 {
            0 => format!("  if (dnsDomainIs(host, \".dept{i}.contoso.com\")) return \"DIRECT\";\n"),
            1 => format!("  if (shExpMatch(host, \"*.app{i}.fabrikam.net\")) return \"PROXY p{i}.contoso.com:8080; DIRECT\";\n"),
            2 => format!(
                "  if (ip && isInNet(host, \"10.{}.0.0\", \"255.255.0.0\")) return \"DIRECT\";\n",
                i % 256
            ),
            _ => format!("  if (shExpMatch(url, \"https://svc{i}.example.org/*\")) return \"PROXY q{i}.contoso.com:3128\";\n"),
        });
    }
    out.push_str("  return \"PROXY default.contoso.com:8080\";\n}\n");
    out
}

fn urls(plan_hosts: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(URLS);
    let mut i = 0usize;
    while out.len() < URLS {
        let h = match i % 6 {
            0 => plan_hosts[i % plan_hosts.len()].clone(),
            1 => format!("a{i}.dept{}.contoso.com", (i * 4) % 300),
            2 => format!("x.app{}.fabrikam.net", (i * 4 + 1) % 300),
            3 => format!("10.{}.{}.{}", i % 256, (i / 7) % 256, i % 200),
            4 => format!("svc{}.example.org", (i * 4 + 3) % 300),
            _ => format!("elsewhere{i}.example"),
        };
        let scheme = if i.is_multiple_of(3) { "http" } else { "https" };
        out.push(format!("{scheme}://{h}/path/{i}"));
        i += 1;
    }
    out
}

fn main() {
    let pactester = egress_test_support::tools::PACTESTER.path();
    let egress = env!("CARGO_BIN_EXE_egress");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let own = d.join("egress.pac");
    let status = Command::new(egress)
        .args(["render", "pac", "-o", own.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(d.join("corporate.pac"), corporate(300)).unwrap();
    let plan = Command::new(egress)
        .args(["plan", "--format", "json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let hosts: Vec<String> = plan["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["host"].as_str())
        .filter(|h| !h.contains('<'))
        .map(|h| h.replace('*', "eu"))
        .collect();
    let list = d.join("urls.txt");
    std::fs::write(&list, urls(&hosts).join("\n") + "\n").unwrap();

    let baseline = std::env::var_os("EGRESS_BASELINE").map(std::path::PathBuf::from);
    println!("PAC evaluation, {URLS} URLs, median of {RUNS} (the whole process):");
    for name in ["egress.pac", "corporate.pac"] {
        let pac = d.join(name);
        let eval = |binary: &Path| {
            let out = Command::new(binary)
                .args(["pac", "eval", "--client-ip", "10.1.2.3", "--pac"])
                .arg(&pac)
                .arg("--urls-file")
                .arg(&list)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        if let Some(base) = &baseline {
            let (now, before) = egress_bench::median_pair(
                RUNS,
                || {
                    eval(Path::new(egress));
                },
                || {
                    eval(base);
                },
            );
            println!(
                "  {name:14} egress {:>8.1} ms   the baseline {:>8.1} ms   ratio {:.2}x (in turns; target: within 1.10x)",
                now.as_secs_f64() * 1e3,
                before.as_secs_f64() * 1e3,
                now.as_secs_f64() / before.as_secs_f64()
            );
        }
        let (ours, our_out) = median(|| eval(Path::new(egress)));
        let (theirs, their_out) = median(|| {
            let out = Command::new(&pactester)
                .arg("-p")
                .arg(&pac)
                .arg("-f")
                .arg(&list)
                .args(["-c", "10.1.2.3"])
                .output()
                .unwrap();
            assert!(out.status.success());
            out.stdout
        });
        let answers = |out: &[u8], sep: &str| -> Vec<String> {
            String::from_utf8_lossy(out)
                .lines()
                .map(|l| l.split_once(sep).map_or(l, |(_, r)| r).to_owned())
                .collect()
        };
        assert_eq!(
            answers(&our_out, "\t"),
            answers(&their_out, " : "),
            "{name}: the answers differ"
        );
        println!(
            "  {name:14} egress {:>8.1} ms   pactester {:>8.1} ms   ratio {:.2}x",
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    }
}
