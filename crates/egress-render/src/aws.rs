//! `aws-network-firewall`: a stateful rule group with a domain list
//! (`RulesSourceList`, `ALLOWLIST`) over `TLS_SNI` and `HTTP_HOST`, in the
//! shape `aws network-firewall create-rule-group --cli-input-json` takes.
//! A domain list entry `.x` admits `x` and its subdomains, so `*.x` gains
//! its apex; there are no partial-label wildcards, no ports and no paths.
//! With `--aws-rules 5-tuple` the group holds the plan's IP ranges as
//! stateful 5-tuple rules (`StatefulRules`: PASS, the protocol, any source,
//! the range, the destination port or range) instead.

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::Plan;
use egress_pattern::PatternKind;
use serde::Serialize;

use crate::{
    Body, Entries, Header, Loss, LossKind, Options, Unique, json_text, paths_not_enforceable,
    ports_not_expressible,
};

/// The rule group, in the shape `create-rule-group --cli-input-json` takes;
/// fields in the order they are written (alphabetical).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Doc {
    capacity: usize,
    description: String,
    rule_group: RuleGroup,
    rule_group_name: String,
    tags: Vec<Tag>,
    #[serde(rename = "Type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleGroup {
    rules_source: RulesSource,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RulesSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    rules_source_list: Option<RulesSourceList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stateful_rules: Option<Vec<StatefulRule>>,
}

/// A 5-tuple rule.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatefulRule {
    action: &'static str,
    header: RuleHeader,
    rule_options: Vec<RuleOption>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleHeader {
    destination: String,
    destination_port: String,
    direction: &'static str,
    protocol: &'static str,
    source: &'static str,
    source_port: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleOption {
    keyword: &'static str,
    settings: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RulesSourceList {
    generated_rules_type: &'static str,
    target_types: Vec<&'static str>,
    targets: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

pub(crate) fn render<'a>(
    plan: &'a Plan,
    entries: &Entries<'_>,
    losses: &mut Vec<Loss>,
) -> Body<'a> {
    ports_not_expressible(
        "an AWS Network Firewall domain list",
        &entries.ports(),
        losses,
    );
    paths_not_enforceable(&entries.list, false, losses);
    let mut targets = Unique::default();
    for e in &entries.list {
        match e.kind() {
            PatternKind::Exact(_) | PatternKind::Ip(_) => {}
            PatternKind::Subdomains { suffix } => losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::ApexAdded,
                detail: format!("`.{suffix}` also admits `{suffix}`"),
            }),
            PatternKind::InLabel { parent, .. } => losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::Broadened,
                detail: format!("no partial-label wildcards: rendered as `.{parent}`, which admits `{parent}` and all its subdomains"),
            }),
        }
        targets.push(e.dotted());
    }
    // `.x` covers `x` and `a.x`: drop what a broader entry covers.
    let targets = targets.into_uncovered();
    let schemes = entries.schemes();
    let mut types = Vec::new();
    if schemes.contains(&Scheme::Https) {
        types.push("TLS_SNI");
    }
    if schemes.contains(&Scheme::Http) {
        types.push("HTTP_HOST");
    }
    let mut doc = Doc {
        rule_group_name: format!("egress-{}-{}", plan.catalog_id, plan.revision),
        kind: "STATEFUL",
        // A domain list costs one unit of capacity per domain, twice when
        // it inspects both TLS_SNI and HTTP_HOST; leave room to grow.
        capacity: (targets.len() * types.len().max(1) * 2).max(100),
        description: String::new(),
        rule_group: RuleGroup {
            rules_source: RulesSource {
                rules_source_list: Some(RulesSourceList {
                    targets,
                    target_types: types,
                    generated_rules_type: "ALLOWLIST",
                }),
                stateful_rules: None,
            },
        },
        tags: Vec::new(),
    };
    Body::Json(Box::new(move |header| {
        add_header(&mut doc, header);
        json_text(&doc)
    }))
}

/// The plan's IP ranges as 5-tuple PASS rules: one per range, protocol and
/// port or port range (`1024:65535`), from any source (the ranges serve
/// every role) on any source port, numbered by `sid` from 1.
pub(crate) fn render_five_tuple<'a>(
    plan: &'a Plan,
    entries: &Entries<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'a> {
    crate::hosts_left_out(entries, "5-tuple rules", losses);
    let mut rules = Vec::new();
    let networks = if options.intranet {
        &[][..]
    } else {
        &plan.networks[..]
    };
    for n in networks {
        for (protocol, ports) in [("TCP", &n.tcp_ports), ("UDP", &n.udp_ports)] {
            for range in &ports.0 {
                let port = if range.start() == range.end() {
                    range.start().to_string()
                } else {
                    format!("{}:{}", range.start(), range.end())
                };
                rules.push(StatefulRule {
                    action: "PASS",
                    header: RuleHeader {
                        destination: cidr(n),
                        destination_port: port,
                        direction: "FORWARD",
                        protocol,
                        source: "ANY",
                        source_port: "ANY",
                    },
                    rule_options: vec![RuleOption {
                        keyword: "sid",
                        settings: vec![(rules.len() + 1).to_string()],
                    }],
                });
            }
        }
    }
    let mut doc = Doc {
        rule_group_name: format!("egress-{}-{}-networks", plan.catalog_id, plan.revision),
        kind: "STATEFUL",
        // A 5-tuple rule costs one unit of capacity; leave room to grow.
        capacity: (rules.len() * 2).max(100),
        description: String::new(),
        rule_group: RuleGroup {
            rules_source: RulesSource {
                rules_source_list: None,
                stateful_rules: Some(rules),
            },
        },
        tags: Vec::new(),
    };
    Body::Json(Box::new(move |header| {
        add_header(&mut doc, header);
        json_text(&doc)
    }))
}

/// A range in CIDR form, `/32` and `/128` included (a 5-tuple
/// destination is a CIDR block).
fn cidr(n: &egress_catalog::plan::NetworkRow) -> String {
    format!("{}/{}", n.address.network, n.address.prefix)
}

fn add_header(doc: &mut Doc, header: &Header<'_>) {
    // The description is limited to 512 characters: the summary goes there,
    // the details to stderr and tags.
    let mut description = format!(
        "{}; {} losses; {} lists or rows not included",
        header.lines.join("; "),
        header.losses.len(),
        header.external.len()
    );
    truncate(&mut description, 512);
    doc.description = description;
    doc.tags = vec![Tag {
        key: "generator".to_owned(),
        value: "egress".to_owned(),
    }];
    for (i, loss) in header.losses.iter().enumerate().take(40) {
        let mut value = loss.to_string();
        truncate(&mut value, 256);
        doc.tags.push(Tag {
            key: format!("egress-loss-{:02}", i + 1),
            value,
        });
    }
}

/// Cuts `text` to at most `max` bytes, at a character boundary (AWS counts
/// characters; a byte limit is never more).
fn truncate(text: &mut String, max: usize) {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}
