//! `egress audit`, without I/O (docs/audit.md).
//!
//! - [`allowlist`]: an existing allowlist read in its format's own
//!   semantics and held against the plan's rows: admitted exactly, only
//!   more broadly, in part, or not at all; and its entries that no row
//!   explains.
//! - [`squid`]: a Squid configuration's access rules, evaluated as Squid
//!   does (acls, list files, includes, `http_access` in order), held
//!   against the plan by asking them for each row's hosts and ports and
//!   for what lies just outside each row.
//! - [`log`]: one line of a proxy's log read as a request (host, port,
//!   method, status, client, whether it was denied or failed): Squid's
//!   native `access.log`, W3C extended (fields from its `#Fields:`
//!   header), and `egress proxy`'s JSON decision log.
//! - [`tally`]: requests held against the plan in tables whose size does
//!   not grow with the log: denied requests the plan needs (by plan row,
//!   with its features and roles), the hosts seen under each wildcard of
//!   the plan, denied hosts the catalog does not know, and (optionally)
//!   allowed hosts outside the plan.
//! - [`report`]: both reports as text and markdown, for people.

#![forbid(unsafe_code)]

pub mod allowlist;
pub mod asked;
pub mod log;
pub mod report;
mod span;
pub mod squid;
pub mod tally;
