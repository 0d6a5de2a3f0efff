//! A log held against a plan: the denied requests the plan needs (by
//! row, on the row's ports only), the hosts under each wildcard, the
//! denied hosts no catalog endpoint matches, and the allowed hosts
//! outside the plan, in bounded tables.

use std::collections::BTreeMap;

mod common;

use common::{catalog, plan};
use egress_audit::log::{Format, Reader};
use egress_audit::tally::{Audit, HostCount, Lookup, TopHosts};
use proptest::prelude::*;

fn squid(client: &str, action: &str, method: &str, url: &str) -> String {
    format!("1796177256.766 1 {client} {action} 0 {method} {url} - HIER_NONE/- -")
}

/// NTLM's handshake (407, 407, then the tunnel) is nothing wrong; a 407
/// no other answer follows is authentication failing, with its user; an
/// answer in a later block (or file) still follows it.
#[test]
fn challenges_are_not_denials() {
    let catalog = catalog();
    let plan = plan(&catalog);
    let lookup = Lookup::new(&plan, &[&catalog]);
    let line = |client: &str, action: &str, user: &str| {
        format!(
            "1796177256.766 1 {client} {action} 0 CONNECT needed.egress.test:443 {user} HIER_NONE/- -"
        )
    };
    let first = [
        line("10.0.0.5", "TCP_DENIED/407", "-"),
        line("10.0.0.5", "TCP_DENIED/407", "-"),
        line("10.0.0.5", "TCP_TUNNEL/200", "CONTOSO\\cm01$"),
        line("10.0.0.6", "TCP_DENIED/407", "-"),
        line("10.0.0.7", "TCP_DENIED/407", "CONTOSO\\svc-scp"),
        // NTLM's first leg names no user: the last one named stays.
        line("10.0.0.7", "TCP_DENIED/407", "-"),
    ]
    .join("\n");
    let second = [
        line("10.0.0.6", "TCP_TUNNEL/200", "CONTOSO\\cm02$"),
        line("10.0.0.5", "TCP_DENIED/407", "-"),
        // An answer on a port the plan does not need is an answer too.
        line("10.0.0.8", "TCP_DENIED/407", "-"),
        line("10.0.0.8", "TCP_TUNNEL/200", "-").replace(":443", ":8443"),
    ]
    .join("\n");
    let mut audit = Audit::new(&lookup, 3, false);
    let mut reader = Reader::new(Format::Squid);
    let a = audit.block_lines(&mut reader, "access.log", 1, first.as_bytes());
    let b = audit.block_lines(&mut reader, "access.log", 7, second.as_bytes());
    audit.fold(a);
    audit.fold(b);
    let r = audit.report();
    assert_eq!((r.requests, r.challenged, r.denied), (10, 7, 0));
    assert!(r.needed.is_empty());
    let failing: Vec<(&str, Option<&str>, u64)> = r
        .auth_failing
        .iter()
        .map(|a| (a.client.as_str(), a.user.as_deref(), a.challenges))
        .collect();
    assert_eq!(
        failing,
        [
            ("10.0.0.5", None, 1),
            ("10.0.0.7", Some("CONTOSO\\svc-scp"), 2)
        ]
    );
    assert_eq!(r.auth_failing[1].features, ["updates"]);
}

#[test]
fn a_squid_log_against_the_plan() {
    let catalog = catalog();
    let plan = plan(&catalog);
    let lookup = Lookup::new(&plan, &[&catalog]);
    let mut audit = Audit::new(&lookup, 3, true);
    let mut reader = Reader::new(Format::Squid);
    let lines = [
        squid(
            "10.0.0.5",
            "TCP_DENIED/403",
            "CONNECT",
            "needed.egress.test:443",
        ),
        squid(
            "10.0.0.6",
            "TCP_DENIED/407",
            "CONNECT",
            "NEEDED.egress.test.:443",
        ),
        // Another port: not what the plan needs.
        squid(
            "10.0.0.5",
            "TCP_DENIED/403",
            "CONNECT",
            "needed.egress.test:8443",
        ),
        squid(
            "10.0.0.5",
            "TCP_TUNNEL/200",
            "CONNECT",
            "a.wild.egress.test:443",
        ),
        squid(
            "10.0.0.5",
            "TCP_TUNNEL/200",
            "CONNECT",
            "a.wild.egress.test:443",
        ),
        squid(
            "10.0.0.5",
            "TCP_MISS_ABORTED/503",
            "CONNECT",
            "b.wild.egress.test:443",
        ),
        squid(
            "10.0.0.5",
            "TCP_DENIED/403",
            "CONNECT",
            "unknown.example:443",
        ),
        squid(
            "10.0.0.5",
            "TCP_DENIED/403",
            "CONNECT",
            "unknown.example:443",
        ),
        squid(
            "10.0.0.5",
            "TCP_MISS/200",
            "GET",
            "http://elsewhere.example/",
        ),
        "not a line".to_owned(),
    ];
    audit.lines(&mut reader, "access.log", 1, lines.join("\n").as_bytes());
    let r = audit.report();
    // The 407 is a challenge, not a denial; no other answer follows it.
    assert_eq!(
        (
            r.lines,
            r.requests,
            r.denied,
            r.failed,
            r.challenged,
            r.bad_lines
        ),
        (10, 9, 4, 1, 1, 1)
    );
    assert_eq!(r.first_bad_lines[0].line, 10);
    assert_eq!(
        r.auth_failing
            .iter()
            .map(|a| (a.client.as_str(), a.host.as_str(), a.challenges))
            .collect::<Vec<_>>(),
        [("10.0.0.6", "needed.egress.test", 1)]
    );
    let needed: Vec<(String, u64, Vec<String>)> = r
        .needed
        .iter()
        .map(|n| (n.row.clone(), n.count, n.clients.clone()))
        .collect();
    assert_eq!(
        needed,
        [
            (
                "needed.egress.test".to_owned(),
                1,
                vec!["10.0.0.5".to_owned()]
            ),
            (
                "*.wild.egress.test".to_owned(),
                1,
                vec!["10.0.0.5".to_owned()]
            ),
        ]
    );
    assert_eq!(r.needed[0].features, ["updates"]);
    assert_eq!(r.needed[0].roles, ["scp"]);
    assert_eq!(r.needed[0].statuses, BTreeMap::from([("403".into(), 1)]));
    let count = |host: &str, count| HostCount {
        host: host.to_owned(),
        count,
    };
    assert_eq!(r.wildcards[0].row, "*.wild.egress.test");
    assert_eq!(
        r.wildcards[0].hosts,
        [
            count("a.wild.egress.test", 2),
            count("b.wild.egress.test", 1)
        ]
    );
    assert_eq!(r.denied_not_in_catalog, [count("unknown.example", 2)]);
    assert_eq!(r.unplanned, Some(vec![count("elsewhere.example", 1)]));
}

#[test]
fn top_hosts_stay_bounded_and_find_late_heavy_hitters() {
    let mut top = TopHosts::new(2);
    for i in 0..100_000 {
        top.add(&format!("h{i}.example"));
        top.add("often.example");
        // Only in the last tenth of the log, but every time.
        if i >= 90_000 {
            top.add("late.example");
        }
    }
    let shown = top.top();
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0].host, "often.example");
    assert_eq!(shown[1].host, "late.example");
    // Counts are at most the error above the truth, never below it.
    assert!(shown[0].count >= 100_000 && shown[0].count <= 100_000 + top.error());
    assert!(shown[1].count >= 10_000 && shown[1].count <= 10_000 + top.error());
    assert!(top.error() > 0);
}

/// A log line of the merge tests: one of a few clients, hosts and
/// outcomes, so rows, wildcards and unknown hosts all fill, and more
/// clients and hosts under a wildcard than a row names.
fn any_line() -> impl Strategy<Value = String> {
    (
        0..15u8,
        prop::sample::select(vec![
            "needed.egress.test:443",
            "needed.egress.test:8443",
            "a.wild.egress.test:443",
            "b.wild.egress.test:443",
            "unknown.example:443",
            "other.example:443",
        ]),
        prop::sample::select(vec![
            "TCP_DENIED/403",
            "TCP_TUNNEL/200",
            "TCP_MISS/503",
            "TCP_DENIED/407",
            "TCP_DENIED/407",
        ]),
        0..3u8,
        0..3u8,
    )
        .prop_map(|(client, url, action, second, shape)| {
            if second == 0 && client == 0 {
                return "a line that is not one".to_owned();
            }
            let url = match url.strip_prefix("a.") {
                Some(rest) => format!("a{client}.{rest}"),
                None => url.to_owned(),
            };
            // Squid's native format, its `common` or its `combined` one.
            let (status_action, status) = action.split_once('/').unwrap_or((action, "0"));
            if shape == 1 {
                format!(
                    "10.0.0.{client} - svc{client} [07/Dec/2026:10:00:0{second} +0000] \"CONNECT {url} HTTP/1.1\" {status} 0 {status_action}:HIER_NONE"
                )
            } else if shape == 2 {
                format!(
                    "10.0.0.{client} - - [07/Dec/2026:10:00:0{second} +0000] \"CONNECT {url} HTTP/1.1\" {status} 0 \"-\" \"Mozilla/5.0 (Windows NT 10.0)\" {status_action}:HIER_NONE"
                )
            } else {
                format!(
                    "179617725{second}.766 1 10.0.0.{client} {action} 0 CONNECT {url} svc{client} HIER_NONE/- -"
                )
            }
        })
}

proptest! {
    /// A log read in parts (cut anywhere between lines, each part on its
    /// own audit, as `egress audit log` reads on several threads) and
    /// merged says what the log read whole says.
    #[test]
    fn parts_merged_are_the_whole(
        lines in prop::collection::vec(any_line(), 0..60),
        cuts in prop::collection::vec(0..60usize, 0..4),
    ) {
        let catalog = catalog();
        let plan = plan(&catalog);
        let lookup = Lookup::new(&plan, &[&catalog]);
        let text = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let mut whole = Audit::new(&lookup, 3, true);
        whole.lines(&mut Reader::new(Format::Squid), "access.log", 1, text(&lines).as_bytes());
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(lines.len())).collect();
        cuts.push(0);
        cuts.push(lines.len());
        cuts.sort_unstable();
        let (mut parts, blocks): (Vec<Audit>, Vec<_>) = cuts
            .windows(2)
            .map(|w| {
                let mut part = Audit::new(&lookup, 3, true);
                let auth = part.block_lines(&mut Reader::new(Format::Squid), "access.log", w[0] as u64 + 1, text(&lines[w[0]..w[1]]).as_bytes());
                (part, auth)
            })
            .unzip();
        // Merged in any order: workers finish when they finish; what the
        // parts say of authentication is folded in log order.
        parts.reverse();
        let mut merged = Audit::new(&lookup, 3, true);
        for auth in blocks {
            merged.fold(auth);
        }
        for part in parts {
            merged.merge(part);
        }
        prop_assert_eq!(merged.report(), whole.report());
    }

    /// Merged counts are never below the truth and at most the merged
    /// error above it, however often the parts pruned.
    #[test]
    fn merged_top_hosts_keep_their_bounds(
        hosts in prop::collection::vec(0..3_000u32, 0..6_000),
        cut in 0..6_000usize,
    ) {
        let cut = cut.min(hosts.len());
        let mut truth = BTreeMap::<String, u64>::new();
        let mut parts = [TopHosts::new(2), TopHosts::new(2)];
        for (i, h) in hosts.iter().enumerate() {
            // A few heavy hitters among more distinct hosts than a
            // part holds (2,000): the parts prune.
            let host = format!("h{}.example", if h % 3 == 0 { h % 5 } else { *h });
            *truth.entry(host.clone()).or_default() += 1;
            parts[usize::from(i >= cut)].add(&host);
        }
        let [mut a, b] = parts;
        a.merge(b);
        for shown in a.top() {
            let real = truth[&shown.host];
            prop_assert!(shown.count >= real && shown.count <= real + a.error());
        }
    }
}
