//! Host patterns: exact hosts, `*.suffix`, a `*` inside the leftmost label,
//! and IP literals.

use std::fmt;
use std::net::IpAddr;

use crate::host::{Host, HostError, Wildcard, normalize_name, parse_ip};

/// A normalized, valid host pattern. See `docs/host-patterns.md`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPattern {
    /// The normalized text: lowercase ASCII, A-labels, no trailing dot.
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Exact,
    /// `*.suffix`.
    Subdomains,
    /// `pre*post.parent`: `star` is the byte index of `*`, `label_end` that of
    /// the first dot.
    InLabel {
        star: usize,
        label_end: usize,
    },
    /// The text is the address, in its canonical form.
    Ip(IpAddr),
}

/// What a pattern is, with its parts borrowed from the normalized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind<'a> {
    /// Matches this host only.
    Exact(&'a str),
    /// `*.suffix`: one or more whole labels before `suffix`, never `suffix`.
    Subdomains { suffix: &'a str },
    /// `prefix*suffix.parent`: one or more characters, no dot, between
    /// `prefix` and `suffix` in the leftmost label, then `.parent`.
    InLabel {
        prefix: &'a str,
        suffix: &'a str,
        parent: &'a str,
    },
    /// An IP literal: matches that address only, never a name.
    Ip(IpAddr),
}

impl HostPattern {
    /// Parses and normalizes a pattern. Errors name the byte position and
    /// the rule broken.
    pub fn parse(input: &str) -> Result<HostPattern, HostError> {
        if let Some(ip) = parse_ip(input) {
            return Ok(HostPattern {
                text: ip.to_string(),
                kind: Kind::Ip(ip),
            });
        }
        let text = normalize_name(input, Wildcard::AllowedInFirstLabel)?;
        let label_end = text.find('.').unwrap_or(text.len());
        let kind = match text[..label_end].find('*') {
            None => Kind::Exact,
            Some(_) if label_end == 1 => Kind::Subdomains,
            Some(star) => Kind::InLabel { star, label_end },
        };
        Ok(HostPattern { text, kind })
    }

    /// The pattern as normalized text (`*.example.com`, `10.0.0.1`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> PatternKind<'_> {
        let text = self.text.as_str();
        match self.kind {
            Kind::Exact => PatternKind::Exact(text),
            Kind::Subdomains => PatternKind::Subdomains { suffix: &text[2..] },
            Kind::InLabel { star, label_end } => PatternKind::InLabel {
                prefix: &text[..star],
                suffix: &text[star + 1..label_end],
                parent: &text[label_end + 1..],
            },
            Kind::Ip(ip) => PatternKind::Ip(ip),
        }
    }

    /// Whether the pattern contains a wildcard.
    pub fn is_wildcard(&self) -> bool {
        matches!(self.kind, Kind::Subdomains | Kind::InLabel { .. })
    }

    /// Does this pattern match this host? The definition every other matcher
    /// in egress is tested against.
    pub fn matches(&self, host: &Host) -> bool {
        match (self.kind(), host) {
            (PatternKind::Ip(ip), Host::Ip(addr)) => ip == *addr,
            (PatternKind::Ip(_), Host::Name(_)) | (_, Host::Ip(_)) => false,
            (kind, Host::Name(name)) => matches_name(kind, name),
        }
    }

    /// [`HostPattern::matches`] for a name already normalized (as
    /// [`Host::parse`] would).
    pub fn matches_name(&self, name: &str) -> bool {
        matches_name(self.kind(), name)
    }

    /// Whether every host `other` matches, this pattern matches too
    /// (`*.x` covers `a.x`, `*.a.x` and `p*.a.x`; a pattern covers
    /// itself): an allowlist entry that covers a plan row admits at least
    /// the row.
    pub fn covers(&self, other: &HostPattern) -> bool {
        // A parent `t` covers `s` when `s` is `t` or below it.
        let under =
            |s: &str, t: &str| s == t || s.strip_suffix(t).is_some_and(|head| head.ends_with('.'));
        match (self.kind(), other.kind()) {
            (_, PatternKind::Exact(name)) => self.matches_name(name),
            (PatternKind::Ip(a), PatternKind::Ip(b)) => a == b,
            (PatternKind::Subdomains { suffix: t }, PatternKind::Subdomains { suffix: s }) => {
                under(s, t)
            }
            (PatternKind::Subdomains { suffix: t }, PatternKind::InLabel { parent, .. }) => {
                under(parent, t)
            }
            (
                PatternKind::InLabel {
                    prefix: p2,
                    suffix: q2,
                    parent: parent2,
                },
                PatternKind::InLabel {
                    prefix,
                    suffix,
                    parent,
                },
            ) => parent == parent2 && prefix.starts_with(p2) && suffix.ends_with(q2),
            _ => false,
        }
    }
}

fn matches_name(kind: PatternKind<'_>, name: &str) -> bool {
    match kind {
        PatternKind::Exact(text) => name == text,
        PatternKind::Subdomains { suffix } => name
            .strip_suffix(suffix)
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(|head| !head.is_empty()),
        PatternKind::InLabel {
            prefix,
            suffix,
            parent,
        } => {
            let Some((label, rest)) = name.split_once('.') else {
                return false;
            };
            rest == parent
                && label.len() > prefix.len() + suffix.len()
                && label.starts_with(prefix)
                && label.ends_with(suffix)
        }
        PatternKind::Ip(_) => false,
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An IPv6 address is the one kind of text with a colon.
        if matches!(self.kind, Kind::Ip(IpAddr::V6(_))) {
            write!(f, "[{}]", self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

impl std::str::FromStr for HostPattern {
    type Err = HostError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostPattern::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HostErrorKind;

    /// One line of `docs/host-patterns.md` each: the pattern, a host, and
    /// whether the host matches.
    #[track_caller]
    fn check(pattern: &str, host: &str, expected: bool) {
        let p = HostPattern::parse(pattern).unwrap();
        let h = Host::parse(host).unwrap();
        assert_eq!(p.matches(&h), expected, "{pattern} vs {host}");
    }

    #[test]
    fn exact() {
        check("go.microsoft.com", "go.microsoft.com", true);
        check("go.microsoft.com", "GO.Microsoft.com.", true);
        check("go.microsoft.com", "x.go.microsoft.com", false);
        check("go.microsoft.com", "microsoft.com", false);
    }

    #[test]
    fn subdomains() {
        check("*.manage.microsoft.com", "a.manage.microsoft.com", true);
        check("*.manage.microsoft.com", "a.b.manage.microsoft.com", true);
        check("*.manage.microsoft.com", "manage.microsoft.com", false);
        check("*.manage.microsoft.com", "evilmanage.microsoft.com", false);
        check(
            "*.manage.microsoft.com",
            "x.manage.microsoft.com.evil.test",
            false,
        );
        check("*.Manage.Microsoft.com.", "A.MANAGE.microsoft.com", true);
    }

    #[test]
    fn in_label() {
        let p = "*-umwatsonc.events.data.microsoft.com";
        check(p, "eu-umwatsonc.events.data.microsoft.com", true);
        // Not a host at all: a label starts with a letter or digit.
        assert!(crate::Host::parse("-umwatsonc.events.data.microsoft.com").is_err());
        check(p, "umwatsonc.events.data.microsoft.com", false);
        check(p, "a.b-umwatsonc.events.data.microsoft.com", false);
        check(p, "x-umwatsonc.events.data.microsoft.com.evil", false);
        check("*cdn.example.com", "fastcdn.example.com", true);
        check("*cdn.example.com", "cdn.example.com", false);
        check("a*b.example.com", "ab.example.com", false);
        check("a*b.example.com", "axb.example.com", true);
        check("a*b.example.com", "a.b.example.com", false);
    }

    #[test]
    fn ip_literals() {
        check("127.0.0.1", "127.0.0.1", true);
        check("127.0.0.1", "127.0.0.2", false);
        check("[::1]", "::1", true);
        check("*.example.com", "127.0.0.1", false);
        let v6 = HostPattern::parse("[2001:DB8::1]").unwrap();
        assert_eq!(v6.as_str(), "2001:db8::1");
        assert_eq!(v6.to_string(), "[2001:db8::1]");
        assert_eq!(v6.kind(), PatternKind::Ip("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn idn() {
        check("*.bücher.example", "www.xn--bcher-kva.example", true);
        check("xn--bcher-kva.example", "bücher.example", true);
    }

    #[track_caller]
    fn check_error(pattern: &str, kind: HostErrorKind, position: usize) {
        assert_eq!(
            HostPattern::parse(pattern),
            Err(HostError { kind, position }),
            "{pattern}"
        );
    }

    #[test]
    fn invalid_patterns() {
        use HostErrorKind::*;
        check_error("a.*.com", MisplacedWildcard, 2);
        check_error("**.com", MisplacedWildcard, 1);
        check_error("*", BareWildcard, 0);
        check_error("*.", BareWildcard, 0);
        check_error("*..com", EmptyLabel, 2);
        check_error("a b.com", InvalidChar { ch: ' ' }, 1);
        check_error("<name>.com", InvalidChar { ch: '<' }, 0);
        check_error("*.0.0.1", NumericTld, 6);
    }

    #[test]
    fn kinds() {
        let p = HostPattern::parse("*-x.a.b").unwrap();
        assert_eq!(
            p.kind(),
            PatternKind::InLabel {
                prefix: "",
                suffix: "-x",
                parent: "a.b"
            }
        );
        let p = HostPattern::parse("*.a.b").unwrap();
        assert_eq!(p.kind(), PatternKind::Subdomains { suffix: "a.b" });
        assert!(p.is_wildcard());
    }
}
