//! `egress explain -` over a million hosts read from standard input, in one
//! process, against `grep -F -f` over the same list (a rough floor for plain
//! string matching) and against one process per host (measured on a sample).
//!
//! Run: `cargo bench -p egress --bench explain_stdin` (builds the release
//! binary; needs `grep` on the PATH).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOSTS: usize = 1_000_000;
const SAMPLE: usize = 200;

/// A million hosts: 30 % that the catalog covers, 10 % near misses, 60 %
/// that it does not know.
fn hosts() -> Vec<String> {
    let known = [
        "go.microsoft.com",
        "download.microsoft.com",
        "login.microsoftonline.com",
        "configmgrbits.cdn.manage.microsoft.com",
        "aka.ms",
        "github.com",
        "dl.delivery.mp.microsoft.com",
    ];
    let wild = [
        "manage.microsoft.com",
        "update.microsoft.com",
        "windowsupdate.com",
        "events.data.microsoft.com",
    ];
    (0..HOSTS)
        .map(|i| match i % 10 {
            0 | 1 => known[i % known.len()].to_owned(),
            2 => format!("h{i}.{}", wild[i % wild.len()]),
            3 => match i % 3 {
                0 => wild[i % wild.len()].to_owned(),
                1 => format!("x.{}.evil.test", wild[i % wild.len()]),
                _ => format!("evil{}", known[i % known.len()]),
            },
            _ => format!("www{i}.site{}.example.org", i % 5000),
        })
        .collect()
}

/// Times a command reading `stdin` and writing to a file: GNU grep stops at
/// the first match when its output is /dev/null, so nothing writes there.
fn time(mut command: Command, stdin: &str, out: &std::path::Path) -> Duration {
    let start = Instant::now();
    let status = command
        .stdin(File::open(stdin).expect("hosts file"))
        .stdout(File::create(out).expect("output file"))
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    let elapsed = start.elapsed();
    // explain exits 1 when some input matched nothing; grep 0.
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "{command:?}: {status}"
    );
    elapsed
}

fn main() {
    let egress = env!("CARGO_BIN_EXE_egress");
    let dir = std::env::temp_dir().join(format!("egress-explain-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts_path = dir.join("hosts.txt");
    let patterns_path = dir.join("patterns.txt");
    let hosts = hosts();
    let mut w = BufWriter::new(File::create(&hosts_path).unwrap());
    for h in &hosts {
        writeln!(w, "{h}").unwrap();
    }
    w.flush().unwrap();
    // grep's pattern list: every catalog host, as fixed strings.
    let plain = Command::new(egress)
        .args(["plan", "--format", "csv"])
        .output()
        .expect("egress plan");
    let mut p = BufWriter::new(File::create(&patterns_path).unwrap());
    for line in String::from_utf8(plain.stdout).unwrap().lines().skip(1) {
        let host = line
            .split(',')
            .next()
            .unwrap_or("")
            .trim_start_matches("*.");
        if !host.is_empty() && !host.contains('<') && !host.contains('*') {
            writeln!(p, "{host}").unwrap();
        }
    }
    p.flush().unwrap();
    let hosts_file = hosts_path.to_str().unwrap();

    let mut results = Vec::new();
    for (name, args) in [
        (
            "egress explain - --format jsonl",
            vec!["explain", "-", "--format", "jsonl"],
        ),
        ("egress explain - (table)", vec!["explain", "-"]),
    ] {
        let mut c = Command::new(egress);
        c.args(&args);
        results.push((name, time(c, hosts_file, &dir.join("out"))));
    }
    let mut grep = Command::new("grep");
    grep.args(["-F", "-f", patterns_path.to_str().unwrap()]);
    let grep_t = time(grep, hosts_file, &dir.join("out"));

    // One process per host, on a sample.
    let start = Instant::now();
    for h in hosts.iter().take(SAMPLE) {
        Command::new(egress)
            .args(["explain", h])
            .stdout(Stdio::null())
            .status()
            .expect("runs");
    }
    let per_process = start.elapsed() / SAMPLE as u32;

    println!(
        "{HOSTS} hosts ({} MB) on stdin:",
        std::fs::metadata(&hosts_path).unwrap().len() / 1_000_000
    );
    let rate = |d: Duration| HOSTS as f64 / d.as_secs_f64();
    for (name, t) in &results {
        println!(
            "  {name:<34} {:>8.2?}  {:>10.0} hosts/s  {:>5.1}x grep -F -f",
            t,
            rate(*t),
            t.as_secs_f64() / grep_t.as_secs_f64()
        );
    }
    println!(
        "  {:<34} {:>8.2?}  {:>10.0} hosts/s",
        "grep -F -f (floor)",
        grep_t,
        rate(grep_t)
    );
    println!(
        "  {:<34} {:>8.2?} per host: {:.0} hosts/s, {:.0}x slower than one process",
        "one process per host",
        per_process,
        1.0 / per_process.as_secs_f64(),
        per_process.as_secs_f64() * HOSTS as f64 / results[0].1.as_secs_f64()
    );
    std::fs::remove_dir_all(&dir).ok();
}
