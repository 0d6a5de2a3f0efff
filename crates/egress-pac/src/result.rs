//! What `FindProxyForURL` returns: `PROXY a:8080; PROXY b:3128; DIRECT`,
//! tried in order.

use std::fmt;

/// One entry of a PAC result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacEntry {
    Direct,
    /// `PROXY host:port` (or `HTTP host:port`): an HTTP proxy.
    Proxy {
        host: String,
        port: u16,
    },
    /// `HTTPS host:port`: TLS to the proxy (not supported by the check).
    Https {
        host: String,
        port: u16,
    },
    /// `SOCKS`, `SOCKS4`, `SOCKS5 host:port` (not supported by the check).
    Socks {
        kind: String,
        host: String,
        port: u16,
    },
    /// Anything else, as written.
    Invalid(String),
}

impl fmt::Display for PacEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacEntry::Direct => f.write_str("DIRECT"),
            PacEntry::Proxy { host, port } => write!(f, "PROXY {host}:{port}"),
            PacEntry::Https { host, port } => write!(f, "HTTPS {host}:{port}"),
            PacEntry::Socks { kind, host, port } => write!(f, "{kind} {host}:{port}"),
            PacEntry::Invalid(text) => write!(f, "{text} (not understood)"),
        }
    }
}

/// Parses a result; an empty result means `DIRECT`, as browsers take it.
pub fn parse_result(text: &str) -> Vec<PacEntry> {
    let entries: Vec<PacEntry> = text
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(entry)
        .collect();
    if entries.is_empty() {
        vec![PacEntry::Direct]
    } else {
        entries
    }
}

fn entry(text: &str) -> PacEntry {
    let mut words = text.split_whitespace();
    let kind = words.next().unwrap_or_default().to_ascii_uppercase();
    let target = words.next();
    if words.next().is_some() {
        return PacEntry::Invalid(text.to_owned());
    }
    let address = |default: u16| -> Option<(String, u16)> {
        let t = target?;
        let (host, port) = match t.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !h.ends_with(':') => {
                (h, p.parse().ok().filter(|p| *p > 0)?)
            }
            _ => (t, default),
        };
        Some((host.trim_matches(['[', ']']).to_ascii_lowercase(), port))
    };
    match (kind.as_str(), target) {
        ("DIRECT", None) => PacEntry::Direct,
        ("PROXY" | "HTTP", Some(_)) => match address(80) {
            Some((host, port)) => PacEntry::Proxy { host, port },
            None => PacEntry::Invalid(text.to_owned()),
        },
        ("HTTPS", Some(_)) => match address(443) {
            Some((host, port)) => PacEntry::Https { host, port },
            None => PacEntry::Invalid(text.to_owned()),
        },
        ("SOCKS" | "SOCKS4" | "SOCKS5", Some(_)) => match address(1080) {
            Some((host, port)) => PacEntry::Socks { kind, host, port },
            None => PacEntry::Invalid(text.to_owned()),
        },
        _ => PacEntry::Invalid(text.to_owned()),
    }
}
