//! Allowlists held against the plan: each row's verdict and the entries
//! behind it (on the schemes and ports each row needs), the entries no row
//! explains, and the notes on what a list cannot say.

mod common;

use common::{catalog, plan};
use egress_audit::allowlist::{
    Entry, ReadError, audit, read_aws, read_azure, read_pan_edl, read_plain,
};
use egress_audit::asked::Client;
use egress_catalog::profile::AddressRange;

type Read = fn(&str, &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>>;

fn plain(file: &str, text: &str) -> Result<(Vec<Entry>, Vec<String>), Vec<ReadError>> {
    read_plain(file, text).map(|e| (e, Vec::new()))
}

/// Reads `list` with `read` and audits it: its notes as `note: ...`, each
/// row as `row verdict [entries]`, then `unexplained: entry (nearest)`.
#[track_caller]
fn check_with(read: Read, list: &str, expected: &[&str]) {
    check_from(read, list, None, expected);
}

/// As [`check_with`], every row asked from `client` (`None`: an unknown
/// address).
#[track_caller]
fn check_from(read: Read, list: &str, client: Option<&str>, expected: &[&str]) {
    let catalog = catalog();
    let plan = plan(&catalog);
    let (entries, notes) = read("list.txt", list).unwrap();
    let client = match client {
        Some(c) => Client::In(AddressRange::parse(c).unwrap()),
        None => Client::Unknown,
    };
    let report = audit(&plan, &entries, &|_| vec![client], |p| {
        Some(format!("near {p}"))
    });
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
            "note: a domain list applies to the sources in `HOME_NET` (by default the firewall's VPC): sources are not judged",
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
    let deny = "note: rule `no` is in a `Deny` collection: not an entry (which collection Azure Firewall applies first follows their priorities, not judged here)";
    // The servers' address unknown: a rule for some sources is not judged.
    check_with(
        read,
        rules,
        &[
            deny,
            "feed.egress.test Blocked []",
            r#"needed.egress.test NotJudged ["list.txt:5: needed.egress.test (not judged: it admits some sources and the site system's address is not known (give the role's servers in the profile, or --client))"]"#,
            r#"*.wild.egress.test Partly ["list.txt:6: a.wild.egress.test"]"#,
        ],
    );
    // From a server among the rule's sources, and from one outside them.
    check_from(
        read,
        rules,
        Some("10.1.2.3"),
        &[
            deny,
            "feed.egress.test Blocked []",
            r#"needed.egress.test Allowed ["list.txt:5: needed.egress.test"]"#,
            r#"*.wild.egress.test Partly ["list.txt:6: a.wild.egress.test"]"#,
        ],
    );
    check_from(
        read,
        rules,
        Some("192.168.1.9"),
        &[
            deny,
            "feed.egress.test Blocked []",
            "needed.egress.test Blocked []",
            r#"*.wild.egress.test Partly ["list.txt:6: a.wild.egress.test"]"#,
        ],
    );
    // A rule on SQL only: said, the rest judged; a rule without
    // protocols is not one.
    check_with(
        read,
        r#"{"rules": [{"name": "r", "protocols": [{"protocolType": "Mssql", "port": 1433}], "targetFqdns": ["needed.egress.test"]}]}"#,
        &[
            "note: rule `r`: protocol `Mssql` is not HTTP or HTTPS: not judged",
            "feed.egress.test Blocked []",
            "needed.egress.test Blocked []",
            "*.wild.egress.test Blocked []",
        ],
    );
    assert_eq!(
        refused(
            read,
            r#"{"rules": [{"name": "r", "ruleType": "ApplicationRule", "targetFqdns": ["a.example"]}]}"#
        ),
        [
            "1:22: rule `r` has no `protocols`: write `[{\"protocolType\": \"Https\", \"port\": 443}]`"
        ]
    );
}

/// Every shape of Azure Firewall rules a user has, and every kind of rule
/// read or said: FQDN tags (WindowsUpdate as Microsoft documents it, any
/// other not judged), `*`, IP groups, network rules, NAT rules.
#[test]
fn azure_shapes_tags_and_network_rules() {
    let read: Read = |f, t| read_azure(f, t);
    // A classic firewall's ARM resource.
    check_with(
        read,
        r#"{"type": "Microsoft.Network/azureFirewalls", "properties": {"applicationRuleCollections": [
 {"name": "c", "properties": {"priority": 100, "action": {"type": "Allow"}, "rules": [
  {"name": "web", "protocols": [{"protocolType": "Https", "port": 443}, {"protocolType": "Http", "port": 80}], "targetFqdns": ["feed.egress.test", "needed.egress.test"], "sourceAddresses": ["*"]}]}}],
 "natRuleCollections": [{"name": "n", "properties": {"action": {"type": "Dnat"}, "rules": [{"name": "in", "destinationPorts": ["443"]}]}}]}}"#,
        &[
            "note: rule `in` is a NAT rule (inbound): not an entry",
            r#"feed.egress.test Allowed ["list.txt:3: feed.egress.test"]"#,
            r#"needed.egress.test Allowed ["list.txt:3: needed.egress.test"]"#,
            "*.wild.egress.test Blocked []",
        ],
    );
    // `az network firewall policy rule-collection-group show`: an FQDN tag
    // whose hosts are not published, `*` on HTTP, an IP group.
    check_with(
        read,
        r#"{"name": "g", "priority": 200, "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups", "ruleCollections": [
 {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "action": {"type": "Allow"}, "name": "c", "priority": 100, "rules": [
  {"ruleType": "ApplicationRule", "name": "backup", "protocols": [{"protocolType": "Https", "port": 443}], "fqdnTags": ["AzureBackup"], "sourceAddresses": ["*"]},
  {"ruleType": "ApplicationRule", "name": "any-http", "protocols": [{"protocolType": "Http", "port": 80}], "targetFqdns": ["*"], "sourceIpGroups": ["/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/ipGroups/servers"]}]}]}"#,
        &[
            r#"feed.egress.test NotJudged ["list.txt:4: any-http: * (not judged: its sources IP group `servers` are not resolved here)"]"#,
            r#"needed.egress.test NotJudged ["list.txt:3: FQDN tag AzureBackup (not judged: FQDN tag AzureBackup: contents not published)"]"#,
            r#"*.wild.egress.test NotJudged ["list.txt:3: FQDN tag AzureBackup (not judged: FQDN tag AzureBackup: contents not published)"]"#,
        ],
    );
    // The same `*` from a known server: every host, broader than each row.
    check_from(
        read,
        r#"{"properties": {"ruleCollections": [{"action": {"type": "Allow"}, "rules": [
  {"ruleType": "ApplicationRule", "name": "any", "protocols": [{"protocolType": "Http", "port": 80}, {"protocolType": "Https", "port": 443}], "targetFqdns": ["*"], "sourceAddresses": ["10.0.0.0/8"]}]}]}}"#,
        Some("10.1.2.3"),
        &[
            r#"feed.egress.test Broader ["list.txt:2: any: *"]"#,
            r#"needed.egress.test Broader ["list.txt:2: any: *"]"#,
            r#"*.wild.egress.test Broader ["list.txt:2: any: *"]"#,
        ],
    );
    // Network rules: FQDNs on TCP ports, `*`, a service tag.
    check_with(
        read,
        r#"{"properties": {"ruleCollections": [{"action": {"type": "Allow"}, "rules": [
  {"ruleType": "NetworkRule", "name": "n1", "ipProtocols": ["TCP"], "destinationPorts": ["443"], "destinationFqdns": ["needed.egress.test"]},
  {"ruleType": "NetworkRule", "name": "n2", "ipProtocols": ["Any"], "destinationPorts": ["80"], "destinationAddresses": ["*"]},
  {"ruleType": "NetworkRule", "name": "n3", "ipProtocols": ["TCP"], "destinationPorts": ["400-500"], "destinationAddresses": ["AzureCloud"]},
  {"ruleType": "NetworkRule", "name": "n4", "ipProtocols": ["UDP"], "destinationPorts": ["53"], "destinationAddresses": ["*"]}]}]}}"#,
        &[
            "note: network rule `n4` is not on TCP: it admits nothing an egress plan needs",
            r#"feed.egress.test Broader ["list.txt:3: n2: *"]"#,
            r#"needed.egress.test Allowed ["list.txt:2: needed.egress.test"]"#,
            r#"*.wild.egress.test NotJudged ["list.txt:4: n3: AzureCloud (not judged: network rule `n3` admits the destination `AzureCloud`, whose hosts are not judged)"]"#,
        ],
    );
    assert_eq!(
        refused(
            read,
            r#"{"rules": [{"name": "s", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["a.example"], "sourceAddresses": ["servers"]}]}"#
        ),
        [
            "1:163: rule `s`: `servers` is not a source address: write an address, `a.b.c.d/n`, `low-high` or `*`"
        ]
    );
}

/// What an unsure entry cannot admit stays blocked: a rule for an IP
/// group naming one host of a wildcard row leaves the row blocked in part;
/// a network rule to private ranges admits no internet host.
#[test]
fn unsure_entries_do_not_hide_definite_blocks() {
    let read: Read = |f, t| read_azure(f, t);
    check_with(
        read,
        r#"{"rules": [
  {"ruleType": "ApplicationRule", "name": "one", "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["a.wild.egress.test"], "sourceIpGroups": ["servers"]},
  {"ruleType": "NetworkRule", "name": "inside", "ipProtocols": ["TCP"], "destinationPorts": ["443"], "destinationAddresses": ["10.0.0.0/8", "fd00::/8"]}]}"#,
        &[
            "note: network rule `inside`: `10.0.0.0/8` is a private or reserved range: no internet host",
            "note: network rule `inside`: `fd00::/8` is a private or reserved range: no internet host",
            "feed.egress.test Blocked []",
            "needed.egress.test Blocked []",
            r#"*.wild.egress.test Partly ["list.txt:2: a.wild.egress.test (not judged: its sources IP group `servers` are not resolved here)"]"#,
        ],
    );
}

/// A YAML CloudFormation template is named as one, not read as Suricata
/// rules; a PAN-OS entry never shows a credential.
#[test]
fn yaml_templates_and_credentials() {
    assert_eq!(
        refused(
            read_aws,
            "# egress\nAWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        ),
        [
            "2:1: `AWSTemplateFormatVersion: '2010-09-09'` starts a YAML document (a CloudFormation template?): egress reads rule groups as JSON; convert the template to JSON (for example with `cfn-flip`) or give `aws network-firewall describe-rule-group` output"
        ]
    );
    let errors = refused(read_pan_edl, "https://bob:s3cret@proxy.example/\n");
    assert!(errors.iter().all(|e| !e.contains("s3cret")), "{errors:?}");
    assert!(
        errors[0].contains("`https://***@proxy.example/`"),
        "{errors:?}"
    );
}

/// A PAN-OS URL entry's path on a plain-HTTP row: under it, admitted;
/// beside it, not at all; above it, in part. IPv6 entries are addresses.
#[test]
fn pan_os_paths_and_addresses() {
    let read: Read = |f, t| read_pan_edl(f, t);
    check_with(
        read,
        "feed.egress.test/other/\n2001:db8::1\n[2001:db8::2]/\n",
        &[
            "feed.egress.test Blocked []",
            "needed.egress.test Blocked []",
            "*.wild.egress.test Blocked []",
            "unexplained: 2001:db8::1 (near [2001:db8::1])",
            "unexplained: [2001:db8::2]/ (near [2001:db8::2])",
        ],
    );
    check_with(
        read,
        "feed.egress.test/feed/deeper/\n",
        &[
            r#"feed.egress.test Partly ["list.txt:1: feed.egress.test/feed/deeper/ (not judged: `feed.egress.test/feed/deeper/` admits only the URLs under `/feed/deeper/`)"]"#,
            "needed.egress.test Blocked []",
            "*.wild.egress.test Blocked []",
        ],
    );
    let errors = refused(read, "bob:s3cret@proxy.example/x\n");
    assert_eq!(
        errors,
        [
            "1:1: `***@proxy.example/x` holds a user name: PAN-OS takes none in a list entry; write `proxy.example/x`"
        ]
    );
}

/// Values of one JSON array on one line: each unexplained one is listed.
#[test]
fn entries_on_one_line_are_each_explained_or_listed() {
    check_with(
        read_azure,
        r#"{"rules": [{"name": "r", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": ["needed.egress.test", "evil.example"]}]}"#,
        &[
            "feed.egress.test Blocked []",
            r#"needed.egress.test Allowed ["list.txt:1: needed.egress.test"]"#,
            "*.wild.egress.test Blocked []",
            "unexplained: evil.example (near evil.example)",
        ],
    );
    // An AWS rule to a private destination is no allowlist entry.
    check_with(
        read_aws,
        "pass tls $HOME_NET any -> 10.0.0.0/8 443 (sid:1;)\npass tls $HOME_NET any -> $HOME_NET 443 (sid:2;)\n",
        &[
            "note: 2 Suricata rules are not read (only `pass` rules on `tls.sni` or `http.host` with one whole-host `content` and no narrowing option): with strict rule order a `drop` or `reject` before a `pass` blocks what this report calls allowed",
            "feed.egress.test Blocked []",
            "needed.egress.test Blocked []",
            "*.wild.egress.test Blocked []",
        ],
    );
}

/// An FQDN tag Microsoft documents by reference: WindowsUpdate's hosts.
#[test]
fn the_windows_update_tag_admits_the_documented_hosts() {
    let (entries, _) = read_azure(
        "policy.json",
        r#"{"rules": [{"name": "wu", "ruleType": "ApplicationRule", "protocols": [{"protocolType": "Http", "port": 80}, {"protocolType": "Https", "port": 443}], "fqdnTags": ["WindowsUpdate"]}]}"#,
    )
    .unwrap();
    let hosts: Vec<String> = entries.iter().map(|e| e.text.clone()).collect();
    assert!(
        hosts.contains(
            &"FQDN tag WindowsUpdate (*.update.microsoft.com, as Microsoft documents it)"
                .to_owned()
        ),
        "{hosts:?}"
    );
    assert_eq!(entries.len(), 8);
    assert!(entries.iter().all(|e| e.unsure.is_none() && !e.every_host));
}

/// AWS rule groups in each shape: `describe-rule-group` output, the
/// `--rule-group` body, a CloudFormation template with structured
/// stateful rules; a rule passing every host of a protocol.
#[test]
fn aws_shapes() {
    let read: Read = |f, t| read_aws(f, t);
    let targets = r#"{"RulesSourceList": {"GeneratedRulesType": "ALLOWLIST", "TargetTypes": ["TLS_SNI"], "Targets": ["needed.egress.test"]}}"#;
    let expected = [
        "note: a domain list cannot restrict ports: a row it allows is allowed on every port of its target types",
        "note: a domain list applies to the sources in `HOME_NET` (by default the firewall's VPC): sources are not judged",
        "feed.egress.test Blocked []",
        r#"needed.egress.test Allowed ["list.txt:1: needed.egress.test"]"#,
        "*.wild.egress.test Blocked []",
    ];
    for shape in [
        format!(
            r#"{{"UpdateToken": "t", "RuleGroup": {{"RulesSource": {targets}}}, "RuleGroupResponse": {{"RuleGroupName": "g"}}}}"#
        ),
        format!(r#"{{"RuleVariables": {{}}, "RulesSource": {targets}}}"#),
    ] {
        check_with(read, &shape, &expected);
    }
    check_with(
        read,
        r#"{"Resources": {"Egress": {"Type": "AWS::NetworkFirewall::RuleGroup", "Properties": {"Capacity": 100, "Type": "STATEFUL", "RuleGroup": {"RulesSource": {"StatefulRules": [
  {"Action": "PASS", "Header": {"Protocol": "HTTP", "Source": "$HOME_NET", "SourcePort": "ANY", "Direction": "FORWARD", "Destination": "ANY", "DestinationPort": "80"}, "RuleOptions": [{"Keyword": "sid", "Settings": ["1"]}]},
  {"Action": "PASS", "Header": {"Protocol": "TLS", "Source": "$HOME_NET", "SourcePort": "ANY", "Direction": "FORWARD", "Destination": "ANY", "DestinationPort": "443"}, "RuleOptions": [{"Keyword": "tls.sni"}, {"Keyword": "content", "Settings": ["\"needed.egress.test\""]}, {"Keyword": "startswith"}, {"Keyword": "endswith"}, {"Keyword": "sid", "Settings": ["2"]}]},
  {"Action": "DROP", "Header": {"Protocol": "TLS", "Source": "$HOME_NET", "SourcePort": "ANY", "Direction": "FORWARD", "Destination": "ANY", "DestinationPort": "ANY"}, "RuleOptions": [{"Keyword": "sid", "Settings": ["3"]}]}]}}}},
  "Deny": {"Type": "AWS::NetworkFirewall::RuleGroup", "Properties": {"RuleGroup": {"RulesSource": {"RulesSourceList": {"GeneratedRulesType": "DENYLIST", "TargetTypes": ["TLS_SNI"], "Targets": [".evil.test"]}}}}}}}"#,
        &[
            "note: rule group `Egress`: 1 Suricata rules are not read (only `pass` rules on `tls.sni` or `http.host` with one whole-host `content` and no narrowing option): with strict rule order a `drop` or `reject` before a `pass` blocks what this report calls allowed",
            "note: rule group `Egress`: the rules' source addresses are not judged: a row passed for some sources counts as allowed",
            "note: list.txt:5:143: `GeneratedRulesType` is `DENYLIST`: only an ALLOWLIST domain list is an allowlist: not entries",
            r#"feed.egress.test Broader ["list.txt:1: pass http $HOME_NET ANY -> ANY 80 (sid:1;)"]"#,
            r#"needed.egress.test Allowed ["list.txt:1: pass tls $HOME_NET ANY -> ANY 443 (tls.sni; content:\"needed.egress.test\"; startswith; endswith; sid:2;)"]"#,
            "*.wild.egress.test Blocked []",
        ],
    );
    assert_eq!(
        refused(read, r#"{"RuleGroupResponse": {}}"#),
        [
            "1:1: no `RulesSource`: not an AWS Network Firewall rule group; give `describe-rule-group` output, a `create-rule-group` body (`--rule-group` or `--cli-input-json`), a CloudFormation `AWS::NetworkFirewall::RuleGroup` resource or template (JSON), or a Suricata rules file"
        ]
    );
}

/// PAN-OS lists read as PAN-OS reads them: each form judged, invalid
/// entries skipped with a located warning, the rest judged.
#[test]
fn pan_os_lists() {
    let read: Read = |f, t| read_pan_edl(f, t);
    check_with(
        read,
        "^needed.egress.test\nfeed.egress.test/\n*.wild.egress.test/\nhttps://other.example/\nww*.egress.test\n",
        &[
            "note: list.txt:4:1: `https://other.example/` starts with a scheme: PAN-OS takes no `http://` or `https://` in a list entry; write `other.example/` (PAN-OS skips it: so does this audit)",
            "note: list.txt:5:1: `ww*.egress.test` is not a PAN-OS list entry: `ww*`: a wildcard (`*` or `^`) must be a whole token, between dots (PAN-OS skips it: so does this audit)",
            r#"feed.egress.test Allowed ["list.txt:2: feed.egress.test/"]"#,
            r#"needed.egress.test Allowed ["list.txt:1: ^needed.egress.test"]"#,
            r#"*.wild.egress.test Allowed ["list.txt:3: *.wild.egress.test/"]"#,
        ],
    );
    // A bare name is the name (its subdomains not judged); `^.x` and a
    // wildcard in the middle are kept and not judged; a path holds for
    // plain HTTP rows under it.
    check_with(
        read,
        "needed.egress.test comment\n^.wild.egress.test\nfeed.egress.test/feed/\nwww.*.example\nneeded.egress.test/other/\n",
        &[
            "note: 1 line holds a space: the first word is read as the entry and the rest as a comment, as PAN-OS documents for IP lists (for domain and URL lists it does not say)",
            "note: 1 entry has no `^`, `*` or ending `/`: judged as the name itself (a domain list, or a URL list on PAN-OS 10.2 and later, which appends the ending `/`); before 10.2, or with the ending token off, a URL list also admits `name.*` (`name.evil.test`), which is over-permissive",
            r#"feed.egress.test Allowed ["list.txt:3: feed.egress.test/feed/"]"#,
            r#"needed.egress.test Allowed ["list.txt:1: needed.egress.test"]"#,
            r#"*.wild.egress.test NotJudged ["list.txt:2: ^.wild.egress.test (not judged: `^.wild.egress.test`: `^` stands for exactly one label, which egress does not judge (it judges whole subdomain trees))"]"#,
            "unexplained: www.*.example (near *.example)",
        ],
    );
    // A bare name's subdomains: not judged (a domain list may expand to
    // them).
    check_with(
        read,
        "egress.test\n",
        &[
            "note: 1 entry has no `^`, `*` or ending `/`: judged as the name itself (a domain list, or a URL list on PAN-OS 10.2 and later, which appends the ending `/`); before 10.2, or with the ending token off, a URL list also admits `name.*` (`name.evil.test`), which is over-permissive",
            "feed.egress.test NotJudged [\"list.txt:1: egress.test (not judged: `egress.test` admits the subdomains only in a domain list with \\\"Automatically expand to include subdomains\\\" (off by default; never in a URL list))\"]",
            "needed.egress.test NotJudged [\"list.txt:1: egress.test (not judged: `egress.test` admits the subdomains only in a domain list with \\\"Automatically expand to include subdomains\\\" (off by default; never in a URL list))\"]",
            "*.wild.egress.test NotJudged [\"list.txt:1: egress.test (not judged: `egress.test` admits the subdomains only in a domain list with \\\"Automatically expand to include subdomains\\\" (off by default; never in a URL list))\"]",
        ],
    );
    // A path the row is not under.
    check_with(
        read,
        "needed.egress.test/other/\n",
        &[
            "feed.egress.test Blocked []",
            "needed.egress.test NotJudged [\"list.txt:1: needed.egress.test/other/ (not judged: `needed.egress.test/other/` admits only the URLs under `/other/`, and a firewall sees no path in HTTPS it does not decrypt)\"]",
            "*.wild.egress.test Blocked []",
        ],
    );
    assert_eq!(
        refused(read, "http://a.example/\n\n*bad.example\n"),
        [
            "1:1: `http://a.example/` starts with a scheme: PAN-OS takes no `http://` or `https://` in a list entry; write `a.example/`",
            "3:1: `*bad.example` is not a PAN-OS list entry: `*bad`: a wildcard (`*` or `^`) must be a whole token, between dots",
        ]
    );
    assert_eq!(
        refused(read, "\n"),
        ["1:1: the list holds no entry: write one domain or URL a line"]
    );
}

/// A row is asked from the servers of its roles; a role without one
/// leaves the address unknown; `--client` stands for every row.
#[test]
fn rows_are_asked_from_their_roles_servers() {
    use egress_audit::asked::row_clients;
    let catalog = catalog();
    let plan = plan(&catalog);
    let server = AddressRange::parse("10.0.0.5").unwrap();
    let servers = vec![(server, vec!["scp".to_owned()])];
    let row = |host: &str| plan.rows.iter().find(|r| r.host == host).unwrap();
    let clients = row_clients(&servers, None);
    assert_eq!(clients(row("needed.egress.test")), [Client::In(server)]);
    assert!(clients(row("*.wild.egress.test")).contains(&Client::Unknown));
    let given = AddressRange::parse("192.168.1.0/24").unwrap();
    let clients = row_clients(&servers, Some(given));
    assert_eq!(clients(row("*.wild.egress.test")), [Client::In(given)]);
}
