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
use std::net::IpAddr;

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::Plan;
use egress_pattern::PatternKind;

use crate::{
    Body, Entry, EntryList, Loss, LossKind, Options, Rows, SquidStyle, paths_not_enforceable,
    push_escaped, regex_escape,
};

/// The ACLs of one group: one (role, scheme, port). The `dstdomain` and
/// `dstdom_regex` lists hold indices into the entries, each item written
/// from its entry ([`Entry::dotted`], [`write_regex`]); see [`EntryList`].
#[derive(Debug, Default)]
struct Group<'a> {
    domains: EntryList<'a>,
    regexes: Vec<u32>,
    url_regexes: Vec<String>,
}

pub(crate) fn render(
    plan: &Plan,
    rows: &Rows<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'static> {
    let entries = &rows.entries[..];
    paths_not_enforceable(entries, true, losses);
    // One set of ACLs per role when the plan is for roles, else one.
    let roles: Vec<Option<&str>> = if plan.request.roles.is_empty() {
        vec![None]
    } else {
        plan.request
            .roles
            .iter()
            .map(|r| Some(r.as_str()))
            .collect()
    };
    // The groups in output order, each an index into `groups`.
    let mut order: BTreeMap<(Option<&str>, Scheme, u16), usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    // Most entries go where the last one went: no map lookup for them.
    let mut last = None;
    for (i, e) in entries.iter().enumerate() {
        for role in &roles {
            let wanted = match role {
                None => true,
                Some(r) => e.row.roles.contains_key(*r) || e.row.roles.contains_key("unspecified"),
            };
            if !wanted {
                continue;
            }
            for (scheme, port) in rows.pairs(e) {
                let key = (*role, *scheme, *port);
                let at = match last {
                    Some((k, at)) if k == key => at,
                    _ => {
                        let at = *order.entry(key).or_insert_with(|| {
                            groups.push(Group::default());
                            groups.len() - 1
                        });
                        last = Some((key, at));
                        at
                    }
                };
                add(
                    &mut groups[at],
                    i,
                    e,
                    *scheme,
                    *port,
                    options.squid_style,
                    losses,
                );
            }
        }
    }

    // Each group's `dstdomain` items as written.
    let domains: Vec<Vec<u32>> = groups
        .iter_mut()
        .map(|g| std::mem::take(&mut g.domains).finish(true, |i| entries[i].dotted()))
        .collect();

    // Sized once for the ACL lines (`acl`, a name, a kind, an item): a list
    // that grows by doubling touches each page twice. Pages reserved and
    // never written cost nothing. An item's length is read from its entry,
    // which holds its text's length.
    let size: usize = (groups.iter().zip(&domains))
        .map(|(g, domains)| {
            let domains = domains.iter().map(|&i| entries[i as usize].dotted().len());
            // Escaping at most doubles a pattern's text.
            let regexes = g.regexes.iter().map(|&i| {
                let text = entries[i as usize].pattern().as_str();
                2 * text.len() + 8
            });
            let urls = g.url_regexes.iter().map(String::len);
            domains
                .chain(regexes)
                .chain(urls)
                .map(|n| 64 + n)
                .sum::<usize>()
        })
        .sum();
    let mut out = String::with_capacity(size + 4096);
    out.push_str("acl egress_connect method CONNECT\n");
    let mut ports: Vec<u16> = order.keys().map(|(_, _, p)| *p).collect();
    ports.sort_unstable();
    ports.dedup();
    for p in &ports {
        out.push_str(&format!("acl egress_port_{p} port {p}\n"));
    }
    // Source restrictions from the profile's servers, per role.
    let mut sources: BTreeMap<Option<&str>, Vec<IpAddr>> = BTreeMap::new();
    for role in &roles {
        let addrs: Vec<IpAddr> = options
            .sources
            .iter()
            .filter(|(_, rs)| role.is_none_or(|r| rs.iter().any(|x| x == r)))
            .map(|(a, _)| *a)
            .collect();
        if role.is_some() && !addrs.is_empty() {
            let name = acl_name(*role, "src");
            for a in &addrs {
                out.push_str(&format!("acl {name} src {a}\n"));
            }
            sources.insert(*role, addrs);
        }
    }
    let mut access = String::new();
    for ((role, scheme, port), &at) in &order {
        let g = &groups[at];
        let base = acl_name(*role, &format!("{scheme}_{port}"));
        let method = match scheme {
            Scheme::Https => "egress_connect",
            Scheme::Http => "!egress_connect",
        };
        let src = if sources.contains_key(role) {
            format!(" {}", acl_name(*role, "src"))
        } else {
            String::new()
        };
        let mut allow = |name: &str| {
            access.push_str(&format!(
                "http_access allow {method} egress_port_{port}{src} {name}\n"
            ))
        };
        if acl_lines(&mut out, &base, "dstdomain", &domains[at], |out, &i| {
            out.push_str(entries[i as usize].dotted())
        }) {
            allow(&base);
        }
        let name = format!("{base}_re");
        if acl_lines(&mut out, &name, "dstdom_regex -i", &g.regexes, |out, &i| {
            write_regex(out, &entries[i as usize])
        }) {
            allow(&name);
        }
        let name = format!("{base}_url");
        if acl_lines(
            &mut out,
            &name,
            "url_regex -i",
            &g.url_regexes,
            |out, url| out.push_str(url),
        ) {
            allow(&name);
        }
    }
    out.push_str(&access);
    Body::Commented {
        prefix: "#",
        text: out,
    }
}

/// Writes an `acl NAME KIND ITEM` line for each item, in place (this runs
/// once per entry); whether there was any.
fn acl_lines<T>(
    out: &mut String,
    name: &str,
    kind: &str,
    items: &[T],
    item: impl Fn(&mut String, &T),
) -> bool {
    for x in items {
        for part in ["acl ", name, " ", kind, " "] {
            out.push_str(part);
        }
        item(out, x);
        out.push('\n');
    }
    !items.is_empty()
}

fn acl_name(role: Option<&str>, rest: &str) -> String {
    match role {
        None => format!("egress_{rest}"),
        Some(r) => format!("egress_{}_{rest}", r.replace('-', "_")),
    }
}

fn add<'a>(
    g: &mut Group<'a>,
    i: usize,
    e: &Entry<'a>,
    scheme: Scheme,
    port: u16,
    style: SquidStyle,
    losses: &mut Vec<Loss>,
) {
    // A plain-HTTP row with a path: only that path, and what is below it.
    if let (Scheme::Http, Some(path)) = (scheme, e.path()) {
        let host = match e.pattern().kind() {
            PatternKind::Exact(h) => regex_escape(h),
            _ => host_regex_body(e),
        };
        let port_part = if port == 80 {
            "(:80)?".to_owned()
        } else {
            format!(":{port}")
        };
        g.url_regexes
            .push(format!("^http://{host}{port_part}{}", regex_escape(path)));
        return;
    }
    match (e.pattern().kind(), style) {
        (PatternKind::Exact(_) | PatternKind::Ip(_), _) => {}
        (PatternKind::Subdomains { .. } | PatternKind::InLabel { .. }, SquidStyle::Exact) => {
            // Fewer entries than `u32::MAX`: a plan's rows fit in memory.
            g.regexes.push(i as u32);
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
    g.domains.push(i, e.dotted(), is_made(e, style));
}

/// Whether an entry's `dstdomain` item is made up rather than the row's own
/// (so that it may repeat anywhere, not only in neighbouring rows; see
/// [`EntryList`]): a placeholder's, or a broadened in-label wildcard.
fn is_made(e: &Entry<'_>, style: SquidStyle) -> bool {
    e.made
        || (style == SquidStyle::Loose && matches!(e.pattern().kind(), PatternKind::InLabel { .. }))
}

/// An entry's `dstdom_regex` item.
fn write_regex(out: &mut String, e: &Entry<'_>) {
    match e.pattern().kind() {
        PatternKind::Subdomains { suffix } => {
            out.push_str("\\.");
            push_escaped(out, suffix);
            out.push('$');
        }
        _ => {
            out.push('^');
            out.push_str(&host_regex_body(e));
            out.push('$');
        }
    }
}

/// A host pattern as the body of an anchored regular expression.
fn host_regex_body(e: &Entry<'_>) -> String {
    match e.pattern().kind() {
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
