//! Every loss each target can produce, on a small catalog written for the
//! tests; and every target on every embedded revision and cloud.

use std::collections::BTreeMap;

use egress_catalog::catalog::{self, Cloud};
use egress_catalog::plan::{self, Plan, Request};
use egress_catalog::{SourceFile, embedded};
use egress_render::{EdlType, LossKind, Options, SquidStyle, Target, render};
use jiff::civil::date;

const CATALOG: &str = r#"
[catalog]
id = "losses"
title = "Losses"
vendor = "egress"
product = "tests"
revision = "1"
describes = 2026-01-01

[[page]]
id = "p"
title = "Page"
language = "en-US"

[[role]]
id = "scp"
title = "SCP"

[[placeholder]]
name = "prefix"
title = "Prefix"
kind = "label"

[[placeholder]]
name = "sup"
title = "SUP"
kind = "host"

[[feature]]
id = "f"
title = "F"
page = "p"
section = "F"

[[endpoint]]
id = "exact"
host = "exact.example.com"
features = ["f"]
roles = ["scp"]

[[endpoint]]
id = "wild"
host = "*.wild.example.com"
features = ["f"]

[[endpoint]]
id = "in-label"
host = "*-lab.example.com"
features = ["f"]

[[endpoint]]
id = "https-path"
url = "https://tls.example.com/secret/path"
features = ["f"]

[[endpoint]]
id = "http-path"
url = "http://plain.example.com/pkiops"
features = ["f"]

[[endpoint]]
id = "placeholder"
host = "<prefix>.blob.example.com"
features = ["f"]

[[endpoint]]
id = "host-placeholder"
url = "https://<sup>"
features = ["f"]
"#;

fn plan(roles: &[&str]) -> Plan {
    let c =
        catalog::load(&SourceFile::new("losses.toml", CATALOG)).unwrap_or_else(|e| panic!("{e}"));
    plan::resolve(
        &c,
        &Request {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..request(Cloud::Public)
        },
    )
}

/// Every feature and role of a cloud, on a fixed day.
fn request(cloud: Cloud) -> Request {
    Request {
        cloud,
        version: None,
        as_of: date(2026, 1, 1),
        features: None,
        roles: Vec::new(),
        placeholders: BTreeMap::new(),
        exclude: Default::default(),
    }
}

fn options() -> Options {
    Options {
        header: vec!["test".to_owned()],
        no_header: false,
        squid_style: SquidStyle::Exact,
        placeholders: egress_render::PlaceholderPolicy::Widen,
        intranet: false,
        pac_allow: "DIRECT".to_owned(),
        pac_default: "PROXY 127.0.0.1:9".to_owned(),
        edl_type: EdlType::Domain,
        aws_rules: Default::default(),
        sources: Vec::new(),
    }
}

/// The losses of one target, as `kind host`.
#[track_caller]
fn check(target: Target, options: &Options, expected: &[&str]) {
    let r = render(target, &plan(&[]), options);
    let mut got: Vec<String> = r
        .losses
        .iter()
        .map(|l| format!("{} {}", l.kind.as_str(), l.host))
        .collect();
    got.sort();
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(got, expected, "{}", target.name());
    for l in &r.losses {
        assert!(
            r.text.contains(&l.detail)
                || matches!(
                    target,
                    Target::PanEdl | Target::AwsNetworkFirewall | Target::AzureFirewall
                ),
            "{}: the header lists each loss",
            target.name()
        );
    }
}

const COMMON: &[&str] = &[
    "placeholder left as a wildcard <prefix>.blob.example.com",
    "left out <sup>",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    COMMON.iter().chain(extra).copied().collect()
}

#[test]
fn squid_losses() {
    let mut o = options();
    // Exact: only what Squid cannot see inside TLS.
    check(
        Target::Squid,
        &o,
        &with(&["path not enforceable tls.example.com"]),
    );
    o.squid_style = SquidStyle::Loose;
    check(
        Target::Squid,
        &o,
        &with(&[
            "apex added *.wild.example.com",
            "apex added <prefix>.blob.example.com",
            "wildcard broadened *-lab.example.com",
            "path not enforceable tls.example.com",
        ]),
    );
}

#[test]
fn pac_losses() {
    check(
        Target::Pac,
        &options(),
        &with(&[
            "path not enforceable plain.example.com",
            "path not enforceable tls.example.com",
            "port not expressible *",
        ]),
    );
}

#[test]
fn edl_losses() {
    let mut o = options();
    check(
        Target::PanEdl,
        &o,
        &with(&[
            "wildcard broadened *-lab.example.com",
            "path not enforceable plain.example.com",
            "path not enforceable tls.example.com",
            "port not expressible *",
        ]),
    );
    // A URL list sees plain HTTP paths.
    o.edl_type = EdlType::Url;
    check(
        Target::PanEdl,
        &o,
        &with(&[
            "wildcard broadened *-lab.example.com",
            "path not enforceable tls.example.com",
            "port not expressible *",
        ]),
    );
}

#[test]
fn azure_losses() {
    let mut o = options();
    check(
        Target::AzureFirewall,
        &o,
        &with(&[
            "wildcard broadened *-lab.example.com",
            "path not enforceable plain.example.com",
            "path not enforceable tls.example.com",
            "any source *",
        ]),
    );
    // With the servers' addresses, the SCP's rules are restricted to its
    // address; the endpoints without a role (any machine may need them)
    // admit any source, which is exact.
    o.sources = vec![("10.0.0.5".parse().unwrap(), vec!["scp".to_owned()])];
    check(
        Target::AzureFirewall,
        &o,
        &with(&[
            "wildcard broadened *-lab.example.com",
            "path not enforceable plain.example.com",
            "path not enforceable tls.example.com",
        ]),
    );
}

#[test]
fn aws_losses() {
    check(
        Target::AwsNetworkFirewall,
        &options(),
        &with(&[
            "apex added *.wild.example.com",
            "apex added <prefix>.blob.example.com",
            "wildcard broadened *-lab.example.com",
            "path not enforceable plain.example.com",
            "path not enforceable tls.example.com",
            "port not expressible *",
        ]),
    );
}

#[test]
fn plain_losses() {
    check(
        Target::Plain,
        &options(),
        &with(&[
            "path not enforceable plain.example.com",
            "path not enforceable tls.example.com",
            "port not expressible *",
        ]),
    );
}

/// A plain list names each pattern once, in the plan's order, whether or
/// not placeholders were made into wildcards (two paths of one host are
/// one line).
#[test]
fn plain_lists_each_pattern_once() {
    let extra = "\n[[endpoint]]\nid = \"second-path\"\nurl = \"http://plain.example.com/other\"\nfeatures = [\"f\"]\n";
    let c = catalog::load(&SourceFile::new("plain.toml", format!("{CATALOG}{extra}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let lines = |placeholders: &[(&str, &str)]| {
        let mut r = request(Cloud::Public);
        for (k, v) in placeholders {
            r.placeholders.insert(k.to_string(), v.to_string());
        }
        let text = render(Target::Plain, &plan::resolve(&c, &r), &options()).text;
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let own = [
        "*-lab.example.com",
        "*.wild.example.com",
        "exact.example.com",
        "plain.example.com",
        "tls.example.com",
    ];
    let mut filled = lines(&[("prefix", "x"), ("sup", "sup.example.com")]);
    filled.sort();
    let mut expected = own.to_vec();
    expected.extend(["sup.example.com", "x.blob.example.com"]);
    expected.sort();
    assert_eq!(filled, expected);
    let mut made = lines(&[]);
    made.sort();
    let mut expected = own.to_vec();
    expected.push("*.blob.example.com");
    expected.sort();
    assert_eq!(made, expected);
}

#[test]
fn a_plan_without_loss_says_so() {
    let c = catalog::load(&SourceFile::new(
        "exact.toml",
        CATALOG
            .split("[[endpoint]]\nid = \"wild\"")
            .next()
            .unwrap()
            .to_owned(),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let p = plan::resolve(&c, &request(Cloud::Public));
    let r = render(Target::Squid, &p, &options());
    assert!(r.losses.is_empty());
    assert!(r.text.contains("# losses: none"));
    assert!(
        r.text
            .contains("acl egress_https_443 dstdomain exact.example.com")
    );
}

#[test]
fn squid_acls_per_role_with_sources() {
    let mut o = options();
    o.sources = vec![("10.0.0.5".parse().unwrap(), vec!["scp".to_owned()])];
    let r = render(Target::Squid, &plan(&["scp"]), &o);
    assert!(
        r.text.contains("acl egress_scp_src src 10.0.0.5"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("acl egress_scp_https_443 dstdomain exact.example.com"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            "http_access allow egress_connect egress_port_443 egress_scp_src egress_scp_https_443\n"
        ),
        "{}",
        r.text
    );
}

/// Every target renders every embedded revision for both clouds; the JSON
/// targets are valid JSON of the expected shape.
#[test]
fn every_target_every_revision_every_cloud() {
    for c in embedded::all().unwrap() {
        for cloud in [Cloud::Public, Cloud::UsGov] {
            let p = plan::resolve(&c, &request(cloud));
            for t in Target::ALL {
                let r = render(t, &p, &options());
                let what = format!("{} {} {:?}", t.name(), c.meta.revision, cloud);
                assert!(r.text.lines().count() > 10, "{what}");
                if matches!(t, Target::AzureFirewall | Target::AwsNetworkFirewall) {
                    let doc: serde_json::Value =
                        serde_json::from_str(&r.text).unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert!(doc.is_object(), "{what}");
                }
                // Every loss names a kind the docs define.
                for l in &r.losses {
                    assert!(
                        !matches!(l.kind, LossKind::AnySource)
                            || matches!(t, Target::AzureFirewall | Target::FirewallRules),
                        "{what}"
                    );
                }
            }
        }
    }
}

/// AWS limits the description to 512 characters and tag values to 256:
/// egress cuts them at a character boundary, never inside one (a header
/// line from a profile or catalog may be any UTF-8).
#[test]
fn aws_cuts_long_text_between_characters() {
    let mut o = options();
    // "x" then two-byte characters: byte 512 falls inside one.
    o.header = vec![format!("x{}", "é".repeat(400))];
    let r = render(Target::AwsNetworkFirewall, &plan(&[]), &o);
    let doc: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    let description = doc["Description"].as_str().unwrap();
    assert_eq!(description.len(), 511);
    assert!(o.header[0].starts_with(description));
    for tag in doc["Tags"].as_array().unwrap() {
        assert!(tag["Value"].as_str().unwrap().len() <= 256);
    }
}

/// The registry and the docs agree: every target has its section in
/// `docs/targets.md`, and the docs name no target the registry lacks.
#[test]
fn every_target_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/targets.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let documented: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.split('`').next())
        .filter(|name| !["json"].contains(name))
        .collect();
    let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(documented, names);
    for t in Target::ALL {
        assert_eq!(Target::named(t.name()), Some(t));
    }
}

/// By default a placeholder without a value leaves its row out,
/// and that loss comes first, naming the profile key; widening is asked
/// for.
#[test]
fn empty_placeholders_are_left_out_first() {
    let mut o = options();
    o.placeholders = egress_render::PlaceholderPolicy::Omit;
    for t in Target::ALL {
        let r = render(t, &plan(&[]), &o);
        let mut first: Vec<String> = r
            .losses
            .iter()
            .take(2)
            .map(|l| format!("{} {}", l.kind.as_str(), l.host))
            .collect();
        first.sort();
        assert_eq!(
            first,
            [
                "placeholder without a value, left out <prefix>.blob.example.com",
                "placeholder without a value, left out <sup>",
            ],
            "{}",
            t.name()
        );
        assert!(
            r.losses
                .iter()
                .take(2)
                .any(|l| l.detail.contains("placeholders.prefix")),
            "{}",
            t.name()
        );
        // Named only where the loss is reported, never as an item.
        assert!(
            r.text
                .lines()
                .filter(|l| l.contains("blob.example.com"))
                .all(|l| l.contains("left out")),
            "{}: {}",
            t.name(),
            r.text
        );
        assert!(
            r.losses
                .iter()
                .all(|l| l.kind != LossKind::PlaceholderAsWildcard),
            "{}",
            t.name()
        );
    }
}

/// The intranet rows have their own lists (`--intranet`), and
/// `firewall-rules` writes one rule per source role, destination, port and
/// scheme, with the role's addresses (a range too) or `any`, reported.
#[test]
fn intranet_rows_and_firewall_rules() {
    let text = format!(
        "{CATALOG}\n[[endpoint]]\nid = \"child\"\nurl = \"https://child-sup.example.com:8531\"\nfeatures = [\"f\"]\nroles = [\"scp\"]\ndirection = \"intranet\"\n"
    );
    let c =
        catalog::load(&SourceFile::new("intranet.toml", text)).unwrap_or_else(|e| panic!("{e}"));
    let mut r = request(Cloud::Public);
    r.roles = vec!["scp".to_owned()];
    let p = plan::resolve(&c, &r);
    let mut o = options();
    o.intranet = true;
    o.sources = vec![("10.1.0.0/16".parse().unwrap(), vec!["scp".to_owned()])];
    let rules = render(Target::FirewallRules, &p, &o);
    let lines: Vec<&str> = rules.text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        ["scp (10.1.0.0/16) -> child-sup.example.com 8531/tcp https  # f"]
    );
    assert!(rules.losses.is_empty(), "{:?}", rules.losses);
    let squid = render(Target::Squid, &p, &o).text;
    assert!(
        squid.contains("acl egress_scp_https_8531 dstdomain child-sup.example.com"),
        "{squid}"
    );
    assert!(
        squid.contains("acl egress_scp_src src 10.1.0.0/16"),
        "{squid}"
    );
    assert!(!squid.contains("dstdomain exact.example.com"), "{squid}");
    // Without --intranet, the intranet row is named as not included.
    o.intranet = false;
    let internet = render(Target::Squid, &p, &o).text;
    assert!(
        internet.contains("intranet, between site systems"),
        "{internet}"
    );
    assert!(
        !internet.contains("dstdomain child-sup.example.com"),
        "{internet}"
    );
    // No address for the role: any source, reported.
    o.intranet = true;
    o.sources.clear();
    let rules = render(Target::FirewallRules, &p, &o);
    assert!(rules.text.contains("scp (any) -> child-sup.example.com"));
    assert_eq!(rules.losses[0].kind, LossKind::AnySource);
}
