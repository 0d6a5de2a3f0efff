//! Checking a plan: alternatives, soon-expiring certificates, inactive
//! rows, optional rows, per-feature verdicts.

use std::collections::BTreeMap;
use std::time::Duration;

use egress_catalog::SourceFile;
use egress_catalog::catalog::{self, Cloud};
use egress_catalog::plan::{self, Request};
use egress_check::Config;
use egress_check::plan::{CheckOptions, FeatureStatus, Outcome, check};
use egress_test_support::tls::{Ca, Validity, server_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An HTTPS origin whose certificate for `name` expires on `expires`.
async fn origin(name: &str, expires: (i32, u8, u8)) -> (Vec<u8>, u16) {
    let ca = Ca::new("Plan Test CA");
    let leaf = ca.leaf(&[name], Validity::Until(expires.0, expires.1, expires.2));
    let ca_der = ca.der.to_vec();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&leaf));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let mut buf = [0u8; 2048];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (ca_der, port)
}

#[tokio::test]
async fn alternatives_expiry_and_inactive_rows() {
    // `soon` expires in ten days from the probe's "now" (2030-01-01).
    let (ca_soon, soon) = origin("soon.egress.test", (2030, 1, 11)).await;
    let (ca_alt, alt) = origin("alt-ok.egress.test", (2099, 1, 1)).await;
    let refused = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = format!(
        r#"[catalog]
id = "plan-test"
title = "Plan test"
vendor = "egress"
product = "tests"
revision = "1"
describes = 2026-01-01

[[page]]
id = "p"
title = "Page"
language = "en-US"

[[feature]]
id = "alt"
title = "Alternatives"
page = "p"
section = "Alt"

[[feature]]
id = "expiry"
title = "Expiry"
page = "p"
section = "Expiry"

[[feature]]
id = "status"
title = "Statuses"
page = "p"
section = "Status"

[[feature]]
id = "extras"
title = "Optional extras"
page = "p"
section = "Extras"

[[endpoint]]
id = "extra-down"
url = "https://extra-down.egress.test:{refused}/"
features = ["extras"]
required = false
attributes = {{ category = "Default" }}

[[endpoint]]
id = "extra-ok"
url = "https://alt-ok.egress.test:{alt}/extra"
features = ["extras"]

[[endpoint]]
id = "picky"
url = "https://alt-ok.egress.test:{alt}/app"
features = ["status"]
probe = {{ path = "/health", reachable_status = [204] }}

[[endpoint]]
id = "alt-down"
url = "https://alt-down.egress.test:{refused}/"
features = ["alt"]
alternatives = "g"

[[endpoint]]
id = "alt-ok"
url = "https://alt-ok.egress.test:{alt}/"
features = ["alt"]
alternatives = "g"

[[endpoint]]
id = "soon"
url = "https://soon.egress.test:{soon}/"
features = ["expiry"]

[[endpoint]]
id = "gone"
url = "https://gone.egress.test:{refused}/"
features = ["expiry"]
valid_until = 2025-01-01
"#
    );
    let catalog =
        catalog::load(&SourceFile::new("plan-test.toml", text)).unwrap_or_else(|e| panic!("{e}"));
    let plan = plan::resolve(
        &catalog,
        &Request {
            cloud: Cloud::Public,
            version: None,
            as_of: jiff::civil::date(2026, 6, 1),
            features: None,
            roles: Vec::new(),
            placeholders: BTreeMap::new(),
            exclude: Default::default(),
        },
    );
    let local = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    let resolve = ["alt-down", "alt-ok", "soon", "gone", "extra-down"]
        .iter()
        .zip([refused, alt, soon, refused, refused])
        .map(|(h, p)| (format!("{h}.egress.test"), p, local))
        .collect();
    let roots: Vec<rustls::pki_types::CertificateDer<'static>> =
        vec![ca_soon.into(), ca_alt.into()];
    let options = CheckOptions {
        config: Config {
            connect_timeout: Duration::from_millis(500),
            phase_timeout: Duration::from_secs(2),
            extra_roots: roots.clone(),
            public_roots: Some(roots),
            resolve,
            roots_only: true,
            ..Config::default()
        },
        concurrency: 4,
        include_inactive: false,
        route: Default::default(),
        now: jiff::Timestamp::from_second(1_893_456_000)
            .unwrap()
            .as_second(), // 2030-01-01
    };
    let report = check(&catalog, &plan, &options, |_| {}).await;

    let outcome = |row: &str| {
        let e = report
            .endpoints
            .iter()
            .find(|e| e.row == row)
            .unwrap_or_else(|| panic!("no {row}"));
        (e.outcome.clone(), e.counts)
    };
    // One reachable alternative satisfies the requirement.
    assert!(matches!(
        outcome("alt-down.egress.test"),
        (Outcome::Failed { .. }, false)
    ));
    assert_eq!(outcome("alt-ok.egress.test"), (Outcome::Ok, true));
    // A certificate expiring within 30 days is a warning.
    assert_eq!(
        outcome("soon.egress.test"),
        (
            Outcome::Warning(vec!["certificate expires in 10 days".to_owned()]),
            true
        )
    );
    // An optional row that fails counts, but only as degraded.
    let extra = report
        .endpoints
        .iter()
        .find(|e| e.row == "extra-down.egress.test")
        .unwrap();
    assert!(matches!(extra.outcome, Outcome::Failed { .. }) && extra.counts && extra.optional);
    let row = plan
        .rows
        .iter()
        .find(|r| r.host == "extra-down.egress.test")
        .unwrap();
    assert_eq!(row.attributes["category"], "Default");
    // An expired row is not probed and does not count.
    assert_eq!(
        outcome("gone.egress.test"),
        (Outcome::Skipped("expired 2025-01-01".to_owned()), false)
    );
    // The catalog's probe hints: the path asked, and which statuses count.
    let picky = report
        .endpoints
        .iter()
        .find(|e| e.row == "alt-ok.egress.test/app")
        .unwrap();
    assert_eq!(
        picky.url.as_deref(),
        Some(format!("https://alt-ok.egress.test:{alt}/health").as_str())
    );
    assert_eq!(
        picky.outcome.reason(),
        "HTTP: status 200 is not one the catalog counts as reachable (204)"
    );
    let features: Vec<(&str, FeatureStatus)> = report
        .features
        .iter()
        .map(|f| (f.id.as_str(), f.status))
        .collect();
    assert_eq!(
        features,
        [
            ("alt", FeatureStatus::Ok),
            ("expiry", FeatureStatus::Degraded),
            ("status", FeatureStatus::Critical),
            ("extras", FeatureStatus::Degraded)
        ]
    );
    assert!(report.critical());
}
