//! The endpoint catalog, site profiles and resolved plans.
//!
//! A [`Catalog`] is one revision of a vendor's list of internet endpoints,
//! loaded from TOML (`docs/catalog-format.md`) and checked whole: every
//! problem is reported with its file, line and column. The ConfigMgr
//! catalog is embedded ([`embedded`]). A [`Profile`] says which parts of a
//! catalog a site uses; [`plan::resolve`] turns both into a [`Plan`].
//!
//! This crate does no network I/O, has no async runtime and reads no file
//! itself: callers hand it the text of the files they read. It knows
//! nothing of the command line or the terminal.

#![forbid(unsafe_code)]

pub mod catalog;
pub mod compose;
pub mod diagnostic;
pub mod diff;
pub mod embedded;
pub mod explain;
pub mod plan;
pub mod profile;
pub mod table;
mod tomlfile;
pub mod wire;

pub use catalog::{Catalog, Endpoint, Feature, Role};
pub use diagnostic::{FileProblems, Problem, SourceFile};
pub use plan::{Plan, Request, Row, Status};
pub use profile::Profile;
