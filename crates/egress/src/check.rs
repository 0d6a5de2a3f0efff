//! `egress check`: what this machine can reach of the plan, per feature.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use egress_catalog::plan;
use egress_check::plan::{CheckOptions, EndpointResult, FeatureStatus, Outcome, Report, check};
use egress_check::{Config, Phase, Proxy};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;

use crate::Outcome as Exit;
use crate::cli::{CheckArgs, CheckFormat, Progress, TlsVersionArg};
use crate::context;
use crate::output;
use crate::table::Table;

pub fn run(args: &CheckArgs) -> anyhow::Result<Exit> {
    // Everything the check needs is validated before any probe.
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = plan::resolve(&loaded.catalog, &request);
    let timeout = duration(&args.timeout, "--timeout")?;
    let connect_timeout = duration(&args.connect_timeout, "--connect-timeout")?;
    let resolve = args
        .resolve
        .iter()
        .map(|r| parse_resolve(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut extra_roots = Vec::new();
    for file in &args.ca_file {
        extra_roots.extend(certificates(file)?);
    }
    let dns_server = args
        .dns_server
        .as_deref()
        .map(parse_dns_server)
        .transpose()?;
    let public_roots = match &args.public_roots {
        Some(file) => Some(certificates(file)?),
        None => None,
    };
    // The proxy: --proxy, then the profile, then the environment.
    let settings = loaded
        .profile
        .as_ref()
        .and_then(|p| p.proxy.clone())
        .unwrap_or_default();
    let env = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok())
            .filter(|v| !v.trim().is_empty())
    };
    let from_env = settings.url.is_none() && args.proxy.is_none();
    let proxy = if args.no_proxy {
        None
    } else {
        let url = args
            .proxy
            .clone()
            .or_else(|| settings.url.clone())
            .or_else(|| env(&["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]));
        url.map(|u| parse_proxy(&u, &settings)).transpose()?
    };
    let mut no_proxy: Vec<String> = settings.no_proxy.clone();
    if from_env {
        no_proxy.extend(
            env(&["NO_PROXY", "no_proxy"])
                .unwrap_or_default()
                .split(',')
                .map(str::to_owned),
        );
    }
    let no_proxy: Vec<String> = no_proxy
        .iter()
        .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();

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
            proxy,
            max_redirects: 5,
            intranet: false,
            covered: Some(std::sync::Arc::new(move |h: &str| set.is_match_name(h))),
        },
        concurrency: args.concurrency,
        include_inactive: args.include_inactive,
        no_proxy,
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
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(check(&loaded.catalog, &plan, &options, |_| bar.inc(1)));
    bar.finish_and_clear();

    let header = crate::plan::header(&plan, &loaded);
    let text = match args.format {
        CheckFormat::Table => {
            let colour = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            table(&report, &header, colour)
        }
        CheckFormat::Json => {
            let mut t = serde_json::to_string_pretty(&CheckDoc::new(&report, &header))?;
            t.push('\n');
            t
        }
        CheckFormat::Junit => junit(&report),
        CheckFormat::Markdown => markdown(&report, &header),
        CheckFormat::Prometheus => prometheus(&report),
    };
    output::emit(&text, args.output.as_deref())?;
    Ok(if report.critical() {
        Exit::Found
    } else {
        Exit::Success
    })
}

/// `3s`, `500ms`, `2m`.
fn duration(text: &str, option: &str) -> anyhow::Result<Duration> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number.parse().ok().filter(|n| *n > 0).with_context(|| {
        format!("{option} `{text}`: expected a positive duration like 3s or 500ms")
    })?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => bail!("{option} `{text}`: expected a unit of ms, s or m, like 3s or 500ms"),
    })
}

/// `ADDR` or `ADDR:PORT` (IPv6 as `[ADDR]:PORT`); port 53 by default.
fn parse_dns_server(text: &str) -> anyhow::Result<std::net::SocketAddr> {
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    let ip: IpAddr = text
        .trim_matches(['[', ']'])
        .parse()
        .with_context(|| format!("--dns-server `{text}`: expected an IP address, or ADDR:PORT"))?;
    Ok(std::net::SocketAddr::new(ip, 53))
}

/// `HOST:PORT:ADDR`, as curl's `--resolve`.
fn parse_resolve(text: &str) -> anyhow::Result<(String, u16, IpAddr)> {
    let mut parts = text.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("--resolve `{text}`: expected HOST:PORT:ADDR, like example.com:443:127.0.0.1");
    };
    let port: u16 = port
        .parse()
        .with_context(|| format!("--resolve `{text}`: `{port}` is not a port"))?;
    let addr: IpAddr = addr
        .trim_matches(['[', ']'])
        .parse()
        .with_context(|| format!("--resolve `{text}`: `{addr}` is not an IP address"))?;
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// `http://[user:password@]host:port`; credentials may also come from the
/// profile, or EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD. Errors never
/// show the password.
fn parse_proxy(
    url: &str,
    settings: &egress_catalog::profile::ProxySettings,
) -> anyhow::Result<Proxy> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => match p.parse::<u16>() {
            Ok(p) => (h, p),
            Err(_) => bail!("proxy `{hostport}`: `{p}` is not a port"),
        },
        None => (hostport, 80),
    };
    if host.is_empty() {
        bail!("proxy `{hostport}`: no host; expected http://host:port");
    }
    let credentials = match userinfo.and_then(|u| u.split_once(':')) {
        Some((user, password)) => Some((user.to_owned(), password.to_owned())),
        None => match (&settings.user, &settings.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => match (
                std::env::var("EGRESS_PROXY_USER"),
                std::env::var("EGRESS_PROXY_PASSWORD"),
            ) {
                (Ok(u), Ok(p)) => Some((u, p)),
                _ => None,
            },
        },
    };
    Ok(Proxy {
        host: host.trim_matches(['[', ']']).to_owned(),
        port,
        credentials,
    })
}

fn certificates(file: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
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

fn timings(e: &EndpointResult) -> String {
    e.probe
        .as_ref()
        .map(|p| {
            p.timings
                .iter()
                .map(|(phase, d)| format!("{phase} {}ms", d.as_millis()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn table(report: &Report, header: &[String], colour: bool) -> String {
    let paint = |status: FeatureStatus| -> String {
        let code = match status {
            FeatureStatus::Ok => "32",
            FeatureStatus::Degraded => "33",
            FeatureStatus::Critical => "31;1",
            FeatureStatus::External => "2",
        };
        if colour {
            format!("\x1b[{code}m{}\x1b[0m", status.as_str())
        } else {
            status.as_str().to_owned()
        }
    };
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    for f in &report.features {
        let id = f
            .status
            .message_id()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        let _ = writeln!(out, "\n== {}: {}{id}: {}", f.id, paint(f.status), f.title);
        for (title, url) in &f.external {
            let _ = writeln!(out, "external list, check it by hand: {title} <{url}>");
        }
        let mut t = Table::new(&["ENDPOINT", "VERDICT", "REASON / TIMES"]);
        for e in report
            .endpoints
            .iter()
            .filter(|e| e.features.contains(&f.id))
        {
            let mut detail = vec![e.outcome.reason()];
            detail.retain(|d| !d.is_empty());
            let times = timings(e);
            if !times.is_empty() {
                detail.push(times);
            }
            let verdict = if e.counts {
                e.outcome.as_str().to_owned()
            } else {
                format!("({})", e.outcome.as_str())
            };
            let mut endpoint = vec![e.url.clone().unwrap_or_else(|| e.row.clone())];
            if e.url.is_some() && e.row.contains('*') {
                // A concrete host probed for a wildcard.
                endpoint.push(format!("  for {}", e.row));
            }
            t.row(vec![endpoint, vec![verdict], detail]);
        }
        if f.status != FeatureStatus::External {
            t.render(&mut out);
        }
    }
    let critical: Vec<&str> = report
        .features
        .iter()
        .filter(|f| f.status == FeatureStatus::Critical)
        .map(|f| f.id.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\nChecked {} endpoints in {:.1} s.",
        report.endpoints.len(),
        report.duration.as_secs_f64()
    );
    if critical.is_empty() {
        let _ = writeln!(out, "No feature is critical.");
    } else {
        let _ = writeln!(
            out,
            "Critical (status message 11412, SMS_SERVICE_CONNECTOR): {}",
            critical.join(", ")
        );
        // The roles whose endpoints failed: the site systems to look at.
        let mut roles: Vec<&str> = report
            .endpoints
            .iter()
            .filter(|e| e.counts && matches!(e.outcome, Outcome::Failed { .. }))
            .flat_map(|e| e.roles.iter().map(String::as_str))
            .collect();
        roles.sort_unstable();
        roles.dedup();
        let _ = writeln!(out, "Roles affected: {}", roles.join(", "));
    }
    for step in next_steps(report) {
        let _ = writeln!(out, "Next: {step}");
    }
    out
}

/// Concrete next steps, from what failed where.
fn next_steps(report: &Report) -> Vec<&'static str> {
    let failed: Vec<Phase> = report
        .endpoints
        .iter()
        .filter(|e| e.counts)
        .filter_map(|e| match &e.outcome {
            Outcome::Failed { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    let mut steps = Vec::new();
    if !failed.is_empty() && failed.iter().all(|p| *p == Phase::Dns) {
        steps.push(
            "every failure is in DNS: check this machine's DNS configuration, or name a server with --dns-server",
        );
    } else if failed.contains(&Phase::Dns) {
        steps.push("some names do not resolve from here: check DNS, or the proxy this site should use (--proxy)");
    }
    if failed.contains(&Phase::Proxy) {
        steps.push("the proxy blocks endpoints: allow them (`egress render squid`, `pac`, ...), or give its credentials");
    }
    if failed.contains(&Phase::Tcp) {
        steps.push("connections fail: allow the endpoints on the firewall (`egress render`), or set the proxy (--proxy)");
    }
    if failed.contains(&Phase::Tls) {
        steps.push("TLS fails: if a proxy inspects TLS, exempt these hosts, or install its CA (--ca-file to test)");
    }
    if report
        .endpoints
        .iter()
        .any(|e| matches!(e.outcome, Outcome::NeedsInput(_)))
    {
        steps.push("some endpoints need placeholder values: set them in the profile (`egress profile init`)");
    }
    steps
}

fn markdown(report: &Report, header: &[String]) -> String {
    let mut out = String::from("# egress check\n\n");
    for line in header {
        let _ = writeln!(out, "- {line}");
    }
    out.push_str("\n| Feature | Status | Endpoint | Verdict | Reason |\n|---|---|---|---|---|\n");
    for f in &report.features {
        for e in report
            .endpoints
            .iter()
            .filter(|e| e.features.contains(&f.id))
        {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                f.id,
                f.status.as_str(),
                e.url.clone().unwrap_or_else(|| e.row.clone()),
                e.outcome.as_str(),
                e.outcome.reason().replace('|', "\\|")
            );
        }
        for (title, url) in &f.external {
            let _ = writeln!(out, "| {} | external | | | [{title}]({url}) |", f.id);
        }
    }
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A test suite per feature, a test case per endpoint.
fn junit(report: &Report) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"egress check\">\n",
    );
    for f in &report.features {
        let cases: Vec<&EndpointResult> = report
            .endpoints
            .iter()
            .filter(|e| e.features.contains(&f.id))
            .collect();
        let failures = cases
            .iter()
            .filter(|e| e.counts && matches!(e.outcome, Outcome::Failed { .. }))
            .count();
        let skipped = cases
            .iter()
            .filter(|e| {
                !matches!(
                    e.outcome,
                    Outcome::Ok | Outcome::Warning(_) | Outcome::Failed { .. }
                )
            })
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
            xml(&f.id),
            cases.len()
        );
        for e in cases {
            let name = xml(&e.url.clone().unwrap_or_else(|| e.row.clone()));
            let secs = e
                .probe
                .as_ref()
                .map(|p| p.timings.iter().map(|(_, d)| d.as_secs_f64()).sum::<f64>())
                .unwrap_or(0.0);
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{name}\" time=\"{secs:.3}\"",
                xml(&f.id)
            );
            match &e.outcome {
                Outcome::Ok => out.push_str("/>\n"),
                Outcome::Failed { .. } if e.counts => {
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\"/>\n    </testcase>\n",
                        xml(&e.outcome.reason())
                    );
                }
                Outcome::Warning(_) | Outcome::Failed { .. } => {
                    let _ = write!(
                        out,
                        ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                        xml(&e.outcome.reason())
                    );
                }
                _ => {
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        xml(&e.outcome.reason())
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Text exposition in the spirit of the blackbox exporter.
fn prometheus(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("# HELP probe_success Whether the endpoint was reachable (1) or not (0).\n# TYPE probe_success gauge\n");
    let probed: Vec<&EndpointResult> = report
        .endpoints
        .iter()
        .filter(|e| e.probe.is_some())
        .collect();
    for e in &probed {
        let ok = matches!(e.outcome, Outcome::Ok | Outcome::Warning(_));
        let reason = match &e.outcome {
            Outcome::Failed { phase, .. } => phase_name(*phase),
            _ => "",
        };
        let _ = writeln!(
            out,
            "probe_success{{url=\"{}\",feature=\"{}\",failure_reason=\"{reason}\"}} {}",
            label(e.url.as_deref().unwrap_or(&e.row)),
            label(&e.features.join(",")),
            u8::from(ok)
        );
    }
    out.push_str("# HELP probe_duration_seconds How long the probe took.\n# TYPE probe_duration_seconds gauge\n");
    for e in &probed {
        let p = e.probe.as_ref().expect("probed");
        let total: f64 = p.timings.iter().map(|(_, d)| d.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "probe_duration_seconds{{url=\"{}\"}} {total:.6}",
            label(e.url.as_deref().unwrap_or(&e.row))
        );
    }
    out.push_str("# HELP probe_http_duration_seconds Duration of each phase.\n# TYPE probe_http_duration_seconds gauge\n");
    for e in &probed {
        let p = e.probe.as_ref().expect("probed");
        for (phase, d) in &p.timings {
            let _ = writeln!(
                out,
                "probe_http_duration_seconds{{url=\"{}\",phase=\"{}\"}} {:.6}",
                label(e.url.as_deref().unwrap_or(&e.row)),
                phase_name(*phase),
                d.as_secs_f64()
            );
        }
    }
    out.push_str("# HELP probe_ssl_earliest_cert_expiry Earliest expiry of the presented chain, Unix time.\n# TYPE probe_ssl_earliest_cert_expiry gauge\n");
    for e in &probed {
        let p = e.probe.as_ref().expect("probed");
        if let Some(earliest) = p
            .tls
            .as_ref()
            .and_then(|t| t.chain.iter().map(|c| c.not_after).min())
        {
            let _ = writeln!(
                out,
                "probe_ssl_earliest_cert_expiry{{url=\"{}\"}} {earliest}",
                label(e.url.as_deref().unwrap_or(&e.row))
            );
        }
    }
    out.push_str("# HELP egress_feature_status Feature verdict: 0 OK, 1 degraded, 2 critical, 3 external.\n# TYPE egress_feature_status gauge\n");
    for f in &report.features {
        let v = match f.status {
            FeatureStatus::Ok => 0,
            FeatureStatus::Degraded => 1,
            FeatureStatus::Critical => 2,
            FeatureStatus::External => 3,
        };
        let _ = writeln!(
            out,
            "egress_feature_status{{feature=\"{}\",status=\"{}\"}} {v}",
            label(&f.id),
            f.status.as_str()
        );
    }
    out
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "resolve",
        Phase::Tcp => "connect",
        Phase::Proxy => "proxy",
        Phase::Tls => "tls",
        Phase::Http => "processing",
    }
}

#[derive(Debug, Serialize)]
struct CheckDoc<'a> {
    format: &'static str,
    header: &'a [String],
    duration_seconds: f64,
    critical: bool,
    features: Vec<FeatureDoc<'a>>,
    endpoints: Vec<EndpointDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct FeatureDoc<'a> {
    id: &'a str,
    title: &'a str,
    status: &'static str,
    status_message: Option<u32>,
    external: Vec<ExternalDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct ExternalDoc<'a> {
    title: &'a str,
    url: &'a str,
}

#[derive(Debug, Serialize)]
struct EndpointDoc<'a> {
    row: &'a str,
    url: Option<&'a str>,
    features: &'a [String],
    roles: &'a [String],
    verdict: &'static str,
    counts: bool,
    phase: Option<String>,
    reason: String,
    addresses: Vec<String>,
    connected: Option<String>,
    proxy_status: Option<u16>,
    http_status: Option<u16>,
    redirects: Vec<&'a str>,
    timings_ms: Vec<(String, u128)>,
    tls: Option<TlsDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct TlsDoc<'a> {
    version: Option<&'a str>,
    cipher_suite: Option<&'a str>,
    trusted: bool,
    publicly_trusted: bool,
    chain: Vec<CertDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct CertDoc<'a> {
    subject: &'a str,
    issuer: &'a str,
    not_before: i64,
    not_after: i64,
    crl_urls: &'a [String],
    ocsp_urls: &'a [String],
}

impl<'a> CheckDoc<'a> {
    fn new(report: &'a Report, header: &'a [String]) -> CheckDoc<'a> {
        CheckDoc {
            format: "egress.check/1",
            header,
            duration_seconds: report.duration.as_secs_f64(),
            critical: report.critical(),
            features: report
                .features
                .iter()
                .map(|f| FeatureDoc {
                    id: &f.id,
                    title: &f.title,
                    status: f.status.as_str(),
                    status_message: f.status.message_id(),
                    external: f
                        .external
                        .iter()
                        .map(|(t, u)| ExternalDoc { title: t, url: u })
                        .collect(),
                })
                .collect(),
            endpoints: report
                .endpoints
                .iter()
                .map(|e| {
                    let p = e.probe.as_ref();
                    EndpointDoc {
                        row: &e.row,
                        url: e.url.as_deref(),
                        features: &e.features,
                        roles: &e.roles,
                        verdict: e.outcome.as_str(),
                        counts: e.counts,
                        phase: match &e.outcome {
                            Outcome::Failed { phase, .. } => Some(phase.to_string()),
                            _ => None,
                        },
                        reason: e.outcome.reason(),
                        addresses: p
                            .map(|p| p.addresses.iter().map(|a| a.to_string()).collect())
                            .unwrap_or_default(),
                        connected: p.and_then(|p| p.connected).map(|a| a.to_string()),
                        proxy_status: p.and_then(|p| p.proxy_status),
                        http_status: p.and_then(|p| p.http_status),
                        redirects: p
                            .map(|p| p.redirects.iter().map(String::as_str).collect())
                            .unwrap_or_default(),
                        timings_ms: p
                            .map(|p| {
                                p.timings
                                    .iter()
                                    .map(|(ph, d)| (ph.to_string(), d.as_millis()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        tls: p.and_then(|p| p.tls.as_ref()).map(|t| TlsDoc {
                            version: t.version.as_deref(),
                            cipher_suite: t.cipher_suite.as_deref(),
                            trusted: t.trusted,
                            publicly_trusted: t.publicly_trusted,
                            chain: t
                                .chain
                                .iter()
                                .map(|c| CertDoc {
                                    subject: &c.subject,
                                    issuer: &c.issuer,
                                    not_before: c.not_before,
                                    not_after: c.not_after,
                                    crl_urls: &c.crl_urls,
                                    ocsp_urls: &c.ocsp_urls,
                                })
                                .collect(),
                        }),
                    }
                })
                .collect(),
        }
    }
}
