//! Holds each embedded revision against a hand-written list of the
//! endpoints its page names, per feature, so that a later edit cannot drop
//! or add one silently. The lists are copied from the pages in
//! `../shared/reference/` (placeholders renamed as the catalog declares
//! them), not from the catalog.

use egress_catalog::catalog::{Basis, Catalog, Cloud, CloudScope, Direction, Scheme};
use egress_catalog::embedded;

fn revision(name: &str) -> Catalog {
    embedded::revision(name)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no embedded revision {name}"))
}

/// The endpoints of one feature, as `target` strings, in page order.
#[track_caller]
fn check(catalog: &Catalog, feature: &str, expected: &[&str]) {
    assert!(catalog.feature(feature).is_some(), "no feature {feature}");
    let got: Vec<String> = catalog
        .endpoints
        .iter()
        .filter(|e| e.features.iter().any(|f| f == feature))
        .map(|e| e.destination.to_string())
        .collect();
    assert_eq!(
        got, expected,
        "feature {feature} of {}",
        catalog.meta.revision
    );
}

/// Every feature of the revision is checked by one of the lists.
#[track_caller]
fn check_features(catalog: &Catalog, expected: &[&str]) {
    let got: Vec<&str> = catalog.features.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(got, expected);
}

const SOFTWARE_UPDATES_2020: &[&str] = &[
    "http://windowsupdate.microsoft.com",
    "http://*.windowsupdate.microsoft.com",
    "https://*.windowsupdate.microsoft.com",
    "http://*.update.microsoft.com",
    "https://*.update.microsoft.com",
    "http://*.windowsupdate.com",
    "http://download.windowsupdate.com",
    "http://download.microsoft.com",
    "http://*.download.windowsupdate.com",
    "http://test.stats.update.microsoft.com",
    "http://ntservicepack.microsoft.com",
];

const INTRANET: &[&str] = &[
    "http://<child-sup-fqdn>",
    "https://<child-sup-fqdn>",
    "http://<parent-sup-fqdn>",
    "https://<parent-sup-fqdn>",
];

#[test]
fn revision_2020_07() {
    let c = revision("2020-07");
    check_features(
        &c,
        &[
            "url-forwarding",
            "service-connection-point",
            "updates-and-servicing",
            "windows-servicing",
            "azure-services",
            "co-management",
            "store-for-business",
            "delivery-optimization",
            "cloud-services",
            "software-updates",
            "software-updates-intranet",
            "microsoft-365-apps",
            "console-feedback",
            "console-documentation",
            "community-hub",
            "geographical-view",
            "desktop-analytics",
            "tenant-attach",
            "endpoint-analytics",
            "asset-intelligence",
        ],
    );
    check(
        &c,
        "url-forwarding",
        &["https://aka.ms", "https://go.microsoft.com"],
    );
    check(
        &c,
        "service-connection-point",
        &["go.microsoft.com", "manage.microsoft.com"],
    );
    check(
        &c,
        "updates-and-servicing",
        &[
            "*.akamaiedge.net",
            "*.akamaitechnologies.com",
            "*.manage.microsoft.com",
            "go.microsoft.com",
            "*.blob.core.windows.net",
            "download.microsoft.com",
            "download.windowsupdate.com",
            "sccmconnected-a01.cloudapp.net",
            "configmgrbits.azureedge.net",
        ],
    );
    check(
        &c,
        "windows-servicing",
        &[
            "download.microsoft.com",
            "https://go.microsoft.com/fwlink/?LinkID=619849",
            "dl.delivery.mp.microsoft.com",
        ],
    );
    check(
        &c,
        "azure-services",
        &["management.azure.com", "management.usgovcloudapi.net"],
    );
    check(&c, "co-management", &[]);
    check(&c, "store-for-business", &[]);
    check(&c, "delivery-optimization", &["*.do.dsp.mp.microsoft.com"]);
    check(
        &c,
        "cloud-services",
        &[
            "management.azure.com",
            "management.usgovcloudapi.net",
            "https://graph.microsoft.com",
            "https://graph.windows.net",
            "<cmg-name>.cloudapp.net",
            "<cmg-name>.usgovcloudapp.net",
            "https://management.core.windows.net",
            "<cmg-name>.blob.core.windows.net",
            "<cmg-name>.blob.core.usgovcloudapi.net",
            "<cmg-name>.cloudapp.net",
            "<cmg-name>.usgovcloudapp.net",
            "<cmg-name>.blob.core.windows.net",
            "<cmg-name>.blob.core.usgovcloudapi.net",
            "login.microsoftonline.com",
            "login.microsoftonline.us",
            "login.microsoftonline.com",
            "aadcdn.msauth.net",
            "aadcdn.msftauth.net",
            "login.microsoftonline.us",
        ],
    );
    check(&c, "software-updates", SOFTWARE_UPDATES_2020);
    check(&c, "software-updates-intranet", INTRANET);
    check(
        &c,
        "microsoft-365-apps",
        &[
            "officecdn.microsoft.com",
            "config.office.com",
            "contentstorage.osi.office.net",
        ],
    );
    check(
        &c,
        "console-feedback",
        &["http://petrol.office.microsoft.com"],
    );
    check(
        &c,
        "console-documentation",
        &["https://aka.ms", "https://raw.githubusercontent.com"],
    );
    check(
        &c,
        "community-hub",
        &["https://github.com", "https://communityhub.microsoft.com"],
    );
    check(&c, "geographical-view", &["http://maps.bing.com"]);
    check(&c, "desktop-analytics", &[]);
    check(&c, "tenant-attach", &[]);
    check(&c, "endpoint-analytics", &[]);
    check(
        &c,
        "asset-intelligence",
        &[
            "https://sc.microsoft.com",
            "https://ssu2.manage.microsoft.com",
        ],
    );
    for f in [
        "co-management",
        "store-for-business",
        "desktop-analytics",
        "tenant-attach",
        "endpoint-analytics",
    ] {
        assert_eq!(
            c.feature(f).unwrap().external.len(),
            1,
            "{f} links an external list"
        );
    }
}

#[test]
fn revision_2025_03() {
    let c = revision("latest");
    assert_eq!(c.meta.revision, "2025-03");
    check_features(
        &c,
        &[
            "url-forwarding",
            "service-connection-point",
            "updates-and-servicing",
            "windows-servicing",
            "azure-services",
            "co-management",
            "store-for-business",
            "delivery-optimization",
            "cloud-services",
            "software-updates",
            "software-updates-intranet",
            "microsoft-365-apps",
            "console-notifications",
            "console-feedback",
            "console-documentation",
            "community-hub",
            "tenant-attach",
            "certificate-revocation",
            "endpoint-analytics",
            "asset-intelligence",
            "deploy-edge",
            "external-notifications",
            "management-point",
        ],
    );
    check(
        &c,
        "url-forwarding",
        &["https://aka.ms", "https://go.microsoft.com"],
    );
    check(
        &c,
        "service-connection-point",
        &["go.microsoft.com", "manage.microsoft.com"],
    );
    check(
        &c,
        "updates-and-servicing",
        &[
            "*.akamaiedge.net",
            "*.akamaitechnologies.com",
            "*.manage.microsoft.com",
            "go.microsoft.com",
            "download.microsoft.com",
            "download.windowsupdate.com",
            "download.visualstudio.microsoft.com",
            "definitionupdates.microsoft.com",
            "configmgrbits.azureedge.net",
            "configmgrbits.cdn.manage.microsoft.com",
            // Listed twice on the page (lines 61 and 75): one endpoint.
            "cmbitsstore.blob.core.windows.net",
            "ceuswatcab01.blob.core.windows.net",
            "ceuswatcab02.blob.core.windows.net",
            "eaus2watcab01.blob.core.windows.net",
            "eaus2watcab02.blob.core.windows.net",
            "weus2watcab01.blob.core.windows.net",
            "weus2watcab02.blob.core.windows.net",
            "umwatsonc.events.data.microsoft.com",
            "*-umwatsonc.events.data.microsoft.com",
        ],
    );
    check(
        &c,
        "windows-servicing",
        &[
            "download.microsoft.com",
            "https://go.microsoft.com/fwlink/?LinkID=619849",
            "dl.delivery.mp.microsoft.com",
        ],
    );
    check(
        &c,
        "azure-services",
        &["management.azure.com", "management.usgovcloudapi.net"],
    );
    check(&c, "co-management", &[]);
    check(&c, "store-for-business", &[]);
    check(&c, "delivery-optimization", &["*.do.dsp.mp.microsoft.com"]);
    check(
        &c,
        "cloud-services",
        &[
            "management.azure.com",
            "management.usgovcloudapi.net",
            "https://graph.microsoft.com",
            "<cmg-name>.<cmg-region>.cloudapp.azure.com",
            "<cmg-name>.usgovcloudapp.net",
            "<cmg-name>.blob.core.windows.net",
            "<cmg-name>.blob.core.usgovcloudapi.net",
            "<cmg-name>.table.core.windows.net",
            "<cmg-name>.table.core.usgovcloudapi.net",
            "<cmg-name>.vault.azure.net",
            "<cmg-name>.vault.usgovcloudapi.net",
            "<cmg-name>.<cmg-region>.cloudapp.azure.com",
            "<cmg-name>.usgovcloudapp.net",
            "<cmg-name>.blob.core.windows.net",
            "<cmg-name>.blob.core.usgovcloudapi.net",
            "login.microsoftonline.com",
            "login.microsoftonline.us",
            "login.microsoftonline.com",
            "aadcdn.msauth.net",
            "aadcdn.msftauth.net",
            "login.microsoftonline.us",
        ],
    );
    let sum: Vec<&str> = SOFTWARE_UPDATES_2020
        .iter()
        .copied()
        .filter(|u| *u != "http://test.stats.update.microsoft.com")
        .collect();
    check(&c, "software-updates", &sum);
    check(&c, "software-updates-intranet", INTRANET);
    check(
        &c,
        "microsoft-365-apps",
        &[
            "officecdn.microsoft.com",
            "config.office.com",
            // Listed twice on the page (lines 182 and 186): one endpoint.
            "https://clients.config.office.net",
            "https://go.microsoft.com/fwlink/?linkid=2190568",
            "contentstorage.osi.office.net",
            "https://omex.cdn.office.net/mirrored/sccmreadiness/SOT_SCCM_AddinReadiness.CAB",
            "https://contentstorage.osi.office.net/sccmreadinessppe/sot_sccm_addinreadiness.cab",
        ],
    );
    check(
        &c,
        "console-notifications",
        &["configmgrbits.cdn.manage.microsoft.com"],
    );
    check(
        &c,
        "console-feedback",
        &[
            "petrol.office.microsoft.com",
            "ceuswatcab01.blob.core.windows.net",
            "ceuswatcab02.blob.core.windows.net",
            "eaus2watcab01.blob.core.windows.net",
            "eaus2watcab02.blob.core.windows.net",
            "weus2watcab01.blob.core.windows.net",
            "weus2watcab02.blob.core.windows.net",
            "umwatsonc.events.data.microsoft.com",
            "*-umwatsonc.events.data.microsoft.com",
        ],
    );
    check(
        &c,
        "console-documentation",
        &["https://aka.ms", "https://raw.githubusercontent.com"],
    );
    check(
        &c,
        "community-hub",
        &["https://github.com", "https://communityhub.microsoft.com"],
    );
    check(
        &c,
        "tenant-attach",
        &[
            "https://aka.ms/configmgrgateway",
            "https://*.manage.microsoft.com",
            "https://*.manage.microsoft.us",
            "https://dc.services.visualstudio.com",
        ],
    );
    check(
        &c,
        "certificate-revocation",
        &[
            "http://crl3.digicert.com",
            "http://crl4.digicert.com",
            "http://ocsp.digicert.com",
            "http://www.d-trust.net",
            "http://root-c3-ca2-2009.ocsp.d-trust.net",
            "http://crl.microsoft.com",
            "http://oneocsp.microsoft.com",
            "http://ocsp.msocsp.com",
            "http://www.microsoft.com/pkiops",
        ],
    );
    check(
        &c,
        "endpoint-analytics",
        &[
            "https://graph.windows.net",
            "https://*.manage.microsoft.com",
            "https://*.events.data.microsoft.com",
        ],
    );
    check(
        &c,
        "asset-intelligence",
        &[
            "https://sc.microsoft.com",
            "https://ssu2.manage.microsoft.com",
        ],
    );
    check(
        &c,
        "deploy-edge",
        &[
            "https://aka.ms/cmedgeapi",
            "https://edgeupdates.microsoft.com/api/products?view=enterprise",
            "http://dl.delivery.mp.microsoft.com",
        ],
    );
    check(
        &c,
        "external-notifications",
        &["https://*.<logic-app-region>.logic.azure.com:443"],
    );
    check(&c, "management-point", &[]);
    let mp = c.feature("management-point").unwrap();
    assert_eq!(mp.versions.since, Some(2603));
    assert_eq!(mp.external.len(), 1);
}

/// The attributes the pages state or imply, endpoint by endpoint.
#[track_caller]
fn check_attrs(
    catalog: &Catalog,
    id: &str,
    cloud: CloudScope,
    roles: (&[&str], Basis),
    schemes: (&[Scheme], Basis),
    ports: (&[u16], Basis),
) {
    let e = catalog
        .endpoint(id)
        .unwrap_or_else(|| panic!("no endpoint {id}"));
    let r: Vec<&str> = e.roles.value.iter().map(String::as_str).collect();
    assert_eq!(e.cloud, cloud, "{id} cloud");
    assert_eq!((r.as_slice(), e.roles.basis), roles, "{id} roles");
    assert_eq!(
        (e.schemes.value.as_slice(), e.schemes.basis),
        schemes,
        "{id} schemes"
    );
    assert_eq!(
        (e.ports.value.as_slice(), e.ports.basis),
        ports,
        "{id} ports"
    );
}

#[test]
fn attributes() {
    use Basis::*;
    use CloudScope::*;
    use Scheme::*;
    let scp: &[&str] = &["service-connection-point"];
    let old = revision("2020-07");
    // The 2020 SCP section states TCP 443 for HTTPS and TCP 80 for HTTP.
    check_attrs(
        &old,
        "uas-akamaiedge-net",
        All,
        (scp, Stated),
        (&[Https, Http], Stated),
        (&[443, 80], Stated),
    );
    check_attrs(
        &old,
        "az-management-usgovcloudapi-net",
        Only(Cloud::UsGov),
        (scp, Stated),
        (&[Https, Http], Stated),
        (&[443, 80], Stated),
    );
    check_attrs(
        &old,
        "do-dsp-mp-microsoft-com",
        All,
        (&["client", "distribution-point"], Stated),
        (&[Https], Assumed),
        (&[443], Assumed),
    );
    check_attrs(
        &old,
        "sum-any-windowsupdate-com",
        All,
        (&["software-update-point"], Stated),
        (&[Http], Stated),
        (&[80], Stated),
    );
    check_attrs(
        &old,
        "ai-sc-microsoft-com",
        All,
        (&["asset-intelligence-sync-point"], Assumed),
        (&[Https], Stated),
        (&[443], Stated),
    );
    check_attrs(
        &old,
        "m365-config-office-com",
        All,
        (&["unspecified"], Stated),
        (&[Https], Assumed),
        (&[443], Assumed),
    );
    assert_eq!(
        old.endpoint("cs-scp-graph-microsoft-com")
            .unwrap()
            .versions
            .since,
        Some(1902)
    );
    assert_eq!(
        old.endpoint("cs-scp-graph-windows-net")
            .unwrap()
            .versions
            .until,
        Some(1810)
    );

    let new = revision("2025-03");
    // The current SCP include states HTTPS on TCP 443 only.
    check_attrs(
        &new,
        "uas-any-akamaiedge-net",
        All,
        (scp, Stated),
        (&[Https], Stated),
        (&[443], Stated),
    );
    check_attrs(
        &new,
        "cs-client-deployment-public",
        Only(Cloud::Public),
        (&["client"], Stated),
        (&[Https], Assumed),
        (&[443], Assumed),
    );
    check_attrs(
        &new,
        "cs-cmgcp-vault-usgov",
        Only(Cloud::UsGov),
        (&["cmg-connection-point"], Stated),
        (&[Https], Assumed),
        (&[443], Assumed),
    );
    check_attrs(
        &new,
        "notify-logic-app",
        All,
        (scp, Stated),
        (&[Https], Stated),
        (&[443], Stated),
    );
    check_attrs(
        &new,
        "ea-any-events-data-microsoft-com",
        All,
        (&["intune-managed-device"], Stated),
        (&[Https], Stated),
        (&[443], Stated),
    );
    check_attrs(
        &new,
        "m365-readiness-file",
        All,
        (&["top-level-site-server"], Stated),
        (&[Https], Stated),
        (&[443], Stated),
    );

    let us = new.endpoint("ta-any-manage-microsoft-us").unwrap();
    assert_eq!(
        (us.cloud, us.versions.since),
        (Only(Cloud::UsGov), Some(2107))
    );
    let ta = new.endpoint("ta-any-manage-microsoft-com").unwrap();
    assert_eq!(ta.min_proxy_idle_timeout_secs, Some(180));
    let cdn = new.endpoint("uas-configmgrbits-cdn").unwrap();
    assert_eq!(cdn.tls_versions.len(), 1);
    let edge = new.endpoint("uas-configmgrbits-azureedge").unwrap();
    let s = edge.superseded.as_ref().unwrap();
    assert_eq!(
        (s.by.as_str(), s.from.map(|d| d.to_string())),
        ("uas-configmgrbits-cdn", Some("2025-03-01".into()))
    );
    let readiness = new
        .endpoint("m365-readiness-file-before-2021-03-02")
        .unwrap();
    assert_eq!(
        readiness.valid.until.map(|d| d.to_string()).as_deref(),
        Some("2021-03-02")
    );
    assert_eq!(
        new.endpoint("m365-readiness-file")
            .unwrap()
            .valid
            .from
            .map(|d| d.to_string())
            .as_deref(),
        Some("2021-03-02")
    );
    for id in ["sum-intranet-child-http", "sum-intranet-parent-https"] {
        assert_eq!(new.endpoint(id).unwrap().direction, Direction::Intranet);
    }
    let scp_tip = new.endpoint("scp-manage-microsoft-com").unwrap();
    assert!(
        scp_tip
            .notes
            .iter()
            .any(|n| n.contains("Baltimore CyberTrust Root"))
    );
}

/// Every endpoint names the page line it comes from, and that line of the
/// reference page (when present beside the project) contains the host.
#[test]
fn provenance_points_at_the_page() {
    let Some(reference) = egress_test_support::reference::pages() else {
        return;
    };
    for c in embedded::all().unwrap() {
        for e in &c.endpoints {
            let source = e
                .source
                .as_ref()
                .unwrap_or_else(|| panic!("{} has no source", e.id));
            let page = c.pages.iter().find(|p| p.id == source.page).unwrap();
            let Some(path) = local_copy(&reference, &c.meta.revision, page.path.as_deref()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let line = text.lines().nth(source.line as usize - 1).unwrap_or("");
            let mut expected = source
                .text
                .clone()
                .unwrap_or_else(|| e.destination.host().to_string());
            for p in &c.placeholders {
                expected = expected.replace(&format!("<{}>", p.name), &p.as_written[0]);
            }
            assert!(
                line.to_lowercase().contains(&expected.to_lowercase()),
                "{}: line {} of {} does not name `{expected}`: {line}",
                e.id,
                source.line,
                path.display()
            );
        }
    }
}

fn local_copy(
    reference: &std::path::Path,
    revision: &str,
    path: Option<&str>,
) -> Option<std::path::PathBuf> {
    let name = path?.rsplit('/').next()?;
    Some(match (revision, name) {
        ("2020-07", _) => reference.join("internet-endpoints.2020-07.en-US.md"),
        (_, "internet-endpoints.md" | "proxy-server-support.md") => {
            reference.join("current").join(name)
        }
        _ => reference.join("current/includes").join(name),
    })
}
