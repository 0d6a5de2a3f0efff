//! A Squid configuration from untrusted bytes must never panic or run
//! away, in `egress audit allowlist --input squid`'s reader: any text as
//! `squid.conf`, whose first eight included and list files are the same
//! bytes again (every folder holds `a.conf` and `b.conf`, so that globs
//! match; nesting and file counts bounded); a configuration that reads
//! decides requests the same each time, with and without a user and a
//! client address; a problem it reports is located on a line the text
//! has.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_audit::squid::{Client, Files, Request, read};
use egress_catalog::profile::AddressRange;

/// The same text for the first few files read, then none.
struct Again {
    text: String,
    reads: std::cell::Cell<usize>,
}

impl Files for Again {
    fn read(&self, _: &str) -> Result<String, String> {
        self.reads.set(self.reads.get() + 1);
        if self.reads.get() <= 8 {
            Ok(self.text.clone())
        } else {
            Err("no more files".to_owned())
        }
    }

    fn list(&self, _: &str) -> Result<Vec<String>, String> {
        Ok(vec!["a.conf".to_owned(), "b.conf".to_owned()])
    }
}

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let files = Again {
        text: text.clone(),
        reads: std::cell::Cell::new(0),
    };
    let lines = text.split('\n').count();
    match read("squid.conf", &text, &files) {
        Ok(config) => {
            let office = Client::In(AddressRange::parse("10.1.0.0/16").expect("a range"));
            for (method, host, port, url) in [
                ("CONNECT", "go.microsoft.com", 443, "go.microsoft.com:443"),
                ("GET", "a.example", 80, "http://a.example/"),
                ("CONNECT", "10.0.0.1", 8443, "10.0.0.1:8443"),
            ] {
                for client in [Client::Unknown, office] {
                    for user in [None, Some("alice")] {
                        let request = Request {
                            method,
                            host,
                            port,
                            url,
                            client,
                        };
                        assert_eq!(config.decide(&request, user), config.decide(&request, user));
                    }
                }
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            for p in problems {
                if p.file == "squid.conf" {
                    assert!(p.line >= 1 && p.line <= lines, "{p}");
                }
            }
        }
    }
}
