//! Hosts: a normalized DNS name or an IP literal.

use std::fmt;
use std::net::IpAddr;

use crate::{MAX_LABEL_LEN, MAX_NAME_LEN};

/// A normalized host: a DNS name (lowercase ASCII, A-labels, no trailing dot)
/// or an IP literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    /// Parses and normalizes a host as it may appear in a log, an allowlist
    /// or a URL authority: `Example.COM.`, `bücher.example`, `10.0.0.1`,
    /// `[::1]` or `::1`.
    pub fn parse(input: &str) -> Result<Host, HostError> {
        if let Some(ip) = parse_ip(input) {
            return Ok(Host::Ip(ip));
        }
        normalize_name(input, Wildcard::Forbidden).map(Host::Name)
    }

    /// The name, or `None` for an IP literal.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Host::Name(name) => Some(name),
            Host::Ip(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
        }
    }
}

/// An IPv4 literal, or an IPv6 literal with or without brackets.
pub(crate) fn parse_ip(input: &str) -> Option<IpAddr> {
    let bare = input
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(input);
    bare.parse().ok()
}

/// Why a host or pattern is invalid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at character {})", .position + 1)]
pub struct HostError {
    pub kind: HostErrorKind,
    /// Byte offset of the offending part in the input as given (for a name
    /// that needed IDNA conversion: in the converted name).
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostErrorKind {
    #[error("the host is empty")]
    Empty,
    #[error("empty label: two dots in a row, or a dot at the start")]
    EmptyLabel,
    #[error("label is {len} characters long; a DNS label has at most 63")]
    LabelTooLong { len: usize },
    #[error("name is {len} characters long; a DNS name has at most 253")]
    NameTooLong { len: usize },
    #[error("character {ch:?} is not allowed in a host name (letters, digits, '-' and '.')")]
    InvalidChar { ch: char },
    #[error("'*' is only allowed in the leftmost label of a pattern, once")]
    MisplacedWildcard,
    #[error("a wildcard needs a suffix of at least one label, as in `*.example.com`")]
    BareWildcard,
    #[error("a host cannot contain '*'; only patterns can")]
    WildcardInHost,
    #[error("a label cannot start or end with '-'")]
    HyphenAtLabelEdge,
    #[error("the last label is all digits, but the name is not an IP address")]
    NumericTld,
    #[error("not a valid internationalized name: {0}")]
    Idna(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wildcard {
    /// A `*` may appear once, in the leftmost label.
    AllowedInFirstLabel,
    Forbidden,
}

/// Lowercases, strips one trailing dot, converts to A-labels and validates a
/// DNS name (or a pattern, when `wildcard` allows it).
pub(crate) fn normalize_name(input: &str, wildcard: Wildcard) -> Result<String, HostError> {
    let err = |kind, position| Err(HostError { kind, position });
    let trimmed = input.strip_suffix('.').unwrap_or(input);
    if trimmed.is_empty() {
        return err(HostErrorKind::Empty, 0);
    }
    let mut name = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        to_ascii(trimmed)?
    };
    if name.len() > MAX_NAME_LEN {
        return err(HostErrorKind::NameTooLong { len: name.len() }, MAX_NAME_LEN);
    }
    let mut offset = 0;
    let mut labels = name.split('.').peekable();
    let mut first = true;
    let mut last_label = "";
    while let Some(label) = labels.next() {
        if label.is_empty() {
            return err(HostErrorKind::EmptyLabel, offset);
        }
        if label.len() > MAX_LABEL_LEN {
            return err(HostErrorKind::LabelTooLong { len: label.len() }, offset);
        }
        for (i, ch) in label.char_indices() {
            match ch {
                'a'..='z' | '0'..='9' | '-' => {}
                '*' => {
                    let kind = match wildcard {
                        Wildcard::Forbidden => HostErrorKind::WildcardInHost,
                        Wildcard::AllowedInFirstLabel if !first || label[..i].contains('*') => {
                            HostErrorKind::MisplacedWildcard
                        }
                        Wildcard::AllowedInFirstLabel if labels.peek().is_none() => {
                            HostErrorKind::BareWildcard
                        }
                        Wildcard::AllowedInFirstLabel => continue,
                    };
                    return err(kind, offset + i);
                }
                _ => return err(HostErrorKind::InvalidChar { ch }, offset + i),
            }
        }
        // RFC 1123: a label starts and ends with a letter or digit (in a
        // pattern, `*` may stand next to a `-`: `*-umwatsonc`).
        if label.starts_with('-') {
            return err(HostErrorKind::HyphenAtLabelEdge, offset);
        }
        if label.ends_with('-') {
            return err(HostErrorKind::HyphenAtLabelEdge, offset + label.len() - 1);
        }
        first = false;
        last_label = label;
        offset += label.len() + 1;
    }
    if last_label.bytes().all(|b| b.is_ascii_digit()) {
        return err(HostErrorKind::NumericTld, offset - last_label.len() - 1);
    }
    // `to_ascii_lowercase` already allocated; keep the buffer tight for
    // matchers that hold millions of names.
    name.shrink_to_fit();
    Ok(name)
}

/// IDNA (UTS 46) conversion to A-labels, label by label so that a wildcard
/// label (which IDNA would reject) passes through unchanged.
fn to_ascii(name: &str) -> Result<String, HostError> {
    let mut out = String::with_capacity(name.len() + 8);
    let mut offset = 0;
    for (i, label) in name.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if label.is_ascii() {
            out.push_str(&label.to_ascii_lowercase());
        } else {
            let converted = idna::domain_to_ascii(label).map_err(|e| HostError {
                kind: HostErrorKind::Idna(e.to_string()),
                position: offset,
            })?;
            out.push_str(&converted);
        }
        offset += label.len() + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, (HostErrorKind, usize)>) {
        let got = Host::parse(input).map(|h| h.to_string());
        let expected = expected
            .map(str::to_owned)
            .map_err(|(kind, position)| HostError { kind, position });
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn normalization() {
        check("Example.COM", Ok("example.com"));
        check("example.com.", Ok("example.com"));
        check("bücher.example", Ok("xn--bcher-kva.example"));
        check("BÜCHER.example.", Ok("xn--bcher-kva.example"));
        check("10.0.0.1", Ok("10.0.0.1"));
        check("[::1]", Ok("[::1]"));
        check("::1", Ok("[::1]"));
        check("a-b.c0", Ok("a-b.c0"));
    }

    #[test]
    fn invalid_hosts() {
        use HostErrorKind::*;
        check("", Err((Empty, 0)));
        check(".", Err((Empty, 0)));
        check("a..b", Err((EmptyLabel, 2)));
        check(".a", Err((EmptyLabel, 0)));
        check("a.b..", Err((EmptyLabel, 4)));
        check(
            &format!("{}.com", "a".repeat(64)),
            Err((LabelTooLong { len: 64 }, 0)),
        );
        check(
            &format!("{}.com", ["a"; 127].join(".")),
            Err((NameTooLong { len: 257 }, 253)),
        );
        check("exa mple.com", Err((InvalidChar { ch: ' ' }, 3)));
        check("a_b.com", Err((InvalidChar { ch: '_' }, 1)));
        check("*.example.com", Err((WildcardInHost, 0)));
        check("1.2.3.999", Err((NumericTld, 6)));
        check("-x", Err((HyphenAtLabelEdge, 0)));
        check("a.b-.com", Err((HyphenAtLabelEdge, 3)));
        check("a--b.com", Ok("a--b.com"));
    }
}
