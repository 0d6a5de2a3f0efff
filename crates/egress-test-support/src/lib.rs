//! Test scaffolding shared by egress's tests and benches, and nothing else
//! (it is only ever a dev-dependency): certificates made at test time
//! ([`tls`]), servers on loopback ([`origin`], [`dns`]), and the real third-party
//! tools the tests drive ([`tools`], [`squid`]), each started from the test
//! and stopped when dropped. A test asks [`tools::needs`] for its tools
//! first: a missing one skips the test out loud, naming its package, or
//! fails it under `EGRESS_REQUIRE_TOOLS=1`. A test never passes silently
//! because its tool is missing.
//!
//! Everything listens on 127.0.0.1 only.

#![forbid(unsafe_code)]

pub mod dns;
pub mod origin;
pub mod proxies;
pub mod reference;
pub mod squid;
pub mod tls;
pub mod tools;
pub mod tunnels;

/// The head of a catalog file for a test: its `[catalog]` table (id `id`,
/// revision 1) and one `[[page]]` with id `p`, which features name.
pub fn catalog_head(id: &str) -> String {
    format!(
        "[catalog]\nid = \"{id}\"\ntitle = \"Test catalog {id}\"\nvendor = \"egress\"\nproduct = \"tests\"\nrevision = \"1\"\ndescribes = 2026-01-01\n\n[[page]]\nid = \"p\"\ntitle = \"Test page\"\nlanguage = \"en-US\"\n"
    )
}
