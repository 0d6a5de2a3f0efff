//! Host and pattern parsing must never panic, and what parses must behave:
//! normalization is idempotent, and a `HostSet` of one pattern agrees with
//! the pattern itself. Input: a pattern, a newline, a host (or one line for
//! both).
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_catalog::explain::Input;
use egress_pattern::{Host, HostPattern, HostSet};

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern_text, host_text) = text.split_once('\n').unwrap_or((text, text));
    let pattern = HostPattern::parse(pattern_text);
    let host = Host::parse(host_text);
    let _ = Input::parse(host_text);
    if let Ok(p) = &pattern {
        assert_eq!(
            HostPattern::parse(p.as_str()).as_ref(),
            Ok(p),
            "normalizing twice"
        );
    }
    if let Ok(h) = &host {
        assert_eq!(
            Host::parse(&h.to_string()).as_ref(),
            Ok(h),
            "normalizing twice"
        );
    }
    if let (Ok(p), Ok(h)) = (pattern, host) {
        let set = HostSet::new([&p]);
        assert_eq!(
            set.is_match(&h),
            p.matches(&h),
            "HostSet and the pattern disagree"
        );
        if let Some(name) = h.as_name() {
            assert_eq!(set.is_match_name(name), p.matches_name(name));
        }
    }
}
