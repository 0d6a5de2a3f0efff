//! The audit's reports for people: text and markdown of an allowlist
//! report and of a log report (JSON is their serde form), and what the
//! catalog says of an entry no plan row explains.

use std::fmt::Write as _;

use egress_catalog::explain::{Explainer, Input};
use egress_catalog::{Catalog, Plan};
use egress_pattern::HostPattern;

use crate::allowlist::{self, AllowlistReport, Verdict};
use crate::tally::{HostCount, Report};

/// What the catalog says of an entry no plan row explains: the catalog
/// hosts it covers that this plan leaves out, and why; or the nearest miss.
pub fn nearest(
    catalog: &Catalog,
    plan: &Plan,
    explainer: &Explainer,
    pattern: &HostPattern,
) -> Option<String> {
    let values = &plan.request.placeholders;
    let covered: Vec<String> = catalog
        .endpoints
        .iter()
        .filter_map(|e| {
            let p = e
                .destination
                .host()
                .resolve(|name| values.get(name).map(String::as_str))
                .ok()?;
            pattern.covers(&p).then(|| p.to_string())
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let sample = |p: &str| p.replacen('*', "x", 1);
    match covered.first() {
        Some(first) => {
            let input = Input::parse(&sample(first)).ok()?;
            let why = explainer
                .explain(&input)
                .plan
                .map(|v| v.reason)
                .unwrap_or_default();
            Some(format!(
                "the catalog needs only {} here; this plan does not: {why}",
                covered
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        None => {
            let input = Input::parse(&sample(&pattern.to_string())).ok()?;
            explainer.explain(&input).near_miss.map(|n| n.reason)
        }
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Broader => "allowed more broadly",
        Verdict::NotJudged => "NOT JUDGED",
        Verdict::NeedsAuth => "needs authentication",
        Verdict::Partly => "BLOCKED in part",
        Verdict::Blocked => "BLOCKED",
    }
}

/// The counts of a report: rows not judged and rows that need
/// authentication first (they are neither allowed nor blocked), then the
/// rest.
fn allowlist_summary(r: &AllowlistReport) -> String {
    let count = |v: Verdict| r.rows.iter().filter(|x| x.verdict == v).count();
    let mut parts = Vec::new();
    if count(Verdict::NotJudged) > 0 {
        parts.push(format!("{} NOT JUDGED", count(Verdict::NotJudged)));
    }
    if count(Verdict::NeedsAuth) > 0 {
        parts.push(format!(
            "{} need authentication (give --proxy-user)",
            count(Verdict::NeedsAuth)
        ));
    }
    parts.push(format!("{} allowed", count(Verdict::Allowed)));
    parts.push(format!("{} allowed more broadly", count(Verdict::Broader)));
    parts.push(format!("{} blocked in part", count(Verdict::Partly)));
    parts.push(format!("{} blocked", count(Verdict::Blocked)));
    let inspected = r
        .rows
        .iter()
        .filter(|x| {
            x.tls
                .as_deref()
                .is_some_and(|t| t.starts_with("TLS inspection:"))
        })
        .count();
    if inspected > 0 {
        parts.push(format!("{inspected} TLS-inspected"));
    }
    format!(
        "{} plan rows: {}; {} entries no row explains",
        r.rows.len(),
        parts.join(", "),
        r.unexplained.len()
    )
}

/// The allowlist report as text: the header, notes and summary as `#`
/// lines, then every row not simply allowed, then the entries no row
/// explains.
pub fn allowlist_text(header: &[String], r: &AllowlistReport) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for note in &r.notes {
        let _ = writeln!(out, "# note: {note}");
    }
    let _ = writeln!(out, "# {}\n", allowlist_summary(r));
    let mut rows: Vec<&allowlist::RowAudit> = r
        .rows
        .iter()
        .filter(|x| x.verdict != Verdict::Allowed || x.tls.is_some())
        .collect();
    rows.sort_by_key(|x| std::cmp::Reverse(x.verdict));
    for row in rows {
        let _ = writeln!(out, "{}  {}", verdict_text(row.verdict), row.row);
        let _ = writeln!(out, "    features: {}", row.features.join(", "));
        let _ = writeln!(out, "    roles: {}", row.roles.join(", "));
        if let Some(tls) = &row.tls {
            let _ = writeln!(out, "    {tls}");
        }
        for e in &row.entries {
            // A rule, or a statement of its own (what else it admits,
            // how one request of the row fared).
            if ["also admits", "CONNECT ", "GET "]
                .iter()
                .any(|p| e.starts_with(p))
            {
                let _ = writeln!(out, "    {e}");
            } else {
                let _ = writeln!(out, "    by {e}");
            }
        }
    }
    if !r.unexplained.is_empty() {
        let _ = writeln!(out, "\nEntries no plan row explains:");
        for u in &r.unexplained {
            let _ = writeln!(out, "  {}:{}: {}", u.file, u.line, u.entry);
            if let Some(n) = &u.nearest {
                let _ = writeln!(out, "    {n}");
            }
        }
    }
    out
}

/// The allowlist report as markdown.
pub fn allowlist_markdown(header: &[String], r: &AllowlistReport) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("# egress audit allowlist\n\n");
    for line in header {
        let _ = writeln!(out, "- {}", cell(line));
    }
    for note in &r.notes {
        let _ = writeln!(out, "- note: {}", cell(note));
    }
    let _ = writeln!(
        out,
        "- {}\n\n## Plan rows\n\n| row | verdict | TLS | features | roles | entries |\n|---|---|---|---|---|---|",
        allowlist_summary(r)
    );
    for row in &r.rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            row.row,
            verdict_text(row.verdict),
            cell(row.tls.as_deref().unwrap_or("")),
            cell(&row.features.join(", ")),
            cell(&row.roles.join(", ")),
            cell(&row.entries.join("; "))
        );
    }
    if !r.unexplained.is_empty() {
        let _ = writeln!(
            out,
            "\n## Entries no plan row explains\n\n| entry | where | the catalog |\n|---|---|---|"
        );
        for u in &r.unexplained {
            let _ = writeln!(
                out,
                "| `{}` | {}:{} | {} |",
                u.entry,
                u.file,
                u.line,
                cell(u.nearest.as_deref().unwrap_or(""))
            );
        }
    }
    out
}

fn summary(r: &Report) -> String {
    format!(
        "{} lines: {} requests ({} denied, {} failed, {} authentication challenges), {} not requests",
        r.lines, r.requests, r.denied, r.failed, r.challenged, r.bad_lines
    )
}

/// The clients whose authentication fails, one line each (and its
/// rows' features), for the table.
fn auth_failing_lines(r: &Report) -> Vec<String> {
    r.auth_failing
        .iter()
        .map(|a| {
            format!(
                "  {}  client {}{}  {} challenges (407), no other answer after  first {}  last {}\n    row {}: features {}; roles {}",
                a.host,
                a.client,
                a.user.as_deref().map_or(String::new(), |u| format!(" as {u}")),
                a.challenges,
                a.first_seen,
                a.last_seen,
                a.row,
                a.features.join(", "),
                a.roles.join(", ")
            )
        })
        .collect()
}

fn hosts(list: &[HostCount]) -> String {
    list.iter()
        .map(|h| format!("{} ({})", h.host, h.count))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The log report as text: the header, notes and counts as `#` lines,
/// then the needed requests denied or failed, failing authentication,
/// wildcards and the hosts outside the catalog or the plan.
pub fn log_text(header: &[String], r: &Report) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for note in &r.notes {
        let _ = writeln!(out, "# NOTE: {note}");
    }
    let _ = writeln!(out, "# read as: {}", r.read_as.join(", "));
    let _ = writeln!(out, "# {}", summary(r));
    for bad in &r.first_bad_lines {
        let _ = writeln!(
            out,
            "# not a request: {}:{}: {}",
            bad.file, bad.line, bad.reason
        );
    }
    let _ = writeln!(out);
    if r.needed.is_empty() {
        let _ = writeln!(out, "No denied or failed request is one the plan needs.");
    } else {
        let _ = writeln!(
            out,
            "Denied or failed requests the plan needs ({} rows): the features below break",
            r.needed.len()
        );
        for n in &r.needed {
            let statuses: Vec<String> = n
                .statuses
                .iter()
                .map(|(s, c)| format!("{s} x{c}"))
                .collect();
            let _ = writeln!(
                out,
                "  {}  {} requests ({})  first {}  last {}",
                n.row,
                n.count,
                statuses.join(", "),
                n.first_seen,
                n.last_seen
            );
            let _ = writeln!(out, "    features: {}", n.features.join(", "));
            let _ = writeln!(out, "    roles: {}", n.roles.join(", "));
            let more = if n.more_clients { ", ..." } else { "" };
            let _ = writeln!(out, "    clients: {}{more}", n.clients.join(", "));
            let _ = writeln!(out, "    hosts: {}", hosts(&n.hosts));
        }
    }
    if !r.auth_failing.is_empty() {
        let _ = writeln!(
            out,
            "\nAuthentication failing ({} client and host pairs): the proxy asked for credentials and never took them\n\
             Next: check the account these clients authenticate as (the site system's proxy account, or its computer account), and the proxy's authentication helper",
            r.auth_failing.len()
        );
        for line in auth_failing_lines(r) {
            let _ = writeln!(out, "{line}");
        }
    }
    if !r.wildcards.is_empty() {
        let _ = writeln!(out, "\nHosts seen under the plan's wildcards:");
        for w in &r.wildcards {
            let more = match w.count_error {
                0 => String::new(),
                e => format!(" (the most seen; counts at most {e} high)"),
            };
            let _ = writeln!(out, "  {}{more}: {}", w.row, hosts(&w.hosts));
        }
    }
    if !r.denied_not_in_catalog.is_empty() {
        let _ = writeln!(
            out,
            "\nDenied hosts the catalog does not know (most denied first):"
        );
        for h in &r.denied_not_in_catalog {
            let _ = writeln!(out, "  {} ({})", h.host, h.count);
        }
    }
    if let Some(unplanned) = &r.unplanned {
        let _ = writeln!(out, "\nAllowed hosts outside the plan (most seen first):");
        for h in unplanned {
            let _ = writeln!(out, "  {} ({})", h.host, h.count);
        }
    }
    out
}

/// The log report as markdown.
pub fn log_markdown(header: &[String], r: &Report) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("# egress audit log\n\n");
    for line in header {
        let _ = writeln!(out, "- {}", cell(line));
    }
    for note in &r.notes {
        let _ = writeln!(out, "- **note: {}**", cell(note));
    }
    let _ = writeln!(out, "- read as: {}", cell(&r.read_as.join(", ")));
    let _ = writeln!(out, "- {}", summary(r));
    for bad in &r.first_bad_lines {
        let _ = writeln!(
            out,
            "- not a request: `{}:{}`: {}",
            bad.file,
            bad.line,
            cell(&bad.reason)
        );
    }
    let _ = writeln!(out, "\n## Denied or failed requests the plan needs\n");
    if r.needed.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        let _ = writeln!(
            out,
            "| plan row | requests | features | roles | first seen | last seen | clients | hosts |\n|---|---|---|---|---|---|---|---|"
        );
        for n in &r.needed {
            let more = if n.more_clients { ", ..." } else { "" };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {}{more} | {} |",
                n.row,
                n.count,
                cell(&n.features.join(", ")),
                cell(&n.roles.join(", ")),
                cell(&n.first_seen),
                cell(&n.last_seen),
                cell(&n.clients.join(", ")),
                cell(&hosts(&n.hosts))
            );
        }
    }
    if !r.auth_failing.is_empty() {
        let _ = writeln!(
            out,
            "\n## Authentication failing\n\nThe proxy asked these clients for credentials (407) and never took them. Check the account they authenticate as (the site system's proxy account, or its computer account) and the proxy's authentication helper.\n\n| host | client | user | challenges | features | roles | first seen | last seen |\n|---|---|---|---|---|---|---|---|"
        );
        for a in &r.auth_failing {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                a.host,
                cell(&a.client),
                cell(a.user.as_deref().unwrap_or("")),
                a.challenges,
                cell(&a.features.join(", ")),
                cell(&a.roles.join(", ")),
                cell(&a.first_seen),
                cell(&a.last_seen)
            );
        }
    }
    if !r.wildcards.is_empty() {
        let _ = writeln!(
            out,
            "\n## Hosts seen under the plan's wildcards\n\n| wildcard | hosts (requests) |\n|---|---|"
        );
        for w in &r.wildcards {
            let _ = writeln!(out, "| `{}` | {} |", w.row, cell(&hosts(&w.hosts)));
        }
    }
    let lists = [
        (
            "Denied hosts the catalog does not know",
            Some(&r.denied_not_in_catalog),
        ),
        ("Allowed hosts outside the plan", r.unplanned.as_ref()),
    ];
    for (title, list) in lists {
        let Some(list) = list.filter(|l| !l.is_empty()) else {
            continue;
        };
        let _ = writeln!(out, "\n## {title}\n\n| host | requests |\n|---|---|");
        for h in list {
            let _ = writeln!(out, "| `{}` | {} |", h.host, h.count);
        }
    }
    out
}
