//! A Squid configuration's access rules, read as Squid 5.7 reads them and
//! evaluated as Squid evaluates them (docs/audit.md).
//!
//! The reader takes what Squid takes: comments (a token that begins with
//! `#` ends the line), continued lines, `if`/`else`/`endif`, `include`
//! with glob patterns, the ACLs Squid predefines, ACL names without case,
//! quoted list files and `parameters("file")`. It refuses what Squid
//! refuses (a directive Squid does not know, an undefined ACL, an ACL
//! redefined with another type), every problem located.
//!
//! A request is decided by `http_access` (then `adapted_http_access`,
//! and `http_reply_access` for plain HTTP): first matching rule wins, no
//! match is the opposite of the last rule. Each ACL matches, does not, or
//! is not known here ([`acl::Truth`]); a rule that may or may not match
//! decides nothing unless every way on gives the same answer, so a
//! request whose answer depends on something egress does not judge is
//! "not judged", never allowed or blocked. Authentication ACLs are judged
//! as the user egress is given, else the request "needs authentication".
//! CONNECTs that `ssl_bump` would bump are reported as TLS-inspected.

mod acl;
mod directives;
mod lines;

use std::collections::HashMap;

use egress_catalog::Plan;
use egress_pattern::HostPattern;

use crate::allowlist::{AllowlistReport, ReadError};
use crate::asked::by_asking;
pub use crate::asked::{AllowedValue, Client, Decision, Inspection, Outcome, Request};
use acl::{Acl, Span, Truth, Values};
use lines::{Directive, Event, TokenKind};

/// Where the reader finds included files and list files. Paths are as the
/// configuration writes them (Squid's own, Unix style); the caller maps
/// them to files it can read.
pub trait Files {
    /// The text of the file at `path`, or why it cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;
    /// The names in the folder `path` (for `include` patterns).
    fn list(&self, path: &str) -> Result<Vec<String>, String>;
}

/// An access rule: `allow` or `deny` (or an `ssl_bump` action) when all
/// of its ACLs match (`true`: negated).
#[derive(Debug)]
struct Rule<A> {
    action: A,
    acls: Vec<(bool, usize)>,
    at: String,
    text: String,
}

/// What `ssl_bump` does at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BumpAction {
    Splice,
    Bump,
    Peek,
    Stare,
    Terminate,
    /// `none` (false), `client-first` or `server-first` (true): the old
    /// actions, which decide at the first step only.
    Old {
        bumps: bool,
    },
}

/// The access rules of a Squid configuration.
#[derive(Debug, Default)]
pub struct Config {
    acls: Vec<Acl>,
    /// Lowercase name to index: Squid finds ACLs without case.
    names: HashMap<String, usize>,
    http_access: Vec<Rule<bool>>,
    adapted_http_access: Vec<Rule<bool>>,
    http_reply_access: Vec<Rule<bool>>,
    miss_access: Vec<Rule<bool>>,
    ssl_bump: Vec<Rule<BumpAction>>,
    /// The ports of `http_port` lines, and whether any bumps TLS.
    ports: Vec<u16>,
    bumping: bool,
    /// Includes that could not be followed: nothing is judged.
    missing: Vec<String>,
    /// What egress could not evaluate exactly, once each, said first.
    pub notes: Vec<String>,
}

/// The ACLs Squid defines before it reads a configuration (Squid 5.7's
/// defaults; `to_linklocal` from Squid 5.8; the `ssl::cert*` errors of a
/// Squid built with OpenSSL).
const PREDEFINED: &[(&str, &str, &[&str])] = &[
    ("all", "src", &["all"]),
    (
        "manager",
        "url_regex",
        &[
            "-i",
            "^cache_object://",
            "+i",
            "^[^:]+://[^/]+/squid-internal-mgr/",
        ],
    ),
    ("localhost", "src", &["127.0.0.1/32", "::1"]),
    (
        "to_localhost",
        "dst",
        &["127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128"],
    ),
    ("to_linklocal", "dst", &["169.254.0.0/16", "fe80::/10"]),
    ("CONNECT", "method", &["CONNECT"]),
    (
        "ssl::certHasExpired",
        "ssl_error",
        &["X509_V_ERR_CERT_HAS_EXPIRED"],
    ),
    (
        "ssl::certNotYetValid",
        "ssl_error",
        &["X509_V_ERR_CERT_NOT_YET_VALID"],
    ),
    (
        "ssl::certDomainMismatch",
        "ssl_error",
        &["SQUID_X509_V_ERR_DOMAIN_MISMATCH"],
    ),
    (
        "ssl::certUntrusted",
        "ssl_error",
        &["X509_V_ERR_INVALID_CA"],
    ),
    (
        "ssl::certSelfSigned",
        "ssl_error",
        &["X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"],
    ),
];

/// The type of an ACL used before an include that is missing.
const UNDEFINED: &str = "(not read)";

/// Where the predefined ACLs say they come from.
const PREDEFINED_AT: &str = "(predefined)";

/// How a request is being asked: its user (`None`: none given) and the
/// `ssl_bump` step (`0` outside `ssl_bump`).
#[derive(Debug, Clone, Copy)]
struct Asking<'r, 'a> {
    request: &'r Request<'a>,
    user: Option<&'r str>,
    step: u8,
}

/// Reads the configuration `text` (the file `file`), with the files it
/// includes and the list files its ACLs name through `files`. Every
/// problem is reported; includes and list files that cannot be found are
/// not problems (the configuration reads, and what depends on them is
/// not judged).
pub fn read(file: &str, text: &str, files: &dyn Files) -> Result<Config, Vec<ReadError>> {
    let mut config = Config::default();
    for (name, kind, values) in PREDEFINED {
        let line = format!("{name} {kind} {}", values.join(" "));
        let tokens = lines::tokens(&line, false).expect("the predefined ACLs read");
        let directive = Directive {
            file: PREDEFINED_AT,
            line: 0,
            tokens,
        };
        let read = config.acl(&directive, &directive.tokens, files);
        assert!(read.is_ok(), "the predefined ACLs read");
    }
    let mut errors = Vec::new();
    let mut assumed = Vec::new();
    lines::read(file, text, files, &mut |event| match event {
        Event::Directive(directive) => {
            errors.append(&mut config.directive(directive, files));
        }
        Event::Missing(at, why) => config.missing.push(format!("{at}: {why}")),
        Event::Assumed(at) => assumed.push(at),
        Event::Error(e) => errors.push(e),
    });
    if !assumed.is_empty() {
        config.notes.push(format!(
            "`if` conditions on ${{process_number}} are decided as Squid's first worker ({})",
            assumed.join(", ")
        ));
    }
    // What the rules use and egress cannot judge, said once each.
    let used: std::collections::BTreeSet<usize> = config
        .http_access
        .iter()
        .chain(&config.adapted_http_access)
        .chain(&config.miss_access)
        .chain(&config.http_reply_access)
        .flat_map(|r| r.acls.iter().map(|&(_, i)| i))
        .chain(
            config
                .ssl_bump
                .iter()
                .flat_map(|r| r.acls.iter().map(|&(_, i)| i)),
        )
        .collect();
    let mut used: Vec<usize> = used.into_iter().collect();
    let mut seen: std::collections::BTreeSet<usize> = used.iter().copied().collect();
    while let Some(i) = used.pop() {
        let members: Vec<usize> = match &config.acls[i].values {
            Values::AllOf(groups) => groups.iter().flatten().copied().collect(),
            Values::AnyOf(list) => list.clone(),
            _ => Vec::new(),
        };
        for m in members {
            if seen.insert(m) {
                used.push(m);
            }
        }
    }
    for &i in &seen {
        if let Some(why) = &config.acls[i].unknown {
            config.notes.push(format!(
                "not judged where a row's answer depends on it: {why}"
            ));
        }
    }
    if !config.missing.is_empty() {
        config.notes.insert(
            0,
            format!(
                "nothing is judged: {} (an included file can hold any rule)",
                config.missing.join("; ")
            ),
        );
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        Err(errors)
    }
}

fn located(directive: &Directive<'_>, column: usize, message: String) -> ReadError {
    ReadError {
        file: directive.file.to_owned(),
        line: directive.line,
        column,
        message,
    }
}

impl Config {
    /// One directive; its problems, each located.
    fn directive(&mut self, directive: &Directive<'_>, files: &dyn Files) -> Vec<ReadError> {
        let result = match &*directive.tokens[0].value {
            "acl" => self.acl(directive, &directive.tokens[1..], files),
            _ => self.other_directive(directive).map_err(|e| vec![e]),
        };
        result.err().unwrap_or_default()
    }

    fn other_directive(&mut self, directive: &Directive<'_>) -> Result<(), ReadError> {
        let tokens = &directive.tokens;
        let name: &str = &tokens[0].value;
        let other = tokens[0].written;
        let rest = &tokens[1..];
        match name {
            "http_access" | "adapted_http_access" | "http_reply_access" | "miss_access" => {
                let Some(rule) = self.access_rule(directive, rest)? else {
                    return Ok(());
                };
                match name {
                    "http_access" => self.http_access.push(rule),
                    "adapted_http_access" => self.adapted_http_access.push(rule),
                    "miss_access" => self.miss_access.push(rule),
                    _ => self.http_reply_access.push(rule),
                }
                Ok(())
            }
            "ssl_bump" => self.ssl_bump_rule(directive, rest),
            "http_port" => {
                let Some(address) = rest.first() else {
                    return Err(located(
                        directive,
                        1,
                        "`http_port` names no port: write `http_port 3128`".to_owned(),
                    ));
                };
                let port = address.value.rsplit(':').next().unwrap_or_default();
                match port.parse::<u16>() {
                    Ok(p) => self.ports.push(p),
                    Err(_) => {
                        return Err(located(
                            directive,
                            address.column,
                            format!(
                                "`{}` is not a port: write `http_port [ADDRESS:]PORT`",
                                address.value
                            ),
                        ));
                    }
                }
                if rest[1..].iter().any(|t| t.value == "ssl-bump") {
                    self.bumping = true;
                }
                Ok(())
            }
            known if directives::DIRECTIVES.binary_search(&known).is_ok() => Ok(()),
            _ => Err(located(
                directive,
                tokens[0].column,
                format!(
                    "`{other}` is not a Squid directive (Squid 5.7 refuses it: `unrecognized: '{other}'`); a Squid configuration has one directive a line, such as `acl`, `http_access` or `http_port`"
                ),
            )),
        }
    }

    /// The ACLs of an access rule's line by index (`!` negates). An ACL
    /// that is not defined is an error, as in Squid, unless an include
    /// could not be read (it may define it).
    fn rule_acls(
        &mut self,
        directive: &Directive<'_>,
        tokens: &[lines::Token<'_>],
    ) -> Result<Vec<(bool, usize)>, ReadError> {
        let mut acls = Vec::new();
        for token in tokens {
            let (negated, name) = match token.value.strip_prefix('!') {
                Some(n) => (true, n),
                None => (false, &*token.value),
            };
            match self.names.get(&*lowercase(name)) {
                Some(&i) => acls.push((negated, i)),
                None if !self.missing.is_empty() => {
                    // Defined, perhaps, in the include that is missing.
                    let i = self.acls.len();
                    self.acls.push(Acl {
                        name: name.to_owned(),
                        kind: UNDEFINED.to_owned(),
                        at: directive.at(),
                        values: Values::Other,
                        written: Vec::new(),
                        unknown: Some(format!("acl {name} is not defined in what was read")),
                        client_requested: false,
                    });
                    self.names.insert(name.to_ascii_lowercase(), i);
                    acls.push((negated, i));
                }
                None => {
                    return Err(located(
                        directive,
                        token.column,
                        format!(
                            "`{name}` is not a defined acl (Squid refuses it: `ACL not found: {name}`); define it with `acl {name} TYPE VALUES` before this line"
                        ),
                    ));
                }
            }
        }
        Ok(acls)
    }

    fn access_rule(
        &mut self,
        directive: &Directive<'_>,
        rest: &[lines::Token<'_>],
    ) -> Result<Option<Rule<bool>>, ReadError> {
        let allow = match rest.first().map(|t| &*t.value) {
            Some("allow") => true,
            Some("deny") => false,
            other => {
                // Squid skips the line with an error, and reads on.
                self.notes.push(format!(
                    "{}: `{} {}` is skipped, as Squid skips it: the action must be `allow` or `deny`",
                    directive.at(),
                    directive.tokens[0].value,
                    other.unwrap_or("")
                ));
                return Ok(None);
            }
        };
        // Squid skips a rule with no ACL.
        if rest.len() == 1 {
            self.notes.push(format!(
                "{}: `{}` names no acl: Squid skips it",
                directive.at(),
                directive.text()
            ));
            return Ok(None);
        }
        let acls = self.rule_acls(directive, &rest[1..])?;
        Ok(Some(Rule {
            action: allow,
            acls,
            at: directive.at(),
            text: directive.text(),
        }))
    }

    fn ssl_bump_rule(
        &mut self,
        directive: &Directive<'_>,
        rest: &[lines::Token<'_>],
    ) -> Result<(), ReadError> {
        let action = match rest.first().map(|t| &*t.value) {
            Some("splice") => BumpAction::Splice,
            Some("bump") => BumpAction::Bump,
            Some("none" | "deny") => BumpAction::Old { bumps: false },
            Some("client-first" | "server-first" | "allow") => BumpAction::Old { bumps: true },
            Some("peek") => BumpAction::Peek,
            Some("stare") => BumpAction::Stare,
            Some("terminate") => BumpAction::Terminate,
            other => {
                return Err(located(
                    directive,
                    rest.first().map_or(1, |t| t.column),
                    format!(
                        "`ssl_bump {}`: write splice, bump, peek, stare or terminate, then the acls",
                        other.unwrap_or("")
                    ),
                ));
            }
        };
        if rest.len() == 1 {
            return Ok(());
        }
        let acls = self.rule_acls(directive, &rest[1..])?;
        self.ssl_bump.push(Rule {
            action,
            acls,
            at: directive.at(),
            text: directive.text(),
        });
        Ok(())
    }

    /// An `acl NAME TYPE [FLAGS] VALUES` line (`tokens`: from the name
    /// on). Its problems, each located.
    fn acl(
        &mut self,
        directive: &Directive<'_>,
        tokens: &[lines::Token<'_>],
        files: &dyn Files,
    ) -> Result<(), Vec<ReadError>> {
        let [name, kind, rest @ ..] = tokens else {
            return Err(vec![located(
                directive,
                1,
                "`acl` needs a name, a type and values: `acl NAME TYPE VALUE...`".to_owned(),
            )]);
        };
        let at = directive.at();
        let kind_name: &str = &kind.value;
        let index = match self.names.get(&*lowercase(&name.value)) {
            // Used before an include that is missing, which may define it:
            // its type is the one written now.
            Some(&i) if self.acls[i].kind == UNDEFINED => {
                self.acls[i].kind = kind_name.to_owned();
                self.acls[i].values = acl::empty_values(kind_name);
                i
            }
            Some(&i) => {
                if self.acls[i].kind != kind_name {
                    return Err(vec![located(
                        directive,
                        kind.column,
                        format!(
                            "acl `{}` already exists with the type `{}` (at {}): Squid refuses another type; use another name",
                            name.value, self.acls[i].kind, self.acls[i].at
                        ),
                    )]);
                }
                i
            }
            None => {
                let i = self.acls.len();
                self.acls.push(Acl {
                    name: name.value.to_string(),
                    kind: kind_name.to_owned(),
                    at: at.clone(),
                    values: acl::empty_values(kind_name),
                    written: Vec::new(),
                    unknown: None,
                    client_requested: false,
                });
                self.names.insert(name.value.to_ascii_lowercase(), i);
                if matches!(self.acls[i].values, Values::Other) {
                    self.acls[i].unknown = Some(format!(
                        "{}: it is not evaluated by egress",
                        self.acls[i].described()
                    ));
                }
                i
            }
        };
        // Flags come first (`--` ends them); `-i`/`+i` may also stand
        // between regular expressions.
        let mut items: Vec<Item> = Vec::new();
        let mut flags_done = false;
        let mut unknown: Vec<String> = Vec::new();
        for token in rest {
            let v: &str = &token.value;
            if token.kind == TokenKind::Plain && (!flags_done || v == "-i" || v == "+i") {
                match v {
                    "-i" | "+i" => {
                        items.push(Item::IgnoreCase(v == "-i"));
                        continue;
                    }
                    "--" if !flags_done => {
                        flags_done = true;
                        continue;
                    }
                    "-n" if !flags_done => {
                        if let Values::Domains { lookup, .. } | Values::HostRegex { lookup, .. } =
                            &mut self.acls[index].values
                        {
                            *lookup = false;
                        }
                        continue;
                    }
                    "--client-requested" if !flags_done => {
                        self.acls[index].client_requested = true;
                        continue;
                    }
                    f if !flags_done
                        && f.len() > 1
                        && f.starts_with('-')
                        && !is_value(kind_name, f) =>
                    {
                        continue;
                    }
                    _ => {}
                }
            }
            flags_done = true;
            if !matches!(
                token.kind,
                TokenKind::QuotedFile | TokenKind::ParametersFile
            ) {
                items.push(Item::Value {
                    text: token.value.to_string(),
                    at: at.clone(),
                    column: token.column,
                });
                continue;
            }
            let path = &token.value;
            match files.read(path) {
                Ok(text) => {
                    let values = if token.kind == TokenKind::QuotedFile {
                        lines::list_values(&text)
                    } else {
                        lines::parameter_values(&text)
                    };
                    for (value, line) in values {
                        items.push(Item::Value {
                            text: value,
                            at: format!("{path}:{line}"),
                            column: token.column,
                        });
                    }
                }
                Err(e) => unknown.push(format!(
                    "its list file `{path}` (named at {at}) cannot be read: {e}"
                )),
            }
            // Squid reads no value after a quoted file name.
            if token.kind == TokenKind::QuotedFile {
                break;
            }
        }
        let regex = |pattern: &str, insensitive: bool| {
            posix_reads_alike(pattern).map_err(|e| format!("its pattern `{pattern}` {e}"))?;
            regex::RegexBuilder::new(pattern)
                .case_insensitive(insensitive)
                .build()
                .map_err(|e| {
                    format!(
                        "its pattern `{pattern}` is not one egress can read: {}",
                        e.to_string().lines().last().unwrap_or_default()
                    )
                })
        };
        let mut insensitive = false;
        let mut bad: Vec<(usize, String)> = Vec::new();
        let mut values = std::mem::replace(&mut self.acls[index].values, Values::Other);
        let members = Members {
            names: &self.names,
            acls: &self.acls,
            index,
        };
        if let Values::AllOf(groups) = &mut values {
            groups.push(Vec::new());
        }
        let mut written = Vec::new();
        for item in items {
            let (value, where_, column) = match item {
                Item::IgnoreCase(on) => {
                    insensitive = on;
                    continue;
                }
                Item::Value { text, at, column } => (text, at, column),
            };
            let mut kept = true;
            match &mut values {
                Values::Domains { names: list, .. } => list.push(value.to_ascii_lowercase()),
                Values::HostRegex { list, .. }
                | Values::UrlRegex(list)
                | Values::PathRegex(list)
                | Values::UserRegex(list) => match regex(&value, insensitive) {
                    Ok(r) => list.push(r),
                    Err(e) => {
                        unknown.push(e);
                        kept = false;
                    }
                },
                Values::Dst(spans) | Values::Src(spans) => match Span::parse_squid(&value) {
                    Some(s) => spans.extend(s),
                    None => unknown.push(format!(
                        "its value `{value}` is a name Squid resolves when it starts"
                    )),
                },
                Values::Ports(ports) | Values::LocalPorts(ports) => match acl::port_range(&value) {
                    Some(p) => ports.push(p),
                    None => bad.push((
                        column,
                        format!(
                            "`{value}` is not a port or a range of ports (`443`, `1025-65535`)"
                        ),
                    )),
                },
                Values::Methods(methods) => methods.push(value.clone()),
                Values::Users { names, ignore_case } => {
                    if insensitive {
                        *ignore_case = true;
                    }
                    if value == "REQUIRED" {
                        *names = None;
                    } else if let Some(list) = names {
                        list.push(value.clone());
                    }
                }
                Values::AllOf(groups) => {
                    if let Some(group) = groups.last_mut() {
                        members.take_into(&value, column, group, &mut bad, &mut unknown);
                    }
                }
                Values::AnyOf(list) => {
                    members.take_into(&value, column, list, &mut bad, &mut unknown);
                }
                Values::Steps(steps) => match value.as_str() {
                    "SslBump1" => steps.push(1),
                    "SslBump2" => steps.push(2),
                    "SslBump3" => steps.push(3),
                    "GeneratingCONNECT" => {}
                    other => bad.push((
                        column,
                        format!("`{other}` is not a step: SslBump1, SslBump2 or SslBump3"),
                    )),
                },
                Values::Other => {}
            }
            if kept {
                written.push((value, where_));
            }
        }
        let acl = &mut self.acls[index];
        acl.values = values;
        acl.written.append(&mut written);
        let acl_described = acl.described();
        if !unknown.is_empty() {
            let why = format!("{acl_described}: {}", unknown.join("; "));
            let acl = &mut self.acls[index];
            acl.unknown = Some(match acl.unknown.take() {
                Some(before) => format!("{before}; {why}"),
                None => why,
            });
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad
                .into_iter()
                .map(|(column, e)| located(directive, column, e))
                .collect())
        }
    }

    /// Whether `acl` matches the request.
    fn truth(&self, index: usize, asking: &Asking<'_, '_>) -> Truth {
        let acl = &self.acls[index];
        let r = asking.request;
        let ip_host = r
            .host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .ok();
        let known = |yes: bool| if yes { Truth::Yes } else { Truth::No };
        let unknown = |why: &str| Truth::Unknown(format!("{}: {why}", acl.described()));
        let truth = match &acl.values {
            _ if asking.step == 3
                && acl.kind.starts_with("ssl::server_name")
                && !acl.client_requested =>
            {
                unknown("at ssl_bump step 3 it matches the names of the server's certificate")
            }
            Values::Domains { names, lookup } => {
                if names.iter().any(|d| acl::domain_holds(d, r.host)) {
                    Truth::Yes
                } else if ip_host.is_some() && *lookup {
                    unknown("an IP address is matched by its reverse DNS name (no -n)")
                } else {
                    Truth::No
                }
            }
            Values::HostRegex { list, lookup } => {
                if list.iter().any(|re| re.is_match(r.host)) {
                    Truth::Yes
                } else if ip_host.is_some() && *lookup {
                    unknown("an IP address is matched by its reverse DNS name (no -n)")
                } else {
                    Truth::No
                }
            }
            Values::UrlRegex(list) => known(list.iter().any(|re| re.is_match(r.url))),
            Values::PathRegex(list) => {
                let path = if r.method == "CONNECT" {
                    ""
                } else {
                    url_path(r.url)
                };
                known(list.iter().any(|re| re.is_match(path)))
            }
            Values::Dst(spans) => match ip_host {
                Some(ip) => {
                    let (v6, a) = Span::of(ip);
                    known(
                        spans
                            .iter()
                            .any(|s| s.v6 == v6 && s.low <= a && a <= s.high),
                    )
                }
                None => {
                    unknown("the addresses the name resolves to at the proxy are not known here")
                }
            },
            Values::Src(spans) => match r.client {
                Client::In(range) => match acl::spans_hold(spans, Span::from_range(&range)) {
                    Some(yes) => known(yes),
                    None => unknown(&format!(
                        "it holds part of the client range {}",
                        crate::asked::range_text(&range)
                    )),
                },
                Client::Unknown => {
                    if Span::EVERYTHING
                        .iter()
                        .all(|&whole| acl::spans_hold(spans, whole) == Some(true))
                    {
                        Truth::Yes
                    } else {
                        unknown(
                            "the site system's address is not known (give --client ADDRESS, or the role's servers in the profile)",
                        )
                    }
                }
            },
            Values::Ports(ports) => known(ports.iter().any(|&(a, b)| (a..=b).contains(&r.port))),
            Values::LocalPorts(ports) => match self.ports.as_slice() {
                [port] => known(ports.iter().any(|&(a, b)| (a..=b).contains(port))),
                _ => unknown("the proxy listens on more than one port (or none is written)"),
            },
            // Squid reads method names without case (relaxed_header_parser,
            // on by default).
            Values::Methods(methods) => {
                known(methods.iter().any(|m| m.eq_ignore_ascii_case(r.method)))
            }
            Values::Users { names, ignore_case } => match asking.user {
                None => return Truth::Auth(acl.described()),
                Some(user) => known(match names {
                    None => true,
                    Some(list) => list.iter().any(|n| {
                        if *ignore_case {
                            n.eq_ignore_ascii_case(user)
                        } else {
                            n == user
                        }
                    }),
                }),
            },
            Values::UserRegex(list) => match asking.user {
                None => return Truth::Auth(acl.described()),
                Some(user) => known(list.iter().any(|re| re.is_match(user))),
            },
            Values::AllOf(groups) => self.any(
                groups
                    .iter()
                    .map(|group| self.all(group.iter().map(|&i| (false, i)), asking)),
            ),
            Values::AnyOf(list) => self.any(list.iter().map(|&i| self.truth(i, asking))),
            Values::Steps(steps) => {
                if asking.step == 0 {
                    unknown("the ssl_bump step is known only in ssl_bump rules")
                } else {
                    known(steps.contains(&asking.step))
                }
            }
            Values::Other => Truth::No,
        };
        match (truth, &acl.unknown) {
            (Truth::No, Some(why)) => Truth::Unknown(why.clone()),
            (truth, _) => truth,
        }
    }

    /// Whether all of `acls` match (`true`: negated), left to right as
    /// Squid checks them ([`left_to_right`]).
    fn all(&self, acls: impl IntoIterator<Item = (bool, usize)>, asking: &Asking<'_, '_>) -> Truth {
        left_to_right(
            acls.into_iter().map(|(negated, index)| {
                let truth = self.truth(index, asking);
                if negated { truth.not() } else { truth }
            }),
            false,
        )
    }

    /// Whether any of `truths` matches, left to right as Squid checks
    /// them.
    fn any(&self, truths: impl IntoIterator<Item = Truth>) -> Truth {
        left_to_right(truths, true)
    }

    /// Which rule of `rules` decides: the action and the rule
    /// (`Ok(None)`: none matches), or, when the answer is not known, why
    /// (`Err`). Rules whose action `skip` names are passed over;
    /// `default` is the answer when none matches. A rule that may or may
    /// not match is passed over, and settles nothing, unless the answer
    /// it would give is the one the rules after it give.
    fn first_match<'s, A: Copy + PartialEq>(
        &'s self,
        rules: &'s [Rule<A>],
        asking: &Asking<'_, '_>,
        default: Option<A>,
        skip: &dyn Fn(A) -> bool,
    ) -> Result<Option<(A, &'s Rule<A>)>, Stuck> {
        // The rules that may match, passed over so far: the rule, why it
        // is not known, and whether a match would ask for credentials.
        let mut maybe: Vec<(&Rule<A>, String, bool)> = Vec::new();
        let mut decided = None;
        for rule in rules.iter().filter(|r| !skip(r.action)) {
            match self.all(rule.acls.iter().copied(), asking) {
                Truth::Yes => {
                    decided = Some((rule.action, rule));
                    break;
                }
                Truth::No => {}
                Truth::Auth(acl) => {
                    return Err(match maybe.first() {
                        None => Stuck::Auth(format!("{}: {} ({acl})", rule.at, rule.text)),
                        Some((first, why, _)) => {
                            Stuck::Unknown(format!("{}: {} depends on {why}", first.at, first.text))
                        }
                    });
                }
                Truth::Unknown(why) => maybe.push((rule, why, false)),
                Truth::UnknownThenAuth(why) => maybe.push((rule, why, true)),
            }
        }
        let answer = decided.map(|(action, _)| action).or(default);
        let differs = maybe
            .iter()
            .find(|(rule, _, auth)| *auth || Some(rule.action) != answer);
        match (differs, maybe.first()) {
            (Some((rule, why, _)), _) => Err(Stuck::Unknown(format!(
                "{}: {} depends on {why}",
                rule.at, rule.text
            ))),
            // Every way gives the same answer: the first rule that may
            // match is where Squid may settle it.
            (None, Some((rule, _, _))) => Ok(Some((rule.action, *rule))),
            (None, None) => Ok(decided),
        }
    }

    /// An access list's answer: allowed or not, and by which rule; no
    /// rule matching: the opposite of the last (no rule at all: deny).
    fn access(
        &self,
        rules: &[Rule<bool>],
        asking: &Asking<'_, '_>,
    ) -> Result<(bool, Option<String>), Stuck> {
        let default = rules.last().is_some_and(|r| !r.action);
        match self.first_match(rules, asking, Some(default), &|_| false)? {
            Some((allow, rule)) => Ok((allow, Some(format!("{}: {}", rule.at, rule.text)))),
            None => Ok((default, None)),
        }
    }

    /// Whether the rules allow `request`, as Squid decides, for a client
    /// that authenticates as `user` when asked (`None`: none given).
    pub fn decide(&self, request: &Request<'_>, user: Option<&str>) -> Decision {
        let asking = Asking {
            request,
            user,
            step: 0,
        };
        let stuck = |s: Stuck| match s {
            Stuck::Auth(rule) => Decision {
                outcome: Outcome::NeedsAuth,
                rule: Some(rule),
                inspection: Inspection::None,
            },
            Stuck::Unknown(why) => Decision {
                outcome: Outcome::NotJudged,
                rule: Some(why),
                inspection: Inspection::None,
            },
        };
        if !self.missing.is_empty() {
            return stuck(Stuck::Unknown(self.missing.join("; ")));
        }
        // A CONNECT's own reply does not pass http_reply_access.
        let mut gates = vec![
            &self.http_access,
            &self.adapted_http_access,
            &self.miss_access,
        ];
        if request.method != "CONNECT" {
            gates.push(&self.http_reply_access);
        }
        let mut by = None;
        for (n, rules) in gates.into_iter().enumerate() {
            // No http_access rule at all denies; the other lists allow.
            if n > 0 && rules.is_empty() {
                continue;
            }
            match self.access(rules, &asking) {
                Ok((true, rule)) => {
                    if n == 0 {
                        by = rule;
                    }
                }
                Ok((false, rule)) => {
                    return Decision {
                        outcome: Outcome::Denied,
                        rule,
                        inspection: Inspection::None,
                    };
                }
                Err(s) => return stuck(s),
            }
        }
        let inspection = if request.method == "CONNECT" && self.bumping {
            match self.bump(&asking) {
                Ok(None) => Inspection::None,
                Ok(Some((BumpAction::Terminate, rule))) => {
                    return Decision {
                        outcome: Outcome::Denied,
                        rule: Some(rule),
                        inspection: Inspection::None,
                    };
                }
                Ok(Some((_, rule))) => Inspection::Inspected(rule),
                // A terminate may be what the unknown decides: then whether
                // the request passes is not known either.
                Err(Stuck::Unknown(why) | Stuck::Auth(why))
                    if self
                        .ssl_bump
                        .iter()
                        .any(|r| r.action == BumpAction::Terminate) =>
                {
                    return stuck(Stuck::Unknown(why));
                }
                Err(Stuck::Unknown(why) | Stuck::Auth(why)) => Inspection::NotJudged(why),
            }
        } else {
            Inspection::None
        };
        Decision {
            outcome: Outcome::Allowed,
            rule: by,
            inspection,
        }
    }

    /// What `ssl_bump` does with an allowed CONNECT, step by step, as
    /// Squid 5.7 does: bumped or terminated (with the deciding rule) or
    /// spliced (`None`). At step 1 no rule splices; at step 2 the old
    /// actions are passed over and no rule splices; at step 3 `peek`,
    /// `stare`, the old actions and what the earlier step makes
    /// impossible (a splice after a stare, a bump after a peek) are passed
    /// over, and no rule bumps after a stare and splices after a peek.
    fn bump(&self, asking: &Asking<'_, '_>) -> Result<Option<(BumpAction, String)>, Stuck> {
        let mut last: Option<(BumpAction, String)> = None;
        for step in 1..=3 {
            let asking = Asking { step, ..*asking };
            let before = last.as_ref().map(|(a, _)| *a);
            let skip = |action: BumpAction| match step {
                1 => false,
                2 => matches!(action, BumpAction::Old { .. }),
                _ => {
                    matches!(
                        action,
                        BumpAction::Old { .. } | BumpAction::Peek | BumpAction::Stare
                    ) || (action == BumpAction::Splice && before == Some(BumpAction::Stare))
                        || (action == BumpAction::Bump && before == Some(BumpAction::Peek))
                }
            };
            let default = if step == 3 && before == Some(BumpAction::Stare) {
                BumpAction::Bump
            } else {
                BumpAction::Splice
            };
            let decided = self.first_match(&self.ssl_bump, &asking, Some(default), &skip)?;
            let Some((action, rule)) = decided else {
                return Ok(match (default, last) {
                    (BumpAction::Bump, Some((_, rule))) => Some((BumpAction::Bump, rule)),
                    _ => None,
                });
            };
            let rule = format!("{}: {}", rule.at, rule.text);
            match action {
                BumpAction::Splice | BumpAction::Old { bumps: false } => return Ok(None),
                BumpAction::Bump | BumpAction::Old { bumps: true } => {
                    return Ok(Some((BumpAction::Bump, rule)));
                }
                BumpAction::Terminate => return Ok(Some((BumpAction::Terminate, rule))),
                BumpAction::Peek | BumpAction::Stare => last = Some((action, rule)),
            }
        }
        Ok(None)
    }

    /// The destination values of the ACLs that allow rules use (not
    /// negated), with where they were written, and the patterns each
    /// admits when it is a domain (`None`: a regular expression).
    pub fn allowed_values(&self) -> Vec<AllowedValue<'_>> {
        let mut out = Vec::new();
        for rule in self.http_access.iter().filter(|r| r.action) {
            for &(negated, index) in &rule.acls {
                if negated {
                    continue;
                }
                let acl = &self.acls[index];
                if acl.at.starts_with(PREDEFINED_AT) {
                    continue;
                }
                match &acl.values {
                    Values::Domains { names, .. } => {
                        for (d, (text, at)) in names.iter().zip(&acl.written) {
                            let patterns = match d.strip_prefix('.') {
                                Some(x) => {
                                    [HostPattern::parse(x), HostPattern::parse(&format!("*.{x}"))]
                                        .into_iter()
                                        .filter_map(Result::ok)
                                        .collect()
                                }
                                None => HostPattern::parse(d).into_iter().collect(),
                            };
                            out.push(AllowedValue {
                                text,
                                at,
                                patterns: Some(patterns),
                                regex: None,
                            });
                        }
                    }
                    Values::HostRegex { list, .. } | Values::UrlRegex(list) => {
                        let url = matches!(acl.values, Values::UrlRegex(_));
                        for (r, (text, at)) in list.iter().zip(&acl.written) {
                            out.push(AllowedValue {
                                text,
                                at,
                                patterns: None,
                                regex: Some((r, url)),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort_by(|a, b| (a.at, a.text).cmp(&(b.at, b.text)));
        out.dedup_by(|a, b| a.at == b.at && a.text == b.text);
        out
    }
}

/// How `all-of` and `any-of` find the ACLs they name: defined before,
/// and not leading back to the ACL being defined (Squid would never
/// finish evaluating it), nor nested deeper than egress follows.
struct Members<'c> {
    names: &'c HashMap<String, usize>,
    acls: &'c [Acl],
    index: usize,
}

/// How deep `all-of` and `any-of` may nest.
const MAX_NESTING: usize = 32;

impl Members<'_> {
    /// Adds the ACL `name` to `list`, or says why not: a problem
    /// (`bad`) or something not judged (`unknown`).
    fn take_into(
        &self,
        name: &str,
        column: usize,
        list: &mut Vec<usize>,
        bad: &mut Vec<(usize, String)>,
        unknown: &mut Vec<String>,
    ) {
        let Some(&i) = self.names.get(&*lowercase(name)) else {
            bad.push((
                column,
                format!("`{name}` is not a defined acl; define it before this line"),
            ));
            return;
        };
        match self.depth(i, 0) {
            None => unknown.push(format!(
                "its member `{name}` leads back to it (Squid would not finish evaluating it)"
            )),
            Some(d) if d >= MAX_NESTING => unknown.push(format!(
                "its member `{name}` nests more than {MAX_NESTING} acls deep"
            )),
            Some(_) => list.push(i),
        }
    }

    /// How deep `i`'s members nest; `None` when they lead to the ACL
    /// being defined.
    fn depth(&self, i: usize, at: usize) -> Option<usize> {
        if i == self.index {
            return None;
        }
        if at > MAX_NESTING {
            return Some(at);
        }
        let members: Vec<usize> = match &self.acls[i].values {
            Values::AllOf(groups) => groups.iter().flatten().copied().collect(),
            Values::AnyOf(list) => list.clone(),
            _ => return Some(at),
        };
        let mut deepest = at;
        for m in members {
            deepest = deepest.max(self.depth(m, at + 1)?);
        }
        Some(deepest)
    }
}

/// An ACL line's values in order, with the `-i`/`+i` switches between
/// them.
#[derive(Debug)]
enum Item {
    IgnoreCase(bool),
    Value {
        text: String,
        /// `file:line`.
        at: String,
        column: usize,
    },
}

/// A list of ACLs checked left to right as Squid checks them: the first
/// that is `ends` (a mismatch for all-of a list, a match for any-of it)
/// ends it; an authentication ACL reached asks for credentials; one not
/// known leaves the answer not known unless a later one ends it (and a
/// later authentication ACL is then reached only where it matches).
fn left_to_right(truths: impl IntoIterator<Item = Truth>, ends: bool) -> Truth {
    let mut unknown: Option<String> = None;
    for truth in truths {
        match truth {
            Truth::Yes if ends => return Truth::Yes,
            Truth::No if !ends => return Truth::No,
            Truth::Yes | Truth::No => {}
            Truth::Auth(at) => {
                return match unknown {
                    Some(why) => Truth::UnknownThenAuth(why),
                    None => Truth::Auth(at),
                };
            }
            Truth::UnknownThenAuth(why) => return Truth::UnknownThenAuth(unknown.unwrap_or(why)),
            Truth::Unknown(why) => {
                unknown.get_or_insert(why);
            }
        }
    }
    match unknown {
        Some(why) => Truth::Unknown(why),
        None if ends => Truth::No,
        None => Truth::Yes,
    }
}

/// Why a list of rules gives no answer here.
#[derive(Debug)]
enum Stuck {
    /// A rule reaches an authentication ACL and no user is given.
    Auth(String),
    /// A rule depends on something not known here.
    Unknown(String),
}

/// Whether Rust's `regex` reads `pattern` as Squid's POSIX extended
/// regular expressions (glibc's `regcomp`) do, on hosts and URLs (which
/// hold no backslash): an escaped letter or digit (`\d` is `d` to glibc,
/// a digit to Rust; `\w`, `\W`, `\s`, `\S`, `\b`, `\B` agree), any
/// backslash-letter inside brackets, and Rust's own `(?` groups are
/// not read alike.
fn posix_reads_alike(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else { break };
                let agrees = !next.is_ascii_alphanumeric()
                    || (!in_class && matches!(next, 'w' | 'W' | 's' | 'S' | 'b' | 'B'));
                if !agrees {
                    return Err(format!(
                        "has `\\{next}`, which POSIX regular expressions (Squid's) read otherwise than egress"
                    ));
                }
            }
            '[' if !in_class => {
                in_class = true;
                // A `]` (after `^`) first in a class is itself.
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                }
            }
            ']' if in_class => in_class = false,
            '(' if !in_class && chars.peek() == Some(&'?') => {
                return Err("has `(?`, which Squid's POSIX regular expressions refuse".to_owned());
            }
            _ => {}
        }
    }
    Ok(())
}

/// `name` without capitals (Squid finds ACLs without case), borrowed
/// when it has none.
fn lowercase(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(name.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Whether a token standing where flags may be is a value (a negative
/// number is never a flag of these types).
fn is_value(kind: &str, token: &str) -> bool {
    matches!(kind, "port" | "localport") && token[1..].starts_with(|c: char| c.is_ascii_digit())
}

/// The path (and query) of an `http://host[:port]/path` URL.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// Holds the configuration's rules against `plan` (see [`by_asking`]),
/// as a client that authenticates as `user` (`None`: rows behind an
/// authentication rule need one) from the addresses `clients` gives for
/// a row.
pub fn audit(
    config: &Config,
    plan: &Plan,
    user: Option<&str>,
    clients: &dyn Fn(&egress_catalog::Row) -> Vec<Client>,
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    by_asking(
        plan,
        &|r| config.decide(r, user),
        true,
        clients,
        config.allowed_values(),
        config.notes.clone(),
        nearest,
    )
}
