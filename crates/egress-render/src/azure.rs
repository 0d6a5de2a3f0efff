//! `azure-firewall`: an ARM template for a firewall policy rule collection
//! group of application rules. Azure Firewall's `*.x` matches subdomains of
//! `x` but not `x` itself, as egress's does; a wildcard elsewhere than a
//! leading `*.` is not supported exactly and is broadened. Protocols are
//! `Http:port` and `Https:port`. Rules restrict sources to the profile's
//! servers when it names their addresses, otherwise to `*`, reported.

use std::borrow::Cow;
use std::collections::BTreeMap;

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::{Pairs, Plan};
use egress_pattern::PatternKind;
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Body, Header, Loss, LossKind, Options, Rows, Unique, paths_not_enforceable};

/// A rule: its feature or role, and its protocols, borrowed from the plan.
type RuleKey<'a> = (&'a str, &'a Pairs);

/// The ARM template. Fields are written in the order declared
/// (alphabetical, as before); the fixed parts are `json!` values, the rules
/// borrow their names from the plan.
#[derive(Debug, Serialize)]
pub(crate) struct Doc<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "contentVersion")]
    content_version: &'static str,
    metadata: Value,
    parameters: Value,
    resources: [Resource<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource<'a> {
    api_version: &'static str,
    name: &'static str,
    properties: Properties<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    priority: &'static str,
    rule_collections: [Collection<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Collection<'a> {
    action: Value,
    name: &'static str,
    priority: u32,
    rule_collection_type: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    name: String,
    protocols: Vec<Protocol>,
    rule_type: &'static str,
    source_addresses: Vec<String>,
    target_fqdns: Vec<Cow<'a, str>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Protocol {
    port: u16,
    protocol_type: &'static str,
}

pub(crate) fn render<'a>(
    plan: &'a Plan,
    rows: &'a Rows<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'a> {
    let entries = &rows.entries[..];
    paths_not_enforceable(entries, false, losses);
    // One rule per feature, or per role when the plan is for roles; within
    // it, one per set of protocols, since a rule has one protocol list.
    let by_role = !plan.request.roles.is_empty();
    let mut rules: BTreeMap<RuleKey<'_>, Unique<'a>> = BTreeMap::new();
    for e in entries {
        let mut made = e.made;
        // Exact hosts and `*.x` are written as egress writes them: borrowed.
        let mut fqdn: Cow<'a, str> = match e.pattern().kind() {
            PatternKind::Exact(_) | PatternKind::Subdomains { .. } => {
                Cow::Borrowed(e.pattern().as_str())
            }
            PatternKind::Ip(ip) => Cow::Owned(ip.to_string()),
            PatternKind::InLabel { parent, .. } => {
                losses.push(Loss {
                    host: e.host().to_owned(),
                    kind: LossKind::Broadened,
                    detail: format!("Azure Firewall takes a wildcard only as a leading `*.`: rendered as `*.{parent}`"),
                });
                made = true;
                Cow::Owned(format!("*.{parent}"))
            }
        };
        let roles =
            e.row.roles.keys().filter(|r| {
                by_role && (plan.request.roles.contains(r) || r.as_str() == "unspecified")
            });
        let features = e.row.features.iter().filter(|_| !by_role);
        let mut groups = roles.chain(features).peekable();
        while let Some(g) = groups.next() {
            let unique = rules.entry((g.as_str(), rows.pairs(e))).or_default();
            // The last group takes the string; the others a copy.
            if groups.peek().is_some() {
                unique.push(fqdn.clone(), made);
            } else {
                unique.push(std::mem::take(&mut fqdn), made);
                break;
            }
        }
    }
    let mut json_rules: Vec<Rule<'a>> = Vec::new();
    let mut any_source = false;
    for ((group, pairs), fqdns) in rules {
        let fqdns = fqdns.into_vec();
        let sources: Vec<String> = options
            .sources
            .iter()
            .filter(|(_, roles)| !by_role || roles.iter().any(|r| r == group))
            .map(|(a, _)| a.to_string())
            .collect();
        let sources = if sources.is_empty() {
            any_source = true;
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
            name: format!("{group}-{}", suffix.join("-")),
            protocols,
            target_fqdns: fqdns,
            source_addresses: sources,
        });
    }
    if any_source {
        losses.push(Loss {
            host: "*".to_owned(),
            kind: LossKind::AnySource,
            detail: "the profile names no server addresses: rules admit any source (`*`)"
                .to_owned(),
        });
    }
    Body::Azure(Doc {
        schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        content_version: "1.0.0.0",
        metadata: json!({}),
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
                rule_collections: [Collection {
                    rule_collection_type: "FirewallPolicyFilterRuleCollection",
                    name: "egress-allow",
                    priority: 100,
                    action: json!({ "type": "Allow" }),
                    rules: json_rules,
                }],
            },
        }],
    })
}

pub(crate) fn add_header(doc: &mut Doc<'_>, header: &Header<'_>) {
    doc.metadata = json!({
        "generator": header.lines,
        "losses": header.losses.iter().map(Loss::to_string).collect::<Vec<_>>(),
        "notIncluded": header.external,
    });
}
