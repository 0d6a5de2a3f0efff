//! `egress check`: what this machine can reach of the plan, per feature.

use std::io::IsTerminal;

use anyhow::{Context, bail};
use egress_catalog::plan;
use egress_check::Config;
use egress_check::plan::{CheckOptions, check};
use egress_check::report::{self, RouteReport};

use crate::Exit;
use crate::cli::{CheckArgs, CheckFormat, Progress, TlsVersionArg};
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
                Box::new(output::LogLines),
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
            reports.push(RouteReport {
                label,
                says,
                report,
            });
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
    let (base, choice) = crate::net::route_config(
        &args.route,
        loaded.profile.as_ref().and_then(|p| p.proxy.as_ref()),
    )?;
    let public_roots = match &args.public_roots {
        Some(file) => Some(crate::net::certificates(file)?),
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
        for source in egress_winproxy::Source::DISCOVERABLE {
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
            let (route, line) = crate::routes::chosen_route(from, &discovery, &request, &loaded)?;
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

/// Per feature, its status on each route: `OK via WinINET (SYSTEM) (...);
/// critical via WinHTTP (proxy: ...)`. Exit status 1 when a feature is
/// critical on every route.
fn by_route(args: &CheckArgs, header: &[String], reports: &[RouteReport]) -> anyhow::Result<Exit> {
    if reports.is_empty() {
        return Ok(Exit::Success);
    }
    let features = report::by_route(reports);
    let critical = report::critical_everywhere(&features);
    let text = match args.format {
        CheckFormat::Json => {
            let doc = report::routes_json(reports, features, header);
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        _ => report::routes_text(reports, &features, header),
    };
    output::emit(&text, args.output.as_deref())?;
    Ok(if critical { Exit::Found } else { Exit::Success })
}
