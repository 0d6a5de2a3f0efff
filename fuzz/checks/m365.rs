//! The Microsoft 365 web service importer must never panic on any answer,
//! and what it imports must be a catalog egress loads. Input: the bytes of
//! an answer, read both as an `/endpoints` answer and as a `/changes`
//! answer applied to a small catalog imported from a fixed answer.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_catalog::{SourceFile, catalog};
use egress_import::m365::{Instance, M365Request, import};
use egress_import::m365_changes::{ChangesRequest, apply};
use std::path::Path;

/// The answer the `/changes` input applies to: URLs, ranges, a tenant.
const BASE: &str = r#"[
 {"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office.com", "*.mail.example.com"],
  "ips": ["13.107.6.152/31", "2603:1006::/40"], "tcpPorts": "80,443", "category": "Optimize",
  "expressRoute": true, "required": true},
 {"id": 2, "serviceArea": "MEM", "urls": ["autodiscover.*.onmicrosoft.com"], "tcpPorts": "443",
  "udpPorts": "3478", "category": "Allow", "required": false, "notes": "n"}
]"#;

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let request = M365Request {
        file: Path::new("answer.json"),
        instance: Instance::Worldwide,
        service_areas: &[],
        revision: "2026113000",
        describes: "2026-11-30",
    };
    if let Ok(imported) = import(data, &request) {
        loads(&imported.catalog);
    }
    let base = import(BASE.as_bytes(), &request).expect("the base answer imports");
    let changes = ChangesRequest {
        file: Path::new("changes.json"),
        catalog_file: Path::new("m365.toml"),
        catalog: &base.catalog,
        service_areas: &[],
    };
    if let Ok(applied) = apply(data, &changes) {
        loads(&applied.catalog);
    }
}

fn loads(text: &str) {
    if let Err(problems) = catalog::load(&SourceFile::new("imported.toml", text.to_owned())) {
        panic!("the imported catalog does not load: {problems}\n{text}");
    }
}
