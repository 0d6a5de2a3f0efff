//! The proxy a Windows machine uses, from where Windows keeps it, decoded
//! without I/O (callers hand in bytes and text):
//!
//! - [`blob`]: the binary `WinHttpSettings` (WinHTTP, `netsh winhttp set
//!   proxy`) and `DefaultConnectionSettings` (WinINET, per user; SYSTEM's
//!   under `HKU\S-1-5-18`) registry values;
//! - [`reg`]: `reg export` files (decoded by egress-text: UTF-16 with a BOM
//!   as Windows writes them, or UTF-8), so that an export from a customer's server can be read on
//!   any platform;
//! - [`servers`] and [`bypass`]: the proxy list (`a:8080`, or per scheme
//!   `http=a:80;https=b:8080`) and the bypass list (`<local>`, wildcards),
//!   with WinHTTP's and WinINET's semantics (`docs/proxy-discovery.md`);
//! - [`wininet`]: WinINET's blob and flat values in one hive, and which
//!   of them egress takes;
//! - [`sources`]: the places a proxy comes from, and which one each
//!   ConfigMgr role uses.

#![forbid(unsafe_code)]

pub mod blob;
pub mod bypass;
pub mod reg;
pub mod servers;
pub mod sources;
pub mod wininet;

pub use blob::{BlobError, Store, WindowsProxy};
pub use bypass::BypassList;
pub use reg::{RegError, RegFile, RegValue};
pub use servers::{ProxyServers, ServerAddress};
pub use sources::{Source, role_sources};

/// `text` with the user information of every URL or `user@host` in it
/// (`http://bob:secret@proxy/x.pac`) shown as `***`: for messages and
/// reports, which never show a credential.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        // The user information starts after `://`, or after the last
        // separator before the `@`.
        let before = &rest[..at];
        let start = match before.rfind("://") {
            Some(s) => s + 3,
            None => before
                .rfind(|c: char| {
                    c.is_whitespace() || matches!(c, ';' | ',' | '=' | '"' | '\'' | '`')
                })
                .map_or(0, |s| s + 1),
        };
        out.push_str(&rest[..start]);
        out.push_str("***@");
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn user_information_never_shows() {
        for (text, shown) in [
            (
                "PAC http://bob:s3cret@wpad/x.pac",
                "PAC http://***@wpad/x.pac",
            ),
            (
                "http=bob:s3cret@proxy:80;https=b:8080",
                "http=***@proxy:80;https=b:8080",
            ),
            (
                "`alice:pw@proxy:3128`: no port",
                "`***@proxy:3128`: no port",
            ),
            (
                "proxy a:8080; bypass <local>",
                "proxy a:8080; bypass <local>",
            ),
        ] {
            assert_eq!(super::redact(text), shown);
        }
    }
}
