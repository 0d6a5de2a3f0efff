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
use crate::cli::{CheckArgs, CheckFormat, Progress, TlsVersionArg};
use crate::context;
use crate::output;

pub fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    // Everything the check needs is validated before any probe.
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = plan::resolve(&loaded.catalog, &request);
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
    let public_roots = match &args.public_roots {
        Some(file) => Some(certificates(file)?),
        None => None,
    };
    let choice = settings::proxy(
        ProxySources {
            command_line: args.proxy.as_deref(),
            disabled: args.no_proxy,
            profile: loaded.profile.as_ref().and_then(|p| p.proxy.as_ref()),
        },
        &|name| std::env::var(name).ok(),
    )?;
    if let Some(path) = &args.output {
        output::check_writable(path)?;
    }
    let mut header = crate::plan::header(&plan, &loaded);
    header.push(match &choice.proxy {
        Some((p, origin)) => format!("proxy {}:{} (from {origin})", p.host, p.port),
        None => "proxy: none (direct)".to_owned(),
    });

    let rows: Vec<egress_pattern::HostPattern> =
        plan.rows.iter().filter_map(|r| r.pattern.clone()).collect();
    let set = std::sync::Arc::new(egress_pattern::HostSet::new(&rows));
    let options = CheckOptions {
        config: Config {
            connect_timeout,
            phase_timeout: timeout,
            extra_roots,
            public_roots,
            resolve,
            dns_server,
            tls_version: args.tls_version.map(|v| match v {
                TlsVersionArg::V12 => egress_check::TlsVersion::Tls12,
                TlsVersionArg::V13 => egress_check::TlsVersion::Tls13,
            }),
            roots_only: args.roots_only,
            proxy: None,
            max_redirects: 5,
            covered: Some(std::sync::Arc::new(move |h: &str| set.is_match_name(h))),
            ..Config::default()
        },
        concurrency: usize::from(args.concurrency),
        include_inactive: args.include_inactive,
        route: choice.into_route(),
        now: jiff::Timestamp::now().as_second(),
    };

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
        CheckFormat::Prometheus => report::prometheus(&report),
    };
    output::emit(&text, args.output.as_deref())?;
    Ok(if report.critical() {
        Exit::Found
    } else {
        Exit::Success
    })
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
