//! A Windows proxy bypass list (Internet Options' "Do not use proxy server
//! for addresses beginning with", `netsh winhttp set proxy ... bypass-list=`),
//! with the semantics WinINET and WinHTTP give it:
//!
//! - entries are separated by `;` (also white space or `,`);
//! - `<local>` bypasses every host name without a dot (`intranet`, not
//!   `intranet.contoso.com`, not an IP address);
//! - loopback (`localhost`, `127.0.0.0/8`, `::1`) is always bypassed, unless
//!   the list has `<-loopback>`;
//! - any other entry is `[scheme://]expression[:port]`: the expression is
//!   a shell expression (`*` any run of characters, dots included; `?` one
//!   character) matched whole and case-insensitively against the host
//!   name or address as the URL writes it (`*.contoso.com`, `10.*`,
//!   `*contoso*`); a scheme or port limits the entry to it.
//!
//! Matching is [`egress_pattern::sh_exp_match`]'s.

use std::net::IpAddr;

use egress_pattern::sh_exp_match;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    scheme: Option<String>,
    expression: String,
    port: Option<u16>,
}

/// A parsed bypass list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BypassList {
    local: bool,
    no_loopback: bool,
    entries: Vec<Entry>,
    /// The list as Windows keeps it, for display.
    text: String,
}

impl BypassList {
    /// Parses a list; no entry is an error (Windows accepts any text), but
    /// an entry with a port that is not one is ignored as Windows ignores it,
    /// and returned in the second value to be reported.
    pub fn parse(text: &str) -> (BypassList, Vec<String>) {
        let mut list = BypassList {
            text: text.to_owned(),
            ..BypassList::default()
        };
        let mut ignored = Vec::new();
        for raw in text.split([';', ' ', '\t', ',', '\r', '\n']).map(str::trim) {
            match raw.to_ascii_lowercase().as_str() {
                "" => {}
                "<local>" => list.local = true,
                "<-loopback>" => list.no_loopback = true,
                entry => {
                    let (scheme, rest) = match entry.split_once("://") {
                        Some((s, r)) => (Some(s.to_owned()), r),
                        None => (None, entry),
                    };
                    // A port: the text after the last `:`, unless the entry is
                    // an IPv6 address (more than one `:`, or in brackets).
                    let (expression, port) = match rest.rsplit_once(':') {
                        Some((e, p)) if !e.contains(':') || e.ends_with(']') => {
                            match p.parse::<u16>() {
                                Ok(port) => (e, Some(port)),
                                Err(_) if p == "*" => (e, None),
                                Err(_) => {
                                    ignored.push(raw.to_owned());
                                    continue;
                                }
                            }
                        }
                        _ => (rest, None),
                    };
                    list.entries.push(Entry {
                        scheme,
                        expression: expression.trim_matches(['[', ']']).to_owned(),
                        port,
                    });
                }
            }
        }
        (list, ignored)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a request to `host` (a name or an address, without
    /// brackets) on `port` with `scheme` goes direct.
    pub fn bypasses(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host
            .trim_matches(['[', ']'])
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        if !self.no_loopback && (host == "localhost" || ip.is_some_and(|ip| ip.is_loopback())) {
            return true;
        }
        if self.local && ip.is_none() && !host.contains('.') {
            return true;
        }
        let scheme = scheme.to_ascii_lowercase();
        self.entries.iter().any(|e| {
            e.scheme.as_deref().is_none_or(|s| s == scheme)
                && e.port.is_none_or(|p| p == port)
                && sh_exp_match(&host, &e.expression)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(list: &str, url: (&str, &str, u16), expected: bool) {
        let (l, _) = BypassList::parse(list);
        assert_eq!(l.bypasses(url.0, url.1, url.2), expected, "{list} {url:?}");
    }

    #[test]
    fn windows_semantics() {
        let list = "<local>;*.contoso.com;10.*;https://secure.example:8443;*fabrikam*";
        check(list, ("https", "intranet", 443), true);
        check(list, ("https", "intranet.corp", 443), false);
        check(list, ("https", "a.contoso.com", 443), true);
        check(list, ("https", "A.Contoso.COM.", 443), true);
        check(list, ("https", "contoso.com", 443), false);
        check(list, ("http", "10.1.2.3", 80), true);
        check(list, ("http", "110.1.2.3", 80), false);
        check(list, ("https", "secure.example", 8443), true);
        check(list, ("http", "secure.example", 8443), false);
        check(list, ("https", "secure.example", 443), false);
        check(list, ("https", "www.fabrikam.net", 443), true);
        // Loopback always, unless <-loopback>.
        check("", ("http", "127.0.0.1", 80), true);
        check("", ("http", "::1", 80), true);
        check("", ("http", "localhost", 80), true);
        check("<-loopback>", ("http", "127.0.0.1", 80), false);
        // An IP address is never `<local>`.
        check("<local>", ("http", "192.168.1.1", 80), false);
        let (_, ignored) = BypassList::parse("a.example:port;b.example");
        assert_eq!(ignored, ["a.example:port"]);
    }
}
