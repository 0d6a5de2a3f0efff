//! `aws-network-firewall`: a stateful rule group with a domain list
//! (`RulesSourceList`, `ALLOWLIST`) over `TLS_SNI` and `HTTP_HOST`, in the
//! shape `aws network-firewall create-rule-group --cli-input-json` takes.
//! A domain list entry `.x` admits `x` and its subdomains, so `*.x` gains
//! its apex; there are no partial-label wildcards, no ports and no paths.

use egress_catalog::catalog::Scheme;
use egress_catalog::plan::Plan;
use egress_pattern::PatternKind;
use serde_json::{Value, json};

use crate::{
    Body, Header, Loss, LossKind, Rows, Unique, drop_covered, paths_not_enforceable,
    ports_not_expressible,
};

pub(crate) fn render(plan: &Plan, rows: &Rows<'_>, losses: &mut Vec<Loss>) -> Body {
    let entries = &rows.entries[..];
    ports_not_expressible("an AWS Network Firewall domain list", &rows.ports, losses);
    paths_not_enforceable(entries, false, losses);
    let mut targets = Unique::default();
    for e in entries {
        match e.pattern.kind() {
            PatternKind::Exact(h) => targets.push(h.to_owned(), e.made),
            PatternKind::Ip(ip) => targets.push(ip.to_string(), e.made),
            PatternKind::Subdomains { suffix } => {
                losses.push(Loss {
                    host: e.host().to_owned(),
                    kind: LossKind::ApexAdded,
                    detail: format!("`.{suffix}` also admits `{suffix}`"),
                });
                targets.push(format!(".{suffix}"), e.made);
            }
            PatternKind::InLabel { parent, .. } => {
                losses.push(Loss {
                    host: e.host().to_owned(),
                    kind: LossKind::Broadened,
                    detail: format!("no partial-label wildcards: rendered as `.{parent}`, which admits `{parent}` and all its subdomains"),
                });
                targets.push(format!(".{parent}"), true);
            }
        }
    }
    let mut targets = targets.into_vec();
    // `.x` covers `x` and `a.x`: drop what a broader entry covers.
    drop_covered(&mut targets);
    let mut types = Vec::new();
    if entries
        .iter()
        .any(|e| e.pairs.iter().any(|(s, _)| *s == Scheme::Https))
    {
        types.push("TLS_SNI");
    }
    if entries
        .iter()
        .any(|e| e.pairs.iter().any(|(s, _)| *s == Scheme::Http))
    {
        types.push("HTTP_HOST");
    }
    Body::Json(json!({
        "RuleGroupName": format!("egress-{}-{}", plan.catalog_id, plan.revision),
        "Type": "STATEFUL",
        // A domain list costs one unit of capacity per domain, twice when
        // it inspects both TLS_SNI and HTTP_HOST; leave room to grow.
        "Capacity": (targets.len() * types.len().max(1) * 2).max(100),
        "Description": "",
        "RuleGroup": {
            "RulesSource": {
                "RulesSourceList": {
                    "Targets": targets,
                    "TargetTypes": types,
                    "GeneratedRulesType": "ALLOWLIST",
                }
            }
        },
        "Tags": [],
    }))
}

pub(crate) fn add_header(doc: &mut Value, header: &Header) {
    // The description is limited to 512 characters: the summary goes there,
    // the details to stderr and tags.
    let mut description = format!(
        "{}; {} losses; {} lists or rows not included",
        header.lines.join("; "),
        header.losses.len(),
        header.external.len()
    );
    description.truncate(512);
    doc["Description"] = json!(description);
    let mut tags = vec![json!({ "Key": "generator", "Value": "egress" })];
    for (i, loss) in header.losses.iter().enumerate().take(40) {
        let mut value = loss.clone();
        value.truncate(256);
        tags.push(json!({ "Key": format!("egress-loss-{:02}", i + 1), "Value": value }));
    }
    doc["Tags"] = json!(tags);
}
