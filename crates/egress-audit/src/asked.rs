//! Allowlists that are programs (a Squid configuration's rules, a PAC
//! file): held against the plan by asking them, for each row, for a host
//! it matches on each scheme and port it needs, and for what lies just
//! outside it.

use egress_catalog::Plan;
use egress_catalog::catalog::Scheme;
use egress_pattern::{HostPattern, PatternKind};

use crate::allowlist::{AllowlistReport, Unexplained, Verdict, audited_rows, row_audit};

/// The label egress asks with where a pattern leaves one open.
const SAMPLE: &str = "egress-audit-sample";
/// A port no plan names, to see whether the rules admit every port.
const OTHER_PORT: u16 = 65_000;

/// A request, as the rules see it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `CONNECT` for HTTPS, `GET` for plain HTTP.
    pub method: &'a str,
    /// Lowercase.
    pub host: &'a str,
    pub port: u16,
    /// `host:port` for CONNECT, `http://host[:port]/path` otherwise.
    pub url: &'a str,
}

/// How a request fared: allowed or not, and by which rule (`file:line:
/// rule`), if one matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub rule: Option<String>,
}

/// A destination value an allow rule uses.
#[derive(Debug)]
pub struct AllowedValue<'a> {
    pub text: &'a str,
    /// `file:line`.
    pub at: &'a str,
    pub patterns: Option<Vec<HostPattern>>,
    /// A regular expression, and whether it is matched against the URL
    /// (`url_regex`) rather than the host.
    pub regex: Option<(&'a regex::Regex, bool)>,
}

/// A request a row stands for: its method, port and URL.
type Asked = (String, u16, String);

/// The requests a row stands for: one per scheme and port it needs, to a
/// host the row matches.
fn requests(row: &egress_catalog::Row, host: &str) -> Vec<Asked> {
    let mut pairs: Vec<(Scheme, u16)> = row
        .in_force()
        .flat_map(|q| q.pairs.iter().copied())
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(scheme, port)| request_for(row, host, scheme, port))
        .collect()
}

fn request_for(
    row: &egress_catalog::Row,
    host: &str,
    scheme: Scheme,
    port: u16,
) -> (String, u16, String) {
    match scheme {
        Scheme::Https => ("CONNECT".to_owned(), port, format!("{host}:{port}")),
        Scheme::Http => {
            let path = row.path.as_deref().unwrap_or("/");
            let url = if port == 80 {
                format!("http://{host}{path}")
            } else {
                format!("http://{host}:{port}{path}")
            };
            ("GET".to_owned(), port, url)
        }
    }
}

/// A host `pattern` matches, and hosts just outside it (a subdomain of an
/// exact host, a wildcard's apex, a sibling under the parent), which an
/// exact allowlist does not admit.
fn probes(pattern: &HostPattern) -> (String, Vec<String>) {
    let parent = |h: &str| h.split_once('.').map(|(_, p)| p.to_owned());
    match pattern.kind() {
        PatternKind::Exact(h) => {
            let mut outside = vec![format!("{SAMPLE}.{h}")];
            outside.extend(parent(h).map(|p| format!("{SAMPLE}.{p}")));
            (h.to_owned(), outside)
        }
        PatternKind::Subdomains { suffix } => {
            let mut outside = vec![suffix.to_owned()];
            outside.extend(parent(suffix).map(|p| format!("{SAMPLE}.{p}")));
            (format!("{SAMPLE}.{suffix}"), outside)
        }
        PatternKind::InLabel {
            prefix,
            suffix,
            parent,
        } => (
            format!("{prefix}{SAMPLE}{suffix}.{parent}"),
            vec![format!("{SAMPLE}.{parent}")],
        ),
        PatternKind::Ip(_) => (pattern.to_string(), Vec::new()),
    }
}

/// Holds access rules (`decide`: a Squid configuration, a PAC file)
/// against `plan`'s rows by asking them for a host each row matches on each of its
/// schemes and ports: all allowed and nothing just outside the row (a
/// subdomain of an exact host, a wildcard's apex, a sibling, another
/// port, unless `ports` is false: a PAC file cannot tell ports) unless
/// another row needs it: `allowed`; all allowed and more:
/// `broader`; some: `partly`; none: `blocked`. `values`: what the rules
/// allow, as written; those no row's host matches are unexplained.
pub fn by_asking(
    plan: &Plan,
    decide: &dyn Fn(&Request<'_>) -> Decision,
    ports: bool,
    values: Vec<AllowedValue<'_>>,
    notes: Vec<String>,
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    let rows = audited_rows(plan);
    // Whether another row needs the host on that scheme and port.
    let planned = |host: &str, method: &str, port: u16| {
        let scheme = if method == "CONNECT" {
            Scheme::Https
        } else {
            Scheme::Http
        };
        // Rules that cannot tell ports (a PAC file) cannot tell schemes
        // either: any row for the host needs it.
        rows.iter().any(|(row, pattern)| {
            pattern.matches_name(host)
                && (!ports || row.in_force().any(|q| q.pairs.contains(&(scheme, port))))
        })
    };
    let ask = |method: &str, host: &str, port: u16, url: &str| {
        decide(&Request {
            method,
            host,
            port,
            url,
        })
    };
    let audited = rows
        .iter()
        .map(|&(row, pattern)| {
            let (inside, outside) = probes(pattern);
            let asked: Vec<Decision> = requests(row, &inside)
                .iter()
                .map(|(m, port, url)| ask(m, &inside, *port, url))
                .collect();
            let allowed = asked.iter().filter(|d| d.allowed).count();
            let mut by: Vec<String> = asked.iter().filter_map(|d| d.rule.clone()).collect();
            by.sort();
            by.dedup();
            let verdict = if allowed == 0 {
                Verdict::Blocked
            } else if allowed < asked.len() {
                Verdict::Partly
            } else {
                let mut more = Vec::new();
                for (method, port, _) in requests(row, &inside) {
                    for host in &outside {
                        let (_, _, url) = request_for(row, host, scheme_of(&method), port);
                        if !planned(host, &method, port) && ask(&method, host, port, &url).allowed {
                            more.push(format!("also admits {host} ({method} port {port})"));
                        }
                    }
                    let (_, _, url) = request_for(row, &inside, scheme_of(&method), OTHER_PORT);
                    if ports
                        && !planned(&inside, &method, OTHER_PORT)
                        && ask(&method, &inside, OTHER_PORT, &url).allowed
                    {
                        more.push(format!("also admits port {OTHER_PORT} ({method})"));
                    }
                }
                more.sort();
                more.dedup();
                if more.is_empty() {
                    Verdict::Allowed
                } else {
                    by.extend(more);
                    Verdict::Broader
                }
            };
            row_audit(row, verdict, by)
        })
        .collect();
    let samples: Vec<(String, Vec<Asked>)> = rows
        .iter()
        .map(|(row, pattern)| {
            let (inside, _) = probes(pattern);
            let asked = requests(row, &inside);
            (inside, asked)
        })
        .collect();
    let unexplained = values
        .into_iter()
        .filter(|v| {
            let explained = match (&v.patterns, v.regex) {
                (Some(patterns), _) => rows
                    .iter()
                    .any(|(_, row)| patterns.iter().any(|p| p.covers(row) || row.covers(p))),
                (None, Some((re, false))) => samples.iter().any(|(host, _)| re.is_match(host)),
                (None, Some((re, true))) => samples
                    .iter()
                    .any(|(_, asked)| asked.iter().any(|(_, _, url)| re.is_match(url))),
                (None, None) => true,
            };
            !explained
        })
        .map(|v| {
            let (file, line) = v.at.rsplit_once(':').unwrap_or((v.at, "0"));
            Unexplained {
                entry: v.text.to_owned(),
                file: file.to_owned(),
                line: line.parse().unwrap_or(0),
                nearest: v
                    .patterns
                    .as_ref()
                    .and_then(|p| p.iter().find_map(&nearest)),
            }
        })
        .collect();
    AllowlistReport {
        notes,
        rows: audited,
        unexplained,
    }
}

fn scheme_of(method: &str) -> Scheme {
    if method == "CONNECT" {
        Scheme::Https
    } else {
        Scheme::Http
    }
}
