//! `egress proxy`'s metrics, served on `--admin-listen` (docs/proxy.md):
//! requests by kind, decision and roles, open tunnels, bytes, and the
//! time to connect upstream, through prometheus-client and the classic
//! text writer `egress serve` uses.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct ProxyMetrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    pub open_tunnels: Gauge<i64, std::sync::atomic::AtomicI64>,
    bytes: Family<Labels, Counter<u64, AtomicU64>>,
    connect: Histogram,
    reloads: Family<Labels, Counter>,
}

impl ProxyMetrics {
    pub fn new() -> ProxyMetrics {
        let mut registry = Registry::default();
        let m = ProxyMetrics {
            requests: Family::default(),
            open_tunnels: Gauge::default(),
            bytes: Family::default(),
            // 1 ms to about 16 s.
            connect: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            reloads: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "egress_proxy_requests",
            "Requests by kind (tunnel, http), decision (allow, deny, would_deny, error) and the roles the source asked as",
            m.requests.clone(),
        );
        registry.register(
            "egress_proxy_open_tunnels",
            "Tunnels open now",
            m.open_tunnels.clone(),
        );
        registry.register_with_unit(
            "egress_proxy_tunnel",
            "Bytes moved through tunnels, by direction (up: from clients, down: to them), counted when a tunnel closes",
            Unit::Bytes,
            m.bytes.clone(),
        );
        registry.register_with_unit(
            "egress_proxy_upstream_connect",
            "Time to connect to the origin (or the parent proxy's tunnel)",
            Unit::Seconds,
            m.connect.clone(),
        );
        registry.register(
            "egress_proxy_reloads",
            "Reloads of the catalog and the profile, by result (ok, failed: the running configuration stayed)",
            m.reloads.clone(),
        );
        ProxyMetrics { registry, ..m }
    }

    pub fn request(&self, kind: &'static str, decision: &'static str, roles: &[String]) {
        self.requests
            .get_or_create(&vec![
                ("kind", kind.to_owned()),
                ("decision", decision.to_owned()),
                ("roles", roles.join("+")),
            ])
            .inc();
    }

    pub fn tunnel_bytes(&self, up: u64, down: u64) {
        for (direction, n) in [("up", up), ("down", down)] {
            self.bytes
                .get_or_create(&vec![("direction", direction.to_owned())])
                .inc_by(n);
        }
    }

    pub fn connected(&self, seconds: f64) {
        self.connect.observe(seconds);
    }

    pub fn reloaded(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.reloads
            .get_or_create(&vec![("result", result.to_owned())])
            .inc();
    }

    /// OpenMetrics text, or the classic 0.0.4 text.
    pub fn expose(&self, openmetrics: bool) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        if openmetrics {
            out
        } else {
            egress_check::metrics::classic(&out)
        }
    }
}
