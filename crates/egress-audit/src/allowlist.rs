//! An existing allowlist held against the plan: which plan rows it
//! admits exactly, only more broadly, in part, or not at all, and which
//! of its entries no plan row explains.
//!
//! Read so far: `plain` (one egress host pattern a line, what `egress
//! render plain` writes). Each reader turns its format into [`Entry`]s in
//! that format's own matching semantics; the verdicts are the same for
//! every format.

use egress_catalog::Plan;
use egress_catalog::catalog::Direction;
use egress_pattern::HostPattern;
use serde::Serialize;

/// One entry of an allowlist, as read.
#[derive(Debug, Clone)]
pub struct Entry {
    pub pattern: HostPattern,
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
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let column = raw.len() - raw.trim_start().len() + 1;
        match HostPattern::parse(line) {
            Ok(pattern) => entries.push(Entry {
                pattern,
                text: line.to_owned(),
                file: file.to_owned(),
                line: i + 1,
            }),
            Err(e) => errors.push(ReadError {
                file: file.to_owned(),
                line: i + 1,
                column,
                message: format!(
                    "`{line}` is not a host pattern: {e}; write one host or pattern a line (docs/host-patterns.md)"
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
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

/// Holds `entries` against `plan`'s rows. The rows `egress render` leaves
/// out (intranet rows, rows whose placeholder has no value, rows not in
/// force) are left out here too. `nearest` says what the catalog knows of
/// an unexplained entry.
pub fn audit(
    plan: &Plan,
    entries: &[Entry],
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    let rows: Vec<(&egress_catalog::Row, &HostPattern)> = plan
        .rows
        .iter()
        .filter(|r| r.status.is_in_force() && r.direction == Direction::Internet)
        .filter_map(|r| r.pattern.as_ref().map(|p| (r, p)))
        .collect();
    let at = |e: &Entry| format!("{}:{}: {}", e.file, e.line, e.text);
    let audited = rows
        .iter()
        .map(|&(row, pattern)| {
            let exact: Vec<&Entry> = entries.iter().filter(|e| e.pattern == *pattern).collect();
            let broader: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.pattern.covers(pattern))
                .collect();
            let narrower: Vec<&Entry> = entries
                .iter()
                .filter(|e| pattern.covers(&e.pattern) && !e.pattern.covers(pattern))
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
                entries: by.into_iter().map(at).collect(),
            }
        })
        .collect();
    let unexplained = entries
        .iter()
        .filter(|e| {
            !rows
                .iter()
                .any(|(_, p)| e.pattern.covers(p) || p.covers(&e.pattern))
        })
        .map(|e| Unexplained {
            entry: e.text.clone(),
            file: e.file.clone(),
            line: e.line,
            nearest: nearest(&e.pattern),
        })
        .collect();
    AllowlistReport {
        rows: audited,
        unexplained,
    }
}
