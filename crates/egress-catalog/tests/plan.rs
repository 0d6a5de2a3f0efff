//! Plan resolution: placeholders, clouds, versions, dates, supersession,
//! merging, and stated or assumed values, on a small catalog written for
//! these tests.

use std::collections::BTreeMap;

use egress_catalog::catalog::{self, Basis, Cloud};
use egress_catalog::plan::{self, Request};
use egress_catalog::{Catalog, SourceFile};
use jiff::civil::date;

const CATALOG: &str = r#"
[catalog]
id = "demo"
title = "Demo"
vendor = "Contoso"
product = "Demo"
revision = "1"
describes = 2025-03-01

[[page]]
id = "p"
title = "Page"
language = "en-US"

[[role]]
id = "scp"
title = "Service connection point"

[[role]]
id = "client"
title = "Client"

[[placeholder]]
name = "prefix"
title = "Prefix"
kind = "label"

[[placeholder]]
name = "sup"
title = "SUP FQDN"
kind = "host"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "Updates"

[[feature]]
id = "cloud"
title = "Cloud"
page = "p"
section = "Cloud"

[[feature]]
id = "intune"
title = "Intune"
page = "p"
section = "Intune"
external = [{ title = "Intune endpoints", url = "https://example.test/intune" }]

[[feature]]
id = "new"
title = "Only from 2603"
page = "p"
section = "New"
since_version = 2603
external = [{ title = "New list", url = "https://example.test/new" }]

[[endpoint]]
id = "u-any"
host = "*.manage.example.com"
features = ["updates"]
roles = ["scp"]
schemes = ["https", "http"]

[[endpoint]]
id = "u-download"
host = "download.example.com"
features = ["updates"]
roles = ["scp"]

[[endpoint]]
id = "c-download"
url = "http://Download.Example.com"
features = ["cloud"]
roles = ["client"]
assumed = ["roles"]

[[endpoint]]
id = "c-service-public"
host = "<prefix>.cloudapp.example.com"
features = ["cloud"]
roles = ["client"]
cloud = "public"

[[endpoint]]
id = "c-service-usgov"
host = "<prefix>.usgov.example.com"
features = ["cloud"]
roles = ["client"]
cloud = "usgov"

[[endpoint]]
id = "c-graph"
url = "https://graph.example.com/"
features = ["cloud"]
since_version = 1902

[[endpoint]]
id = "c-old-graph"
url = "https://oldgraph.example.com/"
features = ["cloud"]
until_version = 1810

[[endpoint]]
id = "u-old-bits"
host = "bits.old.example"
features = ["updates"]
roles = ["scp"]
superseded_by = "u-new-bits"
superseded_from = 2025-03-01
alternatives = "bits"

[[endpoint]]
id = "u-new-bits"
host = "bits.new.example"
features = ["updates"]
roles = ["scp"]
alternatives = "bits"

[[endpoint]]
id = "u-file-new"
url = "https://files.example.com/new.cab"
features = ["updates"]
valid_from = 2021-03-02

[[endpoint]]
id = "u-file-old"
url = "https://files.example.com/old.cab"
features = ["updates"]
valid_until = 2021-03-02

[[endpoint]]
id = "sup"
url = "https://<sup>"
features = ["updates"]
direction = "intranet"
"#;

fn catalog() -> Catalog {
    catalog::load(&SourceFile::new("demo.toml", CATALOG)).unwrap_or_else(|e| panic!("{e}"))
}

fn request() -> Request {
    Request {
        cloud: Cloud::Public,
        version: None,
        as_of: date(2025, 6, 1),
        features: None,
        roles: Vec::new(),
        placeholders: BTreeMap::new(),
        exclude: Default::default(),
    }
}

/// Resolves and compares the rows, one line each:
/// `host[path] schemes ports | features | roles | status`, assumed values
/// marked `*`; then `external:` and `missing:` lines.
#[track_caller]
fn check(request: Request, expected: &[&str]) {
    let plan = plan::resolve(&catalog(), &request);
    let mark = |b: &Basis| if *b == Basis::Assumed { "*" } else { "" };
    let mut got: Vec<String> = plan
        .rows
        .iter()
        .map(|r| {
            let schemes: Vec<String> = r
                .schemes
                .iter()
                .map(|(s, b)| format!("{s}{}", mark(b)))
                .collect();
            let ports: Vec<String> = r
                .ports
                .iter()
                .map(|(p, b)| format!("{p}{}", mark(b)))
                .collect();
            let roles: Vec<String> = r
                .roles()
                .iter()
                .map(|(x, b)| format!("{x}{}", mark(b)))
                .collect();
            let mut status = r.status.as_str().to_owned();
            if !r.versions.is_empty() {
                let v: Vec<String> = r.versions.iter().map(|v| v.to_string()).collect();
                status = format!("{status} ({})", v.join("; "));
            }
            format!(
                "{}{} {} {} | {} | {} | {status}",
                r.host,
                r.path.as_deref().unwrap_or(""),
                schemes.join(","),
                ports.join(","),
                r.features().join(","),
                roles.join(","),
            )
        })
        .collect();
    got.extend(
        plan.external
            .iter()
            .map(|x| format!("external: {} {}", x.feature, x.url)),
    );
    got.extend(plan.missing.iter().map(|m| {
        format!(
            "missing: <{}> {} {}",
            m.name,
            m.profile_key,
            m.endpoints.join(",")
        )
    }));
    got.extend(
        plan.excluded
            .iter()
            .map(|x| format!("excluded: {} {}", x.endpoint, x.reason)),
    );
    assert_eq!(got, expected, "\ngot:\n{}", got.join("\n"));
}

/// One row's requirements, one line each: `feature@role pairs status
/// endpoint`.
#[track_caller]
fn check_requirements(request: Request, host: &str, expected: &[&str]) {
    let plan = plan::resolve(&catalog(), &request);
    let row = plan
        .rows
        .iter()
        .find(|r| r.host == host)
        .unwrap_or_else(|| panic!("no row {host}"));
    let got: Vec<String> = row
        .requirements
        .iter()
        .map(|r| {
            let pairs: Vec<String> = r.pairs.iter().map(|(s, p)| format!("{s}:{p}")).collect();
            format!(
                "{}@{} {} {} {}",
                r.feature,
                r.role,
                pairs.join(","),
                r.status.as_str(),
                r.endpoint
            )
        })
        .collect();
    assert_eq!(got, expected, "\ngot:\n{}", got.join("\n"));
}

/// A host that one feature and role needs on HTTPS and another on
/// plain HTTP keeps the two needs apart; a plan for one role keeps only
/// that role's.
#[test]
fn requirements_keep_who_needs_which_port() {
    check_requirements(
        request(),
        "download.example.com",
        &[
            "updates@scp https:443 required u-download",
            "cloud@client http:80 required c-download",
        ],
    );
    let mut scp = request();
    scp.roles = vec!["scp".to_owned()];
    check_requirements(
        scp.clone(),
        "download.example.com",
        &["updates@scp https:443 required u-download"],
    );
    // A role-less endpoint (`unspecified`) stays for any role.
    check_requirements(
        scp,
        "graph.example.com",
        &["cloud@unspecified https:443 required c-graph"],
    );
    // Superseded and in-force needs of one row keep their own status.
    check_requirements(
        request(),
        "files.example.com",
        &["updates@unspecified https:443 required u-file-new"],
    );
    check_requirements(
        request(),
        "bits.old.example",
        &["updates@scp https:443 superseded u-old-bits"],
    );
}

#[test]
fn everything_without_a_profile() {
    check(
        request(),
        &[
            "<prefix>.cloudapp.example.com https* 443* | cloud | client | needs-input",
            "download.example.com http,https* 80,443* | updates,cloud | client*,scp | required",
            "files.example.com/new.cab https 443 | updates | unspecified | required",
            "files.example.com/old.cab https 443 | updates | unspecified | expired",
            "graph.example.com https 443 | cloud | unspecified | required (version 1902 and later)",
            "*.manage.example.com http,https 80,443 | updates | scp | required",
            "oldgraph.example.com https 443 | cloud | unspecified | required (version 1810 and earlier)",
            "bits.new.example https* 443* | updates | scp | required",
            "bits.old.example https* 443* | updates | scp | superseded",
            "<sup> https 443 | updates | unspecified | needs-input",
            "external: intune https://example.test/intune",
            "external: new https://example.test/new",
            "missing: <prefix> placeholders.prefix c-service-public",
            "missing: <sup> placeholders.sup sup",
        ],
    );
}

#[test]
fn placeholders_clouds_and_versions() {
    let mut r = request();
    r.cloud = Cloud::UsGov;
    r.version = Some(2403);
    r.features = Some(vec!["cloud".into(), "new".into()]);
    r.placeholders
        .insert("prefix".into(), "GraniteFalls".into());
    check(
        r,
        &[
            "download.example.com http 80 | cloud | client* | required",
            "graph.example.com https 443 | cloud | unspecified | required",
            "granitefalls.usgov.example.com https* 443* | cloud | client | required",
            "excluded: c-old-graph applies to version 1810 and earlier, the site runs 2403",
        ],
    );
}

#[test]
fn a_feature_outside_its_versions_is_left_out() {
    let mut r = request();
    r.version = Some(2509);
    r.features = Some(vec!["new".into()]);
    check(r, &[]);
}

#[test]
fn dates_decide_supersession_and_validity() {
    let mut r = request();
    r.as_of = date(2021, 1, 1);
    r.features = Some(vec!["updates".into()]);
    r.roles = vec!["scp".into()];
    check(
        r,
        &[
            "download.example.com https* 443* | updates | scp | required",
            "files.example.com/new.cab https 443 | updates | unspecified | not-yet-valid",
            "files.example.com/old.cab https 443 | updates | unspecified | required",
            "*.manage.example.com http,https 80,443 | updates | scp | required",
            "bits.new.example https* 443* | updates | scp | required",
            "bits.old.example https* 443* | updates | scp | required",
            "<sup> https 443 | updates | unspecified | needs-input",
            "missing: <sup> placeholders.sup sup",
        ],
    );
}

#[test]
fn roles_keep_unspecified_endpoints() {
    let mut r = request();
    r.roles = vec!["client".into()];
    r.features = Some(vec!["cloud".into()]);
    r.placeholders.insert("prefix".into(), "gf".into());
    check(
        r,
        &[
            "gf.cloudapp.example.com https* 443* | cloud | client | required",
            "download.example.com http 80 | cloud | client* | required",
            "graph.example.com https 443 | cloud | unspecified | required (version 1902 and later)",
            "oldgraph.example.com https 443 | cloud | unspecified | required (version 1810 and earlier)",
        ],
    );
}

#[test]
fn intranet_placeholder_resolves() {
    let mut r = request();
    r.features = Some(vec!["updates".into()]);
    r.roles = vec!["nobody".into()];
    r.placeholders
        .insert("sup".into(), "SUP01.Contoso.com".into());
    check(
        r,
        &[
            "files.example.com/new.cab https 443 | updates | unspecified | required",
            "files.example.com/old.cab https 443 | updates | unspecified | expired",
            "sup01.contoso.com https 443 | updates | unspecified | required",
        ],
    );
}

/// A site's exclusions leave features and endpoints out, and
/// the plan says which.
#[test]
fn exclusions_leave_features_and_endpoints_out_and_say_so() {
    let mut r = request();
    r.exclude.features = vec!["cloud".into()];
    r.exclude.endpoints = vec!["u-any".into()];
    let plan = plan::resolve(&catalog(), &r);
    let hosts: Vec<&str> = plan.rows.iter().map(|r| r.host.as_str()).collect();
    assert!(!hosts.contains(&"*.manage.example.com"), "{hosts:?}");
    assert!(!hosts.contains(&"graph.example.com"), "{hosts:?}");
    let download = plan
        .rows
        .iter()
        .find(|r| r.host == "download.example.com")
        .unwrap();
    assert_eq!(download.features(), ["updates"]);
    assert!(
        plan.excluded
            .iter()
            .any(|x| x.endpoint == "u-any" && x.reason.contains("excluded by the site"))
    );
    assert!(plan.external.iter().all(|x| x.feature != "cloud"));
}
