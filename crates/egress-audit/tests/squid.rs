//! Squid access rules evaluated as Squid does: first matching
//! `http_access` wins, `!` negates, no match is the opposite of the last
//! rule; acl values from list files and included files; problems located.

use std::collections::BTreeMap;

use egress_audit::squid::{Request, read};

/// Reads `config` (with `files` for includes and lists) and asks it each
/// `(method, host, port)`: `allow` or `deny`, with the deciding line.
#[track_caller]
fn check(config: &str, files: &[(&str, &str)], asks: &[(&str, &str, u16, &str)]) {
    let files: BTreeMap<&str, &str> = files.iter().copied().collect();
    let read_file = |path: &str| {
        files
            .get(path)
            .map(|t| t.to_string())
            .ok_or_else(|| "no such file".to_owned())
    };
    let c = read("squid.conf", config, &read_file).unwrap();
    for (method, host, port, expected) in asks {
        let url = if *method == "CONNECT" {
            format!("{host}:{port}")
        } else {
            format!("http://{host}:{port}/")
        };
        let d = c.decide(&Request {
            method,
            host,
            port: *port,
            url: &url,
        });
        let got = format!(
            "{} {}",
            if d.allowed { "allow" } else { "deny" },
            d.rule
                .as_deref()
                .map_or("(no rule)", |r| r.split(':').nth(1).unwrap_or(""))
        );
        assert_eq!(got, *expected, "{method} {host}:{port}");
    }
}

#[test]
fn rules_in_order() {
    let config = "\
acl CONNECT method CONNECT
acl ssl port 443 8443-8444
acl ms dstdomain .microsoft.com aka.ms
acl re dstdom_regex -i ^cm[^.]+\\.blob\\.core\\.windows\\.net$
acl listed dstdomain \"list.txt\"
http_access deny CONNECT !ssl
http_access allow ms
http_access allow CONNECT re
include more.conf
";
    check(
        config,
        &[
            ("list.txt", "# a list\nfeed.example\n"),
            (
                "more.conf",
                "http_access allow listed\nhttp_access deny all\n",
            ),
        ],
        &[
            ("CONNECT", "go.microsoft.com", 443, "allow 7"),
            ("CONNECT", "microsoft.com", 8443, "allow 7"),
            ("CONNECT", "microsoft.com", 80, "deny 6"),
            ("CONNECT", "aka.ms", 443, "allow 7"),
            ("CONNECT", "x.aka.ms", 443, "deny 2"),
            ("CONNECT", "cmabc.blob.core.windows.net", 443, "allow 8"),
            ("CONNECT", "CMabc.blob.core.windows.net", 443, "allow 8"),
            ("GET", "cmabc.blob.core.windows.net", 80, "deny 2"),
            ("GET", "feed.example", 80, "allow 1"),
        ],
    );
    // No rule matches: the opposite of the last one.
    check(
        "acl a dstdomain a.example\nhttp_access deny a\n",
        &[],
        &[
            ("GET", "a.example", 80, "deny 2"),
            ("GET", "b.example", 80, "allow (no rule)"),
        ],
    );
    check("", &[], &[("GET", "b.example", 80, "deny (no rule)")]);
}

#[test]
fn problems_are_all_located() {
    let errors = read(
        "squid.conf",
        "http_access allow nope\nacl x dstdom_regex (\nacl p port 9-1\ninclude gone.conf\nacl y dstdomain \"gone.txt\"\n",
        &|_| Err("no such file".to_owned()),
    )
    .unwrap_err();
    let got: Vec<String> = errors
        .iter()
        .map(|e| format!("{}:{}", e.line, e.message.split(':').next().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            "1:`nope` is not a defined acl; define it with `acl nope TYPE VALUES` before this rule",
            "2:`(` is not a regular expression egress can read",
            "3:`9-1` is not a port or a range of ports",
            "4:`include gone.conf`",
            "5:the list file `gone.txt`",
        ]
    );
}
