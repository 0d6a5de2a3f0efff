//! Proxy log lines from untrusted bytes must never panic, in any of the
//! formats `egress audit log` reads (Squid's native, common and combined
//! access.log, W3C extended after a `#Fields:` line (ProxySG's fields,
//! quoted values), egress's decision log), and what reads as a request
//! must name a host and have a shape.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_audit::log::{Format, Reader};

/// Runs one input (lines); panics on a failed property.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for format in [Format::Squid, Format::W3c, Format::Egress] {
        let mut reader = Reader::new(format);
        if format == Format::W3c {
            let _ = reader.read(
                "#Fields: date time c-ip cs-username x-exception-id cs-method cs-uri sc-status s-action cs-host cs-uri-port cs(User-Agent)",
            );
        }
        for line in text.lines() {
            if let Ok(Some(e)) = reader.read(line) {
                assert!(!e.host.is_empty(), "a request names a host: {line:?}");
                assert!(reader.shape().is_some(), "a request has a shape: {line:?}");
            }
        }
    }
}
