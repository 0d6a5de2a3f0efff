//! A Squid configuration from untrusted bytes must never panic or run
//! away, in `egress audit allowlist --input squid`'s reader: any text as
//! `squid.conf`, whose `include` and quoted list files are the same bytes
//! again (cycles refused, nesting and file counts bounded); a
//! configuration that reads decides requests, the same each time.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_audit::squid::{Request, read};

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let again = text.to_string();
    let read_file = |_: &str| Ok(again.clone());
    if let Ok(config) = read("squid.conf", &text, &read_file) {
        for (method, host, port, url) in [
            ("CONNECT", "go.microsoft.com", 443, "go.microsoft.com:443"),
            ("GET", "a.example", 80, "http://a.example/"),
        ] {
            let request = Request {
                method,
                host,
                port,
                url,
            };
            assert_eq!(config.decide(&request), config.decide(&request));
        }
    }
}
