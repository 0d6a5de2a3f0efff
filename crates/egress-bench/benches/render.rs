//! Rendering a plan for every target, against serializing the same plan
//! with serde_json (the baseline), in one run; whole commands' work in
//! process (load the embedded catalog, resolve the plan, render or
//! explain); and a generated 10,000-row plan.
//!
//! Targets (issue 14): every command on the embedded catalog under 5 ms of
//! work in-process; a 10,000-row plan under 50 ms for every target.
//! Run: `cargo bench -p egress-bench --bench render`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use egress_bench::{generated_plan, latest_plan, latest_request};
use egress_catalog::explain::{Explainer, Input, Placeholders};
use egress_catalog::wire::PlanDoc;
use egress_catalog::{Plan, embedded, plan};
use egress_render::{EdlType, Options, SquidStyle, Target, render};

fn options() -> Options {
    Options {
        header: vec!["bench".to_owned()],
        no_header: false,
        squid_style: SquidStyle::Exact,
        placeholders: egress_render::PlaceholderPolicy::default(),
        intranet: false,
        pac_allow: "DIRECT".to_owned(),
        pac_default: "PROXY 127.0.0.1:9".to_owned(),
        edl_type: EdlType::Domain,
        aws_rules: Default::default(),
        sources: Vec::new(),
    }
}

fn baseline(plan: &Plan) -> String {
    serde_json::to_string(&PlanDoc::new(plan, "bench", None)).expect("serializes")
}

/// Median time of `f` over `rounds` rounds.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[rounds / 2]
}

/// What `egress render TARGET` does between parsing its arguments and
/// writing its output: load the embedded catalog, resolve, render.
fn render_command(target: Target, o: &Options) -> String {
    let catalog = embedded::revision("latest")
        .expect("the embedded catalogs are valid")
        .expect("a latest revision");
    let plan = plan::resolve(&catalog, &latest_request());
    render(target, &plan, o).text
}

/// What `egress explain HOST` does: load every embedded revision, resolve
/// the plan, index them, explain one host.
fn explain_command(host: &str) -> bool {
    let catalogs: Vec<std::sync::Arc<_>> = embedded::all()
        .expect("the embedded catalogs are valid")
        .into_iter()
        .map(std::sync::Arc::new)
        .collect();
    let latest = catalogs
        .iter()
        .find(|c| c.answers_to("latest"))
        .expect("a latest revision");
    let plan = std::sync::Arc::new(plan::resolve(latest, &latest_request()));
    let explainer = Explainer::new(&catalogs, Some(plan), Placeholders::Unresolved);
    explainer
        .explain(&Input::parse(host).expect("a host"))
        .matched()
}

fn main() {
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
    for t in Target::ALL {
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
    for t in Target::ALL {
        let d = median(201, || drop(black_box(render(t, &plan, &o))));
        println!(
            "{:<22} {:>10.1?}  {:>5.2}x baseline",
            t.name(),
            d,
            d.as_secs_f64() / base.as_secs_f64()
        );
    }

    println!(
        "\n== whole commands' work in process, embedded catalog (target: < 5 ms); median of 201"
    );
    for t in Target::ALL {
        let d = median(201, || drop(black_box(render_command(t, &o))));
        println!("{:<22} {:>10.1?}", format!("render {}", t.name()), d);
    }
    let d = median(201, || {
        black_box(explain_command("x.manage.microsoft.com"));
    });
    println!("{:<22} {:>10.1?}", "explain HOST", d);

    let large = generated_plan(10_000);
    println!("\n== generated plan, 10,000 rows (target: < 50 ms); median of 21");
    let base = median(21, || drop(black_box(baseline(&large))));
    println!("{:<22} {:>10.1?}", "serde_json (baseline)", base);
    for t in Target::ALL {
        let d = median(21, || drop(black_box(render(t, &large, &o))));
        println!(
            "{:<22} {:>10.1?}  {:>5.2}x baseline",
            t.name(),
            d,
            d.as_secs_f64() / base.as_secs_f64()
        );
    }
}
