//! `firewall-rules`: one rule per source role, destination, port and
//! scheme, for a firewall written by hand or by another tool. With
//! `--intranet` it is the list for the firewall between site systems (a
//! child software update point to its parent, and so on), which the page
//! describes and no proxy list covers.
//!
//! `ROLE (SOURCES) -> DESTINATION PORT/tcp SCHEME  # FEATURES`: sources are
//! the profile's addresses for the role, or `any` (a role-less requirement
//! applies to every role). The plan's IP ranges follow, from any source
//! (they serve every role): `unspecified (any) -> RANGE PORTS/PROTOCOL  #
//! FEATURES`.

use std::collections::BTreeMap;

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::Plan;

use crate::{Body, Entries, Loss, LossKind, Options};

/// A rule: source role, destination, port and scheme.
type Rule = (String, String, u16, Scheme);

pub(crate) fn render(
    plan: &Plan,
    entries: &Entries<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'static> {
    // Each rule with the features that need it, in the plan's order.
    let mut rules: Vec<(Rule, Vec<String>)> = Vec::new();
    let selected =
        |role: &str| plan.request.roles.is_empty() || plan.request.roles.iter().any(|r| r == role);
    for e in &entries.list {
        for r in &e.requirements {
            let roles: Vec<&str> = if r.role == egress_catalog::catalog::UNSPECIFIED_ROLE
                && !plan.request.roles.is_empty()
            {
                plan.request.roles.iter().map(String::as_str).collect()
            } else {
                vec![r.role.as_str()]
            };
            for role in roles
                .into_iter()
                .filter(|role| selected(role) || *role == r.role)
            {
                for (scheme, port) in &r.pairs {
                    let key = (role.to_owned(), e.pattern.to_string(), *port, *scheme);
                    match rules.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, features)) if !features.contains(&r.feature) => {
                            features.push(r.feature.clone())
                        }
                        Some(_) => {}
                        None => rules.push((key, vec![r.feature.clone()])),
                    }
                }
            }
        }
    }
    let mut sources: BTreeMap<&str, String> = BTreeMap::new();
    let mut text = String::new();
    for ((role, destination, port, scheme), features) in &rules {
        let from = sources.entry(role.as_str()).or_insert_with(|| {
            let addresses: Vec<String> = options
                .sources
                .iter()
                .filter(|(_, roles)| roles.iter().any(|r| r == role))
                .map(|(a, _)| a.to_string())
                .collect();
            if addresses.is_empty() {
                losses.push(Loss {
                    host: "*".to_owned(),
                    kind: LossKind::AnySource,
                    detail: format!(
                        "the profile names no server with role {role}: its rules admit any source"
                    ),
                });
                "any".to_owned()
            } else {
                addresses.join(", ")
            }
        });
        text.push_str(&format!(
            "{role} ({from}) -> {destination} {port}/tcp {scheme}  # {}\n",
            features.join(", ")
        ));
    }
    if !options.intranet {
        for n in &plan.networks {
            for (protocol, ports) in [("tcp", &n.tcp_ports), ("udp", &n.udp_ports)] {
                for p in ports.items() {
                    text.push_str(&format!(
                        "unspecified (any) -> {} {p}/{protocol}  # {}\n",
                        n.address,
                        n.features.join(", ")
                    ));
                }
            }
        }
    }
    Body::Commented { prefix: "#", text }
}
