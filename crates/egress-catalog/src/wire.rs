//! The stable JSON forms egress writes (`docs/plan-format.md`,
//! `docs/catalog-format.md`): serde types for the output boundary, built
//! from the domain types. Fields are only ever added, never renamed or
//! removed, within one `format` version.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Basis, Catalog, Destination, Endpoint, VersionRange};
use crate::diff::{Change, Diff};
use crate::plan::{Plan, Row, Status};

/// The `format` value of a plan document.
pub const PLAN_FORMAT: &str = "egress.plan/1";
/// The `format` value of a catalog listing.
pub const CATALOG_FORMAT: &str = "egress.catalog/1";

#[derive(Debug, Serialize)]
pub struct PlanDoc<'a> {
    pub format: &'static str,
    pub egress_version: &'a str,
    pub catalog: CatalogRef<'a>,
    pub profile: Option<&'a str>,
    pub cloud: &'static str,
    pub version: Option<u32>,
    pub as_of: String,
    pub features: Option<&'a [String]>,
    pub roles: &'a [String],
    pub rows: Vec<RowDoc<'a>>,
    pub external: Vec<ExternalDoc<'a>>,
    pub missing_placeholders: Vec<MissingDoc<'a>>,
    pub excluded: Vec<ExcludedDoc<'a>>,
    /// IP ranges (`[[network]]`), when the catalog has any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct NetworkDoc<'a> {
    pub address: String,
    /// Ports and ranges as written: `443`, `1024-65535`.
    pub tcp_ports: Vec<String>,
    pub udp_ports: Vec<String>,
    pub features: &'a [String],
    pub networks: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: &'a BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct CatalogRef<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub revision: &'a str,
    pub describes: String,
    /// The catalogs composed onto it (`--catalog` given more than once).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub composed: Vec<ComposedDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ComposedDoc<'a> {
    pub id: &'a str,
    pub revision: &'a str,
    pub describes: String,
}

impl<'a> ComposedDoc<'a> {
    fn all(composed: &'a [crate::catalog::Composed]) -> Vec<ComposedDoc<'a>> {
        composed
            .iter()
            .map(|c| ComposedDoc {
                id: &c.id,
                revision: &c.revision,
                describes: c.describes.to_string(),
            })
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct RowDoc<'a> {
    pub host: &'a str,
    pub kind: &'static str,
    pub path: Option<&'a str>,
    pub direction: &'static str,
    pub schemes: Vec<Based<&'static str>>,
    pub ports: Vec<Based<u16>>,
    pub features: Vec<&'a str>,
    pub roles: Vec<Based<&'a str>>,
    /// Who needs the row on which scheme and port: one item per feature,
    /// role and endpoint. `schemes`, `ports`, `features` and `roles` are
    /// their union, for display; an allowlist reads these.
    pub requirements: Vec<RequirementDoc<'a>>,
    pub sections: &'a [String],
    pub status: &'static str,
    pub required: bool,
    pub superseded_by: Option<&'a str>,
    pub superseded_from: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub needs: &'a [String],
    pub versions: Vec<String>,
    pub endpoints: &'a [String],
    pub alternatives: &'a [String],
    pub tls_versions: &'a [&'static str],
    pub min_proxy_idle_timeout_secs: Option<u32>,
    pub probe_hosts: Vec<&'a str>,
    pub probe_path: Option<&'a str>,
    pub reachable_status: &'a [u16],
    pub notes: &'a [String],
    /// What the site changed: `site`, `replaced by the site, was ...`.
    pub origins: &'a [String],
    /// Every endpoint behind the row is optional (`required = false` in
    /// the catalog): its features work without it, degraded.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: &'a BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct RequirementDoc<'a> {
    pub feature: &'a str,
    pub role: &'a str,
    pub endpoint: &'a str,
    pub pairs: Vec<PairDoc>,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PairDoc {
    pub scheme: &'static str,
    pub port: u16,
}

/// A value with whether the page states it or the catalog assumes it.
#[derive(Debug, Serialize)]
pub struct Based<T> {
    pub value: T,
    pub basis: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ExternalDoc<'a> {
    pub feature: &'a str,
    pub title: &'a str,
    pub url: &'a str,
}

#[derive(Debug, Serialize)]
pub struct MissingDoc<'a> {
    pub placeholder: &'a str,
    pub title: &'a str,
    pub profile_key: &'a str,
    pub endpoints: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct ExcludedDoc<'a> {
    pub endpoint: &'a str,
    pub reason: &'a str,
}

/// The kind of a host: `exact`, `subdomains` (`*.x`), `in-label` (`*-x.y`),
/// `ip`, or `template` while a placeholder has no value.
pub fn pattern_kind(pattern: Option<&egress_pattern::HostPattern>) -> &'static str {
    use egress_pattern::PatternKind;
    match pattern.map(|p| p.kind()) {
        None => "template",
        Some(PatternKind::Exact(_)) => "exact",
        Some(PatternKind::Subdomains { .. }) => "subdomains",
        Some(PatternKind::InLabel { .. }) => "in-label",
        Some(PatternKind::Ip(_)) => "ip",
    }
}

fn based<K: Copy, T>(map: &BTreeMap<K, Basis>, f: impl Fn(K) -> T) -> Vec<Based<T>> {
    map.iter()
        .map(|(k, b)| Based {
            value: f(*k),
            basis: b.as_str(),
        })
        .collect()
}

fn version_text(v: &VersionRange) -> String {
    v.to_string()
}

impl<'a> PlanDoc<'a> {
    pub fn new(plan: &'a Plan, egress_version: &'a str, profile: Option<&'a str>) -> PlanDoc<'a> {
        PlanDoc {
            format: PLAN_FORMAT,
            egress_version,
            catalog: CatalogRef {
                id: &plan.catalog_id,
                title: &plan.catalog_title,
                revision: &plan.revision,
                describes: plan.describes.to_string(),
                composed: ComposedDoc::all(&plan.composed),
            },
            profile,
            cloud: plan.request.cloud.as_str(),
            version: plan.request.version,
            as_of: plan.request.as_of.to_string(),
            features: plan.request.features.as_deref(),
            roles: &plan.request.roles,
            rows: plan.rows.iter().map(RowDoc::new).collect(),
            external: plan
                .external
                .iter()
                .map(|x| ExternalDoc {
                    feature: &x.feature,
                    title: &x.title,
                    url: &x.url,
                })
                .collect(),
            missing_placeholders: plan
                .missing
                .iter()
                .map(|m| MissingDoc {
                    placeholder: &m.name,
                    title: &m.title,
                    profile_key: &m.profile_key,
                    endpoints: &m.endpoints,
                })
                .collect(),
            excluded: plan
                .excluded
                .iter()
                .map(|x| ExcludedDoc {
                    endpoint: &x.endpoint,
                    reason: &x.reason,
                })
                .collect(),
            networks: plan
                .networks
                .iter()
                .map(|n| NetworkDoc {
                    address: n.address.to_string(),
                    tcp_ports: n.tcp_ports.items(),
                    udp_ports: n.udp_ports.items(),
                    features: &n.features,
                    networks: &n.networks,
                    optional: n.optional,
                    attributes: &n.attributes,
                })
                .collect(),
        }
    }
}

impl<'a> RowDoc<'a> {
    fn new(row: &'a Row) -> RowDoc<'a> {
        let none = || None::<String>;
        let (superseded_by, superseded_from, valid_from, valid_until, needs): (
            _,
            _,
            _,
            _,
            &[String],
        ) = match &row.status {
            Status::Superseded { by, since } => (
                Some(by.as_str()),
                since.map(|d| d.to_string()),
                none(),
                none(),
                &[],
            ),
            Status::NotYetValid { from } => (None, none(), Some(from.to_string()), none(), &[]),
            Status::Expired { until } => (None, none(), none(), Some(until.to_string()), &[]),
            Status::NeedsInput { placeholders } => (None, none(), none(), none(), placeholders),
            Status::Required => (None, none(), none(), none(), &[]),
        };
        RowDoc {
            host: &row.host,
            kind: pattern_kind(row.pattern.as_ref()),
            path: row.path.as_deref(),
            direction: row.direction.as_str(),
            schemes: based(&row.schemes, |s| s.as_str()),
            ports: based(&row.ports, |p| p),
            features: row.features(),
            roles: row
                .roles()
                .into_iter()
                .map(|(r, b)| Based {
                    value: r,
                    basis: b.as_str(),
                })
                .collect(),
            requirements: row
                .requirements
                .iter()
                .map(|r| RequirementDoc {
                    feature: &r.feature,
                    role: &r.role,
                    endpoint: &r.endpoint,
                    pairs: r
                        .pairs
                        .iter()
                        .map(|(s, p)| PairDoc {
                            scheme: s.as_str(),
                            port: *p,
                        })
                        .collect(),
                    status: r.status.as_str(),
                })
                .collect(),
            sections: &row.sections,
            status: row.status.as_str(),
            required: row.status.is_in_force(),
            superseded_by,
            superseded_from,
            valid_from,
            valid_until,
            needs,
            versions: row.versions.iter().map(version_text).collect(),
            endpoints: &row.endpoints,
            alternatives: &row.alternatives,
            tls_versions: &row.tls_versions,
            min_proxy_idle_timeout_secs: row.min_proxy_idle_timeout_secs,
            probe_hosts: row.probe_hosts.iter().map(|h| h.as_str()).collect(),
            probe_path: row.probe_path.as_deref(),
            reachable_status: &row.reachable_status,
            notes: &row.notes,
            origins: &row.origins,
            optional: row.optional,
            attributes: &row.attributes,
        }
    }
}

/// `egress catalog list --format json`.
#[derive(Debug, Serialize)]
pub struct CatalogDoc<'a> {
    pub format: &'static str,
    pub catalog: CatalogRef<'a>,
    pub endpoints: Vec<EndpointDoc<'a>>,
    /// The catalog's `[[network]]` tables, when it has any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<CatalogNetworkDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CatalogNetworkDoc<'a> {
    pub id: &'a str,
    pub features: &'a [String],
    pub addresses: Vec<String>,
    pub tcp_ports: Vec<String>,
    pub udp_ports: Vec<String>,
    #[serde(skip_serializing_if = "is_true")]
    pub required: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub notes: &'a [String],
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Debug, Serialize)]
pub struct EndpointDoc<'a> {
    pub id: &'a str,
    pub target: String,
    pub host: &'a str,
    pub kind: &'static str,
    pub scheme_in_url: Option<&'static str>,
    pub path: Option<&'a str>,
    pub features: &'a [String],
    pub roles: Based<&'a [String]>,
    pub schemes: Based<Vec<&'static str>>,
    pub ports: Based<&'a [u16]>,
    pub cloud: &'static str,
    pub direction: &'static str,
    pub placeholders: Vec<&'a str>,
    pub since_version: Option<u32>,
    pub until_version: Option<u32>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub superseded_by: Option<&'a str>,
    pub superseded_from: Option<String>,
    pub alternatives: Option<&'a str>,
    pub tls_versions: Vec<&'static str>,
    pub min_proxy_idle_timeout_secs: Option<u32>,
    pub probe_hosts: Vec<&'a str>,
    pub notes: &'a [String],
    /// `false`: optional (the catalog's `required = false`).
    #[serde(skip_serializing_if = "is_true")]
    pub required: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: &'a BTreeMap<String, String>,
    pub source: Option<SourceDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct SourceDoc<'a> {
    pub page: &'a str,
    pub line: u32,
    pub text: Option<&'a str>,
}

impl<'a> CatalogDoc<'a> {
    /// The listing of `endpoints` and `networks` (a selection of the
    /// catalog's).
    pub fn new(
        catalog: &'a Catalog,
        endpoints: impl IntoIterator<Item = &'a Endpoint>,
        networks: impl IntoIterator<Item = &'a crate::catalog::Network>,
    ) -> CatalogDoc<'a> {
        CatalogDoc {
            format: CATALOG_FORMAT,
            catalog: CatalogRef {
                id: &catalog.meta.id,
                title: &catalog.meta.title,
                revision: &catalog.meta.revision,
                describes: catalog.meta.describes.to_string(),
                composed: ComposedDoc::all(&catalog.meta.composed),
            },
            endpoints: endpoints.into_iter().map(EndpointDoc::new).collect(),
            networks: networks
                .into_iter()
                .map(|n| CatalogNetworkDoc {
                    id: &n.id,
                    features: &n.features,
                    addresses: n.addresses.iter().map(ToString::to_string).collect(),
                    tcp_ports: n.tcp_ports.items(),
                    udp_ports: n.udp_ports.items(),
                    required: n.required,
                    attributes: &n.attributes,
                    notes: &n.notes,
                })
                .collect(),
        }
    }
}

impl<'a> EndpointDoc<'a> {
    fn new(e: &'a Endpoint) -> EndpointDoc<'a> {
        let host = e.destination.host();
        let (scheme_in_url, path) = match &e.destination {
            Destination::Url(u) => (Some(u.scheme.as_str()), Some(u.path.as_str())),
            Destination::Host(_) => (None, None),
        };
        EndpointDoc {
            id: &e.id,
            target: e.destination.to_string(),
            host: host.as_str(),
            kind: pattern_kind(host.pattern()),
            scheme_in_url,
            path,
            features: &e.features,
            roles: Based {
                value: &e.roles.value,
                basis: e.roles.basis.as_str(),
            },
            schemes: Based {
                value: e.schemes.value.iter().map(|s| s.as_str()).collect(),
                basis: e.schemes.basis.as_str(),
            },
            ports: Based {
                value: &e.ports.value,
                basis: e.ports.basis.as_str(),
            },
            cloud: e.cloud.as_str(),
            direction: e.direction.as_str(),
            placeholders: host.placeholders().collect(),
            since_version: e.versions.since,
            until_version: e.versions.until,
            valid_from: e.valid.from.map(|d| d.to_string()),
            valid_until: e.valid.until.map(|d| d.to_string()),
            superseded_by: e.superseded.as_ref().map(|s| s.by.as_str()),
            superseded_from: e
                .superseded
                .as_ref()
                .and_then(|s| s.from)
                .map(|d| d.to_string()),
            alternatives: e.alternatives.as_deref(),
            tls_versions: e.tls_versions.iter().map(|t| t.as_str()).collect(),
            min_proxy_idle_timeout_secs: e.min_proxy_idle_timeout_secs,
            probe_hosts: e.probe.hosts.iter().map(|h| h.as_str()).collect(),
            notes: &e.notes,
            required: e.required,
            attributes: &e.attributes,
            source: e.source.as_ref().map(|s| SourceDoc {
                page: &s.page,
                line: s.line,
                text: s.text.as_deref(),
            }),
        }
    }
}

/// `egress catalog features --format json`.
#[derive(Debug, Serialize)]
pub struct FeatureDoc<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub page: &'a str,
    pub section: &'a str,
    pub anchor: Option<&'a str>,
    pub endpoints: usize,
    pub since_version: Option<u32>,
    pub until_version: Option<u32>,
    pub external: Vec<ExternalListDoc<'a>>,
    pub notes: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct ExternalListDoc<'a> {
    pub title: &'a str,
    pub url: &'a str,
}

/// `egress catalog roles --format json`.
#[derive(Debug, Serialize)]
pub struct RoleDoc<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub endpoints: usize,
    pub notes: &'a [String],
}

/// `egress catalog placeholders --format json`.
#[derive(Debug, Serialize)]
pub struct PlaceholderDoc<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub kind: &'static str,
    pub profile_key: String,
    pub as_written: &'a [String],
    pub example: Option<&'a str>,
}

impl<'a> FeatureDoc<'a> {
    pub fn new(catalog: &'a Catalog, f: &'a crate::catalog::Feature) -> FeatureDoc<'a> {
        FeatureDoc {
            id: &f.id,
            title: &f.title,
            page: &f.page,
            section: &f.section,
            anchor: f.anchor.as_deref(),
            endpoints: catalog
                .endpoints
                .iter()
                .filter(|e| e.features.contains(&f.id))
                .count(),
            since_version: f.versions.since,
            until_version: f.versions.until,
            external: f
                .external
                .iter()
                .map(|x| ExternalListDoc {
                    title: &x.title,
                    url: &x.url,
                })
                .collect(),
            notes: &f.notes,
        }
    }
}

impl<'a> RoleDoc<'a> {
    pub fn new(catalog: &'a Catalog, r: &'a crate::catalog::Role) -> RoleDoc<'a> {
        RoleDoc {
            id: &r.id,
            title: &r.title,
            endpoints: catalog
                .endpoints
                .iter()
                .filter(|e| e.roles.value.contains(&r.id))
                .count(),
            notes: &r.notes,
        }
    }
}

impl<'a> PlaceholderDoc<'a> {
    pub fn new(p: &'a crate::catalog::Placeholder) -> PlaceholderDoc<'a> {
        PlaceholderDoc {
            name: &p.name,
            title: &p.title,
            kind: match p.kind {
                crate::catalog::PlaceholderKind::Label => "label",
                crate::catalog::PlaceholderKind::Host => "host",
            },
            profile_key: p.profile_key(),
            as_written: &p.as_written,
            example: p.example.as_deref(),
        }
    }
}

/// One line of `egress explain --format jsonl`.
#[derive(Debug, Serialize)]
pub struct ExplainDoc<'a> {
    pub input: &'a str,
    pub host: String,
    pub scheme: Option<&'static str>,
    pub port: Option<u16>,
    pub matched: bool,
    pub matches: Vec<MatchDoc<'a>>,
    pub near_miss: Option<NearMissDoc<'a>>,
    pub plan: Option<PlanVerdictDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct MatchDoc<'a> {
    pub catalog: &'a str,
    pub revision: &'a str,
    pub endpoint: &'a str,
    pub pattern: &'a str,
    pub features: &'a [String],
    pub roles: &'a [String],
    pub cloud: &'static str,
    pub schemes: Vec<&'static str>,
    pub ports: &'a [u16],
    pub via_placeholder: bool,
    pub origin: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct NearMissDoc<'a> {
    pub pattern: &'a str,
    pub reason: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PlanVerdictDoc<'a> {
    pub allowed: bool,
    pub rows: &'a [String],
    pub reason: &'a str,
}

impl<'a> ExplainDoc<'a> {
    pub fn new(
        input: &'a crate::explain::Input,
        e: &'a crate::explain::Explanation,
    ) -> ExplainDoc<'a> {
        ExplainDoc {
            input: &input.text,
            host: input.host.to_string(),
            scheme: input.scheme.map(|s| s.as_str()),
            port: input.port,
            matched: e.matched(),
            matches: e
                .matches
                .iter()
                .map(|m| MatchDoc {
                    catalog: &m.catalog,
                    revision: &m.revision,
                    endpoint: &m.endpoint,
                    pattern: &m.pattern,
                    features: &m.features,
                    roles: &m.roles,
                    cloud: m.cloud.as_str(),
                    schemes: m.schemes.iter().map(|s| s.as_str()).collect(),
                    ports: &m.ports,
                    via_placeholder: m.via_placeholder,
                    origin: m.origin.as_deref(),
                })
                .collect(),
            near_miss: e.near_miss.as_ref().map(|n| NearMissDoc {
                pattern: &n.pattern,
                reason: &n.reason,
            }),
            plan: e.plan.as_ref().map(|p| PlanVerdictDoc {
                allowed: p.allowed,
                rows: &p.rows,
                reason: &p.reason,
            }),
        }
    }
}

/// The check on several routes (`egress.check-routes/1`, docs/check.md):
/// per feature, its status on each route; then each route's check.
#[derive(Debug, Serialize)]
pub struct RoutesCheckDoc<'a> {
    pub format: &'static str,
    pub header: &'a [String],
    pub features: Vec<FeatureRoutesDoc>,
    pub routes: Vec<RouteCheckDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct FeatureRoutesDoc {
    pub id: String,
    pub routes: Vec<FeatureOnRouteDoc>,
}

#[derive(Debug, Serialize)]
pub struct FeatureOnRouteDoc {
    pub route: String,
    pub status: &'static str,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RouteCheckDoc<'a> {
    pub route: &'a str,
    pub says: &'a str,
    pub report: CheckDoc<'a>,
}

/// `egress check --format json`: the verdicts, per feature and endpoint.
#[derive(Debug, Serialize)]
pub struct CheckDoc<'a> {
    pub format: &'static str,
    pub header: &'a [String],
    pub duration_seconds: f64,
    pub critical: bool,
    pub features: Vec<CheckFeatureDoc<'a>>,
    pub endpoints: Vec<CheckEndpointDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CheckFeatureDoc<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub status: &'static str,
    pub status_message: Option<u32>,
    pub external: Vec<CheckExternalDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CheckExternalDoc<'a> {
    pub title: &'a str,
    pub url: &'a str,
}

#[derive(Debug, Serialize)]
pub struct CheckEndpointDoc<'a> {
    pub row: &'a str,
    pub url: Option<&'a str>,
    pub features: &'a [String],
    pub roles: &'a [String],
    pub verdict: &'static str,
    pub counts: bool,
    /// The row is optional (`required = false`): never critical.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    pub phase: Option<String>,
    pub reason: String,
    pub addresses: Vec<String>,
    pub connected: Option<String>,
    pub proxy_status: Option<u16>,
    pub http_status: Option<u16>,
    pub redirects: Vec<&'a str>,
    /// Which entry of the route's list (a PAC file's) carried the probe,
    /// and those that failed before it.
    pub via: Option<&'a str>,
    /// How egress authenticated to the proxy, when it asked.
    pub proxy_auth: Option<ProxyAuthDoc<'a>>,
    /// Each phase's duration, in the order they ran.
    pub timings: Vec<TimingDoc>,
    /// For a `warning` verdict: each warning.
    pub warnings: Vec<&'a str>,
    pub tls: Option<TlsDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ProxyAuthDoc<'a> {
    /// The schemes the proxy's 407s named (`NTLM`, `Negotiate`, `Basic`).
    pub offered: &'a [String],
    /// The scheme egress answered with, if any.
    pub used: Option<&'static str>,
    /// Requests sent to the proxy for the answer (NTLM: 2 when the scheme
    /// is known, 3 when learned from a 407).
    pub requests: u8,
}

#[derive(Debug, Serialize)]
pub struct TimingDoc {
    /// `resolve`, `connect`, `proxy`, `proxy-auth`, `tls` or `processing`
    /// (the Prometheus output's names).
    pub phase: String,
    /// Milliseconds, to the microsecond.
    pub ms: f64,
}

#[derive(Debug, Serialize)]
pub struct TlsDoc<'a> {
    /// `TLS1.2`, `TLS1.3`.
    pub version: Option<&'a str>,
    pub cipher_suite: Option<&'a str>,
    pub trusted: bool,
    pub publicly_trusted: bool,
    pub chain: Vec<CertDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CertDoc<'a> {
    pub subject: &'a str,
    pub issuer: &'a str,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    pub crl_urls: &'a [String],
    pub ocsp_urls: &'a [String],
}

/// `egress catalog diff --format json`.
#[derive(Debug, Serialize)]
pub struct DiffDoc<'a> {
    pub format: &'static str,
    pub old: &'a str,
    pub new: &'a str,
    /// The attributes compared (`--view`, `--ignore`); changes of others
    /// are not listed.
    pub compared: Vec<&'static str>,
    pub features_added: &'a [String],
    pub features_removed: &'a [String],
    pub changes: Vec<ChangeDoc<'a>>,
    /// IP ranges added, removed or on other ports, when any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkChangeDoc<'a>>,
}

#[derive(Debug, Serialize)]
pub struct NetworkChangeDoc<'a> {
    pub action: &'static str,
    pub feature: &'a str,
    pub address: &'a str,
    /// The ports before and after (`tcp 80,443; udp 3478-3481`); empty on
    /// the side where the range is not.
    pub old: &'a str,
    pub new: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ChangeDoc<'a> {
    pub action: &'static str,
    pub feature: &'a str,
    pub host: &'a str,
    pub scheme: &'a str,
    /// For `change`: what changed, old and new.
    pub changes: Vec<AttrChangeDoc<'a>>,
    /// For `add` and `remove`: the endpoint's ports and roles.
    pub ports: Vec<u16>,
    pub roles: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct AttrChangeDoc<'a> {
    pub attribute: &'static str,
    pub old: &'a str,
    pub new: &'a str,
}

impl<'a> DiffDoc<'a> {
    /// The diff `d` between the catalogs named `old` and `new`.
    pub fn new(
        d: &'a Diff,
        (old, new): &'a (String, String),
        compared: &[crate::diff::Attribute],
    ) -> DiffDoc<'a> {
        DiffDoc {
            format: "egress.diff/1",
            old,
            new,
            compared: compared.iter().map(|a| a.name()).collect(),
            features_added: &d.features_added,
            features_removed: &d.features_removed,
            changes: d
                .changes
                .iter()
                .map(|c| match c {
                    Change::Added(id, a) | Change::Removed(id, a) => ChangeDoc {
                        action: if matches!(c, Change::Added(..)) {
                            "add"
                        } else {
                            "remove"
                        },
                        feature: &id.feature,
                        host: &id.host,
                        scheme: &id.scheme,
                        changes: Vec::new(),
                        ports: a.ports.iter().copied().collect(),
                        roles: a.roles.iter().map(String::as_str).collect(),
                    },
                    Change::Changed(id, what) => ChangeDoc {
                        action: "change",
                        feature: &id.feature,
                        host: &id.host,
                        scheme: &id.scheme,
                        changes: what
                            .iter()
                            .map(|(attribute, old, new)| AttrChangeDoc {
                                attribute,
                                old,
                                new,
                            })
                            .collect(),
                        ports: Vec::new(),
                        roles: Vec::new(),
                    },
                })
                .collect(),
            networks: d
                .networks
                .iter()
                .map(|n| NetworkChangeDoc {
                    action: match n.action {
                        crate::diff::NetworkAction::Added => "add",
                        crate::diff::NetworkAction::Removed => "remove",
                        crate::diff::NetworkAction::Changed => "change",
                    },
                    feature: &n.feature,
                    address: &n.address,
                    old: &n.old,
                    new: &n.new,
                })
                .collect(),
        }
    }
}

/// `egress catalog revisions --format json`: one per revision.
#[derive(Debug, Serialize)]
pub struct RevisionDoc<'a> {
    pub catalog: &'a str,
    pub revision: &'a str,
    pub aliases: &'a [String],
    pub describes: String,
    pub features: usize,
    pub endpoints: usize,
}
