//! `egress audit log` against GNU awk and grep on one Squid access.log
//! (issue 22), in the same run, on the page cache (BENCHMARKS.md):
//!
//! - a generated log of 2,000,000 requests (about 300 MB) over 200,000
//!   distinct hosts, a third of them catalog hosts, 5 % denied
//!   (`egress_bench::squid_access_log`), kept in `target/bench-data`;
//! - `grep -c DENIED` (counts the denied lines);
//! - a gawk script that extracts the host of every denied line
//!   (CONNECT's `host:port` included) and counts each;
//! - `egress audit log FILE --input squid --format json`, the release
//!   binary on the embedded catalog, every feature and role.
//!
//! Targets: egress at least 3x gawk's throughput, and within 2x of
//! grep's time. grep and gawk run on one core; egress on a thread per
//! core (its CPU time is printed too, for MB/s per core).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use egress_test_support::tools::Tool;

const AWK: &str = r#"$4 ~ /DENIED/ {
    u = $7
    if ($6 == "CONNECT") { sub(/:[0-9]+$/, "", u) }
    else { sub(/^[a-z]+:\/\//, "", u); sub(/[\/:?].*$/, "", u) }
    n[u]++
}
END { for (h in n) print n[h], h }"#;

/// The wall-clock time of `command`, its output read through a pipe
/// (GNU grep stops at the first match when its output is /dev/null).
fn seconds(mut command: Command) -> f64 {
    let start = Instant::now();
    let out = command
        .stdout(Stdio::piped())
        .output()
        .expect("the command runs");
    let took = start.elapsed().as_secs_f64();
    let status = out.status;
    // grep -c and audit exit 1 when they find nothing / something.
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "{command:?}: {status}"
    );
    took
}

/// The user and system CPU time of `command` (its children's, from
/// `getrusage` through `/usr/bin/time`'s format).
fn cpu_seconds(command: Command) -> f64 {
    let time = Tool::program("time", "Debian package time").path();
    let out = Command::new(time)
        .args(["-f", "%U %S"])
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let last = text.lines().last().unwrap_or_default();
    last.split_whitespace()
        .map(|n| n.parse::<f64>().expect("seconds"))
        .sum()
}

fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).expect("target/bench-data");
    let log = dir.join("squid-access-2m.log");
    if !log.exists() {
        let file = std::fs::File::create(&log).expect("the log file");
        let mut out = std::io::BufWriter::new(file);
        egress_bench::squid_access_log(&mut out, 2_000_000, 200_000, 20).expect("writing the log");
    }
    let mb = std::fs::metadata(&log).expect("the log").len() as f64 / 1e6;
    // On the page cache, for all three.
    std::fs::read(&log).expect("the log");
    let gawk = Tool::program("gawk", "Debian package gawk").path();
    let grep = Tool::program("grep", "Debian package grep").path();
    let egress = env!("CARGO_BIN_EXE_egress");
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..5 {
        let mut c = Command::new(&grep);
        c.args(["-c", "DENIED"]).arg(&log);
        times[0].push(seconds(c));
        let mut c = Command::new(&gawk);
        c.arg(AWK).arg(&log);
        times[1].push(seconds(c));
        let mut c = Command::new(egress);
        c.args(["audit", "log", "--input", "squid", "--format", "json"])
            .arg(&log);
        times[2].push(seconds(c));
    }
    let [grep_s, gawk_s, egress_s] = times.map(median);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "audit log: {mb:.0} MB Squid access.log, 2,000,000 requests, 200,000 distinct hosts, 5 % denied; median of 5; grep and gawk one core, egress {cores} threads"
    );
    for (name, s) in [
        ("grep -c DENIED", grep_s),
        ("gawk (denied hosts)", gawk_s),
        ("egress audit log", egress_s),
    ] {
        println!("  {name:<22} {s:>7.3} s  {:>7.0} MB/s", mb / s);
    }
    println!(
        "  egress / gawk throughput: {:.2}x (target: at least 3x); egress time / grep time: {:.2}x (target: at most 2x)",
        gawk_s / egress_s,
        egress_s / grep_s
    );
    // CPU time of one more run: MB/s per core.
    let mut c = Command::new(egress);
    c.args(["audit", "log", "--input", "squid", "--format", "json"])
        .arg(&log);
    let cpu = cpu_seconds(c);
    println!(
        "  egress CPU time {cpu:.3} s: {:.0} MB/s per core",
        mb / cpu
    );
}
