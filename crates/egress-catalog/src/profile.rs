//! Site profiles (TOML, `docs/profile-format.md`): which cloud, version,
//! features, roles and placeholder values a site has, and its servers.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;

use egress_pattern::{Host, HostPattern};
use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::catalog::{Catalog, Cloud, PlaceholderKind, WsusPorts};
use crate::diagnostic::{FileProblems, Problem, Problems, SourceFile, did_you_mean};
use crate::tomlfile;

/// A value from a profile with its place in the file, so that checks
/// against a catalog (which the profile may itself choose) can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> From<Spanned<T>> for Located<T> {
    fn from(s: Spanned<T>) -> Self {
        Located {
            span: s.span(),
            value: s.into_inner(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub file: SourceFile,
    /// The catalogs, as written: files relative to the profile's folder,
    /// or an embedded catalog's id; more than one are composed.
    pub catalog: Vec<Located<String>>,
    pub revision: Option<Located<String>>,
    pub cloud: Option<Cloud>,
    pub version: Option<u32>,
    /// The day dates are judged on; default: today.
    pub as_of: Option<Date>,
    /// `None`: all features.
    pub features: Option<Vec<Located<String>>>,
    pub roles: Vec<Located<String>>,
    pub placeholders: BTreeMap<String, Located<String>>,
    pub servers: Vec<Server>,
    /// What allowlists do with a row whose placeholder has no value.
    pub placeholders_policy: Option<PlaceholderPolicy>,
    /// Features and endpoints the site leaves out.
    pub exclude_features: Vec<Located<String>>,
    pub exclude_endpoints: Vec<Located<String>>,
    /// The ports the site's WSUS servers listen on (the software update
    /// point's intranet rows).
    pub wsus_ports: WsusPorts,
    /// The proxy the site's systems use, for `egress check`.
    pub proxy: Option<ProxySettings>,
    /// `[[proxy_client]]`: who may use `egress proxy` (Basic
    /// authentication); none: no authentication.
    pub proxy_clients: Vec<ProxyClient>,
}

/// A user of `egress proxy`, with the argon2 hash of their password (a
/// PHC string: `$argon2id$v=19$m=...,t=...,p=...$salt$hash`).
#[derive(Debug, Clone)]
pub struct ProxyClient {
    pub user: Located<String>,
    pub password_hash: Located<String>,
}

/// What an allowlist does with a row whose placeholder has no value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaceholderPolicy {
    /// Leave the row out, and say so first (the default): an empty
    /// placeholder never widens a list.
    #[default]
    Omit,
    /// Write every label up to the placeholder as one `*`
    /// (`*.blob.core.windows.net`), reported as a loss.
    Widen,
}

/// `[proxy]`: the proxy the site uses. The password never shows in Debug.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `http://host:port`.
    pub url: Option<Located<String>>,
    pub user: Option<Located<String>>,
    pub password: Option<Located<String>>,
    /// Hosts (and their subdomains) reached directly.
    pub no_proxy: Vec<Located<String>>,
}

impl std::fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL may hold `user:password@`: only whether it is set shows.
        f.debug_struct("ProxySettings")
            .field("url", &self.url.as_ref().map(|_| "(set)"))
            .field("user", &self.user.as_ref().map(|u| &u.value))
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field(
                "no_proxy",
                &self.no_proxy.iter().map(|e| &e.value).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// An address or a range of them (CIDR): a server's address, or a subnet
/// of clients or consoles. Always a network address: no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressRange {
    pub network: IpAddr,
    pub prefix: u8,
}

impl AddressRange {
    /// `10.0.0.5`, `10.1.0.0/16`, `fd00::/8`. Errors say what to write.
    pub fn parse(text: &str) -> Result<AddressRange, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or range"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("`{text}`: the prefix length must be 0 to {max}")),
            },
        };
        let range = AddressRange { network, prefix };
        let masked = range.masked(network);
        if masked != network {
            return Err(format!(
                "`{text}` has host bits set; the range is {masked}/{prefix}"
            ));
        }
        Ok(range)
    }

    /// `addr` with the bits past the prefix cleared.
    fn masked(&self, addr: IpAddr) -> IpAddr {
        let keep = |width: u32| -> u128 {
            let host = width - u32::from(self.prefix);
            if host >= 128 {
                0
            } else {
                (u128::MAX >> host) << host
            }
        };
        match addr {
            IpAddr::V4(a) => {
                let bits = u128::from(u32::from(a)) & keep(32);
                IpAddr::V4(std::net::Ipv4Addr::from(bits as u32))
            }
            IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) & keep(128))),
        }
    }

    /// Whether `ip` is in the range (an IPv4 address never is in an IPv6
    /// range, nor the other way round).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && self.masked(ip) == self.network
    }
}

impl std::str::FromStr for AddressRange {
    type Err = String;
    fn from_str(text: &str) -> Result<AddressRange, String> {
        AddressRange::parse(text)
    }
}

impl std::fmt::Display for AddressRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let full = if self.network.is_ipv4() { 32 } else { 128 };
        if self.prefix == full {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix)
        }
    }
}

/// A site system server.
#[derive(Debug, Clone)]
pub struct Server {
    pub name: Host,
    pub roles: Vec<Located<String>>,
    /// Addresses or ranges (a subnet of clients or consoles).
    pub addresses: Vec<AddressRange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    catalog: Option<Spanned<RawCatalogs>>,
    revision: Option<Spanned<String>>,
    cloud: Option<RawCloud>,
    version: Option<Spanned<u32>>,
    as_of: Option<Spanned<Datetime>>,
    features: Option<Spanned<RawFeatures>>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    #[serde(default)]
    placeholders: BTreeMap<Spanned<String>, Spanned<String>>,
    /// `[[server]]`, `wsus_ports` and `[proxy]`: read table by table (see
    /// `load`), named here for the unknown-key message.
    #[serde(rename = "server")]
    _server: Option<serde::de::IgnoredAny>,
    placeholders_policy: Option<PlaceholderPolicy>,
    #[serde(default)]
    exclude_features: Vec<Spanned<String>>,
    #[serde(default)]
    exclude_endpoints: Vec<Spanned<String>>,
    #[serde(rename = "wsus_ports")]
    _wsus_ports: Option<serde::de::IgnoredAny>,
    #[serde(rename = "proxy")]
    _proxy: Option<serde::de::IgnoredAny>,
    #[serde(rename = "proxy_client")]
    _proxy_client: Option<serde::de::IgnoredAny>,
    /// Site endpoints and corrections: read against the catalog by
    /// `catalog::site_tables`.
    #[serde(rename = "endpoint")]
    _endpoint: Option<serde::de::IgnoredAny>,
    #[serde(rename = "replace")]
    _replace: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWsusPorts {
    http: Option<Spanned<u16>>,
    https: Option<Spanned<u16>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxy {
    url: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    #[serde(default)]
    no_proxy: Vec<Spanned<String>>,
}

/// `"all"` or a list of feature ids. Written by hand rather than as an
/// untagged enum, which would buffer the list and lose the ids' positions.
enum RawFeatures {
    All(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawFeatures {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawFeatures;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"all\" or a list of feature ids")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawFeatures, E> {
                Ok(RawFeatures::All(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawFeatures, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element()? {
                    ids.push(id);
                }
                Ok(RawFeatures::List(ids))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `catalog = "m365.toml"`, or a list to compose:
/// `catalog = ["configmgr", "m365.toml"]`.
enum RawCatalogs {
    One(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawCatalogs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawCatalogs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a catalog (a file or an embedded catalog's id) or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawCatalogs, E> {
                Ok(RawCatalogs::One(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawCatalogs, A::Error> {
                let mut all = Vec::new();
                while let Some(c) = seq.next_element()? {
                    all.push(c);
                }
                Ok(RawCatalogs::List(all))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum RawCloud {
    Public,
    Usgov,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxyClient {
    user: Option<Spanned<String>>,
    password_hash: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: Option<Spanned<String>>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    #[serde(default)]
    addresses: Vec<Spanned<String>>,
}

/// The lowest and highest ConfigMgr version numbers (`YYMM`) accepted.
const VERSIONS: std::ops::RangeInclusive<u32> = 1511..=9912;

/// Loads a profile and checks everything that does not need the catalog.
pub fn load(original: &SourceFile) -> Result<Profile, FileProblems> {
    // Messages quote the lines around a problem: they, and the profile
    // (whose text later checks quote), get the text with its secrets masked.
    let file = &SourceFile::new(original.name.clone(), mask_secrets(&original.text));
    let mut root = tomlfile::parse(original).map_err(|e| FileProblems {
        file: file.clone(),
        problems: e.problems,
    })?;
    let mut problems = Problems::of_format("docs/profile-format.md");
    // Tables within the profile, each read on its own so that one problem
    // does not hide the next.
    let mut take = |key: &str| {
        let key = root.keys().find(|k| k.get_ref() == key).cloned();
        key.and_then(|k| root.remove(&k))
    };
    let raw_servers: Vec<Spanned<RawServer>> = match take("server") {
        Some(v) => tomlfile::array_of_tables("server", v, &mut problems)
            .into_iter()
            .filter_map(|t| tomlfile::deserialize_table(t, &mut problems))
            .collect(),
        None => Vec::new(),
    };
    let raw_clients: Vec<Spanned<RawProxyClient>> = match take("proxy_client") {
        Some(v) => tomlfile::array_of_tables("proxy_client", v, &mut problems)
            .into_iter()
            .filter_map(|t| tomlfile::deserialize_table(t, &mut problems))
            .collect(),
        None => Vec::new(),
    };
    let wsus = take("wsus_ports")
        .and_then(|v| tomlfile::deserialize_table::<RawWsusPorts>(v, &mut problems));
    let proxy =
        take("proxy").and_then(|v| tomlfile::deserialize_table::<RawProxy>(v, &mut problems));
    let whole = Spanned::new(0..file.text.len(), toml::de::DeValue::Table(root));
    let Some(raw) = tomlfile::deserialize_table::<RawProfile>(whole, &mut problems) else {
        return Err(problems_or(file, problems));
    };
    let raw = raw.into_inner();

    if let Some(v) = &raw.version
        && !VERSIONS.contains(v.get_ref())
    {
        problems.push(
            Problem::new(
                v.span(),
                format!(
                    "version {} is not a Configuration Manager version",
                    v.get_ref()
                ),
            )
            .with_help("write the version as YYMM, like 2403"),
        );
    }
    let as_of = raw
        .as_of
        .as_ref()
        .and_then(|d| crate::catalog::to_date(d, "as_of", &mut problems));
    let features = match raw.features.map(Located::from) {
        None => None,
        Some(Located {
            value: RawFeatures::All(word),
            span,
        }) => {
            if word != "all" {
                problems.push(
                    Problem::new(
                        span,
                        format!(
                            "`features` is `\"{word}\"`; expected \"all\" or a list of feature ids"
                        ),
                    )
                    .with_help("write `features = \"all\"` or `features = [\"software-updates\"]`"),
                );
            }
            None
        }
        Some(Located {
            value: RawFeatures::List(list),
            ..
        }) => Some(list.into_iter().map(Located::from).collect()),
    };
    let mut servers = Vec::new();
    for s in raw_servers {
        let table = s.span();
        let s = s.into_inner();
        let name = problems.require(s.name, &table, "this `[[server]]`", "name");
        let name = name.and_then(|name| match Host::parse(name.get_ref()) {
            Ok(h) => Some(h),
            Err(e) => {
                problems.push(Problem::new(
                    name.span(),
                    format!("invalid server name `{}`: {e}", name.get_ref()),
                ));
                None
            }
        });
        let mut addresses = Vec::new();
        for a in &s.addresses {
            match AddressRange::parse(a.get_ref()) {
                Ok(range) => addresses.push(range),
                Err(e) => problems.push(
                    Problem::new(a.span(), e)
                        .with_help("write an address or a range, like 10.0.0.5 or 10.1.0.0/16"),
                ),
            }
        }
        if let Some(name) = name {
            servers.push(Server {
                name,
                roles: s.roles.into_iter().map(Located::from).collect(),
                addresses,
            });
        }
    }
    let mut proxy_clients: Vec<ProxyClient> = Vec::new();
    for c in raw_clients {
        let table = c.span();
        let c = c.into_inner();
        let what = "this `[[proxy_client]]`";
        let user = problems.require(c.user, &table, what, "user");
        let hash = problems.require(c.password_hash, &table, what, "password_hash");
        if let Some(user) = &user
            && (user.get_ref().is_empty()
                || user
                    .get_ref()
                    .chars()
                    .any(|c| c == ':' || c.is_whitespace() || c.is_control()))
        {
            problems.push(
                Problem::new(user.span(), "a user name is not empty, and has no `:`, space or control character")
                    .with_help("Basic authentication sends `user:password` (a `:` would end the name), and logs write the name as one field"),
            );
        }
        if let Some(user) = &user
            && proxy_clients
                .iter()
                .any(|c| c.user.value == *user.get_ref())
        {
            problems.push(Problem::new(
                user.span(),
                format!("the user `{}` is listed twice", user.get_ref()),
            ));
        }
        if let Some(hash) = &hash
            && !is_argon2_phc(hash.get_ref())
        {
            problems.push(
                Problem::new(hash.span(), "not an argon2 password hash")
                    .with_help("write the PHC string `$argon2id$v=19$m=...,t=...,p=...$salt$hash`, as `argon2 SALT -id -e` prints it (docs/proxy.md)"),
            );
        }
        if let (Some(user), Some(hash)) = (user, hash) {
            proxy_clients.push(ProxyClient {
                user: Located::from(user),
                password_hash: Located::from(hash),
            });
        }
    }
    let mut wsus_ports = WsusPorts::default();
    if let Some(w) = &wsus {
        let w = w.get_ref();
        for (given, port) in [
            (&w.http, &mut wsus_ports.http),
            (&w.https, &mut wsus_ports.https),
        ] {
            match given {
                Some(p) if *p.get_ref() == 0 => problems.push(
                    Problem::new(p.span(), "a port must be 1 to 65535")
                        .with_help("WSUS listens on 8530 and 8531, or on 80 and 443"),
                ),
                Some(p) => *port = *p.get_ref(),
                None => {}
            }
        }
    }
    let profile = Profile {
        file: file.clone(),
        catalog: match raw.catalog {
            None => Vec::new(),
            Some(c) => {
                let span = c.span();
                match c.into_inner() {
                    RawCatalogs::One(value) => vec![Located { value, span }],
                    RawCatalogs::List(all) => all.into_iter().map(Located::from).collect(),
                }
            }
        },
        revision: raw.revision.map(Located::from),
        cloud: raw.cloud.map(|c| match c {
            RawCloud::Public => Cloud::Public,
            RawCloud::Usgov => Cloud::UsGov,
        }),
        version: raw.version.map(Spanned::into_inner),
        as_of,
        features,
        roles: raw.roles.into_iter().map(Located::from).collect(),
        placeholders: raw
            .placeholders
            .into_iter()
            .map(|(k, v)| (k.into_inner(), Located::from(v)))
            .collect(),
        servers,
        proxy_clients,
        placeholders_policy: raw.placeholders_policy,
        exclude_features: raw
            .exclude_features
            .into_iter()
            .map(Located::from)
            .collect(),
        exclude_endpoints: raw
            .exclude_endpoints
            .into_iter()
            .map(Located::from)
            .collect(),
        wsus_ports,
        proxy: proxy.map(Spanned::into_inner).map(|p| ProxySettings {
            url: p.url.map(Located::from),
            user: p.user.map(Located::from),
            password: p.password.map(Located::from),
            no_proxy: p.no_proxy.into_iter().map(Located::from).collect(),
        }),
    };
    problems.into_result(file, profile)
}

/// The text with its secrets, the values of `password` keys and a URL's
/// user information, replaced by `*` byte for byte (so that every span
/// stays valid).
fn mask_secrets(text: &str) -> String {
    let mut masked = text.as_bytes().to_vec();
    // Line ends stay, so that lines and columns do too.
    let mut mask = |range: std::ops::Range<usize>| {
        for b in &mut masked[range] {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    };
    // `scheme://user:password@host`: up to the last `@` before the URL ends.
    let mut from = 0;
    while let Some(at) = text[from..].find("://") {
        let start = from + at + 3;
        let end = text[start..]
            .find(|c: char| c == '"' || c == '\'' || c.is_whitespace())
            .map_or(text.len(), |e| start + e);
        if let Some(user_end) = text[start..end].rfind('@') {
            mask(start..start + user_end);
        }
        from = end;
    }
    // `password = "..."` (or '...'), as a table's key or an inline table's.
    let mut from = 0;
    while let Some(at) = text[from..].find("password") {
        let key_end = from + at + "password".len();
        from = key_end;
        // `password_hash` too: a hash is for cracking offline.
        let rest = &text[key_end..];
        let rest = rest.strip_prefix("_hash").unwrap_or(rest);
        let after_key = rest
            .trim_start_matches(['"', '\''])
            .trim_start_matches([' ', '\t']);
        let Some(value) = after_key.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start_matches([' ', '\t']);
        let start = text.len() - value.len();
        let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let delimiter = if value.starts_with(&quote.to_string().repeat(3)) {
            quote.to_string().repeat(3)
        } else {
            quote.to_string()
        };
        let body = start + delimiter.len();
        let mut end = body;
        while end < text.len() && !text[end..].starts_with(&delimiter) {
            // A basic string's escape: the next character is part of it.
            end += if quote == '"' && text[end..].starts_with('\\') {
                2
            } else {
                1
            };
        }
        mask(body..end.min(text.len()));
        from = end.min(text.len());
    }
    String::from_utf8(masked).unwrap_or_else(|_| "*".repeat(text.len()))
}

/// Whether `text` has the shape of an argon2 PHC string: its algorithm,
/// then `$`-separated parameter, salt and hash fields (their values are
/// the verifier's to judge).
fn is_argon2_phc(text: &str) -> bool {
    let mut fields = text.split('$');
    fields.next() == Some("")
        && matches!(fields.next(), Some("argon2id" | "argon2i" | "argon2d"))
        && fields.clone().count() >= 3
        && fields.all(|f| !f.is_empty())
}

/// The problems found, which cannot be none when deserialization failed.
fn problems_or(file: &SourceFile, problems: Problems) -> FileProblems {
    match problems.into_result(file, ()) {
        Err(e) => e,
        Ok(()) => FileProblems {
            file: file.clone(),
            problems: vec![Problem::new(0..0, "the profile could not be read")],
        },
    }
}

impl Profile {
    /// Checks the profile's ids and placeholder values against a catalog:
    /// every feature, role and placeholder it names must exist there, and
    /// every value must be valid for its placeholder.
    pub fn check(&self, catalog: &Catalog) -> Result<(), FileProblems> {
        let mut problems = Problems::of_format("docs/profile-format.md");
        let feature_ids: Vec<&str> = catalog.features.iter().map(|f| f.id.as_str()).collect();
        let role_ids: Vec<&str> = catalog.roles.iter().map(|r| r.id.as_str()).collect();
        // `catalog:feature` names a composed catalog's feature.
        for f in self.features.iter().flatten() {
            if catalog.feature_id(&f.value).is_none() {
                problems.push(unknown(
                    "feature",
                    f,
                    &feature_ids,
                    "egress catalog features",
                ));
            }
        }
        for f in &self.exclude_features {
            if catalog.feature_id(&f.value).is_none() {
                problems.push(unknown(
                    "feature",
                    f,
                    &feature_ids,
                    "egress catalog features",
                ));
            }
        }
        // Endpoints and networks (IP ranges) are left out by id alike.
        let endpoint_ids: Vec<&str> = catalog
            .endpoints
            .iter()
            .map(|e| e.id.as_str())
            .chain(catalog.networks.iter().map(|n| n.id.as_str()))
            .collect();
        for e in &self.exclude_endpoints {
            if !endpoint_ids.contains(&e.value.as_str()) {
                problems.push(unknown(
                    "endpoint",
                    e,
                    &endpoint_ids,
                    "egress catalog list --format json",
                ));
            }
        }
        let server_roles = self.servers.iter().flat_map(|s| &s.roles);
        for r in self.roles.iter().chain(server_roles) {
            if !role_ids.contains(&r.value.as_str()) {
                problems.push(unknown("role", r, &role_ids, "egress catalog roles"));
            }
        }
        let names: Vec<&str> = catalog
            .placeholders
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        for (name, value) in &self.placeholders {
            let Some(placeholder) = catalog.placeholder(name) else {
                let located = Located {
                    value: name.clone(),
                    span: value.span.clone(),
                };
                problems.push(unknown(
                    "placeholder",
                    &located,
                    &names,
                    "egress catalog placeholders",
                ));
                continue;
            };
            let valid = match placeholder.kind {
                PlaceholderKind::Label => HostPattern::parse(&value.value)
                    .map_err(|e| e.to_string())
                    .and_then(|p| {
                        if p.as_str().contains('.') || p.is_wildcard() {
                            Err("expected a single DNS label, without dots".to_owned())
                        } else {
                            Ok(())
                        }
                    }),
                PlaceholderKind::Host => Host::parse(&value.value)
                    .map(drop)
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = valid {
                let mut problem = Problem::new(
                    value.span.clone(),
                    format!(
                        "invalid value `{}` for placeholders.{name}: {e}",
                        value.value
                    ),
                );
                if let Some(example) = &placeholder.example {
                    problem = problem
                        .with_help(format!("{}, for example `{example}`", placeholder.title));
                }
                problems.push(problem);
            }
        }
        problems.into_result(&self.file, ())
    }

    pub fn placeholder(&self, name: &str) -> Option<&str> {
        self.placeholders.get(name).map(|v| v.value.as_str())
    }
}

fn unknown(what: &str, id: &Located<String>, known: &[&str], command: &str) -> Problem {
    let problem = Problem::new(id.span.clone(), format!("unknown {what} `{}`", id.value));
    match did_you_mean(&id.value, known.iter().copied()) {
        Some(k) => problem.with_help(format!("did you mean `{k}`?")),
        None => problem.with_help(format!("`{command}` lists them")),
    }
}

/// A commented example profile, as `egress profile init` writes it.
pub const EXAMPLE: &str = include_str!("profile/example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<&str, &str>) {
        let got = AddressRange::parse(text).map(|r| r.to_string());
        assert_eq!(got.as_deref().map_err(String::as_str), expected, "{text}");
    }

    #[test]
    fn address_ranges() {
        check("10.0.0.5", Ok("10.0.0.5"));
        check("10.1.0.0/16", Ok("10.1.0.0/16"));
        check("10.0.0.5/32", Ok("10.0.0.5"));
        check("0.0.0.0/0", Ok("0.0.0.0/0"));
        check("fd00::/8", Ok("fd00::/8"));
        check(
            "10.1.2.3/16",
            Err("`10.1.2.3/16` has host bits set; the range is 10.1.0.0/16"),
        );
        check(
            "10.0.0.0/33",
            Err("`10.0.0.0/33`: the prefix length must be 0 to 32"),
        );
        check(
            "fd00::/129",
            Err("`fd00::/129`: the prefix length must be 0 to 128"),
        );
        check("server", Err("`server` is not an IP address or range"));
        let r = AddressRange::parse("10.1.0.0/16").unwrap();
        assert!(r.contains("10.1.200.3".parse().unwrap()));
        assert!(!r.contains("10.2.0.1".parse().unwrap()));
        assert!(!r.contains("::1".parse().unwrap()));
        assert!(
            AddressRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}

#[cfg(test)]
mod secret_tests {
    use super::mask_secrets;

    #[track_caller]
    fn check(text: &str, expected: &str) {
        let masked = mask_secrets(text);
        assert_eq!(masked, expected);
        assert_eq!(masked.len(), text.len(), "spans stay valid");
    }

    #[test]
    fn secrets_are_masked_byte_for_byte() {
        check("password = \"pw\"\n", "password = \"**\"\n");
        check("password='p\"w'\n", "password='***'\n");
        check(
            "proxy = { url = \"http://a:b@h:1\", password = \"x\\\"y\" }",
            "proxy = { url = \"http://***@h:1\", password = \"****\" }",
        );
        check(
            "\"password\" = \"\"\"multi\nline\"\"\"",
            "\"password\" = \"\"\"*****\n****\"\"\"",
        );
        // Neither a password key nor user information: unchanged.
        check(
            "user = \"password\"\nurl = \"http://h:1\"\n",
            "user = \"password\"\nurl = \"http://h:1\"\n",
        );
    }
}
