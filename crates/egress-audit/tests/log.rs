//! Log lines read as requests: Squid's native format, W3C extended
//! (TMG's and IIS's fields), egress's decision log; and what is not a
//! request.

use egress_audit::log::{Format, Reader, Shape};

/// Reads `lines` in order as `format`: each line's request as
/// `host port method status outcome client time`, `-` for a line that
/// records none, or `bad: reason`.
#[track_caller]
fn check(format: Format, lines: &[(&str, &str)]) {
    let mut reader = Reader::new(format);
    for (line, expected) in lines {
        let got = match reader.read(line) {
            Ok(Some(e)) => format!(
                "{} {} {} {} {:?} {} {}",
                e.host,
                e.port.map_or("-".to_owned(), |p| p.to_string()),
                e.method,
                e.status,
                e.outcome,
                e.client,
                e.time
            ),
            Ok(None) => "-".to_owned(),
            Err(e) => format!("bad: {e}"),
        };
        assert_eq!(got, *expected, "{line}");
    }
}

#[test]
fn squid_native() {
    check(
        Format::Squid,
        &[
            (
                "1796177256.766    153 127.0.0.1 TCP_TUNNEL/200 4721 CONNECT allowed.contoso.test:443 - HIER_DIRECT/192.0.2.7 -",
                "allowed.contoso.test 443 CONNECT 200 Allowed 127.0.0.1 1796177256.766",
            ),
            (
                "1796177257.012      0 10.0.0.5 TCP_DENIED/403 0 CONNECT Other.Contoso.test:443 - HIER_NONE/- -",
                "Other.Contoso.test 443 CONNECT 403 Denied 10.0.0.5 1796177257.012",
            ),
            (
                "1796177257.530     12 10.0.0.5 TCP_MISS/200 512 GET http://feed.contoso.test/feed/a?x=1 - HIER_DIRECT/192.0.2.8 text/plain",
                "feed.contoso.test 80 GET 200 Allowed 10.0.0.5 1796177257.530",
            ),
            (
                "1796177257.530     12 10.0.0.5 TCP_MISS/503 0 GET http://user@[2001:db8::1]:8080/ - HIER_DIRECT/2001:db8::1 -",
                "2001:db8::1 8080 GET 503 Failed 10.0.0.5 1796177257.530",
            ),
            (
                "1796177258.000      0 10.0.0.6 TCP_DENIED/407 3900 CONNECT go.microsoft.com:443 - HIER_NONE/- text/html",
                "go.microsoft.com 443 CONNECT 407 Challenged 10.0.0.6 1796177258.000",
            ),
            (
                "1796177258.100      1 10.0.0.6 TCP_MISS_ABORTED/000 0 GET https://a.example/ - HIER_DIRECT/192.0.2.9 -",
                "a.example 443 GET 0 Failed 10.0.0.6 1796177258.100",
            ),
            (
                "1796177258.200      0 10.0.0.6 NONE_NONE/000 0 - error:transaction-end-before-headers - HIER_NONE/- -",
                "-",
            ),
            ("", "-"),
            (
                "garbage",
                "bad: Squid's native format has 10 fields; the elapsed time is missing",
            ),
            (
                "1 2 3 TCP_MISS 0 GET http://a/ - - -",
                "bad: `TCP_MISS` is not ACTION/STATUS",
            ),
            (
                "1 2 3 TCP_MISS/200 0 GET http://a:99999/ - - -",
                "bad: `http://a:99999/`: `99999` is not a port",
            ),
            // A password in a log's URL is not quoted back.
            (
                "1 2 3 TCP_MISS/200 0 GET http://bob:Marker-Pa55@a:99999/ - - -",
                "bad: `http://***@a:99999/`: `99999` is not a port",
            ),
        ],
    );
}

#[test]
fn w3c_extended() {
    // Forefront TMG's web proxy log.
    check(
        Format::W3c,
        &[
            (
                "10.0.0.5 CONNECT a:443",
                "bad: a W3C log line before any `#Fields:` directive",
            ),
            (
                "#Software: Microsoft Forefront Threat Management Gateway",
                "-",
            ),
            (
                "#Fields: date time c-ip cs-username cs-method cs-uri sc-status action r-host r-port",
                "-",
            ),
            (
                "2026-12-01 10:00:00 10.0.0.5 - CONNECT go.microsoft.com:443 0 Denied go.microsoft.com 443",
                "go.microsoft.com 443 CONNECT 0 Denied 10.0.0.5 2026-12-01 10:00:00",
            ),
            (
                "2026-12-01 10:00:01 10.0.0.5 CONTOSO\\cm01$ GET http://feed.contoso.test/x 200 Allowed feed.contoso.test 80",
                "feed.contoso.test 80 GET 200 Allowed 10.0.0.5 2026-12-01 10:00:01",
            ),
            (
                "2026-12-01 10:00:02 10.0.0.5 - GET",
                "bad: 5 fields where `#Fields:` names 10",
            ),
        ],
    );
    // IIS-style fields: the host in cs-host, no port.
    check(
        Format::W3c,
        &[
            (
                "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip sc-status cs-host",
                "-",
            ),
            (
                "2026-12-01 10:00:00 10.0.0.1 GET /x - 8080 - 10.0.0.7 403 blocked.example",
                "blocked.example - GET 403 Denied 10.0.0.7 2026-12-01 10:00:00",
            ),
            (
                "#Fields: date time c-ip",
                "bad: the `#Fields:` directive names no host field (cs-host, r-host or cs-uri)",
            ),
        ],
    );
}

#[test]
fn egress_decision_log() {
    check(
        Format::Egress,
        &[
            (
                r#"{"time":"2026-12-02T05:59:34Z","source":"127.0.0.1","method":"CONNECT","host":"manage.microsoft.com","port":443,"decision":"deny","would_deny":false,"reason":"r","roles":["all"],"servers":[],"rows":[],"duration_ms":0}"#,
                "manage.microsoft.com 443 CONNECT 403 Denied 127.0.0.1 2026-12-02T05:59:34Z",
            ),
            (
                r#"{"time":"t","source":"10.0.0.5","method":"GET","host":"a.example","port":80,"decision":"allow","would_deny":false,"reason":"r","roles":[],"servers":[],"rows":[],"error":"DNS: a.example: no such host","duration_ms":3}"#,
                "a.example 80 GET 502 Failed 10.0.0.5 t",
            ),
            // The status the proxy answered: a 407 is a challenge.
            (
                r#"{"time":"t","source":"10.0.0.5","method":"CONNECT","host":"a.example","port":443,"decision":"deny","status":407,"would_deny":false,"reason":"r","roles":[],"servers":[],"rows":[],"duration_ms":0}"#,
                "a.example 443 CONNECT 407 Challenged 10.0.0.5 t",
            ),
            // Over its rate: denied, with the status the client got.
            (
                r#"{"time":"t","source":"10.0.0.5","method":"GET","host":"a.example","port":80,"decision":"deny","status":429,"duration_ms":0}"#,
                "a.example 80 GET 429 Denied 10.0.0.5 t",
            ),
            (
                "{\"time\":1}",
                "bad: not a decision log line: invalid type: integer `1`, expected a string at line 1 column 9",
            ),
        ],
    );
}

/// The proxy writes its log with the type the audit reads it with: every
/// status the proxy answers reads back as written.
#[test]
fn what_the_proxy_writes_the_audit_reads() {
    use egress_gate::log::{DecisionLine, Logged};
    use std::borrow::Cow;
    let empty: &[String] = &[];
    for (decision, status, error, read) in [
        (Logged::Allow, 200, None, "200 Allowed"),
        (Logged::Deny, 403, None, "403 Denied"),
        (Logged::Deny, 407, None, "407 Challenged"),
        (Logged::Deny, 429, None, "429 Denied"),
        (Logged::Allow, 502, Some("TCP: refused"), "502 Failed"),
    ] {
        let line = DecisionLine {
            time: Cow::Borrowed("2026-12-08T05:00:00Z"),
            source: "10.0.0.5".parse().unwrap(),
            user: Some(Cow::Borrowed("svc-scp")),
            method: Cow::Borrowed("CONNECT"),
            host: Cow::Borrowed("a.example"),
            written: None,
            port: 443,
            path: None,
            decision,
            status: Some(status),
            would_deny: false,
            reason: Cow::Borrowed("r"),
            near_miss: None,
            roles: Cow::Borrowed(empty),
            servers: Cow::Borrowed(empty),
            rows: Cow::Borrowed(empty),
            endpoints: Cow::Borrowed(empty),
            features: Cow::Borrowed(empty),
            upstream: None,
            connect_ms: None,
            error: error.map(Cow::Borrowed),
            bytes_up: None,
            bytes_down: None,
            duration_ms: 1,
        };
        let text = serde_json::to_string(&line).unwrap();
        check(
            Format::Egress,
            &[(
                text.as_str(),
                &format!("a.example 443 CONNECT {read} 10.0.0.5 2026-12-08T05:00:00Z"),
            )],
        );
    }
}

#[test]
fn squid_common_and_combined() {
    let mut reader = Reader::new(Format::Squid);
    let common = r#"10.0.0.5 - svc-scp [07/Dec/2026:10:00:00 +0000] "CONNECT go.microsoft.com:443 HTTP/1.1" 200 4721 TCP_TUNNEL:HIER_DIRECT"#;
    reader.read(common).unwrap();
    assert_eq!(reader.shape(), Some(Shape::SquidCommon));
    check(
        Format::Squid,
        &[
            (
                common,
                "go.microsoft.com 443 CONNECT 200 Allowed 10.0.0.5 2026-12-07 10:00:00 +0000",
            ),
            (
                r#"10.0.0.5 - - [07/Dec/2026:10:00:01 +0000] "GET http://feed.contoso.test/feed/a HTTP/1.1" 403 3900 TCP_DENIED:HIER_NONE"#,
                "feed.contoso.test 80 GET 403 Denied 10.0.0.5 2026-12-07 10:00:01 +0000",
            ),
            // A native line in the same log (a reconfigured Squid).
            (
                "1796177256.766    153 127.0.0.1 TCP_TUNNEL/200 4721 CONNECT allowed.contoso.test:443 - HIER_DIRECT/192.0.2.7 -",
                "allowed.contoso.test 443 CONNECT 200 Allowed 127.0.0.1 1796177256.766",
            ),
            (
                r#"10.0.0.5 - - [07/Dec/2026:10:00:02 +0000] "GET http://a.example/ HTTP/1.1" 200"#,
                "bad: not Squid's native, common or combined format: `client ident user [time] \"METHOD URL HTTP/x\" status bytes ...`",
            ),
        ],
    );
    let mut reader = Reader::new(Format::Squid);
    let combined = r#"10.0.0.7 - - [07/Dec/2026:10:00:03 +0000] "CONNECT blocked.example:443 HTTP/1.1" 403 3900 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" TCP_DENIED:HIER_NONE"#;
    let entry = reader.read(combined).unwrap().unwrap();
    assert_eq!(
        (entry.host.as_ref(), entry.status, entry.outcome),
        ("blocked.example", 403, egress_audit::log::Outcome::Denied)
    );
    assert_eq!(reader.shape(), Some(Shape::SquidCombined));
}

#[test]
fn w3c_quoted_values_and_proxysg_fields() {
    // Blue Coat / Symantec ProxySG's ELFF: quoted values with spaces and
    // `""`, `-` for an empty value, the denial in s-action and
    // x-exception-id; a second `#Fields:` applies to the lines after it.
    check(
        Format::W3c,
        &[
            (
                "#Fields: date time time-taken c-ip cs-username cs-auth-group s-supplier-name x-exception-id sc-filter-result cs-categories cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id",
                "-",
            ),
            (
                r#"2026-12-07 10:00:00 12 10.1.0.5 "CONTOSO\svc-scp" - go.microsoft.com - OBSERVED "Technology/Internet" - 200 TCP_TUNNELED CONNECT - tcp go.microsoft.com 443 / - - "Mozilla/5.0 (Windows NT; ""quoted"")" 10.1.0.1 4721 512 -"#,
                "go.microsoft.com 443 CONNECT 200 Allowed 10.1.0.5 2026-12-07 10:00:00",
            ),
            (
                r#"2026-12-07 10:00:01 1 10.1.0.5 - - - policy_denied DENIED "Technology/Internet" - 403 TCP_DENIED CONNECT - tcp blocked.example 443 / - - "Microsoft-CryptoAPI/10.0" 10.1.0.1 0 0 -"#,
                "blocked.example 443 CONNECT 403 Denied 10.1.0.5 2026-12-07 10:00:01",
            ),
            (
                r#"2026-12-07 10:00:02 5001 10.1.0.5 - - - dns_unresolved_hostname DENIED "none" - 503 TCP_ERR_MISS GET - http gone.example 80 / - - "-" 10.1.0.1 0 0 -"#,
                "gone.example 80 GET 503 Failed 10.1.0.5 2026-12-07 10:00:02",
            ),
            (
                r#"2026-12-07 10:00:03 1 10.1.0.5 "unclosed 403"#,
                "bad: a quoted value is not closed (field 5)",
            ),
            ("#Fields: date time c-ip cs-method cs-host sc-status", "-"),
            (
                "2026-12-07 10:00:04 10.1.0.6 GET feed.contoso.test 200",
                "feed.contoso.test - GET 200 Allowed 10.1.0.6 2026-12-07 10:00:04",
            ),
        ],
    );
}

#[test]
fn proxysg_exceptions_and_tmg_tabs() {
    check(
        Format::W3c,
        &[
            (
                "#Fields: date time c-ip x-exception-id sc-filter-result sc-status s-action cs-method cs-host cs-uri-port",
                "-",
            ),
            (
                "2026-12-07 10:00:00 10.1.0.5 authentication_failed DENIED 407 TCP_DENIED CONNECT a.example 443",
                "a.example 443 CONNECT 407 Challenged 10.1.0.5 2026-12-07 10:00:00",
            ),
            (
                "2026-12-07 10:00:01 10.1.0.5 ssl_failed DENIED 503 TCP_ERR_MISS CONNECT b.example 443",
                "b.example 443 CONNECT 503 Failed 10.1.0.5 2026-12-07 10:00:01",
            ),
            (
                "2026-12-07 10:00:02 10.1.0.5 policy_redirect OBSERVED 302 TCP_POLICY_REDIRECT GET c.example 80",
                "c.example 80 GET 302 Allowed 10.1.0.5 2026-12-07 10:00:02",
            ),
            // A bad `#Fields:`: no line reads until a usable one comes.
            (
                "#Fields: date time c-ip",
                "bad: the `#Fields:` directive names no host field (cs-host, r-host or cs-uri)",
            ),
            (
                "2026-12-07 10:00:03 10.1.0.5 - OBSERVED 200 TCP_TUNNELED CONNECT d.example 443",
                "bad: a W3C log line before any `#Fields:` directive",
            ),
        ],
    );
    // Forefront TMG: tabs between values, spaces inside them.
    check(
        Format::W3c,
        &[
            (
                "#Fields: c-ip\tcs-username\tc-agent\tdate\ttime\tr-host\tr-port\tcs-method\tsc-status\taction",
                "-",
            ),
            (
                "10.0.0.5\tCONTOSO\\cm01$\tMozilla/4.0 (compatible; MSIE 8.0)\t2026-12-01\t10:00:00\tgo.microsoft.com\t443\tCONNECT\t0\tDenied",
                "go.microsoft.com 443 CONNECT 0 Denied 10.0.0.5 2026-12-01 10:00:00",
            ),
        ],
    );
}

#[test]
fn a_decision_is_a_json_object_with_a_host() {
    check(
        Format::Egress,
        &[
            (
                r#"["t","10.0.0.5","CONNECT","",2,"deny"]"#,
                "bad: not a decision log line: a JSON object a line",
            ),
            (
                r#"{"time":"t","source":"10.0.0.5","method":"CONNECT","host":"","port":443,"decision":"allow"}"#,
                "bad: the decision names no host",
            ),
        ],
    );
}
