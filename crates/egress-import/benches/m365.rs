//! Importing a Microsoft 365 web service answer of about 1 MB (the size
//! of the Worldwide list with its IP ranges), against a bare
//! `serde_json::from_slice::<serde_json::Value>` of the same bytes, in one
//! run; and the import with the check that `egress catalog import` runs
//! before it writes (the output loaded as a catalog).
//!
//! Target (issue 23): under 20 ms, and at most 3x the baseline.
//! Run: `cargo bench -p egress-import --bench m365`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use egress_bench::median_pair;

use egress_import::m365::{Instance, M365Request, import};

/// `records` records in the service's shape: a few URLs each (exact,
/// `*.`, in-label), IPv4 and IPv6 ranges, ports, categories, notes.
fn answer(records: usize) -> String {
    let areas = ["Exchange", "SharePoint", "Skype", "Common", "MEM"];
    let categories = ["Optimize", "Allow", "Default"];
    let mut out = String::from("[\n");
    for i in 0..records {
        let area = areas[i % areas.len()];
        let _ = write!(
            out,
            "  {{\n    \"id\": {id},\n    \"serviceArea\": \"{area}\",\n    \"serviceAreaDisplayName\": \"{area} Online\",\n    \"urls\": [\"host{i}.{a}.example.com\", \"*.svc{i}.{a}.example.com\", \"*-files{i}.{a}.example.net\"],\n    \"ips\": [",
            id = i + 1,
            a = area.to_ascii_lowercase(),
        );
        for j in 0..12 {
            if j > 0 {
                out.push_str(", ");
            }
            if j % 3 == 2 {
                let _ = write!(out, "\"2603:10{:02x}:{:x}::/48\"", i % 256, j);
            } else {
                let _ = write!(out, "\"{}.{}.{}.0/24\"", 13 + j, i % 256, (i / 256) % 256);
            }
        }
        let _ = write!(
            out,
            "],\n    \"tcpPorts\": \"{}\",\n    \"expressRoute\": {},\n    \"category\": \"{}\",\n    \"required\": {}{}\n  }}{}\n",
            if i % 4 == 0 { "443" } else { "80,443" },
            i % 2 == 0,
            categories[i % 3],
            i % 7 != 0,
            if i % 5 == 0 {
                ",\n    \"notes\": \"Required for the client to reach the service; see the documentation.\""
            } else {
                ""
            },
            if i + 1 == records { "" } else { "," }
        );
    }
    out.push_str("]\n");
    out
}

fn main() {
    let mut records = 1000;
    let mut text = answer(records);
    while text.len() < 1_000_000 {
        records += 100;
        text = answer(records);
    }
    let bytes = text.as_bytes();
    let request = M365Request {
        file: Path::new("endpoints.json"),
        instance: Instance::Worldwide,
        service_areas: &[],
        revision: "2026113000",
        describes: "2026-11-30",
    };
    let run = || import(black_box(bytes), &request).expect("the answer imports");
    let endpoints = run().endpoints;
    let (egress, json) = median_pair(
        51,
        || {
            black_box(run());
        },
        || {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap());
        },
    );
    let (checked, _) = median_pair(
        21,
        || {
            let catalog = run().catalog;
            black_box(
                egress_catalog::catalog::load(&egress_catalog::SourceFile::new(
                    "m365.toml",
                    catalog,
                ))
                .expect("the catalog loads"),
            );
        },
        || {},
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "m365 import: {:.2} MB answer, {records} records, {endpoints} endpoints; median of 51",
        bytes.len() as f64 / 1e6
    );
    println!(
        "  serde_json::from_slice::<Value> (baseline)  {:8.2} ms",
        ms(json)
    );
    println!(
        "  egress_import::m365::import                 {:8.2} ms",
        ms(egress)
    );
    println!(
        "  import, then the output loaded as a catalog  {:8.2} ms (what `egress catalog import` runs before writing; median of 21)",
        ms(checked)
    );
    println!(
        "  import / baseline: {:.2}x (target: at most 3x); import under 20 ms: {}",
        egress.as_secs_f64() / json.as_secs_f64(),
        if ms(egress) < 20.0 { "yes" } else { "no" }
    );
}
