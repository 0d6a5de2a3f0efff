//! The importer on small pages written for these tests (`tests/pages/`):
//! what becomes an endpoint, with which feature, role, scheme, cloud and
//! version, what is reported, and which pages are refused.

use std::path::{Path, PathBuf};

use egress_catalog::{SourceFile, catalog};
use egress_import::{Import, ImportError, RemarkKind, Request, import};

fn pages() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pages")
}

fn run(page: &str, includes: Option<&str>, revision: Option<&str>) -> Result<Import, ImportError> {
    // Relative paths keep messages free of the checkout's location.
    let base = pages();
    let mut read = |p: &Path| std::fs::read(base.join(p));
    let includes = includes.map(PathBuf::from);
    import(
        &Request {
            page: Path::new(page),
            includes: includes.as_deref(),
            revision,
        },
        &mut read,
    )
}

/// One line per endpoint: feature, target, role, schemes, cloud, versions,
/// and where it came from; the catalog must load as egress loads any other.
fn summary(import: &Import) -> String {
    catalog::load(&SourceFile::new("imported.toml", import.catalog.clone())).unwrap_or_else(|e| {
        panic!(
            "the imported catalog does not load: {e}\n{}",
            import.catalog
        )
    });
    let doc: toml::Table = toml::from_str(&import.catalog).unwrap();
    let pages: Vec<(String, String)> = doc["page"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let s = |v: Option<&toml::Value>| match v {
        Some(toml::Value::String(s)) => s.clone(),
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().unwrap_or("?"))
            .collect::<Vec<_>>()
            .join("+"),
        Some(toml::Value::Integer(i)) => i.to_string(),
        _ => "-".to_owned(),
    };
    let mut out = String::new();
    for e in doc["endpoint"].as_array().unwrap() {
        let source = &e["source"];
        let page = &pages
            .iter()
            .find(|(id, _)| id == source["page"].as_str().unwrap())
            .unwrap()
            .1;
        let versions = match (e.get("since_version"), e.get("until_version")) {
            (Some(s), _) => format!(">={s}"),
            (_, Some(u)) => format!("<={u}"),
            _ => "-".to_owned(),
        };
        out.push_str(&format!(
            "{} {} role={} schemes={} cloud={} v={} {}:{}\n",
            s(e.get("features")),
            s(e.get("host").or(e.get("url"))),
            s(e.get("roles")),
            s(e.get("schemes")),
            s(e.get("cloud")),
            versions,
            page,
            source["line"]
        ));
    }
    out
}

#[track_caller]
fn check(page: &str, expected: &str) {
    let import = run(page, None, None).unwrap_or_else(|e| panic!("{e}"));
    let got = summary(&import);
    assert_eq!(got.trim(), expected.trim(), "\n--- got:\n{got}");
}

#[track_caller]
fn check_remarks(page: &str, expected: &[(RemarkKind, &str, &str)]) {
    let import = run(page, None, None).unwrap_or_else(|e| panic!("{e}"));
    for (kind, text, why) in expected {
        assert!(
            import
                .remarks
                .iter()
                .any(|r| r.kind == *kind && r.text == *text && r.why.contains(why)),
            "no {kind:?} remark on `{text}` saying {why:?}; remarks: {:#?}",
            import.remarks
        );
    }
}

#[track_caller]
fn check_error(page: &str, includes: Option<&str>, expected: &str) {
    match run(page, includes, None) {
        Ok(import) => panic!("{page} imported:\n{}", import.catalog),
        Err(e) => assert_eq!(e.to_string(), expected),
    }
}

#[test]
fn endpoints_features_and_attributes() {
    check(
        "site.md",
        "
url-forwarding https://aka.ms role=- schemes=- cloud=- v=- site.md:11
url-forwarding https://go.microsoft.com role=- schemes=- cloud=- v=- site.md:12
updates-and-servicing *.manage.microsoft.com role=service-connection-point schemes=https+http cloud=- v=- site.md:25
updates-and-servicing download.microsoft.com role=service-connection-point schemes=https+http cloud=- v=- site.md:26
azure-services management.azure.com role=service-connection-point schemes=- cloud=public v=- site.md:31
azure-services management.usgovcloudapi.net role=service-connection-point schemes=- cloud=usgov v=- site.md:32
cloud-services <cmg-name>.<cmg-region>.cloudapp.azure.com role=cmg-connection-point schemes=- cloud=public v=- includes/cloud.md:10
cloud-services <cmg-name>.usgovcloudapp.net role=cmg-connection-point schemes=- cloud=usgov v=- includes/cloud.md:10
cloud-services login.microsoftonline.com role=cmg-connection-point schemes=- cloud=public v=- includes/cloud.md:11
cloud-services aadcdn.msauth.net role=cmg-connection-point schemes=- cloud=public v=- includes/cloud.md:11
cloud-services login.microsoftonline.us role=cmg-connection-point schemes=- cloud=usgov v=- includes/cloud.md:11
cloud-services important.example.com role=cmg-connection-point schemes=- cloud=- v=- includes/cloud.md:13
tenant-attach https://*.manage.microsoft.com role=service-connection-point schemes=- cloud=public v=- site.md:42
tenant-attach https://*.manage.microsoft.us role=service-connection-point schemes=- cloud=usgov v=>=2107 site.md:43
tenant-attach https://graph.microsoft.com/ role=service-connection-point schemes=- cloud=- v=>=1902 site.md:45
tenant-attach https://graph.windows.net/ role=service-connection-point schemes=- cloud=- v=<=1810 site.md:46
brand-new-feature new.example.com role=- schemes=- cloud=- v=- site.md:50
",
    );
}

#[test]
fn notes_placeholders_and_external_lists() {
    let import = run("site.md", None, None).unwrap();
    let c = &import.catalog;
    assert!(
        c.contains("IMPORTANT: This endpoint only supports TLS 1.2."),
        "{c}"
    );
    assert!(
        c.contains("to reach the new service from the console"),
        "{c}"
    );
    assert!(c.contains("as_written = [\"<prefix>\"]"), "{c}");
    assert!(
        c.contains("url = \"https://learn.example.com/intune-endpoints\""),
        "{c}"
    );
    assert!(
        c.contains("Listed more than once on the page (also on line 27)."),
        "{c}"
    );
    assert_eq!(import.revision, "2025-03");
    assert_eq!(import.files.len(), 2);
}

#[test]
fn everything_not_taken_is_reported() {
    use RemarkKind::*;
    check_remarks(
        "site.md",
        &[
            (NotTaken, "hidden.example.com", "HTML comment"),
            (NotTaken, "manage.microsoft.com", "quoted block"),
            (NotTaken, "<prefix>", "a placeholder on its own"),
            (NotTaken, "contoso.example.com", "an example"),
            (NotTaken, "contoso.blob.core.windows.net", "an example"),
            (NotTaken, "AzureEnvironments", "a single word"),
            (
                UnknownHeading,
                "Brand new feature",
                "new feature `brand-new-feature`",
            ),
            (Merged, "download.microsoft.com", "first on line 26"),
            (NotTaken, "curl https://block.example.com", "a code block"),
            (
                NotTaken,
                "NOTE: Push notifications need `notify.example.com` at the service connection point.",
                "a note under a heading that is not a feature",
            ),
            (NotTaken, "notify.example.com", "part of the note's text"),
            (
                NotTaken,
                "Service connection point",
                "its notes are left out too: TIP: The connector also uses `manage.microsoft.com`.",
            ),
        ],
    );
}

#[test]
fn dutch_phrases_and_anchors() {
    check(
        "nl.md",
        "
azure-services management.azure.com role=service-connection-point schemes=- cloud=public v=- nl.md:10
azure-services management.usgovcloudapi.net role=service-connection-point schemes=- cloud=usgov v=- nl.md:11
cloud-services https://graph.microsoft.com/ role=service-connection-point schemes=- cloud=- v=>=1902 nl.md:17
",
    );
    let import = run("nl.md", None, None).unwrap();
    assert_eq!(
        (import.language.as_str(), import.language_known),
        ("nl-NL", true)
    );
    assert_eq!(import.revision, "2020-07");
}

#[test]
fn an_unknown_language_imports_and_reports() {
    check(
        "de.md",
        "azure-services management.azure.com role=service-connection-point schemes=- cloud=- v=- de.md:10",
    );
    check_remarks(
        "de.md",
        &[
            (RemarkKind::NotUnderstood, "de-DE", "no phrase table"),
            (
                RemarkKind::NotUnderstood,
                "(Öffentliche Azure-Cloud)",
                "names no cloud",
            ),
        ],
    );
}

#[test]
fn includes_resolve_against_the_override_folder() {
    // With --includes, `includes/cloud.md` is looked up under that folder.
    let import = run("site.md", Some("."), None).unwrap();
    assert_eq!(
        import.files,
        [PathBuf::from("site.md"), PathBuf::from("includes/cloud.md")]
    );
    let err = run("site.md", Some("elsewhere"), None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("site.md:38: cannot read the included file elsewhere/includes/cloud.md"),
        "{err}"
    );
}

#[test]
fn the_revision_can_be_given() {
    assert_eq!(
        run("site.md", None, Some("2025-03")).unwrap().revision,
        "2025-03"
    );
    let err = run("site.md", None, Some("Bad Revision")).unwrap_err();
    assert!(matches!(err, ImportError::BadRevision { .. }), "{err}");
}

#[test]
fn bad_pages_are_refused_with_file_and_line() {
    check_error(
        "cycle/a.md",
        None,
        "cycle/b.md:3: include cycle: cycle/a.md -> cycle/b.md -> cycle/a.md\n  help: a page must not include itself, directly or through other includes",
    );
    check_error(
        "missing-include.md",
        None,
        "missing-include.md:5: cannot read the included file includes/gone.md: No such file or directory (os error 2)\n  help: check the include path, or pass --includes DIR with the folder that holds the includes",
    );
    check_error(
        "no-endpoints.md",
        None,
        "no-endpoints.md:1: the page lists no endpoints: no code span in it is a host name or URL (2 code spans were not taken; see the report)\n  help: import the page that lists the endpoints, with its includes (some pages, like proxy-server-support.md, carry none)",
    );
    check_error(
        "page.html",
        None,
        "page.html:1:1: not a markdown page: this is an HTML page; save the page's markdown source instead (the `internet-endpoints.md` file in the MicrosoftDocs/memdocs repository)",
    );
    // A date that is not one is named as invalid, not missing.
    check_error(
        "bad-date.md",
        None,
        "bad-date.md:3: `ms.date: 13/45/2024` is not a date; front matter writes dates MM/DD/YYYY, like 03/02/2025\n  help: correct the page's date, or pass --revision YYYY-MM",
    );
    check_error(
        "binary.md",
        None,
        "binary.md:2:1: not a markdown page: byte 0x00 is not text: the file looks binary, not text",
    );
}

#[test]
fn dutch_headings_without_english_anchors() {
    check(
        "nl-headings.md",
        "
updates-and-servicing *.manage.microsoft.com role=service-connection-point schemes=- cloud=- v=- nl-headings.md:12
cloud-services <cmg-name>.cloudapp.net role=cmg-connection-point schemes=- cloud=public v=- nl-headings.md:18
",
    );
    let import = run("nl-headings.md", None, None).unwrap();
    assert!(
        !import
            .remarks
            .iter()
            .any(|r| r.kind == RemarkKind::UnknownHeading),
        "{:#?}",
        import.remarks
    );
}
