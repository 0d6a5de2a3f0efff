//! Fetching a text file: directly (a PAC file, `wpad.dat`, as Windows
//! fetches them) or along a route's hops (`catalog fetch`, through the
//! check's proxy and its authentication), and looking names up, with the
//! check's resolver options (`--resolve`, `--dns-server`) and TLS
//! verification.

use std::net::IpAddr;
use std::time::Instant;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;

use crate::failure::Failure;
use crate::settings::Hop;
use crate::{Config, Phase, Probe, ProbeTarget};

/// The largest file fetched: a PAC file is a few kilobytes, a docs page a
/// few hundred, the Microsoft 365 web service's answer about one megabyte.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// A fetched file: the final status and the body, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    /// The `Content-Type`, when the answer has one.
    pub content_type: Option<String>,
    pub text: String,
}

/// The addresses of `host` (or the address itself), as a probe would find
/// them.
pub async fn lookup(host: &str, config: &Config) -> Result<Vec<IpAddr>, (Phase, Failure)> {
    crate::resolve(host, 80, config, false).await
}

/// GETs `url` (`http://` or `https://`) directly, without a proxy, as
/// Windows fetches a PAC file; no redirects.
pub async fn fetch(url: &str, config: &Config) -> Result<Fetched, (Phase, Failure)> {
    let target = target_of(url)?;
    let mut config = config.clone();
    config.proxy = None;
    direct(&target, &config).await
}

/// GETs `url` along `hops` (a route's answer for it), trying each in
/// order as the check does: directly, or through a proxy (a CONNECT tunnel
/// for HTTPS, an absolute-form request for HTTP) that is authenticated to
/// as the check authenticates. The last hop's failure when none works.
pub async fn fetch_via(
    url: &str,
    config: &Config,
    hops: &[Hop],
) -> Result<Fetched, (Phase, Failure)> {
    let target = target_of(url)?;
    let mut last = (
        Phase::Proxy,
        Failure::Internal("the route has no way to the target".to_owned()),
    );
    for hop in hops {
        let mut config = config.clone();
        let result = match hop {
            Hop::Direct => {
                config.proxy = None;
                direct(&target, &config).await
            }
            Hop::Proxy(proxy) => {
                config.proxy = Some(proxy.clone());
                proxied(&target, &config).await
            }
            Hop::Unsupported(what) => Err((
                Phase::Proxy,
                Failure::Internal(format!("egress cannot go through `{what}`")),
            )),
            Hop::Failed(why) => Err((Phase::Proxy, Failure::Internal(why.clone()))),
        };
        match result {
            Ok(f) => return Ok(f),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The target a URL names, with its path and query.
fn target_of(url: &str) -> Result<ProbeTarget, (Phase, Failure)> {
    let parsed = url::Url::parse(url)
        .map_err(|e| (Phase::Internal, Failure::Internal(format!("`{url}`: {e}"))))?;
    let tls = match parsed.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err((
                Phase::Internal,
                Failure::Internal(format!(
                    "`{url}`: a {other}: URL cannot be fetched; use http:// or https://"
                )),
            ));
        }
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| {
            (
                Phase::Internal,
                Failure::Internal(format!("`{url}` has no host")),
            )
        })?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    Ok(ProbeTarget {
        host,
        port,
        tls,
        path,
        reachable: Vec::new(),
    })
}

/// DNS, TCP, TLS and the GET, straight to the target.
async fn direct(target: &ProbeTarget, config: &Config) -> Result<Fetched, (Phase, Failure)> {
    let addresses = crate::resolve(&target.host, target.port, config, false).await?;
    let (stream, _, failures) = crate::connect(&addresses, target.port, config).await;
    let stream = stream.ok_or((
        Phase::Tcp,
        Failure::Connect {
            attempts: failures,
            to_proxy: false,
        },
    ))?;
    let mut record = Probe::new(target);
    if target.tls {
        let (stream, _) =
            crate::tls(target, config, &mut record, stream, &mut Vec::new(), true).await?;
        get(target, stream, config).await
    } else {
        get(target, stream, config).await
    }
}

/// The GET through `config.proxy`: TLS inside a CONNECT tunnel, or plain
/// HTTP in absolute form. The request names the target from its host,
/// port and path: user information in the URL goes nowhere.
async fn proxied(target: &ProbeTarget, config: &Config) -> Result<Fetched, (Phase, Failure)> {
    let parent = |e: crate::ParentFailure| (e.phase, Failure::Internal(e.reason));
    if target.tls {
        let tunnel = crate::tunnel_via_parent(&target.host, target.port, config)
            .await
            .map_err(parent)?;
        let mut record = Probe::new(target);
        let (stream, _) =
            crate::tls(target, config, &mut record, tunnel, &mut Vec::new(), true).await?;
        return get(target, stream, config).await;
    }
    let host = host_header(target);
    let uri = format!("http://{host}{}", target.path);
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        hyper::header::HOST,
        host.parse().map_err(|_| {
            (
                Phase::Internal,
                Failure::Internal(format!("`{host}` is not a host name")),
            )
        })?,
    );
    headers.insert(
        hyper::header::USER_AGENT,
        hyper::header::HeaderValue::from_static(USER_AGENT),
    );
    let start = Instant::now();
    let exchange = async {
        let response =
            crate::forward_via_parent(hyper::Method::GET, &uri, &headers, Bytes::new(), config)
                .await
                .map_err(parent)?;
        answer(response)
            .await
            .map_err(|e| (Phase::Http, Failure::HttpFailed(e)))
    };
    match tokio::time::timeout(config.phase_timeout, exchange).await {
        Err(_) => Err((
            Phase::Http,
            Failure::HttpTimeout {
                after: start.elapsed(),
            },
        )),
        Ok(r) => r,
    }
}

const USER_AGENT: &str = concat!("egress/", env!("CARGO_PKG_VERSION"));

/// `host` or `host:port` when the port is not the scheme's.
fn host_header(target: &ProbeTarget) -> String {
    let default = if target.tls { 443 } else { 80 };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    if target.port == default {
        host
    } else {
        format!("{host}:{}", target.port)
    }
}

/// The status, type and body (at most `MAX_BYTES`) of an answer.
async fn answer(response: hyper::Response<hyper::body::Incoming>) -> Result<Fetched, String> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(response.into_body(), MAX_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    // A PAC file or an answer, decoded as files on disk are (a BOM,
    // UTF-16); bytes that are not UTF-8 are replaced, as browsers run a
    // PAC file with a Latin-1 comment.
    let text = egress_text::decode_lossy(&body).0.text;
    Ok(Fetched {
        status,
        content_type,
        text,
    })
}

async fn get<S>(
    target: &ProbeTarget,
    stream: S,
    config: &Config,
) -> Result<Fetched, (Phase, Failure)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let host = host_header(target);
    let exchange = async {
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = hyper::Request::get(target.path.as_str())
            .header(hyper::header::HOST, host.as_str())
            .header(hyper::header::USER_AGENT, USER_AGENT)
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        answer(response).await
    };
    match tokio::time::timeout(config.phase_timeout, exchange).await {
        Err(_) => Err((
            Phase::Http,
            Failure::HttpTimeout {
                after: start.elapsed(),
            },
        )),
        Ok(Err(e)) => Err((Phase::Http, Failure::HttpFailed(e))),
        Ok(Ok(f)) => Ok(f),
    }
}

/// A random GUID (version 4), such as the Microsoft 365 web service asks
/// each client to send as `clientrequestid`.
pub fn random_guid() -> Result<String, String> {
    let mut b = [0u8; 16];
    // The TLS provider's generator: the operating system's.
    crate::provider()
        .secure_random
        .fill(&mut b)
        .map_err(|_| "the operating system's random generator failed".to_owned())?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}
