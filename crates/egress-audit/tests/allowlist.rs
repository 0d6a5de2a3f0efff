//! Allowlists held against the plan: each row's verdict and the entries
//! behind it (on the schemes and ports each row needs), the entries no row
//! explains, and the notes on what a list cannot say.

mod common;

use common::{catalog, plan};
use egress_audit::allowlist::{Entry, ReadError, audit, read_aws, read_azure, read_plain};

type Read = fn(&str, &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>>;

fn plain(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    read_plain(file, text).map(|e| (e, Vec::new()))
}

/// Reads `list` with `read` and audits it: its notes as `note: ...`, each
/// row as `row verdict [entries]`, then `unexplained: entry (nearest)`.
#[track_caller]
fn check_with(read: Read, list: &str, expected: &[&str]) {
    let catalog = catalog();
    let plan = plan(&catalog);
    let (entries, notes) = read("list.txt", list).unwrap();
    let report = audit(&plan, &entries, |p| Some(format!("near {p}")));
    let mut got: Vec<String> = notes.iter().map(|n| format!("note: {n}")).collect();
    got.extend(
        report
            .rows
            .iter()
            .map(|r| format!("{} {:?} {:?}", r.row, r.verdict, r.entries)),
    );
    got.extend(report.unexplained.iter().map(|u| {
        format!(
            "unexplained: {} ({})",
            u.entry,
            u.nearest.as_deref().unwrap_or("")
        )
    }));
    assert_eq!(got, expected, "{list}");
}

#[track_caller]
fn check(list: &str, expected: &[&str]) {
    check_with(plain, list, expected);
}

/// What `read` refuses in `list`: `line:column: message` each.
#[track_caller]
fn refused(read: Read, list: &str) -> Vec<String> {
    read("list.txt", list)
        .unwrap_err()
        .iter()
        .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
        .collect()
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

/// Suricata rules (AWS Network Firewall's stateful rules): `pass` rules on
/// `tls.sni` or `http.host`, each on its protocol's scheme and its
/// destination ports; the rest not read, and said.
#[test]
fn suricata_rules() {
    let read: Read = |f, t| read_aws(f, t);
    check_with(
        read,
        "# egress rules\n\
         pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:\"needed.egress.test\"; startswith; nocase; endswith; flow:to_server; sid:1;)\n\
         pass tls $HOME_NET any -> $EXTERNAL_NET any (tls.sni; dotprefix; content:\".wild.egress.test\"; nocase; endswith; sid:2;)\n\
         pass http $HOME_NET any -> $EXTERNAL_NET [80,8080] (http.host; content:\"feed.egress.test\"; startswith; endswith; msg:\"a; b\"; sid:3;)\n\
         drop tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"the rest\"; sid:4;)\n\
         pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:!\"other.example\"; sid:5;)\n\
         pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:\"feed.egress.test\"; startswith; endswith; flowbits:isset,seen; sid:6;)\n\
         pass http $HOME_NET any -> $EXTERNAL_NET 80 (http.host; content:\"Feed.egress.test\"; startswith; endswith; sid:7;)\n",
        &[
            "note: 4 Suricata rules are not read (only `pass` rules on `tls.sni` or `http.host` with one whole-host `content` and no narrowing option): with strict rule order a `drop` or `reject` before a `pass` blocks what this report calls allowed",
            "note: the rules' source addresses are not judged: a row passed for some sources counts as allowed",
            r#"feed.egress.test Allowed ["list.txt:4: pass http $HOME_NET any -> $EXTERNAL_NET [80,8080] (http.host; content:\"feed.egress.test\"; startswith; endswith; msg:\"a; b\"; sid:3;)"]"#,
            r#"needed.egress.test Allowed ["list.txt:2: pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:\"needed.egress.test\"; startswith; nocase; endswith; flow:to_server; sid:1;)"]"#,
            r#"*.wild.egress.test Broader ["list.txt:3: pass tls $HOME_NET any -> $EXTERNAL_NET any (tls.sni; dotprefix; content:\".wild.egress.test\"; nocase; endswith; sid:2;)"]"#,
        ],
    );
    // The wrong port, the wrong protocol, a suffix without its dot.
    check_with(
        read,
        "pass tls any any -> any 8443 (tls.sni; content:\"needed.egress.test\"; startswith; endswith; nocase; sid:1;)\n\
         pass tls any any -> any 443 (tls.sni; content:\"feed.egress.test\"; startswith; endswith; nocase; sid:2;)\n\
         pass tls any any -> any 1:1024 (tls.sni; content:\"egress.test\"; endswith; nocase; sid:3;)\n",
        &[
            "note: list.txt:3: `content:\"egress.test\"; endswith` without a leading dot also admits names that merely end in it (`otheregress.test`): judged as `egress.test` and its subdomains",
            "note: the rules' source addresses are not judged: a row passed for some sources counts as allowed",
            "feed.egress.test Blocked []",
            r#"needed.egress.test Broader ["list.txt:3: pass tls any any -> any 1:1024 (tls.sni; content:\"egress.test\"; endswith; nocase; sid:3;)"]"#,
            r#"*.wild.egress.test Broader ["list.txt:3: pass tls any any -> any 1:1024 (tls.sni; content:\"egress.test\"; endswith; nocase; sid:3;)"]"#,
        ],
    );
    assert_eq!(
        refused(
            read,
            "pass tls any any -> any 443 tls.sni\n\
             pass tls any any -> any [443,x] (tls.sni; content:\"a.example\"; startswith; endswith;)\n\
             pass tls any any any 443 (tls.sni;)\n"
        ),
        [
            "1:1: not a Suricata rule: write `ACTION PROTO SRC PORT -> DST PORT (OPTIONS;)`",
            "2:1: `[443,x]` is not a port list: write `443`, `[80,443]`, `1024:65535` or `any`",
            "3:1: `pass tls any any any 443` is not a Suricata rule header: write `ACTION PROTO SRC PORT -> DST PORT`",
        ]
    );
}

/// An AWS domain list on its target types; a deny list is refused.
#[test]
fn aws_domain_lists() {
    let read: Read = |f, t| read_aws(f, t);
    let list = |kind: &str, types: &str| {
        format!(
            r#"{{"RuleGroup": {{"RulesSource": {{"RulesSourceList": {{
  "GeneratedRulesType": "{kind}", "TargetTypes": [{types}],
  "Targets": ["needed.egress.test", ".wild.egress.test", "feed.egress.test"]}}}}}}}}"#
        )
    };
    check_with(
        read,
        &list("ALLOWLIST", r#""TLS_SNI""#),
        &[
            "note: a domain list cannot restrict ports: a row it allows is allowed on every port of its target types",
            "feed.egress.test Blocked []",
            r#"needed.egress.test Allowed ["list.txt:3: needed.egress.test"]"#,
            r#"*.wild.egress.test Broader ["list.txt:3: .wild.egress.test"]"#,
        ],
    );
    // Found by the fuzzer: no target types admitted nothing, silently.
    assert_eq!(
        refused(read, &list("ALLOWLIST", "")),
        [
            "1:1: the domain list has no `TargetTypes`: write `[\"TLS_SNI\", \"HTTP_HOST\"]` (or one of them)"
        ]
    );
    assert_eq!(
        refused(read, &list("DENYLIST", r#""TLS_SNI", "SMTP""#)),
        ["2:26: `GeneratedRulesType` is `DENYLIST`: only an ALLOWLIST domain list is an allowlist"]
    );
}

/// Azure Firewall application rules on their protocols; a Deny
/// collection's rules are not entries.
#[test]
fn azure_application_rules() {
    let read: Read = |f, t| read_azure(f, t);
    let rules = r#"{"properties": {"ruleCollections": [
 {"action": {"type": "Deny"}, "rules": [
  {"name": "no", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["*.wild.egress.test"]}]},
 {"action": {"type": "Allow"}, "rules": [
  {"name": "tls", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443}], "sourceAddresses": ["10.0.0.0/8"], "targetFqdns": ["needed.egress.test", "feed.egress.test"]},
  {"name": "both", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Http", "port": 8080}, {"protocolType": "Https", "port": "443"}], "targetFqdns": ["a.wild.egress.test"]}]}]}}"#;
    check_with(
        read,
        rules,
        &[
            "note: rule `no` is in a `Deny` collection: not an entry (which collection Azure Firewall applies first follows their priorities, not judged here)",
            "note: the rules' source addresses are not judged: a row allowed to some sources counts as allowed",
            "feed.egress.test Blocked []",
            r#"needed.egress.test Allowed ["list.txt:5: needed.egress.test"]"#,
            r#"*.wild.egress.test Partly ["list.txt:6: a.wild.egress.test"]"#,
        ],
    );
    assert_eq!(
        refused(
            read,
            r#"{"rules": [{"name": "r", "protocols": [{"protocolType": "Mssql", "port": 1433}], "targetFqdns": ["a.example"]}]}"#
        ),
        ["1:22: rule `r` has no HTTP or HTTPS `protocols`: it admits nothing an egress plan needs"]
    );
}
