//! Host names and host patterns with one exact, written semantics.
//!
//! Every firewall and proxy answers "does this host match this pattern?"
//! differently. This crate is the one answer egress uses everywhere, as
//! defined in `docs/host-patterns.md`:
//!
//! - an exact host matches that host only;
//! - `*.suffix` matches one or more whole labels before `suffix`, never
//!   `suffix` itself;
//! - a `*` inside the leftmost label (`*-umwatsonc.events.data.microsoft.com`)
//!   stands for one or more characters within that one label, never a dot;
//! - IP literals are their own kind and never match a name pattern.
//!
//! Shell expressions ([`sh_exp_match`]: PAC's `shExpMatch`, Windows proxy
//! bypass lists) are decided here too, by their own written rule.
//!
//! Hosts and patterns are normalized before any comparison: ASCII lowercase,
//! one trailing dot removed, internationalized names in their A-label form.
//! A [`HostPattern`] or [`Host`] that exists is always normalized and valid.
//!
//! URL paths ([`path_covers`]: whether an endpoint's path covers a
//! request's, where a path can be seen) are decided here too.
//!
//! This crate does no I/O and has no async runtime; it depends on nothing but
//! `idna`, `percent-encoding` and `thiserror`.

#![forbid(unsafe_code)]

mod host;
mod path;
mod pattern;
mod set;
mod shell;

pub use host::{Host, HostError, HostErrorKind};
pub use path::{normalize_path, path_covers};
pub use pattern::{HostPattern, PatternKind};
pub use set::{HostSet, HostSetBuilder, PatternId};
pub use shell::sh_exp_match;

/// The longest DNS name, in octets, without the trailing dot (RFC 1035).
pub const MAX_NAME_LEN: usize = 253;
/// The longest DNS label, in octets (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;
