//! Checking a whole plan: which targets to probe for each row, all probes
//! at once (bounded), and the verdicts rolled up per feature the way
//! ConfigMgr's SMS_SERVICE_CONNECTOR reports them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egress_catalog::catalog::{Catalog, Direction, Scheme};
use egress_catalog::plan::{Plan, Requirement, Row, Status};
use egress_pattern::PatternKind;

use crate::settings::{Hop, Route};
use crate::{Config, Failure, Phase, Probe, ProbeTarget, Verdict, probe_via};

/// How to check a plan.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub config: Config,
    /// Probes at once.
    pub concurrency: usize,
    /// Probe superseded and out-of-date rows too (without affecting the
    /// verdict).
    pub include_inactive: bool,
    /// How each target is reached: direct, or through which proxy.
    pub route: Route,
    /// Now, in seconds since the Unix epoch: certificates expiring within
    /// 30 days of it are a warning.
    pub now: i64,
}

/// What became of one row (and, for a row probed on several ports or
/// through several concrete hosts, of each target).
#[derive(Debug, Clone)]
pub struct EndpointResult {
    /// The row's host or pattern, and path.
    pub row: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    /// The URL probed, when one was.
    pub url: Option<String>,
    pub outcome: Outcome,
    /// Whether the outcome counts toward the verdicts.
    pub counts: bool,
    /// The row is optional (`required = false`): its failure degrades its
    /// features, never makes them critical.
    pub optional: bool,
    pub probe: Option<Probe>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Warning(Vec<String>),
    Failed {
        phase: Phase,
        reason: Failure,
    },
    /// A wildcard with no concrete host to probe.
    NotTestable(String),
    /// A placeholder without a value: the profile keys that set it.
    NeedsInput(Vec<String>),
    /// Superseded or out of date: not probed.
    Skipped(String),
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Warning(_) => "warning",
            Outcome::Failed { .. } => "failed",
            Outcome::NotTestable(_) => "not testable",
            Outcome::NeedsInput(_) => "needs input",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// The reason, in plain words.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Ok => String::new(),
            Outcome::Warning(w) => w.join("; "),
            Outcome::Failed { phase, reason } => format!("{phase}: {reason}"),
            Outcome::NotTestable(r) | Outcome::Skipped(r) => r.clone(),
            Outcome::NeedsInput(keys) => format!("set {} in the profile", keys.join(", ")),
        }
    }
}

/// A feature's verdict, with the severity SMS_SERVICE_CONNECTOR would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeatureStatus {
    Ok,
    Degraded,
    Critical,
    /// The feature only links to a list the catalog does not contain.
    External,
}

impl FeatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureStatus::Ok => "OK",
            FeatureStatus::Degraded => "degraded",
            FeatureStatus::Critical => "critical",
            FeatureStatus::External => "external",
        }
    }

    /// The status message severity: 11410 informational, 11411 warning,
    /// 11412 error.
    pub fn message_id(self) -> Option<u32> {
        match self {
            FeatureStatus::Ok => Some(11410),
            FeatureStatus::Degraded => Some(11411),
            FeatureStatus::Critical => Some(11412),
            FeatureStatus::External => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FeatureResult {
    pub id: String,
    pub title: String,
    pub status: FeatureStatus,
    /// For external features: the lists to check by hand.
    pub external: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// The proxy the probes went through (`host:port`), if any.
    pub proxy: Option<String>,
    pub endpoints: Vec<EndpointResult>,
    pub features: Vec<FeatureResult>,
    pub duration: Duration,
}

impl Report {
    pub fn critical(&self) -> bool {
        self.features
            .iter()
            .any(|f| f.status == FeatureStatus::Critical)
    }
}

/// What to do for one target of a row.
enum Work {
    Probe(ProbeTarget),
    Done(Outcome),
}

/// One thing to check of a row, and who needs it: only the requirements
/// that name its scheme and port (a host that one feature needs on 443 and
/// another on 80 counts each probe under its own feature).
struct Item {
    work: Work,
    counts: bool,
    features: Vec<String>,
    roles: Vec<String>,
}

/// The features and roles of some requirements, each once, in order.
fn needed_by<'r>(
    requirements: impl Iterator<Item = &'r Requirement>,
) -> (Vec<String>, Vec<String>) {
    let (mut features, mut roles) = (Vec::<String>::new(), Vec::<String>::new());
    for r in requirements {
        if !features.contains(&r.feature) {
            features.push(r.feature.clone());
        }
        if !roles.contains(&r.role) {
            roles.push(r.role.clone());
        }
    }
    roles.sort();
    (features, roles)
}

/// Why a requirement is not in force, or `None` when it is.
fn inactive(status: &Status) -> Option<String> {
    match status {
        Status::Superseded { by, .. } => Some(format!("superseded by {by}")),
        Status::Expired { until } => Some(format!("expired {until}")),
        Status::NotYetValid { from } => Some(format!("valid from {from}")),
        Status::Required | Status::NeedsInput { .. } => None,
    }
}

/// Every target a check of `plan` probes, each once: what a route that
/// answers per target (a PAC file) must be asked about beforehand.
pub fn probe_targets(plan: &Plan, include_inactive: bool) -> Vec<ProbeTarget> {
    let mut out: Vec<ProbeTarget> = Vec::new();
    for row in &plan.rows {
        for item in items(row, plan, include_inactive) {
            if let Work::Probe(t) = item.work
                && !out.contains(&t)
            {
                out.push(t);
            }
        }
    }
    out
}

fn items(row: &Row, plan: &Plan, include_inactive: bool) -> Vec<Item> {
    let whole_row = |work| {
        let (features, roles) = needed_by(row.in_force());
        Item {
            work,
            counts: true,
            features,
            roles,
        }
    };
    if let Status::NeedsInput { placeholders } = &row.status {
        let keys = placeholders
            .iter()
            .map(|p| {
                plan.missing
                    .iter()
                    .find(|m| &m.name == p)
                    .map_or_else(|| format!("placeholders.{p}"), |m| m.profile_key.clone())
            })
            .collect();
        return vec![whole_row(Work::Done(Outcome::NeedsInput(keys)))];
    }
    let Some(pattern) = &row.pattern else {
        return Vec::new();
    };
    let hosts: Vec<String> = match pattern.kind() {
        PatternKind::Exact(h) => vec![h.to_owned()],
        PatternKind::Ip(ip) => vec![ip.to_string()],
        PatternKind::Subdomains { .. } | PatternKind::InLabel { .. } => row
            .probe_hosts
            .iter()
            .map(|h| h.as_str().to_owned())
            .collect(),
    };
    if hosts.is_empty() {
        let mut item = whole_row(Work::Done(Outcome::NotTestable(
            "wildcard: the catalog names no concrete host to probe".to_owned(),
        )));
        item.counts = row.status.is_in_force();
        if !item.counts {
            (item.features, item.roles) = needed_by(row.requirements.iter());
        }
        return vec![item];
    }
    let mut out = Vec::new();
    for host in hosts {
        for pair @ (scheme, port) in row.pairs() {
            let needing: Vec<&Requirement> = row
                .requirements
                .iter()
                .filter(|r| r.pairs.contains(&pair))
                .collect();
            let in_force: Vec<&Requirement> = needing
                .iter()
                .copied()
                .filter(|r| r.status.is_in_force())
                .collect();
            let counts = !in_force.is_empty();
            let (features, roles) = if counts {
                needed_by(in_force.into_iter())
            } else {
                needed_by(needing.iter().copied())
            };
            let target = ProbeTarget {
                host: host.clone(),
                port,
                tls: scheme == Scheme::Https,
                reachable: row.reachable_status.clone(),
                path: row
                    .probe_path
                    .clone()
                    .or_else(|| row.path.clone())
                    .unwrap_or_else(|| "/".to_owned()),
            };
            let why = needing.iter().find_map(|r| inactive(&r.status));
            let work = match why {
                Some(why) if !counts && !include_inactive => Work::Done(Outcome::Skipped(why)),
                _ => Work::Probe(target),
            };
            out.push(Item {
                work,
                counts,
                features,
                roles,
            });
        }
    }
    out
}

/// Checks every row of the plan. `done` is called as each result arrives
/// (for a progress bar).
pub async fn check(
    catalog: &Catalog,
    plan: &Plan,
    options: &CheckOptions,
    done: impl Fn(&EndpointResult) + Send + Sync,
) -> Report {
    let start = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut results: Vec<Option<EndpointResult>> = Vec::new();
    // Each distinct probe runs once; the rows that need it share it (one
    // host may stand in two rows, as a wildcard's probe host and itself).
    let mut probes: Vec<(ProbeTarget, Config, Vec<Hop>)> = Vec::new();
    // For each probe, the results waiting for it, each with the statuses
    // its row counts as reachable.
    let mut waiting: Vec<Vec<(usize, Vec<u16>)>> = Vec::new();
    for row in &plan.rows {
        let row_text = format!("{}{}", row.host, row.path.as_deref().unwrap_or(""));
        for Item {
            work,
            counts,
            features,
            roles,
        } in items(row, plan, options.include_inactive)
        {
            let index = results.len();
            let base = EndpointResult {
                row: row_text.clone(),
                features,
                roles,
                url: None,
                outcome: Outcome::Ok,
                counts,
                optional: row.optional,
                probe: None,
            };
            match work {
                Work::Done(outcome) => {
                    let r = EndpointResult { outcome, ..base };
                    done(&r);
                    results.push(Some(r));
                }
                Work::Probe(target) => {
                    results.push(Some(EndpointResult {
                        url: Some(target.url()),
                        ..base
                    }));
                    let mut config = options.config.clone();
                    let hops = options.route.hops(target.tls, &target.host, target.port);
                    // Intranet endpoints are exempt from the inspection check.
                    config.intranet = row.direction == Direction::Intranet;
                    let same = |(t, c, h): &(ProbeTarget, Config, Vec<Hop>)| {
                        *t == target && c.intranet == config.intranet && *h == hops
                    };
                    let at = probes.iter().position(same).unwrap_or_else(|| {
                        probes.push((target.clone(), config, hops));
                        waiting.push(Vec::new());
                        probes.len() - 1
                    });
                    waiting[at].push((index, row.reachable_status.clone()));
                }
            }
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut task_probe = HashMap::new();
    for (at, (target, config, hops)) in probes.iter().cloned().enumerate() {
        let semaphore = semaphore.clone();
        let handle = tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (at, probe_via(&target, &config, &hops).await)
        });
        task_probe.insert(handle.id(), at);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        let (at, probed) = match joined {
            Ok((_, (at, p))) => (at, Ok(p)),
            Err(e) => {
                // A probe that panicked is an error for its endpoints, not
                // a gap in the report.
                let at = task_probe[&e.id()];
                let message = match e.try_into_panic() {
                    Ok(panic) => panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "it panicked".to_owned()),
                    Err(e) => e.to_string(),
                };
                (at, Err(message))
            }
        };
        for (index, reachable) in &waiting[at] {
            let Some(r) = &mut results[*index] else {
                continue;
            };
            match &probed {
                Ok(p) => {
                    r.outcome = outcome_of(p, options.now, reachable);
                    r.probe = Some(p.clone());
                }
                Err(message) => {
                    r.outcome = Outcome::Failed {
                        phase: Phase::Internal,
                        reason: Failure::Internal(message.clone()),
                    };
                }
            }
            done(r);
        }
    }
    let mut endpoints: Vec<EndpointResult> = results.into_iter().flatten().collect();
    excuse_alternatives(plan, &mut endpoints);
    let features = roll_up(catalog, plan, &endpoints);
    Report {
        proxy: match &options.route {
            Route::Direct => None,
            route => Some(route.describe()),
        },
        endpoints,
        features,
        duration: start.elapsed(),
    }
}

/// A reachable endpoint that takes longer than this is a warning.
pub const SLOW: Duration = Duration::from_secs(2);

fn outcome_of(p: &Probe, now: i64, reachable: &[u16]) -> Outcome {
    let mut warnings = match &p.verdict {
        Verdict::Failed { phase, reason } => {
            return Outcome::Failed {
                phase: *phase,
                reason: reason.clone(),
            };
        }
        Verdict::Warning(w) => w.clone(),
        Verdict::Ok => Vec::new(),
    };
    // Any response counts as reachable, unless the catalog says which do.
    if let Some(status) = p.http_status
        && !reachable.is_empty()
        && !reachable.contains(&status)
    {
        return Outcome::Failed {
            phase: Phase::Http,
            reason: Failure::UnexpectedStatus {
                status,
                reachable: reachable.to_vec(),
            },
        };
    }
    let total: Duration = p.timings.iter().map(|(_, d)| *d).sum();
    if total > SLOW {
        warnings.push(format!("slow: {} ms", total.as_millis()));
    }
    if let Some(leaf) = p.tls.as_ref().and_then(|t| t.chain.first())
        && leaf.not_after - now < 30 * 24 * 3600
    {
        let days = (leaf.not_after - now) / (24 * 3600);
        warnings.push(format!("certificate expires in {days} days"));
    }
    if warnings.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Warning(warnings)
    }
}

/// Where the catalog gives alternatives, one reachable alternative
/// satisfies the requirement: the others' failures then do not count.
fn excuse_alternatives(plan: &Plan, endpoints: &mut [EndpointResult]) {
    let mut group_ok: BTreeMap<&str, bool> = BTreeMap::new();
    let group_of = |row: &str| -> Option<&str> {
        plan.rows
            .iter()
            .find(|r| format!("{}{}", r.host, r.path.as_deref().unwrap_or("")) == row)
            .and_then(|r| r.alternatives.first().map(String::as_str))
    };
    for e in endpoints.iter() {
        if let Some(g) = group_of(&e.row) {
            let ok = matches!(e.outcome, Outcome::Ok | Outcome::Warning(_));
            *group_ok.entry(g).or_default() |= ok;
        }
    }
    for e in endpoints.iter_mut() {
        if let (Some(g), Outcome::Failed { .. }) = (group_of(&e.row), &e.outcome)
            && group_ok.get(g).copied().unwrap_or(false)
        {
            e.counts = false;
        }
    }
}

fn roll_up(catalog: &Catalog, plan: &Plan, endpoints: &[EndpointResult]) -> Vec<FeatureResult> {
    let selected = |id: &str| {
        plan.request
            .features
            .as_ref()
            .is_none_or(|fs| fs.iter().any(|f| f == id))
    };
    let mut out = Vec::new();
    for f in catalog.features.iter().filter(|f| selected(&f.id)) {
        let mine: Vec<&EndpointResult> = endpoints
            .iter()
            .filter(|e| e.counts && e.features.contains(&f.id))
            .collect();
        let status = if mine.is_empty() {
            if f.external.is_empty() {
                continue;
            }
            FeatureStatus::External
        } else if mine
            .iter()
            .any(|e| !e.optional && matches!(e.outcome, Outcome::Failed { .. }))
        {
            FeatureStatus::Critical
        } else if mine.iter().any(|e| !matches!(e.outcome, Outcome::Ok)) {
            FeatureStatus::Degraded
        } else {
            FeatureStatus::Ok
        };
        out.push(FeatureResult {
            id: f.id.clone(),
            title: f.title.clone(),
            status,
            external: f
                .external
                .iter()
                .map(|x| (x.title.clone(), x.url.clone()))
                .collect(),
        });
    }
    out
}
