//! `egress catalog fetch SOURCE -o FILE`: a catalog's source fetched
//! through the check's route (proxy, authentication, CAs), imported, shown
//! against what the site had, and written only when it loads.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context as _, bail};
use egress_catalog::Catalog;
use egress_check::ProbeTarget;
use egress_check::settings::Route;
use egress_import::m365::Instance;

use crate::Exit;
use crate::cli::{FetchArgs, M365Instance};
use crate::net::Net;

/// What SOURCE names.
enum Source {
    /// The web service's `/endpoints` answer for an instance.
    M365(M365Instance),
    /// A docs page's Markdown source.
    Page(url::Url),
}

fn source(text: &str) -> anyhow::Result<Source> {
    if let Some(name) = text.strip_prefix("m365:") {
        use clap::ValueEnum as _;
        return M365Instance::from_str(name, true).map(Source::M365).map_err(|_| {
            anyhow::anyhow!(
                "`{text}`: no such instance of the Microsoft 365 web service\n  help: use m365:worldwide, m365:usgov-dod, m365:usgov-gcchigh or m365:china"
            )
        });
    }
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(Source::Page(u))
        }
        _ => bail!(
            "`{}` is not a source to fetch\n  help: give m365:INSTANCE (m365:worldwide, ...) or the http(s):// URL of a docs page's Markdown source",
            egress_winproxy::redact(text)
        ),
    }
}

pub fn run(args: &FetchArgs) -> anyhow::Result<Exit> {
    let source = source(&args.source)?;
    crate::output::check_writable(&args.output)?;
    let (config, choice) = crate::net::route_config(&args.route, None)?;
    let net = Rc::new(Net::with_config(config)?);
    let first = match &source {
        Source::M365(_) => url::Url::parse(&args.service_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .with_context(|| {
                format!(
                    "--service-url `{}` is not an http(s):// URL",
                    egress_winproxy::redact(&args.service_url)
                )
            })?,
        Source::Page(u) => u.clone(),
    };
    let route = route(args, &net, choice, &first)?;
    let fetcher = Fetcher {
        net: &net,
        route: &route,
    };
    // What FILE holds now, if it loads: compared with, and for the web
    // service, the version already there.
    let previous = args
        .output
        .exists()
        .then(|| crate::context::load_catalog_file(&args.output));
    if let Some(Err(e)) = &previous {
        eprintln!(
            "warning: {} does not load as a catalog; it is replaced only if the fetched one does ({e:#})",
            args.output.display()
        );
    }
    let previous = previous.and_then(Result::ok);
    let (text, new) = match source {
        Source::M365(instance) => {
            let service = first.as_str().trim_end_matches('/');
            match m365(args, &fetcher, service, instance, previous.as_ref())? {
                Some(text) => text,
                None => return Ok(Exit::Success),
            }
        }
        Source::Page(url) => page(args, &fetcher, &url)?,
    };
    let name = args.output.display().to_string();
    let against = match (&args.against, previous) {
        (Some(spec), _) => Some((spec.clone(), crate::diff::load(spec)?)),
        (None, Some(p)) => Some((format!("{name} (before)"), p)),
        (None, None) if new.meta.id == egress_catalog::embedded::CATALOG_ID => {
            let spec = format!("{}@latest", egress_catalog::embedded::CATALOG_ID);
            let c = crate::diff::load(&spec)?;
            Some((spec, c))
        }
        (None, None) => None,
    };
    match &against {
        Some((spec, old)) => match crate::diff::changes((spec, old), (&name, &new)) {
            Some(table) => print!("{table}"),
            None => println!("{spec} -> {name}: no change"),
        },
        None => println!(
            "{name}: new, {} endpoints in {} features",
            new.endpoints.len(),
            new.features.len()
        ),
    }
    crate::output::emit(&text, Some(&args.output))?;
    eprintln!("wrote {name} ({}@{})", new.meta.id, new.meta.revision);
    Ok(Exit::Success)
}

/// The route to `url`: the route options' proxy, or a discovered source.
fn route(
    args: &FetchArgs,
    net: &Rc<Net>,
    choice: egress_check::settings::ProxyChoice,
    url: &url::Url,
) -> anyhow::Result<Route> {
    let Some(from) = &args.route.proxy_from else {
        return Ok(choice.into_route());
    };
    if *from == egress_winproxy::Source::Auto {
        bail!(
            "--proxy-from auto picks a source per site system role, and a fetch has no role\n  help: name the source the machine uses, such as --proxy-from winhttp"
        );
    }
    let env = |name: &str| std::env::var(name).ok();
    let https = url.scheme() == "https";
    let target = ProbeTarget {
        host: url.host_str().unwrap_or_default().to_owned(),
        port: url.port_or_known_default().unwrap_or(443),
        tls: https,
        path: url.path().to_owned(),
        reachable: Vec::new(),
    };
    let discovery = crate::routes::discovery(
        &args.route.discovery,
        Rc::clone(net),
        None,
        &env,
        vec![target],
    )?;
    Ok(match discovery.find(from)? {
        crate::discover::Found::Route { route, says } => {
            eprintln!("route: {} ({says})", from.title());
            *route
        }
        crate::discover::Found::NotSet(why) => {
            eprintln!("route: direct ({} is not set: {why})", from.title());
            Route::Direct
        }
    })
}

/// GETs along the route, naming the failing phase.
struct Fetcher<'a> {
    net: &'a Net,
    route: &'a Route,
}

impl Fetcher<'_> {
    /// The body of `url` (shown as `shown`: without the client id), which
    /// must answer 200.
    fn get(&self, url: &url::Url, shown: &str) -> anyhow::Result<egress_check::fetch::Fetched> {
        let hops = self.route.hops(
            url.scheme() == "https",
            url.host_str().unwrap_or_default().trim_matches(['[', ']']),
            url.port_or_known_default().unwrap_or(443),
        );
        let fetched = self
            .net
            .runtime
            .block_on(egress_check::fetch::fetch_via(
                url.as_str(),
                &self.net.config,
                &hops,
            ))
            .map_err(|(phase, failure)| {
                let why = egress_winproxy::redact(&failure.to_string());
                anyhow::anyhow!("cannot fetch {shown}: {phase}: {why}")
            })?;
        if fetched.status != 200 {
            bail!(
                "cannot fetch {shown}: HTTP: the server answered {}{}",
                fetched.status,
                egress_check::hint(fetched.status)
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            );
        }
        Ok(fetched)
    }
}

/// The web service's latest version, then (unless FILE holds it) its
/// `/endpoints` answer as catalog text and catalog; `None` when FILE is
/// current.
fn m365(
    args: &FetchArgs,
    fetcher: &Fetcher<'_>,
    service: &str,
    which: M365Instance,
    previous: Option<&Catalog>,
) -> anyhow::Result<Option<(String, Catalog)>> {
    let instance: Instance = crate::import::instance(which);
    let name = instance.service_name();
    let id = egress_check::fetch::random_guid().map_err(|e| anyhow::anyhow!(e))?;
    // What messages name: the service without user information.
    let shown = egress_winproxy::redact(service);
    let with_id = |path: &str| {
        url::Url::parse(&format!("{service}{path}?clientrequestid={id}"))
            .with_context(|| format!("--service-url `{shown}` does not take the path {path}"))
    };
    let version_shown = format!("{shown}/version/{name}");
    let answer = fetcher.get(&with_id(&format!("/version/{name}"))?, &version_shown)?;
    let (latest, describes) = latest_version(&answer.text)
        .with_context(|| format!("{version_shown}: not the web service's version answer"))?;
    let endpoints_shown = format!("{shown}/endpoints/{name}");
    let same_instance = |c: &Catalog| {
        c.pages.iter().any(|p| {
            p.url
                .as_deref()
                .is_some_and(|u| u.ends_with(&format!("/endpoints/{name}")))
        })
    };
    // The selection of service areas the file was imported with (none:
    // all), compared as feature ids.
    let ids = |areas: &[String]| {
        let mut ids: Vec<String> = areas
            .iter()
            .map(|a| egress_import::m365::feature_id(a))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let same_areas = |c: &Catalog| {
        ids(&egress_import::m365::selected_areas(&c.meta.notes)) == ids(&args.service_areas)
    };
    if !args.force
        && let Some(c) = previous
        && c.meta.id == "m365"
        && c.meta.revision == latest
        && same_instance(c)
        && same_areas(c)
    {
        eprintln!(
            "{} holds version {latest} of {name}, the latest: nothing fetched (--force fetches anyway)",
            args.output.display()
        );
        return Ok(None);
    }
    let answer = fetcher.get(&with_id(&format!("/endpoints/{name}"))?, &endpoints_shown)?;
    let file = PathBuf::from(&endpoints_shown);
    let request = egress_import::m365::M365Request {
        file: &file,
        instance,
        service_areas: &args.service_areas,
        revision: &latest,
        describes: &describes,
    };
    let imported = egress_import::m365::import(answer.text.as_bytes(), &request);
    crate::import::checked(imported, Some(&args.output)).map(Some)
}

/// `latest` of the `/version/{instance}` answer (`{"instance":
/// "Worldwide", "latest": "2026110100"}`), and the day it names.
fn latest_version(text: &str) -> anyhow::Result<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Version {
        latest: String,
    }
    let v: Version = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("line {}, column {}: {e}", e.line(), e.column()))?;
    match egress_import::m365::version_day(&v.latest) {
        Some(day) => Ok((v.latest, day)),
        None => bail!("`latest` is `{}`, not a version YYYYMMDDNN", v.latest),
    }
}

/// A docs page's Markdown and its includes (fetched relative to it), as
/// catalog text and catalog.
fn page(
    args: &FetchArgs,
    fetcher: &Fetcher<'_>,
    url: &url::Url,
) -> anyhow::Result<(String, Catalog)> {
    let shown = egress_winproxy::redact(url.as_str());
    let text = markdown(fetcher.get(url, &shown)?, &shown)?;
    // The importer reads by path: the page's URL path, its includes'
    // paths resolved against it, on the page's origin.
    let page_path = PathBuf::from(url.path());
    let mut read = |path: &Path| -> std::io::Result<Vec<u8>> {
        if path == page_path {
            return Ok(text.clone().into_bytes());
        }
        let mut include = url.clone();
        include.set_path(&path.to_string_lossy().replace('\\', "/"));
        include.set_query(None);
        let shown = egress_winproxy::redact(include.as_str());
        fetcher
            .get(&include, &shown)
            .and_then(|f| markdown(f, &shown).map(String::into_bytes))
            .map_err(|e| std::io::Error::other(format!("{e:#}")))
    };
    let request = egress_import::Request {
        page: &page_path,
        includes: None,
        revision: args.revision.as_deref(),
    };
    let imported = egress_import::import(&request, &mut read);
    crate::import::checked(imported, Some(&args.output))
}

/// The text of a fetched Markdown file; an HTML page is refused (the
/// rendered docs page instead of its source).
fn markdown(fetched: egress_check::fetch::Fetched, shown: &str) -> anyhow::Result<String> {
    let html_type = fetched
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("text/html"));
    let start = fetched
        .text
        .trim_start()
        .get(..15)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if html_type || start.starts_with("<!doctype html") || start.starts_with("<html") {
        bail!(
            "{shown} is an HTML page, not Markdown\n  help: give the page's Markdown source, such as its raw.githubusercontent.com URL in the docs repository"
        );
    }
    Ok(fetched.text)
}
