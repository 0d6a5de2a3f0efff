//! Who may reach what: the plan a source asks under, and whether it
//! allows a request, decided by the explain engine (egress-catalog's
//! `Explainer`, matching through egress-pattern), so that the proxy,
//! the allowlists and `egress explain` can never disagree.

use std::net::IpAddr;
use std::sync::Arc;

use egress_catalog::catalog::{Direction, Scheme};
use egress_catalog::explain::{Explainer, Input, Placeholders};
use egress_catalog::profile::AddressRange;
use egress_catalog::{Catalog, Plan};

use crate::target::Target;

/// The plans a proxy enforces: one per server of the profile (by its
/// addresses), and a default for other sources.
#[derive(Debug)]
pub struct Plans {
    /// The catalog the plans come from.
    pub catalog: Arc<Catalog>,
    /// The plan of every source that is not a server of the profile;
    /// `None`: such sources are refused.
    pub default: Option<(Vec<String>, Arc<Plan>)>,
    /// Each server: its addresses, its roles, and the plan of its roles.
    pub servers: Vec<ServerPlan>,
}

impl Plans {
    /// Every row of every plan (a row in several plans comes once per
    /// plan).
    pub fn rows(&self) -> impl Iterator<Item = &egress_catalog::Row> {
        self.default
            .iter()
            .map(|(_, p)| &**p)
            .chain(self.servers.iter().map(|s| &*s.plan))
            .flat_map(|p| &p.rows)
    }
}

#[derive(Debug)]
pub struct ServerPlan {
    pub name: String,
    pub addresses: Vec<AddressRange>,
    pub roles: Vec<String>,
    pub plan: Arc<Plan>,
}

/// The plans, compiled for lookups. A gate owns its plans: a proxy that
/// reloads builds a new gate and swaps it in whole.
pub struct Gate {
    plans: Plans,
    default: Option<Explainer>,
    servers: Vec<Explainer>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("servers", &self.servers.len())
            .field("default", &self.default.is_some())
            .finish()
    }
}

/// A request, as far as the decision needs it.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'r> {
    pub source: IpAddr,
    pub scheme: Scheme,
    pub target: &'r Target,
    pub port: u16,
    /// The path and query, for plain HTTP (a tunnel shows no path).
    pub path: Option<&'r str>,
}

/// What the plan says of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The roles the source asked as; `default` when no server matched.
    pub roles: Vec<String>,
    /// The servers of the profile the source is.
    pub servers: Vec<String>,
    /// The explain engine's words: `the plan allows it for ...`, or why not.
    pub reason: String,
    /// The nearest catalog near miss, when the catalog matched nothing.
    pub near_miss: Option<String>,
    /// The plan rows that allow it.
    pub rows: Vec<String>,
    /// The catalog endpoints and features behind those rows.
    pub endpoints: Vec<String>,
    pub features: Vec<String>,
    /// Whether one of those rows is an intranet row (a software update
    /// point's parent or child): its addresses may be private.
    pub intranet: bool,
}

impl Gate {
    pub fn new(plans: Plans) -> Gate {
        let catalogs = [plans.catalog.clone()];
        let explainer = |plan: &Arc<Plan>| {
            Explainer::new(&catalogs, Some(plan.clone()), Placeholders::Unresolved)
        };
        Gate {
            default: plans.default.as_ref().map(|(_, plan)| explainer(plan)),
            servers: plans.servers.iter().map(|s| explainer(&s.plan)).collect(),
            plans,
        }
    }

    /// The plans this gate enforces.
    pub fn plans(&self) -> &Plans {
        &self.plans
    }

    /// Whether the plan of `ask.source` allows the request. A source that
    /// is several servers of the profile has the union of their roles: a
    /// request is allowed when one of their plans allows it.
    pub fn decide(&self, ask: &Ask<'_>) -> Decision {
        let input = Input {
            text: match ask.path {
                Some(path) => format!("{}://{}:{}{path}", ask.scheme, ask.target.host, ask.port),
                None => format!("{}://{}:{}", ask.scheme, ask.target.host, ask.port),
            },
            host: ask.target.host.clone(),
            scheme: Some(ask.scheme),
            port: Some(ask.port),
            path: ask.path.map(str::to_owned),
        };
        let mine: Vec<usize> = (0..self.servers.len())
            .filter(|&i| {
                self.plans.servers[i]
                    .addresses
                    .iter()
                    .any(|a| a.contains(ask.source.to_canonical()))
            })
            .collect();
        let mut decision = Decision {
            allowed: false,
            roles: Vec::new(),
            servers: Vec::new(),
            reason: String::new(),
            near_miss: None,
            rows: Vec::new(),
            endpoints: Vec::new(),
            features: Vec::new(),
            intranet: false,
        };
        let explainers: Vec<(&Explainer, &Plan)> = if mine.is_empty() {
            match (&self.default, &self.plans.default) {
                (Some(explainer), Some((roles, plan))) => {
                    decision.roles = roles.clone();
                    vec![(explainer, plan)]
                }
                _ => {
                    decision.reason = format!(
                        "{} is not an address of a server in the profile, and no --role gives other sources a plan",
                        ask.source
                    );
                    return decision;
                }
            }
        } else {
            for &i in &mine {
                let server = &self.plans.servers[i];
                decision.servers.push(server.name.clone());
                for role in &server.roles {
                    if !decision.roles.contains(role) {
                        decision.roles.push(role.clone());
                    }
                }
            }
            mine.iter()
                .map(|&i| (&self.servers[i], &*self.plans.servers[i].plan))
                .collect()
        };
        for (explainer, plan) in explainers {
            let e = explainer.explain(&input);
            let Some(verdict) = e.plan else { continue };
            if verdict.allowed {
                decision.allowed = true;
                let matched = || plan.rows.iter().filter(|r| verdict.rows.contains(&r.host));
                decision.intranet = matched().any(|r| r.direction == Direction::Intranet);
                for row in matched() {
                    for q in row.in_force() {
                        if !decision.features.contains(&q.feature) {
                            decision.features.push(q.feature.clone());
                        }
                        if !decision.endpoints.contains(&q.endpoint) {
                            decision.endpoints.push(q.endpoint.clone());
                        }
                    }
                }
                decision.reason = verdict.reason;
                decision.rows = verdict.rows;
                decision.near_miss = None;
                return decision;
            }
            if decision.reason.is_empty() {
                decision.reason = verdict.reason;
                decision.near_miss = e.near_miss.map(|n| n.reason);
            }
        }
        decision
    }
}
