//! The SSRF rules of `egress proxy`: every spelling of an IP
//! literal becomes its address; every address that is not public is
//! denied unless allowed, also when an IPv6 address carries it.

use std::net::SocketAddr;

use egress_gate::{AddressRules, parse_host};

/// `input` as a request's host: `Ok(host as egress prints it, written)` or
/// the error's text.
fn check_host(input: &str, expected: Result<(&str, Option<&str>), &str>) {
    let got = parse_host(input);
    match (got, expected) {
        (Ok(t), Ok((host, written))) => {
            assert_eq!(t.host.to_string(), host, "{input}");
            assert_eq!(t.written.as_deref(), written, "{input}");
        }
        (Err(e), Err(text)) => {
            let e = e.to_string();
            assert!(e.contains(text), "{input}: {e}");
        }
        (got, expected) => panic!("{input}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn every_spelling_of_an_address_is_that_address() {
    let loopback = Ok(("127.0.0.1", None));
    check_host("127.0.0.1", loopback);
    for spelling in [
        "127.1",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "0177.1",
        "127.0.0.1.",
        "127.0.1",
        "127%2E0%2E0%2E1",
    ] {
        check_host(spelling, Ok(("127.0.0.1", Some(spelling))));
    }
    check_host("[::1]", Ok(("[::1]", None)));
    check_host(
        "[0:0:0:0:0:0:0:1]",
        Ok(("[::1]", Some("[0:0:0:0:0:0:0:1]"))),
    );
    check_host("[::ffff:127.0.0.1]", Ok(("[::ffff:127.0.0.1]", None)));
    check_host(
        "[::ffff:7f00:1]",
        Ok(("[::ffff:127.0.0.1]", Some("[::ffff:7f00:1]"))),
    );
    check_host("[64:ff9b::a00:1]", Ok(("[64:ff9b::a00:1]", None)));
    check_host("169.254.169.254", Ok(("169.254.169.254", None)));
    // Names: normalized as everywhere in egress.
    check_host("Example.COM.", Ok(("example.com", None)));
    check_host("bücher.example", Ok(("xn--bcher-kva.example", None)));
    check_host("127.0.0.1.nip.io", Ok(("127.0.0.1.nip.io", None)));
    // Refused.
    check_host("[fe80::1%25eth0]", Err("names an IPv6 zone"));
    check_host("[fe80::1%eth0]", Err("names an IPv6 zone"));
    check_host("256.0.0.1", Err("not a host name or IP address"));
    check_host("0x100000000", Err("not a host name or IP address"));
    check_host("", Err("not a host name or IP address"));
    check_host("a b.example", Err("not a host name or IP address"));
}

/// `to` judged with `--allow-net` ranges `allow`, the proxy listening on
/// `own`: `Ok` or the denial's text.
fn check_address(to: &str, allow: &[&str], intranet: bool, expected: Result<(), &str>) {
    let rules = AddressRules {
        allow: allow.iter().map(|a| a.parse().unwrap()).collect(),
        own: vec!["127.0.0.1:3128".parse().unwrap()],
    };
    let to: SocketAddr = to.parse().unwrap();
    match (rules.judge(to, intranet), expected) {
        (Ok(()), Ok(())) => {}
        (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{to}: {e}"),
        (got, expected) => panic!("{to}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn only_public_addresses_unless_allowed() {
    for (to, why) in [
        ("127.0.0.1:443", "is loopback"),
        ("127.255.0.9:443", "is loopback"),
        ("10.0.0.1:443", "private network"),
        ("172.16.5.4:443", "private network"),
        ("192.168.1.1:80", "private network"),
        ("169.254.169.254:80", "link-local"),
        ("100.64.0.1:443", "carrier-grade NAT"),
        ("100.127.255.255:443", "carrier-grade NAT"),
        ("224.0.0.1:443", "multicast"),
        ("0.0.0.0:443", "unspecified"),
        ("0.1.2.3:443", "unspecified"),
        ("255.255.255.255:443", "broadcast"),
        ("240.0.0.1:443", "reserved"),
        ("[::1]:443", "is loopback"),
        ("[::]:443", "unspecified"),
        ("[fe80::1]:443", "link-local"),
        ("[fd00::1]:443", "unique local"),
        ("[fec0::1]:443", "private network"),
        ("[ff02::1]:443", "multicast"),
        ("[::ffff:127.0.0.1]:443", "is loopback"),
        ("[::ffff:10.1.2.3]:443", "private network"),
        ("[::127.0.0.1]:443", "leads to 127.0.0.1 (IPv4-compatible)"),
        ("[64:ff9b::7f00:1]:443", "leads to 127.0.0.1 (NAT64)"),
        (
            "[64:ff9b::a9fe:a9fe]:80",
            "leads to 169.254.169.254 (NAT64)",
        ),
        ("[64:ff9b:1::a00:1]:443", "leads to 10.0.0.1 (NAT64)"),
        ("[2002:7f00:1::1]:443", "leads to 127.0.0.1 (6to4)"),
        ("[2002:c0a8:101::]:443", "leads to 192.168.1.1 (6to4)"),
        // Teredo: server 65.54.227.120, client 127.0.0.1 (inverted).
        (
            "[2001:0:4136:e378:8000:63bf:80ff:fffe]:443",
            "leads to 127.0.0.1 (Teredo)",
        ),
        ("[2001:0:a00:1::]:443", "leads to 10.0.0.1 (Teredo)"),
    ] {
        check_address(to, &[], false, Err(why));
    }
    for to in [
        "93.184.216.34:443",
        "100.63.255.255:443",
        "100.128.0.0:443",
        "172.32.0.1:443",
        "[2606:4700::1111]:443",
        "[::ffff:93.184.216.34]:443",
        "[64:ff9b::5db8:d822]:443",
        "[2002:5db8:d822::1]:443",
    ] {
        check_address(to, &[], false, Ok(()));
    }
}

#[test]
fn allowed_networks_intranet_hosts_and_the_proxy_itself() {
    // --allow-net: the network, and addresses that lead into it.
    check_address("127.0.0.1:8443", &["127.0.0.0/8"], false, Ok(()));
    check_address("[::ffff:127.0.0.1]:8443", &["127.0.0.0/8"], false, Ok(()));
    check_address("[64:ff9b::7f00:1]:8443", &["127.0.0.0/8"], false, Ok(()));
    check_address(
        "10.0.0.1:443",
        &["127.0.0.0/8"],
        false,
        Err("private network"),
    );
    check_address("10.1.2.3:443", &["10.1.0.0/16"], false, Ok(()));
    // A host the plan marks intranet (a SUP's parent): any address.
    check_address("10.1.2.3:8531", &[], true, Ok(()));
    // The proxy itself: never, whatever is allowed.
    for (to, intranet) in [("127.0.0.1:3128", false), ("127.0.0.1:3128", true)] {
        check_address(to, &["127.0.0.0/8"], intranet, Err("own listening address"));
    }
    check_address(
        "[::ffff:127.0.0.1]:3128",
        &["127.0.0.0/8"],
        false,
        Err("own listening address"),
    );
    check_address("127.0.0.1:3129", &["127.0.0.0/8"], false, Ok(()));
}

#[test]
fn listening_on_every_address_denies_this_machine_on_that_port() {
    let rules = AddressRules {
        allow: vec!["0.0.0.0/0".parse().unwrap()],
        own: vec!["0.0.0.0:3128".parse().unwrap()],
    };
    for to in ["127.0.0.1:3128", "10.0.0.5:3128", "[::1]:3128"] {
        let to: SocketAddr = to.parse().unwrap();
        assert!(rules.judge(to, true).is_err(), "{to}");
    }
    assert!(rules.judge("10.0.0.5:443".parse().unwrap(), false).is_ok());
}

#[test]
fn a_mixed_answer_is_judged_address_by_address() {
    let rules = AddressRules::default();
    let answer: Vec<SocketAddr> = [
        "10.0.0.1:443",
        "93.184.216.34:443",
        "[::1]:443",
        "[2606:4700::1111]:443",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect();
    let (allowed, denied) = rules.partition(&answer, false);
    assert_eq!(allowed, [answer[1], answer[3]]);
    assert_eq!(denied.len(), 2);
}

proptest::proptest! {
    /// However an IPv4 address is written, as a 32-bit number, in hex, or
    /// as the dotted quad, it is the same address and judged the same.
    #[test]
    fn numeric_spellings_agree(n: u32) {
        let dotted = std::net::Ipv4Addr::from(n).to_string();
        for spelling in [n.to_string(), format!("0x{n:x}"), format!("0{n:o}")] {
            let target = parse_host(&spelling).unwrap();
            proptest::prop_assert_eq!(target.host.to_string(), dotted.clone());
        }
    }
}
