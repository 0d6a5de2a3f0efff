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
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

pub mod auth;
mod cert;
pub mod failure;
pub mod fetch;
pub mod history;
pub mod metrics;
pub mod plan;
pub mod report;
pub mod settings;

pub use cert::CertInfo;
pub use failure::{ConnectError, Failure, Request, Side};

use failure::secs;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Path and query for the HTTP request, `/` at least.
    pub path: String,
    /// HTTP statuses the catalog says mean reachable; empty: any response
    /// from the target. Through a proxy, a listed 401, 403 or 5xx that
    /// carries no proxy evidence counts as the target's.
    pub reachable: Vec<u16>,
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
    /// Fixed answers instead of DNS (`--resolve HOST:PORT:ADDR`), shared
    /// by every clone of this configuration (one a probe).
    pub resolve: Arc<[(String, u16, IpAddr)]>,
    /// A DNS server to ask instead of the system's resolver.
    pub dns_server: Option<SocketAddr>,
    /// Only this TLS version (`--tls-version`); `None`: 1.2 or 1.3.
    pub tls_version: Option<TlsVersion>,
    /// Only the given roots, not the platform's: for tests, which must not
    /// depend on the machine's trust store.
    pub roots_only: bool,
    /// The proxy to go through, if any.
    pub proxy: Option<Proxy>,
    /// How to authenticate to a proxy that asks (`--proxy-auth`).
    pub proxy_auth: auth::AuthMode,
    /// The scheme each proxy was answered with, shared by every clone of
    /// this configuration, so that later connections start with it.
    pub auth_schemes: AuthSchemes,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// An intranet endpoint: exempt from the TLS inspection check.
    pub intranet: bool,
    /// Whether a redirect's host is covered by the plan: a hop outside it is
    /// not followed, and a warning. `None`: every host is.
    pub covered: Option<Covered>,
    /// The two certificate verifiers, built from the roots above on the
    /// first TLS handshake and shared by every clone of this configuration
    /// (building the platform verifier loads the system's trust store):
    /// set the roots before the first probe.
    pub verifiers: VerifierCache,
}

/// The scheme each proxy (host, port) took; clones share it.
#[derive(Debug, Clone, Default)]
pub struct AuthSchemes(Arc<Mutex<std::collections::HashMap<(String, u16), auth::Scheme>>>);

impl AuthSchemes {
    fn get(&self, proxy: &Proxy) -> Option<auth::Scheme> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(proxy.host.clone(), proxy.port)).copied()
    }

    fn set(&self, proxy: &Proxy, scheme: auth::Scheme) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert((proxy.host.clone(), proxy.port), scheme);
    }
}

/// Where a [`Config`]'s verifiers are kept once built; clones share it.
#[derive(Debug, Clone, Default)]
pub struct VerifierCache(Arc<OnceLock<Result<Verifiers, String>>>);

/// The platform verifier (with the extra roots) and the public Web PKI one.
#[derive(Debug, Clone)]
pub struct Verifiers {
    local: Arc<dyn ServerCertVerifier>,
    public: Arc<dyn ServerCertVerifier>,
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
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// Credentials for Basic, NTLM or Negotiate. Never shown in any
    /// output.
    pub credentials: Option<auth::Credentials>,
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
            resolve: Arc::new([]),
            dns_server: None,
            tls_version: None,
            roots_only: false,
            proxy: None,
            proxy_auth: auth::AuthMode::Auto,
            auth_schemes: AuthSchemes::default(),
            max_redirects: 5,
            intranet: false,
            covered: None,
            verifiers: VerifierCache::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Dns,
    Tcp,
    Proxy,
    /// Authenticating to the proxy, apart from the request it carries.
    ProxyAuth,
    Tls,
    Http,
    /// Not a network phase: the probe itself failed.
    Internal,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Dns => "DNS",
            Phase::Tcp => "TCP",
            Phase::Proxy => "proxy",
            Phase::ProxyAuth => "proxy-auth",
            Phase::Tls => "TLS",
            Phase::Http => "HTTP",
            Phase::Internal => "egress",
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
        reason: Failure,
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
    /// Which entry of a route's list carried the probe, and the ones that
    /// failed before it (`PROXY b:3128, after PROXY a:8080 failed`); `None`
    /// when the route has one way.
    pub via: Option<String>,
    /// How egress authenticated to the proxy, when it asked.
    pub proxy_auth: Option<AuthRecord>,
    pub verdict: Verdict,
}

/// What the proxy asked for and how egress answered; never a credential.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthRecord {
    /// The schemes the proxy's 407s named.
    pub offered: Vec<String>,
    /// The scheme egress answered with.
    pub used: Option<auth::Scheme>,
    /// Requests sent to the proxy for the one answer: 1 for Basic from
    /// the start, 2 for NTLM from the start, one more when egress learned
    /// the scheme from a 407.
    pub requests: u8,
}

impl Probe {
    /// A probe of `target` that has not run yet.
    pub fn new(target: &ProbeTarget) -> Probe {
        Probe {
            target: target.clone(),
            timings: Vec::new(),
            addresses: Vec::new(),
            connected: None,
            tls: None,
            proxy_status: None,
            http_status: None,
            redirects: Vec::new(),
            via: None,
            proxy_auth: None,
            verdict: Verdict::Ok,
        }
    }
}

/// Probes one target through the first of `hops` that works, as WinHTTP
/// fails over: a proxy that cannot be reached (its name does not resolve,
/// it refuses or ignores the connection) passes to the next entry; any
/// other answer is the verdict. Entries egress cannot use are skipped.
pub async fn probe_via(target: &ProbeTarget, config: &Config, hops: &[settings::Hop]) -> Probe {
    use settings::Hop;
    let usable: Vec<&Hop> = hops
        .iter()
        .filter(|h| matches!(h, Hop::Direct | Hop::Proxy(_)))
        .collect();
    let failed_route = hops.iter().find_map(|h| match h {
        Hop::Failed(why) => Some(why.clone()),
        _ => None,
    });
    let skipped: Vec<String> = hops
        .iter()
        .filter(|h| matches!(h, Hop::Unsupported(_)))
        .map(ToString::to_string)
        .collect();
    let mut failed: Vec<String> = Vec::new();
    let mut last = None;
    for (i, hop) in usable.iter().enumerate() {
        let mut config = config.clone();
        config.proxy = match hop {
            Hop::Proxy(p) => Some(p.clone()),
            _ => None,
        };
        let mut p = probe(target, &config).await;
        let proxy_down = matches!(
            &p.verdict,
            Verdict::Failed { reason, .. } if matches!(
                reason,
                Failure::Connect { to_proxy: true, .. }
                    | Failure::NoSuchHost { of_proxy: true }
                    | Failure::DnsTimeout { of_proxy: true, .. }
                    | Failure::DnsRefused { of_proxy: true, .. }
                    | Failure::Dns { of_proxy: true, .. }
            )
        );
        if hops.len() > 1 {
            let mut via = hop.to_string();
            if !failed.is_empty() {
                via.push_str(&format!(", after {} failed", failed.join(", ")));
            }
            if !skipped.is_empty() {
                via.push_str(&format!(" ({} skipped: not supported)", skipped.join(", ")));
            }
            p.via = Some(via);
        }
        if proxy_down && i + 1 < usable.len() {
            failed.push(hop.to_string());
            last = Some(p);
            continue;
        }
        return p;
    }
    last.unwrap_or_else(|| {
        let mut p = Probe::new(target);
        p.verdict = Verdict::Failed {
            phase: Phase::Proxy,
            reason: match failed_route {
                Some(why) => Failure::NoRoute(why),
                None => Failure::UnsupportedRoute(skipped.join("; ")),
            },
        };
        p
    })
}

/// Probes one target.
pub async fn probe(target: &ProbeTarget, config: &Config) -> Probe {
    let mut p = Probe::new(target);
    let mut warnings = Vec::new();
    match run(target, config, &mut p, &mut warnings).await {
        Ok(()) if warnings.is_empty() => p.verdict = Verdict::Ok,
        Ok(()) => p.verdict = Verdict::Warning(warnings),
        Err((phase, reason)) => p.verdict = Verdict::Failed { phase, reason },
    }
    p
}

type PhaseError = (Phase, Failure);

async fn run(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    warnings: &mut Vec<String>,
) -> Result<(), PhaseError> {
    let mut current = target.clone();
    for hop in 0..=config.max_redirects {
        let mut answer = once(&current, config, p, warnings, hop == 0, Method::Head).await?;
        if matches!(answer.status, 405 | 501) {
            // The server rejects HEAD; some close the connection with it,
            // so the GET goes on a new one, and its phases replace the
            // HEAD's.
            let before = p.timings.len();
            answer = once(&current, config, p, warnings, false, Method::Get).await?;
            let get: Vec<(Phase, Duration)> = p.timings.drain(before..).collect();
            p.timings
                .retain(|(phase, _)| !get.iter().any(|(g, _)| g == phase));
            p.timings.extend(get);
        }
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
                Failure::BadRedirect {
                    location: location.clone(),
                },
            )
        })?;
        let url = next.url();
        p.redirects.push(url.clone());
        if let Some(covered) = &config.covered
            && !covered(&next.host)
        {
            // The endpoint answered; where it sends the client is for the
            // client to reach, and the plan does not name it.
            p.http_status = Some(answer.status);
            warnings.push(format!(
                "redirect to {url} leaves the plan ({} is not in it): not followed",
                next.host
            ));
            return Ok(());
        }
        current = next;
    }
    Err((
        Phase::Http,
        Failure::TooManyRedirects {
            max: config.max_redirects,
        },
    ))
}

/// What one request got back.
struct Answer {
    status: u16,
    location: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Head,
    Get,
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

/// The target a `Location` names, resolved against the current URL as a
/// browser would (`/path`, `path`, `//host/path`, `https://host/path`).
fn follow(current: &ProbeTarget, location: &str) -> Option<ProbeTarget> {
    let base = url::Url::parse(&current.url()).ok()?;
    let next = base.join(location).ok()?;
    let tls = match next.scheme() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let host = match next.host()? {
        url::Host::Domain(d) => d.to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let mut path = next.path().to_owned();
    if let Some(q) = next.query() {
        path.push('?');
        path.push_str(q);
    }
    Some(ProbeTarget {
        host,
        port: next.port_or_known_default()?,
        tls,
        path,
        reachable: current.reachable.clone(),
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

/// How a request reaches the target, which decides who may have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// No proxy: any answer is the target's.
    Direct,
    /// An absolute-form request to the proxy: it may answer itself.
    ViaProxy,
    /// Inside a CONNECT tunnel whose TLS the proxy does not inspect: the
    /// answer is the target's.
    Tunnel,
    /// Inside a tunnel whose TLS the proxy inspects (trusted here, not
    /// publicly): the inspecting proxy may answer itself.
    InspectedTunnel,
}

/// One request: DNS, TCP (to the target or the proxy), the proxy's CONNECT
/// (authenticating when it asks), TLS and HTTP. Addresses and TLS details
/// are recorded for the first hop. A proxy that closes the connection
/// after its first 407 gets a second one, which starts with the scheme.
async fn once(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    warnings: &mut Vec<String>,
    first: bool,
    method: Method,
) -> Result<Answer, PhaseError> {
    for attempt in 0..2 {
        let stream = open(target, config, p, warnings, first && attempt == 0).await?;
        let answer = match (&config.proxy, target.tls) {
            (None, false) => http(target, config, p, stream, Path::Direct, None, method).await?,
            (Some(proxy), false) => {
                http(
                    target,
                    config,
                    p,
                    stream,
                    Path::ViaProxy,
                    Some(proxy),
                    method,
                )
                .await?
            }
            (None, true) => {
                let (tls, _) = tls(target, config, p, stream, warnings, first).await?;
                http(target, config, p, tls, Path::Direct, None, method).await?
            }
            (Some(proxy), true) => {
                let Some(tunnel) = connect_through(target, proxy, config, p, stream).await? else {
                    continue;
                };
                let (tls, inspected) = tls(target, config, p, tunnel, warnings, first).await?;
                let path = if inspected {
                    Path::InspectedTunnel
                } else {
                    Path::Tunnel
                };
                http(target, config, p, tls, path, Some(proxy), method).await?
            }
        };
        if let Some(answer) = answer {
            return Ok(answer);
        }
    }
    Err(closed_between_legs(p))
}

/// DNS and TCP: through a proxy, to the proxy (which resolves the target).
async fn open(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    warnings: &mut Vec<String>,
    record: bool,
) -> Result<TcpStream, PhaseError> {
    let (host, port) = match &config.proxy {
        Some(proxy) => (proxy.host.as_str(), proxy.port),
        None => (target.host.as_str(), target.port),
    };
    let of_proxy = config.proxy.is_some();
    let start = Instant::now();
    let addresses = resolve(host, port, config, of_proxy).await;
    p.timings.push((Phase::Dns, start.elapsed()));
    let addresses = addresses?;
    let start = Instant::now();
    let (stream, connected, failures) = connect(&addresses, port, config).await;
    p.timings.push((Phase::Tcp, start.elapsed()));
    if record {
        p.addresses = addresses;
        p.connected = connected;
    }
    let Some(stream) = stream else {
        return Err((
            Phase::Tcp,
            Failure::Connect {
                attempts: failures,
                to_proxy: of_proxy,
            },
        ));
    };
    if connected.is_some_and(|a| a.is_ipv4()) && failures.iter().any(|(a, _)| a.is_ipv6()) {
        let v6: Vec<String> = failures
            .iter()
            .filter(|(a, _)| a.is_ipv6())
            .map(|(a, e)| match e {
                ConnectError::Refused => format!("connection refused by {a}"),
                ConnectError::TimedOut(d) => {
                    format!("connection timed out after {} to {a}", secs(*d))
                }
                ConnectError::Other(e) => format!("{e} ({a})"),
            })
            .collect();
        warnings.push(format!("IPv6 failed ({}), IPv4 worked", v6.join("; ")));
    }
    Ok(stream)
}

async fn connect(
    addresses: &[IpAddr],
    port: u16,
    config: &Config,
) -> (
    Option<TcpStream>,
    Option<SocketAddr>,
    Vec<(SocketAddr, ConnectError)>,
) {
    let mut failures = Vec::new();
    for ip in addresses {
        let addr = SocketAddr::new(*ip, port);
        match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return (Some(s), Some(addr), failures),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                failures.push((addr, ConnectError::Refused))
            }
            Ok(Err(e)) => failures.push((addr, ConnectError::Other(e.to_string()))),
            Err(_) => failures.push((addr, ConnectError::TimedOut(config.connect_timeout))),
        }
    }
    (None, None, failures)
}

/// Proxy products a `Server` header may name.
const PROXY_PRODUCTS: &[&str] = &[
    "squid",
    "tinyproxy",
    "mitmproxy",
    "proxy",
    "bluecoat",
    "zscaler",
    "forcepoint",
    "websense",
    "mcafee web gateway",
    "skyhigh",
    "fortigate",
    "privoxy",
    "ziproxy",
    "apache traffic server",
    "ats/",
    "netcache",
    "cisco wsa",
    "ironport",
];

/// The proxy's name when the response carries evidence that the proxy,
/// not the target, sent it: `Via`, `Proxy-Agent`, `X-Squid-Error`, or a
/// `Server` that names a proxy product.
fn proxy_evidence(headers: &hyper::HeaderMap) -> Option<String> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let server = text("server").unwrap_or_default();
    let lower = server.to_ascii_lowercase();
    if lower.contains("squid") || headers.contains_key("x-squid-error") {
        return Some("Squid".to_owned());
    }
    if PROXY_PRODUCTS.iter().any(|p| lower.contains(p)) {
        return Some(server);
    }
    text("proxy-agent")
        .or_else(|| text("via"))
        .map(|v| v.trim().to_owned())
}

/// Who answered, for a response the proxy surely sent (to CONNECT, or a
/// 407): the evidence, or its `Server`, or just "proxy".
fn proxy_name(headers: &hyper::HeaderMap) -> String {
    proxy_evidence(headers)
        .or_else(|| {
            headers
                .get(hyper::header::SERVER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "proxy".to_owned())
}

/// The status with the reason phrase the peer sent (which tells a
/// tinyproxy filter rule, "Filtered", from a port rule, "Access
/// violation"), or the standard one.
fn status_of<B>(response: &hyper::Response<B>) -> failure::Status {
    let phrase = response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .and_then(|r| std::str::from_utf8(r.as_bytes()).ok())
        .map(str::to_owned)
        .or_else(|| response.status().canonical_reason().map(str::to_owned))
        .unwrap_or_default();
    failure::Status {
        code: response.status().as_u16(),
        phrase,
    }
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>;

/// Sends a request without a body, with `Proxy-Authorization` when given.
async fn send(
    sender: &mut Sender,
    mut request: hyper::http::request::Builder,
    body: hyper::body::Bytes,
    proxy_authorization: Option<String>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    if let Some(auth) = proxy_authorization {
        request = request.header(hyper::header::PROXY_AUTHORIZATION, auth);
    }
    // An empty body is no body: no `Content-Length: 0` on a GET.
    let request = request
        .body(http_body_util::Full::new(body))
        .map_err(|e| e.to_string())?;
    sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())
}

/// The proxy's answer to a request, once any authentication it asked for
/// is done.
enum Sent {
    Answer(hyper::Response<hyper::body::Incoming>),
    /// The proxy closed the connection after its first 407: a new one
    /// starts with the scheme it offered.
    Reconnect,
}

/// Sends `request()` to the proxy on one connection, answering its 407s:
/// with the scheme `--proxy-auth` names, or the one this proxy took
/// before, egress authenticates from the first request (NTLM and
/// Negotiate then take two requests, Basic one); otherwise it asks
/// without, and answers the challenge. `connect`: a CONNECT, whose 401 is
/// the proxy's too (tinyproxy). `exchange`: what a broken exchange is.
async fn send_to_proxy(
    sender: &mut Sender,
    request: &(dyn Fn() -> hyper::http::request::Builder + Sync),
    body: &hyper::body::Bytes,
    proxy: &Proxy,
    config: &Config,
    p: &mut Probe,
    exchange: &(dyn Fn(String) -> PhaseError + Sync),
) -> Result<Sent, PhaseError> {
    let connect = request().method_ref() == Some(&hyper::Method::CONNECT);
    use auth::{AuthFailure, AuthMode, Handshake, Identity};

    let identity = Identity::of(proxy.credentials.as_ref());
    let known = match config.proxy_auth {
        AuthMode::None => None,
        AuthMode::Auto => config.auth_schemes.get(proxy),
        mode => mode.scheme(),
    };
    let mut record = p.proxy_auth.take().unwrap_or_default();
    let mut handshake = None;
    let mut header = None;
    if let Some(scheme) = known.filter(|s| identity.can_use(*s)) {
        let (h, first) = Handshake::start(scheme, identity, &proxy.host).map_err(|failure| {
            (
                Phase::ProxyAuth,
                Failure::ProxyAuth {
                    who: "proxy".to_owned(),
                    status: 407,
                    failure,
                },
            )
        })?;
        handshake = Some(h);
        header = Some(first);
    }
    let start = Instant::now();
    loop {
        if let Some(h) = &handshake {
            record.used = Some(h.scheme());
        }
        let sent = send(sender, request(), body.clone(), header.take()).await;
        record.requests += 1;
        let response = match sent {
            Ok(r) => r,
            Err(_)
                if handshake
                    .as_ref()
                    .is_some_and(|h| h.scheme().connection_bound() && !h.awaits_challenge()) =>
            {
                let scheme = handshake
                    .as_ref()
                    .map_or(auth::Scheme::Ntlm, Handshake::scheme);
                p.proxy_auth = Some(record);
                return Err((
                    Phase::ProxyAuth,
                    Failure::ProxyAuth {
                        who: "proxy".to_owned(),
                        status: 407,
                        failure: AuthFailure::ClosedBetweenLegs { scheme },
                    },
                ));
            }
            Err(e) => {
                p.proxy_auth = handshake.is_some().then_some(record);
                return Err(exchange(e));
            }
        };
        let status = response.status().as_u16();
        if status != 407 && !(connect && status == 401) {
            if record.requests > 1 {
                p.timings.push((Phase::ProxyAuth, start.elapsed()));
            }
            p.proxy_auth = (handshake.is_some() || record.requests > 1).then_some(record);
            return Ok(Sent::Answer(response));
        }
        let list = auth::challenges(
            response
                .headers()
                .get_all(hyper::header::PROXY_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        for name in auth::offered(&list) {
            if !record.offered.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                record.offered.push(name);
            }
        }
        let who = proxy_name(response.headers());
        let failed = |failure: AuthFailure, record: AuthRecord, p: &mut Probe| {
            p.timings.push((Phase::ProxyAuth, start.elapsed()));
            p.proxy_status = Some(status);
            p.proxy_auth = Some(record);
            (
                Phase::ProxyAuth,
                Failure::ProxyAuth {
                    who: who.clone(),
                    status,
                    failure,
                },
            )
        };
        let next = match &mut handshake {
            None => {
                if matches!(identity, Identity::Nobody) || config.proxy_auth == AuthMode::None {
                    // Nothing to answer with: the 407 is the verdict.
                    p.proxy_auth = Some(record);
                    return Ok(Sent::Answer(response));
                }
                let scheme = match auth::choose(config.proxy_auth, &list, identity) {
                    Ok(s) => s,
                    Err(f) => return Err(failed(f, record, p)),
                };
                config.auth_schemes.set(proxy, scheme);
                match Handshake::start(scheme, identity, &proxy.host) {
                    Ok((h, first)) => {
                        handshake = Some(h);
                        first
                    }
                    Err(f) => return Err(failed(f, record, p)),
                }
            }
            Some(h) => {
                let scheme = h.scheme();
                let token = auth::token_for(&list, scheme);
                if token.is_none() && !list.is_empty() {
                    // The proxy does not offer the scheme egress spoke.
                    let f = AuthFailure::NoScheme {
                        offered: auth::offered(&list),
                        mode: config.proxy_auth,
                    };
                    return Err(failed(f, record, p));
                }
                if !h.awaits_challenge() {
                    return Err(failed(AuthFailure::Rejected { scheme }, record, p));
                }
                let Some(Some(token)) = token else {
                    return Err(failed(AuthFailure::NoChallenge { scheme }, record, p));
                };
                match h.answer(token) {
                    Ok(next) => next,
                    Err(f) => return Err(failed(f, record, p)),
                }
            }
        };
        let mid_handshake = handshake
            .as_ref()
            .is_some_and(|h| h.scheme().connection_bound() && !h.awaits_challenge());
        if !drain(response, sender).await {
            if mid_handshake {
                let scheme = handshake
                    .as_ref()
                    .map_or(auth::Scheme::Ntlm, Handshake::scheme);
                return Err(failed(AuthFailure::ClosedBetweenLegs { scheme }, record, p));
            }
            p.proxy_auth = Some(record);
            return Ok(Sent::Reconnect);
        }
        header = Some(next);
    }
}

/// Reads a 407's body to its end, so that the connection can carry the
/// next leg; whether it still can.
async fn drain(response: hyper::Response<hyper::body::Incoming>, sender: &mut Sender) -> bool {
    use http_body_util::BodyExt as _;
    let body = http_body_util::Limited::new(response.into_body(), 1024 * 1024);
    if body.collect().await.is_err() {
        return false;
    }
    sender.ready().await.is_ok()
}

/// The proxy's own refusal of a request (a CONNECT, or a plain-HTTP request
/// it answered itself): 407 without an identity to answer it (and 401,
/// which some proxies send instead), 5xx means it could not reach or
/// verify the target, anything else that it denied the request.
fn proxy_refusal(
    request: Request,
    status: failure::Status,
    who: String,
    headers: &hyper::HeaderMap,
) -> (Phase, Failure) {
    match status.code {
        401 | 407 => {
            let list = auth::challenges(
                headers
                    .get_all(hyper::header::PROXY_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            );
            (
                Phase::ProxyAuth,
                Failure::ProxyAuthRequired {
                    who,
                    status: status.code,
                    offered: auth::offered(&list),
                },
            )
        }
        500..=599 => (
            Phase::Proxy,
            Failure::ProxyCannotReach {
                request,
                status,
                who,
            },
        ),
        _ => (
            Phase::Proxy,
            Failure::ProxyDenied {
                request,
                status,
                who,
            },
        ),
    }
}

/// A CONNECT through the proxy, authenticating when it asks; its status is
/// recorded apart from the target's. `None`: the proxy closed the
/// connection after its first 407, and a new one is needed.
async fn connect_through(
    target: &ProbeTarget,
    proxy: &Proxy,
    config: &Config,
    p: &mut Probe,
    stream: TcpStream,
) -> Result<Option<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>, PhaseError> {
    let start = Instant::now();
    let authority = format!("{}:{}", target.host, target.port);
    let broken = |detail: String| {
        (
            Phase::Proxy,
            Failure::ProxyExchange {
                request: Request::Connect,
                detail,
            },
        )
    };
    let exchange = async {
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| broken(e.to_string()))?;
        tokio::spawn(conn.with_upgrades());
        let request = || {
            hyper::Request::connect(authority.as_str())
                .header(hyper::header::HOST, authority.as_str())
        };
        send_to_proxy(
            &mut sender,
            &request,
            &Default::default(),
            proxy,
            config,
            p,
            &broken,
        )
        .await
    };
    let result = tokio::time::timeout(config.phase_timeout, exchange).await;
    let response = match result {
        Err(_) => {
            p.timings.push((Phase::Proxy, start.elapsed()));
            return Err((
                Phase::Proxy,
                Failure::ProxyTimeout {
                    request: Request::Connect,
                    after: config.phase_timeout,
                },
            ));
        }
        Ok(Err(e)) => {
            p.timings.push((Phase::Proxy, start.elapsed()));
            return Err(e);
        }
        Ok(Ok(Sent::Reconnect)) => return Ok(None),
        Ok(Ok(Sent::Answer(r))) => r,
    };
    let status = status_of(&response);
    p.proxy_status = Some(status.code);
    if status.code != 200 {
        p.timings.push((Phase::Proxy, start.elapsed()));
        let who = proxy_name(response.headers());
        return Err(proxy_refusal(
            Request::Connect,
            status,
            who,
            response.headers(),
        ));
    }
    let upgraded = hyper::upgrade::on(response).await;
    p.timings.push((Phase::Proxy, start.elapsed()));
    let upgraded = upgraded.map_err(|e| broken(e.to_string()))?;
    Ok(Some(hyper_util::rt::TokioIo::new(upgraded)))
}

/// Why `egress proxy` could not go through its parent proxy, in the
/// check's words (`proxy-auth: the proxy rejected the NTLM credentials
/// ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{phase}: {reason}")]
pub struct ParentFailure {
    pub phase: Phase,
    pub reason: String,
}

impl From<PhaseError> for ParentFailure {
    fn from((phase, failure): PhaseError) -> ParentFailure {
        ParentFailure {
            phase,
            reason: failure.to_string(),
        }
    }
}

/// A CONNECT tunnel to `host:port` through `config.proxy` (the parent of
/// `egress proxy`), authenticating as the check does: one implementation
/// of proxy authentication for both.
pub async fn tunnel_via_parent(
    host: &str,
    port: u16,
    config: &Config,
) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>, ParentFailure> {
    let target = ProbeTarget {
        host: host.to_owned(),
        port,
        tls: true,
        path: "/".to_owned(),
        reachable: Vec::new(),
    };
    let Some(proxy) = &config.proxy else {
        return Err(ParentFailure {
            phase: Phase::Proxy,
            reason: "no parent proxy is configured".to_owned(),
        });
    };
    let mut p = Probe::new(&target);
    let mut warnings = Vec::new();
    // A second connection when the parent closed the first after its 407.
    for attempt in 0..2 {
        let stream = open(&target, config, &mut p, &mut warnings, attempt == 0).await?;
        if let Some(tunnel) = connect_through(&target, proxy, config, &mut p, stream).await? {
            return Ok(tunnel);
        }
    }
    Err(closed_between_legs(&p).into())
}

/// A plain-HTTP request with `body` (whole: an authentication handshake
/// sends it again), sent in absolute form through `config.proxy` (the
/// parent of `egress proxy`) with `headers`,
/// authenticating as the check does. The answer, whoever gave it; a 407
/// that authentication could not answer is a failure.
pub async fn forward_via_parent(
    method: hyper::Method,
    uri: &str,
    headers: &hyper::HeaderMap,
    body: hyper::body::Bytes,
    config: &Config,
) -> Result<hyper::Response<hyper::body::Incoming>, ParentFailure> {
    let Some(proxy) = &config.proxy else {
        return Err(ParentFailure {
            phase: Phase::Proxy,
            reason: "no parent proxy is configured".to_owned(),
        });
    };
    let target = ProbeTarget {
        host: proxy.host.clone(),
        port: proxy.port,
        tls: false,
        path: "/".to_owned(),
        reachable: Vec::new(),
    };
    let mut p = Probe::new(&target);
    let mut warnings = Vec::new();
    let failed = |e: String| (Phase::Http, Failure::HttpFailed(e));
    for attempt in 0..2 {
        let stream = open(&target, config, &mut p, &mut warnings, attempt == 0).await?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| failed(e.to_string()))?;
        tokio::spawn(conn);
        let request = || {
            let mut builder = hyper::Request::builder().method(method.clone()).uri(uri);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder
        };
        match send_to_proxy(&mut sender, &request, &body, proxy, config, &mut p, &failed).await? {
            Sent::Answer(response)
                if response.status() == hyper::StatusCode::PROXY_AUTHENTICATION_REQUIRED =>
            {
                let status = status_of(&response);
                let who = proxy_name(response.headers());
                return Err(
                    proxy_refusal(Request::Forward, status, who, response.headers()).into(),
                );
            }
            Sent::Answer(response) => return Ok(response),
            Sent::Reconnect => continue,
        }
    }
    Err(closed_between_legs(&p).into())
}

fn closed_between_legs(p: &Probe) -> PhaseError {
    let scheme = p
        .proxy_auth
        .as_ref()
        .and_then(|a| a.used)
        .unwrap_or(auth::Scheme::Ntlm);
    (
        Phase::ProxyAuth,
        Failure::ProxyAuth {
            who: "proxy".to_owned(),
            status: 407,
            failure: auth::AuthFailure::ClosedBetweenLegs { scheme },
        },
    )
}

/// TLS over `stream`, recording the chain and both verdicts; whether a
/// proxy inspects it (the chain is trusted here but not publicly, through
/// a proxy).
async fn tls<S>(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    stream: S,
    warnings: &mut Vec<String>,
    first: bool,
) -> Result<(tokio_rustls::client::TlsStream<S>, bool), PhaseError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let start = Instant::now();
    let record = Arc::new(Mutex::new(Record::default()));
    let verifier =
        Recorder::new(config, record.clone()).map_err(|e| (Phase::Tls, Failure::TlsOther(e)))?;
    let versions: &[&rustls::SupportedProtocolVersion] = match config.tls_version {
        None => rustls::DEFAULT_VERSIONS,
        Some(TlsVersion::Tls12) => &[&rustls::version::TLS12],
        Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
    };
    let tls_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| (Phase::Tls, Failure::TlsOther(e.to_string())))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config));
    let name = ServerName::try_from(target.host.clone())
        .map_err(|e| (Phase::Tls, Failure::TlsOther(e.to_string())))?;
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
                Failure::TlsTimeout {
                    after: config.phase_timeout,
                },
            ));
        }
        Ok(Err(e)) => {
            if first {
                p.tls = Some(info);
            }
            return Err((Phase::Tls, Failure::TlsHandshake(e.to_string())));
        }
        Ok(Ok(s)) => s,
    };
    let (_, conn) = tls_stream.get_ref();
    info.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLS1.2".to_owned(),
        rustls::ProtocolVersion::TLSv1_3 => "TLS1.3".to_owned(),
        other => format!("{other:?}"),
    });
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
        return Err((Phase::Tls, untrusted(e, &issuer, &target.host)));
    }
    let inspected = recorded.public.is_err() && !config.intranet;
    if inspected {
        warnings.push(format!(
            "TLS inspection or private PKI: the certificate issued by {issuer} is trusted here but not by the public Web PKI"
        ));
    }
    Ok((tls_stream, inspected && config.proxy.is_some()))
}

/// The addresses of `host` as a probe resolves them: `config.resolve`
/// pins, an IP literal, `config.dns_server`, or the system's resolver,
/// within `config.phase_timeout`. The proxy resolves its targets with it.
pub async fn resolve_host(host: &str, port: u16, config: &Config) -> Result<Vec<IpAddr>, Failure> {
    resolve(host, port, config, false).await.map_err(|(_, f)| f)
}

async fn resolve(
    host: &str,
    port: u16,
    config: &Config,
    of_proxy: bool,
) -> Result<Vec<IpAddr>, PhaseError> {
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
        return ask(host, server, config, of_proxy).await;
    }
    // The system's resolver, with the system's configuration. Its lookup
    // runs on a blocking thread that a timeout cannot stop: the caller's
    // runtime is shut down without waiting for such threads.
    let lookup = tokio::net::lookup_host((host, port));
    match tokio::time::timeout(config.phase_timeout, lookup).await {
        Err(_) => Err((
            Phase::Dns,
            Failure::DnsTimeout {
                server: None,
                after: config.phase_timeout,
                of_proxy,
            },
        )),
        Ok(Err(_)) => Err((Phase::Dns, Failure::NoSuchHost { of_proxy })),
        Ok(Ok(addrs)) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for a in addrs {
                if !ips.contains(&a.ip()) {
                    ips.push(a.ip());
                }
            }
            if ips.is_empty() {
                Err((Phase::Dns, Failure::NoSuchHost { of_proxy }))
            } else {
                Ok(ips)
            }
        }
    }
}

/// Every A and AAAA answer from one DNS server (`--dns-server`).
async fn ask(
    host: &str,
    server: SocketAddr,
    config: &Config,
    of_proxy: bool,
) -> Result<Vec<IpAddr>, PhaseError> {
    use hickory_resolver::config::{
        ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
    };
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::net::{DnsError, NetError};
    use hickory_resolver::proto::op::ResponseCode;

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
    .map_err(|e| {
        (
            Phase::Dns,
            Failure::Dns {
                detail: format!("cannot ask {server}: {e}"),
                of_proxy,
            },
        )
    })?;
    // The name is absolute: no search domains.
    let name = format!("{}.", host.trim_end_matches('.'));
    let lookup = tokio::time::timeout(
        config.phase_timeout + Duration::from_millis(200),
        resolver.lookup_ip(name),
    )
    .await;
    let timeout = Failure::DnsTimeout {
        server: Some(server),
        after: config.phase_timeout,
        of_proxy,
    };
    match lookup {
        Err(_) => Err((Phase::Dns, timeout)),
        Ok(Err(e)) => Err((
            Phase::Dns,
            match &e {
                NetError::Timeout => timeout,
                NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => {
                    Failure::DnsRefused { server, of_proxy }
                }
                NetError::Dns(DnsError::NoRecordsFound(n))
                    if n.response_code == ResponseCode::Refused =>
                {
                    Failure::DnsRefused { server, of_proxy }
                }
                NetError::Dns(DnsError::NoRecordsFound(_)) => Failure::NoSuchHost { of_proxy },
                other => Failure::Dns {
                    detail: format!("{server}: {other}"),
                    of_proxy,
                },
            },
        )),
        Ok(Ok(answer)) => {
            // IPv6 first, as the system's resolver orders them (RFC 6724):
            // so that an IPv6 path that fails is seen, not hidden.
            let mut ips: Vec<IpAddr> = answer.iter().collect();
            ips.sort_by_key(|ip| ip.is_ipv4());
            if ips.is_empty() {
                Err((Phase::Dns, Failure::NoSuchHost { of_proxy }))
            } else {
                Ok(ips)
            }
        }
    }
}

/// One request to the target's path (absolute-form through a proxy for
/// plain HTTP, authenticating when the proxy asks), read to the end of its
/// headers. Who answered follows from the path and the evidence
/// (`docs/check.md`, "Who answered"): directly or in a tunnel the proxy
/// does not inspect, the target; through the proxy on plain HTTP or inside
/// an inspected tunnel, the proxy when the response says so, and either of
/// the two for a 401, 403 or 5xx that does not. `None`: the proxy closed
/// the connection after its first 407, and a new one is needed.
async fn http<S>(
    target: &ProbeTarget,
    config: &Config,
    p: &mut Probe,
    stream: S,
    path: Path,
    proxy: Option<&Proxy>,
    method: Method,
) -> Result<Option<Answer>, PhaseError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let io = hyper_util::rt::TokioIo::new(stream);
    let host = if (target.tls && target.port == 443) || (!target.tls && target.port == 80) {
        target.host.clone()
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let uri = match path {
        Path::ViaProxy => format!("http://{host}{}", target.path),
        _ => target.path.clone(),
    };
    let failed = |e: String| (Phase::Http, Failure::HttpFailed(e));
    let exchange = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| failed(e.to_string()))?;
        tokio::spawn(conn);
        let request = || {
            hyper::Request::builder()
                .method(match method {
                    Method::Head => hyper::Method::HEAD,
                    Method::Get => hyper::Method::GET,
                })
                .uri(uri.as_str())
                .header(hyper::header::HOST, host.as_str())
                .header(
                    hyper::header::USER_AGENT,
                    concat!("egress/", env!("CARGO_PKG_VERSION")),
                )
        };
        // Only the proxy of a plain-HTTP request reads credentials; in a
        // tunnel they would go to the target.
        let response = match proxy.filter(|_| path == Path::ViaProxy) {
            Some(proxy) => {
                match send_to_proxy(
                    &mut sender,
                    &request,
                    &Default::default(),
                    proxy,
                    config,
                    p,
                    &failed,
                )
                .await?
                {
                    Sent::Answer(r) => r,
                    Sent::Reconnect => return Ok(None),
                }
            }
            None => send(&mut sender, request(), Default::default(), None)
                .await
                .map_err(failed)?,
        };
        // Only the headers are wanted: the body is dropped unread.
        Ok(Some((status_of(&response), response.headers().clone())))
    };
    let result = tokio::time::timeout(config.phase_timeout, exchange).await;
    p.timings.push((Phase::Http, start.elapsed()));
    let (status, headers) = match result {
        Err(_) => {
            return Err((
                Phase::Http,
                Failure::HttpTimeout {
                    after: config.phase_timeout,
                },
            ));
        }
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) => return Ok(None),
        Ok(Ok(Some(r))) => r,
    };
    if let (Some(_), Path::ViaProxy | Path::InspectedTunnel) = (proxy, path) {
        let request = Request::Forward;
        let maybe_proxy = matches!(status.code, 401 | 403 | 407 | 500..=599);
        let code = status.code;
        match (status.code, proxy_evidence(&headers)) {
            (407, evidence) => {
                p.proxy_status = Some(code);
                let who = evidence.unwrap_or_else(|| proxy_name(&headers));
                return Err(proxy_refusal(request, status, who, &headers));
            }
            (_, Some(who)) if maybe_proxy => {
                p.proxy_status = Some(code);
                return Err(proxy_refusal(request, status, who, &headers));
            }
            (_, None) if maybe_proxy && !target.reachable.contains(&code) => {
                p.http_status = Some(code);
                return Err((
                    Phase::Http,
                    Failure::ThroughProxy {
                        status,
                        intercepted: path == Path::InspectedTunnel,
                    },
                ));
            }
            _ => {}
        }
    }
    Ok(Some(Answer {
        status: status.code,
        location: headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }))
}

fn untrusted(e: &rustls::Error, issuer: &str, host: &str) -> Failure {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            Failure::TlsUntrusted {
                issuer: issuer.to_owned(),
            }
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => Failure::TlsWrongName {
            host: host.to_owned(),
        },
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => Failure::TlsExpired {
            issuer: issuer.to_owned(),
        },
        other => Failure::TlsOther(other.to_string()),
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
        let Verifiers { local, public } = config
            .verifiers
            .0
            .get_or_init(|| Verifiers::new(config))
            .clone()?;
        Ok(Recorder {
            local,
            public,
            record,
        })
    }
}

impl Verifiers {
    fn new(config: &Config) -> Result<Verifiers, String> {
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
        Ok(Verifiers { local, public })
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
