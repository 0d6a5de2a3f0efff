//! The catalogs built into egress: every revision of the ConfigMgr internet
//! endpoints page, from `catalogs/`.

use crate::catalog::{self, Catalog};
use crate::diagnostic::{FileProblems, SourceFile};

/// The embedded catalog's id, as in `configmgr@2020-07`.
pub const CATALOG_ID: &str = "configmgr";

/// The revision used when none is asked for.
pub const DEFAULT_REVISION: &str = "latest";

/// The embedded revisions: file name and text, oldest first.
pub const REVISIONS: &[(&str, &str)] = &[
    (
        "catalogs/configmgr-2020-07.toml",
        include_str!("../../../catalogs/configmgr-2020-07.toml"),
    ),
    (
        "catalogs/configmgr-2025-03.toml",
        include_str!("../../../catalogs/configmgr-2025-03.toml"),
    ),
];

/// Loads every embedded revision, oldest first.
pub fn all() -> Result<Vec<Catalog>, FileProblems> {
    REVISIONS
        .iter()
        .map(|(name, text)| catalog::load(&SourceFile::new(*name, *text)))
        .collect()
}

/// Loads the embedded revision with this id or alias, if there is one.
pub fn revision(name: &str) -> Result<Option<Catalog>, FileProblems> {
    Ok(all()?.into_iter().find(|c| c.answers_to(name)))
}
