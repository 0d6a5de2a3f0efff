//! `egress routes`: every place this machine's proxy may come from, what
//! each says, and which one each ConfigMgr role uses.

use std::rc::Rc;

use egress_catalog::catalog::UNSPECIFIED_ROLE;
use egress_check::settings::Route;
use egress_winproxy::{Source, role_sources};
use serde::Serialize;

use crate::Exit;
use crate::cli::{DiscoveryArgs, RoutesArgs, RoutesFormat};
use crate::context;
use crate::discover::{Discovery, Found, read_registry};
use crate::net::Net;

/// The route a role takes: the first of its sources that is set.
#[derive(Debug, Clone)]
pub struct RoleRoute {
    pub role: String,
    /// `None`: none of its sources is set (direct).
    pub source: Option<Source>,
    pub route: Route,
    pub says: String,
}

/// Each role's route, from the sources found.
pub fn per_role(roles: &[String], found: &[(Source, Found)]) -> Vec<RoleRoute> {
    roles
        .iter()
        .map(|role| {
            let sources = role_sources(role);
            let chosen = sources.iter().find_map(|s| {
                found.iter().find_map(|(f, what)| match what {
                    Found::Route { route, says } if f == s => {
                        let route: &Route = route;
                        Some((s.clone(), route.clone(), says.clone()))
                    }
                    _ => None,
                })
            });
            match chosen {
                Some((source, route, says)) => RoleRoute {
                    role: role.clone(),
                    source: Some(source),
                    route,
                    says,
                },
                None => RoleRoute {
                    role: role.clone(),
                    source: None,
                    route: Route::Direct,
                    says: format!(
                        "direct: none of {} is set",
                        sources
                            .iter()
                            .map(Source::title)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            }
        })
        .collect()
}

/// Builds a discovery from the command line.
pub fn discovery<'a>(
    args: &DiscoveryArgs,
    net: Rc<Net>,
    profile: Option<&'a egress_catalog::profile::ProxySettings>,
    env: &'a dyn Fn(&str) -> Option<String>,
    targets: Vec<egress_check::ProbeTarget>,
) -> anyhow::Result<Discovery<'a>> {
    Ok(Discovery {
        net,
        registry: args.registry.as_deref().map(read_registry).transpose()?,
        profile,
        env,
        wpad_domain: args.wpad_domain.clone(),
        client_ip: args.client_ip,
        targets,
        wpad_steps: Default::default(),
    })
}

#[derive(Serialize)]
struct RoutesDoc {
    format: &'static str,
    sources: Vec<SourceDoc>,
    wpad: Vec<String>,
    roles: Vec<RoleDoc>,
}

#[derive(Serialize)]
struct SourceDoc {
    source: String,
    title: String,
    set: bool,
    says: String,
}

#[derive(Serialize)]
struct RoleDoc {
    role: String,
    source: Option<String>,
    route: String,
    says: String,
}

pub fn run(args: &RoutesArgs) -> anyhow::Result<Exit> {
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, None);
    let plan = egress_catalog::plan::resolve(&loaded.catalog, &request);
    let net = Rc::new(Net::new(&args.net)?);
    let env = |name: &str| std::env::var(name).ok();
    let discovery = discovery(
        &args.discovery,
        net,
        loaded.profile.as_ref().and_then(|p| p.proxy.as_ref()),
        &env,
        egress_check::plan::probe_targets(&plan, false),
    )?;
    let sources: Vec<Source> = if args.proxy_from.is_empty() {
        Source::DISCOVERABLE.to_vec()
    } else {
        args.proxy_from
            .iter()
            .filter(|s| **s != Source::Auto)
            .cloned()
            .collect()
    };
    let mut found = Vec::new();
    for s in sources {
        let f = discovery.find(&s)?;
        found.push((s, f));
    }
    let roles: Vec<String> = match &request.roles {
        r if !r.is_empty() => r.clone(),
        _ => loaded
            .catalog
            .roles
            .iter()
            .map(|r| r.id.clone())
            .filter(|r| r != UNSPECIFIED_ROLE)
            .collect(),
    };
    let chosen = per_role(&roles, &found);
    let wpad = discovery.wpad_steps.borrow().clone();
    let text = match args.format {
        RoutesFormat::Json => {
            let doc = RoutesDoc {
                format: "egress.routes/1",
                sources: found
                    .iter()
                    .map(|(s, f)| SourceDoc {
                        source: s.name(),
                        title: s.title(),
                        set: matches!(f, Found::Route { .. }),
                        says: f.says(),
                    })
                    .collect(),
                wpad,
                roles: chosen
                    .iter()
                    .map(|r| RoleDoc {
                        role: r.role.clone(),
                        source: r.source.as_ref().map(Source::name),
                        route: r.route.describe(),
                        says: r.says.clone(),
                    })
                    .collect(),
            };
            let mut t = serde_json::to_string_pretty(&doc)?;
            t.push('\n');
            t
        }
        RoutesFormat::Table => {
            let mut out = String::from("# egress routes\n\n");
            let mut t = egress_catalog::table::Table::new(&["SOURCE", "SAYS"]);
            for (s, f) in &found {
                t.row(vec![vec![s.title()], vec![f.says()]]);
            }
            t.render(&mut out);
            if !wpad.is_empty() {
                out.push_str("\nWPAD:\n");
                for step in &wpad {
                    out.push_str(&format!("  {step}\n"));
                }
            }
            out.push('\n');
            let mut t = egress_catalog::table::Table::new(&["ROLE", "USES", "ROUTE"]);
            for r in &chosen {
                t.row(vec![
                    vec![r.role.clone()],
                    vec![
                        r.source
                            .as_ref()
                            .map_or_else(|| "-".to_owned(), Source::title),
                    ],
                    vec![r.says.clone()],
                ]);
            }
            t.render(&mut out);
            out
        }
    };
    crate::output::emit(&text, None)?;
    Ok(Exit::Success)
}

/// The route `--proxy-from` names, and the header line that says so. For
/// `auto`, the selected roles' route, when they share one.
pub fn chosen_route(
    from: &egress_winproxy::Source,
    discovery: &crate::discover::Discovery<'_>,
    request: &egress_catalog::Request,
    loaded: &context::Loaded,
) -> anyhow::Result<(egress_check::settings::Route, String)> {
    if *from != Source::Auto {
        return Ok(match discovery.find(from)? {
            Found::Route { route, says } => {
                let line = format!("route: {} ({says})", from.title());
                (*route, line)
            }
            Found::NotSet(why) => (
                egress_check::settings::Route::Direct,
                format!("route: direct ({} is not set: {why})", from.title()),
            ),
        });
    }
    let roles: Vec<String> = if request.roles.is_empty() {
        loaded
            .catalog
            .roles
            .iter()
            .map(|r| r.id.clone())
            .filter(|r| r != egress_catalog::catalog::UNSPECIFIED_ROLE)
            .collect()
    } else {
        request.roles.clone()
    };
    let mut found = Vec::new();
    let mut sources: Vec<Source> = roles
        .iter()
        .flat_map(|r| egress_winproxy::role_sources(r))
        .collect();
    sources.sort();
    sources.dedup();
    for s in sources {
        let f = discovery.find(&s)?;
        found.push((s, f));
    }
    let chosen = per_role(&roles, &found);
    let first = &chosen[0];
    if chosen.iter().all(|c| c.source == first.source) {
        return Ok((
            first.route.clone(),
            format!(
                "route: auto, {} for {} ({})",
                first
                    .source
                    .as_ref()
                    .map_or_else(|| "direct".to_owned(), Source::title),
                roles.join(", "),
                first.says
            ),
        ));
    }
    let lines: Vec<String> = chosen
        .iter()
        .map(|c| {
            format!(
                "  {}: {}",
                c.role,
                c.source
                    .as_ref()
                    .map_or_else(|| "direct".to_owned(), Source::title)
            )
        })
        .collect();
    anyhow::bail!(
        "--proxy-from auto: the selected roles take different routes:\n{}\ncheck one role at a time (--role ROLE), or every route with --routes",
        lines.join("\n")
    )
}
