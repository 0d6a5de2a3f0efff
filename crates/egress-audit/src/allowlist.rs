//! An existing allowlist held against the plan: which plan rows it
//! admits exactly, only more broadly, in part, or not at all, and which
//! of its entries no plan row explains.
//!
//! Read so far: `plain` (one egress host pattern a line), `pan-edl`
//! (PAN-OS domain and URL lists), `aws-network-firewall` (a stateful rule
//! group's domain list) and `azure-firewall` (an ARM template's
//! application rules' `targetFqdns`). Each reader turns its format into
//! [`Entry`]s in that format's own matching semantics (an entry admits one
//! or more egress patterns: a PAN-OS bare `x` or an AWS `.x` admits `x` and
//! `*.x`); the verdicts are the same for every format.

use egress_catalog::Plan;
use egress_catalog::catalog::Direction;
use egress_pattern::HostPattern;
use serde::Serialize;

/// One entry of an allowlist, as read.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What the entry admits, in egress patterns.
    pub patterns: Vec<HostPattern>,
    /// As written.
    pub text: String,
    pub file: String,
    pub line: usize,
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
    read_lines(file, text, true, |line| {
        HostPattern::parse(line).map(|p| vec![p]).map_err(|e| {
            format!("`{line}` is not a host pattern: {e}; write one host or pattern a line (docs/host-patterns.md)")
        })
    })
}

/// A PAN-OS external dynamic list of domains or URLs (docs/targets.md):
/// `^x` is `x` only, `*.x` the subdomains of `x`, a bare `x` both; in a
/// URL list, the host is what comes before the first `/`. An EDL has no
/// comments.
pub fn read_pan_edl(file: &str, text: &str) -> Result<Vec<Entry>, Vec<ReadError>> {
    read_lines(file, text, false, |line| {
        let host = line.split('/').next().unwrap_or_default();
        let bad = |e: egress_pattern::HostError| {
            format!(
                "`{line}` is not a PAN-OS EDL entry: {e}; write `^host`, `*.domain` or `domain`, in a URL list followed by `/`"
            )
        };
        if let Some(exact) = host.strip_prefix('^') {
            return HostPattern::parse(exact).map(|p| vec![p]).map_err(bad);
        }
        if host.starts_with("*.") {
            return HostPattern::parse(host).map(|p| vec![p]).map_err(bad);
        }
        let apex = HostPattern::parse(host).map_err(bad)?;
        let below = HostPattern::parse(&format!("*.{host}")).map_err(bad)?;
        Ok(vec![apex, below])
    })
}

/// The entries of a list with one entry a line (`comments`: `#` lines are
/// comments), each read by `read`; every line it refuses is reported.
fn read_lines(
    file: &str,
    text: &str,
    comments: bool,
    read: impl Fn(&str) -> Result<Vec<HostPattern>, String>,
) -> Result<Vec<Entry>, Vec<ReadError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || (comments && line.starts_with('#')) {
            continue;
        }
        let column = raw.len() - raw.trim_start().len() + 1;
        match read(line) {
            Ok(patterns) => entries.push(Entry {
                patterns,
                text: line.to_owned(),
                file: file.to_owned(),
                line: i + 1,
            }),
            Err(message) => errors.push(ReadError {
                file: file.to_owned(),
                line: i + 1,
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

/// An AWS Network Firewall stateful rule group (the JSON `egress render
/// aws-network-firewall` writes, `create-rule-group --cli-input-json`):
/// its domain list's `Targets`, where `.x` is `x` and its subdomains.
pub fn read_aws(file: &str, text: &str) -> Result<Vec<Entry>, Vec<ReadError>> {
    let json = parse_json(file, text)?;
    let Some(targets) = json
        .pointer("/RuleGroup/RulesSource/RulesSourceList/Targets")
        .and_then(|t| t.as_array())
    else {
        return Err(vec![located(
            file,
            text,
            None,
            "no `RuleGroup.RulesSource.RulesSourceList.Targets`: not a domain-list rule group"
                .to_owned(),
        )]);
    };
    json_entries(file, text, targets.iter(), |target| {
        match target.strip_prefix('.') {
            Some(domain) => Ok(vec![
                HostPattern::parse(domain)?,
                HostPattern::parse(&format!("*.{domain}"))?,
            ]),
            None => Ok(vec![HostPattern::parse(target)?]),
        }
    })
}

/// An Azure Firewall policy's rule collection group as an ARM template
/// (what `egress render azure-firewall` writes): every application rule's
/// `targetFqdns`, where `*.x` is the subdomains of `x`, as egress's.
pub fn read_azure(file: &str, text: &str) -> Result<Vec<Entry>, Vec<ReadError>> {
    let json = parse_json(file, text)?;
    let mut fqdns = Vec::new();
    collect(&json, "targetFqdns", &mut fqdns);
    if fqdns.is_empty() {
        return Err(vec![located(
            file,
            text,
            None,
            "no application rule with `targetFqdns`: not an Azure Firewall rule collection"
                .to_owned(),
        )]);
    }
    json_entries(file, text, fqdns.into_iter(), |fqdn| {
        Ok(vec![HostPattern::parse(fqdn)?])
    })
}

fn parse_json(file: &str, text: &str) -> Result<serde_json::Value, Vec<ReadError>> {
    serde_json::from_str(text).map_err(|e| {
        vec![ReadError {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: format!("not JSON: {e}"),
        }]
    })
}

/// Every item of every array under `key`, anywhere in `json`.
fn collect<'a>(json: &'a serde_json::Value, key: &str, out: &mut Vec<&'a serde_json::Value>) {
    match json {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k == key, v.as_array()) {
                    (true, Some(items)) => out.extend(items),
                    _ => collect(v, key, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, key, out)),
        _ => {}
    }
}

/// Entries from JSON strings, each at the line where its text first
/// stands quoted in the file.
fn json_entries<'a>(
    file: &str,
    text: &str,
    values: impl Iterator<Item = &'a serde_json::Value>,
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
            Ok(patterns) => entries.push(Entry {
                patterns,
                text: target.to_owned(),
                file: file.to_owned(),
                line: located(file, text, Some(target), String::new()).line,
            }),
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
fn located(file: &str, text: &str, value: Option<&str>, message: String) -> ReadError {
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
    /// Only entries for some of the row's hosts (`a.blob.core.windows.net`
    /// for `*.blob.core.windows.net`): its other hosts are blocked.
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
    }
}

/// Holds `entries` against `plan`'s rows. The rows `egress render` leaves
/// out (intranet rows, rows whose placeholder has no value, rows not in
/// force) are left out here too. `nearest` says what the catalog knows of
/// an unexplained entry.
pub fn audit(
    plan: &Plan,
    entries: &[Entry],
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    let rows = audited_rows(plan);
    let at = |e: &Entry| format!("{}:{}: {}", e.file, e.line, e.text);
    let audited = rows
        .iter()
        .map(|&(row, pattern)| {
            let exact: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.patterns == [pattern.clone()])
                .collect();
            let broader: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.patterns.iter().any(|p| p.covers(pattern)))
                .collect();
            let narrower: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.patterns.iter().any(|p| pattern.covers(p)))
                .collect();
            let (verdict, by) = if !exact.is_empty() {
                (Verdict::Allowed, exact)
            } else if !broader.is_empty() {
                (Verdict::Broader, broader)
            } else if !narrower.is_empty() {
                (Verdict::Partly, narrower)
            } else {
                (Verdict::Blocked, Vec::new())
            };
            row_audit(row, verdict, by.into_iter().map(at).collect())
        })
        .collect();
    let unexplained = entries
        .iter()
        .filter(|e| {
            !rows
                .iter()
                .any(|(_, row)| e.patterns.iter().any(|p| p.covers(row) || row.covers(p)))
        })
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
