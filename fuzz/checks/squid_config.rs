//! A Squid configuration from untrusted bytes must never panic or run
//! away, in `egress audit allowlist --input squid`'s reader: any text as
//! `squid.conf`, whose first eight `include` and quoted list files are the
//! same bytes again (cycles refused, nesting and file counts bounded); a
//! configuration that reads decides requests, the same each time.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_audit::squid::{Request, read};

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let again = text.to_string();
    // The same bytes for the first few files read, then none: the reader's
    // own bounds are held by the test, not waited for here.
    let reads = std::cell::Cell::new(0);
    let read_file = |_: &str| {
        reads.set(reads.get() + 1);
        if reads.get() <= 8 {
            Ok(again.clone())
        } else {
            Err("no more files".to_owned())
        }
    };
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
