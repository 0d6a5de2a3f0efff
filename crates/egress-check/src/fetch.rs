//! Fetching a small text file directly (a PAC file, `wpad.dat`), and
//! looking names up, with the check's resolver options (`--resolve`,
//! `--dns-server`) and TLS verification.

use std::net::IpAddr;
use std::time::Instant;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;

use crate::failure::Failure;
use crate::{Config, Phase, Probe, ProbeTarget};

/// The largest file fetched: a PAC file is a few kilobytes.
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// A fetched file: the final status and the body, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
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
    let target = ProbeTarget {
        host: host.clone(),
        port,
        tls,
        path,
        reachable: Vec::new(),
    };
    let mut config = config.clone();
    config.proxy = None;
    let addresses = crate::resolve(&host, port, &config, false).await?;
    let (stream, _, failures) = crate::connect(&addresses, port, &config).await;
    let stream = stream.ok_or((
        Phase::Tcp,
        Failure::Connect {
            attempts: failures,
            to_proxy: false,
        },
    ))?;
    let mut record = Probe::new(&target);
    if tls {
        let (stream, _) =
            crate::tls(&target, &config, &mut record, stream, &mut Vec::new(), true).await?;
        get(&target, stream, &config).await
    } else {
        get(&target, stream, &config).await
    }
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
    let default = if target.tls { 443 } else { 80 };
    let host = if target.port == default {
        target.host.clone()
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let exchange = async {
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = hyper::Request::get(target.path.as_str())
            .header(hyper::header::HOST, host.as_str())
            .header(
                hyper::header::USER_AGENT,
                concat!("egress/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
            .to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        Ok::<_, String>(Fetched { status, text })
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
