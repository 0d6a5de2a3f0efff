//! An existing allowlist held against the plan: which plan rows it
//! admits exactly, only more broadly, in part, or not at all, and which
//! of its entries no plan row explains.
//!
//! Read so far: `plain` (one egress host pattern a line), `pan-edl`
//! (PAN-OS domain and URL lists, [`pan_edl`]), `aws-network-firewall`
//! (stateful rule groups and Suricata rules, [`aws`]) and
//! `azure-firewall` (classic and policy rule collections, [`azure`]).
//! Each reader turns its format into [`Entry`]s in that format's own
//! matching semantics (an entry admits one or more egress patterns: an
//! AWS `.x` admits `x` and `*.x`); the verdicts are the same for every
//! format. An entry whose reach egress cannot state exactly (an FQDN tag
//! whose hosts are not published, a URL with a path, a source it cannot
//! resolve) is kept, unsure: a row it may wholly admit is "not judged",
//! one it may admit in part is blocked in part, unless other entries
//! allow it. No entry is dropped.

pub mod aws;
pub mod azure;
pub mod pan_edl;

pub use aws::{read_aws, read_suricata};
pub use azure::read_azure;
pub use pan_edl::read_pan_edl;

use egress_catalog::Plan;
use egress_catalog::catalog::{Direction, Scheme};
use egress_pattern::HostPattern;
use serde::Serialize;

use crate::asked::Client;
use crate::span::{Span, spans_hold};

/// One entry of an allowlist, as read.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What the entry admits, in egress patterns.
    pub patterns: Vec<HostPattern>,
    /// It admits every host (Azure Firewall's `*`), whatever `patterns`.
    pub every_host: bool,
    /// The schemes and ports it admits them on: `None` for every one (a
    /// list that cannot say).
    pub reach: Option<Vec<Reach>>,
    /// The clients it admits.
    pub sources: Sources,
    /// Why what it admits cannot be stated exactly: a row it may wholly
    /// admit (every row, with `every_host`) is not judged, unless other
    /// entries allow it.
    pub unsure: Option<String>,
    /// The path it admits URLs under (a PAN-OS URL entry's `/path`): see
    /// [`Fit`].
    pub path: Option<String>,
    /// As written.
    pub text: String,
    pub file: String,
    pub line: usize,
}

impl Entry {
    /// An entry for every client, judged exactly.
    pub fn new(
        patterns: Vec<HostPattern>,
        reach: Option<Vec<Reach>>,
        text: String,
        file: &str,
        line: usize,
    ) -> Entry {
        Entry {
            patterns,
            every_host: false,
            reach,
            sources: Sources::default(),
            unsure: None,
            path: None,
            text,
            file: file.to_owned(),
            line,
        }
    }

    /// How it fits a row at `path` on `scheme` (`None`: a row that names
    /// none): its own reason to be unsure, else its path's. A firewall
    /// sees a path only in plain HTTP: there a row under the entry's path
    /// is admitted, a row the path lies under (or one without a path) in
    /// part, any other not at all; in HTTPS it does not decrypt, nobody
    /// knows.
    fn fit(&self, path: Option<&str>, scheme: Option<Scheme>) -> Fit {
        if let Some(why) = &self.unsure {
            return Fit::Unsure {
                why: why.clone(),
                whole: true,
            };
        }
        let Some(own) = self.path.as_deref() else {
            return Fit::Sure;
        };
        if scheme != Some(Scheme::Http) {
            return Fit::Unsure {
                why: format!(
                    "`{}` admits only the URLs under `{own}`, and a firewall sees no path in HTTPS it does not decrypt",
                    self.text
                ),
                whole: true,
            };
        }
        match path {
            Some(p) if p.starts_with(own) => Fit::Sure,
            Some(p) if !own.starts_with(p) => Fit::Excluded,
            _ => Fit::Unsure {
                why: format!("`{}` admits only the URLs under `{own}`", self.text),
                whole: false,
            },
        }
    }

    /// Whether it may admit some of `pattern`'s hosts.
    fn touches(&self, pattern: &HostPattern) -> bool {
        self.every_host
            || self
                .patterns
                .iter()
                .any(|p| p.covers(pattern) || pattern.covers(p))
    }
}

/// How an entry fits a row on one scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fit {
    Sure,
    /// Why it is not known; `whole`: it may admit the whole row (if its
    /// hosts cover it), else only part of it.
    Unsure {
        why: String,
        whole: bool,
    },
    /// It does not admit the row (a path the row's is not under).
    Excluded,
}

/// The clients an entry admits: every one, or the addresses it names;
/// names egress cannot resolve (an Azure IP group) leave the rest unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// `None`: every source.
    spans: Option<Vec<Span>>,
    unresolved: Vec<String>,
}

/// Whether an entry admits a client.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Applies {
    Yes,
    No,
    /// Why it is not known.
    Unknown(String),
}

impl Sources {
    /// `addresses` (an address, `a.b.c.d/n`, `low-high`, or `*` for every
    /// source) and names not resolved here, such as IP groups. An address
    /// that is not one is returned as the error.
    pub fn new(addresses: &[&str], unresolved: Vec<String>) -> Result<Sources, String> {
        if addresses.contains(&"*") {
            return Ok(Sources::default());
        }
        let mut spans = Vec::new();
        for a in addresses {
            match Span::parse_squid(a.trim()) {
                Some(mut s) if !matches!(*a, "all" | "ipv4" | "ipv6") => spans.append(&mut s),
                _ => return Err((*a).to_owned()),
            }
        }
        Ok(Sources {
            spans: Some(spans),
            unresolved,
        })
    }

    /// Whether they name only private or reserved addresses (RFC 1918,
    /// loopback, link-local, CGNAT, unique local): none of them is an
    /// internet host.
    pub fn is_private(&self) -> bool {
        const PRIVATE: [&str; 9] = [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ];
        let private: Vec<Span> = PRIVATE
            .iter()
            .filter_map(|r| Span::parse_squid(r))
            .flatten()
            .collect();
        self.unresolved.is_empty()
            && self.spans.as_ref().is_some_and(|spans| {
                !spans.is_empty() && spans.iter().all(|s| spans_hold(&private, *s) == Some(true))
            })
    }

    fn applies(&self, client: &Client) -> Applies {
        let Some(spans) = &self.spans else {
            return Applies::Yes;
        };
        let unresolved = || {
            Applies::Unknown(format!(
                "its sources {} are not resolved here",
                self.unresolved.join(", ")
            ))
        };
        match client {
            Client::Unknown if !self.unresolved.is_empty() => unresolved(),
            Client::Unknown => Applies::Unknown(
                "it admits some sources and the site system's address is not known (give the role's servers in the profile, or --client)".to_owned(),
            ),
            Client::In(range) => match spans_hold(spans, Span::from_range(range)) {
                Some(true) => Applies::Yes,
                Some(false) if self.unresolved.is_empty() => Applies::No,
                Some(false) => unresolved(),
                None => Applies::Unknown(format!(
                    "it admits part of {}/{}",
                    range.network, range.prefix
                )),
            },
        }
    }
}

/// A scheme on a range of ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub scheme: Scheme,
    pub ports: std::ops::RangeInclusive<u16>,
}

impl Reach {
    /// `scheme` on every port.
    pub fn any_port(scheme: Scheme) -> Reach {
        Reach {
            scheme,
            ports: 0..=u16::MAX,
        }
    }
}

/// A line the reader cannot read: the allowlist is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ReadError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A plain list: one host pattern a line in egress's syntax
/// (docs/host-patterns.md), `#` comments and blank lines skipped. Every
/// line that is not a pattern is reported.
pub fn read_plain(file: &str, text: &str) -> Result<Vec<Entry>, Vec<ReadError>> {
    read_lines(file, text, 1, true, |line, _| {
        HostPattern::parse(line).map(|p| Some((vec![p], None))).map_err(|e| {
            format!("`{line}` is not a host pattern: {e}; write one host or pattern a line (docs/host-patterns.md)")
        })
    })
}

/// The entries of a list with one entry a line (`comments`: `#` lines are
/// comments; `first_line`: the line of `text`'s first line in `file`),
/// each read by `read` with its line number: its patterns and where it
/// admits them, or `None` for a line that is no entry. Every line it
/// refuses is reported.
pub(crate) fn read_lines(
    file: &str,
    text: &str,
    first_line: usize,
    comments: bool,
    mut read: impl FnMut(&str, usize) -> Result<Option<(Vec<HostPattern>, Option<Vec<Reach>>)>, String>,
) -> Result<Vec<Entry>, Vec<ReadError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || (comments && line.starts_with('#')) {
            continue;
        }
        let number = first_line + i;
        let column = raw.len() - raw.trim_start().len() + 1;
        match read(line, number) {
            Ok(Some((patterns, reach))) => {
                entries.push(Entry::new(patterns, reach, line.to_owned(), file, number))
            }
            Ok(None) => {}
            Err(message) => errors.push(ReadError {
                file: file.to_owned(),
                line: number,
                column,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

pub(crate) fn parse_json(file: &str, text: &str) -> Result<serde_json::Value, Vec<ReadError>> {
    serde_json::from_str(text).map_err(|e| {
        vec![ReadError {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: format!("not JSON: {e}"),
        }]
    })
}

/// Entries from JSON strings, each at the line where its text first
/// stands quoted in the file.
pub(crate) fn json_entries<'a>(
    file: &str,
    text: &str,
    values: impl Iterator<Item = &'a serde_json::Value>,
    reach: Option<&[Reach]>,
    read: impl Fn(&str) -> Result<Vec<HostPattern>, egress_pattern::HostError>,
) -> Result<Vec<Entry>, Vec<ReadError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for value in values {
        let Some(target) = value.as_str() else {
            errors.push(located(
                file,
                text,
                None,
                format!("`{value}` is not a string"),
            ));
            continue;
        };
        match read(target) {
            Ok(patterns) => entries.push(Entry::new(
                patterns,
                reach.map(<[Reach]>::to_vec),
                target.to_owned(),
                file,
                located(file, text, Some(target), String::new()).line,
            )),
            Err(e) => errors.push(located(
                file,
                text,
                Some(target),
                format!("`{target}` is not a host: {e}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// An error at the first place `"value"` stands in `text` (the file's
/// start without a value, or when it is not found).
pub(crate) fn located(file: &str, text: &str, value: Option<&str>, message: String) -> ReadError {
    let at = value
        .and_then(|v| text.find(&format!("\"{v}\"")))
        .map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    ReadError {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// What an allowlist does with one plan row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An entry is the row's pattern.
    Allowed,
    /// Only entries that admit more than the row do (`*.microsoft.com`
    /// for `go.microsoft.com`): allowed, and over-permissive.
    Broader,
    /// The answer depends on something the audit does not judge (an ACL
    /// type it does not evaluate, a list file it cannot find, the
    /// client's address): neither allowed nor blocked.
    NotJudged,
    /// Allowed or not only once the client authenticates, and no user
    /// was given to judge the rules as.
    NeedsAuth,
    /// Only entries for some of the row's hosts (`a.blob.core.windows.net`
    /// for `*.blob.core.windows.net`), ports or clients: the rest is
    /// blocked.
    Partly,
    /// No entry admits any of the row's hosts.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowAudit {
    /// The plan row's host pattern.
    pub row: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    pub verdict: Verdict,
    /// The entries behind the verdict (`file:line: entry`).
    pub entries: Vec<String>,
    /// Whether the proxy inspects the row's TLS (rules that are programs
    /// only): inspected, or not judged, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
}

/// An entry no plan row explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unexplained {
    pub entry: String,
    pub file: String,
    pub line: usize,
    /// What the catalog knows of it, when anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowlistReport {
    /// What the reader could not judge exactly (said first).
    pub notes: Vec<String>,
    /// Every internet row of the plan in force that names a host, in plan
    /// order.
    pub rows: Vec<RowAudit>,
    pub unexplained: Vec<Unexplained>,
}

impl AllowlistReport {
    /// Whether a row the plan needs is blocked, wholly or in part.
    pub fn blocks(&self) -> bool {
        self.rows
            .iter()
            .any(|r| matches!(r.verdict, Verdict::Blocked | Verdict::Partly))
    }
}

/// The rows an allowlist is held to: the internet rows in force that name
/// a host (what `egress render` writes), with their patterns.
pub(crate) fn audited_rows(plan: &Plan) -> Vec<(&egress_catalog::Row, &HostPattern)> {
    plan.rows
        .iter()
        .filter(|r| r.status.is_in_force() && r.direction == Direction::Internet)
        .filter_map(|r| r.pattern.as_ref().map(|p| (r, p)))
        .collect()
}

/// A row's verdict with its features and roles.
pub(crate) fn row_audit(
    row: &egress_catalog::Row,
    verdict: Verdict,
    entries: Vec<String>,
) -> RowAudit {
    let mut features: Vec<String> = row.in_force().map(|q| q.feature.clone()).collect();
    features.sort();
    features.dedup();
    let mut roles: Vec<String> = row.in_force().map(|q| q.role.clone()).collect();
    roles.sort();
    roles.dedup();
    RowAudit {
        row: row.host.clone(),
        features,
        roles,
        verdict,
        entries,
        tls: None,
    }
}

impl Entry {
    /// Whether the entry admits its hosts on `scheme` and `port`.
    pub fn admits(&self, scheme: Scheme, port: u16) -> bool {
        self.reach.as_ref().is_none_or(|reach| {
            reach
                .iter()
                .any(|r| r.scheme == scheme && r.ports.contains(&port))
        })
    }
}

/// What `entries` do with the hosts of `pattern`: an entry that is the
/// pattern allows it; else entries that cover it allow it more broadly;
/// else entries it covers allow it in part; else it is blocked.
fn host_verdict<'e>(pattern: &HostPattern, entries: &[&'e Entry]) -> (Verdict, Vec<&'e Entry>) {
    let pick = |keep: &dyn Fn(&Entry) -> bool| -> Vec<&'e Entry> {
        entries.iter().copied().filter(|e| keep(e)).collect()
    };
    let exact = pick(&|e| e.patterns == [pattern.clone()]);
    if !exact.is_empty() {
        return (Verdict::Allowed, exact);
    }
    let broader = pick(&|e| e.patterns.iter().any(|p| p.covers(pattern)));
    if !broader.is_empty() {
        return (Verdict::Broader, broader);
    }
    let narrower = pick(&|e| e.patterns.iter().any(|p| pattern.covers(p)));
    if !narrower.is_empty() {
        return (Verdict::Partly, narrower);
    }
    (Verdict::Blocked, Vec::new())
}

/// Holds `entries` against `plan`'s rows, each asked from the clients
/// `clients` gives for it (a row's roles' servers; none known:
/// [`Client::Unknown`]). The rows `egress render` leaves out (intranet
/// rows, rows whose placeholder has no value, rows not in force) are left
/// out here too. `nearest` says what the catalog knows of an unexplained
/// entry.
pub fn audit(
    plan: &Plan,
    entries: &[Entry],
    clients: &dyn Fn(&egress_catalog::Row) -> Vec<Client>,
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    let rows = audited_rows(plan);
    let audited = rows
        .iter()
        .map(|&(row, pattern)| {
            // Each scheme and port the row needs, from each client, judged
            // by the entries that admit it there; the row's verdict is
            // their sum.
            let pairs: std::collections::BTreeSet<(Scheme, u16)> = row
                .in_force()
                .flat_map(|q| q.pairs.iter().copied())
                .collect();
            let pairs: Vec<Option<(Scheme, u16)>> = match pairs.is_empty() {
                true => vec![None],
                false => pairs.into_iter().map(Some).collect(),
            };
            let mut from = clients(row);
            if from.is_empty() {
                from.push(Client::Unknown);
            }
            let mut verdicts = Vec::new();
            let mut by: Vec<String> = Vec::new();
            for pair in &pairs {
                for client in &from {
                    let (verdict, behind) =
                        pair_verdict(pattern, row.path.as_deref(), entries, *pair, client);
                    verdicts.push(verdict);
                    for b in behind {
                        if !by.contains(&b) {
                            by.push(b);
                        }
                    }
                }
            }
            row_audit(row, sum(&verdicts), by)
        })
        .collect();
    // One entry as written may give several (a PAN-OS bare name: the
    // name, and its subdomains unsure): it is explained when one of them
    // is, and listed once.
    let key = |e: &'_ Entry| (e.file.clone(), e.line, e.text.clone());
    let explained: std::collections::HashSet<(String, usize, String)> = entries
        .iter()
        .filter(|e| e.every_host || rows.iter().any(|(_, row)| e.touches(row)))
        .map(key)
        .collect();
    let mut listed = std::collections::HashSet::new();
    let unexplained = entries
        .iter()
        .filter(|e| !explained.contains(&key(e)))
        .filter(|e| listed.insert(key(e)))
        .map(|e| Unexplained {
            entry: e.text.clone(),
            file: e.file.clone(),
            line: e.line,
            nearest: e.patterns.iter().find_map(&nearest),
        })
        .collect();
    AllowlistReport {
        notes: Vec::new(),
        rows: audited,
        unexplained,
    }
}

/// What `entries` do with `pattern` on one scheme and port (`None`: a row
/// that names none) from one client, and the entries behind it
/// (`file:line: entry`, with why when not judged).
fn pair_verdict(
    pattern: &HostPattern,
    path: Option<&str>,
    entries: &[Entry],
    pair: Option<(Scheme, u16)>,
    client: &Client,
) -> (Verdict, Vec<String>) {
    let at = |e: &Entry| format!("{}:{}: {}", e.file, e.line, e.text);
    let scheme = pair.map(|(scheme, _)| scheme);
    let here: Vec<(&Entry, Applies, Fit)> = entries
        .iter()
        .filter(|e| pair.is_none_or(|(scheme, port)| e.admits(scheme, port)))
        .map(|e| (e, e.sources.applies(client), e.fit(path, scheme)))
        .filter(|(_, applies, fit)| *applies != Applies::No && *fit != Fit::Excluded)
        .collect();
    let sure: Vec<&Entry> = here
        .iter()
        .filter(|(_, applies, fit)| *fit == Fit::Sure && *applies == Applies::Yes)
        .map(|(e, _, _)| *e)
        .collect();
    let (named, every): (Vec<&Entry>, Vec<&Entry>) = sure.iter().partition(|e| !e.every_host);
    let (mut verdict, behind) = host_verdict(pattern, &named);
    let mut behind: Vec<String> = behind.into_iter().map(at).collect();
    if verdict != Verdict::Allowed && !every.is_empty() {
        verdict = Verdict::Broader;
        behind = every.into_iter().map(at).collect();
    }
    if matches!(verdict, Verdict::Partly | Verdict::Blocked) {
        // Entries that may admit some of the row, egress cannot say: the
        // row is not judged if one may admit all of it; else what none of
        // them can admit is blocked for sure, and the row is blocked in
        // part.
        let unsure: Vec<(&Entry, bool, String)> = here
            .iter()
            .filter(|(e, applies, fit)| {
                (*fit != Fit::Sure || *applies != Applies::Yes) && e.touches(pattern)
            })
            .map(|(e, applies, fit)| {
                let (why, whole) = match (fit, applies) {
                    (Fit::Unsure { why, whole }, _) => (why.as_str(), *whole),
                    (_, Applies::Unknown(why)) => (why.as_str(), true),
                    _ => ("", true),
                };
                (*e, whole, format!("{} (not judged: {why})", at(e)))
            })
            .collect();
        let whole = unsure.iter().any(|(e, whole, _)| {
            *whole && (e.every_host || e.patterns.iter().any(|p| p.covers(pattern)))
        });
        if whole {
            return (
                Verdict::NotJudged,
                unsure.into_iter().map(|(_, _, at)| at).collect(),
            );
        }
        if !unsure.is_empty() {
            behind.extend(unsure.into_iter().map(|(_, _, at)| at));
            return (Verdict::Partly, behind);
        }
    }
    (verdict, behind)
}

/// A row's verdict from its schemes', ports' and clients': allowed only
/// if allowed everywhere; a definite block anywhere makes it blocked in
/// part; else not judged if anything is.
fn sum(verdicts: &[Verdict]) -> Verdict {
    let all = |keep: &dyn Fn(&Verdict) -> bool| verdicts.iter().all(keep);
    if all(&|v| *v == Verdict::Allowed) {
        Verdict::Allowed
    } else if all(&|v| matches!(v, Verdict::Allowed | Verdict::Broader)) {
        Verdict::Broader
    } else if all(&|v| *v == Verdict::Blocked) {
        Verdict::Blocked
    } else if verdicts
        .iter()
        .any(|v| matches!(v, Verdict::Blocked | Verdict::Partly))
    {
        Verdict::Partly
    } else {
        Verdict::NotJudged
    }
}
