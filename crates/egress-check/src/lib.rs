//! Connectivity probes, phase by phase: DNS, TCP, TLS, HTTP.
//!
//! [`probe`] checks one target the way a site system would reach it and
//! records each phase: how long it took, what it found (every address, the
//! one that answered, the TLS version and cipher suite, the presented
//! certificate chain even when it is not trusted, the HTTP status), and the
//! first phase that failed with a reason in plain words. TLS is verified
//! twice: against the platform's trust (plus any extra roots), and against
//! the public Web PKI alone; trusted here but not publicly means a
//! re-signing middlebox or a private PKI, reported as a warning.
//!
//! [`plan::check`] runs it over a whole plan, all probes at once (bounded),
//! and rolls the verdicts up per feature. This crate knows nothing of the
//! command line or output formats. Tests run it against local servers on
//! loopback only.

#![forbid(unsafe_code)]

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

mod cert;
pub mod plan;
pub mod report;
pub mod settings;

pub use cert::CertInfo;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Path and query for the HTTP request, `/` at least.
    pub path: String,
}

/// How to probe.
#[derive(Clone)]
pub struct Config {
    /// Deadline of each TCP connect attempt.
    pub connect_timeout: Duration,
    /// Deadline of the DNS, TLS and HTTP phases each.
    pub phase_timeout: Duration,
    /// Roots trusted besides the platform's (`--ca-file`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// What counts as the public Web PKI (default: webpki-roots).
    pub public_roots: Option<Vec<CertificateDer<'static>>>,
    /// Fixed answers instead of DNS (`--resolve HOST:PORT:ADDR`).
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// A DNS server to ask instead of the system's resolver.
    pub dns_server: Option<SocketAddr>,
    /// Only this TLS version (`--tls-version`); `None`: 1.2 or 1.3.
    pub tls_version: Option<TlsVersion>,
    /// Only the given roots, not the platform's: for tests, which must not
    /// depend on the machine's trust store.
    pub roots_only: bool,
    /// The proxy to go through, if any.
    pub proxy: Option<Proxy>,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// An intranet endpoint: exempt from the TLS inspection check.
    pub intranet: bool,
    /// Whether a redirect's host is covered by the plan: a hop outside it is
    /// a warning. `None`: every host is.
    pub covered: Option<Covered>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// Whether a host is covered by the plan.
pub type Covered = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// An HTTP proxy: for HTTPS a CONNECT naming the target (the proxy
/// resolves it), for HTTP an absolute-form request.
#[derive(Clone)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// Basic credentials. Never shown in any output.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password never reaches a log.
        write!(
            f,
            "Proxy({}:{}{})",
            self.host,
            self.port,
            if self.credentials.is_some() {
                ", with credentials"
            } else {
                ""
            }
        )
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("connect_timeout", &self.connect_timeout)
            .field("phase_timeout", &self.phase_timeout)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connect_timeout: Duration::from_secs(3),
            phase_timeout: Duration::from_secs(5),
            extra_roots: Vec::new(),
            public_roots: None,
            resolve: Vec::new(),
            dns_server: None,
            tls_version: None,
            roots_only: false,
            proxy: None,
            max_redirects: 5,
            intranet: false,
            covered: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Dns,
    Tcp,
    Proxy,
    Tls,
    Http,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Dns => "DNS",
            Phase::Tcp => "TCP",
            Phase::Proxy => "proxy",
            Phase::Tls => "TLS",
            Phase::Http => "HTTP",
        })
    }
}

/// The outcome of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Reachable, with something to look at.
    Warning(Vec<String>),
    /// The first failing phase, and why.
    Failed {
        phase: Phase,
        reason: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    /// The presented chain, leaf first, recorded even when untrusted.
    pub chain: Vec<CertInfo>,
    /// Trusted by the platform (plus extra roots).
    pub trusted: bool,
    /// Trusted by the public Web PKI alone.
    pub publicly_trusted: bool,
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub target: ProbeTarget,
    pub timings: Vec<(Phase, Duration)>,
    pub addresses: Vec<IpAddr>,
    pub connected: Option<SocketAddr>,
    pub tls: Option<TlsInfo>,
    /// The proxy's answer to CONNECT, for HTTPS through a proxy.
    pub proxy_status: Option<u16>,
    pub http_status: Option<u16>,
    /// Redirects followed: each hop's URL.
    pub redirects: Vec<String>,
    pub verdict: Verdict,
}

/// Probes one target.
pub async fn probe(target: &ProbeTarget, config: &Config) -> Probe {
    let mut p = Probe {
        target: target.clone(),
        timings: Vec::new(),
        addresses: Vec::new(),
        connected: None,
        tls: None,
        proxy_status: None,
        http_status: None,
        redirects: Vec::new(),
        verdict: Verdict::Ok,
    };
    let mut warnings = Vec::new();
    match run(target, config, &mut p, &mut warnings).await {
        Ok(()) if warnings.is_empty() => p.verdict = Verdict::Ok,
        Ok(()) => p.verdict = Verdict::Warning(warnings),
        Err((phase, reason)) => p.verdict = Verdict::Failed { phase, reason },
    }
    p
}

type PhaseError = (Phase, String);

fn secs(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

async fn run(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    warnings: &mut Vec<String>,
) -> Result<(), PhaseError> {
    let mut current = target.clone();
    for hop in 0..=config.max_redirects {
        let answer = once(&current, config, p, warnings, hop == 0).await?;
        let Some(location) = answer
            .location
            .filter(|_| (300..400).contains(&answer.status))
        else {
            p.http_status = Some(answer.status);
            if let Some(h) = hint(answer.status) {
                warnings.push(format!("HTTP {}: {h}", answer.status));
            }
            return Ok(());
        };
        let next = follow(&current, &location).ok_or_else(|| {
            (
                Phase::Http,
                format!("redirect to `{location}`, which is not an http or https URL"),
            )
        })?;
        let url = next.url();
        if let Some(covered) = &config.covered
            && !covered(&next.host)
        {
            warnings.push(format!(
                "redirect to {url}: {} is not in the plan",
                next.host
            ));
        }
        p.redirects.push(url);
        current = next;
    }
    Err((
        Phase::Http,
        format!("more than {} redirects", config.max_redirects),
    ))
}

/// What one request got back.
struct Answer {
    status: u16,
    location: Option<String>,
}

impl ProbeTarget {
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            format!("{scheme}://{}{}", self.host, self.path)
        } else {
            format!("{scheme}://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

/// The target a `Location` names, relative to the current one.
fn follow(current: &ProbeTarget, location: &str) -> Option<ProbeTarget> {
    if location.starts_with('/') {
        return Some(ProbeTarget {
            path: location.to_owned(),
            ..current.clone()
        });
    }
    let (scheme, rest) = location.split_once("://")?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse().ok()?),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    Some(ProbeTarget {
        host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
        port,
        tls,
        path: if path.is_empty() {
            "/".to_owned()
        } else {
            path.to_owned()
        },
    })
}

/// ConfigMgr's reading of statuses ("Validate internet access").
pub fn hint(status: u16) -> Option<&'static str> {
    Some(match status {
        407 | 408 | 451 | 502 | 511 => "may indicate a proxy problem",
        426 => "may indicate a TLS misconfiguration",
        598 | 599 => "a network timeout reported by a proxy",
        _ => return None,
    })
}

/// One request: DNS, TCP (to the target or the proxy), the proxy's CONNECT,
/// TLS and HTTP. Addresses and TLS details are recorded for the first hop.
async fn once(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    warnings: &mut Vec<String>,
    first: bool,
) -> Result<Answer, PhaseError> {
    // DNS and TCP: through a proxy, to the proxy (which resolves the target).
    let (host, port) = match &config.proxy {
        Some(proxy) => (proxy.host.as_str(), proxy.port),
        None => (target.host.as_str(), target.port),
    };
    let start = Instant::now();
    let addresses = resolve(host, port, config).await;
    p.timings.push((Phase::Dns, start.elapsed()));
    let addresses = addresses?;
    let start = Instant::now();
    let (stream, connected, failures) = connect(&addresses, port, config).await;
    p.timings.push((Phase::Tcp, start.elapsed()));
    if first {
        p.addresses = addresses;
        p.connected = connected;
    }
    let Some(stream) = stream else {
        let reasons: Vec<String> = failures.into_iter().map(|(_, r)| r).collect();
        let via = if config.proxy.is_some() {
            " (the proxy)"
        } else {
            ""
        };
        return Err((Phase::Tcp, format!("{}{via}", reasons.join("; "))));
    };
    if connected.is_some_and(|a| a.is_ipv4()) && failures.iter().any(|(a, _)| a.is_ipv6()) {
        let v6: Vec<&str> = failures
            .iter()
            .filter(|(a, _)| a.is_ipv6())
            .map(|(_, r)| r.as_str())
            .collect();
        warnings.push(format!("IPv6 failed ({}), IPv4 worked", v6.join("; ")));
    }

    match (&config.proxy, target.tls) {
        (None, false) => http(target, config, p, stream, None).await,
        (Some(proxy), false) => http(target, config, p, stream, Some(proxy)).await,
        (None, true) => {
            let tls = tls(target, config, p, stream, warnings, first).await?;
            http(target, config, p, tls, None).await
        }
        (Some(proxy), true) => {
            let tunnel = connect_through(target, proxy, config, p, stream).await?;
            let tls = tls(target, config, p, tunnel, warnings, first).await?;
            http(target, config, p, tls, None).await
        }
    }
}

async fn connect(
    addresses: &[IpAddr],
    port: u16,
    config: &Config,
) -> (
    Option<TcpStream>,
    Option<SocketAddr>,
    Vec<(SocketAddr, String)>,
) {
    let mut failures = Vec::new();
    for ip in addresses {
        let addr = SocketAddr::new(*ip, port);
        match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return (Some(s), Some(addr), failures),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                failures.push((addr, format!("connection refused by {addr}")))
            }
            Ok(Err(e)) => failures.push((addr, format!("{e} ({addr})"))),
            Err(_) => failures.push((
                addr,
                format!(
                    "connection timed out after {} to {addr}",
                    secs(config.connect_timeout)
                ),
            )),
        }
    }
    (None, None, failures)
}

/// `Proxy-Authorization: Basic ...`, when the proxy has credentials.
fn proxy_authorization(proxy: &Proxy) -> Option<String> {
    use base64::Engine as _;
    proxy.credentials.as_ref().map(|(user, password)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    })
}

/// Who answered: `Squid` when the proxy says so, else its `Server`.
fn proxy_name(headers: &hyper::HeaderMap) -> String {
    let server = headers
        .get(hyper::header::SERVER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if server.to_ascii_lowercase().contains("squid") || headers.contains_key("x-squid-error") {
        "Squid".to_owned()
    } else if !server.is_empty() {
        server.to_owned()
    } else {
        "proxy".to_owned()
    }
}

/// Whether a response came from the proxy rather than the target.
fn from_proxy(status: u16, headers: &hyper::HeaderMap) -> bool {
    status == 407
        || (matches!(status, 403 | 502 | 503 | 504)
            && (headers.contains_key("x-squid-error")
                || headers.contains_key("proxy-agent")
                || headers.contains_key(hyper::header::VIA)
                || headers
                    .get(hyper::header::SERVER)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|s| s.to_ascii_lowercase().contains("squid"))))
}

/// A CONNECT through the proxy; its status is recorded apart from the
/// target's.
async fn connect_through(
    target: &ProbeTarget,
    proxy: &Proxy,
    config: &Config,
    p: &mut Probe,
    stream: TcpStream,
) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>, PhaseError> {
    use http_body_util::Empty;
    use hyper::body::Bytes;

    let start = Instant::now();
    let authority = format!("{}:{}", target.host, target.port);
    let exchange = async {
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn.with_upgrades());
        let mut request = hyper::Request::connect(authority.as_str())
            .header(hyper::header::HOST, authority.as_str());
        if let Some(auth) = proxy_authorization(proxy) {
            request = request.header(hyper::header::PROXY_AUTHORIZATION, auth);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(response)
    };
    let response = match tokio::time::timeout(config.phase_timeout, exchange).await {
        Err(_) => {
            return Err((
                Phase::Proxy,
                format!("no answer to CONNECT within {}", secs(config.phase_timeout)),
            ));
        }
        Ok(Err(e)) => return Err((Phase::Proxy, format!("CONNECT failed: {e}"))),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    p.proxy_status = Some(status);
    if status != 200 {
        p.timings.push((Phase::Proxy, start.elapsed()));
        let who = proxy_name(response.headers());
        let reason = match status {
            407 => format!("proxy requires authentication (407, {who})"),
            _ => format!("proxy denied CONNECT ({status}, {who})"),
        };
        return Err((Phase::Proxy, reason));
    }
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(|e| (Phase::Proxy, e.to_string()))?;
    p.timings.push((Phase::Proxy, start.elapsed()));
    Ok(hyper_util::rt::TokioIo::new(upgraded))
}

/// TLS over `stream`, recording the chain and both verdicts.
async fn tls<S>(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    stream: S,
    warnings: &mut Vec<String>,
    first: bool,
) -> Result<tokio_rustls::client::TlsStream<S>, PhaseError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let start = Instant::now();
    let record = Arc::new(Mutex::new(Record::default()));
    let verifier = Recorder::new(config, record.clone()).map_err(|e| (Phase::Tls, e))?;
    let versions: &[&rustls::SupportedProtocolVersion] = match config.tls_version {
        None => rustls::DEFAULT_VERSIONS,
        Some(TlsVersion::Tls12) => &[&rustls::version::TLS12],
        Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
    };
    let tls_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| (Phase::Tls, e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config));
    let name =
        ServerName::try_from(target.host.clone()).map_err(|e| (Phase::Tls, e.to_string()))?;
    let handshake =
        tokio::time::timeout(config.phase_timeout, connector.connect(name, stream)).await;
    p.timings.push((Phase::Tls, start.elapsed()));
    let recorded = record.lock().map(|r| r.clone()).unwrap_or_default();
    let mut info = TlsInfo {
        chain: recorded.chain.iter().map(|c| cert::info(c)).collect(),
        trusted: recorded.local.is_ok(),
        publicly_trusted: recorded.public.is_ok(),
        ..TlsInfo::default()
    };
    let tls_stream = match handshake {
        Err(_) => {
            if first {
                p.tls = Some(info);
            }
            return Err((
                Phase::Tls,
                format!("handshake timed out after {}", secs(config.phase_timeout)),
            ));
        }
        Ok(Err(e)) => {
            if first {
                p.tls = Some(info);
            }
            return Err((Phase::Tls, format!("handshake failed: {e}")));
        }
        Ok(Ok(s)) => s,
    };
    let (_, conn) = tls_stream.get_ref();
    info.version = conn.protocol_version().map(|v| format!("{v:?}"));
    info.cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()));
    let issuer = info
        .chain
        .first()
        .map(|c| c.issuer.clone())
        .unwrap_or_default();
    if first {
        p.tls = Some(info);
    }
    if let Err(e) = &recorded.local {
        return Err((Phase::Tls, untrusted_reason(e, &issuer, &target.host)));
    }
    if recorded.public.is_err() && !config.intranet {
        warnings.push(format!(
            "TLS inspection or private PKI: the certificate issued by {issuer} is trusted here but not by the public Web PKI"
        ));
    }
    Ok(tls_stream)
}

async fn resolve(host: &str, port: u16, config: &Config) -> Result<Vec<IpAddr>, PhaseError> {
    let fixed: Vec<IpAddr> = config
        .resolve
        .iter()
        .filter(|(h, p, _)| h.eq_ignore_ascii_case(host) && *p == port)
        .map(|(_, _, ip)| *ip)
        .collect();
    if !fixed.is_empty() {
        return Ok(fixed);
    }
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if let Some(server) = config.dns_server {
        return ask(host, server, config).await;
    }
    // The system's resolver, with the system's configuration.
    let lookup = tokio::net::lookup_host((host, port));
    match tokio::time::timeout(config.phase_timeout, lookup).await {
        Err(_) => Err((
            Phase::Dns,
            format!("no answer within {}", secs(config.phase_timeout)),
        )),
        Ok(Err(_)) => Err((Phase::Dns, "no such host".to_owned())),
        Ok(Ok(addrs)) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !ips.contains(&a.ip()) {
                    ips.push(a.ip());
                }
            }
            if ips.is_empty() {
                Err((Phase::Dns, "no such host".to_owned()))
            } else {
                Ok(ips)
            }
        }
    }
}

/// Every A and AAAA answer from one DNS server (`--dns-server`).
async fn ask(host: &str, server: SocketAddr, config: &Config) -> Result<Vec<IpAddr>, PhaseError> {
    use hickory_resolver::config::{
        ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
    };
    use hickory_resolver::net::runtime::TokioRuntimeProvider;

    let mut udp = ConnectionConfig::udp();
    udp.port = server.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = server.port();
    let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
    name_server.connections = vec![udp, tcp];
    let mut options = ResolverOpts::default();
    options.timeout = config.phase_timeout;
    options.attempts = 1;
    options.cache_size = 0;
    let resolver = hickory_resolver::Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![name_server]),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|e| (Phase::Dns, format!("cannot ask {server}: {e}")))?;
    // The name is absolute: no search domains.
    let name = format!("{}.", host.trim_end_matches('.'));
    let lookup = tokio::time::timeout(
        config.phase_timeout + Duration::from_millis(200),
        resolver.lookup_ip(name),
    )
    .await;
    match lookup {
        Err(_) => Err((
            Phase::Dns,
            format!(
                "no answer from {server} within {}",
                secs(config.phase_timeout)
            ),
        )),
        Ok(Err(e)) => {
            let text = e.to_string();
            let lower = text.to_ascii_lowercase();
            Err((
                Phase::Dns,
                if lower.contains("refused") {
                    format!("{server} refused the query")
                } else if lower.contains("timed out") || lower.contains("timeout") {
                    format!(
                        "no answer from {server} within {}",
                        secs(config.phase_timeout)
                    )
                } else if lower.contains("no record")
                    || lower.contains("nxdomain")
                    || lower.contains("no such")
                {
                    "no such host".to_owned()
                } else {
                    format!("{server}: {text}")
                },
            ))
        }
        Ok(Ok(answer)) => {
            // IPv6 first, as the system's resolver orders them (RFC 6724):
            // so that an IPv6 path that fails is seen, not hidden.
            let mut ips: Vec<IpAddr> = answer.iter().collect();
            ips.sort_by_key(|ip| ip.is_ipv4());
            if ips.is_empty() {
                Err((Phase::Dns, "no such host".to_owned()))
            } else {
                Ok(ips)
            }
        }
    }
}

/// A HEAD request to the target's path (absolute-form through a proxy for
/// plain HTTP); a GET read to the end of the headers when the server
/// rejects HEAD. Any response from the target counts as reachable; one from
/// the proxy itself means the proxy blocked it.
async fn http<S>(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    stream: S,
    proxy: Option<&Proxy>,
) -> Result<Answer, PhaseError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::Empty;
    use hyper::body::Bytes;

    let start = Instant::now();
    let io = hyper_util::rt::TokioIo::new(stream);
    let host = if (target.tls && target.port == 443) || (!target.tls && target.port == 80) {
        target.host.clone()
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let uri = match proxy {
        Some(_) => format!("http://{host}{}", target.path),
        None => target.path.clone(),
    };
    let exchange = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut last = None;
        for method in [hyper::Method::HEAD, hyper::Method::GET] {
            let mut request = hyper::Request::builder()
                .method(method)
                .uri(uri.as_str())
                .header(hyper::header::HOST, host.as_str())
                .header(
                    hyper::header::USER_AGENT,
                    concat!("egress/", env!("CARGO_PKG_VERSION")),
                );
            if let Some(auth) = proxy.and_then(proxy_authorization) {
                request = request.header(hyper::header::PROXY_AUTHORIZATION, auth);
            }
            let request = request
                .body(Empty::<Bytes>::new())
                .map_err(|e| e.to_string())?;
            sender.ready().await.map_err(|e| e.to_string())?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let rejected_head = matches!(status, 405 | 501);
            last = Some((status, response.headers().clone()));
            // Only the headers are wanted: the body is dropped unread.
            drop(response);
            if !rejected_head {
                break;
            }
        }
        Ok::<_, String>(last.expect("at least one request"))
    };
    let result = tokio::time::timeout(config.phase_timeout, exchange).await;
    p.timings.push((Phase::Http, start.elapsed()));
    let (status, headers) = match result {
        Err(_) => {
            return Err((
                Phase::Http,
                format!("no response within {}", secs(config.phase_timeout)),
            ));
        }
        Ok(Err(e)) => return Err((Phase::Http, format!("request failed: {e}"))),
        Ok(Ok(r)) => r,
    };
    if proxy.is_some() && from_proxy(status, &headers) {
        p.proxy_status = Some(status);
        let who = proxy_name(&headers);
        return Err((
            Phase::Proxy,
            match status {
                407 => format!("proxy requires authentication (407, {who})"),
                _ => format!("proxy denied the request ({status}, {who})"),
            },
        ));
    }
    Ok(Answer {
        status,
        location: headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    })
}

fn untrusted_reason(e: &rustls::Error, issuer: &str, host: &str) -> String {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            format!("certificate issued by {issuer} is not trusted")
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!("certificate is not valid for {host}"),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => format!("certificate issued by {issuer} has expired"),
        other => format!("certificate not trusted: {other}"),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the verifier saw.
#[derive(Debug, Clone)]
struct Record {
    chain: Vec<CertificateDer<'static>>,
    local: Result<(), rustls::Error>,
    public: Result<(), rustls::Error>,
}

impl Default for Record {
    fn default() -> Record {
        Record {
            chain: Vec::new(),
            local: Err(rustls::Error::General(
                "no certificate presented".to_owned(),
            )),
            public: Err(rustls::Error::General(
                "no certificate presented".to_owned(),
            )),
        }
    }
}

/// Records the chain and verifies it twice, then lets the handshake go on
/// whatever the result, so that the chain and the TLS details are known;
/// the probe fails the TLS phase afterwards when the chain is not trusted.
#[derive(Debug)]
struct Recorder {
    local: Arc<dyn ServerCertVerifier>,
    public: Arc<dyn ServerCertVerifier>,
    record: Arc<Mutex<Record>>,
}

impl Recorder {
    fn new(config: &Config, record: Arc<Mutex<Record>>) -> Result<Recorder, String> {
        let webpki =
            |roots: &[CertificateDer<'static>]| -> Result<Arc<dyn ServerCertVerifier>, String> {
                let mut store = RootCertStore::empty();
                for r in roots {
                    store.add(r.clone()).map_err(|e| e.to_string())?;
                }
                let v = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(store),
                    provider(),
                )
                .build()
                .map_err(|e| e.to_string())?;
                Ok(v)
            };
        let local: Arc<dyn ServerCertVerifier> = if config.roots_only {
            webpki(&config.extra_roots)?
        } else {
            Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    config.extra_roots.clone(),
                    provider(),
                )
                .map_err(|e| e.to_string())?,
            )
        };
        let public = match &config.public_roots {
            Some(roots) => webpki(roots)?,
            None => {
                let store = RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(store),
                    provider(),
                )
                .build()
                .map_err(|e| e.to_string())?
            }
        };
        Ok(Recorder {
            local,
            public,
            record,
        })
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let local = self
            .local
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(drop);
        let public = self
            .public
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(drop);
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        if let Ok(mut r) = self.record.lock() {
            *r = Record {
                chain,
                local,
                public,
            };
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
