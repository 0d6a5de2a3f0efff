//! `explain`: inputs, matches across revisions, near misses and plan
//! verdicts, on the embedded catalogs.

use std::collections::BTreeMap;
use std::sync::Arc;

use egress_catalog::Catalog;
use egress_catalog::catalog::Cloud;
use egress_catalog::embedded;
use egress_catalog::explain::{Explainer, Input, Placeholders};
use egress_catalog::plan::{self, Request};
use jiff::civil::date;

/// Host, scheme, port and path of a parsed input.
type Parts<'a> = (&'a str, Option<&'a str>, Option<u16>, Option<&'a str>);

#[track_caller]
fn check_input(text: &str, expected: Result<Parts<'_>, &str>) {
    let got = Input::parse(text)
        .map(|i| {
            (
                i.host.to_string(),
                i.scheme.map(|s| s.as_str()),
                i.port,
                i.path,
            )
        })
        .map_err(|e| e.to_string());
    let expected = expected
        .map(|(h, s, p, path)| (h.to_owned(), s, p, path.map(str::to_owned)))
        .map_err(str::to_owned);
    assert_eq!(got, expected, "{text}");
}

#[test]
fn inputs() {
    check_input(
        "Go.Microsoft.com.",
        Ok(("go.microsoft.com", None, None, None)),
    );
    check_input(
        "download.microsoft.com:8443",
        Ok(("download.microsoft.com", None, Some(8443), None)),
    );
    check_input(
        "http://maps.bing.com",
        Ok(("maps.bing.com", Some("http"), Some(80), None)),
    );
    check_input(
        "https://go.microsoft.com/fwlink/?LinkID=619849",
        Ok((
            "go.microsoft.com",
            Some("https"),
            Some(443),
            Some("/fwlink/?LinkID=619849"),
        )),
    );
    check_input(
        "HTTPS://x.example:444",
        Ok(("x.example", Some("https"), Some(444), None)),
    );
    check_input("[::1]:443", Ok(("[::1]", None, Some(443), None)));
    check_input("::1", Ok(("[::1]", None, None, None)));
    check_input("10.0.0.1:80", Ok(("10.0.0.1", None, Some(80), None)));
    check_input("  ", Err("empty input"));
    check_input(
        "ftp://x.example",
        Err("unsupported scheme `ftp`; expected http or https"),
    );
    check_input("x.example:0", Err("invalid port `0`; expected 1 to 65535"));
    check_input(
        "x.example:http",
        Err("invalid port `http`; expected 1 to 65535"),
    );
    check_input(
        "a..b",
        Err(
            "invalid host `a..b`: empty label: two dots in a row, or a dot at the start (at character 3)",
        ),
    );
}

/// Explains one input against both embedded revisions: the matches as
/// `revision:endpoint`, then `near miss: reason` or `plan: verdict`.
#[track_caller]
fn check(placeholders: Placeholders, request: Option<&Request>, input: &str, expected: &[&str]) {
    let catalogs: Vec<Arc<Catalog>> = embedded::all().unwrap().into_iter().map(Arc::new).collect();
    let latest = catalogs.iter().find(|c| c.answers_to("latest")).unwrap();
    let plan = request.map(|r| Arc::new(plan::resolve(latest, r)));
    let explainer = Explainer::new(&catalogs, plan, placeholders);
    let e = explainer.explain(&Input::parse(input).unwrap());
    let mut got: Vec<String> = e
        .matches
        .iter()
        .map(|m| {
            format!(
                "{}:{}{}",
                m.revision,
                m.endpoint,
                if m.via_placeholder {
                    " (placeholder)"
                } else {
                    ""
                }
            )
        })
        .collect();
    got.extend(e.near_miss.map(|n| format!("near miss: {}", n.reason)));
    got.extend(e.plan.map(|p| format!("plan: {} {}", p.allowed, p.reason)));
    assert_eq!(got, expected, "{input}");
}

use Placeholders::{AsWildcards, Unresolved};

#[test]
fn matches_across_revisions() {
    check(
        Unresolved,
        None,
        "ssu2.manage.microsoft.com",
        &[
            "2020-07:uas-manage-microsoft-com",
            "2020-07:ai-ssu2-manage-microsoft-com",
            "2025-03:uas-any-manage-microsoft-com",
            "2025-03:ta-any-manage-microsoft-com",
            "2025-03:ea-any-manage-microsoft-com",
            "2025-03:ai-ssu2-manage-microsoft-com",
        ],
    );
    check(
        Unresolved,
        None,
        "test.stats.update.microsoft.com",
        &[
            "2020-07:sum-any-update-microsoft-com-http",
            "2020-07:sum-any-update-microsoft-com-https",
            "2020-07:sum-test-stats-update-microsoft-com",
            "2025-03:sum-any-update-microsoft-com-http",
            "2025-03:sum-any-update-microsoft-com-https",
        ],
    );
    check(
        Unresolved,
        None,
        "definitionupdates.microsoft.com",
        &["2025-03:uas-definitionupdates-microsoft-com"],
    );
    check(
        Unresolved,
        None,
        "eu-umwatsonc.events.data.microsoft.com",
        &[
            "2025-03:uas-any-umwatsonc",
            "2025-03:console-any-umwatsonc",
            "2025-03:ea-any-events-data-microsoft-com",
        ],
    );
}

#[test]
fn ports_and_schemes_must_fit() {
    check(
        Unresolved,
        None,
        "http://maps.bing.com",
        &["2020-07:console-maps-bing"],
    );
    check(
        Unresolved,
        None,
        "https://maps.bing.com",
        &[
            "near miss: scheme https is not among the schemes the catalog names for `maps.bing.com` (http)",
        ],
    );
    check(
        Unresolved,
        None,
        "download.microsoft.com:8443",
        &[
            "near miss: port 8443 is not among the ports the catalog names for `download.microsoft.com` (443, 80)",
        ],
    );
}

#[test]
fn near_misses_say_why() {
    check(
        Unresolved,
        None,
        "windowsupdate.com",
        &[
            "near miss: `windowsupdate.com` is not covered by `*.windowsupdate.com`: a wildcard never includes its own apex",
        ],
    );
    check(
        Unresolved,
        None,
        "x.manage.microsoft.com.evil.test",
        &[
            "near miss: `x.manage.microsoft.com.evil.test` ends in `.evil.test`: without it, `x.manage.microsoft.com` would match `*.manage.microsoft.com`; a pattern matches whole labels at the end of a name",
        ],
    );
    check(
        Unresolved,
        None,
        "evilwindowsupdate.microsoft.com",
        &[
            "near miss: `evilwindowsupdate.microsoft.com` is not `windowsupdate.microsoft.com`: exact patterns match the whole name, label for label",
        ],
    );
    check(Unresolved, None, "nothing.example", &[]);
    check(Unresolved, None, "10.0.0.1", &[]);
}

#[test]
fn placeholders_stand_for_one_label_only_when_asked() {
    let host = "granitefalls.westus.cloudapp.azure.com";
    check(Unresolved, None, host, &[]);
    check(
        AsWildcards,
        None,
        host,
        &[
            "2025-03:cs-cmgcp-service-public (placeholder)",
            "2025-03:cs-client-deployment-public (placeholder)",
        ],
    );
    // One label, never two; a host placeholder never matches.
    check(AsWildcards, None, "a.b.westus.cloudapp.azure.com", &[]);
    check(AsWildcards, None, "sup01.contoso.com", &[]);
}

#[test]
fn plan_verdicts() {
    let request = Request {
        cloud: Cloud::Public,
        version: Some(2403),
        as_of: date(2026, 1, 15),
        features: Some(vec![
            "updates-and-servicing".into(),
            "cloud-services".into(),
        ]),
        roles: Vec::new(),
        placeholders: BTreeMap::from([
            ("cmg-name".into(), "GraniteFalls".into()),
            ("cmg-region".into(), "westus".into()),
        ]),
        exclude: Default::default(),
    };
    let r = Some(&request);
    // The profile's placeholder values resolve the templates.
    check(
        Unresolved,
        r,
        "granitefalls.westus.cloudapp.azure.com",
        &[
            "2025-03:cs-cmgcp-service-public",
            "2025-03:cs-client-deployment-public",
            "plan: true the plan allows it for cloud-services (as cmg-connection-point, client)",
        ],
    );
    check(
        Unresolved,
        r,
        "configmgrbits.azureedge.net",
        &[
            "2020-07:uas-configmgrbits-azureedge",
            "2025-03:uas-configmgrbits-azureedge",
            "plan: false the plan lists `configmgrbits.azureedge.net` as superseded",
        ],
    );
    check(
        Unresolved,
        r,
        "maps.bing.com",
        &[
            "2020-07:console-maps-bing",
            "plan: false the catalog lists it in revision 2020-07, the plan uses 2025-03",
        ],
    );
    check(
        Unresolved,
        r,
        "github.com",
        &[
            "2020-07:console-hub-github",
            "2025-03:console-hub-github",
            "plan: false the catalog lists it for community-hub (console), which the plan does not select (features, roles or cloud)",
        ],
    );
    check(
        Unresolved,
        r,
        "nothing.example",
        &["plan: false no catalog endpoint matches it"],
    );
}

/// A host two features need on different schemes is allowed on
/// each scheme for its own feature and role only.
#[test]
fn plan_verdicts_per_requirement() {
    let request = Request {
        cloud: Cloud::Public,
        version: Some(2403),
        as_of: date(2026, 1, 15),
        features: Some(vec![
            "updates-and-servicing".into(),
            "software-updates".into(),
        ]),
        roles: vec![
            "service-connection-point".into(),
            "software-update-point".into(),
        ],
        placeholders: BTreeMap::new(),
        exclude: Default::default(),
    };
    let catalogs: Vec<Arc<Catalog>> = embedded::all().unwrap().into_iter().map(Arc::new).collect();
    let latest = catalogs.iter().find(|c| c.answers_to("latest")).unwrap();
    let plan = Arc::new(plan::resolve(latest, &request));
    let explainer = Explainer::new(&catalogs, Some(plan), Unresolved);
    let check = |input: &str, allowed: bool, reason: &str| {
        let verdict = explainer
            .explain(&Input::parse(input).unwrap())
            .plan
            .unwrap();
        assert_eq!(
            (verdict.allowed, verdict.reason.as_str()),
            (allowed, reason),
            "{input}"
        );
    };
    check(
        "http://download.microsoft.com/",
        true,
        "the plan allows it for software-updates (as software-update-point)",
    );
    check(
        "https://download.microsoft.com/",
        true,
        "the plan allows it for updates-and-servicing (as service-connection-point)",
    );
    check(
        "download.microsoft.com",
        true,
        "the plan allows it for updates-and-servicing (as service-connection-point); software-updates (as software-update-point)",
    );
    check(
        "download.microsoft.com:8443",
        false,
        "the plan's `download.microsoft.com` allows http:80, https:443, not port 8443",
    );
}

/// A catalog with a plain-HTTP endpoint that names a path: a proxy sees
/// the path of plain HTTP, so `explain` holds it to the path;
/// over HTTPS only the host is visible.
#[test]
fn paths_of_plain_http_endpoints() {
    let text = egress_test_support::catalog_head("demo")
        + r#"
[[role]]
id = "client"
title = "Client"

[[feature]]
id = "feeds"
title = "Feeds"
page = "p"
section = "Feeds"

[[endpoint]]
id = "feed"
url = "http://feed.example.com/feed/"
features = ["feeds"]
"#;
    let file = egress_catalog::SourceFile::new("demo.toml", text);
    let catalogs = vec![Arc::new(egress_catalog::catalog::load(&file).unwrap())];
    let request = Request {
        cloud: Cloud::Public,
        version: None,
        as_of: date(2026, 1, 15),
        features: None,
        roles: Vec::new(),
        placeholders: BTreeMap::new(),
        exclude: Default::default(),
    };
    let plan = Arc::new(plan::resolve(&catalogs[0], &request));
    let explainer = Explainer::new(&catalogs, Some(plan), Placeholders::Unresolved);
    #[track_caller]
    fn check(explainer: &Explainer, input: &str, expected: &[&str]) {
        let e = explainer.explain(&Input::parse(input).unwrap());
        let mut got: Vec<String> = e.matches.iter().map(|m| m.endpoint.clone()).collect();
        got.extend(e.near_miss.map(|n| format!("near miss: {}", n.reason)));
        got.extend(e.plan.map(|p| format!("plan: {} {}", p.allowed, p.reason)));
        assert_eq!(got, expected, "{input}");
    }
    let allowed = [
        "feed",
        "plan: true the plan allows it for feeds (as unspecified)",
    ];
    check(&explainer, "http://feed.example.com/feed/", &allowed);
    check(
        &explainer,
        "http://feed.example.com/feed/x.cab?v=1",
        &allowed,
    );
    check(
        &explainer,
        "http://feed.example.com/other/../feed/x",
        &allowed,
    );
    check(&explainer, "feed.example.com", &allowed);
    check(
        &explainer,
        "http://feed.example.com/other/",
        &[
            "near miss: path `/other/` is not under `/feed/`, the path the catalog names for `feed.example.com`",
            "plan: false the plan's `feed.example.com` allows the path `/feed/` only, and `/other/` is not under it",
        ],
    );
    check(
        &explainer,
        "http://feed.example.com/feed/%2e%2e/admin",
        &[
            "near miss: path `/feed/%2e%2e/admin` is not under `/feed/`, the path the catalog names for `feed.example.com`",
            "plan: false the plan's `feed.example.com` allows the path `/feed/` only, and `/feed/%2e%2e/admin` is not under it",
        ],
    );
    check(
        &explainer,
        "http://feed.example.com",
        &[
            "near miss: path `/` is not under `/feed/`, the path the catalog names for `feed.example.com`",
            "plan: false the plan's `feed.example.com` allows the path `/feed/` only, and `/` is not under it",
        ],
    );
}
