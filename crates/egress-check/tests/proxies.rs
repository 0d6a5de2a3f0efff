//! The probe through other people's proxies, started by the tests: tinyproxy
//! (filters, port rules, Basic authentication, an unreachable upstream) and
//! mitmproxy (TLS interception with its own CA, a block page, an upstream it
//! cannot verify, passthrough). Each case is a row of the "Who answered"
//! table in `docs/check.md`. Loopback only: the targets are `localhost` and
//! `127.0.0.1`, which the proxies resolve themselves.

use std::time::Duration;

use egress_check::auth::{AuthMode, Credentials, Scheme};
use egress_check::{AuthRecord, Config, Phase, Probe, ProbeTarget, Proxy, Verdict, probe};
use egress_test_support::origin::{http_origin, https_origin};
use egress_test_support::proxies::{mitmproxy, tinyproxy};
use egress_test_support::tls::Ca;
use egress_test_support::tools::{CURL, MITMPROXY, PYSPNEGO, SQUID, TINYPROXY, free_port, needs};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

fn target(host: &str, port: u16, tls: bool, path: &str) -> ProbeTarget {
    ProbeTarget {
        host: host.to_owned(),
        port,
        tls,
        path: path.to_owned(),
        reachable: Vec::new(),
    }
}

/// Through the proxy on `port`, trusting `trusted` here and `public` as the
/// public Web PKI.
fn via(
    port: u16,
    credentials: Option<(&str, &str)>,
    trusted: &[CertificateDer<'static>],
    public: &[CertificateDer<'static>],
) -> Config {
    Config {
        connect_timeout: Duration::from_secs(2),
        phase_timeout: Duration::from_secs(8),
        extra_roots: trusted.to_vec(),
        public_roots: Some(public.to_vec()),
        roots_only: true,
        proxy: Some(Proxy {
            host: "127.0.0.1".to_owned(),
            port,
            credentials: credentials.map(|(u, p)| Credentials::new(u, p)),
        }),
        ..Config::default()
    }
}

/// `ok`, `warning: ...`, or `PHASE: reason`.
fn verdict(p: &Probe) -> String {
    match &p.verdict {
        Verdict::Ok => "ok".to_owned(),
        Verdict::Warning(w) => format!("warning: {}", w.join("; ")),
        Verdict::Failed { phase, reason } => format!("{phase}: {reason}"),
    }
}

#[track_caller]
fn check(p: &Probe, expected: &str) {
    assert_eq!(verdict(p), expected, "{:?}", p.timings);
}

/// The verdict of a probe that went through, with only the inspection
/// warning.
fn v_inspected(p: &Probe) -> String {
    let v = verdict(p);
    assert!(v.starts_with("warning: TLS inspection"), "{v}");
    v
}

fn pem(ca: &Ca) -> String {
    ca.pem.clone()
}

#[tokio::test]
async fn tinyproxy_filters_ports_and_upstreams() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let (ca, tls_port) = https_origin(&["localhost", "127.0.0.1"]);
    let http_port = http_origin();
    let roots = [ca.der.clone()];
    // Only `localhost`, and CONNECT only to the origin's port.
    let filtering = tinyproxy(
        &format!("FilterDefaultDeny Yes\nConnectPort {tls_port}\n"),
        Some("^localhost$\n"),
    );
    let c = via(filtering.port, None, &roots, &roots);
    check(
        &probe(&target("localhost", tls_port, true, "/"), &c).await,
        "ok",
    );
    check(
        &probe(&target("localhost", http_port, false, "/"), &c).await,
        "ok",
    );
    let p = probe(&target("127.0.0.1", tls_port, true, "/"), &c).await;
    check(
        &p,
        "proxy: proxy denied CONNECT (403 Filtered, tinyproxy/1.11.1)",
    );
    assert!(p.timings.iter().any(|(ph, _)| *ph == Phase::Proxy));
    // Plain HTTP: the proxy's own 403 is never the origin's answer.
    let p = probe(&target("127.0.0.1", http_port, false, "/"), &c).await;
    check(
        &p,
        "proxy: proxy denied the request (403 Filtered, tinyproxy/1.11.1)",
    );
    // A port rule, told apart by tinyproxy's reason phrase.
    let ports = tinyproxy("ConnectPort 443\n", None);
    let c = via(ports.port, None, &roots, &roots);
    let p = probe(&target("localhost", tls_port, true, "/"), &c).await;
    check(
        &p,
        "proxy: proxy denied CONNECT (403 Access violation, tinyproxy/1.11.1)",
    );
    // An upstream proxy that is not there.
    let upstream = tinyproxy(&format!("Upstream http 127.0.0.1:{}\n", free_port()), None);
    let c = via(upstream.port, None, &roots, &roots);
    let p = probe(&target("localhost", tls_port, true, "/"), &c).await;
    let v = verdict(&p);
    assert!(
        v.starts_with("proxy: the proxy could not reach the target (5"),
        "{v}"
    );
    let p = probe(&target("localhost", http_port, false, "/"), &c).await;
    let v = verdict(&p);
    assert!(
        v.starts_with("proxy: the proxy could not reach the target (5"),
        "{v}"
    );
}

#[tokio::test]
async fn tinyproxy_basic_authentication() {
    if !needs(&[TINYPROXY]) {
        return;
    }
    let (ca, tls_port) = https_origin(&["localhost"]);
    let roots = [ca.der.clone()];
    let proxy = tinyproxy("BasicAuth alice s3cret\n", None);
    let t = target("localhost", tls_port, true, "/");
    check(
        &probe(&t, &via(proxy.port, None, &roots, &roots)).await,
        "proxy-auth: proxy requires authentication (407, tinyproxy/1.11.1; offers Basic)",
    );
    let p = probe(
        &t,
        &via(proxy.port, Some(("alice", "wrong")), &roots, &roots),
    )
    .await;
    check(
        &p,
        "proxy-auth: the proxy rejected the Basic credentials (407 after the last leg): check the user, domain and password (401, tinyproxy/1.11.1)",
    );
    check(
        &probe(
            &t,
            &via(proxy.port, Some(("alice", "s3cret")), &roots, &roots),
        )
        .await,
        "ok",
    );
}

/// A block page and an upstream mitmproxy cannot verify, inside its
/// inspected tunnel; its CA trusted here (as `--ca-file` would), not by the
/// public Web PKI; and passthrough, which is the origin's own TLS.
#[tokio::test]
async fn mitmproxy_intercepting_blocking_and_passing_through() {
    if !needs(&[MITMPROXY]) {
        return;
    }
    let (ca, tls_port) = https_origin(&["localhost"]);
    let (other_ca, other_port) = https_origin(&["localhost"]);
    let addon = r#"
from mitmproxy import http

def request(flow):
    if flow.request.path.startswith("/blocked"):
        flow.response = http.Response.make(
            403, b"<html><body>Blocked by policy</body></html>", {"Content-Type": "text/html"}
        )
"#;
    let intercepting = mitmproxy(&pem(&ca), addon, &[]);
    let mitm_ca: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(intercepting.mitmproxy_ca().as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    let trusted: Vec<CertificateDer<'static>> =
        [ca.der.clone()].into_iter().chain(mitm_ca).collect();
    let public = [ca.der.clone(), other_ca.der.clone()];
    let c = via(intercepting.port, None, &trusted, &public);
    let p = probe(&target("localhost", tls_port, true, "/"), &c).await;
    let v = verdict(&p);
    assert!(
        v.starts_with("warning: TLS inspection or private PKI: the certificate issued by")
            && v.contains("mitmproxy"),
        "{v}"
    );
    let p = probe(&target("localhost", tls_port, true, "/blocked"), &c).await;
    check(
        &p,
        "HTTP: status 403 Forbidden inside the inspected tunnel (the inspecting proxy or the origin)",
    );
    // Where the catalog says a 403 is the endpoint's answer, it is.
    let mut listed = target("localhost", tls_port, true, "/blocked");
    listed.reachable = vec![403];
    check(
        &probe(&listed, &c).await,
        &v_inspected(&probe(&listed, &c).await),
    );
    let p = probe(&target("localhost", other_port, true, "/"), &c).await;
    let v = verdict(&p);
    assert!(
        v.starts_with("proxy: the proxy could not reach the target (502"),
        "{v}"
    );

    // Plain HTTP through the same proxy: its block page has no evidence.
    let plain = http_origin();
    check(
        &probe(&target("localhost", plain, false, "/blocked"), &c).await,
        "HTTP: status 403 Forbidden through the proxy (the proxy or the origin)",
    );
    check(
        &probe(&target("localhost", plain, false, "/"), &c).await,
        "ok",
    );

    let passthrough = mitmproxy(&pem(&ca), "", &["--ignore-hosts", ".*"]);
    let c = via(passthrough.port, None, &trusted, &public);
    check(
        &probe(&target("localhost", tls_port, true, "/blocked"), &c).await,
        "ok",
    );
}

/// Squid with `basic_ncsa_auth` (a password file): a wrong password is
/// answered with 407 again, which is "credentials rejected", not "requires
/// authentication".
#[tokio::test]
async fn squid_rejecting_wrong_credentials() {
    use egress_test_support::squid::{self, Squid};
    if !needs(&[SQUID]) {
        return;
    }
    let (ca, tls_port) = https_origin(&["allowed.egress.test"]);
    let roots = [ca.der.clone()];
    let dir = squid::folder();
    // alice's password `s3cret`, as `openssl passwd -apr1` writes it.
    std::fs::write(
        dir.path().join("passwd"),
        "alice:$apr1$hCCxMmJN$7mYY4mPzOl/9V//VgImkU.\n",
    )
    .unwrap();
    let rules = format!(
        "auth_param basic program /usr/lib/squid/basic_ncsa_auth {}/passwd\n\
         auth_param basic realm egress\n\
         acl authed proxy_auth REQUIRED\n\
         http_access allow authed\n\
         http_access deny all\n",
        dir.path().display()
    );
    let s = Squid::start(dir, &["allowed.egress.test"], &rules);
    let t = target("allowed.egress.test", tls_port, true, "/");
    check(
        &probe(&t, &via(s.port, None, &roots, &roots)).await,
        "proxy-auth: proxy requires authentication (407, Squid; offers Basic)",
    );
    check(
        &probe(&t, &via(s.port, Some(("alice", "wrong")), &roots, &roots)).await,
        "proxy-auth: the proxy rejected the Basic credentials (407 after the last leg): check the user, domain and password (407, Squid)",
    );
    check(
        &probe(&t, &via(s.port, Some(("alice", "s3cret")), &roots, &roots)).await,
        "ok",
    );
}

/// A real Squid that requires NTLM, its server side the pyspnego helper of
/// the test support crate; curl's NTLM client proves the helper right.
/// Without credentials egress reports the 407 and what it offers; with the
/// right ones it passes (plain HTTP and CONNECT), whether it learns the
/// scheme from the 407 (`auto`) or starts with it (`ntlm`, or `auto` once
/// the proxy is known); a wrong password is "rejected", a user without a
/// domain never leaves egress, and Basic is not what this proxy offers.
#[tokio::test]
async fn squid_requiring_ntlm() {
    use egress_test_support::squid::{self, Squid};
    if !needs(&[SQUID, PYSPNEGO, CURL]) {
        return;
    }
    let plain = http_origin();
    let (ca, tls_port) = https_origin(&["localhost"]);
    let roots = [ca.der.clone()];
    let dir = squid::folder();
    let rules = squid::ntlm_rules(
        dir.path(),
        &[
            ("CONTOSO", "alice", "s3cret"),
            ("", "bob@contoso.com", "pa55"),
        ],
        false,
    );
    let s = Squid::start(dir, &["localhost"], &rules);
    let curl = CURL.path();
    let status = |user: &str| {
        let out = std::process::Command::new(&curl)
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--proxy-ntlm",
                "-U",
                user,
                "--proxy",
            ])
            .arg(format!("http://127.0.0.1:{}", s.port))
            .arg(format!("http://localhost:{plain}/"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(status("CONTOSO\\alice:s3cret"), "200");
    assert_eq!(status("CONTOSO\\alice:wrong"), "407");
    let http = target("localhost", plain, false, "/");
    let https = target("localhost", tls_port, true, "/");
    let as_ = |user: Option<(&str, &str)>, mode: AuthMode| Config {
        proxy_auth: mode,
        ..via(s.port, user, &roots, &roots)
    };
    let required = "proxy-auth: proxy requires authentication (407, Squid; offers NTLM)";
    for t in [&http, &https] {
        let p = probe(t, &as_(None, AuthMode::Auto)).await;
        check(&p, required);
        assert_eq!(p.proxy_auth.as_ref().unwrap().offered, ["NTLM"]);
    }

    let alice = Some(("CONTOSO\\alice", "s3cret"));
    for t in [&http, &https] {
        // Learned from the 407: a bare request, then the two legs.
        let config = as_(alice, AuthMode::Auto);
        let p = probe(t, &config).await;
        check(&p, "ok");
        let record = AuthRecord {
            offered: vec!["NTLM".to_owned()],
            used: Some(Scheme::Ntlm),
            requests: 3,
        };
        assert_eq!(p.proxy_auth.as_ref(), Some(&record), "{}", t.url());
        assert!(p.timings.iter().any(|(ph, _)| *ph == Phase::ProxyAuth));
        // Known now: the next probe on this configuration starts with it.
        let p = probe(t, &config).await;
        check(&p, "ok");
        assert_eq!(p.proxy_auth.as_ref().unwrap().requests, 2);
        // Named: from the first request.
        let p = probe(t, &as_(alice, AuthMode::Ntlm)).await;
        check(&p, "ok");
        assert_eq!(p.proxy_auth.unwrap().used, Some(Scheme::Ntlm));
    }
    // A principal name (user@domain), sent as Windows sends it.
    check(
        &probe(
            &https,
            &as_(Some(("bob@contoso.com", "pa55")), AuthMode::Ntlm),
        )
        .await,
        "ok",
    );
    let rejected = "proxy-auth: the proxy rejected the NTLM credentials (407 after the last leg): check the user, domain and password (407, Squid)";
    for t in [&http, &https] {
        let wrong = Some(("CONTOSO\\alice", "wrong"));
        check(&probe(t, &as_(wrong, AuthMode::Auto)).await, rejected);
        check(&probe(t, &as_(wrong, AuthMode::Ntlm)).await, rejected);
        let other = Some(("FABRIKAM\\alice", "s3cret"));
        check(&probe(t, &as_(other, AuthMode::Ntlm)).await, rejected);
    }
    check(
        &probe(&https, &as_(alice, AuthMode::Basic)).await,
        "proxy-auth: --proxy-auth basic: the proxy does not offer Basic (it offers NTLM) (407, Squid)",
    );
    check(&probe(&https, &as_(alice, AuthMode::None)).await, required);
}

/// Squid offering Basic (first) and NTLM: `auto` takes NTLM, the stronger;
/// `basic` takes Basic; both pass with the same account.
#[tokio::test]
async fn squid_offering_basic_and_ntlm() {
    use egress_test_support::squid::{self, Squid};
    if !needs(&[SQUID, PYSPNEGO]) {
        return;
    }
    let (ca, tls_port) = https_origin(&["localhost"]);
    let roots = [ca.der.clone()];
    let dir = squid::folder();
    let rules = squid::ntlm_rules(dir.path(), &[("CONTOSO", "alice", "s3cret")], true);
    let s = Squid::start(dir, &["localhost"], &rules);
    let t = target("localhost", tls_port, true, "/");
    let alice = Some(("CONTOSO\\alice", "s3cret"));
    let p = probe(&t, &via(s.port, None, &roots, &roots)).await;
    check(
        &p,
        "proxy-auth: proxy requires authentication (407, Squid; offers Basic, NTLM)",
    );
    let p = probe(&t, &via(s.port, alice, &roots, &roots)).await;
    check(&p, "ok");
    let record = p.proxy_auth.unwrap();
    assert_eq!(record.offered, ["Basic", "NTLM"]);
    assert_eq!(record.used, Some(Scheme::Ntlm));
    let basic = Config {
        proxy_auth: AuthMode::Basic,
        ..via(s.port, Some(("alice", "s3cret")), &roots, &roots)
    };
    let p = probe(&t, &basic).await;
    check(&p, "ok");
    assert_eq!(p.proxy_auth.unwrap().used, Some(Scheme::Basic));
}

/// What no real proxy does on purpose, from a scripted one: a malformed
/// NTLM challenge (not base64, truncated, lengths past its end), none at
/// all, and a connection closed between the legs. Each is a failed
/// `proxy-auth` phase that names it; never a panic.
#[tokio::test]
async fn malformed_ntlm_challenges() {
    use base64::Engine as _;
    use egress_test_support::proxies::scripted_proxy;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let challenge = |token: &str| {
        format!(
            "HTTP/1.1 407 Proxy Authentication Required\r\nServer: scripted\r\nProxy-Authenticate: NTLM {token}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    // A CHALLENGE message whose target name claims 200 bytes at offset 56.
    let mut long = b"NTLMSSP\0".to_vec();
    long.extend(2u32.to_le_bytes());
    long.extend([200, 0, 200, 0, 56, 0, 0, 0]);
    long.extend(0x0080_0201u32.to_le_bytes());
    long.extend([0; 24]);
    // A well-formed CHALLENGE: no target name, AV pairs (EOL only).
    let mut good = b"NTLMSSP\0".to_vec();
    good.extend(2u32.to_le_bytes());
    good.extend([0, 0, 0, 0, 48, 0, 0, 0]);
    good.extend(0x0088_0201u32.to_le_bytes());
    good.extend([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    good.extend([4, 0, 4, 0, 48, 0, 0, 0]);
    good.extend([0, 0, 0, 0]);
    let cases = [
        (
            challenge("%%%not-base64"),
            "proxy-auth: the proxy's NTLM challenge is malformed: not base64",
        ),
        (
            challenge(&b64(b"NTLMSSP\0\x02\0\0\0")),
            "proxy-auth: the proxy's NTLM challenge is malformed: truncated: 12 bytes",
        ),
        (
            challenge(&b64(&long)),
            "proxy-auth: the proxy's NTLM challenge is malformed: the target name runs past the end (offset 56 + length 200 > 48 bytes)",
        ),
        (
            "HTTP/1.1 407 Proxy Authentication Required\r\nServer: scripted\r\nProxy-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n".to_owned(),
            "proxy-auth: the proxy answered the first NTLM leg without a challenge to continue with (407, scripted)",
        ),
        (
            // A well-formed challenge; the script then closes.
            challenge(&b64(&good)),
            "proxy-auth: the proxy closed the connection between the NTLM legs",
        ),
    ];
    for (answer, expected) in &cases {
        let port = scripted_proxy(&[answer]);
        for tls in [false, true] {
            let t = target("localhost", 9, tls, "/");
            let config = Config {
                proxy_auth: AuthMode::Ntlm,
                ..via(port, Some(("CONTOSO\\alice", "s3cret")), &[], &[])
            };
            let p = probe(&t, &config).await;
            let got = verdict(&p);
            assert!(got.starts_with(expected), "{got}\nexpected: {expected}");
            assert!(!format!("{p:?}").contains("s3cret"));
        }
    }
}
