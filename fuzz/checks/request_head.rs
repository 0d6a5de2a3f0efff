//! The proxy's strict reading of request framing (egress-gate's
//! `head::Scanner`) on untrusted bytes: it never panics, what it lets
//! through is the input's own bytes from the start (a prefix), and the
//! pieces the bytes arrive in change nothing.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_gate::head::Scanner;

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let whole = feed(data, data.len().max(1));
    assert!(
        data.starts_with(&whole.0),
        "what goes on is a prefix of the input"
    );
    // The first byte picks a piece size.
    let piece = usize::from(data.first().copied().unwrap_or(1) % 7) + 1;
    assert_eq!(feed(data, piece), whole, "pieces of {piece}");
}

fn feed(data: &[u8], piece: usize) -> (Vec<u8>, Option<String>) {
    let mut scanner = Scanner::new();
    let mut out = Vec::new();
    for part in data.chunks(piece) {
        if let Err(e) = scanner.feed(part, &mut out) {
            return (out, Some(e.to_string()));
        }
    }
    (out, None)
}
