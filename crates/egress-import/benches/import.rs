//! Importing a docs page with its includes, against a bare pulldown-cmark
//! parse of the same text (every event with its offset, tables on: what
//! the importer itself asks of the parser), in one run.
//!
//! Target (issue 6): under 20 ms, and at most 5x the baseline.
//! Pages: the current ConfigMgr page with its six includes, from the
//! reference folder beside the project (`../shared/reference`, or
//! `EGRESS_REFERENCE`) when it is there, and always the test page
//! `tests/pages/site.md` with its include. Files are read into memory
//! first: the figures are parsing and classifying, not disk.
//! Run: `cargo bench -p egress-import --bench import`.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use egress_bench::median_pair;

use criterion::Criterion;
use egress_import::{Request, import};
use pulldown_cmark::{Options, Parser};

struct Page {
    name: &'static str,
    main: PathBuf,
    files: HashMap<PathBuf, Vec<u8>>,
    /// Every file's text, one after the other: the baseline's input.
    text: String,
}

fn page(name: &'static str, dir: &Path, main: &str, includes: &[&str]) -> Option<Page> {
    let mut files = HashMap::new();
    let mut text = String::new();
    for rel in std::iter::once(&main).chain(includes) {
        let bytes = std::fs::read(dir.join(rel)).ok()?;
        text.push_str(&String::from_utf8_lossy(&bytes));
        files.insert(PathBuf::from(rel), bytes);
    }
    Some(Page {
        name,
        main: PathBuf::from(main),
        files,
        text,
    })
}

fn pages() -> Vec<Page> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = std::env::var_os("EGRESS_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("../../../shared/reference"));
    let mut out = Vec::new();
    match page(
        "current ConfigMgr page + 6 includes",
        &reference,
        "current/internet-endpoints.md",
        &[
            "current/includes/internet-endpoints-service-connection-point.md",
            "current/includes/internet-endpoints-cloud-services.md",
            "current/includes/internet-endpoints-product-feedback.md",
            "current/includes/internet-endpoints-tenant-attach.md",
            "current/includes/internet-endpoints-endpoint-analytics.md",
            "current/includes/internet-endpoints-deploy-microsoft-edge.md",
        ],
    ) {
        Some(p) => out.push(p),
        None => eprintln!(
            "*** reference pages not found at {}: benchmarking the test page only ***",
            reference.display()
        ),
    }
    out.extend(page(
        "test page site.md + 1 include",
        &here.join("tests/pages"),
        "site.md",
        &["includes/cloud.md"],
    ));
    out
}

fn run_import(page: &Page) -> usize {
    let mut read = |p: &Path| {
        page.files
            .get(p)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    let request = Request {
        page: &page.main,
        includes: None,
        revision: Some("2025-03"),
    };
    import(&request, &mut read)
        .expect("the page imports")
        .endpoints
}

fn baseline(text: &str) -> usize {
    Parser::new_ext(text, Options::ENABLE_TABLES)
        .into_offset_iter()
        .count()
}

fn main() {
    let pages = pages();
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("import");
    for p in &pages {
        group.bench_function(
            format!("pulldown-cmark parse (baseline): {}", p.name),
            |b| b.iter(|| baseline(black_box(&p.text))),
        );
        group.bench_function(format!("egress_import::import: {}", p.name), |b| {
            b.iter(|| run_import(black_box(p)))
        });
    }
    group.finish();
    c.final_summary();
    // Profiling one benchmark (`--profile-time`): nothing else should run.
    if std::env::args().any(|a| a == "--profile-time") {
        return;
    }

    println!();
    for p in &pages {
        let (import_t, parse_t) = median_pair(
            1000,
            || {
                black_box(run_import(p));
            },
            || {
                black_box(baseline(black_box(&p.text)));
            },
        );
        println!(
            "ratio: import {import_t:?} / pulldown-cmark parse {parse_t:?} = {:.2}x on the {} ({} bytes, {} endpoints); targets: < 20 ms, <= 5x",
            import_t.as_secs_f64() / parse_t.as_secs_f64(),
            p.name,
            p.text.len(),
            run_import(p)
        );
    }
}
