//! `azure-firewall`: an ARM template for a firewall policy rule collection
//! group of application rules, and of network rules for the plan's IP
//! ranges (a second collection: per feature and protocol, the ranges on
//! their ports, from any source: the ranges serve every role). Azure Firewall's `*.x` matches subdomains of
//! `x` but not `x` itself, as egress's does; a wildcard elsewhere than a
//! leading `*.` is not supported exactly and is broadened. Protocols are
//! `Http:port` and `Https:port`. Rules restrict sources to the profile's
//! servers when it names their addresses, otherwise to `*`, reported.

use std::collections::BTreeMap;

use egress_catalog::catalog::{Scheme, UNSPECIFIED_ROLE};
use egress_catalog::plan::{Pairs, Plan, Requirement};
use egress_pattern::PatternKind;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    Body, Entries, Header, Loss, LossKind, Options, Unique, json_text, paths_not_enforceable,
};

/// A rule: its name's stem (a role, a feature, or a feature and a role),
/// the role whose servers are its sources (`None`: any source), and its
/// protocols.
type RuleKey = (String, Option<String>, Pairs);

/// The ARM template. Fields are written in the order declared
/// (alphabetical); the fixed parts are `json!` values.
#[derive(Debug, Serialize)]
pub(crate) struct Doc {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "contentVersion")]
    content_version: &'static str,
    metadata: Value,
    parameters: Value,
    resources: [Resource; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    api_version: &'static str,
    name: &'static str,
    properties: Properties,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    priority: &'static str,
    rule_collections: Vec<Collection>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Collection {
    action: Value,
    name: &'static str,
    priority: u32,
    rule_collection_type: &'static str,
    rules: Vec<AnyRule>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum AnyRule {
    Application(Rule),
    Network(NetworkRule),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkRule {
    destination_addresses: Vec<String>,
    destination_ports: Vec<String>,
    ip_protocols: [&'static str; 1],
    name: String,
    rule_type: &'static str,
    source_addresses: [&'static str; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    name: String,
    protocols: Vec<Protocol>,
    rule_type: &'static str,
    source_addresses: Vec<String>,
    target_fqdns: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Protocol {
    port: u16,
    protocol_type: &'static str,
}

pub(crate) fn render<'a>(
    plan: &'a Plan,
    entries: &Entries<'_>,
    options: &'a Options,
    losses: &mut Vec<Loss>,
) -> Body<'a> {
    paths_not_enforceable(&entries.list, false, losses);
    let mut rules: BTreeMap<RuleKey, Unique> = BTreeMap::new();
    for e in &entries.list {
        // Exact hosts and `*.x` are written as egress writes them.
        let fqdn = match e.kind() {
            PatternKind::Exact(_) | PatternKind::Subdomains { .. } => e.pattern.to_string(),
            PatternKind::Ip(ip) => ip.to_string(),
            PatternKind::InLabel { parent, .. } => {
                losses.push(Loss {
                    host: e.host().to_owned(),
                    kind: LossKind::Broadened,
                    detail: format!("Azure Firewall takes a wildcard only as a leading `*.`: rendered as `*.{parent}`"),
                });
                format!("*.{parent}")
            }
        };
        for (key, pairs) in rule_keys(plan, options, &e.requirements) {
            rules
                .entry((key.0, key.1, pairs))
                .or_default()
                .push(fqdn.clone());
        }
    }
    let mut json_rules: Vec<Rule> = Vec::new();
    for ((stem, source_role, pairs), fqdns) in rules {
        let sources: Vec<String> = options
            .sources
            .iter()
            .filter(|(_, roles)| source_role.as_ref().is_some_and(|r| roles.contains(r)))
            .map(|(a, _)| a.to_string())
            .collect();
        // Role-less requirements: any machine may need them, so `*` is
        // exact.
        let anyone = source_role.as_deref() == Some(UNSPECIFIED_ROLE);
        let sources = if sources.is_empty() && anyone {
            vec!["*".to_owned()]
        } else if sources.is_empty() {
            let detail = match &source_role {
                Some(role) => format!(
                    "the profile names no server with role {role}: rules for it admit any source (`*`)"
                ),
                None => {
                    "the profile names no server addresses: rules admit any source (`*`)".to_owned()
                }
            };
            losses.push(Loss {
                host: "*".to_owned(),
                kind: LossKind::AnySource,
                detail,
            });
            vec!["*".to_owned()]
        } else {
            sources
        };
        let protocols: Vec<Protocol> = pairs
            .iter()
            .map(|(s, p)| Protocol {
                protocol_type: match s {
                    Scheme::Http => "Http",
                    Scheme::Https => "Https",
                },
                port: *p,
            })
            .collect();
        let suffix: Vec<String> = pairs.iter().map(|(s, p)| format!("{s}{p}")).collect();
        json_rules.push(Rule {
            rule_type: "ApplicationRule",
            name: format!("{stem}-{}", suffix.join("-")),
            protocols,
            target_fqdns: fqdns.into_vec(),
            source_addresses: sources,
        });
    }
    let network_rules = if options.intranet {
        Vec::new()
    } else {
        network_rules(plan)
    };
    Body::Json(Box::new(move |header| {
        json_text(&document(json_rules, network_rules, header))
    }))
}

/// The plan's IP ranges as network rules: one per set of features,
/// protocol and ports, listing the ranges.
fn network_rules(plan: &Plan) -> Vec<NetworkRule> {
    let mut groups: BTreeMap<(String, &'static str, Vec<String>), Vec<String>> = BTreeMap::new();
    for n in &plan.networks {
        for (protocol, ports) in [("TCP", &n.tcp_ports), ("UDP", &n.udp_ports)] {
            if !ports.is_empty() {
                groups
                    .entry((n.features.join("-"), protocol, ports.items()))
                    .or_default()
                    .push(n.address.to_string());
            }
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    groups
        .into_iter()
        .map(|((features, protocol, ports), addresses)| {
            let stem = format!("{features}-{}", protocol.to_ascii_lowercase());
            let n = seen.entry(stem.clone()).or_default();
            *n += 1;
            NetworkRule {
                name: if *n == 1 { stem } else { format!("{stem}-{n}") },
                rule_type: "NetworkRule",
                ip_protocols: [protocol],
                source_addresses: ["*"],
                destination_addresses: addresses,
                destination_ports: ports,
            }
        })
        .collect()
}

/// The rules an entry belongs to, each with the pairs its requirements
/// give it: one per role when the plan is for roles; else one per feature,
/// and per feature and role when the profile names server addresses (so
/// that a role's servers get only their role's hosts and ports).
fn rule_keys(
    plan: &Plan,
    options: &Options,
    requirements: &[&Requirement],
) -> BTreeMap<(String, Option<String>), Pairs> {
    let mut out: BTreeMap<(String, Option<String>), Pairs> = BTreeMap::new();
    let mut add = |key: (String, Option<String>), r: &Requirement| {
        out.entry(key).or_default().extend(r.pairs.iter().copied());
    };
    for r in requirements {
        if !plan.request.roles.is_empty() {
            for role in plan.request.roles.iter().filter(|role| r.applies_to(role)) {
                add((role.clone(), Some(role.clone())), r);
            }
        } else if options.sources.is_empty() {
            add((r.feature.clone(), None), r);
        } else {
            add(
                (format!("{}-{}", r.feature, r.role), Some(r.role.clone())),
                r,
            );
        }
    }
    out
}

fn document(rules: Vec<Rule>, network_rules: Vec<NetworkRule>, header: &Header<'_>) -> Doc {
    let mut collections = vec![Collection {
        rule_collection_type: "FirewallPolicyFilterRuleCollection",
        name: "egress-allow",
        priority: 100,
        action: json!({ "type": "Allow" }),
        rules: rules.into_iter().map(AnyRule::Application).collect(),
    }];
    if !network_rules.is_empty() {
        collections.push(Collection {
            rule_collection_type: "FirewallPolicyFilterRuleCollection",
            name: "egress-allow-networks",
            priority: 110,
            action: json!({ "type": "Allow" }),
            rules: network_rules.into_iter().map(AnyRule::Network).collect(),
        });
    }
    Doc {
        schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        content_version: "1.0.0.0",
        metadata: json!({
            "generator": header.lines,
            "losses": header.losses.iter().map(Loss::to_string).collect::<Vec<_>>(),
            "notIncluded": header.external,
        }),
        parameters: json!({
            "firewallPolicyName": { "type": "string", "metadata": { "description": "The existing firewall policy" } },
            "ruleCollectionGroupName": { "type": "string", "defaultValue": "egress-configmgr" },
            "ruleCollectionGroupPriority": { "type": "int", "defaultValue": 500 }
        }),
        resources: [Resource {
            kind: "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            api_version: "2023-09-01",
            name: "[format('{0}/{1}', parameters('firewallPolicyName'), parameters('ruleCollectionGroupName'))]",
            properties: Properties {
                priority: "[parameters('ruleCollectionGroupPriority')]",
                rule_collections: collections,
            },
        }],
    }
}
