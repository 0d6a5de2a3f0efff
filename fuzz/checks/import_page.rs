//! The importer must never panic on any page, and what it imports must be a
//! catalog egress loads. Input: the page's bytes. The page may include
//! `inc.md` (which includes the page again: a cycle) and `other.md` (a
//! small include); every other include is missing.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_catalog::{SourceFile, catalog};
use egress_import::{Request, import};
use std::path::Path;

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let mut read = |path: &Path| -> std::io::Result<Vec<u8>> {
        match path.to_str() {
            Some("page.md") => Ok(data.to_vec()),
            Some("inc.md") => Ok(b"- `inc.example.com`\n\n[!INCLUDE [page](page.md)]\n".to_vec()),
            Some("other.md") => Ok(b"---\nms.date: 01/02/2024\n---\n| a | Azure public cloud |\n|--|--|\n| x | `o.example.com`<br>`p.example.com` |\n".to_vec()),
            _ => Err(std::io::ErrorKind::NotFound.into()),
        }
    };
    let request = Request {
        page: Path::new("page.md"),
        includes: None,
        revision: Some("fuzz"),
    };
    if let Ok(imported) = import(&request, &mut read)
        && let Err(problems) =
            catalog::load(&SourceFile::new("imported.toml", imported.catalog.clone()))
    {
        panic!(
            "the imported catalog does not load: {problems}\n{}",
            imported.catalog
        );
    }
}
