//! A Squid configuration's access rules, read and evaluated as Squid
//! evaluates them (docs/audit.md): `acl` lines of the types an egress
//! allowlist uses (`dstdomain`, `dstdom_regex`, `dst`, `src`, `port`,
//! `method`, `url_regex`), values from quoted list files, `include`
//! directives, and `http_access` rules in order, first match wins, with
//! `!` negation; no match is the opposite of the last rule.

use std::collections::BTreeMap;

use egress_catalog::Plan;
use egress_catalog::profile::AddressRange;
use egress_pattern::HostPattern;

use crate::allowlist::{AllowlistReport, ReadError};
use crate::asked::by_asking;
pub use crate::asked::{AllowedValue, Decision, Request};

#[derive(Debug)]
enum Values {
    /// `.x` is `x` and its subdomains; `x` is `x` only.
    Domains(Vec<String>),
    Regex(Vec<regex::Regex>),
    Addresses(Vec<AddressRange>),
    /// Sources: egress asks as every site system, so a `src` ACL is
    /// taken to match (said once in the report).
    Sources,
    Ports(Vec<(u16, u16)>),
    Methods(Vec<String>),
    UrlRegex(Vec<regex::Regex>),
    /// A type egress does not evaluate: taken not to match.
    Other(String),
}

#[derive(Debug)]
struct Acl {
    values: Values,
    /// The values as written, with where (`file:line`).
    written: Vec<(String, String)>,
}

#[derive(Debug)]
struct Rule {
    allow: bool,
    acls: Vec<(bool, String)>,
    at: String,
    text: String,
}

/// The access rules of a Squid configuration.
#[derive(Debug, Default)]
pub struct Config {
    acls: BTreeMap<String, Acl>,
    rules: Vec<Rule>,
    /// What egress could not evaluate exactly, once each.
    pub notes: Vec<String>,
    /// Files included so far.
    files: usize,
}

/// How deep includes may nest, and how many files they may read in all.
const MAX_NESTING: usize = 16;
const MAX_FILES: usize = 1_000;

/// Reads `text` (the configuration in `file`); `read` gives the text of
/// an included file or a quoted list file by the path written (relative
/// to the configuration's folder: the caller resolves it). Every problem
/// is reported.
pub fn read(
    file: &str,
    text: &str,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Config, Vec<ReadError>> {
    let mut config = Config {
        acls: BTreeMap::from([(
            "all".to_owned(),
            Acl {
                values: Values::Sources,
                written: Vec::new(),
            },
        )]),
        ..Config::default()
    };
    let mut errors = Vec::new();
    config.read_text(file, text, read, &mut errors, &mut vec![file.to_owned()]);
    for rule in &config.rules {
        for (_, name) in &rule.acls {
            if !config.acls.contains_key(name) {
                errors.push(error_at(
                    &rule.at,
                    format!("`{name}` is not a defined acl; define it with `acl {name} TYPE VALUES` before this rule"),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(errors)
    }
}

fn error_at(at: &str, message: String) -> ReadError {
    let mut parts = at.rsplitn(2, ':');
    let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    let file = parts.next().unwrap_or(at).to_owned();
    ReadError {
        file,
        line,
        column: 1,
        message,
    }
}

impl Config {
    fn read_text(
        &mut self,
        file: &str,
        text: &str,
        read: &dyn Fn(&str) -> Result<String, String>,
        errors: &mut Vec<ReadError>,
        stack: &mut Vec<String>,
    ) {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{file}:{}", i + 1);
            let mut words = line.split_whitespace();
            match words.next() {
                Some("include") => {
                    let Some(path) = words.next() else {
                        errors.push(error_at(&at, "`include` names no file".to_owned()));
                        continue;
                    };
                    if stack.iter().any(|f| f == path) {
                        errors.push(error_at(
                            &at,
                            format!(
                                "`include {path}`: it includes itself (through {})",
                                stack.join(", ")
                            ),
                        ));
                        continue;
                    }
                    self.files += 1;
                    if stack.len() >= MAX_NESTING || self.files > MAX_FILES {
                        errors.push(error_at(
                            &at,
                            format!("`include {path}`: more than {MAX_NESTING} levels or {MAX_FILES} files of includes"),
                        ));
                        continue;
                    }
                    match read(path) {
                        Ok(text) => {
                            stack.push(path.to_owned());
                            self.read_text(path, &text, read, errors, stack);
                            stack.pop();
                        }
                        Err(e) => errors.push(error_at(&at, format!("`include {path}`: {e}"))),
                    }
                }
                Some("acl") => {
                    let words: Vec<&str> = words.collect();
                    if let Err(e) = self.acl(&at, &words, read) {
                        errors.push(error_at(&at, e));
                    }
                }
                Some("http_access") => {
                    let action = words.next();
                    let allow = match action {
                        Some("allow") => true,
                        Some("deny") => false,
                        other => {
                            errors.push(error_at(
                                &at,
                                format!(
                                    "`http_access {}`: write `allow` or `deny`",
                                    other.unwrap_or("")
                                ),
                            ));
                            continue;
                        }
                    };
                    let acls = words
                        .map(|w| match w.strip_prefix('!') {
                            Some(name) => (true, name.to_owned()),
                            None => (false, w.to_owned()),
                        })
                        .collect();
                    self.rules.push(Rule {
                        allow,
                        acls,
                        at,
                        text: line.to_owned(),
                    });
                }
                // Other directives do not decide access.
                _ => {}
            }
        }
    }

    fn acl(
        &mut self,
        at: &str,
        words: &[&str],
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<(), String> {
        let [name, kind, rest @ ..] = words else {
            return Err("`acl` needs a name, a type and values".to_owned());
        };
        let mut insensitive = false;
        let mut written: Vec<(String, String)> = Vec::new();
        for word in rest {
            match *word {
                "-i" => insensitive = true,
                "+i" => insensitive = false,
                w if w.starts_with('-')
                    && w.len() > 1
                    && !w[1..].starts_with(|c: char| c.is_ascii_digit()) => {}
                w if w.starts_with('"') && w.ends_with('"') && w.len() > 1 => {
                    let path = &w[1..w.len() - 1];
                    let text = read(path).map_err(|e| format!("the list file `{path}`: {e}"))?;
                    for (i, l) in text.lines().enumerate() {
                        let l = l.trim();
                        if !l.is_empty() && !l.starts_with('#') {
                            written.push((l.to_owned(), format!("{path}:{}", i + 1)));
                        }
                    }
                }
                w => written.push((w.to_owned(), at.to_owned())),
            }
        }
        let regex = |pattern: &str| {
            regex::RegexBuilder::new(pattern)
                .case_insensitive(insensitive)
                .build()
                .map_err(|e| {
                    format!("`{pattern}` is not a regular expression egress can read: {e}")
                })
        };
        let values = match *kind {
            "dstdomain" => Values::Domains(
                written
                    .iter()
                    .map(|(w, _)| w.to_ascii_lowercase())
                    .collect(),
            ),
            "dstdom_regex" => Values::Regex(
                written
                    .iter()
                    .map(|(w, _)| regex(w))
                    .collect::<Result<_, _>>()?,
            ),
            "url_regex" => Values::UrlRegex(
                written
                    .iter()
                    .map(|(w, _)| regex(w))
                    .collect::<Result<_, _>>()?,
            ),
            "dst" => Values::Addresses(
                written
                    .iter()
                    .map(|(w, _)| AddressRange::parse(w).map_err(|e| format!("`{w}`: {e}")))
                    .collect::<Result<_, _>>()?,
            ),
            "src" => Values::Sources,
            "port" => Values::Ports(
                written
                    .iter()
                    .map(|(w, _)| {
                        let (a, b) = w.split_once('-').unwrap_or((w, w));
                        match (a.parse(), b.parse()) {
                            (Ok(a), Ok(b)) if a <= b => Ok((a, b)),
                            _ => Err(format!("`{w}` is not a port or a range of ports")),
                        }
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "method" => Values::Methods(
                written
                    .iter()
                    .map(|(w, _)| w.to_ascii_uppercase())
                    .collect(),
            ),
            other => Values::Other(other.to_owned()),
        };
        match self.acls.get_mut(*name) {
            Some(acl) => {
                let same = std::mem::discriminant(&acl.values) == std::mem::discriminant(&values);
                if !same {
                    return Err(format!("`acl {name}` was defined with another type"));
                }
                match (&mut acl.values, values) {
                    (Values::Domains(a), Values::Domains(b)) => a.extend(b),
                    (Values::Regex(a), Values::Regex(b))
                    | (Values::UrlRegex(a), Values::UrlRegex(b)) => a.extend(b),
                    (Values::Addresses(a), Values::Addresses(b)) => a.extend(b),
                    (Values::Ports(a), Values::Ports(b)) => a.extend(b),
                    (Values::Methods(a), Values::Methods(b)) => a.extend(b),
                    _ => {}
                }
                acl.written.extend(written);
            }
            None => {
                if let Values::Other(kind) = &values {
                    self.notes.push(format!("acl `{name}` has the type `{kind}`, which egress does not evaluate: taken not to match"));
                }
                if matches!(values, Values::Sources) {
                    let note = "`src` acls are taken to match: egress asks as every site system"
                        .to_owned();
                    if !self.notes.contains(&note) {
                        self.notes.push(note);
                    }
                }
                self.acls
                    .insert((*name).to_owned(), Acl { values, written });
            }
        }
        Ok(())
    }

    /// Whether the rules allow `request`, as Squid decides.
    pub fn decide(&self, request: &Request<'_>) -> Decision {
        for rule in &self.rules {
            let matched = rule.acls.iter().all(|(negated, name)| {
                self.acls
                    .get(name)
                    .is_some_and(|acl| matches(&acl.values, request) != *negated)
            });
            if matched {
                return Decision {
                    allowed: rule.allow,
                    rule: Some(format!("{}: {}", rule.at, rule.text)),
                };
            }
        }
        // No rule matched: the opposite of the last one (none: deny).
        Decision {
            allowed: self.rules.last().is_some_and(|r| !r.allow),
            rule: None,
        }
    }

    /// The destination values of the acls that allow rules use (not
    /// negated), with where they were written, and the patterns each
    /// admits when it is a domain (`None`: a regular expression).
    pub fn allowed_values(&self) -> Vec<AllowedValue<'_>> {
        let mut out = Vec::new();
        for rule in self.rules.iter().filter(|r| r.allow) {
            for (negated, name) in &rule.acls {
                let Some(acl) = self.acls.get(name).filter(|_| !negated) else {
                    continue;
                };
                match &acl.values {
                    Values::Domains(domains) => {
                        for (d, (text, at)) in domains.iter().zip(&acl.written) {
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
                    Values::Regex(r) | Values::UrlRegex(r) => {
                        let url = matches!(acl.values, Values::UrlRegex(_));
                        for (r, (text, at)) in r.iter().zip(&acl.written) {
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

fn matches(values: &Values, r: &Request<'_>) -> bool {
    match values {
        Values::Domains(domains) => domains.iter().any(|d| match d.strip_prefix('.') {
            Some(x) => r.host == x || r.host.strip_suffix(x).is_some_and(|h| h.ends_with('.')),
            None => r.host == d,
        }),
        Values::Regex(list) => list.iter().any(|re| re.is_match(r.host)),
        Values::UrlRegex(list) => list.iter().any(|re| re.is_match(r.url)),
        Values::Addresses(ranges) => r
            .host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ranges.iter().any(|a| a.contains(ip))),
        Values::Sources => true,
        Values::Ports(ports) => ports.iter().any(|&(a, b)| (a..=b).contains(&r.port)),
        Values::Methods(methods) => methods.iter().any(|m| m == r.method),
        Values::Other(_) => false,
    }
}

/// Holds the configuration's rules against `plan` (see
/// [`by_asking`]).
pub fn audit(
    config: &Config,
    plan: &Plan,
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    by_asking(
        plan,
        &|r| config.decide(r),
        true,
        config.allowed_values(),
        config.notes.clone(),
        nearest,
    )
}
