//! Loading and validating the embedded catalog, against a bare `toml`
//! parse of the same text into `toml::Value` (the baseline), in one run.
//!
//! Target (issue 2): under 5 ms, and at most 3x the baseline.
//! Also diffing the two embedded revisions (issue 6: under 5 ms), against
//! loading them (the baseline), in the same run.
//! Run: `cargo bench -p egress-catalog --bench load`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use egress_catalog::{SourceFile, catalog, diff, embedded};

fn latest() -> (&'static str, &'static str) {
    *embedded::REVISIONS.last().expect("an embedded revision")
}

fn load(text: &'static str) -> catalog::Catalog {
    catalog::load(&SourceFile::new("latest", text)).expect("the embedded catalog is valid")
}

fn baseline(text: &str) -> toml::Value {
    toml::from_str(text).expect("valid TOML")
}

fn benches(c: &mut Criterion) {
    let (_, text) = latest();
    let mut group = c.benchmark_group("catalog-load");
    group.bench_function("toml::Value (baseline)", |b| {
        b.iter(|| baseline(black_box(text)))
    });
    group.bench_function("catalog::load", |b| b.iter(|| load(black_box(text))));
    group.bench_function("embedded::all (both revisions)", |b| b.iter(embedded::all));
    group.finish();

    let all = embedded::all().expect("the embedded catalogs are valid");
    let mut group = c.benchmark_group("catalog-diff");
    group.bench_function("diff 2020-07 -> 2025-03", |b| {
        let options = diff::Options::default();
        b.iter(|| {
            diff::diff(
                black_box(&all[0]),
                black_box(&all[1]),
                &|_| true,
                &|_| true,
                &options,
            )
        })
    });
    group.finish();
}

/// Median time of `f` over `rounds` rounds, the two functions interleaved
/// so that both see the same machine state.
fn median_pair(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let mut ta = Vec::with_capacity(rounds);
    let mut tb = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        a();
        ta.push(start.elapsed());
        let start = Instant::now();
        b();
        tb.push(start.elapsed());
    }
    ta.sort();
    tb.sort();
    (ta[rounds / 2], tb[rounds / 2])
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();

    let (name, text) = latest();
    let (load_t, base_t) = median_pair(
        500,
        || drop(black_box(load(black_box(text)))),
        || drop(black_box(baseline(black_box(text)))),
    );
    let ratio = load_t.as_secs_f64() / base_t.as_secs_f64();
    println!(
        "\nratio: catalog::load {load_t:?} / toml::Value {base_t:?} = {ratio:.2}x on {name} ({} bytes, {} endpoints); targets: < 5 ms, <= 3x",
        text.len(),
        load(text).endpoints.len()
    );

    let all = embedded::all().expect("the embedded catalogs are valid");
    let (diff_t, load_both_t) = median_pair(
        500,
        || {
            drop(black_box(diff::diff(
                &all[0],
                &all[1],
                &|_| true,
                &|_| true,
                &diff::Options::default(),
            )))
        },
        || drop(black_box(embedded::all())),
    );
    println!(
        "ratio: diff 2020-07 -> 2025-03 {diff_t:?} / loading both {load_both_t:?} = {:.2}x; target: < 5 ms",
        diff_t.as_secs_f64() / load_both_t.as_secs_f64()
    );
}
