//! Catalog diffs: identity is (feature, pattern, scheme); the rest changes.

use egress_catalog::catalog;
use egress_catalog::diff::{Change, diff};
use egress_catalog::{Catalog, SourceFile, embedded};

const HEAD: &str = r#"[catalog]
id = "demo"
title = "Demo"
vendor = "Contoso"
product = "Demo"
revision = "REV"
describes = 2024-01-01

[[page]]
id = "p"
title = "Page"
language = "en-US"

[[feature]]
id = "f"
title = "F"
page = "p"
section = "F"
"#;

/// Every catalog also has `b.example.com`, so that its feature is never empty.
fn load(rev: &str, tail: &str) -> Catalog {
    let b = "\n[[endpoint]]\nid = \"b\"\nhost = \"b.example.com\"\nfeatures = [\"f\"]\n";
    catalog::load(&SourceFile::new(
        "demo.toml",
        HEAD.replace("REV", rev) + b + tail,
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The changes from `old` to `new`, one line each: `+ feature host scheme`,
/// `- ...`, `~ ... attribute: old -> new`.
#[track_caller]
fn check(old: &str, new: &str, expected: &[&str]) {
    let d = diff(
        &load("1", old),
        &load("2", new),
        &|_| true,
        &|_| true,
        &Default::default(),
    );
    let mut got: Vec<String> = d
        .features_added
        .iter()
        .map(|f| format!("feature + {f}"))
        .collect();
    got.extend(d.features_removed.iter().map(|f| format!("feature - {f}")));
    for c in &d.changes {
        match c {
            Change::Added(id, _) => got.push(format!("+ {} {} {}", id.feature, id.host, id.scheme)),
            Change::Removed(id, _) => {
                got.push(format!("- {} {} {}", id.feature, id.host, id.scheme))
            }
            Change::Changed(id, what) => {
                for (name, o, n) in what {
                    got.push(format!(
                        "~ {} {} {} {name}: {o} -> {n}",
                        id.feature, id.host, id.scheme
                    ));
                }
            }
        }
    }
    assert_eq!(got, expected);
}

const A: &str = "\n[[endpoint]]\nid = \"a\"\nhost = \"a.example.com\"\nfeatures = [\"f\"]\n";

#[test]
fn equal_catalogs_have_no_change() {
    check(A, A, &[]);
    // Ids and source lines are not part of the comparison.
    check(A, &A.replace("id = \"a\"", "id = \"renamed\""), &[]);
}

#[test]
fn added_removed_changed() {
    check("", A, &["+ f a.example.com https"]);
    check(A, "", &["- f a.example.com https"]);
    check(
        A,
        &format!("{A}ports = [8443]\n"),
        &["~ f a.example.com https ports: 443 -> 8443"],
    );
    check(
        A,
        &format!("{A}cloud = \"usgov\"\n"),
        &["~ f a.example.com https cloud: all -> usgov"],
    );
    check(
        A,
        &format!("{A}notes = [\"n\"]\n"),
        &["~ f a.example.com https notes:  -> n"],
    );
    // A scheme is part of the identity.
    check(
        A,
        &format!("{A}schemes = [\"http\"]\n"),
        &["+ f a.example.com http", "- f a.example.com https"],
    );
    // Patterns are compared normalized.
    check(A, &A.replace("a.example.com", "A.Example.COM."), &[]);
}

#[test]
fn features_added_and_removed() {
    let g = "\n[[feature]]\nid = \"g\"\ntitle = \"G\"\npage = \"p\"\nsection = \"G\"\nexternal = [{ title = \"x\", url = \"https://x.test\" }]\n";
    check(A, &format!("{A}{g}"), &["feature + g"]);
    check(&format!("{A}{g}"), A, &["feature - g"]);
}

/// The embedded revisions differ as the pages do.
#[test]
fn embedded_revisions() {
    let all = embedded::all().unwrap();
    let d = diff(&all[0], &all[1], &|_| true, &|_| true, &Default::default());
    let has = |sign: &str, feature: &str, host: &str, scheme: &str| {
        d.changes.iter().any(|c| match (sign, c) {
            ("+", Change::Added(id, _))
            | ("-", Change::Removed(id, _))
            | ("~", Change::Changed(id, _)) => {
                id.feature == feature && id.host == host && id.scheme == scheme
            }
            _ => false,
        })
    };
    assert!(has(
        "-",
        "software-updates",
        "test.stats.update.microsoft.com",
        "http"
    ));
    assert!(has(
        "-",
        "updates-and-servicing",
        "*.blob.core.windows.net",
        "https"
    ));
    assert!(has(
        "+",
        "updates-and-servicing",
        "configmgrbits.cdn.manage.microsoft.com",
        "https"
    ));
    assert!(has(
        "~",
        "updates-and-servicing",
        "configmgrbits.azureedge.net",
        "https"
    ));
    assert!(has("+", "tenant-attach", "*.manage.microsoft.us", "https"));
    assert_eq!(
        d.features_removed,
        ["desktop-analytics", "geographical-view"]
    );
    assert!(
        d.features_added
            .contains(&"external-notifications".to_owned())
    );
}
