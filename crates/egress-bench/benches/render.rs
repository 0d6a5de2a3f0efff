//! Rendering a plan for every target, against serializing the same plan
//! with serde_json (the baseline), in one run; and a generated
//! 100,000-pattern plan against a 10,000-pattern one.
//!
//! Targets (issue 4): the whole embedded catalog under 10 ms for any target
//! and at most 3x the baseline; 100,000 patterns at most 12x 10,000, timed
//! three ways: in a loop with warm caches, with caches flushed before each
//! run, and once per fresh process (the bench re-runs itself with
//! `--one-render N TARGET`), which is what one `egress render` sees.
//! Run: `cargo bench -p egress-bench --bench render`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use egress_bench::{generated_plan, latest_plan};
use egress_catalog::Plan;
use egress_catalog::wire::PlanDoc;
use egress_render::{EdlType, Options, SquidStyle, Target, render};

const TARGETS: [Target; 6] = [
    Target::Squid,
    Target::Pac,
    Target::PanEdl,
    Target::AzureFirewall,
    Target::AwsNetworkFirewall,
    Target::Plain,
];

fn options() -> Options {
    Options {
        header: vec!["bench".to_owned()],
        squid_style: SquidStyle::Exact,
        pac_allow: "DIRECT".to_owned(),
        pac_default: "PROXY 127.0.0.1:9".to_owned(),
        edl_type: EdlType::Domain,
        sources: Vec::new(),
    }
}

fn baseline(plan: &Plan) -> String {
    serde_json::to_string(&PlanDoc::new(plan, "bench", None)).expect("serializes")
}

/// Median time of `f` over `rounds` rounds.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    median_with(rounds, || {}, &mut f)
}

/// Median time of `f` over `rounds` rounds, `before` run untimed before each.
fn median_with(rounds: usize, mut before: impl FnMut(), mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..rounds)
        .map(|_| {
            before();
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[rounds / 2]
}

/// `--one-render N TARGET`: render a generated plan of N rows once, in this
/// fresh process, and print the nanoseconds it took: what one `egress
/// render` invocation sees.
fn one_render(args: &[String]) {
    let n: usize = args[0].parse().expect("a row count");
    let target = TARGETS
        .into_iter()
        .find(|t| t.name() == args[1])
        .expect("a target name");
    let plan = generated_plan(n);
    let o = options();
    let start = Instant::now();
    let rendered = render(target, &plan, &o);
    let elapsed = start.elapsed();
    black_box(rendered);
    println!("{}", elapsed.as_nanos());
}

/// Median over `runs` fresh processes of one render each.
fn fresh(runs: usize, n: usize, target: Target) -> Duration {
    let exe = std::env::current_exe().expect("the bench binary");
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let out = std::process::Command::new(&exe)
                .args(["--one-render", &n.to_string(), target.name()])
                .output()
                .expect("the bench binary runs");
            let nanos: u64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("nanoseconds");
            Duration::from_nanos(nanos)
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--one-render") {
        one_render(&args[i + 1..]);
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let plan = latest_plan();
    let o = options();
    let mut g = c.benchmark_group("render/catalog");
    g.bench_function("serde_json (baseline)", |b| {
        b.iter(|| baseline(black_box(&plan)))
    });
    for t in TARGETS {
        g.bench_function(t.name(), |b| b.iter(|| render(t, black_box(&plan), &o)));
    }
    g.finish();
    c.final_summary();

    println!(
        "\n== embedded catalog, latest revision, every feature ({} rows); median of 201",
        plan.rows.len()
    );
    let base = median(201, || drop(black_box(baseline(&plan))));
    println!("{:<22} {:>10.1?}", "serde_json (baseline)", base);
    for t in TARGETS {
        let d = median(201, || drop(black_box(render(t, &plan, &o))));
        println!(
            "{:<22} {:>10.1?}  {:>5.2}x baseline  (targets: < 10 ms, <= 3x)",
            t.name(),
            d,
            d.as_secs_f64() / base.as_secs_f64()
        );
    }

    let small = generated_plan(10_000);
    let large = generated_plan(100_000);
    // The caches are flushed before each run, as in a fresh process whose
    // plan is larger than the cache: otherwise the 10,000-row plan runs from
    // cache and the 100,000-row one from memory, and the ratio measures the
    // cache size rather than the renderer.
    let mut flush = vec![0u8; 64 << 20];
    let mut evict = || {
        for (i, b) in flush.iter_mut().enumerate().step_by(64) {
            *b = b.wrapping_add(i as u8);
        }
        black_box(&flush);
    };
    println!("\n== generated plans: 100,000 rows against 10,000 (target: <= 12x); median of 11");
    println!(
        "{:<22} {:>26} {:>34} {:>34}",
        "", "warm cache", "caches flushed before each run", "one render per fresh process"
    );
    for t in TARGETS {
        let s = median(11, || drop(black_box(render(t, &small, &o))));
        let l = median(11, || drop(black_box(render(t, &large, &o))));
        let sc = median_with(11, &mut evict, || drop(black_box(render(t, &small, &o))));
        let lc = median_with(11, &mut evict, || drop(black_box(render(t, &large, &o))));
        let sf = fresh(11, 10_000, t);
        let lf = fresh(11, 100_000, t);
        println!(
            "{:<22} 10k {:>8.1?} 100k {:>8.1?} {:>5.1}x   10k {:>8.1?} 100k {:>8.1?} {:>5.1}x   10k {:>8.1?} 100k {:>8.1?} {:>5.1}x",
            t.name(),
            s,
            l,
            l.as_secs_f64() / s.as_secs_f64(),
            sc,
            lc,
            lc.as_secs_f64() / sc.as_secs_f64(),
            sf,
            lf,
            lf.as_secs_f64() / sf.as_secs_f64()
        );
    }
}
