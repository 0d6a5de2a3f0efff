//! `squid`: an include file of `acl` and `http_access` lines for Squid 5+.
//!
//! Squid's `dstdomain` matches a name exactly, or with a leading dot the
//! name *and* its subdomains; so exact hosts go in `dstdomain`, and `*.x`
//! (which must not admit `x`) and partial-label wildcards go in
//! `dstdom_regex`, unless `--squid-style loose` accepts `.x` with a reported
//! loss. HTTPS is allowed only as CONNECT to the hosts and ports the plan
//! names for it; plain HTTP only as non-CONNECT requests to those it names
//! for HTTP (with `url_regex` where it names a path). Entries that a broader
//! entry already covers are dropped: Squid rejects a subdomain listed before
//! its parent and warns about one listed after it.

use std::collections::BTreeMap;

use egress_catalog::catalog::{Scheme, UNSPECIFIED_ROLE};
use egress_catalog::plan::Plan;
use egress_pattern::PatternKind;

use crate::{
    AddressRange, Body, Entries, Entry, Loss, LossKind, Options, SquidStyle, Unique,
    paths_not_enforceable, regex_escape,
};

/// The ACLs of one group: one (role, scheme, port).
#[derive(Debug, Default)]
struct Group {
    domains: Unique,
    regexes: Unique,
    url_regexes: Unique,
}

/// A group's key: the role (`None` when the plan is for every role), the
/// scheme and the port.
type GroupKey<'a> = (Option<&'a str>, Scheme, u16);

pub(crate) fn render(
    plan: &Plan,
    entries: &Entries<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'static> {
    paths_not_enforceable(&entries.list, true, losses);
    // One set of ACLs per role when the plan is for roles, or when the
    // profile names servers (so that each gets only its roles' hosts and
    // ports); else one for every source.
    let names: Vec<&str> = if !plan.request.roles.is_empty() {
        plan.request.roles.iter().map(String::as_str).collect()
    } else if !options.sources.is_empty() {
        let mut names: Vec<&str> = entries
            .list
            .iter()
            .flat_map(|e| e.requirements.iter().map(|r| r.role.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    } else {
        Vec::new()
    };
    let roles: Vec<Option<&str>> = if names.is_empty() {
        vec![None]
    } else {
        names.into_iter().map(Some).collect()
    };
    let groups = groups(entries, &roles, options.squid_style, losses);
    let sources = sources(&roles, options, losses);

    let mut out = String::from("acl egress_connect method CONNECT\n");
    let mut ports: Vec<u16> = groups.keys().map(|(_, _, p)| *p).collect();
    ports.sort_unstable();
    ports.dedup();
    for p in &ports {
        out.push_str(&format!("acl egress_port_{p} port {p}\n"));
    }
    for (role, addresses) in roles
        .iter()
        .flatten()
        .filter_map(|r| sources.get_key_value(r))
    {
        for a in addresses {
            out.push_str(&format!("acl {} src {a}\n", acl_name(Some(role), "src")));
        }
    }
    let mut access = String::new();
    for ((role, scheme, port), g) in groups {
        let base = acl_name(role, &format!("{scheme}_{port}"));
        let method = match scheme {
            Scheme::Https => "egress_connect",
            Scheme::Http => "!egress_connect",
        };
        let src = match role {
            Some(r) if sources.contains_key(r) => format!(" {}", acl_name(role, "src")),
            _ => String::new(),
        };
        let lists = [
            (base.clone(), "dstdomain", g.domains.into_uncovered()),
            (
                format!("{base}_re"),
                "dstdom_regex -i",
                g.regexes.into_vec(),
            ),
            (
                format!("{base}_url"),
                "url_regex -i",
                g.url_regexes.into_vec(),
            ),
        ];
        for (name, kind, items) in lists {
            for item in &items {
                out.push_str(&format!("acl {name} {kind} {item}\n"));
            }
            if !items.is_empty() {
                access.push_str(&format!(
                    "http_access allow {method} egress_port_{port}{src} {name}\n"
                ));
            }
        }
    }
    out.push_str(&access);
    Body::Commented {
        prefix: "#",
        text: out,
    }
}

/// The groups, in output order: each entry goes to the groups of the
/// roles whose requirements name it, with only those requirements' pairs.
fn groups<'a>(
    entries: &Entries<'a>,
    roles: &[Option<&'a str>],
    style: SquidStyle,
    losses: &mut Vec<Loss>,
) -> BTreeMap<GroupKey<'a>, Group> {
    let mut groups: BTreeMap<GroupKey<'a>, Group> = BTreeMap::new();
    // Role-less requirements have their own group when the roles come from
    // the plan's requirements; else they go with every role.
    let own_group = roles.contains(&Some(UNSPECIFIED_ROLE));
    for e in &entries.list {
        for role in roles {
            let pairs = match role {
                None => e.pairs(),
                Some(role) => {
                    e.pairs_where(|r| r.role == *role || (!own_group && r.applies_to(role)))
                }
            };
            for (scheme, port) in pairs {
                add(
                    groups.entry((*role, scheme, port)).or_default(),
                    e,
                    scheme,
                    port,
                    style,
                    losses,
                );
            }
        }
    }
    groups
}

/// Each role's source addresses from the profile's servers. A role without
/// any, in a plan for several roles, gets ACLs that any source may use:
/// reported, since another role's machines could then use them. Role-less
/// requirements (`unspecified`: any machine may need them) admit any source
/// by definition.
fn sources<'a>(
    roles: &[Option<&'a str>],
    options: &Options,
    losses: &mut Vec<Loss>,
) -> BTreeMap<&'a str, Vec<AddressRange>> {
    let mut out = BTreeMap::new();
    for role in roles.iter().flatten() {
        let addresses: Vec<AddressRange> = options
            .sources
            .iter()
            .filter(|(_, rs)| rs.iter().any(|x| x == role))
            .map(|(a, _)| *a)
            .collect();
        if !addresses.is_empty() {
            out.insert(*role, addresses);
        } else if roles.len() > 1 && *role != UNSPECIFIED_ROLE {
            losses.push(Loss {
                host: "*".to_owned(),
                kind: LossKind::AnySource,
                detail: format!(
                    "the profile names no server with role {role}: its ACLs admit any source"
                ),
            });
        }
    }
    out
}

fn acl_name(role: Option<&str>, rest: &str) -> String {
    match role {
        None => format!("egress_{rest}"),
        Some(r) => format!("egress_{}_{rest}", r.replace('-', "_")),
    }
}

fn add(
    g: &mut Group,
    e: &Entry<'_>,
    scheme: Scheme,
    port: u16,
    style: SquidStyle,
    losses: &mut Vec<Loss>,
) {
    // A plain-HTTP row with a path: only that path, and what is below it.
    if let (Scheme::Http, Some(path)) = (scheme, e.path()) {
        let port_part = if port == 80 {
            "(:80)?".to_owned()
        } else {
            format!(":{port}")
        };
        g.url_regexes.push(format!(
            "^http://{}{port_part}{}",
            host_regex_body(e),
            regex_escape(path)
        ));
        return;
    }
    match (e.kind(), style) {
        (PatternKind::Exact(_) | PatternKind::Ip(_), _) => {}
        (PatternKind::Subdomains { suffix }, SquidStyle::Exact) => {
            g.regexes.push(format!("\\.{}$", regex_escape(suffix)));
            return;
        }
        (PatternKind::InLabel { .. }, SquidStyle::Exact) => {
            g.regexes.push(format!("^{}$", host_regex_body(e)));
            return;
        }
        (PatternKind::Subdomains { suffix }, SquidStyle::Loose) => {
            losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::ApexAdded,
                detail: format!("`.{suffix}` in dstdomain also admits `{suffix}`"),
            });
        }
        (PatternKind::InLabel { parent, .. }, SquidStyle::Loose) => {
            losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::Broadened,
                detail: format!(
                    "rendered as `.{parent}`, which admits `{parent}` and all its subdomains"
                ),
            });
        }
    }
    // The host itself, or (in the loose style only) `.x` for `*.x` and,
    // broadened, for `pre*post.x`.
    g.domains.push(e.dotted());
}

/// A host pattern as the body of an anchored regular expression.
fn host_regex_body(e: &Entry<'_>) -> String {
    match e.kind() {
        PatternKind::Exact(h) => regex_escape(h),
        PatternKind::Subdomains { suffix } => format!("[^/:]+\\.{}", regex_escape(suffix)),
        PatternKind::InLabel {
            prefix,
            suffix,
            parent,
        } => format!(
            "{}[^./:]+{}\\.{}",
            regex_escape(prefix),
            regex_escape(suffix),
            regex_escape(parent)
        ),
        PatternKind::Ip(ip) => regex_escape(&ip.to_string()),
    }
}
