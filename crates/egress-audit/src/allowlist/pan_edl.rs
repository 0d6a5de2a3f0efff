//! PAN-OS external dynamic lists of domains and of URLs, read as PAN-OS
//! reads them (PAN-OS "Formatting Guidelines for an External Dynamic
//! List" and "URL Category Exceptions"): one entry a line; tokens are
//! separated by `.` and `/`; a wildcard (`*`: one or more tokens, `^`:
//! exactly one) must be a whole token; `http://` and `https://` make an
//! entry invalid. PAN-OS skips an invalid entry and loads the rest: so
//! does egress, with a located warning.
//!
//! What each entry is judged as (docs/audit.md):
//! - `^x` (a domain list's exact match) and `x/` (a URL list's ending
//!   token): `x` only;
//! - a bare `x` or an address: `x` (a domain list, or a URL list on
//!   PAN-OS 10.2 and later, which appends the ending token); its
//!   subdomains not judged (a domain list may be set to expand to them);
//! - `*.x` and `*.x/`: the subdomains of `x`, at any depth;
//! - `x/path`: the URLs under `/path` on `x`: a row under that path is
//!   judged, any other row of `x` not;
//! - `^.x`, a wildcard in the middle or at the end, a port: kept, and the
//!   rows they may admit not judged.

use egress_pattern::HostPattern;

use super::{Entry, ReadError};

/// The longest entry PAN-OS takes.
const MAX_ENTRY: usize = 255;

/// What one line is.
enum Line {
    Entry {
        patterns: Vec<HostPattern>,
        every_host: bool,
        unsure: Option<String>,
        /// `/path`, for a URL entry with a path.
        path: Option<String>,
    },
    /// A bare name: the name for sure, and its subdomains only in a
    /// domain list that expands to them.
    Bare(HostPattern, HostPattern),
    /// PAN-OS skips it: why.
    Invalid(String),
}

/// A PAN-OS EDL of domains or URLs: its entries, and the notes (each
/// skipped line, located, and what is read differently from what PAN-OS
/// may do). Refused only when no line is an entry.
pub fn read_pan_edl(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    let mut commented = 0;
    let mut bare = 0;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let column = raw.len() - raw.trim_start().len() + 1;
        // PAN-OS documents "entry, space, comment" for IP lists; the first
        // word is read as the entry, and that said.
        let entry = trimmed.split_whitespace().next().unwrap_or_default();
        if entry.len() < trimmed.len() {
            commented += 1;
        }
        match line(entry) {
            Line::Entry {
                patterns,
                every_host,
                unsure,
                path,
            } => {
                let mut e = Entry::new(patterns, None, entry.to_owned(), file, i + 1);
                e.every_host = every_host;
                e.unsure = unsure;
                e.path = path;
                entries.push(e);
            }
            Line::Bare(exact, below) => {
                bare += 1;
                entries.push(Entry::new(vec![exact], None, entry.to_owned(), file, i + 1));
                let mut e = Entry::new(vec![below], None, entry.to_owned(), file, i + 1);
                e.unsure = Some(format!(
                    "`{entry}` admits the subdomains only in a domain list with \"Automatically expand to include subdomains\" (off by default; never in a URL list)"
                ));
                entries.push(e);
            }
            Line::Invalid(message) => skipped.push(ReadError {
                file: file.to_owned(),
                line: i + 1,
                column,
                message,
            }),
        }
    }
    if entries.is_empty() {
        if skipped.is_empty() {
            skipped.push(ReadError {
                file: file.to_owned(),
                line: 1,
                column: 1,
                message: "the list holds no entry: write one domain or URL a line".to_owned(),
            });
        }
        return Err(skipped);
    }
    let mut notes: Vec<String> = skipped
        .iter()
        .map(|e| format!("{e} (PAN-OS skips it: so does this audit)"))
        .collect();
    if commented > 0 {
        notes.push(format!(
            "{commented} {} a space: the first word is read as the entry and the rest as a comment, as PAN-OS documents for IP lists (for domain and URL lists it does not say)",
            if commented == 1 { "line holds" } else { "lines hold" }
        ));
    }
    if bare > 0 {
        notes.push(format!(
            "{bare} {} no `^`, `*` or ending `/`: judged as the name itself (a domain list, or a URL list on PAN-OS 10.2 and later, which appends the ending `/`); before 10.2, or with the ending token off, a URL list also admits `name.*` (`name.evil.test`), which is over-permissive",
            if bare == 1 { "entry has" } else { "entries have" }
        ));
    }
    Ok((entries, notes))
}

fn line(entry: &str) -> Line {
    if entry.len() > MAX_ENTRY {
        return Line::Invalid(format!("the entry is longer than {MAX_ENTRY} characters"));
    }
    if let Some((_, rest)) = entry.split_once("://") {
        return Line::Invalid(format!(
            "`{}` starts with a scheme: PAN-OS takes no `http://` or `https://` in a list entry; write `{}`",
            hide_user(entry),
            without_user(rest)
        ));
    }
    if entry.split('/').next().is_some_and(|a| a.contains('@')) {
        return Line::Invalid(format!(
            "`{}` holds a user name: PAN-OS takes none in a list entry; write `{}`",
            hide_user(entry),
            without_user(entry)
        ));
    }
    // An address, IPv6 ones with their colons, bracketed or not.
    let authority = entry.split('/').next().unwrap_or(entry);
    let bare = authority.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        let path = entry.split_once('/').map(|(_, p)| p);
        return match HostPattern::parse(bare) {
            Ok(p) => sure_or(vec![p], path, None, entry),
            Err(e) => Line::Invalid(format!("`{entry}` is not a PAN-OS list entry: {e}")),
        };
    }
    let (host, path) = match entry.split_once('/') {
        Some((host, path)) => (host, Some(path)),
        None => (entry, None),
    };
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (host, None),
    };
    let invalid =
        |why: String| Line::Invalid(format!("`{entry}` is not a PAN-OS list entry: {why}"));
    // A domain list's exact match: `^x`, the caret glued to the name.
    if let Some(exact) = host.strip_prefix('^').filter(|h| !h.starts_with('.'))
        && !exact.contains(['*', '^'])
    {
        return match HostPattern::parse(exact) {
            Ok(p) => sure_or(vec![p], path, port, entry),
            Err(e) => invalid(e.to_string()),
        };
    }
    let tokens: Vec<&str> = host.split('.').collect();
    if let Some(t) = tokens
        .iter()
        .find(|t| t.contains(['*', '^']) && t.len() > 1)
    {
        return invalid(format!(
            "`{t}`: a wildcard (`*` or `^`) must be a whole token, between dots"
        ));
    }
    let wild: Vec<usize> = (0..tokens.len())
        .filter(|i| matches!(tokens[*i], "*" | "^"))
        .collect();
    let named = |from: usize| tokens[from..].join(".");
    match wild[..] {
        [] => match HostPattern::parse(host) {
            Ok(exact) => match (path, port) {
                // The ending token `/`, an address, a port: the host only.
                (Some(_), _) | (_, Some(_)) => sure_or(vec![exact], path, port, entry),
                _ if host.parse::<std::net::IpAddr>().is_ok() => {
                    sure_or(vec![exact], None, None, entry)
                }
                (None, None) => match HostPattern::parse(&format!("*.{host}")) {
                    Ok(below) => Line::Bare(exact, below),
                    Err(e) => invalid(e.to_string()),
                },
            },
            Err(e) => invalid(e.to_string()),
        },
        [0] if tokens.len() > 1 => match HostPattern::parse(&format!("*.{}", named(1))) {
            Ok(below) if tokens[0] == "*" => sure_or(vec![below], path, port, entry),
            Ok(below) => Line::Entry {
                patterns: vec![below],
                every_host: false,
                path: None,
                unsure: Some(format!(
                    "`{entry}`: `^` stands for exactly one label, which egress does not judge (it judges whole subdomain trees)"
                )),
            },
            Err(e) => invalid(e.to_string()),
        },
        _ => {
            // A wildcard in the middle or at the end: what follows the
            // last one bounds what it admits, if anything does.
            let last = wild[wild.len() - 1];
            let bound = (last + 1 < tokens.len())
                .then(|| HostPattern::parse(&format!("*.{}", named(last + 1))).ok())
                .flatten();
            if last + 1 < tokens.len() && bound.is_none() {
                return invalid(format!("`{}` is not a domain", named(last + 1)));
            }
            Line::Entry {
                path: None,
                every_host: bound.is_none(),
                patterns: bound.into_iter().collect(),
                unsure: Some(format!(
                    "`{entry}`: a wildcard in the middle or at the end of a name, which egress does not judge"
                )),
            }
        }
    }
}

/// `entry` with the user information of a URL in it shown as `***`: a
/// message never shows a credential.
fn hide_user(entry: &str) -> String {
    let (scheme, rest) = match entry.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), entry),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}***@{host}{}", &rest[authority.len()..]),
        None => entry.to_owned(),
    }
}

/// `entry` without the user information of its authority.
fn without_user(entry: &str) -> String {
    let authority = entry.split('/').next().unwrap_or(entry);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{host}{}", &entry[authority.len()..]),
        None => entry.to_owned(),
    }
}

/// An entry for `patterns`: under a path, if it names one; unsure when a
/// port narrows it.
fn sure_or(
    patterns: Vec<HostPattern>,
    path: Option<&str>,
    port: Option<&str>,
    entry: &str,
) -> Line {
    let unsure = port.map(|port| {
        format!("`{entry}`: a port (`{port}`) in a list entry, which PAN-OS does not document")
    });
    Line::Entry {
        patterns,
        every_host: false,
        unsure,
        path: path
            .filter(|p| !matches!(*p, "" | "*"))
            .map(|p| format!("/{}", p.trim_end_matches('*'))),
    }
}
