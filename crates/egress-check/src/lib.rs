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
//! This is the engine of `egress check` (issue 5); it knows nothing of the
//! catalog, the command line or output formats. Tests run it against local
//! servers on loopback only.

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

pub use cert::CertInfo;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Path and query for the HTTP request, `/` at least.
    pub path: String,
}

/// How to probe.
#[derive(Debug, Clone)]
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
    /// Only the given roots, not the platform's: for tests, which must not
    /// depend on the machine's trust store.
    pub roots_only: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connect_timeout: Duration::from_secs(3),
            phase_timeout: Duration::from_secs(5),
            extra_roots: Vec::new(),
            public_roots: None,
            resolve: Vec::new(),
            roots_only: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Dns,
    Tcp,
    Tls,
    Http,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Dns => "DNS",
            Phase::Tcp => "TCP",
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
    pub target: Target,
    pub timings: Vec<(Phase, Duration)>,
    pub addresses: Vec<IpAddr>,
    pub connected: Option<SocketAddr>,
    pub tls: Option<TlsInfo>,
    pub http_status: Option<u16>,
    pub verdict: Verdict,
}

/// Probes one target.
pub async fn probe(target: &Target, config: &Config) -> Probe {
    let mut p = Probe {
        target: target.clone(),
        timings: Vec::new(),
        addresses: Vec::new(),
        connected: None,
        tls: None,
        http_status: None,
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
    target: &Target,
    config: &Config,
    p: &mut Probe,
    warnings: &mut Vec<String>,
) -> Result<(), PhaseError> {
    // DNS.
    let start = Instant::now();
    p.addresses = resolve(target, config).await?;
    p.timings.push((Phase::Dns, start.elapsed()));

    // TCP: each address in turn; the first that answers wins.
    let start = Instant::now();
    let mut failures = Vec::new();
    let mut stream = None;
    for ip in &p.addresses {
        let addr = SocketAddr::new(*ip, target.port);
        match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                p.connected = Some(addr);
                stream = Some(s);
                break;
            }
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
    p.timings.push((Phase::Tcp, start.elapsed()));
    let Some(stream) = stream else {
        let reasons: Vec<String> = failures.into_iter().map(|(_, r)| r).collect();
        return Err((Phase::Tcp, reasons.join("; ")));
    };
    if p.connected.is_some_and(|a| a.is_ipv4()) && failures.iter().any(|(a, _)| a.is_ipv6()) {
        warnings.push(format!(
            "IPv6 failed ({}), IPv4 worked",
            failures
                .iter()
                .filter(|(a, _)| a.is_ipv6())
                .map(|(_, r)| r.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }

    if !target.tls {
        return http(target, config, p, stream).await;
    }

    // TLS, recording the chain and both verdicts.
    let start = Instant::now();
    let record = Arc::new(Mutex::new(Record::default()));
    let verifier = Recorder::new(config, record.clone()).map_err(|e| (Phase::Tls, e))?;
    let tls_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
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
            p.tls = Some(info);
            return Err((
                Phase::Tls,
                format!("handshake timed out after {}", secs(config.phase_timeout)),
            ));
        }
        Ok(Err(e)) => {
            p.tls = Some(info);
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
    p.tls = Some(info);
    if let Err(e) = &recorded.local {
        return Err((Phase::Tls, untrusted_reason(e, &issuer, &target.host)));
    }
    if recorded.public.is_err() {
        warnings.push(format!(
            "TLS inspection or private PKI: the certificate issued by {issuer} is trusted here but not by the public Web PKI"
        ));
    }
    http(target, config, p, tls_stream).await
}

async fn resolve(target: &Target, config: &Config) -> Result<Vec<IpAddr>, PhaseError> {
    let fixed: Vec<IpAddr> = config
        .resolve
        .iter()
        .filter(|(h, port, _)| h.eq_ignore_ascii_case(&target.host) && *port == target.port)
        .map(|(_, _, ip)| *ip)
        .collect();
    if !fixed.is_empty() {
        return Ok(fixed);
    }
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
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

/// A HEAD request to the target's path; any response from the target
/// counts as reachable.
async fn http<S>(
    target: &Target,
    config: &Config,
    p: &mut Probe,
    stream: S,
) -> Result<(), PhaseError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::Empty;
    use hyper::body::Bytes;

    let start = Instant::now();
    let io = hyper_util::rt::TokioIo::new(stream);
    let exchange = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let host = if (target.tls && target.port == 443) || (!target.tls && target.port == 80) {
            target.host.clone()
        } else {
            format!("{}:{}", target.host, target.port)
        };
        let request = hyper::Request::head(target.path.as_str())
            .header(hyper::header::HOST, host)
            .header(
                hyper::header::USER_AGENT,
                concat!("egress/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<u16, String>(response.status().as_u16())
    };
    let result = tokio::time::timeout(config.phase_timeout, exchange).await;
    p.timings.push((Phase::Http, start.elapsed()));
    match result {
        Err(_) => Err((
            Phase::Http,
            format!("no response within {}", secs(config.phase_timeout)),
        )),
        Ok(Err(e)) => Err((Phase::Http, format!("request failed: {e}"))),
        Ok(Ok(status)) => {
            p.http_status = Some(status);
            Ok(())
        }
    }
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
