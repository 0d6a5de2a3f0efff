//! `egress audit allowlist --input squid` on a generated Squid
//! configuration of 50,000 lines (BENCHMARKS.md): every catalog pattern in
//! `dstdomain` and `dstdom_regex` acls, the rest generated hosts, behind
//! `http_access` rules; the release binary on the embedded catalog, every
//! feature and role, as a user runs it.
//!
//! Target: within 10 % of the previous commit, measured in the same run:
//! give that commit's release binary as `EGRESS_BASELINE` (the two run in
//! turns, 11 rounds, medians).
//!
//! ```text
//! git worktree add /tmp/prev HEAD~1
//! (cd /tmp/prev && CARGO_TARGET_DIR=/tmp/prev-target cargo build --release -p egress)
//! EGRESS_BASELINE=/tmp/prev-target/release/egress cargo bench -p egress --bench squid_config
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Writes the configuration (once) and gives its path.
fn configuration(dir: &Path) -> PathBuf {
    let conf = dir.join("squid-acl-50k.conf");
    if conf.exists() {
        return conf;
    }
    let mut text = String::from("acl CONNECT method CONNECT\nacl ssl port 443 80\n");
    let catalog = egress_bench::catalog_patterns();
    for p in &catalog {
        let line = match p.as_str().strip_prefix("*.") {
            Some(suffix) => format!("acl site dstdomain .{suffix}\n"),
            None if p.as_str().contains('*') => format!(
                "acl site_re dstdom_regex -i ^{}$\n",
                p.as_str().replace('.', "\\.").replace('*', "[^.]+")
            ),
            None => format!("acl site dstdomain {p}\n"),
        };
        text.push_str(&line);
    }
    for i in 0..(49_990 - catalog.len()) {
        text.push_str(&format!(
            "acl site dstdomain host{i}.site{}.example.net\n",
            i % 997
        ));
    }
    text.push_str("http_access deny CONNECT !ssl\nhttp_access allow site\nhttp_access allow site_re\nhttp_access deny all\n");
    std::fs::write(&conf, text).expect("the configuration");
    conf
}

/// One run of `egress audit allowlist` on `conf`.
fn audit(egress: &Path, conf: &Path) {
    let status = Command::new(egress)
        .args(["audit", "allowlist", "--input", "squid", "--format", "json"])
        .arg(conf)
        .stdout(Stdio::null())
        .status()
        .expect("egress runs");
    // Exit 1: a row is blocked; anything else is a failed run.
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "{egress:?}: {status}"
    );
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).expect("target/bench-data");
    let conf = configuration(&dir);
    let lines = std::fs::read_to_string(&conf)
        .expect("the configuration")
        .lines()
        .count();
    let egress = Path::new(env!("CARGO_BIN_EXE_egress"));
    let baseline = std::env::var_os("EGRESS_BASELINE").map(PathBuf::from);
    const ROUNDS: usize = 11;
    match baseline {
        Some(base) => {
            let (now, before) =
                egress_bench::median_pair(ROUNDS, || audit(egress, &conf), || audit(&base, &conf));
            let ratio = now.as_secs_f64() / before.as_secs_f64();
            println!(
                "audit allowlist, a {lines}-line Squid configuration: {:.3} s, the baseline {:.3} s: {:.2}x (median of {ROUNDS} rounds in turns; target: within 1.10x)",
                now.as_secs_f64(),
                before.as_secs_f64(),
                ratio
            );
        }
        None => {
            let (now, ()) = egress_bench::median(ROUNDS, || audit(egress, &conf));
            println!(
                "audit allowlist, a {lines}-line Squid configuration: {:.3} s (median of {ROUNDS}; give EGRESS_BASELINE for the comparison)",
                now.as_secs_f64()
            );
        }
    }
}
