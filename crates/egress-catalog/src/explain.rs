//! Explaining a host: which catalog endpoints match it, in which features,
//! roles, clouds and revisions; whether a site's plan allows it; and, when
//! nothing matches, the nearest near miss and why it misses.
//!
//! Built once per run ([`Explainer::new`]), then asked per input at matcher
//! speed: every lookup is a [`HostSet`] probe or a hash-map lookup, and the
//! near-miss search is bounded (a fixed number of such lookups per input),
//! so that it never dominates a run over a million log lines.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use egress_pattern::{Host, HostError, HostSet, PatternKind};

use crate::catalog::{Catalog, CloudScope, Destination, Endpoint, PlaceholderKind, Scheme};
use crate::plan::{Plan, Row};

/// One thing to explain: a host, `host:port`, or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub text: String,
    pub host: Host,
    pub scheme: Option<Scheme>,
    pub port: Option<u16>,
    pub path: Option<String>,
}

/// Why an input is not a host, `host:port` or URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("empty input")]
    Empty,
    #[error("unsupported scheme `{0}`; expected http or https")]
    Scheme(String),
    #[error("invalid port `{0}`; expected 1 to 65535")]
    Port(String),
    #[error("invalid host `{host}`: {error}")]
    Host { host: String, error: HostError },
}

impl Input {
    pub fn parse(text: &str) -> Result<Input, InputError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(InputError::Empty);
        }
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((s, rest)) => match s.to_ascii_lowercase().as_str() {
                "http" => (Some(Scheme::Http), rest),
                "https" => (Some(Scheme::Https), rest),
                _ => return Err(InputError::Scheme(s.to_owned())),
            },
            None => (None, trimmed),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        // `[v6]:port`, `host:port`, or a bare IPv6 literal.
        let (host, port) = if let Some(after) = authority.strip_prefix('[') {
            match after.split_once(']') {
                Some((h, "")) => (h, None),
                Some((h, p)) => (h, Some(p.strip_prefix(':').unwrap_or(p))),
                None => (authority, None),
            }
        } else if authority.matches(':').count() == 1 {
            let (h, p) = authority.split_once(':').expect("one colon");
            (h, Some(p))
        } else {
            (authority, None)
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(InputError::Port(p.to_owned())),
            },
        };
        let host = Host::parse(host).map_err(|error| InputError::Host {
            host: host.to_owned(),
            error,
        })?;
        Ok(Input {
            text: trimmed.to_owned(),
            host,
            port: port.or(scheme.map(Scheme::default_port)),
            scheme,
            path: (!path.is_empty()).then(|| path.to_owned()),
        })
    }
}

/// A catalog endpoint that matches an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub catalog: String,
    pub revision: String,
    pub endpoint: String,
    /// The endpoint's host as the catalog writes it.
    pub pattern: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    pub cloud: CloudScope,
    pub schemes: Vec<Scheme>,
    pub ports: Vec<u16>,
    /// Set when the match relies on a placeholder standing for one label.
    pub via_placeholder: bool,
    /// What the site changed of it: `site`, `replaced by the site, was ...`.
    pub origin: Option<String>,
}

/// The nearest miss: what almost matched, and why it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    pub pattern: String,
    pub reason: String,
}

/// Whether the site's plan allows the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVerdict {
    pub allowed: bool,
    /// The plan rows that allow it (their hosts).
    pub rows: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub matches: Vec<Match>,
    pub near_miss: Option<NearMiss>,
    pub plan: Option<PlanVerdict>,
}

impl Explanation {
    pub fn matched(&self) -> bool {
        !self.matches.is_empty()
    }
}

/// Whether templates may match with a placeholder standing for one label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// A template with a placeholder matches nothing.
    Unresolved,
    /// A label placeholder stands for exactly one label; matches say so. A
    /// host placeholder (a server's FQDN) still matches nothing.
    AsWildcards,
}

struct Indexed {
    catalog: Arc<Catalog>,
    set: HostSet,
    /// `set`'s pattern ids → endpoint indexes.
    endpoints: Vec<usize>,
    /// Endpoints whose host keeps a placeholder, with their literal tail.
    templates: Vec<(usize, Vec<TemplatePart>)>,
    /// Suffixes of `*.suffix` patterns → pattern text, for the apex near miss.
    wildcard_apexes: HashMap<String, String>,
    /// Parent → first labels of exact patterns under it, for look-alikes.
    exact_by_parent: HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TemplatePart {
    Literal(String),
    Label,
    AnyLabels,
    Never,
}

pub struct Explainer {
    catalogs: Vec<Indexed>,
    plan: Option<(Arc<Plan>, HostSet, Vec<usize>)>,
    placeholders: Placeholders,
}

impl fmt::Debug for Explainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explainer")
            .field("catalogs", &self.catalogs.len())
            .finish()
    }
}

/// Near-miss look-alikes are searched among at most this many first labels
/// under one parent.
const LOOKALIKE_LIMIT: usize = 64;

impl Explainer {
    /// Indexes `catalogs` and `plan` for lookups; the explainer keeps them
    /// (shared), so it can outlive the caller's scope (the proxy swaps
    /// explainers on reload).
    pub fn new(
        catalogs: &[Arc<Catalog>],
        plan: Option<Arc<Plan>>,
        placeholders: Placeholders,
    ) -> Explainer {
        // A profile's placeholder values apply to every catalog's templates.
        let empty = std::collections::BTreeMap::new();
        let values = plan.as_ref().map_or(&empty, |p| &p.request.placeholders);
        let catalogs = catalogs.iter().map(|c| index(c.clone(), values)).collect();
        let plan = plan.map(|p| {
            let mut b = HostSet::builder();
            let mut rows = Vec::new();
            for (i, row) in p.rows.iter().enumerate() {
                if let (Some(pattern), true) = (&row.pattern, row.status.is_in_force()) {
                    b.push(pattern);
                    rows.push(i);
                }
            }
            (p, b.build(), rows)
        });
        Explainer {
            catalogs,
            plan,
            placeholders,
        }
    }

    pub fn explain(&self, input: &Input) -> Explanation {
        let mut matches = Vec::new();
        let mut port_misses = Vec::new();
        for ix in &self.catalogs {
            let name_matches: Vec<(usize, bool)> = ix
                .set
                .matches(&input.host)
                .into_iter()
                .map(|id| (ix.endpoints[id.0 as usize], false))
                .chain(self.template_matches(ix, &input.host).map(|e| (e, true)))
                .collect();
            for (e, via_placeholder) in name_matches {
                let endpoint = &ix.catalog.endpoints[e];
                match port_problem(endpoint, input) {
                    None => matches.push(to_match(&ix.catalog, endpoint, via_placeholder)),
                    Some(reason) => port_misses.push(NearMiss {
                        pattern: endpoint.destination.host().to_string(),
                        reason,
                    }),
                }
            }
        }
        let near_miss = if matches.is_empty() {
            port_misses
                .into_iter()
                .next()
                .or_else(|| self.near_miss(&input.host))
        } else {
            None
        };
        let plan = self
            .plan
            .as_ref()
            .map(|(plan, set, rows)| plan_verdict(plan, set, rows, input, &matches));
        Explanation {
            matches,
            near_miss,
            plan,
        }
    }

    fn template_matches<'s>(
        &'s self,
        ix: &'s Indexed,
        host: &'s Host,
    ) -> impl Iterator<Item = usize> + 's {
        let name = match (self.placeholders, host) {
            (Placeholders::AsWildcards, Host::Name(n)) => Some(n.as_str()),
            _ => None,
        };
        ix.templates
            .iter()
            .filter(move |(_, parts)| name.is_some_and(|n| template_match(parts, n)))
            .map(|(e, _)| *e)
    }

    /// The nearest miss, from a fixed number of lookups.
    fn near_miss(&self, host: &Host) -> Option<NearMiss> {
        let name = host.as_name()?;
        for ix in &self.catalogs {
            // The apex of a wildcard.
            if let Some(pattern) = ix.wildcard_apexes.get(name) {
                return Some(NearMiss {
                    pattern: pattern.clone(),
                    reason: format!(
                        "`{name}` is not covered by `{pattern}`: a wildcard never includes its own apex"
                    ),
                });
            }
        }
        // A catalog host with something appended: `x.manage.microsoft.com.evil.test`.
        let labels: Vec<&str> = name.split('.').collect();
        for cut in 1..labels.len().min(4) {
            let shorter = labels[..labels.len() - cut].join(".");
            for ix in &self.catalogs {
                let ids = ix.set.matches_name(&shorter);
                if let Some(id) = ids.first() {
                    let e = &ix.catalog.endpoints[ix.endpoints[id.0 as usize]];
                    let extra = labels[labels.len() - cut..].join(".");
                    return Some(NearMiss {
                        pattern: e.destination.host().to_string(),
                        reason: format!(
                            "`{name}` ends in `.{extra}`: without it, `{shorter}` would match `{}`; a pattern matches whole labels at the end of a name",
                            e.destination.host()
                        ),
                    });
                }
            }
        }
        // A look-alike first label: `evilmanage.microsoft.com`.
        if let Some((first, parent)) = name.split_once('.') {
            for ix in &self.catalogs {
                let Some(firsts) = ix.exact_by_parent.get(parent) else {
                    continue;
                };
                let nearest = firsts
                    .iter()
                    .take(LOOKALIKE_LIMIT)
                    .filter(|f| {
                        first.ends_with(f.as_str())
                            || f.ends_with(first)
                            || first.starts_with(f.as_str())
                    })
                    .min_by_key(|f| f.len().abs_diff(first.len()));
                if let Some(f) = nearest {
                    let pattern = format!("{f}.{parent}");
                    return Some(NearMiss {
                        reason: format!(
                            "`{name}` is not `{pattern}`: exact patterns match the whole name, label for label"
                        ),
                        pattern,
                    });
                }
            }
        }
        None
    }
}

fn index(catalog: Arc<Catalog>, values: &std::collections::BTreeMap<String, String>) -> Indexed {
    let mut b = HostSet::builder();
    let mut endpoints = Vec::new();
    let mut templates = Vec::new();
    let mut wildcard_apexes = HashMap::new();
    let mut exact_by_parent: HashMap<String, Vec<String>> = HashMap::new();
    for (i, e) in catalog.endpoints.iter().enumerate() {
        let host = e.destination.host();
        let resolved = host
            .resolve(|name| values.get(name).map(String::as_str))
            .ok();
        match resolved.as_ref() {
            Some(p) => {
                b.push(p);
                endpoints.push(i);
                match p.kind() {
                    PatternKind::Subdomains { suffix } => {
                        wildcard_apexes
                            .entry(suffix.to_owned())
                            .or_insert_with(|| p.to_string());
                    }
                    PatternKind::Exact(h) => {
                        if let Some((first, parent)) = h.split_once('.') {
                            let list = exact_by_parent.entry(parent.to_owned()).or_default();
                            if !list.iter().any(|f| f == first) {
                                list.push(first.to_owned());
                            }
                        }
                    }
                    _ => {}
                }
            }
            None => templates.push((i, template_parts(&catalog, host.as_str()))),
        }
    }
    Indexed {
        catalog,
        set: b.build(),
        endpoints,
        templates,
        wildcard_apexes,
        exact_by_parent,
    }
}

/// Splits a template into labels: literal, one-label placeholder, leading
/// `*` (one or more labels), or a host placeholder (never matches).
fn template_parts(catalog: &Catalog, text: &str) -> Vec<TemplatePart> {
    text.split('.')
        .map(|label| {
            if label == "*" {
                TemplatePart::AnyLabels
            } else if let Some(name) = label.strip_prefix('<').and_then(|l| l.strip_suffix('>')) {
                match catalog.placeholder(name).map(|p| p.kind) {
                    // A whole host (a site server's FQDN) cannot be guessed:
                    // it never matches without a value.
                    Some(PlaceholderKind::Host) => TemplatePart::Never,
                    _ => TemplatePart::Label,
                }
            } else {
                TemplatePart::Literal(label.to_owned())
            }
        })
        .collect()
}

fn template_match(parts: &[TemplatePart], name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    matches_parts(parts, &labels)
}

fn matches_parts(parts: &[TemplatePart], labels: &[&str]) -> bool {
    match (parts.first(), labels.first()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(TemplatePart::Literal(l)), Some(x)) => {
            l == x && matches_parts(&parts[1..], &labels[1..])
        }
        (Some(TemplatePart::Label), Some(_)) => matches_parts(&parts[1..], &labels[1..]),
        (Some(TemplatePart::Never), Some(_)) => false,
        (Some(TemplatePart::AnyLabels), Some(_)) => {
            (1..=labels.len()).any(|n| matches_parts(&parts[1..], &labels[n..]))
        }
    }
}

fn port_problem(e: &Endpoint, input: &Input) -> Option<String> {
    if let Some(scheme) = input.scheme
        && !e.schemes.value.contains(&scheme)
    {
        let names: Vec<&str> = e.schemes.value.iter().map(|s| s.as_str()).collect();
        return Some(format!(
            "scheme {scheme} is not among the schemes the catalog names for `{}` ({})",
            e.destination.host(),
            names.join(", ")
        ));
    }
    if let (Destination::Url(url), Some(path)) = (&e.destination, visible_path(input))
        && !egress_pattern::path_covers(&url.path, path)
    {
        return Some(format!(
            "path `{path}` is not under `{}`, the path the catalog names for `{}`",
            url.path,
            e.destination.host()
        ));
    }
    if let Some(port) = input.port
        && !e.ports.value.contains(&port)
    {
        let ports: Vec<String> = e.ports.value.iter().map(u16::to_string).collect();
        return Some(format!(
            "port {port} is not among the ports the catalog names for `{}` ({})",
            e.destination.host(),
            ports.join(", ")
        ));
    }
    None
}

/// The path of a plain-HTTP input, which a proxy sees (`/` when the URL
/// has none); `None` for HTTPS and bare hosts, where only the host is
/// visible without TLS interception.
fn visible_path(input: &Input) -> Option<&str> {
    (input.scheme == Some(Scheme::Http)).then(|| input.path.as_deref().unwrap_or("/"))
}

fn to_match(catalog: &Catalog, e: &Endpoint, via_placeholder: bool) -> Match {
    Match {
        catalog: catalog.meta.id.clone(),
        revision: catalog.meta.revision.clone(),
        endpoint: e.id.clone(),
        pattern: match &e.destination {
            Destination::Host(h) => h.to_string(),
            Destination::Url(u) => u.to_string(),
        },
        features: e.features.clone(),
        roles: e.roles.value.clone(),
        cloud: e.cloud,
        schemes: e.schemes.value.clone(),
        ports: e.ports.value.clone(),
        via_placeholder,
        origin: e.origin.label(),
    }
}

fn plan_verdict(
    plan: &Plan,
    set: &HostSet,
    rows: &[usize],
    input: &Input,
    matches: &[Match],
) -> PlanVerdict {
    let matching: Vec<&Row> = set
        .matches(&input.host)
        .into_iter()
        .map(|id| &plan.rows[rows[id.0 as usize]])
        .collect();
    // Each requirement in force that admits the input's scheme and port.
    let admits = |pair: &(Scheme, u16)| {
        input.scheme.is_none_or(|s| s == pair.0) && input.port.is_none_or(|p| p == pair.1)
    };
    let mut allowed_rows = Vec::new();
    let mut needs: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut path_miss = None;
    for row in &matching {
        if let (Some(rule), Some(path)) = (&row.path, visible_path(input))
            && !egress_pattern::path_covers(rule, path)
        {
            path_miss.get_or_insert((row, rule, path));
            continue;
        }
        let mut any = false;
        for r in row.in_force().filter(|r| r.pairs.iter().any(admits)) {
            any = true;
            match needs.iter_mut().find(|(f, _)| *f == r.feature) {
                Some((_, roles)) if !roles.contains(&r.role.as_str()) => roles.push(&r.role),
                Some(_) => {}
                None => needs.push((&r.feature, vec![&r.role])),
            }
        }
        if any {
            allowed_rows.push(row.host.clone());
        }
    }
    if !allowed_rows.is_empty() {
        let needs: Vec<String> = needs
            .iter()
            .map(|(f, roles)| format!("{f} (as {})", roles.join(", ")))
            .collect();
        return PlanVerdict {
            allowed: true,
            rows: allowed_rows,
            reason: format!("the plan allows it for {}", needs.join("; ")),
        };
    }
    if let Some((row, rule, path)) = path_miss {
        return PlanVerdict {
            allowed: false,
            rows: Vec::new(),
            reason: format!(
                "the plan's `{}` allows the path `{rule}` only, and `{path}` is not under it",
                row.host
            ),
        };
    }
    if let Some(row) = matching.first() {
        // The host is in the plan, but not on this scheme or port.
        let pairs: Vec<String> = row
            .in_force()
            .flat_map(|r| r.pairs.iter().map(|(s, p)| format!("{s}:{p}")))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let asked = match (input.scheme, input.port) {
            (Some(s), Some(p)) => format!("{s}:{p}"),
            (None, Some(p)) => format!("port {p}"),
            (Some(s), None) => s.to_string(),
            (None, None) => "any scheme or port".to_owned(),
        };
        return PlanVerdict {
            allowed: false,
            rows: Vec::new(),
            reason: format!(
                "the plan's `{}` allows {}, not {asked}",
                row.host,
                pairs.join(", ")
            ),
        };
    }
    let nearest = matches
        .iter()
        .find(|m| m.revision == plan.revision)
        .or(matches.first());
    let reason = if let Some(m) = nearest {
        // The catalog knows it; say what keeps it out of this plan.
        let in_rows = plan.rows.iter().find(|r| r.endpoints.contains(&m.endpoint));
        match in_rows {
            Some(row) if !row.status.is_in_force() => {
                format!("the plan lists `{}` as {}", row.host, row.status.as_str())
            }
            Some(row) => format!(
                "the plan's `{}` does not allow port {:?}",
                row.host, input.port
            ),
            None if m.revision != plan.revision => format!(
                "the catalog lists it in revision {}, the plan uses {}",
                m.revision, plan.revision
            ),
            None if plan.excluded.iter().any(|x| x.endpoint == m.endpoint) => {
                let x = plan
                    .excluded
                    .iter()
                    .find(|x| x.endpoint == m.endpoint)
                    .expect("found");
                format!("left out of the plan: {}", x.reason)
            }
            None => format!(
                "the catalog lists it for {} ({}), which the plan does not select (features, roles or cloud)",
                m.features.join(", "),
                m.roles.join(", ")
            ),
        }
    } else {
        "no catalog endpoint matches it".to_owned()
    };
    PlanVerdict {
        allowed: false,
        rows: Vec::new(),
        reason,
    }
}
