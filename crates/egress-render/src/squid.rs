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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::Plan;
use egress_pattern::PatternKind;

use crate::{
    Body, Entry, Loss, LossKind, Options, Rows, SquidStyle, Unique, paths_not_enforceable,
    push_escaped, regex_escape,
};

/// The ACLs of one group: one (role, scheme, port).
#[derive(Debug, Default)]
struct Group<'a> {
    domains: Unique<'a>,
    regexes: Vec<Cow<'a, str>>,
    url_regexes: Vec<Cow<'a, str>>,
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
    for e in entries {
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
                    e,
                    *scheme,
                    *port,
                    options.squid_style,
                    losses,
                );
            }
        }
    }

    // Sized once for the ACL lines (`acl`, a name, a kind, an item): a list
    // that grows by doubling touches each page twice. Pages reserved and
    // never written cost nothing.
    let size: usize = groups
        .iter()
        .map(|g| {
            let items = g.domains.items().chain(&g.regexes).chain(&g.url_regexes);
            items.map(|i| 64 + i.len()).sum::<usize>()
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
        let g = &mut groups[at];
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
        let domains = dedup_domains(std::mem::take(&mut g.domains));
        for (suffix, kind, items) in [
            ("", "dstdomain", &domains),
            ("_re", "dstdom_regex -i", &g.regexes),
            ("_url", "url_regex -i", &g.url_regexes),
        ] {
            if items.is_empty() {
                continue;
            }
            let name = format!("{base}{suffix}");
            for item in items.iter() {
                // Written in place: this loop runs once per entry.
                for part in ["acl ", &name, " ", kind, " ", item, "\n"] {
                    out.push_str(part);
                }
            }
            access.push_str(&format!(
                "http_access allow {method} egress_port_{port}{src} {name}\n"
            ));
        }
    }
    out.push_str(&access);
    Body::Commented {
        prefix: "#",
        text: out,
    }
}

fn acl_name(role: Option<&str>, rest: &str) -> String {
    match role {
        None => format!("egress_{rest}"),
        Some(r) => format!("egress_{}_{rest}", r.replace('-', "_")),
    }
}

fn add<'a>(
    g: &mut Group<'a>,
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
            .push(format!("^http://{host}{port_part}{}", regex_escape(path)).into());
        return;
    }
    match (e.pattern().kind(), style) {
        // Borrowed from the plan: no string per host.
        (PatternKind::Exact(h), _) => g.domains.push(h, e.made),
        (PatternKind::Ip(ip), _) => g.domains.push(ip.to_string(), e.made),
        (PatternKind::Subdomains { suffix }, SquidStyle::Exact) => {
            // One small string each: a single growing buffer for them all
            // made glibc return and re-fault the heap on every render of a
            // large plan (BENCHMARKS.md).
            let mut re = String::with_capacity(suffix.len() + 8);
            re.push_str("\\.");
            push_escaped(&mut re, suffix);
            re.push('$');
            g.regexes.push(re.into());
        }
        (PatternKind::Subdomains { suffix }, SquidStyle::Loose) => {
            losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::ApexAdded,
                detail: format!("`.{suffix}` in dstdomain also admits `{suffix}`"),
            });
            g.domains.push(format!(".{suffix}"), e.made);
        }
        (PatternKind::InLabel { .. }, SquidStyle::Exact) => {
            g.regexes.push(format!("^{}$", host_regex_body(e)).into());
        }
        (PatternKind::InLabel { parent, .. }, SquidStyle::Loose) => {
            losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::Broadened,
                detail: format!(
                    "rendered as `.{parent}`, which admits `{parent}` and all its subdomains"
                ),
            });
            g.domains.push(format!(".{parent}"), true);
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

/// Removes duplicates and every entry a `.x` entry already covers (`x`,
/// `a.x`, `.a.x`): Squid rejects or ignores them.
fn dedup_domains(domains: Unique<'_>) -> Vec<Cow<'_, str>> {
    domains.into_uncovered()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items as the plan would give them: each `(item, made up)`.
    #[track_caller]
    fn check(input: &[(&str, bool)], expected: &[&str]) {
        let mut u = Unique::default();
        for (item, made) in input {
            u.push(item.to_string(), *made);
        }
        assert_eq!(dedup_domains(u), expected);
    }

    #[test]
    fn broader_entries_win() {
        check(
            &[("a.x", false), (".x", false), ("x", false), ("b.y", false)],
            &[".x", "b.y"],
        );
        check(&[(".a.x", false), (".x", false)], &[".x"]);
        check(&[("ax", false), (".x", false)], &["ax", ".x"]);
        check(
            &[(".x", false), (".x", false), ("x.y", false)],
            &[".x", "x.y"],
        );
        // Made-up items repeat anywhere; the first is kept.
        check(
            &[(".p", true), ("a.q", false), (".p", true), ("b.q", false)],
            &[".p", "a.q", "b.q"],
        );
        check(
            &[(".p", false), ("a.q", false), (".p", true)],
            &[".p", "a.q"],
        );
        check(
            &[("go.microsoft.com", false), ("go.microsoft.com", false)],
            &["go.microsoft.com"],
        );
        // Covered from any depth, by parents of several depths; a parent
        // with more labels than an item never covers it.
        check(
            &[
                ("c.b.a.x", false),
                (".b.a.x", false),
                ("z.y", false),
                (".x", false),
                (".q.p.o", false),
                ("p.o", false),
                ("r.q.p.o", false),
                ("evilx", false),
                ("x.evil", false),
            ],
            &["z.y", ".x", ".q.p.o", "p.o", "evilx", "x.evil"],
        );
        // A made-up item equal to a later own one, starting with a byte no
        // own item starts with, and own items that are never hashed.
        check(
            &[
                ("*.m", true),
                ("a.b", false),
                ("*.m", false),
                ("c.d", false),
            ],
            &["*.m", "a.b", "c.d"],
        );
    }
}
