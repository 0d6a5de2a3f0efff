//! A log held against a plan: the denied requests the plan needs (by
//! row, on the row's ports only), the hosts under each wildcard, the
//! denied hosts no catalog endpoint matches, and the allowed hosts
//! outside the plan, in bounded tables.

use std::collections::BTreeMap;

mod common;

use common::{catalog, plan};
use egress_audit::log::{Format, Reader};
use egress_audit::tally::{Audit, HostCount, TopHosts};

fn squid(client: &str, action: &str, method: &str, url: &str) -> String {
    format!("1796177256.766 1 {client} {action} 0 {method} {url} - HIER_NONE/- -")
}

#[test]
fn a_squid_log_against_the_plan() {
    let catalog = catalog();
    let plan = plan(&catalog);
    let mut audit = Audit::new(&plan, &[&catalog], 3, true);
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
    for (n, line) in lines.iter().enumerate() {
        match reader.read(line) {
            Ok(Some(e)) => audit.add(&e),
            Ok(None) => audit.other_line(),
            Err(e) => audit.bad_line("access.log", n as u64 + 1, e.0),
        }
    }
    let r = audit.report();
    assert_eq!(
        (r.lines, r.requests, r.denied, r.failed, r.bad_lines),
        (10, 9, 5, 1, 1)
    );
    assert_eq!(r.first_bad_lines[0].line, 10);
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
                2,
                vec!["10.0.0.5".to_owned(), "10.0.0.6".to_owned()]
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
    assert_eq!(
        r.needed[0].statuses,
        BTreeMap::from([("403".into(), 1), ("407".into(), 1)])
    );
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
