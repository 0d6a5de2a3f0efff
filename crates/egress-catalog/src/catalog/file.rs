//! The catalog file format (TOML, `docs/catalog-format.md`): serde types
//! for the file, and their checked conversion into the domain types.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use egress_pattern::HostPattern;
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::template::{HostTemplate, TemplateError};
use super::*;
use crate::diagnostic::{FileProblems, Problem, Problems, SourceFile, did_you_mean};
use crate::tomlfile;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: Option<Spanned<String>>,
    title: Option<String>,
    vendor: Option<String>,
    product: Option<String>,
    revision: Option<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    describes: Option<Spanned<Datetime>>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    id: Option<Spanned<String>>,
    title: Option<String>,
    url: Option<String>,
    repository: Option<String>,
    path: Option<String>,
    commit: Option<String>,
    date: Option<Spanned<Datetime>>,
    language: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeature {
    id: Option<Spanned<String>>,
    title: Option<String>,
    page: Option<Spanned<String>>,
    section: Option<String>,
    anchor: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    external: Vec<Spanned<RawExternal>>,
    since_version: Option<Spanned<u32>>,
    until_version: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExternal {
    title: Option<String>,
    url: Option<String>,
    feature: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    id: Option<Spanned<String>>,
    title: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaceholder {
    name: Option<Spanned<String>>,
    title: Option<String>,
    kind: Option<RawPlaceholderKind>,
    #[serde(default)]
    as_written: Vec<String>,
    example: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum RawPlaceholderKind {
    Label,
    Host,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    id: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    features: Option<Spanned<Vec<Spanned<String>>>>,
    section: Option<String>,
    roles: Option<Spanned<Vec<Spanned<String>>>>,
    schemes: Option<Spanned<Vec<RawScheme>>>,
    ports: Option<Spanned<Vec<u16>>>,
    site_ports: Option<Spanned<RawSitePorts>>,
    #[serde(default)]
    assumed: Vec<Spanned<RawAttrName>>,
    #[serde(default)]
    cloud: RawCloudScope,
    #[serde(default)]
    direction: RawDirection,
    since_version: Option<Spanned<u32>>,
    until_version: Option<Spanned<u32>>,
    valid_from: Option<Spanned<Datetime>>,
    valid_until: Option<Spanned<Datetime>>,
    superseded_by: Option<Spanned<String>>,
    superseded_from: Option<Spanned<Datetime>>,
    alternatives: Option<String>,
    #[serde(default)]
    tls_versions: Vec<RawTls>,
    min_proxy_idle_timeout_secs: Option<u32>,
    #[serde(default)]
    notes: Vec<String>,
    /// `false`: the feature works without it, degraded.
    #[serde(default = "yes")]
    required: bool,
    /// What the source says of it beyond egress's fields (the Microsoft
    /// 365 web service's `category`, `expressRoute`).
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, String>,
    probe: Option<RawProbe>,
    source: Option<Spanned<RawSource>>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum RawScheme {
    Http,
    Https,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum RawSitePorts {
    Wsus,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum RawAttrName {
    Roles,
    Schemes,
    Ports,
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "kebab-case")]
enum RawCloudScope {
    #[default]
    All,
    Public,
    Usgov,
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "kebab-case")]
enum RawDirection {
    #[default]
    Internet,
    Intranet,
}

#[derive(Deserialize, Clone, Copy)]
enum RawTls {
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

/// `[[network]]`: IP ranges a feature needs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    id: Option<Spanned<String>>,
    features: Option<Spanned<Vec<Spanned<String>>>>,
    addresses: Option<Spanned<Vec<Spanned<String>>>>,
    tcp_ports: Option<Spanned<String>>,
    udp_ports: Option<Spanned<String>>,
    #[serde(default = "yes")]
    required: bool,
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    notes: Vec<String>,
    source: Option<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    path: Option<String>,
    #[serde(default)]
    reachable_status: Vec<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    page: Option<Spanned<String>>,
    line: Option<u32>,
    text: Option<String>,
}

const TOP_LEVEL: &[&str] = &[
    "catalog",
    "page",
    "feature",
    "role",
    "placeholder",
    "endpoint",
    "network",
];

/// Loads and checks a catalog. Every problem in the file is reported, with
/// its place; a file with any problem yields no catalog.
pub fn load(file: &SourceFile) -> Result<Catalog, FileProblems> {
    let root = tomlfile::parse(file)?;
    let mut problems = Problems::default();
    let mut top = tomlfile::top_level(root, TOP_LEVEL, &mut problems);

    let meta = match top.remove("catalog") {
        Some(value) => tomlfile::deserialize_table::<RawMeta>(value, &mut problems),
        None => {
            problems.push(
                Problem::new(0..0, "the file has no `[catalog]` table")
                    .with_help("start the file with `[catalog]` and its id, title, vendor, product, revision and describes keys"),
            );
            None
        }
    };
    let mut take = |key: &'static str, problems: &mut Problems| match top.remove(key) {
        Some(value) => tomlfile::array_of_tables(key, value, problems),
        None => Vec::new(),
    };
    let pages: Vec<Spanned<RawPage>> = each(take("page", &mut problems), &mut problems);
    let features: Vec<Spanned<RawFeature>> = each(take("feature", &mut problems), &mut problems);
    let roles: Vec<Spanned<RawRole>> = each(take("role", &mut problems), &mut problems);
    let placeholders: Vec<Spanned<RawPlaceholder>> =
        each(take("placeholder", &mut problems), &mut problems);
    let endpoints: Vec<Spanned<RawEndpoint>> = each(take("endpoint", &mut problems), &mut problems);
    let networks: Vec<Spanned<RawNetwork>> = each(take("network", &mut problems), &mut problems);

    // With an entry that could not be read at all, which features it named
    // is unknown: the "feature has no endpoints" check would only add noise.
    let all_entries_read = problems.is_empty();
    let mut checker = Checker {
        problems,
        page_ids: BTreeSet::new(),
        feature_ids: BTreeMap::new(),
        role_ids: BTreeSet::new(),
        placeholder_kinds: BTreeMap::new(),
    };
    let meta = meta.and_then(|m| checker.meta(m));
    let pages = pages.into_iter().filter_map(|p| checker.page(p)).collect();
    let features: Vec<Feature> = features
        .into_iter()
        .filter_map(|f| checker.feature(f))
        .collect();
    let roles = checker.roles(roles);
    let placeholders = placeholders
        .into_iter()
        .filter_map(|p| checker.placeholder(p))
        .collect();
    // Features named by any endpoint, even one with problems of its own, so
    // that one bad endpoint does not also make its feature look empty.
    let referenced: BTreeSet<String> = endpoints
        .iter()
        .filter_map(|e| e.get_ref().features.as_ref())
        .chain(
            networks
                .iter()
                .filter_map(|n| n.get_ref().features.as_ref()),
        )
        .flat_map(|features| features.get_ref().iter().map(|f| f.get_ref().clone()))
        .collect();
    let endpoints = checker.endpoints(endpoints);
    let networks = checker.networks(networks, &endpoints);
    if all_entries_read {
        checker.features_have_content(&features, &referenced);
    }

    let problems = checker.problems;
    let Some(meta) = meta else {
        // A missing or broken `[catalog]` table is already reported.
        return Err(problems_or_fallback(file, problems));
    };
    problems.into_result(
        file,
        Catalog {
            meta,
            pages,
            features,
            roles,
            placeholders,
            endpoints,
            networks,
        },
    )
}

/// A profile's `[[replace]]`: a catalog endpoint and its site's destination.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplace {
    endpoint: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

/// What a site adds to and corrects in a catalog: a profile's
/// `[[endpoint]]` tables (the catalog's endpoint format, checked by the
/// same rules against `base`) and `[[replace]]` tables (a catalog endpoint
/// id and its `host` or `url` for this site).
#[derive(Debug, Clone, Default)]
pub struct SiteTables {
    pub endpoints: Vec<Endpoint>,
    pub replacements: Vec<(String, Destination)>,
}

impl SiteTables {
    /// `base` with the site's endpoints added and its replacements made.
    pub fn apply(&self, base: &Catalog) -> Catalog {
        let mut catalog = base.clone();
        for (id, destination) in &self.replacements {
            if let Some(e) = catalog.endpoints.iter_mut().find(|e| &e.id == id) {
                e.origin = Origin::Replaced {
                    original: e.destination.to_string(),
                };
                e.destination = destination.clone();
            }
        }
        catalog.endpoints.extend(self.endpoints.iter().cloned());
        catalog
    }
}

/// Reads a profile's `[[endpoint]]` and `[[replace]]` tables against the
/// catalog they add to: every problem, with its position in the profile.
pub fn site_tables(file: &SourceFile, base: &Catalog) -> Result<SiteTables, FileProblems> {
    let root = tomlfile::parse(file)?;
    let mut problems = Problems::default();
    let (mut endpoints, mut replace) = (Vec::new(), Vec::new());
    // The profile's loader checks its other keys.
    for (key, value) in root {
        match key.get_ref().as_ref() {
            "endpoint" => endpoints = tomlfile::array_of_tables("endpoint", value, &mut problems),
            "replace" => replace = tomlfile::array_of_tables("replace", value, &mut problems),
            _ => {}
        }
    }
    let endpoints: Vec<Spanned<RawEndpoint>> = each(endpoints, &mut problems);
    let replace: Vec<Spanned<RawReplace>> = each(replace, &mut problems);
    let mut checker = Checker {
        problems,
        page_ids: base.pages.iter().map(|p| p.id.clone()).collect(),
        feature_ids: base.features.iter().map(|f| (f.id.clone(), 0..0)).collect(),
        role_ids: base.roles.iter().map(|r| r.id.clone()).collect(),
        placeholder_kinds: base
            .placeholders
            .iter()
            .map(|p| (p.name.clone(), p.kind))
            .collect(),
    };
    let base_ids: BTreeSet<String> = base.endpoints.iter().map(|e| e.id.clone()).collect();
    let ids: BTreeSet<String> = base_ids
        .iter()
        .cloned()
        .chain(
            endpoints
                .iter()
                .filter_map(|e| Some(e.get_ref().id.as_ref()?.get_ref().clone())),
        )
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = SiteTables::default();
    for raw in endpoints {
        let id = raw.get_ref().id.clone();
        let id_ok = id.as_ref().is_some_and(|id| {
            let fresh = checker.id("endpoint", id, &mut seen);
            if base_ids.contains(id.get_ref()) {
                checker.problems.push(
                    Problem::new(id.span(), format!("endpoint `{}` is the catalog's", id.get_ref()))
                        .with_help("give a site endpoint an id of its own, or correct the catalog's with [[replace]]"),
                );
            }
            fresh
        });
        let span = id.map_or(raw.span(), |id| id.span());
        if let Some(mut e) = checker.endpoint(raw, &ids) {
            if let Some(twin) = base.endpoints.iter().find(|b| {
                b.destination.to_string() == e.destination.to_string()
                    && b.features.iter().any(|f| e.features.contains(f))
            }) {
                checker.problems.push(
                    Problem::new(
                        span,
                        format!(
                            "endpoint `{}` duplicates the catalog's `{}` ({})",
                            e.id, twin.id, twin.destination
                        ),
                    )
                    .with_help("leave it out: the catalog already has it"),
                );
            } else if id_ok {
                e.origin = Origin::Site;
                out.endpoints.push(e);
            }
        }
    }
    let known: Vec<&str> = base.endpoints.iter().map(|e| e.id.as_str()).collect();
    for r in replace {
        let table = r.span();
        let r = r.into_inner();
        let Some(endpoint) =
            checker
                .problems
                .require(r.endpoint, &table, "this `[[replace]]`", "endpoint")
        else {
            continue;
        };
        if !base_ids.contains(endpoint.get_ref()) {
            checker.unknown(
                "endpoint",
                &endpoint,
                known.clone(),
                "name a catalog endpoint's id (`egress catalog list --format json`)",
            );
        }
        let destination = match (&r.host, &r.url) {
            (Some(host), None) => checker
                .template(host, inner(&host.span()))
                .map(Destination::Host),
            (None, Some(url)) => checker.url(url).map(Destination::Url),
            _ => {
                checker.problems.push(
                    Problem::new(
                        endpoint.span(),
                        "a [[replace]] gives a `host` or a `url`, one of the two",
                    )
                    .with_help("add `host = \"graph.microsoft.us\"` or `url = \"https://...\"`"),
                );
                None
            }
        };
        if let Some(d) = destination {
            out.replacements.push((endpoint.into_inner(), d));
        }
    }
    checker.problems.into_result(file, out)
}

fn problems_or_fallback(file: &SourceFile, problems: Problems) -> FileProblems {
    match problems.into_result(file, ()) {
        Err(e) => e,
        Ok(()) => FileProblems {
            file: file.clone(),
            problems: vec![Problem::new(0..0, "the `[catalog]` table is invalid")],
        },
    }
}

/// The tables of an array of tables, each with its place.
fn each<T: serde::de::DeserializeOwned>(
    values: Vec<tomlfile::Value<'_>>,
    problems: &mut Problems,
) -> Vec<Spanned<T>> {
    values
        .into_iter()
        .filter_map(|v| tomlfile::deserialize_table(v, problems))
        .collect()
}

/// Inner span of a quoted string value (without the quotes), for positions
/// within it.
fn inner(span: &Range<usize>) -> usize {
    span.start + 1
}

/// A TOML date as a civil date; `key` names it in the help.
pub(crate) fn to_date(
    value: &Spanned<Datetime>,
    key: &str,
    problems: &mut Problems,
) -> Option<Date> {
    let dt = value.get_ref();
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => match Date::new(d.year as i16, d.month as i8, d.day as i8) {
            Ok(date) => Some(date),
            Err(e) => {
                problems.push(Problem::new(value.span(), format!("invalid date: {e}")));
                None
            }
        },
        _ => {
            problems.push(
                Problem::new(
                    value.span(),
                    "expected a date without a time, like 2021-03-02",
                )
                .with_help(format!("write the date unquoted: `{key} = 2021-03-02`")),
            );
            None
        }
    }
}

/// Whether the endpoint marks its value of `name` as assumed.
fn basis(raw: &RawEndpoint, name: RawAttrName) -> Basis {
    if raw.assumed.iter().any(|a| *a.get_ref() == name) {
        Basis::Assumed
    } else {
        Basis::Stated
    }
}

fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

struct Checker {
    problems: Problems,
    page_ids: BTreeSet<String>,
    /// Feature ids, with whether an endpoint or external list uses them.
    feature_ids: BTreeMap<String, Range<usize>>,
    role_ids: BTreeSet<String>,
    placeholder_kinds: BTreeMap<String, PlaceholderKind>,
}

impl Checker {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(Problem::new(span, message));
    }

    /// Checks an id's syntax and uniqueness among `seen`.
    fn id(&mut self, what: &str, id: &Spanned<String>, seen: &mut BTreeSet<String>) -> bool {
        if !is_id(id.get_ref()) {
            self.problems.push(
                Problem::new(
                    id.span(),
                    format!("{what} id `{}` is not kebab-case", id.get_ref()),
                )
                .with_help(
                    "use lowercase letters, digits and single hyphens, like `cloud-services`",
                ),
            );
            return false;
        }
        if !seen.insert(id.get_ref().clone()) {
            self.problems.push(
                Problem::new(id.span(), format!("duplicate {what} id `{}`", id.get_ref()))
                    .with_help(format!("every {what} needs its own id")),
            );
            return false;
        }
        true
    }

    fn unknown(&mut self, what: &str, id: &Spanned<String>, known: Vec<&str>, hint: &str) {
        let mut problem = Problem::new(id.span(), format!("unknown {what} `{}`", id.get_ref()));
        problem = match did_you_mean(id.get_ref(), known) {
            Some(k) => problem.with_help(format!("did you mean `{k}`?")),
            None => problem.with_help(hint.to_owned()),
        };
        self.problems.push(problem);
    }

    fn meta(&mut self, raw: Spanned<RawMeta>) -> Option<Meta> {
        let table = raw.span();
        let raw = raw.into_inner();
        let what = "the `[catalog]` table";
        let p = &mut self.problems;
        let id = p.require(raw.id, &table, what, "id");
        let title = p.require(raw.title, &table, what, "title");
        let vendor = p.require(raw.vendor, &table, what, "vendor");
        let product = p.require(raw.product, &table, what, "product");
        let revision = p.require(raw.revision, &table, what, "revision");
        let describes = p.require(raw.describes, &table, what, "describes");
        let describes = describes.and_then(|d| to_date(&d, "describes", &mut self.problems));
        if let Some(id) = &id
            && !is_id(id.get_ref())
        {
            self.problem(id.span(), "catalog id must be kebab-case, like `configmgr`");
        }
        if let Some(revision) = &revision
            && revision.get_ref().trim().is_empty()
        {
            self.problem(revision.span(), "the revision id is empty");
        }
        let mut names: BTreeSet<String> = revision.iter().map(|r| r.get_ref().clone()).collect();
        for alias in &raw.aliases {
            if !names.insert(alias.get_ref().clone()) {
                self.problem(
                    alias.span(),
                    format!("`{}` is named twice as revision or alias", alias.get_ref()),
                );
            }
        }
        Some(Meta {
            id: id?.into_inner(),
            title: title?,
            vendor: vendor?,
            product: product?,
            revision: revision?.into_inner(),
            aliases: raw.aliases.into_iter().map(Spanned::into_inner).collect(),
            describes: describes?,
            notes: raw.notes,
            composed: Vec::new(),
        })
    }

    fn page(&mut self, raw: Spanned<RawPage>) -> Option<Page> {
        let table = raw.span();
        let raw = raw.into_inner();
        let what = "this `[[page]]`";
        let id = self.problems.require(raw.id, &table, what, "id");
        let title = self.problems.require(raw.title, &table, what, "title");
        let language = self
            .problems
            .require(raw.language, &table, what, "language");
        let mut seen = std::mem::take(&mut self.page_ids);
        let ok = id.as_ref().is_some_and(|id| self.id("page", id, &mut seen));
        self.page_ids = seen;
        let date = match &raw.date {
            Some(d) => Some(to_date(d, "date", &mut self.problems)?),
            None => None,
        };
        ok.then_some(())?;
        Some(Page {
            id: id?.into_inner(),
            title: title?,
            url: raw.url,
            repository: raw.repository,
            path: raw.path,
            commit: raw.commit,
            date,
            language: language?,
        })
    }

    fn page_ref(&mut self, page: &Spanned<String>) {
        if !self.page_ids.contains(page.get_ref()) {
            let known: Vec<String> = self.page_ids.iter().cloned().collect();
            self.unknown(
                "page",
                page,
                known.iter().map(String::as_str).collect(),
                "declare the page in a `[[page]]` table",
            );
        }
    }

    fn versions(
        &mut self,
        since: Option<Spanned<u32>>,
        until: Option<Spanned<u32>>,
    ) -> VersionRange {
        if let (Some(s), Some(u)) = (&since, &until)
            && s.get_ref() > u.get_ref()
        {
            self.problem(
                u.span(),
                format!(
                    "until_version {} is before since_version {}",
                    u.get_ref(),
                    s.get_ref()
                ),
            );
        }
        VersionRange {
            since: since.map(Spanned::into_inner),
            until: until.map(Spanned::into_inner),
        }
    }

    fn feature(&mut self, raw: Spanned<RawFeature>) -> Option<Feature> {
        let table = raw.span();
        let raw = raw.into_inner();
        let what = "this `[[feature]]`";
        let id = self.problems.require(raw.id, &table, what, "id");
        let title = self.problems.require(raw.title, &table, what, "title");
        let page = self.problems.require(raw.page, &table, what, "page");
        let section = self.problems.require(raw.section, &table, what, "section");
        let mut seen: BTreeSet<String> = self.feature_ids.keys().cloned().collect();
        let ok = id
            .as_ref()
            .is_some_and(|id| self.id("feature", id, &mut seen));
        if let Some(page) = &page {
            self.page_ref(page);
        }
        if let Some(id) = id.as_ref().filter(|_| ok) {
            self.feature_ids.insert(id.get_ref().clone(), id.span());
        }
        let mut external = Vec::new();
        for e in raw.external {
            let table = e.span();
            let e = e.into_inner();
            let what = "this `external` list";
            let title = self.problems.require(e.title, &table, what, "title");
            let url = self.problems.require(e.url, &table, what, "url");
            if let (Some(title), Some(url)) = (title, url) {
                external.push(ExternalList {
                    title,
                    url,
                    feature: e.feature,
                });
            }
        }
        let versions = self.versions(raw.since_version, raw.until_version);
        ok.then_some(())?;
        Some(Feature {
            id: id?.into_inner(),
            title: title?,
            page: page?.into_inner(),
            section: section?,
            anchor: raw.anchor,
            notes: raw.notes,
            external,
            versions,
        })
    }

    fn roles(&mut self, raw: Vec<Spanned<RawRole>>) -> Vec<Role> {
        let mut seen = BTreeSet::from([UNSPECIFIED_ROLE.to_owned()]);
        let mut roles = Vec::new();
        for r in raw {
            let table = r.span();
            let r = r.into_inner();
            let id = self.problems.require(r.id, &table, "this `[[role]]`", "id");
            let title = self
                .problems
                .require(r.title, &table, "this `[[role]]`", "title");
            let ok = id.as_ref().is_some_and(|id| self.id("role", id, &mut seen));
            if let (true, Some(id), Some(title)) = (ok, id, title) {
                roles.push(Role {
                    id: id.into_inner(),
                    title,
                    notes: r.notes,
                });
            }
        }
        roles.push(Role {
            id: UNSPECIFIED_ROLE.to_owned(),
            title: "Unspecified (the page names no role)".to_owned(),
            notes: vec![
                "`--role R` also selects these endpoints, since any role may need them.".to_owned(),
            ],
        });
        self.role_ids = roles.iter().map(|r| r.id.clone()).collect();
        roles
    }

    fn placeholder(&mut self, raw: Spanned<RawPlaceholder>) -> Option<Placeholder> {
        let table = raw.span();
        let raw = raw.into_inner();
        let what = "this `[[placeholder]]`";
        let name = self.problems.require(raw.name, &table, what, "name");
        let title = self.problems.require(raw.title, &table, what, "title");
        let kind = self.problems.require(raw.kind, &table, what, "kind");
        let mut seen: BTreeSet<String> = self.placeholder_kinds.keys().cloned().collect();
        let name = name.filter(|n| self.id("placeholder", n, &mut seen))?;
        let kind = match kind? {
            RawPlaceholderKind::Label => PlaceholderKind::Label,
            RawPlaceholderKind::Host => PlaceholderKind::Host,
        };
        self.placeholder_kinds.insert(name.get_ref().clone(), kind);
        Some(Placeholder {
            name: name.into_inner(),
            title: title?,
            kind,
            as_written: raw.as_written,
            example: raw.example,
        })
    }

    fn template(&mut self, text: &Spanned<String>, value_start: usize) -> Option<HostTemplate> {
        let kinds = &self.placeholder_kinds;
        match HostTemplate::parse(text.get_ref(), |name| kinds.get(name).copied()) {
            Ok(t) => Some(t),
            Err(error) => {
                let at = |offset: usize| {
                    let start = value_start + offset;
                    start..start + 1
                };
                let problem = match &error {
                    TemplateError::UnknownPlaceholder { name, offset } => {
                        let known: Vec<&str> = kinds.keys().map(String::as_str).collect();
                        let p = Problem::new(at(*offset), error.to_string());
                        match did_you_mean(name, known) {
                            Some(k) => p.with_help(format!("did you mean `<{k}>`?")),
                            None => p.with_help("declare it in a `[[placeholder]]` table"),
                        }
                    }
                    TemplateError::Unclosed { offset } => {
                        Problem::new(at(*offset), error.to_string())
                    }
                    TemplateError::Pattern { offset, .. } => Problem::new(
                        offset.map_or(text.span(), at),
                        format!("`{}`: {error}", text.get_ref()),
                    )
                    .with_help("see docs/host-patterns.md for what a host pattern may be"),
                };
                self.problems.push(problem);
                None
            }
        }
    }

    fn url(&mut self, raw: &Spanned<String>) -> Option<UrlTemplate> {
        let text = raw.get_ref();
        let start = inner(&raw.span());
        let Some((scheme_text, rest)) = text.split_once("://") else {
            self.problems.push(
                Problem::new(
                    raw.span(),
                    format!("`{text}` is not a URL: it has no `scheme://`"),
                )
                .with_help(
                    "write a bare host as `host = \"...\"`, or a URL as `https://host/path`",
                ),
            );
            return None;
        };
        let scheme = match scheme_text.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => {
                self.problem(
                    start..start + scheme_text.len(),
                    format!("unsupported scheme `{other}`; expected `http` or `https`"),
                );
                return None;
            }
        };
        // Hosts here may hold `*` and `<placeholder>`s, which URL parsers
        // reject, so the authority is split by hand: it ends at the first
        // `/`, `?` or `#`.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let authority_start = start + scheme_text.len() + 3;
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                match port.parse::<u16>() {
                    Ok(p) if p > 0 => (host, Some(p)),
                    _ => {
                        let at = authority_start + host.len() + 1;
                        self.problem(
                            at..at + port.len(),
                            format!("invalid port `{port}`; expected 1 to 65535"),
                        );
                        return None;
                    }
                }
            }
            _ => (authority, None),
        };
        let host = Spanned::new(
            authority_start..authority_start + host.len(),
            host.to_owned(),
        );
        let host = self.template(&host, authority_start)?;
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('/') => p.to_owned(),
            p => format!("/{p}"),
        };
        Some(UrlTemplate {
            scheme,
            host,
            port,
            path,
        })
    }

    fn endpoints(&mut self, raw: Vec<Spanned<RawEndpoint>>) -> Vec<Endpoint> {
        let mut seen = BTreeSet::new();
        let ids: BTreeSet<String> = raw
            .iter()
            .filter_map(|e| Some(e.get_ref().id.as_ref()?.get_ref().clone()))
            .collect();
        let mut out = Vec::new();
        for e in raw {
            let ok = (e.get_ref().id.as_ref()).is_some_and(|id| self.id("endpoint", id, &mut seen));
            if let Some(endpoint) = self.endpoint(e, &ids)
                && ok
            {
                out.push(endpoint);
            }
        }
        out
    }

    fn endpoint(&mut self, raw: Spanned<RawEndpoint>, ids: &BTreeSet<String>) -> Option<Endpoint> {
        let table = raw.span();
        let raw = raw.into_inner();
        let what = "this `[[endpoint]]`";
        self.problems.require(raw.id.as_ref(), &table, what, "id");
        self.problems
            .require(raw.features.as_ref(), &table, what, "features");
        let target = self.endpoint_target(&raw, &table);
        self.endpoint_features(&raw);
        let roles = self.endpoint_roles(&raw);
        self.assumed_given(&raw);
        let (schemes, mut ports) = self.schemes_and_ports(&raw, target.as_ref());
        let site_ports = self.site_ports(&raw, target.as_ref());
        if let Some(SitePorts::Wsus) = site_ports {
            let wsus = WsusPorts::default();
            ports = Attr {
                value: schemes.value.iter().map(|&s| wsus.port(s)).collect(),
                basis: Basis::Assumed,
            };
        }
        let valid = self.validity(&raw);
        let superseded = self.supersession(&raw, ids);
        let probe = match &raw.probe {
            Some(p) => self.probe(p, target.as_ref()),
            None => Probe::default(),
        };
        let versions = self.versions(raw.since_version, raw.until_version);
        let source = self.source(raw.source);

        Some(Endpoint {
            id: raw.id?.into_inner(),
            destination: target?,
            features: raw
                .features?
                .into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            section: raw.section,
            roles,
            schemes,
            ports,
            site_ports,
            cloud: match raw.cloud {
                RawCloudScope::All => CloudScope::All,
                RawCloudScope::Public => CloudScope::Only(Cloud::Public),
                RawCloudScope::Usgov => CloudScope::Only(Cloud::UsGov),
            },
            direction: match raw.direction {
                RawDirection::Internet => Direction::Internet,
                RawDirection::Intranet => Direction::Intranet,
            },
            versions,
            valid,
            superseded,
            alternatives: raw.alternatives,
            tls_versions: raw
                .tls_versions
                .into_iter()
                .map(|t| match t {
                    RawTls::Tls12 => TlsVersion::Tls12,
                    RawTls::Tls13 => TlsVersion::Tls13,
                })
                .collect(),
            min_proxy_idle_timeout_secs: raw.min_proxy_idle_timeout_secs,
            notes: raw.notes,
            required: raw.required,
            attributes: raw.attributes,
            probe,
            source,
            origin: Origin::Catalog,
        })
    }

    /// The endpoint's `host` or `url`: exactly one.
    fn endpoint_target(&mut self, raw: &RawEndpoint, table: &Range<usize>) -> Option<Destination> {
        match (&raw.host, &raw.url) {
            (Some(host), None) => self
                .template(host, inner(&host.span()))
                .map(Destination::Host),
            (None, Some(url)) => self.url(url).map(Destination::Url),
            (Some(_), Some(url)) => {
                self.problems.push(
                    Problem::new(url.span(), "an endpoint has a `host` or a `url`, not both")
                        .with_help("keep the `url` when the page gives a scheme or path"),
                );
                None
            }
            (None, None)
                if self.problems.given_but_unreadable(table, "host")
                    || self.problems.given_but_unreadable(table, "url") =>
            {
                None
            }
            (None, None) => {
                let (at, message) = match &raw.id {
                    Some(id) => (
                        id.span(),
                        format!("endpoint `{}` has neither `host` nor `url`", id.get_ref()),
                    ),
                    None => (
                        table.clone(),
                        "this endpoint has neither `host` nor `url`".to_owned(),
                    ),
                };
                self.problems.push(Problem::new(at, message).with_help(
                    "add `host = \"example.com\"` or `url = \"https://example.com/path\"`",
                ));
                None
            }
        }
    }

    /// At least one feature, each declared.
    fn endpoint_features(&mut self, raw: &RawEndpoint) {
        self.features_named(raw.features.as_ref());
    }

    /// An endpoint's or network's `features`: at least one, each declared.
    fn features_named(&mut self, features: Option<&Spanned<Vec<Spanned<String>>>>) {
        let Some(features) = features else {
            return;
        };
        if features.get_ref().is_empty() {
            self.problems.push(
                Problem::new(
                    features.span(),
                    "every endpoint belongs to at least one feature",
                )
                .with_help("name the feature ids that need this endpoint"),
            );
        }
        for feature in features.get_ref() {
            if !self.feature_ids.contains_key(feature.get_ref()) {
                let known: Vec<String> = self.feature_ids.keys().cloned().collect();
                self.unknown(
                    "feature",
                    feature,
                    known.iter().map(String::as_str).collect(),
                    "declare it in a `[[feature]]` table",
                );
            }
        }
    }

    /// The roles, each declared; none given: `unspecified`.
    fn endpoint_roles(&mut self, raw: &RawEndpoint) -> Attr<Vec<String>> {
        match &raw.roles {
            Some(roles) => {
                if roles.get_ref().is_empty() {
                    self.problem(
                        roles.span(),
                        "`roles` is empty; leave it out for `unspecified`",
                    );
                }
                for role in roles.get_ref() {
                    if !self.role_ids.contains(role.get_ref()) {
                        let known: Vec<String> = self.role_ids.iter().cloned().collect();
                        self.unknown(
                            "role",
                            role,
                            known.iter().map(String::as_str).collect(),
                            "declare it in a `[[role]]` table",
                        );
                    }
                }
                Attr {
                    value: roles
                        .get_ref()
                        .iter()
                        .map(|r| r.get_ref().clone())
                        .collect(),
                    basis: basis(raw, RawAttrName::Roles),
                }
            }
            None => Attr {
                value: vec![UNSPECIFIED_ROLE.to_owned()],
                basis: Basis::Stated,
            },
        }
    }

    /// Only values the endpoint gives may be marked assumed.
    fn assumed_given(&mut self, raw: &RawEndpoint) {
        for a in &raw.assumed {
            let given = match a.get_ref() {
                RawAttrName::Roles => raw.roles.is_some(),
                RawAttrName::Schemes => raw.schemes.is_some(),
                RawAttrName::Ports => raw.ports.is_some(),
            };
            if !given {
                self.problems.push(
                    Problem::new(a.span(), "only a value the endpoint gives can be marked assumed")
                        .with_help("an attribute left out takes its documented default, which is already assumed"),
                );
            }
        }
    }

    /// Schemes and ports: a URL's own, or the `schemes` and `ports` given,
    /// or the defaults (HTTPS on 443, assumed).
    fn schemes_and_ports(
        &mut self,
        raw: &RawEndpoint,
        target: Option<&Destination>,
    ) -> (Attr<Vec<Scheme>>, Attr<Vec<u16>>) {
        let attrs = match target {
            Some(Destination::Url(url)) => {
                if let Some(s) = &raw.schemes {
                    self.problems.push(
                        Problem::new(s.span(), "a URL endpoint takes its scheme from the URL")
                            .with_help("remove `schemes`, or list the URL once per scheme"),
                    );
                }
                if let (Some(p), Some(_)) = (&raw.ports, url.port) {
                    self.problems.push(
                        Problem::new(p.span(), "the URL already names its port")
                            .with_help("remove `ports`"),
                    );
                }
                let ports = match (&raw.ports, url.port) {
                    (Some(p), None) => Attr {
                        value: p.get_ref().clone(),
                        basis: basis(raw, RawAttrName::Ports),
                    },
                    (_, port) => Attr {
                        value: vec![port.unwrap_or(url.scheme.default_port())],
                        basis: Basis::Stated,
                    },
                };
                (
                    Attr {
                        value: vec![url.scheme],
                        basis: Basis::Stated,
                    },
                    ports,
                )
            }
            _ => {
                let schemes = match &raw.schemes {
                    Some(s) => Attr {
                        value: s
                            .get_ref()
                            .iter()
                            .map(|s| match s {
                                RawScheme::Http => Scheme::Http,
                                RawScheme::Https => Scheme::Https,
                            })
                            .collect(),
                        basis: basis(raw, RawAttrName::Schemes),
                    },
                    None => Attr {
                        value: vec![Scheme::Https],
                        basis: Basis::Assumed,
                    },
                };
                let ports = match &raw.ports {
                    Some(p) => Attr {
                        value: p.get_ref().clone(),
                        basis: basis(raw, RawAttrName::Ports),
                    },
                    None => Attr {
                        value: schemes.value.iter().map(|s| s.default_port()).collect(),
                        basis: schemes.basis,
                    },
                };
                (schemes, ports)
            }
        };
        if let Some(p) = &raw.ports
            && (p.get_ref().is_empty() || p.get_ref().contains(&0))
        {
            self.problem(p.span(), "ports must be 1 to 65535, at least one");
        }
        if let Some(s) = &raw.schemes
            && s.get_ref().is_empty()
        {
            self.problem(
                s.span(),
                "`schemes` is empty; leave it out for the default (https)",
            );
        }
        attrs
    }

    /// `valid_from` before `valid_until`.
    /// `site_ports`: only on a URL without a port, whose one scheme takes
    /// the site's port for it.
    fn site_ports(&mut self, raw: &RawEndpoint, target: Option<&Destination>) -> Option<SitePorts> {
        let given = raw.site_ports.as_ref()?;
        let fits = matches!(target, Some(Destination::Url(u)) if u.port.is_none());
        if !fits || raw.ports.is_some() {
            self.problems.push(
                Problem::new(
                    given.span(),
                    "`site_ports` needs a URL endpoint without a port and without `ports`",
                )
                .with_help(
                    "write the server as `url = \"http://<fqdn>\"` and leave the port to the site",
                ),
            );
            return None;
        }
        Some(match given.get_ref() {
            RawSitePorts::Wsus => SitePorts::Wsus,
        })
    }

    fn validity(&mut self, raw: &RawEndpoint) -> Validity {
        let from = raw
            .valid_from
            .as_ref()
            .and_then(|d| to_date(d, "valid_from", &mut self.problems));
        let until = raw
            .valid_until
            .as_ref()
            .and_then(|d| to_date(d, "valid_until", &mut self.problems));
        if let (Some(f), Some(u), Some(span)) =
            (from, until, raw.valid_until.as_ref().map(Spanned::span))
            && f >= u
        {
            self.problem(span, "valid_until must be after valid_from");
        }
        Validity { from, until }
    }

    /// `superseded_by` names another endpoint; `superseded_from` needs it.
    fn supersession(&mut self, raw: &RawEndpoint, ids: &BTreeSet<String>) -> Option<Supersession> {
        match &raw.superseded_by {
            Some(by) => {
                if !ids.contains(by.get_ref()) {
                    self.unknown(
                        "endpoint",
                        by,
                        ids.iter().map(String::as_str).collect(),
                        "name the id of the endpoint that replaces this one",
                    );
                } else if raw
                    .id
                    .as_ref()
                    .is_some_and(|id| id.get_ref() == by.get_ref())
                {
                    self.problem(by.span(), "an endpoint cannot supersede itself");
                }
                Some(Supersession {
                    by: by.get_ref().clone(),
                    from: raw
                        .superseded_from
                        .as_ref()
                        .and_then(|d| to_date(d, "superseded_from", &mut self.problems)),
                })
            }
            None => {
                if let Some(d) = &raw.superseded_from {
                    self.problems.push(
                        Problem::new(d.span(), "`superseded_from` needs `superseded_by`")
                            .with_help("name the endpoint that takes over"),
                    );
                }
                None
            }
        }
    }

    /// Probe hosts are concrete hosts the endpoint's pattern covers.
    fn probe(&mut self, raw: &RawProbe, target: Option<&Destination>) -> Probe {
        let mut probe = Probe::default();
        for host in &raw.hosts {
            match HostPattern::parse(host.get_ref()) {
                Ok(h) if h.is_wildcard() => self.problem(
                    host.span(),
                    format!(
                        "probe host `{}` must be a concrete host, not a pattern",
                        host.get_ref()
                    ),
                ),
                Ok(h) => {
                    let covered = target
                        .and_then(|t| t.host().pattern())
                        .is_none_or(|pattern| pattern.matches_name(h.as_str()));
                    if covered {
                        probe.hosts.push(h);
                    } else {
                        self.problem(
                            host.span(),
                            format!(
                                "probe host `{}` is not covered by the endpoint's pattern",
                                host.get_ref()
                            ),
                        );
                    }
                }
                Err(e) => self.problem(
                    host.span(),
                    format!("invalid probe host `{}`: {e}", host.get_ref()),
                ),
            }
        }
        probe.path = raw.path.clone();
        probe.reachable_status = raw.reachable_status.clone();
        probe
    }

    /// A feature with neither endpoints nor an external list says nothing.
    /// An endpoint's or network's `source`: its page declared, its line.
    fn source(&mut self, raw: Option<Spanned<RawSource>>) -> Option<SourceRef> {
        let table = raw.as_ref()?.span();
        let s = raw?.into_inner();
        let page = self.problems.require(s.page, &table, "`source`", "page");
        let line = self.problems.require(s.line, &table, "`source`", "line");
        if let Some(page) = &page {
            self.page_ref(page);
        }
        Some(SourceRef {
            page: page?.into_inner(),
            line: line?,
            text: s.text,
        })
    }

    fn networks(&mut self, raw: Vec<Spanned<RawNetwork>>, endpoints: &[Endpoint]) -> Vec<Network> {
        let mut seen: BTreeSet<String> = endpoints.iter().map(|e| e.id.clone()).collect();
        let mut out = Vec::new();
        for n in raw {
            let ok = (n.get_ref().id.as_ref()).is_some_and(|id| self.id("network", id, &mut seen));
            if let Some(network) = self.network(n)
                && ok
            {
                out.push(network);
            }
        }
        out
    }

    fn network(&mut self, raw: Spanned<RawNetwork>) -> Option<Network> {
        let table = raw.span();
        let raw = raw.into_inner();
        let what = "this `[[network]]`";
        self.problems.require(raw.id.as_ref(), &table, what, "id");
        self.problems
            .require(raw.features.as_ref(), &table, what, "features");
        self.features_named(raw.features.as_ref());
        let addresses = self
            .problems
            .require(raw.addresses, &table, what, "addresses")
            .and_then(|list| {
                if list.get_ref().is_empty() {
                    self.problems.push(
                        Problem::new(list.span(), "a network has at least one address range")
                            .with_help("write ranges like `20.190.128.0/18` or `2603:1006::/40`"),
                    );
                }
                let mut out = Vec::new();
                let mut ok = true;
                for a in list.into_inner() {
                    match crate::profile::AddressRange::parse(a.get_ref()) {
                        Ok(r) => out.push(r),
                        Err(e) => {
                            ok = false;
                            self.problems.push(
                                Problem::new(a.span(), e).with_help(
                                    "write an address or a range like `20.190.128.0/18`",
                                ),
                            );
                        }
                    }
                }
                ok.then_some(out)
            });
        let mut ports = |key: Option<Spanned<String>>| match key {
            None => Some(PortRanges::default()),
            Some(text) => match PortRanges::parse(text.get_ref()) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.problems.push(
                        Problem::new(text.span(), e)
                            .with_help("write ports as the web service does: `80,443,1024-65535`"),
                    );
                    None
                }
            },
        };
        let tcp_ports = ports(raw.tcp_ports);
        let udp_ports = ports(raw.udp_ports);
        if tcp_ports.as_ref().is_some_and(PortRanges::is_empty)
            && udp_ports.as_ref().is_some_and(PortRanges::is_empty)
        {
            self.problems.push(
                Problem::new(table.clone(), "a network needs `tcp_ports` or `udp_ports`")
                    .with_help("add `tcp_ports = \"443\"`"),
            );
            return None;
        }
        let source = self.source(raw.source);
        Some(Network {
            id: raw.id?.into_inner(),
            features: raw
                .features?
                .into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            addresses: addresses?,
            tcp_ports: tcp_ports?,
            udp_ports: udp_ports?,
            required: raw.required,
            attributes: raw.attributes,
            notes: raw.notes,
            source,
        })
    }

    fn features_have_content(&mut self, features: &[Feature], referenced: &BTreeSet<String>) {
        for f in features {
            if !referenced.contains(&f.id) && f.external.is_empty() {
                let span = self.feature_ids.get(&f.id).cloned().unwrap_or(0..0);
                self.problems.push(
                    Problem::new(
                        span,
                        format!("feature `{}` has no endpoints and no external list", f.id),
                    )
                    .with_help("add an `external` link or endpoints that name this feature"),
                );
            }
        }
    }
}
