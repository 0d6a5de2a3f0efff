//! The catalog's domain types. They are built only by `catalog::file`, which
//! checks every invariant, so code that holds a [`Catalog`] can rely on it:
//! ids are unique, every reference resolves, every host template is valid.

use std::fmt;

use egress_pattern::HostPattern;
use jiff::civil::Date;

mod file;
mod template;

pub(crate) use file::to_date;
pub use file::{SiteTables, load, site_tables};
pub use template::{HostTemplate, ResolveError};

/// The id of the role that stands for "the page names no role".
pub const UNSPECIFIED_ROLE: &str = "unspecified";

/// One revision of one vendor's endpoint list.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub meta: Meta,
    pub pages: Vec<Page>,
    pub features: Vec<Feature>,
    pub roles: Vec<Role>,
    pub placeholders: Vec<Placeholder>,
    pub endpoints: Vec<Endpoint>,
    /// IP ranges a feature needs (`[[network]]`): only for targets that
    /// take addresses.
    pub networks: Vec<Network>,
}

impl Catalog {
    /// Gives the endpoints whose ports are the site's WSUS ports those
    /// ports, one per scheme.
    pub fn set_wsus_ports(&mut self, wsus: WsusPorts) {
        for e in &mut self.endpoints {
            if e.site_ports == Some(SitePorts::Wsus) {
                e.ports.value = e.schemes.value.iter().map(|&s| wsus.port(s)).collect();
            }
        }
    }

    /// The id a feature has here: `id` itself, or `catalog:feature` for a
    /// composed catalog's feature whether or not its id was taken
    /// (`m365:mem` is `mem` when the base catalog has no `mem`).
    pub fn feature_id<'a>(&'a self, id: &'a str) -> Option<&'a str> {
        if self.feature(id).is_some() {
            return Some(id);
        }
        let (cid, fid) = id.split_once(':')?;
        if cid == self.meta.id {
            return self.feature(fid).map(|f| f.id.as_str());
        }
        self.meta
            .composed
            .iter()
            .find(|c| c.id == cid)?
            .features
            .get(fid)
            .map(String::as_str)
    }

    pub fn feature(&self, id: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.id == id)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn placeholder(&self, name: &str) -> Option<&Placeholder> {
        self.placeholders.iter().find(|p| p.name == name)
    }

    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// Whether `name` is this catalog's revision id or one of its aliases.
    pub fn answers_to(&self, revision: &str) -> bool {
        self.meta.revision == revision || self.meta.aliases.iter().any(|a| a == revision)
    }
}

#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub title: String,
    pub vendor: String,
    pub product: String,
    pub revision: String,
    pub aliases: Vec<String>,
    /// The date the revision describes: the page's state on that day.
    pub describes: Date,
    pub notes: Vec<String>,
    /// The catalogs composed onto this one ([`crate::compose`]).
    pub composed: Vec<Composed>,
}

/// A catalog composed onto another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub id: String,
    pub revision: String,
    pub describes: Date,
    /// Its feature ids as written, and their ids in the composed catalog
    /// (prefixed when taken): `catalog:feature` names them either way.
    pub features: std::collections::BTreeMap<String, String>,
}

/// A source page the catalog encodes, with its provenance.
#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub repository: Option<String>,
    pub path: Option<String>,
    pub commit: Option<String>,
    pub date: Option<Date>,
    pub language: String,
}

#[derive(Debug, Clone)]
pub struct Feature {
    pub id: String,
    pub title: String,
    pub page: String,
    /// The section heading path on the page, `Cloud services > CMG connection point`.
    pub section: String,
    pub anchor: Option<String>,
    pub notes: Vec<String>,
    /// Lists the page points to but does not contain.
    pub external: Vec<ExternalList>,
    pub versions: VersionRange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalList {
    pub title: String,
    pub url: String,
    /// The feature of another catalog that carries the list
    /// (`m365:mem`): when that catalog is loaded, its endpoints serve the
    /// linking feature ([`crate::compose`]).
    pub feature: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub id: String,
    pub title: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Placeholder {
    /// As used in host templates: `<name>`.
    pub name: String,
    pub title: String,
    pub kind: PlaceholderKind,
    /// How the page writes it (`<prefix>`, `<FQDN for software update point on child site>`).
    pub as_written: Vec<String>,
    pub example: Option<String>,
}

impl Placeholder {
    /// The profile key that sets this placeholder.
    pub fn profile_key(&self) -> String {
        format!("placeholders.{}", self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderKind {
    /// Stands for exactly one DNS label.
    Label,
    /// Stands for a whole host name.
    Host,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub destination: Destination,
    pub features: Vec<String>,
    /// The subsection that lists it, when narrower than its feature's.
    pub section: Option<String>,
    pub roles: Attr<Vec<String>>,
    pub schemes: Attr<Vec<Scheme>>,
    pub ports: Attr<Vec<u16>>,
    /// Set when the site, not the page, chooses the ports (`ports` then
    /// holds the default until [`Catalog::set_wsus_ports`]).
    pub site_ports: Option<SitePorts>,
    pub cloud: CloudScope,
    pub direction: Direction,
    pub versions: VersionRange,
    pub valid: Validity,
    pub superseded: Option<Supersession>,
    /// Endpoints sharing a group id are alternatives: any one satisfies the
    /// requirement.
    pub alternatives: Option<String>,
    /// TLS versions the endpoint accepts, when the page restricts them.
    pub tls_versions: Vec<TlsVersion>,
    /// The shortest idle timeout a proxy may apply to this endpoint's
    /// long-lived connections.
    pub min_proxy_idle_timeout_secs: Option<u32>,
    pub notes: Vec<String>,
    /// `false`: optional; the feature works without it, degraded (the
    /// check never counts it critical).
    pub required: bool,
    /// What the source says of it beyond egress's fields (`category`,
    /// `express_route` of a Microsoft 365 record), shown in plans.
    pub attributes: std::collections::BTreeMap<String, String>,
    pub probe: Probe,
    pub source: Option<SourceRef>,
    /// Whether the site added or corrected it (a profile's `[[endpoint]]`
    /// and `[[replace]]`).
    pub origin: Origin,
}

/// IP ranges a feature needs, on TCP and UDP ports: a separate kind of
/// endpoint, for the targets that take addresses (an IP EDL, firewall
/// 5-tuple and network rules); host-based targets report them as a loss
/// and the check does not probe them.
#[derive(Debug, Clone)]
pub struct Network {
    pub id: String,
    pub features: Vec<String>,
    pub addresses: Vec<crate::profile::AddressRange>,
    pub tcp_ports: PortRanges,
    pub udp_ports: PortRanges,
    pub required: bool,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub notes: Vec<String>,
    pub source: Option<SourceRef>,
}

/// Ports and port ranges, written as the Microsoft 365 web service writes
/// them: `80,443,1024-65535`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortRanges(pub Vec<std::ops::RangeInclusive<u16>>);

impl PortRanges {
    /// Ranges sorted, overlapping and adjacent ones joined. Errors say
    /// what to write.
    pub fn parse(text: &str) -> Result<PortRanges, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad =
                || format!("`{part}` is not a port (1 to 65535) or a range like `1024-65535`");
            let port = |p: &str| {
                p.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(bad)
            };
            let range = match part.split_once('-') {
                Some((a, b)) => port(a)?..=port(b)?,
                None => port(part)?..=port(part)?,
            };
            if range.start() > range.end() {
                return Err(bad());
            }
            out.push(range);
        }
        Ok(PortRanges(out).joined())
    }

    /// `self` and `other` together.
    pub fn union(&self, other: &PortRanges) -> PortRanges {
        PortRanges(self.0.iter().chain(&other.0).cloned().collect()).joined()
    }

    fn joined(mut self) -> PortRanges {
        self.0.sort_by_key(|r| (*r.start(), *r.end()));
        let mut out: Vec<std::ops::RangeInclusive<u16>> = Vec::new();
        for r in self.0 {
            match out.last_mut() {
                Some(last) if u32::from(*r.start()) <= u32::from(*last.end()) + 1 => {
                    *last = *last.start()..=(*last.end()).max(*r.end());
                }
                _ => out.push(r),
            }
        }
        PortRanges(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each port or range as written: `443`, `1024-65535`.
    pub fn items(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|r| {
                if r.start() == r.end() {
                    r.start().to_string()
                } else {
                    format!("{}-{}", r.start(), r.end())
                }
            })
            .collect()
    }
}

impl fmt::Display for PortRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.items().join(","))
    }
}

/// Ports a site chooses: the page names the server, not its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitePorts {
    /// The software update point's WSUS ports (profile `wsus_ports`).
    Wsus,
}

impl SitePorts {
    /// The catalog key's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SitePorts::Wsus => "wsus",
        }
    }
}

/// The ports WSUS listens on: 8530 and 8531 as it installs by default,
/// 80 and 443 when it uses the IIS default web site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsusPorts {
    pub http: u16,
    pub https: u16,
}

impl Default for WsusPorts {
    fn default() -> Self {
        WsusPorts {
            http: 8530,
            https: 8531,
        }
    }
}

impl WsusPorts {
    pub fn port(self, scheme: Scheme) -> u16 {
        match scheme {
            Scheme::Http => self.http,
            Scheme::Https => self.https,
        }
    }
}

/// Where an endpoint comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    #[default]
    Catalog,
    /// A profile's `[[endpoint]]`.
    Site,
    /// A catalog endpoint the profile's `[[replace]]` gave another
    /// destination; the catalog's, as written.
    Replaced { original: String },
}

impl Origin {
    /// How outputs name it: empty for the catalog's own.
    pub fn label(&self) -> Option<String> {
        match self {
            Origin::Catalog => None,
            Origin::Site => Some("site".to_owned()),
            Origin::Replaced { original } => Some(format!("replaced by the site, was {original}")),
        }
    }
}

/// What an endpoint names: a host (possibly a pattern) or a URL.
#[derive(Debug, Clone)]
pub enum Destination {
    Host(HostTemplate),
    Url(UrlTemplate),
}

impl Destination {
    pub fn host(&self) -> &HostTemplate {
        match self {
            Destination::Host(h) => h,
            Destination::Url(u) => &u.host,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Host(h) => write!(f, "{h}"),
            Destination::Url(u) => write!(f, "{u}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UrlTemplate {
    pub scheme: Scheme,
    pub host: HostTemplate,
    /// The port written in the URL, if any.
    pub port: Option<u16>,
    /// Path and query as written, `/` when the URL has none.
    pub path: String,
}

/// What a proxy or firewall can see of a URL without TLS interception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Plain HTTP: the path (and query) can be matched.
    PathVisible,
    /// HTTPS: only the host (from SNI or CONNECT) can be seen; the path can
    /// be enforced only by a proxy that intercepts TLS.
    HostOnly,
}

impl UrlTemplate {
    pub fn visibility(&self) -> Visibility {
        match self.scheme {
            Scheme::Http => Visibility::PathVisible,
            Scheme::Https => Visibility::HostOnly,
        }
    }
}

impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if self.path != "/" {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

/// A value and whether the page states it or the catalog assumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr<T> {
    pub value: T,
    pub basis: Basis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Basis {
    /// The catalog assumes it; the page does not say.
    Assumed,
    /// The page says so.
    Stated,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Stated => "stated",
            Basis::Assumed => "assumed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Azure cloud a site runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cloud {
    Public,
    UsGov,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::UsGov => "usgov",
        }
    }
}

/// Which clouds an endpoint applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloudScope {
    All,
    Only(Cloud),
}

impl CloudScope {
    pub fn includes(self, cloud: Cloud) -> bool {
        match self {
            CloudScope::All => true,
            CloudScope::Only(c) => c == cloud,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CloudScope::All => "all",
            CloudScope::Only(c) => c.as_str(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From the site to the internet.
    Internet,
    /// Between site systems, through an intranet firewall.
    Intranet,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Internet => "internet",
            Direction::Intranet => "intranet",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }
    }
}

/// Product versions (ConfigMgr's `YYMM` numbers, such as 2107) a thing
/// applies to, both ends inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionRange {
    pub since: Option<u32>,
    pub until: Option<u32>,
}

impl VersionRange {
    pub fn includes(self, version: u32) -> bool {
        self.since.is_none_or(|s| version >= s) && self.until.is_none_or(|u| version <= u)
    }

    pub fn is_unbounded(self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.since, self.until) {
            (None, None) => f.write_str("all versions"),
            (Some(s), None) => write!(f, "version {s} and later"),
            (None, Some(u)) => write!(f, "version {u} and earlier"),
            (Some(s), Some(u)) => write!(f, "versions {s} to {u}"),
        }
    }
}

/// Dates between which an endpoint is in force: `from` inclusive, `until`
/// exclusive (the day it stops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validity {
    pub from: Option<Date>,
    pub until: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersession {
    /// The endpoint that replaces this one.
    pub by: String,
    /// The day the replacement takes over; `None`: already.
    pub from: Option<Date>,
}

/// Hints for the connectivity check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// Concrete hosts to probe for a wildcard.
    pub hosts: Vec<HostPattern>,
    /// The request path, when it is not the URL's own.
    pub path: Option<String>,
    /// HTTP statuses that mean reachable; empty: any response from the target.
    pub reachable_status: Vec<u16>,
}

/// Where on a page an endpoint is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub page: String,
    pub line: u32,
    /// The text as the page writes it.
    pub text: Option<String>,
}
