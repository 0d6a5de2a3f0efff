//! What the benchmarks under `benches/` share: a counting allocator, for
//! memory per pattern, and test data built from the embedded catalog or
//! generated. Benchmarks only; nothing here ships.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use egress_catalog::catalog::{Cloud, Destination, PlaceholderKind};
use egress_catalog::embedded;
use egress_catalog::plan::{self, Plan, Request};
use egress_pattern::HostPattern;

/// The system allocator, counting the bytes currently allocated. A bench
/// installs it with `#[global_allocator]`.
#[derive(Debug)]
pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Bytes currently allocated through [`Counting`].
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

// Unsafe because `GlobalAlloc` is: every call forwards to `System` with the
// same arguments, so its contract holds; the counter only observes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Every distinct host pattern of every embedded revision, placeholders
/// filled with stand-ins.
pub fn catalog_patterns() -> Vec<HostPattern> {
    let mut out: Vec<HostPattern> = Vec::new();
    for c in embedded::all().expect("the embedded catalogs are valid") {
        for e in &c.endpoints {
            let host = match &e.destination {
                Destination::Host(h) => h,
                Destination::Url(u) => &u.host,
            };
            let pattern = host
                .resolve(|name| {
                    Some(match c.placeholder(name).map(|p| p.kind) {
                        Some(PlaceholderKind::Host) => "sup01.contoso.com",
                        _ => "granitefalls",
                    })
                })
                .expect("stand-ins make valid patterns");
            if !out.contains(&pattern) {
                out.push(pattern);
            }
        }
    }
    out
}

/// `n` generated patterns: 70 % exact hosts, 25 % `*.suffix`, 5 % in-label
/// (`*-kN.domain.tld`), over many domains.
pub fn generated_patterns(n: usize) -> Vec<HostPattern> {
    (0..n)
        .map(|i| {
            let domain = format!("d{}.example{}.com", i % 9973, i % 7);
            let text = match i % 20 {
                0 => format!("*-k{i}.{domain}"),
                1..=5 => format!("*.s{i}.{domain}"),
                _ => format!("w{i}.{domain}"),
            };
            HostPattern::parse(&text).expect("generated patterns are valid")
        })
        .collect()
}

/// Hosts that hit a pattern: an instance of each of the first `n` patterns.
pub fn hits(patterns: &[HostPattern], n: usize) -> Vec<String> {
    let step = (patterns.len() / n).max(1);
    patterns
        .iter()
        .step_by(step)
        .take(n)
        .map(|p| p.as_str().replacen('*', "x", 1))
        .collect()
}

/// Hosts that miss every pattern, shaped like the hits.
pub fn misses(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("m{i}.d{}.nomatch{}.com", i % 9973, i % 7))
        .collect()
}

/// Every feature and role of the public cloud, on a fixed day.
pub fn latest_request() -> Request {
    Request {
        cloud: Cloud::Public,
        version: None,
        as_of: jiff::civil::date(2026, 1, 1),
        features: None,
        roles: Vec::new(),
        placeholders: Default::default(),
        exclude: Default::default(),
    }
}

/// The plan of the embedded latest revision: every feature, public cloud.
pub fn latest_plan() -> Plan {
    let catalog = embedded::revision("latest")
        .expect("the embedded catalogs are valid")
        .expect("a latest revision");
    plan::resolve(&catalog, &latest_request())
}

/// A plan of `n` rows with generated patterns (the mix of
/// [`generated_patterns`]), each like a required HTTPS row of the catalog.
pub fn generated_plan(n: usize) -> Plan {
    let mut plan = latest_plan();
    let template = plan
        .rows
        .iter()
        .find(|r| r.status == plan::Status::Required && r.path.is_none() && r.pattern.is_some())
        .expect("a required row")
        .clone();
    plan.rows = generated_patterns(n)
        .into_iter()
        .map(|p| {
            let mut row = template.clone();
            row.host = p.as_str().to_owned();
            row.pattern = Some(p);
            row
        })
        .collect();
    plan
}

/// The median of `runs` timings of `f`, and its last result.
pub fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> (std::time::Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = std::time::Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], last.expect("at least one run"))
}

/// The medians of `rounds` timings of `a` and of `b`, run in turns (so
/// that both see the same machine).
pub fn median_pair(
    rounds: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (std::time::Duration, std::time::Duration) {
    let mut ta = Vec::with_capacity(rounds);
    let mut tb = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let start = std::time::Instant::now();
        a();
        ta.push(start.elapsed());
        let start = std::time::Instant::now();
        b();
        tb.push(start.elapsed());
    }
    ta.sort();
    tb.sort();
    (ta[ta.len() / 2], tb[tb.len() / 2])
}

/// `n` host names under `*.bench.egress.test` (`h0.bench.egress.test`,
/// ...), which one test origin's certificate covers.
pub fn bench_hosts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("h{i}.bench.egress.test")).collect()
}

/// A catalog (TOML) of one feature, `f`, with an HTTPS endpoint on `port`
/// for each of `hosts`.
pub fn https_catalog(hosts: &[String], port: u16) -> String {
    let mut catalog = String::from(
        "[catalog]\nid = \"bench\"\ntitle = \"Bench\"\nvendor = \"egress\"\nproduct = \"bench\"\nrevision = \"1\"\ndescribes = 2026-01-01\n\n[[page]]\nid = \"p\"\ntitle = \"P\"\nlanguage = \"en-US\"\n\n[[feature]]\nid = \"f\"\ntitle = \"F\"\npage = \"p\"\nsection = \"F\"\n",
    );
    for (i, h) in hosts.iter().enumerate() {
        catalog.push_str(&format!(
            "\n[[endpoint]]\nid = \"e{i}\"\nurl = \"https://{h}:{port}/\"\nfeatures = [\"f\"]\n"
        ));
    }
    catalog
}

/// A process a benchmark started: killed when dropped; its memory and CPU
/// from /proc (Linux).
#[derive(Debug)]
pub struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    fn stat(&self, field: &str) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// Resident memory, MiB.
    pub fn rss(&self) -> f64 {
        self.stat("VmRSS:") / 1024.0
    }

    /// Resident memory, MiB, and of it the heap and stacks (anonymous)
    /// and the program's mapped files.
    pub fn memory(&self) -> String {
        format!(
            "{:.1} MiB (anonymous {:.1}, files {:.1})",
            self.rss(),
            self.stat("RssAnon:") / 1024.0,
            self.stat("RssFile:") / 1024.0
        )
    }

    /// CPU seconds used so far.
    pub fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
    }
}

/// Writes a Squid native access.log of `lines` requests over about
/// `hosts` distinct hosts, for `audit log`'s benchmark: a third of the
/// requests go to catalog hosts (instances of wildcards among them), the
/// rest to generated ones; 60 % are tunnels, the rest plain HTTP; one in
/// `denied_every` is denied. The same arguments make the same file.
pub fn squid_access_log(
    out: &mut impl std::io::Write,
    lines: usize,
    hosts: usize,
    denied_every: usize,
) -> std::io::Result<()> {
    let catalog: Vec<String> = catalog_patterns()
        .iter()
        .map(|p| p.as_str().replacen('*', "n7", 1))
        .collect();
    // xorshift64*: fixed seed, no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut time = 1_796_000_000_000u64;
    for i in 0..lines {
        let r = next();
        time += r % 40;
        let host = if r % 3 == 0 {
            catalog[(r >> 8) as usize % catalog.len()].clone()
        } else {
            let k = (r >> 16) as usize % hosts;
            format!("host{k}.site{}.example.net", k % 997)
        };
        let client = format!(
            "10.{}.{}.{}",
            (r >> 24) % 4,
            (r >> 32) % 256,
            (r >> 40) % 250 + 1
        );
        let denied = i % denied_every == 0;
        let tunnel = (r >> 48) % 10 < 6;
        let (action, status, bytes) = match (denied, tunnel) {
            (true, _) => ("TCP_DENIED", 403, 3_942),
            (false, true) => ("TCP_TUNNEL", 200, 4_000 + (r >> 20) % 90_000),
            (false, false) => ("TCP_MISS", 200, 300 + (r >> 20) % 9_000),
        };
        let hierarchy = if denied {
            "HIER_NONE/-"
        } else {
            "HIER_DIRECT/192.0.2.7"
        };
        let elapsed = (r >> 36) % 3_000;
        if tunnel {
            writeln!(
                out,
                "{}.{:03} {elapsed:>6} {client} {action}/{status} {bytes} CONNECT {host}:443 - {hierarchy} -",
                time / 1000,
                time % 1000
            )?;
        } else {
            writeln!(
                out,
                "{}.{:03} {elapsed:>6} {client} {action}/{status} {bytes} GET http://{host}/path/{}/item?id={} - {hierarchy} text/html",
                time / 1000,
                time % 1000,
                r % 97,
                r % 100_000
            )?;
        }
    }
    Ok(())
}
