//! The catalog format: what loads, and every problem a bad file gets, with
//! its line and column.

use egress_catalog::SourceFile;
use egress_catalog::catalog::{self, Basis, CloudScope, Destination, Direction, Scheme};

/// A minimal valid catalog; cases append to it.
const HEAD: &str = r#"[catalog]
id = "demo"
title = "Demo"
vendor = "Contoso"
product = "Demo product"
revision = "1"
describes = 2024-01-01

[[page]]
id = "p"
title = "Page"
language = "en-US"

[[role]]
id = "client"
title = "Client"

[[placeholder]]
name = "prefix"
title = "Prefix"
kind = "label"

[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "Updates"
"#;

/// Loads `HEAD` plus `tail` and compares the problems, one
/// `line:column: message` each (empty: loads fine).
#[track_caller]
fn check(tail: &str, expected: &[&str]) {
    let text = format!("{HEAD}{tail}");
    let file = SourceFile::new("demo.toml", text);
    let got: Vec<String> = match catalog::load(&file) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .map(|p| {
                let (line, col) = file.line_column(p.span.start);
                format!("{line}:{col}: {}", p.message)
            })
            .collect(),
    };
    assert_eq!(got, expected, "\n{tail}");
}

const OK_ENDPOINT: &str =
    "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\n";

#[test]
fn valid_catalogs_load() {
    check(OK_ENDPOINT, &[]);
    check(
        "\n[[endpoint]]\nid = \"e\"\nurl = \"https://<prefix>.example.com:8443/x?y=1\"\nfeatures = [\"updates\"]\nroles = [\"client\"]\n",
        &[],
    );
}

#[test]
fn syntax_errors() {
    let problems = {
        let file = SourceFile::new("x.toml", format!("{HEAD}\n[[endpoint]\nid = 1"));
        catalog::load(&file).unwrap_err().problems
    };
    assert!(!problems.is_empty());
}

#[test]
fn unknown_keys_and_wrong_types() {
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\nport = 443\n",
        &[
            "33:1: unknown field `port`, expected one of `id`, `host`, `url`, `features`, `section`, `roles`, `schemes`, `ports`, `site_ports`, `assumed`, `cloud`, `direction`, `since_version`, `until_version`, `valid_from`, `valid_until`, `superseded_by`, `superseded_from`, `alternatives`, `tls_versions`, `min_proxy_idle_timeout_secs`, `notes`, `required`, `attributes`, `probe`, `source`",
        ],
    );
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = \"updates\"\n",
        &["32:12: `features` must be a list, not string \"updates\""],
    );
    check(
        "\n[endpoints]\nx = 1\n",
        &[
            "29:2: unknown key `endpoints`; expected one of `catalog`, `page`, `feature`, `role`, `placeholder`, `endpoint`, `network`",
        ],
    );
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\ncloud = \"azure\"\n",
        &["33:9: unknown variant `azure`, expected one of `all`, `public`, `usgov`"],
    );
}

/// An unknown key does not hide its entry's other problems,
/// and every missing key of every table is named, in one run.
#[test]
fn every_catalog_problem_in_one_run() {
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\n\n[[endpoint]]\nid = \"e\"\nhost = \"*.*.example.com\"\nfeatures = [\"update\"]\nroles = [\"clients\"]\ncolour = \"blue\"\n\n[[endpoint]]\nhost = \"b.example.com\"\n\n[[role]]\ntitle = \"No id\"\n\n[[placeholder]]\nname = \"p\"\n",
        &[
            "35:6: duplicate endpoint id `e`",
            "36:11: `*.*.example.com`: invalid host pattern: '*' is only allowed in the leftmost label of a pattern, once (at character 3)",
            "37:13: unknown feature `update`",
            "38:10: unknown role `clients`",
            "39:1: unknown field `colour`, expected one of `id`, `host`, `url`, `features`, `section`, `roles`, `schemes`, `ports`, `site_ports`, `assumed`, `cloud`, `direction`, `since_version`, `until_version`, `valid_from`, `valid_until`, `superseded_by`, `superseded_from`, `alternatives`, `tls_versions`, `min_proxy_idle_timeout_secs`, `notes`, `required`, `attributes`, `probe`, `source`",
            "41:1: this `[[endpoint]]` has no `id`",
            "41:1: this `[[endpoint]]` has no `features`",
            "44:1: this `[[role]]` has no `id`",
            "47:1: this `[[placeholder]]` has no `title`",
            "47:1: this `[[placeholder]]` has no `kind`",
        ],
    );
    // A key given with the wrong type is not also reported missing.
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = 42\nfeatures = [\"updates\"]\nsource = { page = 1 }\n",
        &[
            "31:8: `host` must be a string, not integer `42`",
            "33:19: this value must be a string, not integer `1`",
        ],
    );
}

#[test]
fn every_problem_in_one_run() {
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a..example.com\"\nfeatures = [\"update\"]\nroles = [\"clients\"]\n\n[[endpoint]]\nid = \"e\"\nhost = \"b.example.com\"\nfeatures = [\"updates\"]\n",
        &[
            "31:11: `a..example.com`: invalid host pattern: empty label: two dots in a row, or a dot at the start (at character 3)",
            "32:13: unknown feature `update`",
            "33:10: unknown role `clients`",
            "36:6: duplicate endpoint id `e`",
        ],
    );
}

#[test]
fn invalid_host_patterns() {
    let host =
        |h: &str| format!("\n[[endpoint]]\nid = \"e\"\nhost = \"{h}\"\nfeatures = [\"updates\"]\n");
    check(
        &host("a.*.example.com"),
        &[
            "31:11: `a.*.example.com`: invalid host pattern: '*' is only allowed in the leftmost label of a pattern, once (at character 3)",
        ],
    );
    check(
        &host("exa mple.com"),
        &[
            "31:12: `exa mple.com`: invalid host pattern: character ' ' is not allowed in a host name (letters, digits, '-' and '.') (at character 4)",
        ],
    );
    check(
        &host(&format!("{}.com", "a".repeat(64))),
        &[&format!(
            "31:9: `{}.com`: invalid host pattern: label is 64 characters long; a DNS label has at most 63 (at character 1)",
            "a".repeat(64)
        )],
    );
    check(
        &host(""),
        &["31:9: ``: invalid host pattern: the host is empty (at character 1)"],
    );
    check(
        &host("<prefx>.example.com"),
        &["31:9: unknown placeholder `<prefx>`"],
    );
    check(
        &host("*"),
        &[
            "31:9: `*`: invalid host pattern: a wildcard needs a suffix of at least one label, as in `*.example.com` (at character 1)",
        ],
    );
}

#[test]
fn urls() {
    let url =
        |u: &str| format!("\n[[endpoint]]\nid = \"e\"\nurl = \"{u}\"\nfeatures = [\"updates\"]\n");
    check(
        &url("ftp://a.example.com"),
        &["31:8: unsupported scheme `ftp`; expected `http` or `https`"],
    );
    check(
        &url("https://a.example.com:0/"),
        &["31:30: invalid port `0`; expected 1 to 65535"],
    );
    check(
        &url("a.example.com"),
        &["31:7: `a.example.com` is not a URL: it has no `scheme://`"],
    );
    check(
        &(url("https://a.example.com") + "schemes = [\"http\"]\n"),
        &["33:11: a URL endpoint takes its scheme from the URL"],
    );
}

#[test]
fn references_and_rules() {
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = []\n",
        &[
            "24:6: feature `updates` has no endpoints and no external list",
            "32:12: every endpoint belongs to at least one feature",
        ],
    );
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\nsuperseded_by = \"f\"\n",
        &["33:17: unknown endpoint `f`"],
    );
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\nassumed = [\"ports\"]\n",
        &["33:12: only a value the endpoint gives can be marked assumed"],
    );
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\nvalid_from = 2021-03-02\nvalid_until = 2021-03-01\n",
        &["34:15: valid_until must be after valid_from"],
    );
    check(
        "\n[[endpoint]]\nid = \"E_1\"\nhost = \"a.example.com\"\nfeatures = [\"updates\"]\n",
        &["30:6: endpoint id `E_1` is not kebab-case"],
    );
    check(
        "\n[[endpoint]]\nid = \"e\"\nhost = \"*.example.com\"\nfeatures = [\"updates\"]\nprobe = { hosts = [\"other.test\"] }\n",
        &["33:20: probe host `other.test` is not covered by the endpoint's pattern"],
    );
    check(
        "\n[[feature]]\nid = \"empty\"\ntitle = \"Empty\"\npage = \"p\"\nsection = \"Empty\"\n",
        &[
            "24:6: feature `updates` has no endpoints and no external list",
            "30:6: feature `empty` has no endpoints and no external list",
        ],
    );
}

#[test]
fn suggestions_name_the_nearest_id() {
    let file = SourceFile::new(
        "demo.toml",
        format!(
            "{HEAD}\n[[endpoint]]\nid = \"e\"\nhost = \"a.example.com\"\nfeatures = [\"update\"]\n"
        ),
    );
    let problems = catalog::load(&file).unwrap_err().problems;
    let unknown = problems
        .iter()
        .find(|p| p.message == "unknown feature `update`")
        .unwrap();
    assert_eq!(unknown.help.as_deref(), Some("did you mean `updates`?"));
}

/// Stated or assumed: the defaults of `docs/catalog-format.md`.
#[track_caller]
fn check_basis(
    tail: &str,
    schemes: (&[Scheme], Basis),
    ports: (&[u16], Basis),
    roles: (&[&str], Basis),
) {
    let file = SourceFile::new("demo.toml", format!("{HEAD}{tail}"));
    let c = catalog::load(&file).unwrap_or_else(|e| panic!("{e}"));
    let e = &c.endpoints[0];
    assert_eq!(
        (e.schemes.value.as_slice(), e.schemes.basis),
        schemes,
        "schemes"
    );
    assert_eq!((e.ports.value.as_slice(), e.ports.basis), ports, "ports");
    let r: Vec<&str> = e.roles.value.iter().map(String::as_str).collect();
    assert_eq!((r.as_slice(), e.roles.basis), roles, "roles");
}

#[test]
fn stated_and_assumed() {
    use Basis::*;
    let ep =
        |extra: &str| format!("\n[[endpoint]]\nid = \"e\"\nfeatures = [\"updates\"]\n{extra}\n");
    // A bare host: https 443, assumed; role unspecified.
    check_basis(
        &ep("host = \"a.b\""),
        (&[Scheme::Https], Assumed),
        (&[443], Assumed),
        (&["unspecified"], Stated),
    );
    // A section that states its ports.
    check_basis(
        &ep("host = \"a.b\"\nschemes = [\"https\", \"http\"]\nroles = [\"client\"]"),
        (&[Scheme::Https, Scheme::Http], Stated),
        (&[443, 80], Stated),
        (&["client"], Stated),
    );
    // A URL states its scheme and (default) port.
    check_basis(
        &ep("url = \"http://a.b\""),
        (&[Scheme::Http], Stated),
        (&[80], Stated),
        (&["unspecified"], Stated),
    );
    check_basis(
        &ep("url = \"https://a.b:8443/\""),
        (&[Scheme::Https], Stated),
        (&[8443], Stated),
        (&["unspecified"], Stated),
    );
    // Given, but marked assumed.
    check_basis(
        &ep(
            "host = \"a.b\"\nroles = [\"client\"]\nports = [8080]\nassumed = [\"roles\", \"ports\"]",
        ),
        (&[Scheme::Https], Assumed),
        (&[8080], Assumed),
        (&["client"], Assumed),
    );
    // The site's WSUS ports: 8530 and 8531 until a profile says otherwise.
    check_basis(
        &ep("url = \"http://a.b\"\nsite_ports = \"wsus\""),
        (&[Scheme::Http], Stated),
        (&[8530], Assumed),
        (&["unspecified"], Stated),
    );
    check_basis(
        &ep("url = \"https://a.b\"\nsite_ports = \"wsus\""),
        (&[Scheme::Https], Stated),
        (&[8531], Assumed),
        (&["unspecified"], Stated),
    );
}

#[test]
fn site_ports() {
    let ep =
        |extra: &str| format!("\n[[endpoint]]\nid = \"e\"\nfeatures = [\"updates\"]\n{extra}\n");
    let wrong = "`site_ports` needs a URL endpoint without a port and without `ports`";
    check(
        &ep("host = \"a.b\"\nsite_ports = \"wsus\""),
        &[&format!("33:14: {wrong}")],
    );
    check(
        &ep("url = \"http://a.b:80\"\nsite_ports = \"wsus\""),
        &[&format!("33:14: {wrong}")],
    );
    check(
        &ep("url = \"http://a.b\"\nports = [8530]\nsite_ports = \"wsus\""),
        &[&format!("34:14: {wrong}")],
    );
    check(
        &ep("url = \"http://a.b\"\nsite_ports = \"iis\""),
        &["33:14: unknown variant `iis`, expected `wsus`"],
    );
    let file = SourceFile::new(
        "demo.toml",
        format!(
            "{HEAD}{}",
            ep("url = \"https://a.b\"\nsite_ports = \"wsus\"")
        ),
    );
    let mut c = catalog::load(&file).unwrap();
    c.set_wsus_ports(catalog::WsusPorts {
        http: 80,
        https: 443,
    });
    assert_eq!(c.endpoints[0].ports.value, [443]);
}

#[test]
fn domain_values() {
    let file = SourceFile::new(
        "demo.toml",
        format!(
            "{HEAD}\n[[endpoint]]\nid = \"e\"\nurl = \"HTTPS://<prefix>.Example.com/a?b\"\nfeatures = [\"updates\"]\ncloud = \"usgov\"\ndirection = \"intranet\"\nsince_version = 2107\n"
        ),
    );
    let c = catalog::load(&file).unwrap();
    let e = &c.endpoints[0];
    let Destination::Url(u) = &e.destination else {
        panic!("a URL")
    };
    assert_eq!(u.host.as_str(), "<prefix>.example.com");
    assert_eq!(u.path, "/a?b");
    assert_eq!(
        e.destination.to_string(),
        "https://<prefix>.example.com/a?b"
    );
    assert_eq!(
        u.visibility(),
        egress_catalog::catalog::Visibility::HostOnly
    );
    assert_eq!(
        e.cloud,
        CloudScope::Only(egress_catalog::catalog::Cloud::UsGov)
    );
    assert_eq!(e.direction, Direction::Intranet);
    assert_eq!(e.versions.since, Some(2107));
    assert_eq!(c.roles.last().unwrap().id, "unspecified");
}

/// Composed catalogs: ids already taken get the adding catalog's id as a
/// prefix, references follow them, and a link to a loaded feature is
/// expanded into that feature's endpoints.
#[test]
fn composed_catalogs_prefix_collisions_and_expand_links() {
    let load = |id: &str, body: &str| {
        egress_catalog::catalog::load(&egress_catalog::SourceFile::new(
            format!("{id}.toml"),
            egress_test_support::catalog_head(id) + body,
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let a = load(
        "a",
        r#"
[[feature]]
id = "updates"
title = "Updates"
page = "p"
section = "U"
external = [{ title = "B's list", url = "https://b.example/list", feature = "b:updates" }, { title = "Elsewhere", url = "https://c.example/", feature = "c:x" }]

[[endpoint]]
id = "e1"
host = "a.example"
features = ["updates"]
"#,
    );
    let b = load(
        "b",
        r#"
[[feature]]
id = "updates"
title = "B updates"
page = "p"
section = "U"

[[endpoint]]
id = "e1"
host = "b.example"
features = ["updates"]
superseded_by = "e2"

[[endpoint]]
id = "e2"
host = "b2.example"
features = ["updates"]
"#,
    );
    let c = egress_catalog::compose::compose(vec![a, b]).unwrap();
    let features: Vec<(&str, &str)> = c
        .features
        .iter()
        .map(|f| (f.id.as_str(), f.page.as_str()))
        .collect();
    assert_eq!(features, [("updates", "p"), ("b:updates", "b:p")]);
    let endpoints: Vec<(&str, Vec<&str>)> = c
        .endpoints
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                e.features.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        endpoints,
        [
            ("e1", vec!["updates"]),
            ("b:e1", vec!["b:updates", "updates"]),
            ("e2", vec!["b:updates", "updates"]),
        ]
    );
    assert_eq!(c.endpoints[1].superseded.as_ref().unwrap().by, "e2");
    // The link to a catalog that is not loaded stays a link.
    let external: Vec<&str> = c.features[0]
        .external
        .iter()
        .map(|x| x.title.as_str())
        .collect();
    assert_eq!(external, ["Elsewhere"]);
    assert_eq!(c.meta.composed[0].id, "b");
}

/// `[[network]]`: IP ranges on TCP and UDP ports; every problem located.
#[test]
fn ip_ranges_on_tcp_and_udp_ports_every_problem_located() {
    check(
        &format!(
            "{OK_ENDPOINT}\n[[network]]\nid = \"n\"\nfeatures = [\"updates\"]\naddresses = [\"20.190.128.0/18\", \"2603:1006::/40\", \"52.238.78.88\"]\ntcp_ports = \"80,443,1024-65535\"\nudp_ports = \"3478-3481\"\nrequired = false\n"
        ),
        &[],
    );
    check(
        &format!(
            "{OK_ENDPOINT}\n[[network]]\nid = \"e\"\nfeatures = [\"nope\"]\naddresses = [\"20.190.128.1/18\", \"x\"]\ntcp_ports = \"443,0,9-1\"\n"
        ),
        &[
            "35:6: duplicate network id `e`",
            "36:13: unknown feature `nope`",
            "37:14: `20.190.128.1/18` has host bits set; the range is 20.190.128.0/18",
            "37:33: `x` is not an IP address or range",
            "38:13: `0` is not a port (1 to 65535) or a range like `1024-65535`",
        ],
    );
    check(
        &format!(
            "{OK_ENDPOINT}\n[[network]]\nid = \"n\"\nfeatures = [\"updates\"]\naddresses = []\n"
        ),
        &[
            "34:1: a network needs `tcp_ports` or `udp_ports`",
            "37:13: a network has at least one address range",
        ],
    );
    // A feature with only networks has content.
    let file = SourceFile::new(
        "demo.toml",
        format!(
            "{HEAD}{OK_ENDPOINT}\n[[feature]]\nid = \"ips\"\ntitle = \"IPs\"\npage = \"p\"\nsection = \"S\"\n\n[[network]]\nid = \"n\"\nfeatures = [\"ips\"]\naddresses = [\"10.0.0.0/8\"]\ntcp_ports = \"443\"\n"
        ),
    );
    let c = catalog::load(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.networks[0].tcp_ports.to_string(), "443");
}
