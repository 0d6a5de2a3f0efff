//! Resolving a catalog for one site: the [`Plan`].
//!
//! [`resolve`] applies the site's cloud, version, date, features, roles and
//! placeholder values to a catalog, and merges endpoints that name the same
//! host (and path) into one [`Row`] listing every feature and role that needs
//! it.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

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
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub catalog_id: String,
    pub catalog_title: String,
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
}

/// One concrete host or pattern (and path, for URLs with one) and all that
/// needs it.
///
/// The fields every renderer reads for every row (pattern, path, status,
/// pairs, direction) come first and in this order (`repr(C)`), in the row's
/// first 113 bytes; what only reports, `explain`
/// and the check read is behind one pointer in [`RowDetail`], and the roles
/// and features are shared between rows. A row is 176 bytes (it was 488
/// with the details inline and a 48-byte pattern): a plan larger than the
/// cache is read from memory once per row, and every byte of a row the
/// renderers skip over, and every list of its own they follow, is memory
/// traffic all the same.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Row {
    /// The parsed pattern, `None` while a placeholder has no value.
    pub pattern: Option<HostPattern>,
    /// Path and query, for URLs with one.
    pub path: Option<String>,
    pub status: Status,
    /// Which scheme goes with which port, from each endpoint behind the row
    /// (a row merged from `https:8443` and `http:8080` allows neither
    /// `http:8443` nor `https:8080`).
    pub pairs: Pairs,
    pub direction: Direction,
    /// The host pattern, or the template text when a placeholder has no value.
    pub host: String,
    /// The roles and the features are each shared by every row with the
    /// same ones (rows are many, distinct sets few): reading them for every
    /// row touches one copy, not one per row.
    pub roles: Arc<BTreeMap<String, Basis>>,
    pub features: Arc<[String]>,
    pub detail: Box<RowDetail>,
}

/// What a row says beyond its host, pairs, roles and features: read by the
/// JSON, CSV and Markdown forms, `explain`, `diff` and the check, never by a
/// list renderer.
#[derive(Debug, Clone, Default)]
pub struct RowDetail {
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
}

/// A row's scheme and port pairs: a sorted set without duplicates, ordered
/// and compared like a `BTreeSet<(Scheme, u16)>`. Up to four pairs live
/// inside the row (almost every row has one or two), so reading them costs
/// no pointer chase: in a plan larger than the cache, a `BTreeSet` here was
/// a cache miss per row for every renderer.
#[derive(Clone)]
pub struct Pairs(PairsRepr);

const INLINE_PAIRS: usize = 4;

#[derive(Clone)]
enum PairsRepr {
    /// The first `len` items, sorted; the rest are unused.
    Inline(u8, [(Scheme, u16); INLINE_PAIRS]),
    /// More than [`INLINE_PAIRS`], sorted.
    Spilled(Vec<(Scheme, u16)>),
}

impl Default for Pairs {
    fn default() -> Pairs {
        Pairs(PairsRepr::Inline(0, [(Scheme::Http, 0); INLINE_PAIRS]))
    }
}

impl Pairs {
    pub fn as_slice(&self) -> &[(Scheme, u16)] {
        match &self.0 {
            PairsRepr::Inline(len, items) => &items[..usize::from(*len)],
            PairsRepr::Spilled(items) => items,
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (Scheme, u16)> {
        self.as_slice().iter()
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    pub fn contains(&self, pair: &(Scheme, u16)) -> bool {
        self.as_slice().binary_search(pair).is_ok()
    }

    /// Adds a pair; false when it was there already.
    pub fn insert(&mut self, pair: (Scheme, u16)) -> bool {
        let Err(at) = self.as_slice().binary_search(&pair) else {
            return false;
        };
        match &mut self.0 {
            PairsRepr::Inline(len, items) if usize::from(*len) < INLINE_PAIRS => {
                let n = usize::from(*len);
                items.copy_within(at..n, at + 1);
                items[at] = pair;
                *len += 1;
            }
            PairsRepr::Inline(_, items) => {
                let mut spilled = items.to_vec();
                spilled.insert(at, pair);
                self.0 = PairsRepr::Spilled(spilled);
            }
            PairsRepr::Spilled(items) => items.insert(at, pair),
        }
        true
    }
}

impl Extend<(Scheme, u16)> for Pairs {
    fn extend<I: IntoIterator<Item = (Scheme, u16)>>(&mut self, iter: I) {
        for pair in iter {
            self.insert(pair);
        }
    }
}

impl FromIterator<(Scheme, u16)> for Pairs {
    fn from_iter<I: IntoIterator<Item = (Scheme, u16)>>(iter: I) -> Pairs {
        let mut pairs = Pairs::default();
        pairs.extend(iter);
        pairs
    }
}

impl<'a> IntoIterator for &'a Pairs {
    type Item = &'a (Scheme, u16);
    type IntoIter = std::slice::Iter<'a, (Scheme, u16)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for Pairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl PartialEq for Pairs {
    fn eq(&self, other: &Pairs) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Pairs {}

impl PartialOrd for Pairs {
    fn partial_cmp(&self, other: &Pairs) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pairs {
    fn cmp(&self, other: &Pairs) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl std::hash::Hash for Pairs {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
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
    };
    let feature_in_version = |id: &str| {
        let versions = catalog.feature(id).map(|f| f.versions).unwrap_or_default();
        request.version.is_none_or(|v| versions.includes(v))
    };
    let role_selected = |e: &Endpoint| role_selected(request, e);

    // Each row with its roles and features, gathered before they are shared.
    type Gathered = (Row, BTreeMap<String, Basis>, Vec<String>);
    let mut rows: BTreeMap<(Direction, String, Option<String>), Gathered> = BTreeMap::new();
    let mut missing: BTreeMap<String, MissingPlaceholder> = BTreeMap::new();
    let mut excluded = Vec::new();

    for e in &catalog.endpoints {
        let features: Vec<String> = e
            .features
            .iter()
            .filter(|f| feature_selected(f) && feature_in_version(f))
            .cloned()
            .collect();
        if features.is_empty() || !role_selected(e) || !e.cloud.includes(request.cloud) {
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

        let template = e.target.host();
        let resolved = template.resolve(|name| request.placeholders.get(name).map(String::as_str));
        let (host, pattern, status) = match resolved {
            Ok(p) => (p.as_str().to_owned(), Some(p), status_on(e, request.as_of)),
            Err(_) => {
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
                (template.as_str().to_owned(), None, status)
            }
        };
        let path = match &e.target {
            crate::catalog::Target::Url(u) if u.path != "/" => Some(u.path.clone()),
            _ => None,
        };

        let (row, row_roles, row_features) = rows
            .entry((e.direction, host.clone(), path.clone()))
            .or_insert_with(|| {
                let row = Row {
                    host,
                    pattern,
                    path,
                    direction: e.direction,
                    pairs: Pairs::default(),
                    features: Arc::new([]),
                    roles: Arc::default(),
                    status: status.clone(),
                    detail: Box::default(),
                };
                (row, BTreeMap::new(), Vec::new())
            });
        // The row is in force when any endpoint behind it is.
        row.status = row.status.clone().min(status);
        for s in &e.schemes.value {
            merge_basis(&mut row.detail.schemes, *s, e.schemes.basis);
        }
        for p in &e.ports.value {
            merge_basis(&mut row.detail.ports, *p, e.ports.basis);
        }
        row.pairs.extend(pairs(&e.schemes.value, &e.ports.value));
        for r in &e.roles.value {
            merge_basis(row_roles, r.clone(), e.roles.basis);
        }
        for f in features {
            let section = match &e.section {
                Some(s) => s.clone(),
                None => catalog
                    .feature(&f)
                    .map(|f| f.section.clone())
                    .unwrap_or_default(),
            };
            push_unique(&mut row.detail.sections, section);
            push_unique(row_features, f);
        }
        if request.version.is_none() && !e.versions.is_unbounded() {
            push_unique(&mut row.detail.versions, e.versions);
        }
        row.detail.endpoints.push(e.id.clone());
        if let Some(a) = &e.alternatives {
            push_unique(&mut row.detail.alternatives, a.clone());
        }
        for t in &e.tls_versions {
            push_unique(&mut row.detail.tls_versions, t.as_str());
        }
        row.detail.min_proxy_idle_timeout_secs = row
            .detail
            .min_proxy_idle_timeout_secs
            .max(e.min_proxy_idle_timeout_secs);
        for h in &e.probe.hosts {
            push_unique(&mut row.detail.probe_hosts, h.clone());
        }
        if row.detail.probe_path.is_none() {
            row.detail.probe_path = e.probe.path.clone();
        }
        for s in &e.probe.reachable_status {
            push_unique(&mut row.detail.reachable_status, *s);
        }
        for n in &e.notes {
            push_unique(&mut row.detail.notes, n.clone());
        }
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

    let mut role_sets = HashSet::new();
    let mut feature_lists = HashSet::new();
    let mut rows: Vec<Row> = rows
        .into_values()
        .map(|(mut row, roles, features)| {
            row.roles = shared(&mut role_sets, roles);
            row.features = shared(&mut feature_lists, features);
            row
        })
        .collect();
    rows.sort_by(|a, b| row_order(a).cmp(&row_order(b)));
    Plan {
        catalog_id: catalog.meta.id.clone(),
        catalog_title: catalog.meta.title.clone(),
        revision: catalog.meta.revision.clone(),
        describes: catalog.meta.describes,
        request: request.clone(),
        rows,
        external,
        missing: missing.into_values().collect(),
        excluded,
    }
}

/// The copy in `set` equal to `value`, or `value` as a new one.
fn shared<T, S>(set: &mut HashSet<Arc<S>>, value: T) -> Arc<S>
where
    S: Hash + Eq + ?Sized,
    T: Borrow<S> + Into<Arc<S>>,
{
    if let Some(copy) = set.get(value.borrow()) {
        return copy.clone();
    }
    let copy: Arc<S> = value.into();
    set.insert(copy.clone());
    copy
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
    let feature = request
        .features
        .as_ref()
        .is_none_or(|fs| e.features.iter().any(|f| fs.contains(f)));
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
