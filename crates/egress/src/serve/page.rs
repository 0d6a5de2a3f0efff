//! The status page (`GET /`): server-rendered HTML, readable without
//! JavaScript, status in words as well as colour. Like ConfigMgr's
//! component status: each feature OK, degraded or critical with its
//! status message id; then every endpoint with its phase, reason,
//! timings, route and TLS issuer (inspection highlighted); then the last
//! state changes, and when the next run is.

use egress_check::plan::{Outcome, Report};
use maud::{DOCTYPE, Markup, html};

use egress_check::history::Run;

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.status { font-weight: 600; }
.ok { background: #dff3e4; }
.degraded { background: #fff4ce; }
.critical { background: #fde7e9; }
.external, .skipped { background: #eef1f5; }
.inspected { font-weight: 600; color: #8a1c00; }
code { font-size: 0.9em; }
";

/// The page for the last run (none yet: a page that says so).
pub fn render(
    header: &[String],
    last: Option<&Report>,
    history: &[&Run],
    next_run: &str,
) -> String {
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content="60";
                title { "egress: internet access of this site system" }
                style { (STYLE) }
            }
            body {
                header {
                    h1 { "egress: internet access of this site system" }
                    @for line in header { p { (line) } }
                    p { "Next run: " time datetime=(next_run) { (next_run) } }
                }
                main {
                    @match last {
                        None => p { "The first run has not finished yet." },
                        Some(report) => (report_sections(report)),
                    }
                    section {
                        h2 { "Recent changes" }
                        (changes(history))
                    }
                }
            }
        }
    };
    page.into_string()
}

fn report_sections(report: &Report) -> Markup {
    html! {
        p { "Last run took " (format!("{:.1}", report.duration.as_secs_f64())) " s"
            @if let Some(proxy) = &report.proxy { ", through the proxy " code { (proxy) } } "." }
        section {
            h2 { "Features" }
            table {
                caption { "Each feature's status, as ConfigMgr's component status reports it" }
                thead { tr {
                    th scope="col" { "Feature" }
                    th scope="col" { "Status" }
                    th scope="col" { "Status message" }
                    th scope="col" { "Title" }
                } }
                tbody {
                    @for f in &report.features {
                        @let status = f.status.as_str();
                        tr class=(status.to_ascii_lowercase()) {
                            th scope="row" { code { (f.id) } }
                            td class="status" { (status) }
                            td { @if let Some(id) = f.status.message_id() { (id) } }
                            td { (f.title) }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Endpoints" }
            table {
                caption { "Every endpoint of the plan, from the last run" }
                thead { tr {
                    th scope="col" { "Endpoint" }
                    th scope="col" { "Features" }
                    th scope="col" { "Verdict" }
                    th scope="col" { "Phase" }
                    th scope="col" { "Reason" }
                    th scope="col" { "Timings" }
                    th scope="col" { "Route" }
                    th scope="col" { "TLS issuer" }
                } }
                tbody {
                    @for e in &report.endpoints {
                        @let verdict = e.outcome.as_str();
                        tr class=(verdict_class(&e.outcome)) {
                            th scope="row" { code { (e.url.as_deref().unwrap_or(&e.row)) } }
                            td { (e.features.join(", ")) }
                            td class="status" { (verdict) }
                            td { @if let Outcome::Failed { phase, .. } = &e.outcome { (phase) } }
                            td { (e.outcome.reason()) }
                            td { @if let Some(p) = &e.probe {
                                (p.timings.iter().map(|(ph, d)| format!("{ph} {:.0} ms", d.as_secs_f64() * 1000.0)).collect::<Vec<_>>().join(", "))
                            } }
                            td { @if let Some(p) = &e.probe {
                                @if let Some(via) = &p.via { (via) }
                                @else if let Some(proxy) = &report.proxy { "proxy " (proxy) }
                                @else { "direct" }
                            } }
                            td { @if let Some(tls) = e.probe.as_ref().and_then(|p| p.tls.as_ref()) {
                                @let issuer = tls.chain.first().map(|c| c.issuer.as_str()).unwrap_or("");
                                @if tls.trusted && !tls.publicly_trusted {
                                    span class="inspected" { "inspected: " (issuer) }
                                } @else { (issuer) }
                            } }
                        }
                    }
                }
            }
        }
    }
}

fn verdict_class(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Warning(_) => "degraded",
        Outcome::Failed { .. } => "critical",
        _ => "skipped",
    }
}

/// Each run where a feature's status changed, newest first.
fn changes(history: &[&Run]) -> Markup {
    let mut items: Vec<(String, String)> = Vec::new();
    for pair in history.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        for pair in &after.features {
            let (id, status) = &**pair;
            let old = before
                .features
                .iter()
                .find(|p| &p.0 == id)
                .map(|p| p.1.as_str());
            if old != Some(status.as_str()) {
                items.push((
                    after.finished.clone(),
                    format!("{id}: {} → {status}", old.unwrap_or("(new)")),
                ));
            }
        }
    }
    items.reverse();
    html! {
        @if items.is_empty() {
            p { "No feature changed status in the runs kept." }
        } @else {
            ol {
                @for (when, what) in items.iter().take(50) {
                    li { time datetime=(when) { (when) } ": " (what) }
                }
            }
        }
    }
}
