//! `azure-firewall`: an ARM template for a firewall policy rule collection
//! group of application rules. Azure Firewall's `*.x` matches subdomains of
//! `x` but not `x` itself, as egress's does; a wildcard elsewhere than a
//! leading `*.` is not supported exactly and is broadened. Protocols are
//! `Http:port` and `Https:port`. Rules restrict sources to the profile's
//! servers when it names their addresses, otherwise to `*`, reported.

use std::collections::BTreeMap;

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::{Pairs, Plan};
use egress_pattern::PatternKind;
use serde_json::{Value, json};

use crate::{Body, Entry, Header, Loss, LossKind, Options, Unique, paths_not_enforceable};

/// A rule: its feature or role, and its protocols, borrowed from the plan.
type RuleKey<'a> = (&'a str, &'a Pairs);

pub(crate) fn render(
    plan: &Plan,
    entries: &[Entry<'_>],
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body {
    paths_not_enforceable(entries, false, losses);
    // One rule per feature, or per role when the plan is for roles; within
    // it, one per set of protocols, since a rule has one protocol list.
    let by_role = !plan.request.roles.is_empty();
    let mut rules: BTreeMap<RuleKey<'_>, Unique> = BTreeMap::new();
    for e in entries {
        let mut made = e.made;
        let mut fqdn = match e.pattern.kind() {
            PatternKind::Exact(h) => h.to_owned(),
            PatternKind::Ip(ip) => ip.to_string(),
            PatternKind::Subdomains { suffix } => format!("*.{suffix}"),
            PatternKind::InLabel { parent, .. } => {
                losses.push(Loss {
                    host: e.host().to_owned(),
                    kind: LossKind::Broadened,
                    detail: format!("Azure Firewall takes a wildcard only as a leading `*.`: rendered as `*.{parent}`"),
                });
                made = true;
                format!("*.{parent}")
            }
        };
        let roles =
            e.row.roles.keys().filter(|r| {
                by_role && (plan.request.roles.contains(r) || r.as_str() == "unspecified")
            });
        let features = e.row.features.iter().filter(|_| !by_role);
        let mut groups = roles.chain(features).peekable();
        while let Some(g) = groups.next() {
            let unique = rules.entry((g.as_str(), e.pairs)).or_default();
            // The last group takes the string; the others a copy.
            if groups.peek().is_some() {
                unique.push(fqdn.clone(), made);
            } else {
                unique.push(std::mem::take(&mut fqdn), made);
                break;
            }
        }
    }
    let mut json_rules = Vec::new();
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
        let protocols: Vec<Value> = pairs
            .iter()
            .map(|(s, p)| {
                json!({ "protocolType": match s { Scheme::Http => "Http", Scheme::Https => "Https" }, "port": p })
            })
            .collect();
        let suffix: Vec<String> = pairs.iter().map(|(s, p)| format!("{s}{p}")).collect();
        json_rules.push(json!({
            "ruleType": "ApplicationRule",
            "name": format!("{group}-{}", suffix.join("-")),
            "protocols": protocols,
            "targetFqdns": fqdns,
            "sourceAddresses": sources,
        }));
    }
    if any_source {
        losses.push(Loss {
            host: "*".to_owned(),
            kind: LossKind::AnySource,
            detail: "the profile names no server addresses: rules admit any source (`*`)"
                .to_owned(),
        });
    }
    Body::Json(json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {},
        "parameters": {
            "firewallPolicyName": { "type": "string", "metadata": { "description": "The existing firewall policy" } },
            "ruleCollectionGroupName": { "type": "string", "defaultValue": "egress-configmgr" },
            "ruleCollectionGroupPriority": { "type": "int", "defaultValue": 500 }
        },
        "resources": [{
            "type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            "apiVersion": "2023-09-01",
            "name": "[format('{0}/{1}', parameters('firewallPolicyName'), parameters('ruleCollectionGroupName'))]",
            "properties": {
                "priority": "[parameters('ruleCollectionGroupPriority')]",
                "ruleCollections": [{
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "name": "egress-allow",
                    "priority": 100,
                    "action": { "type": "Allow" },
                    "rules": json_rules,
                }]
            }
        }]
    }))
}

pub(crate) fn add_header(doc: &mut Value, header: &Header) {
    doc["metadata"] = json!({
        "generator": header.lines,
        "losses": header.losses,
        "notIncluded": header.external,
    });
}
