//! Azure Firewall rules, in every shape a user has: a classic firewall's
//! `applicationRuleCollections` and `networkRuleCollections` (ARM
//! `Microsoft.Network/azureFirewalls`), a Firewall Policy's rule collection
//! groups (ARM `Microsoft.Network/firewallPolicies/ruleCollectionGroups`,
//! what `egress render azure-firewall` writes, and `az network firewall
//! policy rule-collection-group show` output, whose keys are the same).
//!
//! Every rule is read or said: an application rule's `targetFqdns` (`*.x`:
//! the subdomains of `x`; `*`: every host) on its `protocols`; its
//! `fqdnTags` (`WindowsUpdate` as Microsoft documents it, from
//! `fqdn-tags.toml`; any other tag's rows not judged); `targetUrls` and
//! `webCategories` (not judged); a network rule's `destinationFqdns` on
//! its TCP `destinationPorts` (as HTTP and HTTPS), its
//! `destinationAddresses` (`*`: every host; addresses and service tags:
//! not judged); the rules of `Deny` collections and NAT rules: said, not
//! entries. Source addresses (`sourceAddresses`) are judged against the
//! profile's servers; `sourceIpGroups` are not resolved.

use std::sync::OnceLock;

use egress_catalog::catalog::Scheme;
use egress_pattern::HostPattern;
use serde::Deserialize;

use super::{Entry, Reach, ReadError, Sources, located, parse_json};

/// FQDN tags whose hosts Microsoft documents (by reference).
#[derive(Debug, Deserialize)]
struct Tags {
    tag: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
struct Tag {
    name: String,
    source: String,
    hosts: Vec<String>,
}

fn documented_tags() -> &'static [Tag] {
    static TAGS: OnceLock<Tags> = OnceLock::new();
    &TAGS
        .get_or_init(|| {
            toml::from_str(include_str!("fqdn-tags.toml")).expect("fqdn-tags.toml is valid")
        })
        .tag
}

/// What kind of rule, from its `ruleType` or the collection around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Application,
    Network,
    Nat,
}

/// A rule with the action and kind of the collection around it.
struct Found<'a> {
    action: Option<&'a str>,
    kind: Option<Kind>,
    rule: &'a serde_json::Value,
}

/// Azure Firewall rules: the entries, and the notes on what is not read
/// or not judged exactly.
pub fn read_azure(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    let json = parse_json(file, text)?;
    let mut rules = Vec::new();
    azure_rules(&json, None, None, &mut rules);
    if rules.is_empty() {
        return Err(vec![located(
            file,
            text,
            None,
            "no rule collection with `rules`: not Azure Firewall rules; give a rule collection group (ARM template or `az network firewall policy rule-collection-group show` output) or a classic firewall's ARM resource".to_owned(),
        )]);
    }
    let mut read = Read {
        file,
        text,
        entries: Vec::new(),
        notes: Vec::new(),
        errors: Vec::new(),
    };
    for found in rules {
        read.rule(&found);
    }
    if !read.errors.is_empty() {
        return Err(read.errors);
    }
    let mut seen = std::collections::HashSet::new();
    read.notes.retain(|n| seen.insert(n.clone()));
    Ok((read.entries, read.notes))
}

/// Every object in a `rules` array, with the nearest `action.type` and
/// collection kind around it.
fn azure_rules<'a>(
    json: &'a serde_json::Value,
    action: Option<&'a str>,
    kind: Option<Kind>,
    out: &mut Vec<Found<'a>>,
) {
    match json {
        serde_json::Value::Object(map) => {
            let action = map
                .get("action")
                .and_then(|a| a.get("type"))
                .and_then(|t| t.as_str())
                .or(action);
            let kind = match map.get("ruleCollectionType").and_then(|t| t.as_str()) {
                Some("FirewallPolicyNatRuleCollection") => Some(Kind::Nat),
                _ => kind,
            };
            if let Some(rules) = map.get("rules").and_then(|r| r.as_array())
                && rules.iter().any(serde_json::Value::is_object)
            {
                out.extend(rules.iter().filter(|r| r.is_object()).map(|rule| Found {
                    action,
                    kind,
                    rule,
                }));
                return;
            }
            for (key, value) in map {
                let kind = match key.as_str() {
                    "applicationRuleCollections" => Some(Kind::Application),
                    "networkRuleCollections" => Some(Kind::Network),
                    "natRuleCollections" => Some(Kind::Nat),
                    _ => kind,
                };
                azure_rules(value, action, kind, out);
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|v| azure_rules(v, action, kind, out))
        }
        _ => {}
    }
}

struct Read<'a> {
    file: &'a str,
    text: &'a str,
    entries: Vec<Entry>,
    notes: Vec<String>,
    errors: Vec<ReadError>,
}

/// A rule's list of strings at `key` (a missing key: none).
fn strings<'a>(rule: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    rule.get(key)
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect()
}

impl Read<'_> {
    fn error(&mut self, name: &str, message: String) {
        self.errors
            .push(located(self.file, self.text, Some(name), message));
    }

    fn rule(&mut self, found: &Found<'_>) {
        let rule = found.rule;
        let name = rule
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("(unnamed)");
        let kind = match rule.get("ruleType").and_then(|t| t.as_str()) {
            Some("ApplicationRule") => Some(Kind::Application),
            Some("NetworkRule") => Some(Kind::Network),
            Some("NatRule") => Some(Kind::Nat),
            _ => found.kind,
        }
        .or_else(|| {
            let has = |k: &str| rule.get(k).is_some();
            if has("targetFqdns") || has("fqdnTags") || has("targetUrls") || has("webCategories") {
                Some(Kind::Application)
            } else if has("translatedAddress") || has("translatedFqdn") {
                Some(Kind::Nat)
            } else if has("destinationPorts")
                || has("destinationAddresses")
                || has("destinationFqdns")
            {
                Some(Kind::Network)
            } else {
                None
            }
        });
        if kind == Some(Kind::Nat) || found.action.is_some_and(|a| a.eq_ignore_ascii_case("dnat")) {
            self.notes.push(format!(
                "rule `{name}` is a NAT rule (inbound): not an entry"
            ));
            return;
        }
        if let Some(action) = found.action.filter(|a| !a.eq_ignore_ascii_case("allow")) {
            self.notes.push(format!(
                "rule `{name}` is in a `{action}` collection: not an entry (which collection Azure Firewall applies first follows their priorities, not judged here)"
            ));
            return;
        }
        let Some(sources) = self.sources(name, rule) else {
            return;
        };
        match kind {
            Some(Kind::Application) => self.application(name, rule, sources),
            Some(Kind::Network) => self.network(name, rule, sources),
            _ => self.notes.push(format!(
                "rule `{name}` is neither an application nor a network rule: not read"
            )),
        }
    }

    /// The rule's sources; `None` (and an error) when an address is not
    /// one.
    fn sources(&mut self, name: &str, rule: &serde_json::Value) -> Option<Sources> {
        let addresses = strings(rule, "sourceAddresses");
        let groups: Vec<String> = strings(rule, "sourceIpGroups")
            .into_iter()
            .map(|g| format!("IP group `{}`", g.rsplit('/').next().unwrap_or(g)))
            .collect();
        if addresses.is_empty() && groups.is_empty() {
            return Some(Sources::default());
        }
        match Sources::new(&addresses, groups) {
            Ok(s) => Some(s),
            Err(bad) => {
                self.error(
                    bad.as_str(),
                    format!("rule `{name}`: `{bad}` is not a source address: write an address, `a.b.c.d/n`, `low-high` or `*`"),
                );
                None
            }
        }
    }

    fn push(&mut self, mut entry: Entry, sources: &Sources, unsure: Option<String>) {
        entry.sources = sources.clone();
        entry.unsure = unsure;
        self.entries.push(entry);
    }

    /// The line of `value` in rule `name`: where it first stands quoted
    /// after the rule's name (values repeat across rules).
    fn line_in(&self, name: &str, value: &str) -> usize {
        let from = self.text.find(&format!("\"{name}\"")).unwrap_or(0);
        let at = self.text[from..]
            .find(&format!("\"{value}\""))
            .map_or(from, |i| from + i);
        self.text[..at].matches('\n').count() + 1
    }

    fn application(&mut self, name: &str, rule: &serde_json::Value, sources: Sources) {
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
                    self.notes.push(format!(
                        "rule `{name}`: protocol `{kind}` is not HTTP or HTTPS: not judged"
                    ));
                    continue;
                }
            };
            match port.and_then(|p| u16::try_from(p).ok()) {
                Some(p) => reach.push(Reach { scheme, ports: p..=p }),
                None => self.error(
                    name,
                    format!("rule `{name}`: `{protocol}` has no port; write `{{\"protocolType\": \"{kind}\", \"port\": 443}}`"),
                ),
            }
        }
        if reach.is_empty() {
            // Only other protocols (`Mssql`): said above; none at all is
            // not a rule Azure Firewall takes.
            if rule
                .get("protocols")
                .and_then(|p| p.as_array())
                .is_none_or(Vec::is_empty)
            {
                self.error(
                    name,
                    format!("rule `{name}` has no `protocols`: write `[{{\"protocolType\": \"Https\", \"port\": 443}}]`"),
                );
            }
            return;
        }
        let line = self.line_in(name, name);
        let entry = |patterns: Vec<HostPattern>, text: String, line: usize| {
            Entry::new(patterns, Some(reach.clone()), text, self.file, line)
        };
        let mut made = Vec::new();
        for fqdn in strings(rule, "targetFqdns") {
            let at = self.line_in(name, fqdn);
            if fqdn == "*" {
                let mut e = entry(Vec::new(), format!("{name}: *"), at);
                e.every_host = true;
                made.push((e, None));
                continue;
            }
            match HostPattern::parse(fqdn) {
                Ok(p) => made.push((entry(vec![p], fqdn.to_owned(), at), None)),
                Err(e) => self.error(fqdn, format!("rule `{name}`: `{fqdn}` is not a host: {e}")),
            }
        }
        for tag in strings(rule, "fqdnTags") {
            let at = self.line_in(name, tag);
            match documented_tags()
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(tag))
            {
                Some(documented) => {
                    self.notes.push(format!(
                        "FQDN tag {} is read as the hosts Microsoft documents for it: {}",
                        documented.name, documented.source
                    ));
                    for host in &documented.hosts {
                        let pattern =
                            HostPattern::parse(host).expect("fqdn-tags.toml holds host patterns");
                        made.push((
                            entry(
                                vec![pattern],
                                format!(
                                    "FQDN tag {} ({host}, as Microsoft documents it)",
                                    documented.name
                                ),
                                at,
                            ),
                            None,
                        ));
                    }
                }
                None => {
                    let mut e = entry(Vec::new(), format!("FQDN tag {tag}"), at);
                    e.every_host = true;
                    made.push((e, Some(format!("FQDN tag {tag}: contents not published"))));
                }
            }
        }
        for url in strings(rule, "targetUrls") {
            let host = url.split(['/', '?']).next().unwrap_or(url);
            let at = self.line_in(name, url);
            let why = format!("`{url}` admits only some URLs (TLS inspection)");
            match HostPattern::parse(host) {
                Ok(p) => made.push((entry(vec![p], url.to_owned(), at), Some(why))),
                Err(_) => {
                    let mut e = entry(Vec::new(), url.to_owned(), at);
                    e.every_host = true;
                    made.push((e, Some(why)));
                }
            }
        }
        for category in strings(rule, "webCategories") {
            let mut e = entry(
                Vec::new(),
                format!("web category {category}"),
                self.line_in(name, category),
            );
            e.every_host = true;
            made.push((
                e,
                Some(format!("web category {category}: contents not published")),
            ));
        }
        if made.is_empty() {
            self.notes.push(format!(
                "rule `{name}` names no `targetFqdns`, `fqdnTags`, `targetUrls` or `webCategories`: it admits nothing (line {line})"
            ));
        }
        for (e, unsure) in made {
            self.push(e, &sources, unsure);
        }
    }

    fn network(&mut self, name: &str, rule: &serde_json::Value, sources: Sources) {
        let protocols: Vec<String> = ["ipProtocols", "protocols"]
            .iter()
            .flat_map(|k| strings(rule, k))
            .map(str::to_ascii_lowercase)
            .collect();
        if !protocols.iter().any(|p| p == "tcp" || p == "any") {
            self.notes.push(format!(
                "network rule `{name}` is not on TCP: it admits nothing an egress plan needs"
            ));
            return;
        }
        let mut reach = Vec::new();
        for port in strings(rule, "destinationPorts") {
            let ports = match port.trim() {
                "*" => Some(0..=u16::MAX),
                p => match p.split_once('-') {
                    Some((a, b)) => a
                        .trim()
                        .parse()
                        .ok()
                        .zip(b.trim().parse().ok())
                        .map(|(a, b)| a..=b),
                    None => p.parse().ok().map(|p| p..=p),
                },
            };
            match ports {
                Some(ports) => {
                    for scheme in [Scheme::Http, Scheme::Https] {
                        reach.push(Reach { scheme, ports: ports.clone() });
                    }
                }
                None => self.error(
                    port,
                    format!("network rule `{name}`: `{port}` is not a port: write `443`, `8000-8080` or `*`"),
                ),
            }
        }
        if reach.is_empty() {
            self.notes.push(format!(
                "network rule `{name}` has no `destinationPorts`: it admits nothing"
            ));
            return;
        }
        let entry = |patterns: Vec<HostPattern>, text: String, line: usize| {
            Entry::new(patterns, Some(reach.clone()), text, self.file, line)
        };
        let mut made = Vec::new();
        for fqdn in strings(rule, "destinationFqdns") {
            match HostPattern::parse(fqdn) {
                Ok(p) => made.push((
                    entry(vec![p], fqdn.to_owned(), self.line_in(name, fqdn)),
                    None,
                )),
                Err(e) => self.error(
                    fqdn,
                    format!("network rule `{name}`: `{fqdn}` is not a host: {e}"),
                ),
            }
        }
        let groups = strings(rule, "destinationIpGroups");
        for address in strings(rule, "destinationAddresses")
            .into_iter()
            .chain(groups)
        {
            // A private or reserved range holds no internet host.
            if Sources::new(&[address], Vec::new()).is_ok_and(|s| s.is_private()) {
                self.notes.push(format!(
                    "network rule `{name}`: `{address}` is a private or reserved range: no internet host"
                ));
                continue;
            }
            let mut e = entry(
                Vec::new(),
                format!("{name}: {address}"),
                self.line_in(name, address),
            );
            e.every_host = true;
            let unsure = (address != "*").then(|| {
                format!("network rule `{name}` admits the destination `{address}`, whose hosts are not judged")
            });
            made.push((e, unsure));
        }
        for (e, unsure) in made {
            self.push(e, &sources, unsure);
        }
    }
}
