//! An existing allowlist held against the plan: which plan rows it
//! admits exactly, only more broadly, in part, or not at all, and which
//! of its entries no plan row explains.
//!
//! Read so far: `plain` (one egress host pattern a line), `pan-edl`
//! (PAN-OS domain and URL lists), `aws-network-firewall` (a stateful rule
//! group's domain list) and `azure-firewall` (an ARM template's
//! application rules' `targetFqdns`). Each reader turns its format into
//! [`Entry`]s in that format's own matching semantics (an entry admits one
//! or more egress patterns: a PAN-OS bare `x` or an AWS `.x` admits `x` and
//! `*.x`); the verdicts are the same for every format.

use egress_catalog::Plan;
use egress_catalog::catalog::{Direction, Scheme};
use egress_pattern::HostPattern;
use serde::Serialize;

/// One entry of an allowlist, as read.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What the entry admits, in egress patterns.
    pub patterns: Vec<HostPattern>,
    /// The schemes and ports it admits them on: `None` for every one (a
    /// list that cannot say).
    pub reach: Option<Vec<Reach>>,
    /// As written.
    pub text: String,
    pub file: String,
    pub line: usize,
}

/// A scheme on a range of ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub scheme: Scheme,
    pub ports: std::ops::RangeInclusive<u16>,
}

impl Reach {
    /// `scheme` on every port.
    pub fn any_port(scheme: Scheme) -> Reach {
        Reach {
            scheme,
            ports: 0..=u16::MAX,
        }
    }
}

/// A line the reader cannot read: the allowlist is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ReadError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A plain list: one host pattern a line in egress's syntax
/// (docs/host-patterns.md), `#` comments and blank lines skipped. Every
/// line that is not a pattern is reported.
pub fn read_plain(file: &str, text: &str) -> Result<Vec<Entry>, Vec<ReadError>> {
    read_lines(file, text, 1, true, |line, _| {
        HostPattern::parse(line).map(|p| Some((vec![p], None))).map_err(|e| {
            format!("`{line}` is not a host pattern: {e}; write one host or pattern a line (docs/host-patterns.md)")
        })
    })
}

/// A PAN-OS external dynamic list of domains or URLs (docs/targets.md):
/// `^x` is `x` only, `*.x` the subdomains of `x`, a bare `x` both; in a
/// URL list, the host is what comes before the first `/`. An EDL has no
/// comments.
pub fn read_pan_edl(file: &str, text: &str) -> Result<Vec<Entry>, Vec<ReadError>> {
    read_lines(file, text, 1, false, |line, _| {
        pan_edl_entry(line).map(|p| Some((p, None)))
    })
}

/// One PAN-OS EDL line's patterns.
fn pan_edl_entry(line: &str) -> Result<Vec<HostPattern>, String> {
    let host = line.split('/').next().unwrap_or_default();
    let bad = |e: egress_pattern::HostError| {
        format!(
            "`{line}` is not a PAN-OS EDL entry: {e}; write `^host`, `*.domain` or `domain`, in a URL list followed by `/`"
        )
    };
    if let Some(exact) = host.strip_prefix('^') {
        return HostPattern::parse(exact).map(|p| vec![p]).map_err(bad);
    }
    if host.starts_with("*.") {
        return HostPattern::parse(host).map(|p| vec![p]).map_err(bad);
    }
    let apex = HostPattern::parse(host).map_err(bad)?;
    let below = HostPattern::parse(&format!("*.{host}")).map_err(bad)?;
    Ok(vec![apex, below])
}

/// The entries of a list with one entry a line (`comments`: `#` lines are
/// comments; `first_line`: the line of `text`'s first line in `file`),
/// each read by `read` with its line number: its patterns and where it
/// admits them, or `None` for a line that is no entry. Every line it
/// refuses is reported.
fn read_lines(
    file: &str,
    text: &str,
    first_line: usize,
    comments: bool,
    mut read: impl FnMut(&str, usize) -> Result<Option<(Vec<HostPattern>, Option<Vec<Reach>>)>, String>,
) -> Result<Vec<Entry>, Vec<ReadError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || (comments && line.starts_with('#')) {
            continue;
        }
        let number = first_line + i;
        let column = raw.len() - raw.trim_start().len() + 1;
        match read(line, number) {
            Ok(Some((patterns, reach))) => entries.push(Entry {
                patterns,
                reach,
                text: line.to_owned(),
                file: file.to_owned(),
                line: number,
            }),
            Ok(None) => {}
            Err(message) => errors.push(ReadError {
                file: file.to_owned(),
                line: number,
                column,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// An AWS Network Firewall stateful rule group: the JSON of
/// `create-rule-group --cli-input-json` (what `egress render
/// aws-network-firewall` writes) with a domain list
/// (`RulesSourceList`: its `Targets`, where `.x` is `x` and its
/// subdomains, on the schemes of its `TargetTypes`, every port) or
/// Suricata rules (`RulesString`); or a Suricata rules file itself
/// ([`read_suricata`]). What cannot be judged exactly is in the notes.
pub fn read_aws(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    if !text.trim_start().starts_with('{') {
        return read_suricata(file, text, 1);
    }
    let json = parse_json(file, text)?;
    if let Some(rules) = json
        .pointer("/RuleGroup/RulesSource/RulesString")
        .and_then(|r| r.as_str())
    {
        let at = located(file, text, Some("RulesString"), String::new()).line;
        return read_suricata(file, rules, at);
    }
    let Some(list) = json.pointer("/RuleGroup/RulesSource/RulesSourceList") else {
        return Err(vec![located(
            file,
            text,
            None,
            "no `RuleGroup.RulesSource.RulesSourceList` or `RulesString`: not a stateful rule group"
                .to_owned(),
        )]);
    };
    let kind = list.get("GeneratedRulesType").and_then(|t| t.as_str());
    if kind != Some("ALLOWLIST") {
        return Err(vec![located(
            file,
            text,
            kind,
            format!(
                "`GeneratedRulesType` is {}: only an ALLOWLIST domain list is an allowlist",
                kind.map_or("missing".to_owned(), |k| format!("`{k}`"))
            ),
        )]);
    }
    let mut reach = Vec::new();
    let mut errors = Vec::new();
    for t in list
        .get("TargetTypes")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
    {
        match t.as_str() {
            Some("TLS_SNI") => reach.push(Reach::any_port(Scheme::Https)),
            Some("HTTP_HOST") => reach.push(Reach::any_port(Scheme::Http)),
            _ => errors.push(located(
                file,
                text,
                t.as_str(),
                format!("`{t}` is not a target type: TLS_SNI or HTTP_HOST"),
            )),
        }
    }
    if reach.is_empty() && errors.is_empty() {
        errors.push(located(
            file,
            text,
            None,
            "the domain list has no `TargetTypes`: write `[\"TLS_SNI\", \"HTTP_HOST\"]` (or one of them)".to_owned(),
        ));
    }
    let Some(targets) = list.get("Targets").and_then(|t| t.as_array()) else {
        errors.push(located(
            file,
            text,
            None,
            "the domain list has no `Targets`".to_owned(),
        ));
        return Err(errors);
    };
    let entries = json_entries(
        file,
        text,
        targets.iter(),
        Some(&reach),
        |target| match target.strip_prefix('.') {
            Some(domain) => Ok(vec![
                HostPattern::parse(domain)?,
                HostPattern::parse(&format!("*.{domain}"))?,
            ]),
            None => Ok(vec![HostPattern::parse(target)?]),
        },
    );
    match entries {
        Ok(entries) if errors.is_empty() => Ok((
            entries,
            vec!["a domain list cannot restrict ports: a row it allows is allowed on every port of its target types".to_owned()],
        )),
        Ok(_) => Err(errors),
        Err(more) => Err(errors.into_iter().chain(more).collect()),
    }
}

/// Suricata rules as AWS Network Firewall takes them (a stateful rule
/// group's `RulesString`, or a rules file; `first_line`: where the rules
/// start in `file`). The entries are the `pass` rules on the `tls.sni`
/// or `http.host` buffer whose host is a whole `content` match
/// (`startswith; endswith`: the host; `dotprefix; content:".x";
/// endswith`: `x` and its subdomains; `content:".x"; endswith`: the
/// subdomains), on the scheme of the rule's protocol (`tls`, `http`) and
/// its destination ports. Other rules are not read, and said in the notes.
pub fn read_suricata(
    file: &str,
    text: &str,
    first_line: usize,
) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    let mut notes = Vec::new();
    let mut others = 0;
    let entries = read_lines(file, text, first_line, true, |line, number| {
        Ok(match suricata_rule(line)? {
            Some((patterns, reach, note)) => {
                if let Some(note) = note {
                    notes.push(format!("{file}:{number}: {note}"));
                }
                Some((patterns, Some(reach)))
            }
            None => {
                others += 1;
                None
            }
        })
    })?;
    if !entries.is_empty() {
        notes.push("the rules' source addresses are not judged: a row passed for some sources counts as allowed".to_owned());
    }
    if others > 0 {
        notes.insert(0, format!(
            "{others} Suricata rules are not read (only `pass` rules on `tls.sni` or `http.host` with one whole-host `content` and no narrowing option): with strict rule order a `drop` or `reject` before a `pass` blocks what this report calls allowed"
        ));
    }
    Ok((entries, notes))
}

/// One rule: `None` for a rule that is not an allowlist entry.
type SuricataEntry = (Vec<HostPattern>, Vec<Reach>, Option<String>);

fn suricata_rule(line: &str) -> Result<Option<SuricataEntry>, String> {
    let (head, options) = line
        .split_once('(')
        .and_then(|(h, o)| Some((h, o.trim_end().strip_suffix(')')?)))
        .ok_or_else(|| {
            "not a Suricata rule: write `ACTION PROTO SRC PORT -> DST PORT (OPTIONS;)`".to_owned()
        })?;
    let words: Vec<&str> = head.split_whitespace().collect();
    let [action, proto, _src, _sport, dir, _dst, dport] = words[..] else {
        return Err(format!(
            "`{}` is not a Suricata rule header: write `ACTION PROTO SRC PORT -> DST PORT`",
            head.trim()
        ));
    };
    if !matches!(dir, "->" | "<>") {
        return Err(format!("`{dir}` is not a direction: `->` or `<>`"));
    }
    let scheme = match proto.to_ascii_lowercase().as_str() {
        "tls" => Scheme::Https,
        "http" => Scheme::Http,
        _ => return Ok(None),
    };
    if action != "pass" {
        return Ok(None);
    }
    let Some(ports) = suricata_ports(dport)? else {
        return Ok(None);
    };
    // The options, each `name[:value]`, split on `;` outside quotes.
    let mut buffer = None;
    let mut content: Option<String> = None;
    let (mut starts, mut ends, mut dotprefix, mut nocase, mut other) =
        (false, false, false, false, false);
    for option in split_options(options) {
        let (name, value) = match option.split_once(':') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (option.trim(), None),
        };
        match (name, value) {
            ("tls.sni" | "tls_sni", None) => buffer = Some(Scheme::Https),
            ("http.host" | "http_host", None) => buffer = Some(Scheme::Http),
            // A negated content (`content:!"x"`) admits everything else:
            // not an allowlist entry.
            ("content", Some(v))
                if buffer.is_some() && content.is_none() && !v.starts_with('!') =>
            {
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| format!("`content:{v}` is not quoted"))?;
                content = Some(v.to_owned());
            }
            ("startswith", None) => starts = true,
            ("endswith", None) => ends = true,
            ("dotprefix", None) => dotprefix = true,
            ("nocase", None) => nocase = true,
            // Options that do not narrow what the rule passes.
            (
                "msg" | "sid" | "rev" | "flow" | "classtype" | "metadata" | "priority"
                | "reference" | "gid",
                _,
            ) => {}
            // Anything else (a second content, `pcre`, `flowbits`,
            // `geoip`, ...) may narrow it: the rule is not read, rather
            // than read as passing more than it does.
            _ => other = true,
        }
    }
    let (Some(host), true, false) = (content, ends, other) else {
        return Ok(None);
    };
    // A content with capitals and no `nocase` matches only names sent in
    // those capitals: not read as passing the name.
    if buffer != Some(scheme) || (!nocase && host.bytes().any(|b| b.is_ascii_uppercase())) {
        return Ok(None);
    }
    let bad = |e: egress_pattern::HostError| format!("`{host}` is not a host: {e}");
    let mut note = None;
    let patterns = match (host.strip_prefix('.'), starts, dotprefix) {
        (Some(domain), false, true) => vec![
            HostPattern::parse(domain).map_err(bad)?,
            HostPattern::parse(&format!("*.{domain}")).map_err(bad)?,
        ],
        (Some(domain), false, false) => {
            vec![HostPattern::parse(&format!("*.{domain}")).map_err(bad)?]
        }
        (None, true, _) => vec![HostPattern::parse(&host).map_err(bad)?],
        (None, false, _) => {
            note = Some(format!(
                "`content:\"{host}\"; endswith` without a leading dot also admits names that merely end in it (`other{host}`): judged as `{host}` and its subdomains"
            ));
            vec![
                HostPattern::parse(&host).map_err(bad)?,
                HostPattern::parse(&format!("*.{host}")).map_err(bad)?,
            ]
        }
        (Some(_), true, _) => return Ok(None),
    };
    let reach = ports
        .into_iter()
        .map(|ports| Reach { scheme, ports })
        .collect();
    Ok(Some((patterns, reach, note)))
}

/// A rule's destination ports (`any`, `443`, `[80,443]`, `1024:65535`);
/// `None` for what is not read here (a negation, a variable such as
/// `$HTTP_PORTS`).
fn suricata_ports(text: &str) -> Result<Option<Vec<std::ops::RangeInclusive<u16>>>, String> {
    if text == "any" {
        return Ok(Some(vec![0..=u16::MAX]));
    }
    if text.contains(['!', '$']) {
        return Ok(None);
    }
    let bad =
        || format!("`{text}` is not a port list: write `443`, `[80,443]`, `1024:65535` or `any`");
    let port = |p: &str, or: u16| match p.trim() {
        "" => Ok(or),
        p => p.parse::<u16>().map_err(|_| bad()),
    };
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    inner
        .split(',')
        .map(|part| match part.split_once(':') {
            Some((a, b)) => Ok(port(a, 0)?..=port(b, u16::MAX)?),
            None => {
                let p = port(part, 0)?;
                Ok(p..=p)
            }
        })
        .collect::<Result<Vec<_>, String>>()
        .map(Some)
}

/// A rule's options split on `;`, a quoted `;` (or an escaped one) kept.
fn split_options(options: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in options.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&options[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&options[start..]);
    out.into_iter().filter(|o| !o.trim().is_empty()).collect()
}

/// Azure Firewall application rules: a policy's rule collection group as
/// an ARM template (what `egress render azure-firewall` writes), or a
/// classic firewall's `applicationRuleCollections`. Every rule's
/// `targetFqdns` (`*.x` is the subdomains of `x`, as egress's) on its
/// `protocols` (`Http:80`, `Https:443`); the rules of `Deny` collections
/// are not entries, and said in the notes, as is what is not read.
pub fn read_azure(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    let json = parse_json(file, text)?;
    let mut rules = Vec::new();
    azure_rules(&json, None, &mut rules);
    if rules.is_empty() {
        return Err(vec![located(
            file,
            text,
            None,
            "no application rule with `targetFqdns`: not an Azure Firewall rule collection"
                .to_owned(),
        )]);
    }
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    for (action, rule) in rules {
        let name = rule
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("(unnamed)");
        if action.is_some_and(|a| !a.eq_ignore_ascii_case("allow")) {
            notes.push(format!(
                "rule `{name}` is in a `{}` collection: not an entry (which collection Azure Firewall applies first follows their priorities, not judged here)",
                action.unwrap_or_default()
            ));
            continue;
        }
        let mut reach = Vec::new();
        for protocol in rule
            .get("protocols")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            let kind = protocol
                .get("protocolType")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            let port = protocol.get("port").and_then(|p| match p {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            });
            let scheme = match kind.to_ascii_lowercase().as_str() {
                "http" => Scheme::Http,
                "https" => Scheme::Https,
                _ => {
                    notes.push(format!(
                        "rule `{name}`: protocol `{kind}` is not HTTP or HTTPS: not judged"
                    ));
                    continue;
                }
            };
            match port.and_then(|p| u16::try_from(p).ok()) {
                Some(p) => reach.push(Reach { scheme, ports: p..=p }),
                None => errors.push(located(
                    file,
                    text,
                    Some(name),
                    format!("rule `{name}`: `{protocol}` has no port; write `{{\"protocolType\": \"{kind}\", \"port\": 443}}`"),
                )),
            }
        }
        if reach.is_empty() {
            errors.push(located(
                file,
                text,
                Some(name),
                format!("rule `{name}` has no HTTP or HTTPS `protocols`: it admits nothing an egress plan needs"),
            ));
            continue;
        }
        for key in ["targetUrls", "fqdnTags", "webCategories"] {
            if rule
                .get(key)
                .and_then(|v| v.as_array())
                .is_some_and(|v| !v.is_empty())
            {
                notes.push(format!("rule `{name}`: `{key}` is not judged here"));
            }
        }
        let fqdns = rule
            .get("targetFqdns")
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten();
        match json_entries(file, text, fqdns, Some(&reach), |fqdn| {
            Ok(vec![HostPattern::parse(fqdn)?])
        }) {
            Ok(more) => entries.extend(more),
            Err(more) => errors.extend(more),
        }
    }
    if errors.is_empty() {
        notes.push("the rules' source addresses are not judged: a row allowed to some sources counts as allowed".to_owned());
        Ok((entries, notes))
    } else {
        Err(errors)
    }
}

/// Every object with `targetFqdns` in `json`, with the `action.type` of
/// the nearest object around it that has one.
fn azure_rules<'a>(
    json: &'a serde_json::Value,
    action: Option<&'a str>,
    out: &mut Vec<(Option<&'a str>, &'a serde_json::Value)>,
) {
    match json {
        serde_json::Value::Object(map) => {
            let action = map
                .get("action")
                .and_then(|a| a.get("type"))
                .and_then(|t| t.as_str())
                .or(action);
            if map
                .get("targetFqdns")
                .is_some_and(serde_json::Value::is_array)
            {
                out.push((action, json));
                return;
            }
            map.values().for_each(|v| azure_rules(v, action, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| azure_rules(v, action, out)),
        _ => {}
    }
}

fn parse_json(file: &str, text: &str) -> Result<serde_json::Value, Vec<ReadError>> {
    serde_json::from_str(text).map_err(|e| {
        vec![ReadError {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: format!("not JSON: {e}"),
        }]
    })
}

/// Entries from JSON strings, each at the line where its text first
/// stands quoted in the file.
fn json_entries<'a>(
    file: &str,
    text: &str,
    values: impl Iterator<Item = &'a serde_json::Value>,
    reach: Option<&[Reach]>,
    read: impl Fn(&str) -> Result<Vec<HostPattern>, egress_pattern::HostError>,
) -> Result<Vec<Entry>, Vec<ReadError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for value in values {
        let Some(target) = value.as_str() else {
            errors.push(located(
                file,
                text,
                None,
                format!("`{value}` is not a string"),
            ));
            continue;
        };
        match read(target) {
            Ok(patterns) => entries.push(Entry {
                patterns,
                reach: reach.map(<[Reach]>::to_vec),
                text: target.to_owned(),
                file: file.to_owned(),
                line: located(file, text, Some(target), String::new()).line,
            }),
            Err(e) => errors.push(located(
                file,
                text,
                Some(target),
                format!("`{target}` is not a host: {e}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

/// An error at the first place `"value"` stands in `text` (the file's
/// start without a value, or when it is not found).
fn located(file: &str, text: &str, value: Option<&str>, message: String) -> ReadError {
    let at = value
        .and_then(|v| text.find(&format!("\"{v}\"")))
        .map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    ReadError {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// What an allowlist does with one plan row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An entry is the row's pattern.
    Allowed,
    /// Only entries that admit more than the row do (`*.microsoft.com`
    /// for `go.microsoft.com`): allowed, and over-permissive.
    Broader,
    /// The answer depends on something the audit does not judge (an ACL
    /// type it does not evaluate, a list file it cannot find, the
    /// client's address): neither allowed nor blocked.
    NotJudged,
    /// Allowed or not only once the client authenticates, and no user
    /// was given to judge the rules as.
    NeedsAuth,
    /// Only entries for some of the row's hosts (`a.blob.core.windows.net`
    /// for `*.blob.core.windows.net`), ports or clients: the rest is
    /// blocked.
    Partly,
    /// No entry admits any of the row's hosts.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowAudit {
    /// The plan row's host pattern.
    pub row: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    pub verdict: Verdict,
    /// The entries behind the verdict (`file:line: entry`).
    pub entries: Vec<String>,
    /// Whether the proxy inspects the row's TLS (rules that are programs
    /// only): inspected, or not judged, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
}

/// An entry no plan row explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unexplained {
    pub entry: String,
    pub file: String,
    pub line: usize,
    /// What the catalog knows of it, when anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowlistReport {
    /// What the reader could not judge exactly (said first).
    pub notes: Vec<String>,
    /// Every internet row of the plan in force that names a host, in plan
    /// order.
    pub rows: Vec<RowAudit>,
    pub unexplained: Vec<Unexplained>,
}

impl AllowlistReport {
    /// Whether a row the plan needs is blocked, wholly or in part.
    pub fn blocks(&self) -> bool {
        self.rows
            .iter()
            .any(|r| matches!(r.verdict, Verdict::Blocked | Verdict::Partly))
    }
}

/// The rows an allowlist is held to: the internet rows in force that name
/// a host (what `egress render` writes), with their patterns.
pub(crate) fn audited_rows(plan: &Plan) -> Vec<(&egress_catalog::Row, &HostPattern)> {
    plan.rows
        .iter()
        .filter(|r| r.status.is_in_force() && r.direction == Direction::Internet)
        .filter_map(|r| r.pattern.as_ref().map(|p| (r, p)))
        .collect()
}

/// A row's verdict with its features and roles.
pub(crate) fn row_audit(
    row: &egress_catalog::Row,
    verdict: Verdict,
    entries: Vec<String>,
) -> RowAudit {
    let mut features: Vec<String> = row.in_force().map(|q| q.feature.clone()).collect();
    features.sort();
    features.dedup();
    let mut roles: Vec<String> = row.in_force().map(|q| q.role.clone()).collect();
    roles.sort();
    roles.dedup();
    RowAudit {
        row: row.host.clone(),
        features,
        roles,
        verdict,
        entries,
        tls: None,
    }
}

impl Entry {
    /// Whether the entry admits its hosts on `scheme` and `port`.
    pub fn admits(&self, scheme: Scheme, port: u16) -> bool {
        self.reach.as_ref().is_none_or(|reach| {
            reach
                .iter()
                .any(|r| r.scheme == scheme && r.ports.contains(&port))
        })
    }
}

/// What `entries` do with the hosts of `pattern`: an entry that is the
/// pattern allows it; else entries that cover it allow it more broadly;
/// else entries it covers allow it in part; else it is blocked.
fn host_verdict<'e>(pattern: &HostPattern, entries: &[&'e Entry]) -> (Verdict, Vec<&'e Entry>) {
    let pick = |keep: &dyn Fn(&Entry) -> bool| -> Vec<&'e Entry> {
        entries.iter().copied().filter(|e| keep(e)).collect()
    };
    let exact = pick(&|e| e.patterns == [pattern.clone()]);
    if !exact.is_empty() {
        return (Verdict::Allowed, exact);
    }
    let broader = pick(&|e| e.patterns.iter().any(|p| p.covers(pattern)));
    if !broader.is_empty() {
        return (Verdict::Broader, broader);
    }
    let narrower = pick(&|e| e.patterns.iter().any(|p| pattern.covers(p)));
    if !narrower.is_empty() {
        return (Verdict::Partly, narrower);
    }
    (Verdict::Blocked, Vec::new())
}

/// Holds `entries` against `plan`'s rows. The rows `egress render` leaves
/// out (intranet rows, rows whose placeholder has no value, rows not in
/// force) are left out here too. `nearest` says what the catalog knows of
/// an unexplained entry.
pub fn audit(
    plan: &Plan,
    entries: &[Entry],
    nearest: impl Fn(&HostPattern) -> Option<String>,
) -> AllowlistReport {
    let rows = audited_rows(plan);
    let at = |e: &Entry| format!("{}:{}: {}", e.file, e.line, e.text);
    let audited = rows
        .iter()
        .map(|&(row, pattern)| {
            // Each scheme and port the row needs, judged by the entries
            // that admit it there; the row's verdict is their sum.
            let pairs: std::collections::BTreeSet<(Scheme, u16)> = row
                .in_force()
                .flat_map(|q| q.pairs.iter().copied())
                .collect();
            if pairs.is_empty() {
                let all: Vec<&Entry> = entries.iter().collect();
                let (verdict, by) = host_verdict(pattern, &all);
                return row_audit(row, verdict, by.into_iter().map(at).collect());
            }
            let mut verdicts = Vec::new();
            let mut by: Vec<&Entry> = Vec::new();
            for (scheme, port) in pairs {
                let there: Vec<&Entry> =
                    entries.iter().filter(|e| e.admits(scheme, port)).collect();
                let (verdict, behind) = host_verdict(pattern, &there);
                verdicts.push(verdict);
                for e in behind {
                    if !by.iter().any(|b| std::ptr::eq(*b, e)) {
                        by.push(e);
                    }
                }
            }
            let verdict = if verdicts.iter().all(|v| *v == Verdict::Allowed) {
                Verdict::Allowed
            } else if verdicts
                .iter()
                .all(|v| matches!(v, Verdict::Allowed | Verdict::Broader))
            {
                Verdict::Broader
            } else if verdicts.iter().all(|v| *v == Verdict::Blocked) {
                Verdict::Blocked
            } else {
                Verdict::Partly
            };
            row_audit(row, verdict, by.into_iter().map(at).collect())
        })
        .collect();
    let unexplained = entries
        .iter()
        .filter(|e| {
            !rows
                .iter()
                .any(|(_, row)| e.patterns.iter().any(|p| p.covers(row) || row.covers(p)))
        })
        .map(|e| Unexplained {
            entry: e.text.clone(),
            file: e.file.clone(),
            line: e.line,
            nearest: e.patterns.iter().find_map(&nearest),
        })
        .collect();
    AllowlistReport {
        notes: Vec::new(),
        rows: audited,
        unexplained,
    }
}
