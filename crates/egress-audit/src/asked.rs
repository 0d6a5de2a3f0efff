//! Allowlists that are programs (a Squid configuration's rules, a PAC
//! file): held against the plan by asking them, for each row, for a host
//! it matches on each scheme and port it needs, and for what lies just
//! outside it.

use egress_catalog::Plan;
use egress_catalog::catalog::Scheme;
use egress_catalog::profile::AddressRange;
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
    /// Who asks, as the proxy sees the client's address.
    pub client: Client,
}

/// The address a request comes from, as far as egress knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Not known: rules on source addresses are not judged.
    Unknown,
    /// One of these addresses (a server's, or a subnet of clients).
    In(AddressRange),
}

/// How the rules answer a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    /// Only after the client authenticates, and no user was given to
    /// judge the rules as.
    NeedsAuth,
    /// The answer depends on something egress does not judge.
    NotJudged,
}

/// Whether the proxy would inspect an allowed HTTPS request's TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspection {
    None,
    /// By this rule (`file:line: rule`).
    Inspected(String),
    /// Why it is not known.
    NotJudged(String),
}

/// How a request fared, and by which rule (`file:line: rule`), if one
/// matched; for an answer not known, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub rule: Option<String>,
    pub inspection: Inspection,
}

impl Decision {
    /// An answer of rules that only allow or deny (a PAC file).
    pub fn plain(allowed: bool, rule: Option<String>) -> Decision {
        Decision {
            outcome: if allowed {
                Outcome::Allowed
            } else {
                Outcome::Denied
            },
            rule,
            inspection: Inspection::None,
        }
    }
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

/// The clients a row is asked from: `--client`, else its roles' servers
/// in the profile; a role without one leaves the address unknown.
pub fn row_clients(
    servers: &[(AddressRange, Vec<String>)],
    client: Option<AddressRange>,
) -> impl Fn(&egress_catalog::Row) -> Vec<Client> + '_ {
    move |row| {
        if let Some(range) = client {
            return vec![Client::In(range)];
        }
        let mut out = Vec::new();
        for role in row.in_force().map(|q| q.role.as_str()) {
            let mut found = false;
            for (range, roles) in servers {
                if roles.iter().any(|r| r == role) {
                    found = true;
                    if !out.contains(&Client::In(*range)) {
                        out.push(Client::In(*range));
                    }
                }
            }
            if !found && !out.contains(&Client::Unknown) {
                out.push(Client::Unknown);
            }
        }
        out
    }
}

/// Holds access rules (`decide`: a Squid configuration, a PAC file)
/// against `plan`'s rows by asking them for a host each row matches on
/// each of its schemes and ports, from each of the row's `clients`: all
/// allowed and nothing just outside the row (a subdomain of an exact
/// host, a wildcard's apex, a sibling, another port, unless `ports` is
/// false: a PAC file cannot tell ports) unless another row needs it:
/// `allowed`; all allowed and more: `broader`; some denied: `partly`;
/// all denied: `blocked`; none denied and some not judged: `not_judged`;
/// none denied or not judged and some only after authentication:
/// `needs_auth`. `values`: what the rules allow, as written; those no
/// row's host matches are unexplained.
pub fn by_asking(
    plan: &Plan,
    decide: &dyn Fn(&Request<'_>) -> Decision,
    ports: bool,
    clients: &dyn Fn(&egress_catalog::Row) -> Vec<Client>,
    values: Vec<AllowedValue<'_>>,
    notes: Vec<String>,
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    let rows = audited_rows(plan);
    // Whether another row needs the host on that scheme and port.
    let planned = |host: &str, method: &str, port: u16| {
        let scheme = scheme_of(method);
        // Rules that cannot tell ports (a PAC file) cannot tell schemes
        // either: any row for the host needs it.
        rows.iter().any(|(row, pattern)| {
            pattern.matches_name(host)
                && (!ports || row.in_force().any(|q| q.pairs.contains(&(scheme, port))))
        })
    };
    let audited = rows
        .iter()
        .map(|&(row, pattern)| {
            let (inside, outside) = probes(pattern);
            let mut clients = clients(row);
            if clients.is_empty() {
                clients.push(Client::Unknown);
            }
            let ask = |method: &str, host: &str, port: u16, url: &str, client: Client| {
                decide(&Request {
                    method,
                    host,
                    port,
                    url,
                    client,
                })
            };
            let mut asked: Vec<(String, Client, Decision)> = Vec::new();
            for &client in &clients {
                for (m, port, url) in requests(row, &inside) {
                    let d = ask(&m, &inside, port, &url, client);
                    asked.push((
                        format!("{m} port {port}{}", from(client, &clients)),
                        client,
                        d,
                    ));
                }
            }
            let count = |o: Outcome| asked.iter().filter(|(_, _, d)| d.outcome == o).count();
            let denied = count(Outcome::Denied);
            let mut by: Vec<String> = Vec::new();
            let verdict = if denied == asked.len() {
                by.extend(asked.iter().filter_map(|(_, _, d)| d.rule.clone()));
                Verdict::Blocked
            } else if denied > 0 || count(Outcome::NotJudged) > 0 || count(Outcome::NeedsAuth) > 0 {
                for (what, _, d) in &asked {
                    let rule = d.rule.as_deref().unwrap_or("no rule matches");
                    match d.outcome {
                        Outcome::Allowed => by.push(format!("{what}: allowed by {rule}")),
                        Outcome::Denied => by.push(format!("{what}: denied by {rule}")),
                        Outcome::NeedsAuth => by.push(format!(
                            "{what}: needs authentication (give --proxy-user NAME) at {rule}"
                        )),
                        Outcome::NotJudged => by.push(format!("{what}: not judged: {rule}")),
                    }
                }
                if denied > 0 {
                    Verdict::Partly
                } else if count(Outcome::NotJudged) > 0 {
                    Verdict::NotJudged
                } else {
                    Verdict::NeedsAuth
                }
            } else {
                by.extend(asked.iter().filter_map(|(_, _, d)| d.rule.clone()));
                let mut more = Vec::new();
                for &client in &clients {
                    for (method, port, _) in requests(row, &inside) {
                        for host in &outside {
                            let (_, _, url) = request_for(row, host, scheme_of(&method), port);
                            if !planned(host, &method, port)
                                && ask(&method, host, port, &url, client).outcome
                                    == Outcome::Allowed
                            {
                                more.push(format!("also admits {host} ({method} port {port})"));
                            }
                        }
                        let (_, _, url) = request_for(row, &inside, scheme_of(&method), OTHER_PORT);
                        if ports
                            && !planned(&inside, &method, OTHER_PORT)
                            && ask(&method, &inside, OTHER_PORT, &url, client).outcome
                                == Outcome::Allowed
                        {
                            more.push(format!("also admits port {OTHER_PORT} ({method})"));
                        }
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
            // The rules first, then what else they admit.
            by.sort_by(|a, b| {
                (a.starts_with("also admits"), a).cmp(&(b.starts_with("also admits"), b))
            });
            by.dedup();
            let mut audit = row_audit(row, verdict, by);
            audit.tls = inspection(asked.iter().map(|(_, _, d)| &d.inspection));
            audit
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

/// ` from ADDRESS` where a row is asked from more than one client.
fn from(client: Client, clients: &[Client]) -> String {
    match client {
        Client::In(range) if clients.len() > 1 => format!(" from {}", range_text(&range)),
        _ => String::new(),
    }
}

/// An address, or a range as `network/prefix`.
pub(crate) fn range_text(range: &AddressRange) -> String {
    let max = if range.network.is_ipv4() { 32 } else { 128 };
    if range.prefix == max {
        range.network.to_string()
    } else {
        format!("{}/{}", range.network, range.prefix)
    }
}

/// What a row's answers say of TLS inspection: inspected (by which
/// rules), not known (why), or nothing.
fn inspection<'a>(answers: impl Iterator<Item = &'a Inspection>) -> Option<String> {
    let mut inspected = Vec::new();
    let mut unknown = Vec::new();
    for answer in answers {
        match answer {
            Inspection::None => {}
            Inspection::Inspected(rule) => inspected.push(rule.as_str()),
            Inspection::NotJudged(why) => unknown.push(why.as_str()),
        }
    }
    inspected.sort_unstable();
    inspected.dedup();
    unknown.sort_unstable();
    unknown.dedup();
    if !inspected.is_empty() {
        Some(format!(
            "TLS inspection: the proxy decrypts this row's TLS and presents its own certificate (ssl_bump: {}); ConfigMgr endpoints that pin their certificates fail through it",
            inspected.join("; ")
        ))
    } else if !unknown.is_empty() {
        Some(format!("TLS inspection not judged: {}", unknown.join("; ")))
    } else {
        None
    }
}

fn scheme_of(method: &str) -> Scheme {
    if method == "CONNECT" {
        Scheme::Https
    } else {
        Scheme::Http
    }
}
