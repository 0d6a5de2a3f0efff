//! The proxy and `egress explain` never disagree: for every
//! row of every embedded revision's plan, on each of its scheme and port
//! pairs and on a port it does not name, the proxy's decision is the
//! explain engine's verdict on the same URL as `egress explain` reads it;
//! and the proxy allows every pair the plan names.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use egress_catalog::catalog::{Cloud, Scheme};
use egress_catalog::embedded;
use egress_catalog::explain::{Explainer, Input, Placeholders};
use egress_catalog::plan::{self, Request};
use egress_gate::{Ask, Gate, Plans, parse_host};
use egress_pattern::PatternKind;

/// A host the pattern matches.
fn sample(kind: PatternKind<'_>) -> String {
    match kind {
        PatternKind::Exact(host) => host.to_owned(),
        PatternKind::Subdomains { suffix } => format!("x.{suffix}"),
        PatternKind::InLabel {
            prefix,
            suffix,
            parent,
        } => format!("{prefix}x{suffix}.{parent}"),
        PatternKind::Ip(IpAddr::V4(ip)) => ip.to_string(),
        PatternKind::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
    }
}

#[test]
fn proxy_and_explain_agree_on_every_endpoint_of_every_revision() {
    let source: IpAddr = "127.0.0.1".parse().unwrap();
    let mut asked = 0;
    for catalog in embedded::all().unwrap() {
        let request = Request {
            cloud: Cloud::Public,
            version: None,
            as_of: jiff::civil::date(2026, 1, 15),
            features: None,
            roles: Vec::new(),
            placeholders: BTreeMap::from([
                ("cmg-name".into(), "GraniteFalls".into()),
                ("cmg-region".into(), "westus".into()),
                ("child-sup-fqdn".into(), "sup01.child.contoso.com".into()),
                ("parent-sup-fqdn".into(), "sup01.contoso.com".into()),
            ]),
            exclude: Default::default(),
        };
        let plan = Arc::new(plan::resolve(&catalog, &request));
        let catalog = Arc::new(catalog);
        let gate = Gate::new(Plans {
            catalog: catalog.clone(),
            default: Some((Vec::new(), plan.clone())),
            servers: Vec::new(),
        });
        let explainer = Explainer::new(
            std::slice::from_ref(&catalog),
            Some(plan.clone()),
            Placeholders::Unresolved,
        );
        for row in plan.rows.iter().filter(|r| r.status.is_in_force()) {
            let Some(pattern) = &row.pattern else {
                continue;
            };
            let host = sample(pattern.kind());
            let pairs: Vec<(Scheme, u16)> = row
                .in_force()
                .flat_map(|r| r.pairs.iter().copied())
                .collect();
            let unnamed = (1..).find(|p| !pairs.iter().any(|(_, q)| q == p)).unwrap();
            let mut asks: Vec<(Scheme, u16, bool)> =
                pairs.iter().map(|&(s, p)| (s, p, true)).collect();
            asks.push((Scheme::Https, unnamed, false));
            for (scheme, port, expected) in asks {
                let path = (scheme == Scheme::Http).then(|| row.path.clone().unwrap_or("/".into()));
                let target = parse_host(&host).unwrap();
                let decision = gate.decide(&Ask {
                    source,
                    scheme,
                    target: &target,
                    port,
                    path: path.as_deref(),
                });
                let url = format!("{scheme}://{host}:{port}{}", path.as_deref().unwrap_or(""));
                let explained = explainer
                    .explain(&Input::parse(&url).unwrap())
                    .plan
                    .unwrap();
                assert_eq!(
                    (decision.allowed, &decision.reason),
                    (explained.allowed, &explained.reason),
                    "{}: {url}",
                    catalog.meta.revision
                );
                assert_eq!(
                    decision.allowed, expected,
                    "{}: {url}: {}",
                    catalog.meta.revision, decision.reason
                );
                asked += 1;
            }
        }
    }
    assert!(asked > 200, "only {asked} asked");
}
