//! Resolving a catalog for one site: the [`Plan`].
//!
//! [`resolve`] applies the site's cloud, version, date, features, roles and
//! placeholder values to a catalog, and merges endpoints that name the same
//! host (and path) into one [`Row`]. A row keeps each feature's and role's
//! need of it apart, as [`Requirement`]s, so that what one role may reach
//! never widens what another may.

use std::collections::{BTreeMap, BTreeSet};

use egress_pattern::HostPattern;
use jiff::civil::Date;

use crate::catalog::{
    Basis, Catalog, Cloud, Direction, Endpoint, Scheme, UNSPECIFIED_ROLE, VersionRange,
};

/// What to plan for. Built by the caller from the command line, the profile
/// and the defaults, in that order of precedence.
#[derive(Debug, Clone)]
pub struct Request {
    pub cloud: Cloud,
    /// `None`: keep every version's endpoints, with their conditions.
    pub version: Option<u32>,
    pub as_of: Date,
    /// `None`: every feature.
    pub features: Option<Vec<String>>,
    /// Empty: every role.
    pub roles: Vec<String>,
    pub placeholders: BTreeMap<String, String>,
    /// Features and endpoints the site leaves out, whatever else selects
    /// them.
    pub exclude: Exclusions,
}

/// What a site leaves out of its plan: named in every output's header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    pub features: Vec<String>,
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub catalog_id: String,
    pub catalog_title: String,
    /// The catalogs composed onto it.
    pub composed: Vec<crate::catalog::Composed>,
    pub revision: String,
    pub describes: Date,
    pub request: Request,
    pub rows: Vec<Row>,
    /// Lists the selected features point to but the catalog does not contain.
    pub external: Vec<ExternalRef>,
    /// Placeholders the plan needs and the request does not give.
    pub missing: Vec<MissingPlaceholder>,
    /// Endpoints left out by the version, with the reason.
    pub excluded: Vec<Excluded>,
    /// The IP ranges the selected features need, by address.
    pub networks: Vec<NetworkRow>,
}

/// One address range and everything that needs it: only targets that take
/// addresses render it; the others report it as a loss.
#[derive(Debug, Clone)]
pub struct NetworkRow {
    pub address: crate::profile::AddressRange,
    pub tcp_ports: crate::catalog::PortRanges,
    pub udp_ports: crate::catalog::PortRanges,
    /// The selected features that need it, in catalog order.
    pub features: Vec<String>,
    /// The `[[network]]` ids behind it.
    pub networks: Vec<String>,
    /// Every network behind it is optional.
    pub optional: bool,
    /// The networks' attributes (values of several joined by `, `).
    pub attributes: BTreeMap<String, String>,
}

/// One concrete host or pattern (and path, for URLs with one) and every
/// requirement on it.
///
/// A row is where the plan's lists are merged for display: its host, its
/// schemes and ports, its sections and notes. Who may reach it, on which
/// scheme and port, is in its [`Requirement`]s, one per feature, role and
/// endpoint: a renderer for one role reads that role's requirements, never
/// the row's union (a host that one role needs on 443 and another on 80
/// gives neither the other's port).
#[derive(Debug, Clone)]
pub struct Row {
    /// The host pattern, or the template text when a placeholder has no value.
    pub host: String,
    /// The parsed pattern, `None` while a placeholder has no value.
    pub pattern: Option<HostPattern>,
    /// Path and query, for URLs with one.
    pub path: Option<String>,
    pub direction: Direction,
    /// The least of the requirements' statuses: in force when any is.
    pub status: Status,
    /// Who needs the row, and how, in catalog order.
    pub requirements: Vec<Requirement>,
    pub schemes: BTreeMap<Scheme, Basis>,
    pub ports: BTreeMap<u16, Basis>,
    /// The page sections that name it, `Cloud services > Client`.
    pub sections: Vec<String>,
    /// Version conditions of the contributing endpoints, when the request
    /// gives no version.
    pub versions: Vec<VersionRange>,
    pub endpoints: Vec<String>,
    pub alternatives: Vec<String>,
    pub tls_versions: Vec<&'static str>,
    pub min_proxy_idle_timeout_secs: Option<u32>,
    pub probe_hosts: Vec<HostPattern>,
    /// The request path the check should use, when not the URL's own.
    pub probe_path: Option<String>,
    /// HTTP statuses that mean reachable; empty: any response.
    pub reachable_status: Vec<u16>,
    pub notes: Vec<String>,
    /// Every endpoint behind it is optional (`required = false`): the
    /// features work without it, degraded.
    pub optional: bool,
    /// The endpoints' attributes (values of several joined by `, `).
    pub attributes: BTreeMap<String, String>,
    /// What the site changed: `site` (its own endpoint), `replaced by the
    /// site, was ...`; empty for the catalog's own.
    pub origins: Vec<String>,
}

/// Scheme and port pairs: which scheme goes with which port (an endpoint
/// of `https:8443` and `http:8080` allows neither `http:8443` nor
/// `https:8080`).
pub type Pairs = BTreeSet<(Scheme, u16)>;

/// One feature's need of a row, for one role, from one endpoint: the
/// scheme and port pairs that endpoint names, and whether it is in force.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Requirement {
    pub feature: String,
    /// A role id, or `unspecified` (any role may need it).
    pub role: String,
    /// Whether the page states the role or the catalog assumes it.
    pub role_basis: Basis,
    pub pairs: Pairs,
    pub endpoint: String,
    pub status: Status,
}

impl Requirement {
    /// Whether this requirement holds for `role`: its own, or one any role
    /// may have.
    pub fn applies_to(&self, role: &str) -> bool {
        self.role == role || self.role == UNSPECIFIED_ROLE
    }
}

impl Row {
    /// The requirements in force: required, or required once the
    /// placeholders are given.
    pub fn in_force(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter().filter(|r| r.status.is_in_force())
    }

    /// Every feature that needs the row, in the order of first need.
    pub fn features(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.requirements {
            if !out.contains(&r.feature.as_str()) {
                out.push(&r.feature);
            }
        }
        out
    }

    /// Every role that needs the row, with whether the page states it.
    pub fn roles(&self) -> BTreeMap<&str, Basis> {
        let mut out = BTreeMap::new();
        for r in &self.requirements {
            let basis = out.entry(r.role.as_str()).or_insert(r.role_basis);
            *basis = (*basis).max(r.role_basis);
        }
        out
    }

    /// The scheme and port pairs of every requirement: what the row needs
    /// for someone, not what any one role or feature may use.
    pub fn pairs(&self) -> Pairs {
        self.requirements
            .iter()
            .flat_map(|r| r.pairs.iter().copied())
            .collect()
    }
}

/// Whether a row is in force on the request's date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Required, with every placeholder filled in.
    Required,
    /// Required, but a placeholder has no value.
    NeedsInput { placeholders: Vec<String> },
    /// Replaced by another endpoint (listed by its id).
    Superseded { by: String, since: Option<Date> },
    /// Not in force yet.
    NotYetValid { from: Date },
    /// No longer in force.
    Expired { until: Date },
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Required => "required",
            Status::NeedsInput { .. } => "needs-input",
            Status::Superseded { .. } => "superseded",
            Status::NotYetValid { .. } => "not-yet-valid",
            Status::Expired { .. } => "expired",
        }
    }

    /// Whether the site must allow the row: required, or required once its
    /// placeholders are given.
    pub fn is_in_force(&self) -> bool {
        matches!(self, Status::Required | Status::NeedsInput { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRef {
    pub feature: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPlaceholder {
    pub name: String,
    pub title: String,
    pub profile_key: String,
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub endpoint: String,
    pub reason: String,
}

/// Resolves the catalog for a request. Ids in the request must exist in the
/// catalog (the caller checks them first, with positions).
pub fn resolve(catalog: &Catalog, request: &Request) -> Plan {
    let feature_selected = |id: &str| {
        request
            .features
            .as_ref()
            .is_none_or(|fs| fs.iter().any(|f| f == id))
            && !request.exclude.features.iter().any(|f| f == id)
    };
    let feature_in_version = |id: &str| {
        let versions = catalog.feature(id).map(|f| f.versions).unwrap_or_default();
        request.version.is_none_or(|v| versions.includes(v))
    };
    let role_selected = |e: &Endpoint| role_selected(request, e);

    let mut rows: BTreeMap<(Direction, String, Option<String>), Row> = BTreeMap::new();
    let mut missing: BTreeMap<String, MissingPlaceholder> = BTreeMap::new();
    let mut excluded = Vec::new();

    for e in &catalog.endpoints {
        let features: Vec<&String> = e
            .features
            .iter()
            .filter(|f| feature_selected(f) && feature_in_version(f))
            .collect();
        if features.is_empty() || !role_selected(e) || !e.cloud.includes(request.cloud) {
            continue;
        }
        if request.exclude.endpoints.contains(&e.id) {
            excluded.push(Excluded {
                endpoint: e.id.clone(),
                reason: "excluded by the site (exclude_endpoints)".to_owned(),
            });
            continue;
        }
        if let Some(v) = request.version
            && !e.versions.includes(v)
        {
            excluded.push(Excluded {
                endpoint: e.id.clone(),
                reason: format!("applies to {}, the site runs {v}", e.versions),
            });
            continue;
        }
        let target = resolve_target(catalog, request, e, &mut missing);
        let row = rows
            .entry((e.direction, target.host.clone(), target.path.clone()))
            .or_insert_with(|| Row {
                host: target.host,
                pattern: target.pattern,
                path: target.path,
                direction: e.direction,
                status: target.status.clone(),
                requirements: Vec::new(),
                schemes: BTreeMap::new(),
                ports: BTreeMap::new(),
                sections: Vec::new(),
                versions: Vec::new(),
                endpoints: Vec::new(),
                alternatives: Vec::new(),
                tls_versions: Vec::new(),
                min_proxy_idle_timeout_secs: None,
                probe_hosts: Vec::new(),
                probe_path: None,
                reachable_status: Vec::new(),
                notes: Vec::new(),
                optional: true,
                attributes: BTreeMap::new(),
                origins: Vec::new(),
            });
        add_requirements(row, request, e, &features, target.status);
        add_details(row, catalog, request, e, &features);
    }
    let external = catalog
        .features
        .iter()
        .filter(|f| feature_selected(&f.id) && feature_in_version(&f.id))
        .flat_map(|f| {
            f.external.iter().map(|x| ExternalRef {
                feature: f.id.clone(),
                title: x.title.clone(),
                url: x.url.clone(),
            })
        })
        .collect();

    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by(|a, b| row_order(a).cmp(&row_order(b)));

    // By address: IPv4 before IPv6.
    let mut networks: BTreeMap<crate::profile::AddressRange, NetworkRow> = BTreeMap::new();
    for n in &catalog.networks {
        let features: Vec<&String> = n
            .features
            .iter()
            .filter(|f| feature_selected(f) && feature_in_version(f))
            .collect();
        if features.is_empty() {
            continue;
        }
        if request.exclude.endpoints.contains(&n.id) {
            excluded.push(Excluded {
                endpoint: n.id.clone(),
                reason: "excluded by the site (exclude_endpoints)".to_owned(),
            });
            continue;
        }
        for a in &n.addresses {
            let row = networks.entry(*a).or_insert_with(|| NetworkRow {
                address: *a,
                tcp_ports: Default::default(),
                udp_ports: Default::default(),
                features: Vec::new(),
                networks: Vec::new(),
                optional: true,
                attributes: BTreeMap::new(),
            });
            row.tcp_ports = row.tcp_ports.union(&n.tcp_ports);
            row.udp_ports = row.udp_ports.union(&n.udp_ports);
            for f in &features {
                push_unique(&mut row.features, (*f).clone());
            }
            row.networks.push(n.id.clone());
            row.optional &= !n.required;
            merge_attributes(&mut row.attributes, &n.attributes);
        }
    }
    Plan {
        catalog_id: catalog.meta.id.clone(),
        catalog_title: catalog.meta.title.clone(),
        composed: catalog.meta.composed.clone(),
        revision: catalog.meta.revision.clone(),
        describes: catalog.meta.describes,
        request: request.clone(),
        rows,
        external,
        missing: missing.into_values().collect(),
        excluded,
        networks: networks.into_values().collect(),
    }
}

/// An endpoint's host for this site: its pattern with the placeholders
/// filled in, or, while one has no value, the template text and the
/// placeholders it waits for (recorded in `missing`).
struct ResolvedTarget {
    host: String,
    pattern: Option<HostPattern>,
    path: Option<String>,
    status: Status,
}

fn resolve_target(
    catalog: &Catalog,
    request: &Request,
    e: &Endpoint,
    missing: &mut BTreeMap<String, MissingPlaceholder>,
) -> ResolvedTarget {
    let path = match &e.destination {
        crate::catalog::Destination::Url(u) if u.path != "/" => Some(u.path.clone()),
        _ => None,
    };
    let template = e.destination.host();
    let resolved = template.resolve(|name| request.placeholders.get(name).map(String::as_str));
    if let Ok(p) = resolved {
        return ResolvedTarget {
            host: p.as_str().to_owned(),
            pattern: Some(p),
            path,
            status: status_on(e, request.as_of),
        };
    }
    let needed: Vec<String> = template
        .placeholders()
        .filter(|n| !request.placeholders.contains_key(*n))
        .map(str::to_owned)
        .collect();
    for name in &needed {
        let placeholder = catalog.placeholder(name);
        let entry = missing
            .entry(name.clone())
            .or_insert_with(|| MissingPlaceholder {
                name: name.clone(),
                title: placeholder.map(|p| p.title.clone()).unwrap_or_default(),
                profile_key: placeholder
                    .map(|p| p.profile_key())
                    .unwrap_or_else(|| format!("placeholders.{name}")),
                endpoints: Vec::new(),
            });
        entry.endpoints.push(e.id.clone());
    }
    let status = match status_on(e, request.as_of) {
        Status::Required => Status::NeedsInput {
            placeholders: needed,
        },
        other => other,
    };
    ResolvedTarget {
        host: template.as_str().to_owned(),
        pattern: None,
        path,
        status,
    }
}

/// One requirement for each selected feature and each of the endpoint's
/// roles the request selects, with the endpoint's own pairs.
fn add_requirements(
    row: &mut Row,
    request: &Request,
    e: &Endpoint,
    features: &[&String],
    status: Status,
) {
    let pairs: Pairs = pairs(&e.schemes.value, &e.ports.value)
        .into_iter()
        .collect();
    let roles = e.roles.value.iter().filter(|r| {
        request.roles.is_empty() || r.as_str() == UNSPECIFIED_ROLE || request.roles.contains(r)
    });
    for role in roles {
        for feature in features {
            row.requirements.push(Requirement {
                feature: (*feature).clone(),
                role: role.clone(),
                role_basis: e.roles.basis,
                pairs: pairs.clone(),
                endpoint: e.id.clone(),
                status: status.clone(),
            });
        }
    }
    row.status = row.status.clone().min(status);
}

/// What the row shows of the endpoint beyond who needs it.
fn add_details(
    row: &mut Row,
    catalog: &Catalog,
    request: &Request,
    e: &Endpoint,
    features: &[&String],
) {
    for s in &e.schemes.value {
        merge_basis(&mut row.schemes, *s, e.schemes.basis);
    }
    for p in &e.ports.value {
        merge_basis(&mut row.ports, *p, e.ports.basis);
    }
    for f in features {
        let section = match &e.section {
            Some(s) => s.clone(),
            None => catalog
                .feature(f)
                .map(|f| f.section.clone())
                .unwrap_or_default(),
        };
        push_unique(&mut row.sections, section);
    }
    if request.version.is_none() && !e.versions.is_unbounded() {
        push_unique(&mut row.versions, e.versions);
    }
    row.endpoints.push(e.id.clone());
    if let Some(a) = &e.alternatives {
        push_unique(&mut row.alternatives, a.clone());
    }
    for t in &e.tls_versions {
        push_unique(&mut row.tls_versions, t.as_str());
    }
    row.min_proxy_idle_timeout_secs = row
        .min_proxy_idle_timeout_secs
        .max(e.min_proxy_idle_timeout_secs);
    for h in &e.probe.hosts {
        push_unique(&mut row.probe_hosts, h.clone());
    }
    if row.probe_path.is_none() {
        row.probe_path = e.probe.path.clone();
    }
    for s in &e.probe.reachable_status {
        push_unique(&mut row.reachable_status, *s);
    }
    for n in &e.notes {
        push_unique(&mut row.notes, n.clone());
    }
    row.optional &= !e.required;
    merge_attributes(&mut row.attributes, &e.attributes);
    if let Some(label) = e.origin.label() {
        push_unique(&mut row.origins, label);
    }
}

/// `more`'s attributes into a row's: the values of several joined by `, `,
/// each once.
fn merge_attributes(row: &mut BTreeMap<String, String>, more: &BTreeMap<String, String>) {
    for (k, v) in more {
        let kept = row.entry(k.clone()).or_insert_with(|| v.clone());
        if !kept.split(", ").any(|x| x == v) {
            kept.push_str(", ");
            kept.push_str(v);
        }
    }
}

/// Whether the request's roles select the endpoint: any of them, or the
/// endpoint's role is `unspecified` (any role may need it).
pub fn role_selected(request: &Request, e: &Endpoint) -> bool {
    request.roles.is_empty()
        || e.roles
            .value
            .iter()
            .any(|r| r == UNSPECIFIED_ROLE || request.roles.contains(r))
}

/// Whether a site's request selects an endpoint at all: one of its features,
/// its roles, its cloud and version. Dates do not matter here.
pub fn selects(request: &Request, e: &Endpoint) -> bool {
    let feature = e.features.iter().any(|f| {
        request.features.as_ref().is_none_or(|fs| fs.contains(f))
            && !request.exclude.features.contains(f)
    }) && !request.exclude.endpoints.contains(&e.id);
    feature
        && role_selected(request, e)
        && e.cloud.includes(request.cloud)
        && request.version.is_none_or(|v| e.versions.includes(v))
}

/// Rows sort by direction, then by host with its labels reversed, so that
/// a domain's hosts and patterns stand together (`microsoft.com`,
/// `*.manage.microsoft.com`, `go.microsoft.com`).
fn row_order(row: &Row) -> (Direction, Vec<&str>, Option<&str>) {
    let mut labels: Vec<&str> = row.host.split('.').collect();
    labels.reverse();
    (row.direction, labels, row.path.as_deref())
}

fn status_on(e: &Endpoint, as_of: Date) -> Status {
    if let Some(s) = &e.superseded
        && s.from.is_none_or(|from| from <= as_of)
    {
        return Status::Superseded {
            by: s.by.clone(),
            since: s.from,
        };
    }
    match (e.valid.from, e.valid.until) {
        (_, Some(until)) if until <= as_of => Status::Expired { until },
        (Some(from), _) if from > as_of => Status::NotYetValid { from },
        _ => Status::Required,
    }
}

/// One endpoint's scheme and port pairs: each scheme with its default port
/// when the endpoint names it, and every other port with every scheme.
pub fn pairs(schemes: &[Scheme], ports: &[u16]) -> Vec<(Scheme, u16)> {
    let defaults: Vec<u16> = schemes.iter().map(|s| s.default_port()).collect();
    let mut out: Vec<(Scheme, u16)> = schemes
        .iter()
        .filter(|s| ports.contains(&s.default_port()))
        .map(|s| (*s, s.default_port()))
        .collect();
    for p in ports.iter().filter(|p| !defaults.contains(p)) {
        out.extend(schemes.iter().map(|s| (*s, *p)));
    }
    out.sort();
    out.dedup();
    out
}

fn merge_basis<K: Ord>(map: &mut BTreeMap<K, Basis>, key: K, basis: Basis) {
    let entry = map.entry(key).or_insert(basis);
    *entry = (*entry).max(basis);
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}
