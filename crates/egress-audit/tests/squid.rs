//! Squid configurations read as Squid 5.7 reads them and decided as it
//! decides: first matching rule wins, `!` negates, no match is the
//! opposite of the last rule; comments, continued lines, `if`, includes
//! with globs, list files, predefined ACLs, names without case; what
//! egress does not judge (unknown ACL types, missing files, the client's
//! address) said as such; authentication as a given user or not at all;
//! `ssl_bump` step by step; problems located.

use std::collections::BTreeMap;

use egress_audit::squid::{Client, Files, Inspection, Outcome, Request, read};
use egress_catalog::profile::AddressRange;

/// Files by path, as a configuration names them.
struct Tree(BTreeMap<String, String>);

impl Tree {
    fn new(files: &[(&str, &str)]) -> Tree {
        Tree(
            files
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        )
    }
}

impl Files for Tree {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_owned())
    }

    fn list(&self, path: &str) -> Result<Vec<String>, String> {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let names: Vec<String> = self
            .0
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
            .collect();
        if names.is_empty() {
            Err("no such folder".to_owned())
        } else {
            Ok(names)
        }
    }
}

/// A request to ask: method, host, port; from `client` (`None`: not
/// known) as `user` (`None`: none given).
struct Ask<'a> {
    method: &'a str,
    host: &'a str,
    port: u16,
    client: Option<&'a str>,
    user: Option<&'a str>,
}

fn ask<'a>(method: &'a str, host: &'a str, port: u16) -> Ask<'a> {
    Ask {
        method,
        host,
        port,
        client: None,
        user: None,
    }
}

/// Reads `config` (with `files`) and asks it each request: `allow N`,
/// `deny N` (N: the deciding line of squid.conf, `-` for none), `auth N`,
/// `not judged: WHY`, and ` inspected N` after an allowed CONNECT that
/// `ssl_bump` bumps.
#[track_caller]
fn check(config: &str, files: &[(&str, &str)], asks: &[(Ask<'_>, &str)]) {
    let tree = Tree::new(files);
    let c = read("squid.conf", config, &tree).unwrap_or_else(|e| panic!("{e:?}"));
    for (a, expected) in asks {
        let url = if a.method == "CONNECT" {
            format!("{}:{}", a.host, a.port)
        } else {
            format!("http://{}:{}/", a.host, a.port)
        };
        let client = match a.client {
            Some(text) => Client::In(AddressRange::parse(text).unwrap()),
            None => Client::Unknown,
        };
        let d = c.decide(
            &Request {
                method: a.method,
                host: a.host,
                port: a.port,
                url: &url,
                client,
            },
            a.user,
        );
        let line = |rule: &Option<String>| {
            rule.as_deref().map_or("-".to_owned(), |r| {
                r.split(':').nth(1).unwrap_or("").to_owned()
            })
        };
        let mut got = match d.outcome {
            Outcome::Allowed => format!("allow {}", line(&d.rule)),
            Outcome::Denied => format!("deny {}", line(&d.rule)),
            Outcome::NeedsAuth => format!("auth {}", line(&d.rule)),
            Outcome::NotJudged => format!("not judged: {}", d.rule.clone().unwrap_or_default()),
        };
        match &d.inspection {
            Inspection::None => {}
            Inspection::Inspected(rule) => {
                got.push_str(&format!(" inspected {}", line(&Some(rule.clone()))));
            }
            Inspection::NotJudged(why) => got.push_str(&format!(" inspection not judged: {why}")),
        }
        assert_eq!(got, *expected, "{} {}:{}", a.method, a.host, a.port);
    }
}

/// The problems `read` reports: `file:line:column: message` each, the
/// message cut at its first `(` or `;`.
#[track_caller]
fn refused(config: &str, files: &[(&str, &str)]) -> Vec<String> {
    read("squid.conf", config, &Tree::new(files))
        .unwrap_err()
        .iter()
        .map(|e| {
            let message = e.message.split([';', '(']).next().unwrap().trim_end();
            format!("{}:{}:{}: {message}", e.file, e.line, e.column)
        })
        .collect()
}

#[test]
fn rules_in_order() {
    let config = "\
acl ssl port 443 8443-8444
acl ms dstdomain .microsoft.com aka.ms
acl re dstdom_regex -i ^cm[^.]+\\.blob\\.core\\.windows\\.net$
acl listed dstdomain \"list.txt\"
http_access deny CONNECT !ssl
http_access allow ms
http_access allow CONNECT re
include more.conf
";
    let files = [
        ("list.txt", "# a list\nfeed.example\n"),
        (
            "more.conf",
            "http_access allow listed\nhttp_access deny all\n",
        ),
    ];
    check(
        config,
        &files,
        &[
            (ask("CONNECT", "go.microsoft.com", 443), "allow 6"),
            (ask("CONNECT", "microsoft.com", 8443), "allow 6"),
            (ask("CONNECT", "microsoft.com", 80), "deny 5"),
            (ask("CONNECT", "aka.ms", 443), "allow 6"),
            (ask("CONNECT", "x.aka.ms", 443), "deny 2"),
            (
                ask("CONNECT", "cmabc.blob.core.windows.net", 443),
                "allow 7",
            ),
            (
                ask("CONNECT", "CMabc.blob.core.windows.net", 443),
                "allow 7",
            ),
            (ask("GET", "cmabc.blob.core.windows.net", 80), "deny 2"),
            (ask("GET", "feed.example", 80), "allow 1"),
        ],
    );
    // No rule matches: the opposite of the last one; no rule at all:
    // denied.
    check(
        "acl a dstdomain a.example\nhttp_access deny a\n",
        &[],
        &[
            (ask("GET", "a.example", 80), "deny 2"),
            (ask("GET", "b.example", 80), "allow -"),
        ],
    );
    check("", &[], &[(ask("GET", "b.example", 80), "deny -")]);
}

#[test]
fn comments_continued_lines_and_conditions() {
    // A `#` that begins a token ends the line; one inside a token does
    // not; a trailing backslash glues the next line on without a space;
    // `\r` ends a line.
    check(
        "acl Safe_ports port 80\t\t# http\r\n\
         acl odd dstdomain a#b.example\n\
         acl hosts dstdomain a.example \\\n   b.example\n\
         acl glued dstdomain c.exam\\\n    ple\n\
         http_access allow odd\n\
         http_access allow hosts Safe_ports # a comment with \"quotes\"\n\
         http_access allow glued\n\
         http_access deny all\n",
        &[],
        &[
            (ask("GET", "a#b.example", 80), "allow 7"),
            (ask("GET", "b.example", 80), "allow 8"),
            (ask("GET", "b.example", 81), "deny 10"),
            (ask("GET", "c.example", 80), "allow 9"),
        ],
    );
    // `if` as Squid's first worker decides it; only the innermost `if`
    // counts; `else` flips it.
    check(
        "if ${process_number} = 1\n\
         acl a dstdomain a.example\n\
         else\n\
         acl a dstdomain b.example\n\
         endif\n\
         if false\n\
         if true\n\
         http_access allow a\n\
         endif\n\
         http_access deny all\n\
         endif\n",
        &[],
        &[
            (ask("GET", "a.example", 80), "allow 8"),
            (ask("GET", "b.example", 80), "deny -"),
        ],
    );
}

#[test]
fn predefined_acls_and_names_without_case() {
    check(
        "acl SSL_Ports port 443\n\
         acl hosts dstdomain .example\n\
         acl Hosts dstdomain .example.org\n\
         http_access deny connect !ssl_ports\n\
         http_access deny MANAGER\n\
         http_access allow HOSTS ALL\n",
        &[],
        &[
            (ask("CONNECT", "a.example", 443), "allow 6"),
            (ask("CONNECT", "a.example.org", 443), "allow 6"),
            (ask("CONNECT", "a.example", 8443), "deny 4"),
            (ask("GET", "a.example", 8443), "allow 6"),
            (ask("GET", "b.test", 80), "deny -"),
        ],
    );
    // A method without case, as Squid reads it.
    check(
        "acl c method connect\nhttp_access allow c\n",
        &[],
        &[(ask("CONNECT", "a.example", 443), "allow 2")],
    );
}

#[test]
fn includes_with_globs_in_byte_order() {
    let files = [
        ("/etc/squid/conf.d/b.conf", "http_access allow b\n"),
        ("/etc/squid/conf.d/A.conf", "acl b dstdomain b.example\n"),
        ("/etc/squid/conf.d/.hidden.conf", "http_access allow all\n"),
        ("/etc/squid/conf.d/notes.txt", "not read\n"),
        ("/etc/squid/last.conf", "http_access deny all\n"),
    ];
    check(
        "include /etc/squid/conf.d/*.conf /etc/squid/last.conf\n",
        &files,
        &[
            (ask("GET", "b.example", 80), "allow 1"),
            (ask("GET", "c.example", 80), "deny 1"),
        ],
    );
}

#[test]
fn list_files_as_squid_reads_them() {
    // A value a line (blanks inside kept), a `#` word ending it; values
    // after a quoted file on the same line are not read.
    check(
        "acl listed dstdomain \"hosts.txt\" never.example\n\
         http_access allow listed\n",
        &[(
            "hosts.txt",
            "# hosts\n\n  a.example   # the first\n.b.example\r\nc#d.example\n",
        )],
        &[
            (ask("GET", "a.example", 80), "allow 2"),
            (ask("GET", "x.b.example", 80), "allow 2"),
            (ask("GET", "c#d.example", 80), "allow 2"),
            (ask("GET", "never.example", 80), "deny -"),
        ],
    );
    // With quoted values on, a quoted value is itself and
    // `parameters("file")` names a file.
    check(
        "configuration_includes_quoted_values on\n\
         acl a dstdomain \"a.example\" parameters(\"more.txt\") z.example\n\
         configuration_includes_quoted_values off\n\
         http_access allow a\n",
        &[("more.txt", "b.example c.example # d.example\n")],
        &[
            (ask("GET", "a.example", 80), "allow 4"),
            (ask("GET", "c.example", 80), "allow 4"),
            (ask("GET", "z.example", 80), "allow 4"),
            (ask("GET", "d.example", 80), "deny -"),
        ],
    );
}

#[test]
fn what_egress_cannot_judge_is_said() {
    // An ACL of a type egress does not evaluate: rows that reach it are
    // not judged, unless every way on gives the same answer.
    check(
        "acl hours time 08:00-17:00\n\
         acl a dstdomain a.example\n\
         acl b dstdomain b.example\n\
         http_access allow a\n\
         http_access allow hours b\n\
         http_access deny hours\n\
         http_access deny all\n",
        &[],
        &[
            (ask("GET", "a.example", 80), "allow 4"),
            (
                ask("GET", "b.example", 80),
                "not judged: squid.conf:5: http_access allow hours b depends on acl hours of type time at squid.conf:1: it is not evaluated by egress",
            ),
            (ask("GET", "c.example", 80), "deny 6"),
        ],
    );
    // A list file that cannot be found: what its values would decide is
    // not judged; what the known values decide is.
    check(
        "acl l dstdomain a.example \"/gone.txt\"\nhttp_access allow l\nhttp_access deny all\n",
        &[],
        &[
            (ask("GET", "a.example", 80), "allow 2"),
            (
                ask("GET", "b.example", 80),
                "not judged: squid.conf:2: http_access allow l depends on acl l of type dstdomain at squid.conf:1: its list file `/gone.txt` (named at squid.conf:1) cannot be read: no such file",
            ),
        ],
    );
    // An include that cannot be found: nothing is judged.
    let c = read(
        "squid.conf",
        "include /etc/squid/conf.d/*.conf\nhttp_access allow all\n",
        &Tree::new(&[]),
    )
    .unwrap();
    assert!(
        c.notes[0]
            .starts_with("nothing is judged: squid.conf:1: `include /etc/squid/conf.d/*.conf`"),
        "{:?}",
        c.notes
    );
    // The destination's address, a reverse lookup, a regular expression
    // egress cannot read.
    check(
        "acl local dst 10.0.0.0/8\n\
         acl names dstdomain a.example\n\
         acl odd url_regex a(?=b)\n\
         http_access deny local\n\
         http_access allow names\n\
         http_access allow odd\n",
        &[],
        &[
            (ask("GET", "10.1.1.1", 80), "deny 4"),
            (
                ask("GET", "192.0.2.1", 80),
                "not judged: squid.conf:5: http_access allow names depends on acl names of type dstdomain at squid.conf:2: an IP address is matched by its reverse DNS name (no -n)",
            ),
            (
                ask("GET", "a.example", 80),
                "not judged: squid.conf:4: http_access deny local depends on acl local of type dst at squid.conf:1: the addresses the name resolves to at the proxy are not known here",
            ),
        ],
    );
}

#[test]
fn source_addresses() {
    let config = "acl office src 10.1.0.0/16 10.2.0.1-10.2.0.9\n\
                  http_access allow office\n\
                  http_access deny all\n";
    let from = |client: &'static str| Ask {
        client: Some(client),
        ..ask("GET", "a.example", 80)
    };
    check(
        config,
        &[],
        &[
            (from("10.1.2.3"), "allow 2"),
            (from("10.1.0.0/24"), "allow 2"),
            (from("10.2.0.5"), "allow 2"),
            (from("10.3.0.1"), "deny 3"),
            (
                from("10.0.0.0/8"),
                "not judged: squid.conf:2: http_access allow office depends on acl office of type src at squid.conf:1: it holds part of the client range 10.0.0.0/8",
            ),
            (
                ask("GET", "a.example", 80),
                "not judged: squid.conf:2: http_access allow office depends on acl office of type src at squid.conf:1: the site system's address is not known (give --client ADDRESS, or the role's servers in the profile)",
            ),
        ],
    );
    // `all` holds every client.
    check(
        "http_access allow all\n",
        &[],
        &[(ask("GET", "a.example", 80), "allow 1")],
    );
}

#[test]
fn authentication_as_the_given_user() {
    let config = "auth_param basic program /usr/lib/squid/basic_ncsa_auth /etc/squid/passwd\n\
                  acl authenticated proxy_auth REQUIRED\n\
                  acl admins proxy_auth -i Alice\n\
                  acl special dstdomain s.example\n\
                  http_access deny !authenticated\n\
                  http_access allow special admins\n\
                  http_access deny special\n\
                  http_access allow all\n";
    let with = |user: &'static str, host: &'static str| Ask {
        user: Some(user),
        ..ask("CONNECT", host, 443)
    };
    check(
        config,
        &[],
        &[
            (ask("CONNECT", "a.example", 443), "auth 5"),
            (with("bob", "a.example"), "allow 8"),
            (with("alice", "s.example"), "allow 6"),
            (with("bob", "s.example"), "deny 7"),
        ],
    );
    // A rule decided before any authentication ACL needs no user.
    check(
        "acl open dstdomain open.example\n\
         acl users proxy_auth REQUIRED\n\
         http_access allow open\n\
         http_access allow users\n",
        &[],
        &[
            (ask("CONNECT", "open.example", 443), "allow 3"),
            (ask("CONNECT", "b.example", 443), "auth 4"),
        ],
    );
}

#[test]
fn ssl_bump_step_by_step() {
    let rules = "acl step1 at_step SslBump1\n\
                 acl pinned ssl::server_name .pinned.example\n\
                 http_access allow all\n";
    // Peek, then splice what is pinned and bump the rest.
    check(
        &format!(
            "http_port 3128 ssl-bump tls-cert=/ca.pem\n{rules}\
             ssl_bump peek step1\n\
             ssl_bump splice pinned\n\
             ssl_bump bump all\n"
        ),
        &[],
        &[
            (ask("CONNECT", "a.pinned.example", 443), "allow 4"),
            (ask("CONNECT", "b.example", 443), "allow 4 inspected 7"),
            (ask("GET", "b.example", 80), "allow 4"),
        ],
    );
    // Stare, and no rule at step 3: bumped; peek and no rule: spliced.
    check(
        &format!("http_port 3128 ssl-bump\n{rules}ssl_bump stare all\n"),
        &[],
        &[(ask("CONNECT", "b.example", 443), "allow 4 inspected 5")],
    );
    check(
        &format!("http_port 3128 ssl-bump\n{rules}ssl_bump peek all\n"),
        &[],
        &[(ask("CONNECT", "b.example", 443), "allow 4")],
    );
    // A terminate is a denial; a port without ssl-bump bumps nothing;
    // the server certificate's names (step 3) are not known here.
    check(
        &format!(
            "http_port 3128 ssl-bump\n{rules}ssl_bump terminate pinned\nssl_bump splice all\n"
        ),
        &[],
        &[
            (ask("CONNECT", "a.pinned.example", 443), "deny 5"),
            (ask("CONNECT", "b.example", 443), "allow 4"),
        ],
    );
    check(
        &format!("http_port 3128\n{rules}ssl_bump bump all\n"),
        &[],
        &[(ask("CONNECT", "b.example", 443), "allow 4")],
    );
    // What egress does not judge, where it decides a splice or a bump:
    // the inspection is not judged. At step 3 the server certificate's
    // names are not known here, and only a terminate can follow from
    // them: then the request is not judged.
    check(
        &format!(
            "http_port 3128 ssl-bump\n{rules}acl hours time 08:00-17:00\nssl_bump bump hours\nssl_bump splice all\n"
        ),
        &[],
        &[(
            ask("CONNECT", "a.pinned.example", 443),
            "allow 4 inspection not judged: squid.conf:6: ssl_bump bump hours depends on acl hours of type time at squid.conf:5: it is not evaluated by egress",
        )],
    );
    check(
        &format!(
            "http_port 3128 ssl-bump\n{rules}acl step3 at_step SslBump3\nssl_bump peek !step3\nssl_bump terminate step3 pinned\n"
        ),
        &[],
        &[(
            ask("CONNECT", "a.pinned.example", 443),
            "not judged: squid.conf:7: ssl_bump terminate step3 pinned depends on acl pinned of type ssl::server_name at squid.conf:3: at ssl_bump step 3 it matches the names of the server's certificate",
        )],
    );
}

#[test]
fn what_squid_refuses_is_refused_and_located() {
    assert_eq!(
        refused("{\n  \"rules\": []\n}\n", &[]),
        [
            "squid.conf:1:1: `{` is not a Squid directive",
            "squid.conf:2:3: `\"rules\":` is not a Squid directive",
            "squid.conf:3:1: `}` is not a Squid directive",
        ]
    );
    assert_eq!(
        refused(
            "http_access allow nope\n\
             acl p port 9-1\n\
             acl d dstdomain a.example\n\
             acl D port 80\n\
             if maybe\n\
             endif\n\
             endif\n",
            &[]
        ),
        [
            "squid.conf:1:19: `nope` is not a defined acl",
            "squid.conf:2:12: `9-1` is not a port or a range of ports",
            "squid.conf:4:7: acl `D` already exists with the type `dstdomain`",
            "squid.conf:5:4: `if maybe`: Squid cannot evaluate this condition",
            "squid.conf:7:1: `endif` without `if`",
        ]
    );
    // What Squid reads on with a message, egress reads on too, and says.
    let c = read(
        "squid.conf",
        "broken_vary_encoding allow all\nhttp_access Allow all\nhttp_access allow\nacl x dstdom_regex (\n",
        &Tree::new(&[]),
    )
    .unwrap();
    assert_eq!(
        c.notes,
        [
            "squid.conf:2: `http_access Allow` is skipped, as Squid skips it: the action must be `allow` or `deny`",
            "squid.conf:3: `http_access allow` names no acl: Squid skips it",
        ]
    );
}

#[test]
fn authentication_behind_what_is_not_judged() {
    // Where an ACL egress cannot judge matches, Squid asks for
    // credentials next: no later rule settles the row.
    let config = "acl office src 10.0.0.0/8\n\
                  acl users proxy_auth REQUIRED\n\
                  http_access allow office users\n\
                  http_access allow all\n";
    let from = |client: &'static str| Ask {
        client: Some(client),
        ..ask("CONNECT", "a.example", 443)
    };
    check(
        config,
        &[],
        &[
            (
                ask("CONNECT", "a.example", 443),
                "not judged: squid.conf:3: http_access allow office users depends on acl office of type src at squid.conf:1: the site system's address is not known (give --client ADDRESS, or the role's servers in the profile)",
            ),
            (from("10.1.1.1"), "auth 3"),
            (from("192.0.2.1"), "allow 4"),
        ],
    );
    // any-of checks its ACLs left to right: credentials first.
    check(
        "acl users proxy_auth REQUIRED\n\
         acl a dstdomain a.example\n\
         acl either any-of users a\n\
         acl first any-of a users\n\
         http_access allow first\n\
         http_access allow either\n",
        &[],
        &[
            (ask("GET", "a.example", 80), "allow 5"),
            (ask("GET", "b.example", 80), "auth 5"),
        ],
    );
}

#[test]
fn all_of_and_any_of() {
    // all-of: all of one line's ACLs, any line.
    check(
        "acl a dstdomain a.example\n\
         acl web port 80\n\
         acl tls port 443\n\
         acl both all-of a web\n\
         acl both all-of CONNECT tls\n\
         http_access allow both\n",
        &[],
        &[
            (ask("GET", "a.example", 80), "allow 6"),
            (ask("GET", "b.example", 80), "deny -"),
            (ask("CONNECT", "b.example", 443), "allow 6"),
            (ask("CONNECT", "b.example", 80), "deny -"),
        ],
    );
    // A member that leads back to the ACL is not followed.
    check(
        "acl a any-of CONNECT\n\
         acl b any-of a\n\
         acl a any-of b\n\
         http_access allow a\n\
         http_access deny all\n",
        &[],
        &[
            (ask("CONNECT", "b.example", 443), "allow 4"),
            (
                ask("GET", "b.example", 80),
                "not judged: squid.conf:4: http_access allow a depends on acl a of type any-of at squid.conf:1: its member `b` leads back to it (Squid would not finish evaluating it)",
            ),
        ],
    );
}

#[test]
fn lines_squid_reads_otherwise() {
    // `endif` and `else` by their first word; a line still continued at
    // the end of the file is not read.
    check(
        "if true\nacl a dstdomain a.example\nelse # the other workers\nacl a dstdomain b.example\nendif # workers\nhttp_access allow a\nhttp_access allow all \\",
        &[],
        &[
            (ask("GET", "a.example", 80), "allow 6"),
            (ask("GET", "b.example", 80), "deny -"),
        ],
    );
    // Regular expressions POSIX reads otherwise than egress.
    check(
        "acl d dstdom_regex ^a\\d\\.example$\n\
         acl w dstdom_regex ^[a-z\\w]+\\.example$\n\
         acl ok dstdom_regex ^x[^\\.]\\.example$ ^b\\w\\.example$\n\
         http_access allow ok\n\
         http_access allow d\n\
         http_access deny all\n",
        &[],
        &[
            (ask("GET", "xy.example", 80), "allow 4"),
            (ask("GET", "bx.example", 80), "allow 4"),
            (
                ask("GET", "a1.example", 80),
                "not judged: squid.conf:5: http_access allow d depends on acl d of type dstdom_regex at squid.conf:1: its pattern `^a\\d\\.example$` has `\\d`, which POSIX regular expressions (Squid's) read otherwise than egress",
            ),
        ],
    );
}
