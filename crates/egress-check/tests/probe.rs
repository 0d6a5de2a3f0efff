//! The probe against real servers on loopback, with certificates made at
//! test time: each case must give the right verdict, phase and reason.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use egress_check::{Config, Phase, Probe, ProbeTarget, Verdict, probe};
use egress_test_support::squid::{self, Squid};
use egress_test_support::tls::{Ca, Leaf, Validity, server_config};
use egress_test_support::tools::{SQUID, needs};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn ca(name: &str) -> Ca {
    Ca::new(name)
}

/// A server certificate for `names`, signed by `ca`; with `expired`, one
/// that expired in 2021.
fn leaf(
    ca: &Ca,
    names: &[&str],
    expired: bool,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let validity = if expired {
        Validity::Until(2021, 1, 1)
    } else {
        Validity::Current
    };
    let leaf = ca.leaf(names, validity);
    (leaf.cert, leaf.key)
}

/// An HTTPS origin on loopback answering every request with 204.
async fn https_origin(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> u16 {
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&Leaf { cert, key }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    answer(&mut tls).await;
                }
            });
        }
    });
    port
}

/// Reads a request's head; `None` when the peer stops before its end.
async fn read_head<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(buf)
}

/// An origin on loopback that answers each request with `reply(head)`,
/// then closes the connection.
async fn replying(reply: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                if let Some(head) = read_head(&mut s).await {
                    let _ = s.write_all(&reply(&head)).await;
                    let _ = s.shutdown().await;
                }
            });
        }
    });
    port
}

async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(s: &mut S) {
    if read_head(s).await.is_none() {
        return;
    }
    let _ = s
        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        .await;
    let _ = s.shutdown().await;
}

/// A plain HTTP origin.
async fn http_origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move { answer(&mut s).await });
        }
    });
    port
}

/// A listener that accepts and never says a word.
async fn silent() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    port
}

/// A port where nothing listens.
async fn closed() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn config(host: &str, port: u16, trusted: &[&Ca], public: &[&Ca]) -> Config {
    Config {
        connect_timeout: Duration::from_millis(500),
        phase_timeout: Duration::from_millis(700),
        extra_roots: trusted.iter().map(|c| c.der.clone()).collect(),
        public_roots: Some(public.iter().map(|c| c.der.clone()).collect()),
        resolve: vec![(host.to_owned(), port, LOCALHOST)].into(),
        roots_only: true,
        ..Config::default()
    }
}

fn target(host: &str, port: u16, tls: bool) -> ProbeTarget {
    ProbeTarget {
        host: host.to_owned(),
        port,
        tls,
        path: "/".to_owned(),
        reachable: Vec::new(),
    }
}

/// Probes `host` on loopback `port` with one CA, trusted and public.
async fn probe_one_ca(host: &str, port: u16, tls: bool, ca: &Ca) -> Probe {
    probe(&target(host, port, tls), &config(host, port, &[ca], &[ca])).await
}

/// Probes and compares the verdict: `ok`, `warning: ...` or `PHASE: reason`.
#[track_caller]
fn check(verdict: &Verdict, expected: &str) {
    let got = match verdict {
        Verdict::Ok => "ok".to_owned(),
        Verdict::Warning(w) => format!("warning: {}", w.join("; ")),
        Verdict::Failed { phase, reason } => format!("{phase}: {reason}"),
    };
    assert_eq!(got, expected);
}

#[tokio::test]
async fn https_reachable_and_trusted() {
    let public = ca("Egress Test Public CA");
    let (cert, key) = leaf(&public, &["ok.egress.test"], false);
    let port = https_origin(cert, key).await;
    let p = probe(
        &target("ok.egress.test", port, true),
        &config("ok.egress.test", port, &[&public], &[&public]),
    )
    .await;
    check(&p.verdict, "ok");
    assert_eq!(p.http_status, Some(204));
    assert_eq!(p.connected, Some(SocketAddr::new(LOCALHOST, port)));
    let tls = p.tls.unwrap();
    assert!(tls.trusted && tls.publicly_trusted);
    assert_eq!(tls.chain[0].subject, "CN=ok.egress.test");
    assert_eq!(tls.chain[0].issuer, "CN=Egress Test Public CA");
    assert!(tls.version.is_some() && tls.cipher_suite.is_some());
    let phases: Vec<Phase> = p.timings.iter().map(|(ph, _)| *ph).collect();
    assert_eq!(phases, [Phase::Dns, Phase::Tcp, Phase::Tls, Phase::Http]);
}

#[tokio::test]
async fn tls_inspection_is_a_warning_naming_the_issuer() {
    let public = ca("Egress Test Public CA");
    let inspection = ca("Contoso Inspection CA");
    let (cert, key) = leaf(&inspection, &["inspected.egress.test"], false);
    let port = https_origin(cert, key).await;
    let host = "inspected.egress.test";
    // Trusted here (the inspection CA is installed), not publicly.
    let p = probe(
        &target(host, port, true),
        &config(host, port, &[&public, &inspection], &[&public]),
    )
    .await;
    check(
        &p.verdict,
        "warning: TLS inspection or private PKI: the certificate issued by CN=Contoso Inspection CA is trusted here but not by the public Web PKI",
    );
    assert_eq!(p.http_status, Some(204));
    // Not installed: the certificate is simply not trusted.
    let p = probe_one_ca(host, port, true, &public).await;
    check(
        &p.verdict,
        "TLS: certificate issued by CN=Contoso Inspection CA is not trusted",
    );
    assert_eq!(
        p.tls.unwrap().chain[0].subject,
        "CN=inspected.egress.test",
        "the chain is recorded all the same"
    );
}

#[tokio::test]
async fn wrong_name_and_expired_certificates_fail_tls() {
    let public = ca("Egress Test Public CA");
    let (cert, key) = leaf(&public, &["other.egress.test"], false);
    let port = https_origin(cert, key).await;
    let host = "named.egress.test";
    let p = probe_one_ca(host, port, true, &public).await;
    check(
        &p.verdict,
        "TLS: certificate is not valid for named.egress.test",
    );

    let (cert, key) = leaf(&public, &["old.egress.test"], true);
    let port = https_origin(cert, key).await;
    let host = "old.egress.test";
    let p = probe_one_ca(host, port, true, &public).await;
    check(
        &p.verdict,
        "TLS: certificate issued by CN=Egress Test Public CA has expired",
    );
}

#[tokio::test]
async fn tcp_refused_and_silent_listeners() {
    let public = ca("Egress Test Public CA");
    let port = closed().await;
    let host = "closed.egress.test";
    let p = probe_one_ca(host, port, true, &public).await;
    check(
        &p.verdict,
        &format!("TCP: connection refused by 127.0.0.1:{port}"),
    );

    let port = silent().await;
    let host = "silent.egress.test";
    let p = probe_one_ca(host, port, true, &public).await;
    check(&p.verdict, "TLS: handshake timed out after 700 ms");
    let p = probe_one_ca(host, port, false, &public).await;
    check(&p.verdict, "HTTP: no response within 700 ms");
}

#[tokio::test]
async fn plain_http() {
    let port = http_origin().await;
    let host = "plain.egress.test";
    let p = probe(&target(host, port, false), &config(host, port, &[], &[])).await;
    check(&p.verdict, "ok");
    assert_eq!(p.http_status, Some(204));
    assert!(p.tls.is_none());
}

#[tokio::test]
async fn ipv6_failure_with_ipv4_success_is_a_warning() {
    let port = http_origin().await;
    let host = "dual.egress.test";
    let mut c = config(host, port, &[], &[]);
    // An AAAA answer on ::1 where nothing listens, then the A answer.
    c.resolve = vec![
        (
            host.to_owned(),
            port,
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ),
        (host.to_owned(), port, LOCALHOST),
    ]
    .into();
    let p = probe(&target(host, port, false), &c).await;
    match &p.verdict {
        Verdict::Warning(w) => assert!(w[0].starts_with("IPv6 failed ("), "{w:?}"),
        other => panic!("expected a warning, got {other:?}"),
    }
    assert_eq!(p.connected, Some(SocketAddr::new(LOCALHOST, port)));
    assert_eq!(p.addresses.len(), 2);
}

/// An HTTP origin that redirects `/` to `location` and answers anything
/// else with 204.
async fn redirecting(location: String) -> u16 {
    replying(move |head| {
        if head.starts_with(b"HEAD / ") {
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes()
        } else {
            b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec()
        }
    })
    .await
}

#[tokio::test]
async fn redirects_are_followed_and_hops_outside_the_plan_warned() {
    let host = "go.egress.test";
    let port = redirecting("/final".to_owned()).await;
    let p = probe(&target(host, port, false), &config(host, port, &[], &[])).await;
    check(&p.verdict, "ok");
    assert_eq!(p.redirects, [format!("http://go.egress.test:{port}/final")]);
    assert_eq!(p.http_status, Some(204));

    let elsewhere = http_origin().await;
    let port = redirecting(format!("http://elsewhere.egress.test:{elsewhere}/x")).await;
    let mut c = config(host, port, &[], &[]);
    c.resolve = [
        c.resolve.to_vec(),
        vec![("elsewhere.egress.test".to_owned(), elsewhere, LOCALHOST)],
    ]
    .concat()
    .into();
    c.covered = Some(Arc::new(|h: &str| h == "go.egress.test"));
    let p = probe(&target(host, port, false), &c).await;
    // The endpoint answered; the hop outside the plan is not
    // followed, so that a host the plan does not name cannot fail the
    // endpoint.
    check(
        &p.verdict,
        &format!(
            "warning: redirect to http://elsewhere.egress.test:{elsewhere}/x leaves the plan (elsewhere.egress.test is not in it): not followed"
        ),
    );
    assert_eq!(p.http_status, Some(302));
    assert_eq!(
        p.redirects,
        [format!("http://elsewhere.egress.test:{elsewhere}/x")]
    );
    // A network-path reference is another host, not a path on this one.
    let port = redirecting("//elsewhere.egress.test/y".to_owned()).await;
    let mut c = config(host, port, &[], &[]);
    c.covered = Some(Arc::new(|h: &str| h == "go.egress.test"));
    let p = probe(&target(host, port, false), &c).await;
    assert_eq!(p.redirects, ["http://elsewhere.egress.test/y"]);
}

// --- Through a real Squid ------------------------------------------------

/// A Squid on loopback that allows `allowed.egress.test` and denies the
/// rest; with `auth`, only to clients that authenticate (any credentials:
/// Squid's basic_fake_auth helper).
fn squid(auth: bool) -> Squid {
    let auth_lines = if auth {
        "auth_param basic program /usr/lib/squid/basic_fake_auth\n\
         auth_param basic realm egress\n\
         acl authed proxy_auth REQUIRED\n\
         http_access deny !authed\n"
    } else {
        ""
    };
    Squid::start(
        squid::folder(),
        &["allowed.egress.test", "denied.egress.test"],
        &format!(
            "{auth_lines}\
             acl allowed dstdomain allowed.egress.test\n\
             http_access allow allowed\n\
             http_access deny all\n"
        ),
    )
}

fn through(proxy: &Squid, trusted: &[&Ca], credentials: Option<(&str, &str)>) -> Config {
    Config {
        connect_timeout: Duration::from_millis(500),
        phase_timeout: Duration::from_secs(5),
        extra_roots: trusted.iter().map(|c| c.der.clone()).collect(),
        public_roots: Some(trusted.iter().map(|c| c.der.clone()).collect()),
        roots_only: true,
        proxy: Some(egress_check::Proxy {
            host: "127.0.0.1".to_owned(),
            port: proxy.port,
            credentials: credentials.map(|(u, p)| egress_check::auth::Credentials::new(u, p)),
        }),
        ..Config::default()
    }
}

#[tokio::test]
async fn through_squid_allowing_and_denying() {
    if !needs(&[SQUID]) {
        return;
    }
    let public = ca("Egress Test Public CA");
    let (cert, key) = leaf(
        &public,
        &["allowed.egress.test", "denied.egress.test"],
        false,
    );
    let tls_port = https_origin(cert, key).await;
    let http_port = http_origin().await;
    let s = squid(false);
    let c = through(&s, &[&public], None);

    let p = probe(&target("allowed.egress.test", tls_port, true), &c).await;
    check(&p.verdict, "ok");
    assert_eq!(p.proxy_status, Some(200));
    assert_eq!(p.http_status, Some(204));
    // DNS and TCP were the proxy's.
    assert_eq!(p.connected, Some(SocketAddr::new(LOCALHOST, s.port)));

    let p = probe(&target("denied.egress.test", tls_port, true), &c).await;
    check(
        &p.verdict,
        "proxy: proxy denied CONNECT (403 Forbidden, Squid)",
    );
    assert_eq!(p.proxy_status, Some(403));

    let p = probe(&target("allowed.egress.test", http_port, false), &c).await;
    check(&p.verdict, "ok");
    let p = probe(&target("denied.egress.test", http_port, false), &c).await;
    check(
        &p.verdict,
        "proxy: proxy denied the request (403 Forbidden, Squid)",
    );
}

#[tokio::test]
async fn through_squid_requiring_basic_authentication() {
    if !needs(&[SQUID]) {
        return;
    }
    let public = ca("Egress Test Public CA");
    let (cert, key) = leaf(&public, &["allowed.egress.test"], false);
    let tls_port = https_origin(cert, key).await;
    let s = squid(true);
    let p = probe(
        &target("allowed.egress.test", tls_port, true),
        &through(&s, &[&public], None),
    )
    .await;
    check(
        &p.verdict,
        "proxy-auth: proxy requires authentication (407, Squid; offers Basic)",
    );
    let p = probe(
        &target("allowed.egress.test", tls_port, true),
        &through(&s, &[&public], Some(("svc-egress", "s3cret!"))),
    )
    .await;
    check(&p.verdict, "ok");
    // The password never shows.
    let shown = format!(
        "{:?} {:?}",
        through(&s, &[&public], Some(("svc-egress", "s3cret!"))),
        p
    );
    assert!(!shown.contains("s3cret!"), "{shown}");
}

// --- A DNS server on loopback, for `--dns-server` --------------------------

#[derive(Clone, Copy)]
enum Dns {
    /// Answers A queries with 127.0.0.1 and AAAA queries with ::1.
    Answer,
    Refuse,
    /// Never answers.
    Silent,
}

async fn dns_server(mode: Dns) -> SocketAddr {
    use egress_test_support::dns::{DnsServer, Reply};
    let reply = match mode {
        Dns::Answer => Reply::Addresses(vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ]),
        Dns::Refuse => Reply::Refuse,
        Dns::Silent => Reply::Silent,
    };
    DnsServer::start(move |_, _, _| reply.clone()).address
}

#[tokio::test]
async fn dns_server_answering_refusing_and_silent() {
    let port = http_origin().await;
    let host = "named.egress.test";
    let mut c = Config {
        connect_timeout: Duration::from_millis(500),
        phase_timeout: Duration::from_millis(700),
        ..Config::default()
    };

    // AAAA ::1 (where the origin does not listen) and A 127.0.0.1: the
    // IPv6 failure is a warning, not hidden.
    c.dns_server = Some(dns_server(Dns::Answer).await);
    let p = probe(&target(host, port, false), &c).await;
    match &p.verdict {
        Verdict::Warning(w) => assert!(w[0].starts_with("IPv6 failed ("), "{w:?}"),
        other => panic!("expected a warning, got {other:?}"),
    }
    assert!(
        p.addresses.contains(&LOCALHOST)
            && p.addresses
                .contains(&IpAddr::V6(std::net::Ipv6Addr::LOCALHOST))
    );
    assert_eq!(p.connected, Some(SocketAddr::new(LOCALHOST, port)));

    let server = dns_server(Dns::Refuse).await;
    c.dns_server = Some(server);
    let p = probe(&target(host, port, false), &c).await;
    check(&p.verdict, &format!("DNS: {server} refused the query"));

    let server = dns_server(Dns::Silent).await;
    c.dns_server = Some(server);
    let p = probe(&target(host, port, false), &c).await;
    check(
        &p.verdict,
        &format!("DNS: no answer from {server} within 700 ms"),
    );
}

/// A listener whose accept backlog is full: further connects get no answer,
/// as behind a firewall that drops packets.
#[tokio::test]
async fn a_full_backlog_times_out_the_connect() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    let listener = socket.listen(1).unwrap();
    // Fill the backlog; nothing is ever accepted.
    let mut held = Vec::new();
    for _ in 0..8 {
        let c = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await;
        if let Ok(Ok(s)) = c {
            held.push(s);
        }
    }
    let host = "dropped.egress.test";
    let p = probe(&target(host, port, true), &config(host, port, &[], &[])).await;
    check(
        &p.verdict,
        &format!("TCP: connection timed out after 500 ms to 127.0.0.1:{port}"),
    );
    drop(listener);
}

#[tokio::test]
async fn tls_version_can_be_pinned() {
    let public = ca("Egress Test Public CA");
    let (cert, key) = leaf(&public, &["v.egress.test"], false);
    let port = https_origin(cert, key).await;
    let host = "v.egress.test";
    for (version, expected) in [
        (egress_check::TlsVersion::Tls12, "TLS1.2"),
        (egress_check::TlsVersion::Tls13, "TLS1.3"),
    ] {
        let mut c = config(host, port, &[&public], &[&public]);
        c.tls_version = Some(version);
        let p = probe(&target(host, port, true), &c).await;
        check(&p.verdict, "ok");
        assert_eq!(p.tls.unwrap().version.as_deref(), Some(expected));
    }
}

/// A server that answers HEAD with 405 and closes the connection, and GET
/// with 200.
async fn head_rejecting() -> u16 {
    replying(|head| {
        if head.starts_with(b"HEAD ") {
            b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec()
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
        }
    })
    .await
}

#[tokio::test]
async fn head_rejected_then_get_on_a_new_connection() {
    let port = head_rejecting().await;
    let host = "head.egress.test";
    let p = probe(&target(host, port, false), &config(host, port, &[], &[])).await;
    check(&p.verdict, "ok");
    assert_eq!(p.http_status, Some(200));
    // One set of phases: the GET's.
    let phases: Vec<Phase> = p.timings.iter().map(|(ph, _)| *ph).collect();
    assert_eq!(phases, [Phase::Dns, Phase::Tcp, Phase::Http]);
}

/// A route's list (a PAC file's answer) is tried in order, as
/// WinHTTP fails over: a proxy that refuses connections passes to the
/// next entry, and the probe says which entry carried it; entries egress
/// cannot use are skipped and named.
#[tokio::test]
async fn a_route_list_fails_over_to_the_next_entry() {
    use egress_check::Proxy;
    use egress_check::settings::Hop;
    let origin = http_origin().await;
    let dead = closed().await;
    let host = "failover.egress.test";
    let c = config(host, origin, &[], &[]);
    let dead_proxy = Hop::Proxy(Proxy {
        host: "127.0.0.1".to_owned(),
        port: dead,
        credentials: None,
    });
    let p = egress_check::probe_via(
        &target(host, origin, false),
        &c,
        &[
            Hop::Unsupported("SOCKS5 127.0.0.1:1080".to_owned()),
            dead_proxy.clone(),
            Hop::Direct,
        ],
    )
    .await;
    check(&p.verdict, "ok");
    assert_eq!(
        p.via.as_deref(),
        Some(&*format!(
            "DIRECT, after PROXY 127.0.0.1:{dead} failed (SOCKS5 127.0.0.1:1080 skipped: not supported)"
        ))
    );
    // The last entry's failure is the verdict.
    let p = egress_check::probe_via(&target(host, origin, false), &c, &[dead_proxy]).await;
    check(
        &p.verdict,
        &format!("TCP: connection refused by 127.0.0.1:{dead} (the proxy)"),
    );
    let p = egress_check::probe_via(
        &target(host, origin, false),
        &c,
        &[Hop::Unsupported("HTTPS p.egress.test:443".to_owned())],
    )
    .await;
    check(
        &p.verdict,
        "proxy: the route offers only HTTPS p.egress.test:443, which egress cannot use (it speaks to HTTP proxies)",
    );
}
