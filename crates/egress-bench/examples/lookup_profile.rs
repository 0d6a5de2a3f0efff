//! A fixed lookup workload for profilers (callgrind): 10k patterns,
//! 2000 hosts, 100 passes (`PASSES=N` for more, for perf).
fn main() {
    let patterns = egress_bench::generated_patterns(10_000);
    let set = egress_pattern::HostSet::new(&patterns);
    let hosts: Vec<String> = egress_bench::hits(&patterns, 1000)
        .into_iter()
        .chain(egress_bench::misses(1000))
        .collect();
    let mut n = 0;
    for _ in 0..std::env::var("PASSES")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(100)
    {
        for h in &hosts {
            n += usize::from(set.is_match_name(std::hint::black_box(h)));
        }
    }
    println!("{n}");
}
