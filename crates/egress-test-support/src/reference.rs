//! The reference pages the catalogs encode, which live beside the project
//! (`../shared/reference/`), not in it.

use std::path::{Path, PathBuf};

/// The folder of reference pages: `EGRESS_REFERENCE`, or `shared/reference`
/// beside the project. Missing, it fails the test when `CI` is set (CI
/// always has the pages), and otherwise says loudly on stderr that the
/// check against the pages did not run.
pub fn pages() -> Option<PathBuf> {
    let dir = std::env::var_os("EGRESS_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but the reference pages are missing at {}: the embedded catalogs cannot be \
         checked against them (set EGRESS_REFERENCE to their folder)",
        dir.display()
    );
    crate::tools::skipped(&format!(
        "reference pages not found at {}; the embedded catalogs were NOT checked against the \
         pages (set EGRESS_REFERENCE, or run beside ../shared/reference)",
        dir.display()
    ));
    None
}
