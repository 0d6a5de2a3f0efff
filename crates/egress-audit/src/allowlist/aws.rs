//! AWS Network Firewall stateful rule groups, in every shape a user has:
//! `aws network-firewall describe-rule-group` output (`RuleGroup` beside
//! `RuleGroupResponse`), the `create-rule-group --rule-group` body
//! (`RulesSource` at the top) or `--cli-input-json` file (what `egress
//! render aws-network-firewall` writes), a CloudFormation
//! `AWS::NetworkFirewall::RuleGroup` resource or a template holding some
//! (JSON), and a Suricata rules file. A group's rules are a domain list
//! (`RulesSourceList`), Suricata rules (`RulesString`) or structured
//! stateful rules (`StatefulRules`, read as the Suricata rules they are).

use egress_catalog::catalog::Scheme;
use egress_pattern::HostPattern;

use super::{Entry, Reach, ReadError, json_entries, located, parse_json, read_lines};

/// A rule group's rules, or a Suricata rules file: the entries, and the
/// notes on what cannot be judged exactly.
pub fn read_aws(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    if !text.trim_start().starts_with('{') {
        if let Some((n, line)) = yaml_start(text) {
            return Err(vec![ReadError {
                file: file.to_owned(),
                line: n,
                column: 1,
                message: format!(
                    "`{line}` starts a YAML document (a CloudFormation template?): egress reads rule groups as JSON; convert the template to JSON (for example with `cfn-flip`) or give `aws network-firewall describe-rule-group` output"
                ),
            }]);
        }
        return read_suricata(file, text, 1);
    }
    let json = parse_json(file, text)?;
    let mut sources = Vec::new();
    rules_sources(&json, None, &mut sources);
    if sources.is_empty() {
        return Err(vec![located(
            file,
            text,
            None,
            "no `RulesSource`: not an AWS Network Firewall rule group; give `describe-rule-group` output, a `create-rule-group` body (`--rule-group` or `--cli-input-json`), a CloudFormation `AWS::NetworkFirewall::RuleGroup` resource or template (JSON), or a Suricata rules file".to_owned(),
        )]);
    }
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    // Refusals of a group that is not an allowlist: errors only when no
    // group is one.
    let mut not_allowlists = Vec::new();
    for (name, source) in sources {
        let named = |note: String| match name {
            Some(n) => format!("rule group `{n}`: {note}"),
            None => note,
        };
        let read = if let Some(rules) = source.get("RulesString").and_then(|r| r.as_str()) {
            let at = located(file, text, Some("RulesString"), String::new()).line;
            read_suricata(file, rules, at)
        } else if let Some(list) = source.get("RulesSourceList") {
            domain_list(file, text, list).map_err(|e| {
                if e.len() == 1 && e[0].message.contains("only an ALLOWLIST domain list") {
                    not_allowlists.extend(e.iter().cloned());
                    Vec::new()
                } else {
                    e
                }
            })
        } else if let Some(rules) = source.get("StatefulRules").and_then(|r| r.as_array()) {
            stateful_rules(file, text, rules)
        } else {
            if source.get("StatelessRulesAndCustomActions").is_some() {
                notes.push(named("stateless rules are not read: they pass, drop or forward to the stateful rules before any of these is asked".to_owned()));
            } else {
                notes.push(named(
                    "a `RulesSource` with no rules egress reads".to_owned(),
                ));
            }
            continue;
        };
        match read {
            Ok((mut e, n)) => {
                entries.append(&mut e);
                notes.extend(n.into_iter().map(named));
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if entries.is_empty() && !not_allowlists.is_empty() {
        return Err(not_allowlists);
    }
    notes.extend(not_allowlists.iter().map(|e| format!("{e}: not entries")));
    let mut seen = std::collections::HashSet::new();
    notes.retain(|n| seen.insert(n.clone()));
    Ok((entries, notes))
}

/// The first line of `text` that is not a comment, when it starts a YAML
/// document (`---`, or `Key:`): no Suricata rule does.
fn yaml_start(text: &str) -> Option<(usize, &str)> {
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
    let line = line.trim();
    let key = line.split_once(':').is_some_and(|(k, rest)| {
        !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && (rest.is_empty() || rest.starts_with(' '))
    });
    (line == "---" || key).then_some((n + 1, line))
}

/// Every `RulesSource` in `json`, with the name of the rule group around
/// it when it has one (`RuleGroupName`, or a template's resource name).
fn rules_sources<'a>(
    json: &'a serde_json::Value,
    name: Option<&'a str>,
    out: &mut Vec<(Option<&'a str>, &'a serde_json::Value)>,
) {
    match json {
        serde_json::Value::Object(map) => {
            let name = map.get("RuleGroupName").and_then(|n| n.as_str()).or(name);
            if let Some(source) = map.get("RulesSource").filter(|s| s.is_object()) {
                out.push((name, source));
                return;
            }
            for (key, value) in map {
                // A template's resources are named by their keys.
                let inner = match value.get("Type").and_then(|t| t.as_str()) {
                    Some("AWS::NetworkFirewall::RuleGroup") => Some(key.as_str()),
                    _ => name,
                };
                rules_sources(value, inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| rules_sources(v, name, out)),
        _ => {}
    }
}

/// A domain list (`RulesSourceList`): its `Targets`, where `.x` is `x`
/// and its subdomains, on the schemes of its `TargetTypes`, every port.
fn domain_list(
    file: &str,
    text: &str,
    list: &serde_json::Value,
) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
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
            vec![
                "a domain list cannot restrict ports: a row it allows is allowed on every port of its target types".to_owned(),
                "a domain list applies to the sources in `HOME_NET` (by default the firewall's VPC): sources are not judged".to_owned(),
            ],
        )),
        Ok(_) => Err(errors),
        Err(more) => Err(errors.into_iter().chain(more).collect()),
    }
}

/// Structured stateful rules (`StatefulRules`): each the Suricata rule it
/// stands for (`PASS`, `Header`, `RuleOptions`), read as one.
fn stateful_rules(
    file: &str,
    text: &str,
    rules: &[serde_json::Value],
) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    let at = located(file, text, Some("StatefulRules"), String::new()).line;
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for rule in rules {
        let field = |path: &str| {
            rule.pointer(path)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let header = [
            "/Action",
            "/Header/Protocol",
            "/Header/Source",
            "/Header/SourcePort",
            "/Header/Direction",
            "/Header/Destination",
            "/Header/DestinationPort",
        ]
        .map(field);
        if header.iter().any(String::is_empty) {
            errors.push(located(
                file,
                text,
                Some("StatefulRules"),
                format!("`{rule}` is not a stateful rule: it needs `Action` and a `Header` with `Protocol`, `Source`, `SourcePort`, `Direction`, `Destination` and `DestinationPort`"),
            ));
            continue;
        }
        let options: Vec<String> = rule
            .get("RuleOptions")
            .and_then(|o| o.as_array())
            .into_iter()
            .flatten()
            .map(|o| {
                let keyword = o
                    .get("Keyword")
                    .and_then(|k| k.as_str())
                    .unwrap_or_default();
                let settings: Vec<&str> = o
                    .get("Settings")
                    .and_then(|s| s.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str())
                    .collect();
                match settings.is_empty() {
                    true => format!("{keyword};"),
                    false => format!("{keyword}:{};", settings.join(",")),
                }
            })
            .collect();
        let [
            action,
            protocol,
            source,
            source_port,
            direction,
            destination,
            port,
        ] = header;
        let direction = match direction.as_str() {
            "FORWARD" => "->",
            _ => "<>",
        };
        lines.push(format!(
            "{} {} {source} {source_port} {direction} {destination} {port} ({})",
            action.to_ascii_lowercase(),
            protocol.to_ascii_lowercase(),
            options.join(" ")
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Every rule on the line where the rules start: they have no lines of
    // their own.
    let (mut entries, notes) = read_suricata(file, &lines.join("\n"), at)?;
    for e in &mut entries {
        e.line = at;
    }
    Ok((entries, notes))
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
    let mut unsure = std::collections::HashMap::new();
    let mut entries = read_lines(file, text, first_line, true, |line, number| {
        Ok(match suricata_rule(line)? {
            Some(rule) => {
                if let Some(note) = rule.note {
                    notes.push(format!("{file}:{number}: {note}"));
                }
                unsure.insert(number, (rule.every_host, rule.unsure));
                Some((rule.patterns, Some(rule.reach)))
            }
            None => {
                others += 1;
                None
            }
        })
    })?;
    for e in &mut entries {
        if let Some((every_host, why)) = unsure.remove(&e.line) {
            e.every_host = every_host;
            e.unsure = why;
        }
    }
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

/// A `pass` rule read as an entry.
struct Rule {
    patterns: Vec<HostPattern>,
    /// A rule on no host (`pass tls any any -> any 443`): every host.
    every_host: bool,
    reach: Vec<Reach>,
    /// Said in the notes.
    note: Option<String>,
    /// Why the hosts it passes are not known exactly (a destination
    /// address).
    unsure: Option<String>,
}

/// One rule: `None` for a rule that is not an allowlist entry.
fn suricata_rule(line: &str) -> Result<Option<Rule>, String> {
    let (head, options) = line
        .split_once('(')
        .and_then(|(h, o)| Some((h, o.trim_end().strip_suffix(')')?)))
        .ok_or_else(|| {
            "not a Suricata rule: write `ACTION PROTO SRC PORT -> DST PORT (OPTIONS;)`".to_owned()
        })?;
    let words: Vec<&str> = head.split_whitespace().collect();
    let [action, proto, _src, _sport, dir, dst, dport] = words[..] else {
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
    // A destination narrower than the internet holds hosts egress cannot
    // name.
    // A destination inside (the VPC's `$HOME_NET`, a private range) holds
    // no internet host: not an allowlist entry.
    if dst == "$HOME_NET" || super::Sources::new(&[dst], Vec::new()).is_ok_and(|s| s.is_private()) {
        return Ok(None);
    }
    let open = dst.eq_ignore_ascii_case("any") || matches!(dst, "$EXTERNAL_NET" | "!$HOME_NET");
    let unsure = (!open).then(|| {
        format!("the rule passes only the destination `{dst}`, whose hosts are not judged")
    });
    let reach = |ports: Vec<std::ops::RangeInclusive<u16>>| {
        ports
            .into_iter()
            .map(|ports| Reach { scheme, ports })
            .collect()
    };
    // No host and nothing narrowing: every host of the protocol.
    if buffer.is_none() && content.is_none() && !other && !starts && !ends && !dotprefix {
        return Ok(Some(Rule {
            patterns: Vec::new(),
            every_host: true,
            reach: reach(ports),
            note: None,
            unsure,
        }));
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
    Ok(Some(Rule {
        patterns,
        every_host: false,
        reach: reach(ports),
        note,
        unsure,
    }))
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
