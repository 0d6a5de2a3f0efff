//! The check's report in each output format: a table for people,
//! markdown, JUnit XML, Prometheus text and the JSON document (whose types
//! are in `egress_catalog::wire`, with every other JSON document).

use std::fmt::Write as _;

use egress_catalog::table::Table;
use egress_catalog::wire::{
    CertDoc, CheckDoc, CheckEndpointDoc, CheckExternalDoc, CheckFeatureDoc, FeatureOnRouteDoc,
    FeatureRoutesDoc, ProxyAuthDoc, RouteCheckDoc, RoutesCheckDoc, TimingDoc, TlsDoc,
};

use crate::auth::AuthFailure;
use crate::plan::{EndpointResult, FeatureStatus, Outcome, Report};
use crate::{Failure, Phase, Side};

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

/// The check as a table per feature, for people; `colour` paints the
/// verdicts with ANSI escapes.
pub fn table(report: &Report, header: &[String], colour: bool) -> String {
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
            if let Some(via) = e.probe.as_ref().and_then(|p| p.via.as_ref()) {
                detail.push(format!("via {via}"));
            }

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
            if e.optional {
                endpoint.push("  (optional: never critical)".to_owned());
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
    if let Some(line) = proxy_auth_summary(report) {
        let _ = writeln!(out, "{line}");
    }
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
    for step in next_steps(report, report.proxy.is_some()) {
        let _ = writeln!(out, "Next: {step}");
    }
    out
}

/// `Proxy authentication: NTLM for 198 endpoints (offered: Basic, NTLM)`,
/// when a proxy asked.
fn proxy_auth_summary(report: &Report) -> Option<String> {
    let records: Vec<&crate::AuthRecord> = report
        .endpoints
        .iter()
        .filter_map(|e| e.probe.as_ref()?.proxy_auth.as_ref())
        .collect();
    if records.is_empty() {
        return None;
    }
    let mut offered: Vec<&str> = Vec::new();
    let mut used: Vec<(crate::auth::Scheme, usize)> = Vec::new();
    for r in &records {
        for o in &r.offered {
            if !offered.contains(&o.as_str()) {
                offered.push(o);
            }
        }
        if let Some(s) = r.used {
            match used.iter_mut().find(|(u, _)| *u == s) {
                Some((_, n)) => *n += 1,
                None => used.push((s, 1)),
            }
        }
    }
    let used: Vec<String> = used
        .iter()
        .map(|(s, n)| format!("{s} for {n} endpoint{}", if *n == 1 { "" } else { "s" }))
        .collect();
    let used = if used.is_empty() {
        "none used".to_owned()
    } else {
        used.join(", ")
    };
    Some(if offered.is_empty() {
        format!("Proxy authentication: {used}.")
    } else {
        format!(
            "Proxy authentication: {used} (offered: {}).",
            offered.join(", ")
        )
    })
}

/// Concrete next steps, from the failures that count: which phase failed,
/// and whether the proxy or the target did.
fn next_steps(report: &Report, proxy_set: bool) -> Vec<&'static str> {
    let failures: Vec<(Phase, &Failure)> = report
        .endpoints
        .iter()
        .filter(|e| e.counts)
        .filter_map(|e| match &e.outcome {
            Outcome::Failed { phase, reason } => Some((*phase, reason)),
            _ => None,
        })
        .collect();
    let any = |f: &dyn Fn(&Failure) -> bool| failures.iter().any(|(_, r)| f(r));
    let target = |phase: Phase| {
        failures
            .iter()
            .any(|(p, r)| *p == phase && r.side() == Side::Target)
    };
    let mut steps = Vec::new();
    if any(&|r| {
        matches!(
            r,
            Failure::NoSuchHost { of_proxy: true }
                | Failure::DnsTimeout { of_proxy: true, .. }
                | Failure::DnsRefused { of_proxy: true, .. }
                | Failure::Dns { of_proxy: true, .. }
        )
    }) {
        steps.push("the proxy's name does not resolve: check the proxy address, or name a DNS server with --dns-server");
    }
    if any(&|r| matches!(r, Failure::Connect { to_proxy: true, .. })) {
        steps.push(
            "the proxy does not accept connections: check its address and port, and that it runs",
        );
    }
    let dns: Vec<bool> = failures
        .iter()
        .map(|(p, r)| *p == Phase::Dns && r.side() == Side::Target)
        .collect();
    if !dns.is_empty() && dns.iter().all(|d| *d) {
        steps.push("every failure is in DNS: check this machine's DNS configuration, or name a server with --dns-server");
    } else if target(Phase::Dns) {
        steps.push(if proxy_set {
            "some names do not resolve from here: check DNS"
        } else {
            "some names do not resolve from here: check DNS, or the proxy this site should use (--proxy)"
        });
    }
    if any(&|r| matches!(r, Failure::ProxyAuthRequired { .. })) {
        steps.push("the proxy requires authentication: give its credentials (in the proxy URL, the profile's [proxy], or EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD)");
    }
    if any(&|r| {
        matches!(
            r,
            Failure::ProxyAuth {
                failure: AuthFailure::Rejected { .. },
                ..
            }
        )
    }) {
        steps.push("the proxy rejected the credentials: check the user (with its domain for NTLM: DOMAIN\\user) and the password");
    }
    if any(&|r| {
        matches!(
            r,
            Failure::ProxyAuth {
                failure: AuthFailure::NoScheme { .. },
                ..
            }
        )
    }) {
        steps.push("the proxy offers no authentication scheme egress can use as asked: see what it offers, and choose with --proxy-auth");
    }
    if any(&|r| {
        matches!(
            r,
            Failure::ProxyAuth {
                failure: AuthFailure::ClosedBetweenLegs { .. }
                    | AuthFailure::NoChallenge { .. }
                    | AuthFailure::BadChallenge { .. }
                    | AuthFailure::Local { .. },
                ..
            }
        )
    }) {
        steps.push("the NTLM or Negotiate handshake with the proxy broke off: the proxy (or a load balancer before it) must keep one connection for the whole handshake");
    }
    if any(&|r| matches!(r, Failure::ProxyDenied { .. })) {
        steps.push("the proxy blocks endpoints: allow them on the proxy (`egress render squid`, `pac`, ...)");
    }
    if any(&|r| matches!(r, Failure::ProxyCannotReach { .. })) {
        steps.push("the proxy cannot reach some endpoints: check the proxy's own DNS, its upstream firewall, or its TLS inspection");
    }
    if any(&|r| matches!(r, Failure::ThroughProxy { .. })) {
        steps.push("requests through the proxy were refused or failed, by the proxy or the origin: look these URLs up in the proxy's log");
    }
    if any(&|r| {
        matches!(
            r,
            Failure::ProxyTimeout { .. } | Failure::ProxyExchange { .. }
        )
    }) {
        steps.push(
            "the proxy does not answer requests: check that it is an HTTP proxy and that it runs",
        );
    }
    if target(Phase::Tcp) {
        steps.push(if proxy_set {
            "connections fail: allow the endpoints on the firewall (`egress render`)"
        } else {
            "connections fail: allow the endpoints on the firewall (`egress render`), or set the proxy this site uses (--proxy)"
        });
    }
    if target(Phase::Tls) {
        steps.push("TLS fails: if a proxy inspects TLS, exempt these hosts, or install its CA (--ca-file to test)");
    }
    if any(&|r| matches!(r, Failure::Internal(_))) {
        steps.push("egress itself failed on some endpoints: please report it, with the output of --format json");
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

/// The check as a markdown table.
pub fn markdown(report: &Report, header: &[String]) -> String {
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

/// JUnit XML: a test suite per feature, a test case per endpoint.
pub fn junit(report: &Report) -> String {
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

/// Seconds since the epoch as an RFC 3339 time in UTC (the number itself
/// if out of range).
fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), |t| t.to_string())
}

pub(crate) fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "resolve",
        Phase::Tcp => "connect",
        Phase::Proxy => "proxy",
        Phase::ProxyAuth => "proxy-auth",
        Phase::Tls => "tls",
        Phase::Http => "processing",
        Phase::Internal => "internal",
    }
}

/// The check as its JSON document (`egress.check/2`, docs/check.md).
pub fn json<'a>(report: &'a Report, header: &'a [String]) -> CheckDoc<'a> {
    {
        CheckDoc {
            format: "egress.check/2",
            header,
            duration_seconds: report.duration.as_secs_f64(),
            critical: report.critical(),
            features: report
                .features
                .iter()
                .map(|f| CheckFeatureDoc {
                    id: &f.id,
                    title: &f.title,
                    status: f.status.as_str(),
                    status_message: f.status.message_id(),
                    external: f
                        .external
                        .iter()
                        .map(|(t, u)| CheckExternalDoc { title: t, url: u })
                        .collect(),
                })
                .collect(),
            endpoints: report
                .endpoints
                .iter()
                .map(|e| {
                    let p = e.probe.as_ref();
                    CheckEndpointDoc {
                        row: &e.row,
                        url: e.url.as_deref(),
                        features: &e.features,
                        roles: &e.roles,
                        verdict: e.outcome.as_str(),
                        counts: e.counts,
                        optional: e.optional,
                        phase: match &e.outcome {
                            Outcome::Failed { phase, .. } => Some(phase_name(*phase).to_owned()),
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
                        via: p.and_then(|p| p.via.as_deref()),
                        proxy_auth: p.and_then(|p| p.proxy_auth.as_ref()).map(|a| ProxyAuthDoc {
                            offered: &a.offered,
                            used: a.used.map(|s| s.name()),
                            requests: a.requests,
                        }),
                        timings: p
                            .map(|p| {
                                p.timings
                                    .iter()
                                    .map(|(ph, d)| TimingDoc {
                                        phase: phase_name(*ph).to_owned(),
                                        ms: (d.as_secs_f64() * 1e6).round() / 1e3,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        warnings: match &e.outcome {
                            Outcome::Warning(w) => w.iter().map(String::as_str).collect(),
                            _ => Vec::new(),
                        },
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
                                    not_before: rfc3339(c.not_before),
                                    not_after: rfc3339(c.not_after),
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

/// The check on several routes (`check --routes`): each route's label,
/// what says it is this machine's, and its report.
#[derive(Debug)]
pub struct RouteReport {
    pub label: String,
    pub says: String,
    pub report: Report,
}

/// Per feature, its status on each route, with the first failure where it
/// is not OK.
pub fn by_route(reports: &[RouteReport]) -> Vec<FeatureRoutesDoc> {
    let Some(first) = reports.first() else {
        return Vec::new();
    };
    first
        .report
        .features
        .iter()
        .map(|f| FeatureRoutesDoc {
            id: f.id.clone(),
            routes: reports
                .iter()
                .filter_map(|r| {
                    let status = r.report.features.iter().find(|g| g.id == f.id)?.status;
                    let reason = r
                        .report
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
                    Some(FeatureOnRouteDoc {
                        route: r.label.clone(),
                        status: status.as_str(),
                        reason: reason.filter(|_| status != FeatureStatus::Ok),
                    })
                })
                .collect(),
        })
        .collect()
}

/// Whether a feature is critical on every route it was checked on (exit
/// status 1).
pub fn critical_everywhere(features: &[FeatureRoutesDoc]) -> bool {
    features.iter().any(|f| {
        f.routes
            .iter()
            .all(|o| o.status == FeatureStatus::Critical.as_str())
    })
}

/// The check on several routes as its JSON document
/// (`egress.check-routes/1`).
pub fn routes_json<'a>(
    reports: &'a [RouteReport],
    features: Vec<FeatureRoutesDoc>,
    header: &'a [String],
) -> RoutesCheckDoc<'a> {
    RoutesCheckDoc {
        format: "egress.check-routes/1",
        header,
        features,
        routes: reports
            .iter()
            .map(|r| RouteCheckDoc {
                route: &r.label,
                says: &r.says,
                report: json(&r.report, header),
            })
            .collect(),
    }
}

/// The check on several routes for people: the routes, then per feature
/// its status on each.
pub fn routes_text(
    reports: &[RouteReport],
    features: &[FeatureRoutesDoc],
    header: &[String],
) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("\nRoutes:\n");
    for r in reports {
        let _ = writeln!(out, "  {}: {}", r.label, r.says);
    }
    out.push('\n');
    for f in features {
        let parts: Vec<String> = f
            .routes
            .iter()
            .map(|o| match &o.reason {
                Some(r) => format!("{} via {} ({r})", o.status, o.route),
                None => format!("{} via {}", o.status, o.route),
            })
            .collect();
        let _ = writeln!(out, "{}: {}", f.id, parts.join("; "));
    }
    out
}
