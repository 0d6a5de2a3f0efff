//! Text files from untrusted bytes (egress-text, the decoder of every
//! text input): decoding never panics; an error is located at a line and
//! column that exist; the stream reader yields the same text (up to line
//! ends) wherever the whole-file decoder reads it. (A CRLF can remain
//! after decoding: `\r\r\n`, a CRLF file converted twice, keeps one CR.)
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use std::io::Read;

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    match egress_text::decode(data) {
        Ok(text) => {
            let mut streamed = String::new();
            egress_text::Reader::new(data)
                .read_to_string(&mut streamed)
                .expect("decoded text streams");
            assert_eq!(streamed.replace("\r\n", "\n"), text.text);
        }
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "{e}");
            assert!(e.line <= data.len() + 1, "{e}");
            let (_, first) = egress_text::decode_lossy(data);
            assert_eq!(first, Some(e));
        }
    }
}
