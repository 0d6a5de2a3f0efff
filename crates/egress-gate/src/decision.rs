//! Who may reach what: the plan a source asks under, and whether it
//! allows a request, decided by the explain engine (egress-catalog's
//! `Explainer`, matching through egress-pattern), so that the proxy,
//! the allowlists and `egress explain` can never disagree.

use std::net::IpAddr;

use egress_catalog::catalog::Scheme;
use egress_catalog::explain::{Explainer, Input, Placeholders};
use egress_catalog::profile::AddressRange;
use egress_catalog::{Catalog, Plan};

use crate::target::Target;

/// The plans a proxy enforces: one per server of the profile (by its
/// addresses), and a default for other sources.
#[derive(Debug)]
pub struct Plans {
    /// The catalog the plans come from, as a one-element slice (what the
    /// explain engine takes).
    pub catalogs: [Catalog; 1],
    /// The plan of every source that is not a server of the profile;
    /// `None`: such sources are refused.
    pub default: Option<(Vec<String>, Plan)>,
    /// Each server: its addresses, its roles, and the plan of its roles.
    pub servers: Vec<ServerPlan>,
}

impl Plans {
    /// Every row of every plan (a row in several plans comes once per
    /// plan).
    pub fn rows(&self) -> impl Iterator<Item = &egress_catalog::Row> {
        self.default
            .iter()
            .map(|(_, p)| p)
            .chain(self.servers.iter().map(|s| &s.plan))
            .flat_map(|p| &p.rows)
    }
}

#[derive(Debug)]
pub struct ServerPlan {
    pub name: String,
    pub addresses: Vec<AddressRange>,
    pub roles: Vec<String>,
    pub plan: Plan,
}

/// The plans, compiled for lookups.
pub struct Gate<'a> {
    plans: &'a Plans,
    default: Option<Explainer<'a>>,
    servers: Vec<Explainer<'a>>,
}

impl std::fmt::Debug for Gate<'_> {
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
}

impl<'a> Gate<'a> {
    pub fn new(plans: &'a Plans) -> Gate<'a> {
        let explainer =
            |plan| Explainer::new(&plans.catalogs, Some(plan), Placeholders::Unresolved);
        Gate {
            plans,
            default: plans.default.as_ref().map(|(_, plan)| explainer(plan)),
            servers: plans.servers.iter().map(|s| explainer(&s.plan)).collect(),
        }
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
        };
        let explainers: Vec<&Explainer<'_>> = if mine.is_empty() {
            match (&self.default, &self.plans.default) {
                (Some(explainer), Some((roles, _))) => {
                    decision.roles = roles.clone();
                    vec![explainer]
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
            mine.iter().map(|&i| &self.servers[i]).collect()
        };
        for explainer in explainers {
            let e = explainer.explain(&input);
            let Some(verdict) = e.plan else { continue };
            if verdict.allowed {
                decision.allowed = true;
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
