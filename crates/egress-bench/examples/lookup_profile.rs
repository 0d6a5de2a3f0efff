//! A fixed lookup workload for profilers (callgrind, perf): 10,000
//! generated patterns (`PATTERNS=N` for another number), their 1,000 hits
//! and 1,000 misses, 100 passes (`PASSES=N`). Prints the number of hits and
//! the nanoseconds per lookup, of `HostSet` and of the `HashSet` floor.
use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let patterns = egress_bench::generated_patterns(env("PATTERNS", 10_000));
    let set = egress_pattern::HostSet::new(&patterns);
    let floor: HashSet<String> = patterns.iter().map(|p| p.as_str().to_owned()).collect();
    let hosts: Vec<String> = egress_bench::hits(&patterns, 1000)
        .into_iter()
        .chain(egress_bench::misses(1000))
        .collect();
    let passes = env("PASSES", 100);
    let timed = |f: &dyn Fn(&str) -> bool| {
        let start = Instant::now();
        let mut n = 0;
        for _ in 0..passes {
            for h in &hosts {
                n += usize::from(f(black_box(h)));
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / (passes * hosts.len()) as f64;
        (n, ns)
    };
    let (n, ns) = timed(&|h| set.is_match_name(h));
    let (_, floor_ns) = timed(&|h| floor.contains(h));
    println!("{n} hits; HostSet {ns:.1} ns, floor {floor_ns:.1} ns per lookup");
}
