//! `HostSet` lookups per second, hits and misses, at catalog size and at
//! 10,000 and 1,000,000 generated patterns, side by side with:
//!
//! - a `HashSet` of the pattern texts: the floor (one hash lookup per host);
//! - `globset`, patterns translated to globs (its `*` crosses dots, so it is
//!   a speed baseline only), at every size;
//! - `regex::RegexSet`, up to 10,000 patterns (beyond that it does not build
//!   in reasonable time or memory).
//!
//! Also build time and memory per pattern (a counting allocator), and
//! normalization (lowercase, IDNA) on its own.
//!
//! Targets (issue 3): within 3x of the floor at every size; at least 10x
//! faster than globset at 1,000,000 patterns; under 128 bytes per pattern
//! at 1,000,000 patterns.
//!
//! Run: `cargo bench -p egress-bench --bench matcher`. Criterion reports
//! each lookup loop; the summary table at the end times all matchers on the
//! same hosts, interleaved, and prints the ratios.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use egress_bench::{Counting, allocated, catalog_patterns, generated_patterns, hits, misses};
use egress_pattern::{Host, HostPattern, HostSet};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::{RegexSet, RegexSetBuilder};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The largest size RegexSet is built for.
const REGEX_MAX: usize = 10_000;
/// Hosts per list (hits, misses).
const HOSTS: usize = 1000;

struct Matchers {
    floor: HashSet<String>,
    set: HostSet,
    glob: GlobSet,
    regex: Option<RegexSet>,
}

/// Builds `f`'s value, returning it with the time and the bytes it holds.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let before = allocated();
    let start = Instant::now();
    let value = f();
    let elapsed = start.elapsed();
    (value, elapsed, allocated().saturating_sub(before))
}

fn glob_of(p: &HostPattern) -> Glob {
    Glob::new(p.as_str()).expect("patterns are valid globs")
}

fn regex_of(p: &HostPattern) -> String {
    use egress_pattern::PatternKind;
    match p.kind() {
        PatternKind::Exact(h) => format!("^{}$", regex::escape(h)),
        PatternKind::Subdomains { suffix } => format!("^.+\\.{}$", regex::escape(suffix)),
        PatternKind::InLabel {
            prefix,
            suffix,
            parent,
        } => format!(
            "^{}[^.]+{}\\.{}$",
            regex::escape(prefix),
            regex::escape(suffix),
            regex::escape(parent)
        ),
        PatternKind::Ip(ip) => format!("^{}$", regex::escape(&ip.to_string())),
    }
}

struct Row {
    size: String,
    n: usize,
    builds: Vec<(&'static str, Duration, usize)>,
    lookups: Vec<(&'static str, f64)>,
}

fn build(patterns: &[HostPattern], row: &mut Row) -> Matchers {
    let (floor, t, m) = measured(|| {
        patterns
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect::<HashSet<_>>()
    });
    row.builds.push(("HashSet (floor)", t, m));
    let (set, t, m) = measured(|| HostSet::new(patterns));
    row.builds.push(("HostSet", t, m));
    let (glob, t, m) = measured(|| {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(glob_of(p));
        }
        b.build().expect("globset builds")
    });
    row.builds.push(("globset", t, m));
    let regex = (patterns.len() <= REGEX_MAX).then(|| {
        // The default size limits refuse 10,000 patterns; raise them.
        let (r, t, m) = measured(|| {
            RegexSetBuilder::new(patterns.iter().map(regex_of))
                .size_limit(1 << 30)
                .dfa_size_limit(1 << 30)
                .build()
                .expect("regex set builds")
        });
        row.builds.push(("RegexSet", t, m));
        r
    });
    Matchers {
        floor,
        set,
        glob,
        regex,
    }
}

/// Median nanoseconds per lookup over `rounds` passes over `hosts`.
fn ns_per_lookup(hosts: &[String], rounds: usize, mut f: impl FnMut(&str) -> bool) -> f64 {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let mut n = 0usize;
            for h in hosts {
                n += usize::from(f(black_box(h)));
            }
            black_box(n);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2].as_nanos() as f64 / hosts.len() as f64
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();

    let sizes: Vec<(String, Vec<HostPattern>)> = vec![
        ("catalog".to_owned(), catalog_patterns()),
        ("10000".to_owned(), generated_patterns(10_000)),
        ("1000000".to_owned(), generated_patterns(1_000_000)),
    ];
    let mut rows = Vec::new();
    for (size, patterns) in &sizes {
        let mut row = Row {
            size: size.clone(),
            n: patterns.len(),
            builds: Vec::new(),
            lookups: Vec::new(),
        };
        let m = build(patterns, &mut row);
        let hit = hits(patterns, HOSTS.min(patterns.len()));
        let miss = misses(HOSTS);
        for (kind, hosts) in [("hit", &hit), ("miss", &miss)] {
            let mut g = c.benchmark_group(format!("lookup/{size}/{kind}"));
            g.throughput(Throughput::Elements(hosts.len() as u64));
            g.bench_function("HashSet (floor)", |b| {
                b.iter(|| {
                    hosts
                        .iter()
                        .filter(|h| m.floor.contains(black_box(h.as_str())))
                        .count()
                })
            });
            g.bench_function("HostSet", |b| {
                b.iter(|| {
                    hosts
                        .iter()
                        .filter(|h| m.set.is_match_name(black_box(h)))
                        .count()
                })
            });
            g.bench_function("globset", |b| {
                b.iter(|| {
                    hosts
                        .iter()
                        .filter(|h| m.glob.is_match(black_box(h.as_str())))
                        .count()
                })
            });
            if let Some(r) = &m.regex {
                g.bench_function("RegexSet", |b| {
                    b.iter(|| hosts.iter().filter(|h| r.is_match(black_box(h))).count())
                });
            }
            g.finish();
        }

        // Interleaved, on hits and misses together, for the ratios.
        let all: Vec<String> = hit.iter().chain(&miss).cloned().collect();
        let rounds = 51;
        row.lookups.push((
            "HashSet (floor)",
            ns_per_lookup(&all, rounds, |h| m.floor.contains(h)),
        ));
        row.lookups.push((
            "HostSet",
            ns_per_lookup(&all, rounds, |h| m.set.is_match_name(h)),
        ));
        row.lookups.push((
            "HostSet::matches",
            ns_per_lookup(&all, rounds, |h| !m.set.matches_name(h).is_empty()),
        ));
        row.lookups.push((
            "globset",
            ns_per_lookup(&all, rounds.min(11), |h| m.glob.is_match(h)),
        ));
        if let Some(r) = &m.regex {
            row.lookups.push((
                "RegexSet",
                ns_per_lookup(&all, rounds.min(11), |h| r.is_match(h)),
            ));
        }
        // Sanity: the matchers agree on what the hit list hits, where they can.
        assert!(
            hit.iter().all(|h| m.set.is_match_name(h)),
            "every hit is a hit"
        );
        assert!(
            !miss.iter().any(|h| m.set.is_match_name(h)),
            "every miss is a miss"
        );
        rows.push(row);
    }

    // Normalization on its own: ASCII lowercasing and IDNA.
    let mut g = c.benchmark_group("normalize");
    let ascii: Vec<String> = misses(HOSTS).iter().map(|h| h.to_uppercase()).collect();
    let idn: Vec<String> = (0..HOSTS)
        .map(|i| format!("bücher{i}.straße.example"))
        .collect();
    g.throughput(Throughput::Elements(HOSTS as u64));
    g.bench_function("Host::parse ascii uppercase", |b| {
        b.iter(|| ascii.iter().filter(|h| Host::parse(h).is_ok()).count())
    });
    g.bench_function("Host::parse IDN", |b| {
        b.iter(|| idn.iter().filter(|h| Host::parse(h).is_ok()).count())
    });
    g.finish();
    let ascii_ns = ns_per_lookup(&ascii, 51, |h| Host::parse(h).is_ok());
    let idn_ns = ns_per_lookup(&idn, 51, |h| Host::parse(h).is_ok());
    c.final_summary();

    println!("\n== summary (median of interleaved passes over {HOSTS} hits + {HOSTS} misses)");
    for row in &rows {
        println!("\n-- {} ({} patterns)", row.size, row.n);
        println!("{:<20} {:>12} {:>14}", "build", "time", "bytes/pattern");
        for (name, t, bytes) in &row.builds {
            println!(
                "{name:<20} {:>12.2?} {:>14.1}",
                t,
                *bytes as f64 / row.n as f64
            );
        }
        let floor = row.lookups[0].1;
        let glob = row
            .lookups
            .iter()
            .find(|(n, _)| *n == "globset")
            .map(|(_, t)| *t)
            .unwrap_or(f64::NAN);
        println!(
            "{:<20} {:>10} {:>14} {:>10} {:>12}",
            "lookup", "ns/host", "hosts/s", "x floor", "globset/x"
        );
        for (name, ns) in &row.lookups {
            println!(
                "{name:<20} {ns:>10.1} {:>14.0} {:>10.2} {:>12.1}",
                1e9 / ns,
                ns / floor,
                glob / ns
            );
        }
    }
    if !rows
        .iter()
        .any(|r| r.n > REGEX_MAX && r.builds.iter().any(|b| b.0 == "RegexSet"))
    {
        println!(
            "\nRegexSet is not built above {REGEX_MAX} patterns: it does not build in reasonable time or memory."
        );
    }
    println!(
        "\nnormalization: Host::parse {ascii_ns:.1} ns per uppercase ASCII host, {idn_ns:.1} ns per IDN host"
    );
}
