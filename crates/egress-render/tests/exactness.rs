//! For the targets that can restrict sources and ports (squid and
//! azure-firewall), what a rendered list admits, as (source, scheme, host,
//! port), is exactly what the plan's requirements give the roles of the
//! source's server; over random small catalogs and profiles.
//!
//! Each output is evaluated here by the target's documented semantics
//! (`docs/targets.md`): Squid's `acl` types and `http_access` rules, Azure
//! Firewall's application rules. The real Squid runs the same semantics in
//! `crates/egress/tests/targets.rs`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use egress_catalog::SourceFile;
use egress_catalog::catalog::{self, Cloud, Scheme};
use egress_catalog::plan::{self, Plan, Request};
use egress_pattern::HostPattern;
use egress_render::{AddressRange, EdlType, Options, SquidStyle, Target, render};
use proptest::prelude::*;

const ROLES: [&str; 2] = ["r1", "r2"];
const FEATURES: [&str; 2] = ["f", "g"];
const PATTERNS: [&str; 4] = ["a.test", "*.a.test", "b.a.test", "c.test"];
const HOSTS: [&str; 5] = ["a.test", "b.a.test", "x.a.test", "c.test", "d.c.test"];
const PAIRS: [(Scheme, u16); 4] = [
    (Scheme::Http, 80),
    (Scheme::Https, 443),
    (Scheme::Https, 8443),
    (Scheme::Http, 8443),
];

/// One generated endpoint: pattern, pair, features, roles (empty:
/// unspecified), expired.
type Spec = (usize, usize, Vec<usize>, Vec<usize>, bool);

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..PATTERNS.len(),
        0..PAIRS.len(),
        proptest::sample::subsequence(vec![0, 1], 1..=2),
        proptest::sample::subsequence(vec![0, 1], 0..=2),
        proptest::bool::weighted(0.2),
    )
}

fn catalog_text(specs: &[Spec]) -> String {
    let mut text = egress_test_support::catalog_head("x");
    for r in ROLES {
        text.push_str(&format!("\n[[role]]\nid = \"{r}\"\ntitle = \"{r}\"\n"));
    }
    for f in FEATURES {
        text.push_str(&format!(
            "\n[[feature]]\nid = \"{f}\"\ntitle = \"{f}\"\npage = \"p\"\nsection = \"{f}\"\nexternal = [{{ title = \"{f}\", url = \"https://example.test/{f}\" }}]\n"
        ));
    }
    for (i, (pattern, pair, features, roles, expired)) in specs.iter().enumerate() {
        let (scheme, port) = PAIRS[*pair];
        let features: Vec<String> = features
            .iter()
            .map(|f| format!("\"{}\"", FEATURES[*f]))
            .collect();
        text.push_str(&format!(
            "\n[[endpoint]]\nid = \"e{i}\"\nurl = \"{scheme}://{}:{port}\"\nfeatures = [{}]\n",
            PATTERNS[*pattern],
            features.join(", ")
        ));
        if !roles.is_empty() {
            let roles: Vec<String> = roles.iter().map(|r| format!("\"{}\"", ROLES[*r])).collect();
            text.push_str(&format!("roles = [{}]\n", roles.join(", ")));
        }
        if *expired {
            text.push_str("valid_until = 2025-01-01\n");
        }
    }
    text
}

/// The plan of the catalog `specs` make: for both roles by name, or, with
/// `every_role`, for every role (no `--role`).
fn plan(specs: &[Spec], every_role: bool) -> Plan {
    let c = catalog::load(&SourceFile::new("x.toml", catalog_text(specs)))
        .unwrap_or_else(|e| panic!("{e}"));
    plan::resolve(
        &c,
        &Request {
            cloud: Cloud::Public,
            version: None,
            as_of: jiff::civil::date(2026, 1, 1),
            features: None,
            roles: if every_role {
                Vec::new()
            } else {
                ROLES.iter().map(|r| r.to_string()).collect()
            },
            placeholders: BTreeMap::new(),
            exclude: Default::default(),
        },
    )
}

/// Servers: an address or a range, and some roles; every role has one.
fn servers() -> impl Strategy<Value = Vec<(AddressRange, Vec<String>)>> {
    let s = |a: &str, roles: &[&str]| -> (AddressRange, Vec<String>) {
        (
            a.parse().unwrap(),
            roles.iter().map(|r| r.to_string()).collect(),
        )
    };
    prop_oneof![
        // One server with both roles.
        Just(vec![s("10.0.0.1", &["r1", "r2"])]),
        // One server a role.
        Just(vec![s("10.0.0.1", &["r1"]), s("10.0.0.2", &["r2"])]),
        // Overlapping: a server inside a subnet of the other role's
        // machines has both roles.
        Just(vec![s("10.0.1.0/24", &["r1"]), s("10.0.1.7", &["r2"])]),
        Just(vec![
            s("10.0.0.1", &["r1"]),
            s("10.0.0.0/30", &["r1", "r2"])
        ]),
    ]
}

/// A source address in each server's range, with the union of the roles
/// of every entry that covers it; and a stranger.
fn sources(servers: &[(AddressRange, Vec<String>)]) -> Vec<(IpAddr, Vec<String>)> {
    let stranger: IpAddr = "10.0.0.9".parse().unwrap();
    let mut addresses: Vec<IpAddr> = servers
        .iter()
        .map(|(r, _)| match r.network {
            IpAddr::V4(a) if r.prefix < 32 => IpAddr::V4((u32::from(a) + 1).into()),
            other => other,
        })
        .collect();
    addresses.push(stranger);
    addresses
        .into_iter()
        .map(|a| {
            let mut roles: Vec<String> = servers
                .iter()
                .filter(|(r, _)| r.contains(a))
                .flat_map(|(_, roles)| roles.clone())
                .collect();
            roles.sort();
            roles.dedup();
            (a, roles)
        })
        .collect()
}

/// What the plan allows: a row whose pattern matches the host, with a
/// requirement in force for the pair and for a role of the source. In a
/// plan for every role, a role-less requirement is any machine's; in a plan
/// for named roles, each named role's.
fn oracle(plan: &Plan, roles: &[String], scheme: Scheme, host: &str, port: u16) -> bool {
    let every_role = plan.request.roles.is_empty();
    plan.rows.iter().any(|row| {
        row.pattern.as_ref().is_some_and(|p| p.matches_name(host))
            && row.in_force().any(|r| {
                r.pairs.contains(&(scheme, port))
                    && ((every_role && r.role == egress_catalog::catalog::UNSPECIFIED_ROLE)
                        || roles.iter().any(|role| r.applies_to(role)))
            })
    })
}

/// Squid's decision for a request, by its ACL semantics: `http_access
/// allow` lines in order, each an AND of (possibly negated) ACLs, each ACL
/// an OR of its items; no match: denied.
fn squid_allows(conf: &str, source: IpAddr, scheme: Scheme, host: &str, port: u16) -> bool {
    let mut acls: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
    let mut rules = Vec::new();
    for line in conf.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["acl", name, kind, "-i", item] | ["acl", name, kind, item] => {
                acls.entry(name).or_default().push((kind, item.to_string()))
            }
            ["http_access", "allow", names @ ..] => rules.push(names.to_vec()),
            other => panic!("unexpected squid line {other:?}"),
        }
    }
    let url = format!("{scheme}://{host}:{port}/");
    let connect = scheme == Scheme::Https;
    let item_matches = |kind: &str, item: &str| match kind {
        "method" => (item == "CONNECT") == connect,
        "port" => item.parse::<u16>().unwrap() == port,
        "src" => item.parse::<AddressRange>().unwrap().contains(source),
        "dstdomain" => match item.strip_prefix('.') {
            Some(parent) => host == parent || host.ends_with(item),
            None => host == item,
        },
        "dstdom_regex" => regex::RegexBuilder::new(item)
            .case_insensitive(true)
            .build()
            .unwrap()
            .is_match(host),
        "url_regex" => regex::Regex::new(item).unwrap().is_match(&url),
        other => panic!("unexpected acl type {other}"),
    };
    rules.iter().any(|names| {
        names.iter().all(|n| {
            let (negated, name) = match n.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, *n),
            };
            let items = acls
                .get(name)
                .unwrap_or_else(|| panic!("undefined acl {name}"));
            items.iter().any(|(k, i)| item_matches(k, i)) != negated
        })
    })
}

/// Azure Firewall's decision: some application rule whose sources, protocol
/// and target FQDNs all match (`*.x`: subdomains of `x`, not `x`).
fn azure_allows(doc: &str, source: IpAddr, scheme: Scheme, host: &str, port: u16) -> bool {
    let doc: serde_json::Value = serde_json::from_str(doc).unwrap();
    let rules = doc["resources"][0]["properties"]["ruleCollections"][0]["rules"]
        .as_array()
        .unwrap();
    let protocol = match scheme {
        Scheme::Http => "Http",
        Scheme::Https => "Https",
    };
    rules.iter().any(|rule| {
        let texts = |key: &str| -> Vec<String> {
            rule[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let source_ok = texts("sourceAddresses")
            .iter()
            .any(|s| s == "*" || s.parse::<AddressRange>().unwrap().contains(source));
        let protocol_ok =
            rule["protocols"].as_array().unwrap().iter().any(|p| {
                p["protocolType"] == protocol && p["port"].as_u64() == Some(u64::from(port))
            });
        let fqdn_ok = texts("targetFqdns")
            .iter()
            .any(|f| match f.strip_prefix("*.") {
                Some(parent) => host.ends_with(&format!(".{parent}")),
                None => f == host,
            });
        source_ok && protocol_ok && fqdn_ok
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn squid_and_azure_admit_exactly_the_requirements(
        specs in proptest::collection::vec(spec(), 1..6),
        servers in servers(),
        every_role in proptest::bool::ANY,
    ) {
        let plan = plan(&specs, every_role);
        let options = Options {
            header: Vec::new(),
            no_header: false,
            squid_style: SquidStyle::Exact,
        placeholders: egress_render::PlaceholderPolicy::Widen,
        intranet: false,
            pac_allow: "DIRECT".to_owned(),
            pac_default: "PROXY 127.0.0.1:9".to_owned(),
            edl_type: EdlType::Domain,
            aws_rules: Default::default(),
            sources: servers.clone(),
        };
        let squid = render(Target::Squid, &plan, &options);
        let azure = render(Target::AzureFirewall, &plan, &options);
        // Every role has a server: nothing to report, nothing widened.
        prop_assert!(squid.losses.is_empty(), "{:?}", squid.losses);
        prop_assert!(azure.losses.is_empty(), "{:?}", azure.losses);
        for (source, roles) in sources(&servers) {
            for host in HOSTS {
                prop_assert!(HostPattern::parse(host).is_ok());
                for (scheme, port) in PAIRS {
                    let expected = oracle(&plan, &roles, scheme, host, port);
                    let what = format!("{source} {scheme}://{host}:{port}\n{}", catalog_text(&specs));
                    prop_assert_eq!(
                        squid_allows(&squid.text, source, scheme, host, port),
                        expected,
                        "squid: {}\n{}", what, squid.text
                    );
                    prop_assert_eq!(
                        azure_allows(&azure.text, source, scheme, host, port),
                        expected,
                        "azure-firewall: {}\n{}", what, azure.text
                    );
                }
            }
        }
    }
}
