//! The check's Prometheus metrics, defined once for `egress check
//! --format prometheus` and `egress serve`'s `/metrics` (docs/serve.md):
//! families registered with prometheus-client, set from each [`Report`].
//!
//! Two expositions: OpenMetrics (prometheus-client's own), and the classic
//! text format 0.0.4 that Prometheus scrapes by default and `promtool
//! check metrics` reads, written from the OpenMetrics text by
//! [`classic`]: counters' and infos' families named by their samples, no
//! `# UNIT` and no `# EOF`.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::plan::{FeatureStatus, Outcome, Report};

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The content type of the classic text format.
pub const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics text.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the catalog is, for `egress_catalog_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogInfo {
    pub vendor: String,
    pub revision: String,
    pub describes: String,
}

/// Every metric egress exports. Gauges hold the last run; counters add up
/// over the runs of one process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    feature_status: Family<Labels, FloatGauge>,
    feature_status_message: Family<Labels, FloatGauge>,
    endpoint_up: Family<Labels, FloatGauge>,
    phase_duration: Family<Labels, FloatGauge>,
    failures: Family<Labels, Counter>,
    not_after: Family<Labels, FloatGauge>,
    inspected: Family<Labels, FloatGauge>,
    run_duration: FloatGauge,
    last_run: FloatGauge,
}

/// Feature statuses, one series each.
const STATUSES: [FeatureStatus; 4] = [
    FeatureStatus::Ok,
    FeatureStatus::Degraded,
    FeatureStatus::Critical,
    FeatureStatus::External,
];

impl CatalogInfo {
    pub fn of(catalog: &egress_catalog::catalog::Catalog) -> CatalogInfo {
        CatalogInfo {
            vendor: catalog.meta.vendor.clone(),
            revision: catalog.meta.revision.clone(),
            describes: catalog.meta.describes.to_string(),
        }
    }
}

impl Metrics {
    pub fn new(catalog: &CatalogInfo) -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            feature_status: Family::default(),
            feature_status_message: Family::default(),
            endpoint_up: Family::default(),
            phase_duration: Family::default(),
            failures: Family::default(),
            not_after: Family::default(),
            inspected: Family::default(),
            run_duration: FloatGauge::default(),
            last_run: FloatGauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "egress_feature_status",
            "The feature's status after the last run: 1 for the current status (ok, degraded, critical, external), 0 for the others",
            m.feature_status.clone(),
        );
        registry.register(
            "egress_feature_status_message",
            "The ConfigMgr status message the feature's status stands for: 11410 OK, 11411 degraded, 11412 critical",
            m.feature_status_message.clone(),
        );
        registry.register(
            "egress_endpoint_up",
            "Whether the endpoint was reachable in the last run, per feature that needs it",
            m.endpoint_up.clone(),
        );
        registry.register_with_unit(
            "egress_probe_phase_duration",
            "How long each phase of the endpoint's last probe took",
            Unit::Seconds,
            m.phase_duration.clone(),
        );
        registry.register(
            "egress_endpoint_failures",
            "Probes of the endpoint that failed, by the phase that failed",
            m.failures.clone(),
        );
        registry.register_with_unit(
            "egress_tls_certificate_not_after_timestamp",
            "When the endpoint's earliest-expiring presented certificate expires, Unix time",
            Unit::Seconds,
            m.not_after.clone(),
        );
        registry.register(
            "egress_tls_inspected",
            "1 when the endpoint's chain is trusted here but not by the public Web PKI (TLS inspection), by issuer",
            m.inspected.clone(),
        );
        registry.register_with_unit(
            "egress_run_duration",
            "How long the last run took",
            Unit::Seconds,
            m.run_duration.clone(),
        );
        registry.register_with_unit(
            "egress_last_run_timestamp",
            "When the last run finished, Unix time",
            Unit::Seconds,
            m.last_run.clone(),
        );
        registry.register(
            "egress_catalog",
            "The catalog checked",
            Info::new(vec![
                ("vendor", catalog.vendor.clone()),
                ("revision", catalog.revision.clone()),
                ("describes", catalog.describes.clone()),
            ]),
        );
        registry.register(
            "egress_build",
            "The egress build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION").to_owned())]),
        );
        Metrics { registry, ..m }
    }

    /// Sets the gauges from `report`, finished at `finished` (Unix time),
    /// and counts its failures. Series of the previous run that this one
    /// lacks are gone.
    pub fn record(&self, report: &Report, finished: f64) {
        for family in [
            &self.feature_status,
            &self.feature_status_message,
            &self.endpoint_up,
            &self.phase_duration,
            &self.not_after,
            &self.inspected,
        ] {
            family.clear();
        }
        for f in &report.features {
            for s in STATUSES {
                self.feature_status
                    .get_or_create(&vec![
                        ("feature", f.id.clone()),
                        ("status", s.as_str().to_ascii_lowercase()),
                    ])
                    .set(if s == f.status { 1.0 } else { 0.0 });
            }
            if let Some(id) = f.status.message_id() {
                self.feature_status_message
                    .get_or_create(&vec![("feature", f.id.clone())])
                    .set(f64::from(id));
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for e in report.endpoints.iter().filter(|e| e.counts) {
            let Some(probe) = &e.probe else { continue };
            let endpoint = e.url.clone().unwrap_or_else(|| e.row.clone());
            let up = matches!(e.outcome, Outcome::Ok | Outcome::Warning(_));
            for f in &e.features {
                self.endpoint_up
                    .get_or_create(&vec![
                        ("feature", f.clone()),
                        ("endpoint", endpoint.clone()),
                    ])
                    .set(if up { 1.0 } else { 0.0 });
            }
            // One probe may stand in several rows: its own series once.
            if seen.contains(&endpoint.as_str()) {
                continue;
            }
            seen.push(e.url.as_deref().unwrap_or(&e.row));
            let mut phases: Vec<(&'static str, f64)> = Vec::new();
            for (phase, d) in &probe.timings {
                let name = crate::report::phase_name(*phase);
                match phases.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += d.as_secs_f64(),
                    None => phases.push((name, d.as_secs_f64())),
                }
            }
            for (name, seconds) in phases {
                self.phase_duration
                    .get_or_create(&vec![
                        ("endpoint", endpoint.clone()),
                        ("phase", name.to_owned()),
                    ])
                    .set(seconds);
            }
            if let Outcome::Failed { phase, .. } = &e.outcome {
                self.failures
                    .get_or_create(&vec![
                        ("endpoint", endpoint.clone()),
                        ("phase", crate::report::phase_name(*phase).to_owned()),
                    ])
                    .inc();
            }
            if let Some(tls) = &probe.tls {
                if let Some(earliest) = tls.chain.iter().map(|c| c.not_after).min() {
                    self.not_after
                        .get_or_create(&vec![("endpoint", endpoint.clone())])
                        .set(earliest as f64);
                }
                let issuer = tls
                    .chain
                    .first()
                    .map(|c| c.issuer.clone())
                    .unwrap_or_default();
                let inspected = tls.trusted && !tls.publicly_trusted;
                self.inspected
                    .get_or_create(&vec![("endpoint", endpoint.clone()), ("issuer", issuer)])
                    .set(if inspected { 1.0 } else { 0.0 });
            }
        }
        self.run_duration.set(report.duration.as_secs_f64());
        self.last_run.set(finished);
    }

    /// OpenMetrics text.
    pub fn openmetrics(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// The classic text format (0.0.4).
    pub fn classic(&self) -> String {
        classic(&self.openmetrics())
    }
}

/// The classic text format (0.0.4) of OpenMetrics text as prometheus-client
/// writes it: a counter's family takes its samples' `_total` name, an info
/// becomes a gauge named `_info`, and `# UNIT` and `# EOF` go (0.0.4 has
/// neither). Sample lines are the same in both.
pub fn classic(openmetrics: &str) -> String {
    // Family name -> the name 0.0.4 gives it, and its type there.
    let mut renamed: Vec<(String, String, &'static str)> = Vec::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            match rest.rsplit_once(' ') {
                Some((name, "counter")) => {
                    renamed.push((name.to_owned(), format!("{name}_total"), "counter"));
                }
                Some((name, "info")) => {
                    renamed.push((name.to_owned(), format!("{name}_info"), "gauge"));
                }
                _ => {}
            }
        }
    }
    let mut out = String::new();
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let header = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        if let Some((prefix, rest)) = header {
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some((_, new, kind)) = renamed.iter().find(|(n, _, _)| n == name) {
                let text = if prefix == "# TYPE " { kind } else { text };
                let _ = writeln!(out, "{prefix}{new} {text}");
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_renames_counters_and_infos() {
        let open = "# HELP a_failures Failures.\n# TYPE a_failures counter\na_failures_total{x=\"1\"} 2\n# HELP a_build The build.\n# TYPE a_build info\na_build_info{version=\"1\"} 1\n# HELP a_run How long.\n# TYPE a_run gauge\n# UNIT a_run seconds\na_run_seconds 0.5\n# EOF\n";
        assert_eq!(
            classic(open),
            "# HELP a_failures_total Failures.\n# TYPE a_failures_total counter\na_failures_total{x=\"1\"} 2\n# HELP a_build_info The build.\n# TYPE a_build_info gauge\na_build_info{version=\"1\"} 1\n# HELP a_run How long.\n# TYPE a_run gauge\na_run_seconds 0.5\n"
        );
    }
}
