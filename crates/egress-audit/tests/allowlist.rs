//! Plain allowlists held against the plan: each row's verdict and the
//! entries behind it, and the entries no row explains.

mod common;

use common::{catalog, plan};
use egress_audit::allowlist::{audit, read_plain};

/// Reads `list` as a plain list and audits it: each row as `row verdict
/// [entries]`, then `unexplained: entry (nearest)`.
#[track_caller]
fn check(list: &str, expected: &[&str]) {
    let catalog = catalog();
    let plan = plan(&catalog);
    let entries = read_plain("list.txt", list).unwrap();
    let report = audit(&plan, &entries, |p| Some(format!("near {p}")));
    let mut got: Vec<String> = report
        .rows
        .iter()
        .map(|r| format!("{} {:?} {:?}", r.row, r.verdict, r.entries))
        .collect();
    got.extend(report.unexplained.iter().map(|u| {
        format!(
            "unexplained: {} ({})",
            u.entry,
            u.nearest.as_deref().unwrap_or("")
        )
    }));
    assert_eq!(got, expected, "{list}");
}

#[test]
fn verdicts() {
    check(
        "needed.egress.test\n*.wild.egress.test\nfeed.egress.test\n",
        &[
            r#"feed.egress.test Allowed ["list.txt:3: feed.egress.test"]"#,
            r#"needed.egress.test Allowed ["list.txt:1: needed.egress.test"]"#,
            r#"*.wild.egress.test Allowed ["list.txt:2: *.wild.egress.test"]"#,
        ],
    );
    check(
        "# one wildcard admits more than each row\n*.egress.test\n",
        &[
            r#"feed.egress.test Broader ["list.txt:2: *.egress.test"]"#,
            r#"needed.egress.test Broader ["list.txt:2: *.egress.test"]"#,
            r#"*.wild.egress.test Broader ["list.txt:2: *.egress.test"]"#,
        ],
    );
    check(
        "a.wild.egress.test\nelsewhere.example\n",
        &[
            "feed.egress.test Blocked []",
            "needed.egress.test Blocked []",
            r#"*.wild.egress.test Partly ["list.txt:1: a.wild.egress.test"]"#,
            "unexplained: elsewhere.example (near elsewhere.example)",
        ],
    );
}

#[test]
fn unreadable_lines_are_all_located() {
    let errors = read_plain("list.txt", "ok.example\nnot a host\n\n  *.*.bad\n").unwrap_err();
    let at: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, [(2, 1), (4, 3)]);
    assert!(
        errors[0]
            .to_string()
            .starts_with("list.txt:2:1: `not a host` is not a host pattern")
    );
}
