//! `egress check`: what this machine can reach of the plan, per feature.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};
use egress_catalog::plan;
use egress_check::plan::{CheckOptions, check};
use egress_check::settings::{self, ProxySources};
use egress_check::{Config, report};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::Exit;
use crate::cli::{CheckArgs, CheckFormat, Progress, RouteArgs, TlsVersionArg};
use crate::context;
use crate::output;

/// A check ready to run: everything it needs, validated.
pub struct Prepared {
    pub loaded: context::Loaded,
    pub plan: plan::Plan,
    pub options: CheckOptions,
    /// The report's header lines: the plan, and the route.
    pub header: Vec<String>,
    /// With `--routes`: each route's label, what its source says, and the
    /// route.
    pub every_route: Option<Vec<(String, String, egress_check::settings::Route)>>,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    if let Some(path) = &args.output {
        output::check_writable(path)?;
    }
    if args.routes && !matches!(args.format, CheckFormat::Table | CheckFormat::Json) {
        bail!("--routes writes a table or JSON (--format table|json)");
    }
    let Prepared {
        loaded,
        plan,
        options,
        header,
        every_route,
    } = prepare(&args.probe, args.routes)?;
    let show_progress = match args.progress {
        Progress::Always => true,
        Progress::Never => false,
        Progress::Auto => std::io::stderr().is_terminal(),
    };
    let bar = indicatif::ProgressBar::new(0);
    if show_progress {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} endpoints checked, {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        // indicatif hides itself when stderr is not a terminal; `always`
        // means a line a second there instead (a CI log, a service's).
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::term_like_with_hz(
                Box::new(LogLines),
                1,
            ));
        }
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Some(routes) = every_route {
        let mut reports = Vec::new();
        for (label, says, route) in routes {
            let options = CheckOptions {
                route,
                config: options.config.clone(),
                ..options
            };
            let report = runtime.block_on(check(&loaded.catalog, &plan, &options, |_| bar.inc(1)));
            reports.push((label, says, report));
        }
        runtime.shutdown_background();
        bar.finish_and_clear();
        return by_route(args, &header, &reports);
    }
    let report = runtime.block_on(check(&loaded.catalog, &plan, &options, |_| bar.inc(1)));
    // The system resolver's lookups run on blocking threads that a timeout
    // does not stop: the report is ready, so they are not waited for.
    runtime.shutdown_background();
    bar.finish_and_clear();

    let text = match args.format {
        CheckFormat::Table => {
            let colour = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            report::table(&report, &header, colour)
        }
        CheckFormat::Json => {
            let mut t = serde_json::to_string_pretty(&report::json(&report, &header))?;
            t.push('\n');
            t
        }
        CheckFormat::Junit => report::junit(&report),
        CheckFormat::Markdown => report::markdown(&report, &header),
        CheckFormat::Prometheus => {
            let catalog = egress_check::metrics::CatalogInfo::of(&loaded.catalog);
            let metrics = egress_check::metrics::Metrics::new(&catalog);
            metrics.record(
                &report,
                jiff::Timestamp::now().as_millisecond() as f64 / 1000.0,
            );
            metrics.classic()
        }
    };
    output::emit(&text, args.output.as_deref())?;
    Ok(if report.critical() {
        Exit::Found
    } else {
        Exit::Success
    })
}

/// Validates everything a check needs, before any probe, and sets it up:
/// the plan, the probe configuration and the route (discovering it when
/// `--proxy-from` or `routes` asks).
pub fn prepare(args: &crate::cli::ProbeArgs, routes: bool) -> anyhow::Result<Prepared> {
    // Everything the check needs is validated before any probe.
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = plan::resolve(&loaded.catalog, &request);
    let (base, choice) = base_config(
        &args.route,
        loaded.profile.as_ref().and_then(|p| p.proxy.as_ref()),
    )?;
    let public_roots = match &args.public_roots {
        Some(file) => Some(certificates(file)?),
        None => None,
    };
    let mut header = crate::plan::header(&plan, &loaded);
    if !plan.networks.is_empty() {
        header.push(format!(
            "IP ranges: {} in the plan, not probed (a range is a firewall rule, not a host to connect to)",
            plan.networks.len()
        ));
    }
    let base = Config {
        public_roots,
        tls_version: args.tls_version.map(|v| match v {
            TlsVersionArg::V12 => egress_check::TlsVersion::Tls12,
            TlsVersionArg::V13 => egress_check::TlsVersion::Tls13,
        }),
        max_redirects: 5,
        ..base
    };
    // Where the proxy may come from, for `--routes` and `--proxy-from`.
    let env = |name: &str| std::env::var(name).ok();
    let discover = |config: &Config| {
        crate::routes::discovery(
            &args.route.discovery,
            std::rc::Rc::new(crate::net::Net::with_config(config.clone())?),
            loaded.profile.as_ref().and_then(|p| p.proxy.as_ref()),
            &env,
            egress_check::plan::probe_targets(&plan, args.include_inactive),
        )
    };
    // `--routes`: direct, and every source that is set.
    let mut every_route = None;
    if routes {
        let discovery = discover(&base)?;
        let mut routes = vec![(
            "direct".to_owned(),
            "direct".to_owned(),
            egress_check::settings::Route::Direct,
        )];
        for source in egress_proxy::Source::DISCOVERABLE {
            match discovery.find(&source)? {
                crate::discover::Found::Route { route, says } => {
                    routes.push((source.title(), says, *route));
                }
                crate::discover::Found::NotSet(why) => {
                    header.push(format!("{}: not set ({why})", source.title()));
                }
            }
        }
        for step in discovery.wpad_steps.borrow().iter() {
            header.push(format!("WPAD: {step}"));
        }
        every_route = Some(routes);
    }
    let route = match &args.route.proxy_from {
        None => {
            header.push(match &choice.proxy {
                Some((p, origin)) => format!("proxy {}:{} (from {origin})", p.host, p.port),
                None => "proxy: none (direct)".to_owned(),
            });
            choice.into_route()
        }
        Some(from) => {
            let discovery = discover(&base)?;
            let (route, line) = chosen_route(from, &discovery, &request, &loaded)?;
            header.push(line);
            for step in discovery.wpad_steps.borrow().iter() {
                header.push(format!("WPAD: {step}"));
            }
            route
        }
    };

    let rows: Vec<egress_pattern::HostPattern> =
        plan.rows.iter().filter_map(|r| r.pattern.clone()).collect();
    let set = std::sync::Arc::new(egress_pattern::HostSet::new(&rows));
    let options = CheckOptions {
        config: Config {
            covered: Some(std::sync::Arc::new(move |h: &str| set.is_match_name(h))),
            ..base
        },
        concurrency: usize::from(args.concurrency),
        include_inactive: args.include_inactive,
        route,
        now: jiff::Timestamp::now().as_second(),
    };

    Ok(Prepared {
        loaded,
        plan,
        options,
        header,
        every_route,
    })
}

/// The configuration and proxy the route options give (deadlines,
/// resolver, CAs, proxy and its authentication), checked before anything
/// is sent; `profile` is the profile's `[proxy]`.
pub fn base_config(
    args: &RouteArgs,
    profile: Option<&egress_catalog::profile::ProxySettings>,
) -> anyhow::Result<(Config, settings::ProxyChoice)> {
    let timeout = settings::duration(&args.timeout, "--timeout")?;
    let connect_timeout = settings::duration(&args.connect_timeout, "--connect-timeout")?;
    let resolve = args
        .resolve
        .iter()
        .map(|r| settings::resolve(r))
        .collect::<Result<Vec<_>, _>>()?;
    let mut extra_roots = Vec::new();
    for file in &args.ca_file {
        extra_roots.extend(certificates(file)?);
    }
    let dns_server = args
        .dns_server
        .as_deref()
        .map(settings::dns_server)
        .transpose()?;
    let choice = settings::proxy(
        ProxySources {
            command_line: args.proxy.as_deref(),
            disabled: args.no_proxy,
            profile,
        },
        &|name| std::env::var(name).ok(),
    )?;
    let proxy_auth = egress_check::auth::AuthMode::from(args.proxy_auth);
    let credentials = match &choice.proxy {
        Some((p, _)) => p.credentials.clone(),
        None => settings::environment_credentials(&|name| std::env::var(name).ok()),
    };
    egress_check::auth::validate(proxy_auth, credentials.as_ref())?;
    let config = Config {
        connect_timeout,
        phase_timeout: timeout,
        extra_roots,
        resolve: resolve.into(),
        dns_server,
        roots_only: args.roots_only,
        proxy: None,
        proxy_auth,
        ..Config::default()
    };
    Ok((config, choice))
}

pub fn certificates(file: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}: not a PEM file of certificates", file.display()))?;
    if certs.is_empty() {
        bail!(
            "{}: no certificate in it; expected PEM `BEGIN CERTIFICATE` blocks",
            file.display()
        );
    }
    Ok(certs)
}

/// Progress for a stderr that is not a terminal: each redraw a line of its
/// own, no cursor movement.
#[derive(Debug)]
struct LogLines;

impl indicatif::TermLike for LogLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if !s.trim().is_empty() {
            eprintln!("{s}");
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(serde::Serialize)]
struct RoutesCheckDoc<'a> {
    format: &'static str,
    header: &'a [String],
    /// Per feature, its status on each route.
    features: Vec<FeatureRoutesDoc>,
    routes: Vec<RouteCheckDoc<'a>>,
}

#[derive(serde::Serialize)]
struct FeatureRoutesDoc {
    id: String,
    routes: Vec<FeatureOnRouteDoc>,
}

#[derive(serde::Serialize)]
struct FeatureOnRouteDoc {
    route: String,
    status: &'static str,
    reason: Option<String>,
}

#[derive(serde::Serialize)]
struct RouteCheckDoc<'a> {
    route: &'a str,
    says: &'a str,
    report: egress_catalog::wire::CheckDoc<'a>,
}

/// Per feature, its status on each route: `OK via WinINET (SYSTEM) (...);
/// critical via WinHTTP (proxy: ...)`. Exit status 1 when a feature is
/// critical on every route.
fn by_route(
    args: &CheckArgs,
    header: &[String],
    reports: &[(String, String, egress_check::plan::Report)],
) -> anyhow::Result<Exit> {
    use egress_check::plan::{FeatureStatus, Outcome};
    let Some((_, _, first)) = reports.first() else {
        return Ok(Exit::Success);
    };
    let mut features = Vec::new();
    let mut critical_everywhere = false;
    for f in &first.features {
        let mut on = Vec::new();
        for (label, _, report) in reports {
            let Some(status) = report
                .features
                .iter()
                .find(|g| g.id == f.id)
                .map(|g| g.status)
            else {
                continue;
            };
            let reason = report
                .endpoints
                .iter()
                .filter(|e| e.counts && e.features.contains(&f.id))
                .find_map(|e| match &e.outcome {
                    Outcome::Failed { .. } => Some(format!(
                        "{}: {}",
                        e.url.as_deref().unwrap_or(&e.row),
                        e.outcome.reason()
                    )),
                    _ => None,
                });
            on.push(FeatureOnRouteDoc {
                route: label.clone(),
                status: status.as_str(),
                reason: reason.filter(|_| status != FeatureStatus::Ok),
            });
        }
        critical_everywhere |= on
            .iter()
            .all(|o| o.status == FeatureStatus::Critical.as_str());
        features.push(FeatureRoutesDoc {
            id: f.id.clone(),
            routes: on,
        });
    }
    let text = match args.format {
        CheckFormat::Json => {
            let doc = RoutesCheckDoc {
                format: "egress.check-routes/1",
                header,
                features,
                routes: reports
                    .iter()
                    .map(|(label, says, report)| RouteCheckDoc {
                        route: label,
                        says,
                        report: report::json(report, header),
                    })
                    .collect(),
            };
            let mut t = serde_json::to_string_pretty(&doc)?;
            t.push('\n');
            t
        }
        _ => {
            let mut out = String::new();
            for line in header {
                out.push_str(&format!("# {line}\n"));
            }
            out.push_str("\nRoutes:\n");
            for (label, says, _) in reports {
                out.push_str(&format!("  {label}: {says}\n"));
            }
            out.push('\n');
            for f in &features {
                let parts: Vec<String> = f
                    .routes
                    .iter()
                    .map(|o| match &o.reason {
                        Some(r) => format!("{} via {} ({r})", o.status, o.route),
                        None => format!("{} via {}", o.status, o.route),
                    })
                    .collect();
                out.push_str(&format!("{}: {}\n", f.id, parts.join("; ")));
            }
            out
        }
    };
    output::emit(&text, args.output.as_deref())?;
    Ok(if critical_everywhere {
        Exit::Found
    } else {
        Exit::Success
    })
}

/// The route `--proxy-from` names, and the header line that says so. For
/// `auto`, the selected roles' route, when they share one.
fn chosen_route(
    from: &egress_proxy::Source,
    discovery: &crate::discover::Discovery<'_>,
    request: &egress_catalog::Request,
    loaded: &context::Loaded,
) -> anyhow::Result<(egress_check::settings::Route, String)> {
    use crate::discover::Found;
    use egress_proxy::Source;
    if *from != Source::Auto {
        return Ok(match discovery.find(from)? {
            Found::Route { route, says } => {
                let line = format!("route: {} ({says})", from.title());
                (*route, line)
            }
            Found::NotSet(why) => (
                egress_check::settings::Route::Direct,
                format!("route: direct ({} is not set: {why})", from.title()),
            ),
        });
    }
    let roles: Vec<String> = if request.roles.is_empty() {
        loaded
            .catalog
            .roles
            .iter()
            .map(|r| r.id.clone())
            .filter(|r| r != egress_catalog::catalog::UNSPECIFIED_ROLE)
            .collect()
    } else {
        request.roles.clone()
    };
    let mut found = Vec::new();
    let mut sources: Vec<Source> = roles
        .iter()
        .flat_map(|r| egress_proxy::role_sources(r))
        .collect();
    sources.sort();
    sources.dedup();
    for s in sources {
        let f = discovery.find(&s)?;
        found.push((s, f));
    }
    let chosen = crate::routes::per_role(&roles, &found);
    let first = &chosen[0];
    if chosen.iter().all(|c| c.source == first.source) {
        return Ok((
            first.route.clone(),
            format!(
                "route: auto, {} for {} ({})",
                first
                    .source
                    .as_ref()
                    .map_or_else(|| "direct".to_owned(), Source::title),
                roles.join(", "),
                first.says
            ),
        ));
    }
    let lines: Vec<String> = chosen
        .iter()
        .map(|c| {
            format!(
                "  {}: {}",
                c.role,
                c.source
                    .as_ref()
                    .map_or_else(|| "direct".to_owned(), Source::title)
            )
        })
        .collect();
    anyhow::bail!(
        "--proxy-from auto: the selected roles take different routes:\n{}\ncheck one role at a time (--role ROLE), or every route with --routes",
        lines.join("\n")
    )
}
