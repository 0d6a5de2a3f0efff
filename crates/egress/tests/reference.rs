//! Holding the embedded catalogs to the pages they encode: every
//! reference page named in `catalogs/reference/pages.toml` is imported with
//! the real `egress catalog import`, and its endpoint set compared with the
//! embedded revision. A difference fails the test unless
//! `catalogs/reference/differences.toml` lists it with its reason; a listed
//! difference that no longer occurs fails it too, so the file stays true.
//!
//! The pages live beside the project (`../shared/reference/`, or
//! `EGRESS_REFERENCE`), not in it. Without them the test says loudly that it
//! was skipped, except in CI (`CI=true`), where that is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use egress_catalog::diff::{Change, Identity, diff};
use egress_catalog::{Catalog, SourceFile, catalog, embedded};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    page: Vec<ManifestPage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestPage {
    file: String,
    revision: String,
    language: String,
    endpoints: bool,
    same_as: Option<String>,
    #[serde(default)]
    includes: Vec<String>,
    why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Differences {
    difference: Vec<Difference>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Difference {
    revision: String,
    /// `only-embedded`, `only-imported` or `changed`.
    change: String,
    feature: String,
    hosts: Vec<String>,
    scheme: String,
    /// For `changed`: the attribute that differs.
    attribute: Option<String>,
    reason: String,
}

/// The attributes compared besides identity: what the page states. Roles,
/// validity dates and notes are the catalog's reading of the prose and are
/// not compared.
const COMPARED: &[&str] = &["ports", "cloud", "paths", "direction", "versions"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reference_dir() -> Option<PathBuf> {
    egress_test_support::reference::pages()
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Imports a page with the real binary; returns the catalog and the paths
/// of the files it read.
fn import(reference: &Path, page: &ManifestPage) -> (Catalog, Vec<String>) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("imported.toml");
    let run = cargo_bin_cmd!("egress")
        .current_dir(reference)
        .args([
            "catalog",
            "import",
            &page.file,
            "--revision",
            &page.revision,
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "import of {} failed:\n{stderr}",
        page.file
    );
    assert!(
        stderr.contains(&format!("(language {}", page.language)),
        "{}: not read as {}:\n{stderr}",
        page.file,
        page.language
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let catalog =
        catalog::load(&SourceFile::new(page.file.clone(), text)).unwrap_or_else(|e| panic!("{e}"));
    let files = catalog
        .pages
        .iter()
        .filter_map(|p| p.path.clone())
        .collect();
    (catalog, files)
}

type Key = (String, String, String, String, Option<String>);

/// The differences between the embedded revision and an import, as keys
/// (change, feature, host, scheme, attribute).
fn differences(embedded: &Catalog, imported: &Catalog) -> BTreeSet<Key> {
    let all = |_: &egress_catalog::Endpoint| true;
    let every = |_: &str| true;
    let d = diff(embedded, imported, &all, &every, &Default::default());
    let key = |change: &str, id: &Identity, attribute: Option<&str>| {
        (
            change.to_owned(),
            id.feature.clone(),
            id.host.clone(),
            id.scheme.clone(),
            attribute.map(str::to_owned),
        )
    };
    let mut out = BTreeSet::new();
    for change in &d.changes {
        match change {
            Change::Removed(id, _) => {
                out.insert(key("only-embedded", id, None));
            }
            Change::Added(id, _) => {
                out.insert(key("only-imported", id, None));
            }
            Change::Changed(id, attributes) => {
                for (name, _, _) in attributes.iter().filter(|(n, _, _)| COMPARED.contains(n)) {
                    out.insert(key("changed", id, Some(name)));
                }
            }
        }
    }
    out
}

fn listed(revision: &str, reviewed: &Differences) -> BTreeMap<Key, String> {
    let mut out = BTreeMap::new();
    for d in reviewed
        .difference
        .iter()
        .filter(|d| d.revision == revision)
    {
        assert!(
            ["only-embedded", "only-imported", "changed"].contains(&d.change.as_str()),
            "differences.toml: unknown change `{}`",
            d.change
        );
        assert!(
            !d.reason.trim().is_empty(),
            "differences.toml: {} needs a reason",
            d.hosts.join(", ")
        );
        for host in &d.hosts {
            out.insert(
                (
                    d.change.clone(),
                    d.feature.clone(),
                    host.clone(),
                    d.scheme.clone(),
                    d.attribute.clone(),
                ),
                d.reason.clone(),
            );
        }
    }
    out
}

fn show(keys: &[&Key]) -> String {
    keys.iter()
        .map(|(change, feature, host, scheme, attribute)| {
            format!(
                "[[difference]]\nrevision = ?\nchange = \"{change}\"\nfeature = \"{feature}\"\nhosts = [\"{host}\"]\nscheme = \"{scheme}\"\n{}reason = \"?\"\n",
                attribute.as_ref().map(|a| format!("attribute = \"{a}\"\n")).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn reference_pages_import_to_the_embedded_catalogs() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let manifest: Manifest = read_toml(&repo().join("catalogs/reference/pages.toml"));
    let reviewed: Differences = read_toml(&repo().join("catalogs/reference/differences.toml"));

    // Every markdown file in the folder is named in the manifest.
    let named: BTreeSet<String> = manifest
        .page
        .iter()
        .flat_map(|p| std::iter::once(p.file.clone()).chain(p.includes.iter().cloned()))
        .collect();
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![reference.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md")
                && path.file_name() != Some("SOURCES.md".as_ref())
            {
                on_disk.insert(
                    path.strip_prefix(&reference)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let unnamed: Vec<_> = on_disk.difference(&named).collect();
    assert!(
        unnamed.is_empty(),
        "pages not in catalogs/reference/pages.toml: {unnamed:?}"
    );
    let missing: Vec<_> = named.difference(&on_disk).collect();
    assert!(
        missing.is_empty(),
        "pages in the manifest but not in {}: {missing:?}",
        reference.display()
    );

    let revisions = embedded::all().unwrap();
    let mut imported: BTreeMap<String, Catalog> = BTreeMap::new();
    let mut failures = Vec::new();
    for page in &manifest.page {
        if !page.endpoints {
            assert!(
                page.why.is_some(),
                "{}: say why it has no endpoints",
                page.file
            );
            continue;
        }
        let (catalog, files) = import(&reference, page);
        // The import read exactly the includes the manifest names.
        let read: BTreeSet<String> = files.iter().skip(1).map(|f| f.replace('\\', "/")).collect();
        let expected: BTreeSet<String> = page.includes.iter().cloned().collect();
        assert_eq!(read, expected, "{}: includes read", page.file);

        let embedded = revisions
            .iter()
            .find(|c| c.meta.revision == page.revision)
            .unwrap_or_else(|| panic!("no embedded revision {}", page.revision));
        let found = differences(embedded, &catalog);
        let listed = listed(&page.revision, &reviewed);
        let unexplained: Vec<&Key> = found.iter().filter(|k| !listed.contains_key(*k)).collect();
        let stale: Vec<&Key> = listed.keys().filter(|k| !found.contains(*k)).collect();
        if !unexplained.is_empty() {
            failures.push(format!(
                "{} (revision {}): {} difference(s) from the embedded catalog that differences.toml does not explain:\n{}",
                page.file,
                page.revision,
                unexplained.len(),
                show(&unexplained)
            ));
        }
        if !stale.is_empty() {
            failures.push(format!(
                "{} (revision {}): differences.toml lists differences that no longer occur; remove them:\n{}",
                page.file,
                page.revision,
                show(&stale)
            ));
        }
        if let Some(original) = &page.same_as {
            let original = &imported[original];
            let d = differences(original, &catalog);
            assert!(
                d.is_empty(),
                "{} does not import to the same endpoints as {}: {d:?}",
                page.file,
                page.same_as.as_deref().unwrap_or("")
            );
            assert_eq!(original.endpoints.len(), catalog.endpoints.len());
        }
        imported.insert(page.file.clone(), catalog);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
