//! Requests held against the plan, in tables whose size does not grow
//! with the log.

use std::collections::{BTreeMap, HashMap};

use egress_catalog::catalog::Scheme;
use egress_catalog::{Catalog, Plan};
use egress_pattern::{Host, HostSet, PatternKind};
use serde::Serialize;

use crate::log::{Entry, Outcome};

/// Lines shown of those that are not requests.
const BAD_SHOWN: usize = 5;
/// Clients named per plan row.
const CLIENTS_SHOWN: usize = 10;

/// The hosts counted most often, in bounded memory (the Space-Saving
/// scheme, pruned in batches): at most `2 × hold` hosts are held; past
/// that, all but the `hold` most counted are dropped, and a host seen
/// again, or for the first time, starts from the highest count dropped
/// (`floor`), so a host seen often late in a log still rises to the top.
/// Every count is then at most `floor` above the truth; a host seen more
/// than one time in `hold` is never lost.
#[derive(Debug, Clone)]
pub struct TopHosts {
    keep: usize,
    hold: usize,
    counts: HashMap<String, u64>,
    floor: u64,
}

impl TopHosts {
    /// Shows the `keep` most counted; holds many more.
    pub fn new(keep: usize) -> TopHosts {
        TopHosts {
            keep,
            hold: (keep * 50).max(1_000),
            counts: HashMap::new(),
            floor: 0,
        }
    }

    pub fn add(&mut self, host: &str) {
        if let Some(n) = self.counts.get_mut(host) {
            *n += 1;
            return;
        }
        self.counts.insert(host.to_owned(), self.floor + 1);
        if self.counts.len() > 2 * self.hold {
            let mut all: Vec<(String, u64)> = self.counts.drain().collect();
            all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            self.floor = self.floor.max(all[self.hold].1);
            all.truncate(self.hold);
            self.counts = all.into_iter().collect();
        }
    }

    /// How much a count may be above the truth (0: every count is exact).
    pub fn error(&self) -> u64 {
        self.floor
    }

    /// The `keep` most counted, most first.
    pub fn top(&self) -> Vec<HostCount> {
        let mut all: Vec<HostCount> = self
            .counts
            .iter()
            .map(|(host, &count)| HostCount {
                host: host.clone(),
                count,
            })
            .collect();
        all.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.host.cmp(&b.host)));
        all.truncate(self.keep);
        all
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostCount {
    pub host: String,
    pub count: u64,
}

/// Denied or failed requests to one plan row.
#[derive(Debug, Clone, Default)]
struct Needed {
    count: u64,
    first: String,
    last: String,
    clients: BTreeMap<String, u64>,
    more_clients: bool,
    statuses: BTreeMap<u16, u64>,
    hosts: BTreeMap<String, u64>,
}

/// A log held against a plan: feed it entries, then take the [`Report`].
#[derive(Debug)]
pub struct Audit<'p> {
    plan: &'p Plan,
    plan_set: HostSet,
    /// `plan_set`'s pattern ids → plan rows.
    plan_rows: Vec<usize>,
    catalog_set: HostSet,
    /// The current entry's host, normalized.
    host: String,
    lines: u64,
    requests: u64,
    denied: u64,
    failed: u64,
    bad: u64,
    first_bad: Vec<BadLineAt>,
    needed: BTreeMap<usize, Needed>,
    wildcards: BTreeMap<usize, TopHosts>,
    denied_unknown: TopHosts,
    unplanned: Option<TopHosts>,
}

impl<'p> Audit<'p> {
    /// An audit against `plan`; hosts are looked up in `catalogs` (all
    /// their endpoints, in and out of the plan) for the denied hosts the
    /// catalog does not know. `top`: how many hosts each list keeps;
    /// `unplanned`: also count allowed hosts outside the plan.
    pub fn new(plan: &'p Plan, catalogs: &[&Catalog], top: usize, unplanned: bool) -> Audit<'p> {
        let mut b = HostSet::builder();
        let mut plan_rows = Vec::new();
        for (i, row) in plan.rows.iter().enumerate() {
            if let (Some(pattern), true) = (&row.pattern, row.status.is_in_force()) {
                b.push(pattern);
                plan_rows.push(i);
            }
        }
        let mut c = HostSet::builder();
        for catalog in catalogs {
            for e in &catalog.endpoints {
                if let Ok(p) = e
                    .destination
                    .host()
                    .resolve(|name| plan.request.placeholders.get(name).map(String::as_str))
                {
                    c.push(&p);
                }
            }
        }
        Audit {
            plan,
            plan_set: b.build(),
            plan_rows,
            catalog_set: c.build(),
            host: String::new(),
            lines: 0,
            requests: 0,
            denied: 0,
            failed: 0,
            bad: 0,
            first_bad: Vec::new(),
            needed: BTreeMap::new(),
            wildcards: BTreeMap::new(),
            denied_unknown: TopHosts::new(top),
            unplanned: unplanned.then(|| TopHosts::new(top)),
        }
    }

    /// A line that is not a request: counted, the first few kept.
    pub fn bad_line(&mut self, file: &str, line: u64, why: String) {
        self.lines += 1;
        self.bad += 1;
        if self.first_bad.len() < BAD_SHOWN {
            self.first_bad.push(BadLineAt {
                file: file.to_owned(),
                line,
                reason: why,
            });
        }
    }

    /// A line that records no request (a comment, a directive).
    pub fn other_line(&mut self) {
        self.lines += 1;
    }

    pub fn add(&mut self, e: &Entry<'_>) {
        self.lines += 1;
        self.requests += 1;
        match e.outcome {
            Outcome::Denied => self.denied += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Allowed => {}
        }
        self.host.clear();
        self.host.push_str(e.host.trim_end_matches('.'));
        self.host.make_ascii_lowercase();
        let host = self.host.as_str();
        // A name is looked up as it is (a log's hosts are ASCII); an IP
        // address as one.
        let ip = host
            .starts_with(|c: char| c.is_ascii_digit() || c == ':')
            .then(|| host.parse::<std::net::IpAddr>().ok())
            .flatten();
        let rows: Vec<usize> = match ip {
            Some(ip) => self.plan_set.matches(&Host::Ip(ip)),
            None => self.plan_set.matches_name(host),
        }
        .into_iter()
        .map(|id| self.plan_rows[id.0 as usize])
        .collect();
        let tunnel = e.method == "CONNECT";
        let needs = |row: usize| {
            self.plan.rows[row].in_force().any(|r| {
                r.pairs.iter().any(|&(scheme, port)| {
                    e.port.is_none_or(|p| p == port) && (!tunnel || scheme == Scheme::Https)
                })
            })
        };
        let needed_row = rows.iter().copied().find(|&r| needs(r));
        for &row in &rows {
            if self.plan.rows[row]
                .pattern
                .as_ref()
                .is_some_and(|p| !matches!(p.kind(), PatternKind::Exact(_)))
            {
                self.wildcards
                    .entry(row)
                    .or_insert_with(|| TopHosts::new(self.denied_unknown.keep))
                    .add(host);
            }
        }
        if e.outcome == Outcome::Allowed {
            if needed_row.is_none()
                && let Some(unplanned) = &mut self.unplanned
            {
                unplanned.add(host);
            }
            return;
        }
        match needed_row {
            Some(row) => {
                let n = self.needed.entry(row).or_default();
                n.count += 1;
                if n.first.is_empty() || *e.time < *n.first {
                    n.first = e.time.to_string();
                }
                if *e.time > *n.last {
                    n.last = e.time.to_string();
                }
                let room = n.clients.len() < CLIENTS_SHOWN;
                match n.clients.get_mut(&*e.client) {
                    Some(c) => *c += 1,
                    None if room => {
                        n.clients.insert(e.client.to_string(), 1);
                    }
                    None => n.more_clients = true,
                }
                *n.statuses.entry(e.status).or_default() += 1;
                if n.hosts.len() < CLIENTS_SHOWN || n.hosts.contains_key(host) {
                    *n.hosts.entry(host.to_owned()).or_default() += 1;
                }
            }
            None if e.outcome == Outcome::Denied => {
                let known = match ip {
                    Some(ip) => self.catalog_set.is_match(&Host::Ip(ip)),
                    None => self.catalog_set.is_match_name(host),
                };
                if !known {
                    self.denied_unknown.add(host);
                }
            }
            None => {}
        }
    }

    pub fn report(&self) -> Report {
        let row = |i: usize| &self.plan.rows[i];
        Report {
            lines: self.lines,
            requests: self.requests,
            denied: self.denied,
            failed: self.failed,
            bad_lines: self.bad,
            first_bad_lines: self.first_bad.clone(),
            needed: self
                .needed
                .iter()
                .map(|(&i, n)| {
                    let r = row(i);
                    let mut features: Vec<String> =
                        r.in_force().map(|q| q.feature.clone()).collect();
                    features.sort();
                    features.dedup();
                    let mut roles: Vec<String> = r.in_force().map(|q| q.role.clone()).collect();
                    roles.sort();
                    roles.dedup();
                    NeededRow {
                        row: r.host.clone(),
                        features,
                        roles,
                        count: n.count,
                        first_seen: n.first.clone(),
                        last_seen: n.last.clone(),
                        clients: n.clients.keys().cloned().collect(),
                        more_clients: n.more_clients,
                        statuses: n
                            .statuses
                            .iter()
                            .map(|(s, c)| (s.to_string(), *c))
                            .collect(),
                        hosts: n
                            .hosts
                            .iter()
                            .map(|(h, c)| HostCount {
                                host: h.clone(),
                                count: *c,
                            })
                            .collect(),
                    }
                })
                .collect(),
            wildcards: self
                .wildcards
                .iter()
                .map(|(&i, top)| WildcardRow {
                    row: row(i).host.clone(),
                    hosts: top.top(),
                    count_error: top.error(),
                })
                .collect(),
            denied_not_in_catalog: self.denied_unknown.top(),
            denied_not_in_catalog_error: self.denied_unknown.error(),
            unplanned: self.unplanned.as_ref().map(TopHosts::top),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadLineAt {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// What the log says against the plan (docs/audit.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub lines: u64,
    pub requests: u64,
    pub denied: u64,
    pub failed: u64,
    pub bad_lines: u64,
    pub first_bad_lines: Vec<BadLineAt>,
    /// Denied or failed requests the plan needs, by plan row.
    pub needed: Vec<NeededRow>,
    /// The hosts seen under each wildcard row of the plan.
    pub wildcards: Vec<WildcardRow>,
    /// Denied hosts no catalog endpoint matches, most denied first.
    pub denied_not_in_catalog: Vec<HostCount>,
    /// How much those counts may be above the truth (see [`TopHosts`]).
    pub denied_not_in_catalog_error: u64,
    /// Allowed hosts outside the plan (`--show-unplanned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unplanned: Option<Vec<HostCount>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeededRow {
    /// The plan row's host pattern.
    pub row: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// The first clients seen (at most 10), and whether there were more.
    pub clients: Vec<String>,
    pub more_clients: bool,
    /// Status → count.
    pub statuses: BTreeMap<String, u64>,
    /// The hosts asked for under the row (at most 10).
    pub hosts: Vec<HostCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WildcardRow {
    pub row: String,
    pub hosts: Vec<HostCount>,
    /// How much a count may be above the truth: 0 unless the row saw more
    /// distinct hosts than are held.
    pub count_error: u64,
}
