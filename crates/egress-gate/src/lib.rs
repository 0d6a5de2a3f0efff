//! The decisions of `egress proxy`, the enforcing egress proxy, without
//! I/O: callers hand in what a request names and what DNS answered, and
//! get back decisions and what to say and log, as data.
//!
//! - [`decision`]: the plan a source asks under (the profile's servers by
//!   address, with their roles) and whether it allows a request, through
//!   the explain engine, so that proxy, allowlists and `explain` agree.
//!
//! - [`head`]: request framing read strictly before hyper reads it: a
//!   head with a bare LF, folded lines, or an ambiguous length is refused.
//! - [`log`]: the decision log's line, one type for the proxy that writes
//!   it and the audit that reads it.
//! - [`notice`]: the notices at start and reload, a denial's body, and
//!   the Squid access.log line.
//!
//! And its SSRF rules (docs/proxy.md):
//!
//! - [`target`]: the host a request names, read as a browser's URL parser
//!   reads it, so that every spelling of an IP literal (`127.1`,
//!   `2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`) becomes
//!   the address it means, and an IPv6 zone is refused.
//! - [`address`]: where an address points (loopback, RFC 1918, link-local,
//!   CGNAT, ULA, multicast, ..., also through IPv4-mapped, NAT64, 6to4 and
//!   Teredo addresses), and whether the proxy may connect to it.

#![forbid(unsafe_code)]

pub mod address;
pub mod decision;
pub mod head;
pub mod log;
pub mod notice;
pub mod target;

pub use address::{AddressRules, Class, Denied};
pub use decision::{Ask, Decision, Gate, Plans, ServerPlan};
pub use target::{Target, TargetError, parse_host};
