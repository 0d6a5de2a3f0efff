//! `HostPattern::covers`: which allowlist entry admits at least a plan
//! row, held to the matcher on sample hosts.

use egress_pattern::{Host, HostPattern};

/// `entry` covers `row` exactly when `expected`; and a covering entry
/// matches every sample host of the row.
#[track_caller]
fn check(entry: &str, row: &str, expected: bool) {
    let e = HostPattern::parse(entry).unwrap();
    let r = HostPattern::parse(row).unwrap();
    assert_eq!(e.covers(&r), expected, "{entry} covers {row}");
    if expected {
        for sample in ["x", "a.b", "pq-x-s"] {
            let host = row.replacen('*', sample, 1);
            if let (Ok(h), true) = (Host::parse(&host), r.matches(&Host::parse(&host).unwrap())) {
                assert!(e.matches(&h), "{entry} misses {host} of {row}");
            }
        }
    }
}

#[test]
fn entries_that_cover_rows() {
    for (entry, row, expected) in [
        ("go.microsoft.com", "go.microsoft.com", true),
        ("*.microsoft.com", "go.microsoft.com", true),
        ("*.microsoft.com", "microsoft.com", false),
        ("*.microsoft.com", "*.manage.microsoft.com", true),
        ("*.microsoft.com", "*.microsoft.com", true),
        ("*.manage.microsoft.com", "*.microsoft.com", false),
        ("*.microsoft.com", "*.microsoft.com.evil.example", false),
        ("*.soft.com", "*.microsoft.com", false),
        ("go.microsoft.com", "*.microsoft.com", false),
        ("*.blob.core.windows.net", "cm*.blob.core.windows.net", true),
        ("*.core.windows.net", "cm*.blob.core.windows.net", true),
        (
            "cm*.blob.core.windows.net",
            "cmx*.blob.core.windows.net",
            true,
        ),
        (
            "cm*.blob.core.windows.net",
            "c*.blob.core.windows.net",
            false,
        ),
        (
            "*x.blob.core.windows.net",
            "*-x.blob.core.windows.net",
            true,
        ),
        ("cm*.blob.core.windows.net", "cm*.other.windows.net", false),
        (
            "cm*.blob.core.windows.net",
            "cm1.blob.core.windows.net",
            true,
        ),
        (
            "cm*.blob.core.windows.net",
            "cm.blob.core.windows.net",
            false,
        ),
        ("192.0.2.7", "192.0.2.7", true),
        ("192.0.2.7", "192.0.2.8", false),
        ("*.microsoft.com", "192.0.2.7", false),
    ] {
        check(entry, row, expected);
    }
}
