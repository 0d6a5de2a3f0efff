//! Loading what a command works on: the profile, then the catalog it or
//! the command line names, checked against each other.

use std::path::Path;

use anyhow::bail;
use egress_catalog::catalog::{self, Cloud};
use egress_catalog::diagnostic::did_you_mean;
use egress_catalog::embedded;
use egress_catalog::plan::Exclusions;
use egress_catalog::profile::Located;
use egress_catalog::{Catalog, Profile, Request, SourceFile, profile};

use crate::cli::{CloudArg, Select, Source};

/// A catalog, and the profile that chose it (if any).
#[derive(Debug)]
pub struct Loaded {
    pub catalog: Catalog,
    pub profile: Option<Profile>,
    /// The profile's path as given, for output headers.
    pub profile_name: Option<String>,
    /// Where the catalog came from: `embedded` or its path.
    pub catalog_origin: String,
}

/// The addresses of the profile's servers, each with its roles: where
/// each role's requests come from.
pub fn server_sources(
    loaded: &Loaded,
) -> Vec<(egress_catalog::profile::AddressRange, Vec<String>)> {
    loaded
        .profile
        .iter()
        .flat_map(|p| &p.servers)
        .flat_map(|s| {
            let roles: Vec<String> = s.roles.iter().map(|r| r.value.clone()).collect();
            s.addresses.iter().map(move |a| (*a, roles.clone()))
        })
        .collect()
}

/// An input file with problems; rendered with its source by `report`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub egress_catalog::FileProblems);

/// A profile or catalog file, decoded as every text input is
/// (egress-text: UTF-8 with or without a BOM, UTF-16 with one, CRLF).
pub fn read_file(path: &Path) -> anyhow::Result<SourceFile> {
    let text = egress_text::read(path)?.text;
    Ok(SourceFile::new(path.display().to_string(), text))
}

pub fn load_profile(path: &Path) -> anyhow::Result<Profile> {
    let file = read_file(path)?;
    profile::load(&file).map_err(|e| InputError(e).into())
}

pub fn load_catalog_file(path: &Path) -> anyhow::Result<Catalog> {
    let file = read_file(path)?;
    catalog::load(&file).map_err(|e| InputError(e).into())
}

/// What one `--catalog` names.
enum Spec {
    /// The embedded ConfigMgr catalog, at `--revision`.
    Embedded,
    File(std::path::PathBuf),
}

/// An embedded catalog's id (`configmgr`), unless a file of that name
/// exists; else a file.
fn spec(text: &str) -> Spec {
    let embedded = embedded::all()
        .map(|all| all.iter().any(|c| c.meta.id == text))
        .unwrap_or(false);
    if embedded && !Path::new(text).exists() {
        Spec::Embedded
    } else {
        Spec::File(text.into())
    }
}

/// A catalog file: TOML in the catalog format, or the Microsoft 365 web
/// service's JSON answer, imported as it is read. A file is JSON when its
/// name ends in `.json` or its text starts as no TOML file can (`{`, or
/// `[` followed by `{`, `]` or `"`); a JSON file is read as JSON or
/// refused as JSON, never as TOML.
fn catalog_of(file: &SourceFile) -> anyhow::Result<Catalog> {
    let start = file.text.trim_start();
    let json = Path::new(&file.name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || start.starts_with('{')
        || start
            .strip_prefix('[')
            .is_some_and(|rest| rest.trim_start().starts_with(['{', ']', '"']));
    if !json {
        return catalog::load(file).map_err(|e| InputError(e).into());
    }
    let today = jiff::ZonedDateTime::now().date().to_string();
    let path = Path::new(&file.name);
    let request = egress_import::m365::M365Request {
        file: path,
        instance: egress_import::m365::Instance::Worldwide,
        service_areas: &[],
        revision: &today,
        describes: &today,
    };
    let import = egress_import::m365::import(file.text.as_bytes(), &request)?;
    if !import.remarks.is_empty() {
        eprintln!(
            "egress: {}: read as the Microsoft 365 web service's answer, {} remarks (see `egress catalog import --format m365-json {}`)",
            file.name,
            import.remarks.len(),
            file.name
        );
    }
    catalog::load(&SourceFile::new(file.name.clone(), import.catalog))
        .map_err(|e| InputError(e).into())
}

pub fn load(source: &Source) -> anyhow::Result<Loaded> {
    let profile = source.profile.as_deref().map(load_profile).transpose()?;
    // The revision and catalog the command line names, else the profile's
    // (whose problems then point into the profile).
    let revision: Option<(String, Option<&Located<String>>)> = match (
        &source.revision,
        profile.as_ref().and_then(|p| p.revision.as_ref()),
    ) {
        (Some(r), _) => Some((r.clone(), None)),
        (None, Some(r)) => Some((r.value.clone(), Some(r))),
        (None, None) => None,
    };
    let specs = catalog_specs(source, profile.as_ref());
    let alone = specs.len() == 1;
    let mut catalogs = Vec::new();
    let mut origins = Vec::new();
    for (spec, from_profile) in specs {
        let (catalog, origin) = match spec {
            Spec::File(path) => file_catalog(
                &path,
                from_profile,
                revision.as_ref().filter(|_| alone),
                profile.as_ref(),
            )?,
            Spec::Embedded => embedded_catalog(revision.as_ref(), profile.as_ref())?,
        };
        if catalogs
            .iter()
            .any(|c: &Catalog| c.meta.id == catalog.meta.id)
        {
            bail!(
                "catalog `{}` is named twice ({}); name each catalog once",
                catalog.meta.id,
                origin
            );
        }
        origins.push(if alone {
            origin
        } else {
            format!("{} {origin}", catalog.meta.id)
        });
        catalogs.push(catalog);
    }
    let catalog = egress_catalog::compose::compose(catalogs).expect("at least one catalog");
    let catalog = match &profile {
        None => catalog,
        Some(p) => with_profile(catalog, p)?,
    };
    Ok(Loaded {
        catalog,
        profile_name: source.profile.as_ref().map(|p| p.display().to_string()),
        profile,
        catalog_origin: origins.join(" + "),
    })
}

/// A problem at `span` of the profile, with `help`.
fn in_profile(
    profile: Option<&Profile>,
    span: &std::ops::Range<usize>,
    message: String,
    help: String,
) -> anyhow::Error {
    let p = profile.expect("a span comes from the profile");
    anyhow::Error::from(InputError(egress_catalog::FileProblems {
        file: p.file.clone(),
        problems: vec![
            egress_catalog::diagnostic::Problem::new(span.clone(), message).with_help(help),
        ],
    }))
}

/// The catalogs to load, each with where the profile names it: `--catalog`
/// (NAME or FILE, repeatable), else the profile's (a path relative to the
/// profile's folder), else the default embedded one.
fn catalog_specs<'p>(
    source: &Source,
    profile: Option<&'p Profile>,
) -> Vec<(Spec, Option<&'p Located<String>>)> {
    let in_profile_list: &[Located<String>] = profile.map_or(&[], |p| &p.catalog);
    if !source.catalog.is_empty() {
        source.catalog.iter().map(|c| (spec(c), None)).collect()
    } else if !in_profile_list.is_empty() {
        let base = source
            .profile
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new(""));
        in_profile_list
            .iter()
            .map(|relative| {
                let path = base.join(&relative.value);
                // An embedded catalog's id, unless a file of that name is
                // there.
                let spec = match spec(&relative.value) {
                    Spec::Embedded if !path.exists() => Spec::Embedded,
                    _ => Spec::File(path),
                };
                (spec, Some(relative))
            })
            .collect()
    } else {
        vec![(Spec::Embedded, None)]
    }
}

/// A catalog file and its origin; `revision` (when it is the only
/// catalog) must be its revision.
fn file_catalog(
    path: &Path,
    from_profile: Option<&Located<String>>,
    revision: Option<&(String, Option<&Located<String>>)>,
    profile: Option<&Profile>,
) -> anyhow::Result<(Catalog, String)> {
    let catalog = match (read_file(path), from_profile) {
        (Err(e), Some(key)) => {
            return Err(in_profile(
                profile,
                &key.span,
                format!(
                    "cannot read the catalog {}: {}",
                    path.display(),
                    e.root_cause()
                ),
                "the path is relative to the profile's folder".to_owned(),
            ));
        }
        (file, _) => catalog_of(&file?)?,
    };
    // `--revision` names the embedded catalog's revision; a catalog file
    // alone must answer to it.
    if let Some((r, given)) = revision
        && !catalog.answers_to(r)
    {
        let found = format!(
            "{} is revision {} of catalog {}",
            path.display(),
            catalog.meta.revision,
            catalog.meta.id
        );
        match given {
            Some(key) => {
                return Err(in_profile(
                    profile,
                    &key.span,
                    format!("`revision = \"{r}\"`, but {found}"),
                    format!(
                        "remove `revision`, or write `revision = \"{}\"`",
                        catalog.meta.revision
                    ),
                ));
            }
            None => bail!("{found}, not `{r}`; drop --revision to use it"),
        }
    }
    Ok((catalog, path.display().to_string()))
}

/// The embedded catalog of `revision` (default: the latest).
fn embedded_catalog(
    revision: Option<&(String, Option<&Located<String>>)>,
    profile: Option<&Profile>,
) -> anyhow::Result<(Catalog, String)> {
    let name = revision.map_or(embedded::DEFAULT_REVISION, |(r, _)| r.as_str());
    let all = embedded::all().map_err(InputError)?;
    if let Some(i) = all.iter().position(|c| c.answers_to(name)) {
        let catalog = all.into_iter().nth(i).expect("index from position");
        return Ok((catalog, "embedded".to_owned()));
    }
    let known: Vec<String> = all
        .iter()
        .flat_map(|c| std::iter::once(c.meta.revision.clone()).chain(c.meta.aliases.clone()))
        .collect();
    let message = format!(
        "no embedded revision `{name}`; the embedded revisions are {}",
        known.join(", ")
    );
    let help = match did_you_mean(name, known.iter().map(String::as_str)) {
        Some(k) => format!("did you mean `{k}`?"),
        None => "name an embedded revision, or a catalog file with `catalog`".to_owned(),
    };
    match revision.and_then(|(_, given)| *given) {
        Some(key) => Err(in_profile(profile, &key.span, message, help)),
        None => bail!("{message}"),
    }
}

/// The profile held against the catalog, and its own endpoints and
/// corrections applied: every problem of both at once.
fn with_profile(catalog: Catalog, p: &Profile) -> anyhow::Result<Catalog> {
    let mut problems = Vec::new();
    if let Err(e) = p.check(&catalog) {
        problems.extend(e.problems);
    }
    if let Some(proxy) = &p.proxy {
        problems.extend(egress_check::settings::profile_proxy_problems(proxy));
    }
    let site = catalog::site_tables(&p.file, &catalog);
    if let Err(e) = &site {
        problems.extend(e.problems.iter().cloned());
    }
    match site {
        Ok(site) if problems.is_empty() => {
            let mut catalog = site.apply(&catalog);
            catalog.set_wsus_ports(p.wsus_ports);
            Ok(catalog)
        }
        _ => {
            problems.sort_by_key(|p| p.span.start);
            Err(InputError(egress_catalog::FileProblems {
                file: p.file.clone(),
                problems,
            })
            .into())
        }
    }
}

/// Checks ids given on the command line, all at once.
pub fn check_ids(catalog: &Catalog, select: &Select) -> anyhow::Result<()> {
    let features: Vec<&str> = catalog.features.iter().map(|f| f.id.as_str()).collect();
    let roles: Vec<&str> = catalog.roles.iter().map(|r| r.id.as_str()).collect();
    let mut problems = Vec::new();
    // `catalog:feature` names a composed catalog's feature.
    let known_feature = |id: &str| catalog.feature_id(id).is_some();
    for (what, flag, given, known, command) in [
        (
            "feature",
            "feature",
            &select.features,
            &features,
            "egress catalog features",
        ),
        (
            "feature",
            "exclude-feature",
            &select.exclude_features,
            &features,
            "egress catalog features",
        ),
        (
            "role",
            "role",
            &select.roles,
            &roles,
            "egress catalog roles",
        ),
    ] {
        for id in given {
            let found = known.contains(&id.as_str()) || (what == "feature" && known_feature(id));
            if !found {
                let hint = match did_you_mean(id, known.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("`{command}` lists them"),
                };
                problems.push(format!("unknown {what} `{id}` in --{flag}: {hint}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

pub fn cloud(arg: CloudArg) -> Cloud {
    match arg {
        CloudArg::Public => Cloud::Public,
        CloudArg::Usgov => Cloud::UsGov,
    }
}

/// The plan request: command line, then profile, then defaults.
pub fn request(loaded: &Loaded, select: &Select, cloud_arg: Option<CloudArg>) -> Request {
    let profile = loaded.profile.as_ref();
    // `catalog:feature` as the feature's id in the composed catalog.
    let id = |f: &String| {
        loaded
            .catalog
            .feature_id(f)
            .map_or_else(|| f.clone(), str::to_owned)
    };
    let features = if !select.features.is_empty() {
        Some(select.features.iter().map(id).collect())
    } else {
        profile
            .and_then(|p| p.features.as_ref())
            .map(|fs| fs.iter().map(|f| id(&f.value)).collect())
    };
    let roles = if !select.roles.is_empty() {
        select.roles.clone()
    } else {
        profile
            .map(|p| p.roles.iter().map(|r| r.value.clone()).collect())
            .unwrap_or_default()
    };
    Request {
        cloud: cloud_arg
            .map(cloud)
            .or(profile.and_then(|p| p.cloud))
            .unwrap_or(Cloud::Public),
        version: profile.and_then(|p| p.version),
        as_of: profile
            .and_then(|p| p.as_of)
            .unwrap_or_else(|| jiff::ZonedDateTime::now().date()),
        features,
        roles,
        placeholders: profile
            .map(|p| {
                p.placeholders
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        exclude: Exclusions {
            features: select
                .exclude_features
                .iter()
                .map(id)
                .chain(
                    profile
                        .iter()
                        .flat_map(|p| p.exclude_features.iter().map(|f| id(&f.value))),
                )
                .collect(),
            endpoints: profile
                .iter()
                .flat_map(|p| p.exclude_endpoints.iter().map(|e| e.value.clone()))
                .collect(),
        },
    }
}
