//! A proxy's authentication challenges from untrusted bytes must never
//! panic: `Proxy-Authenticate` values (a line each), the NTLM CHALLENGE
//! message in them, and the whole NTLM handshake answering it (the `sspi`
//! crate behind egress's own strict reading). What parses must behave: a
//! CHALLENGE egress accepts ends its AV pairs with `MsvAvEOL`, and a
//! malformed one is refused with a reason, before `sspi` sees it.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use base64::Engine as _;
use egress_check::auth::ntlm::challenge_message;
use egress_check::auth::{AuthMode, Credentials, Handshake, Identity, Scheme, challenges, choose};

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    if let Ok(m) = challenge_message(data) {
        assert_eq!(m.av_ids.last(), Some(&0), "AV pairs end with MsvAvEOL");
    }
    let alice = Credentials::new("CONTOSO\\alice", "pw");
    let answer = |token: &str| {
        let (mut h, _) = Handshake::start(Scheme::Ntlm, Identity::Explicit(&alice), "proxy")
            .expect("a NEGOTIATE message");
        let _ = h.answer(token);
    };
    answer(&base64::engine::general_purpose::STANDARD.encode(data));
    let text = String::from_utf8_lossy(data);
    let list = challenges(text.lines());
    for mode in [AuthMode::Auto, AuthMode::Ntlm, AuthMode::Basic] {
        let _ = choose(mode, &list, Identity::Explicit(&alice));
    }
    for c in &list {
        if let Some(token) = &c.token {
            answer(token);
        }
    }
}
