//! `serve`'s HTTP endpoints: `/metrics` (gzip when asked), `/healthz`,
//! `/api/status`, the status page and `POST /-/reload`, each answered from
//! the last completed run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use egress_check::history::Run;
use egress_check::metrics::{CLASSIC, OPENMETRICS};

use super::{MAX_HEAD, Shared, State, critical, page, reload};

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
pub(super) fn accepts_gzip(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(hyper::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !zero
        })
}

pub(super) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let limits = egress_http::Limits::new(MAX_HEAD, tokio::sync::Semaphore::MAX_PERMITS);
    egress_http::serve(listener, &limits, egress_http::never(), move |accepted| {
        let peer = accepted.peer;
        let shared = shared.clone();
        hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            let shared = shared.clone();
            async move {
                if request.uri().path() == "/-/reload" {
                    return Ok::<_, Infallible>(reload_request(&request, &shared, peer).await);
                }
                Ok::<_, Infallible>(answer(&request, &shared.state))
            }
        })
    })
    .await
}

/// `POST /-/reload`, from loopback clients only.
async fn reload_request<B>(
    request: &Request<B>,
    shared: &Arc<Shared>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    if let Some(refused) = egress_http::reload_refused(request, peer) {
        return refused;
    }
    match reload(shared).await {
        Ok(()) => {
            eprintln!("egress serve: reloaded (POST /-/reload)");
            text(StatusCode::OK, "reloaded; a run starts now\n")
        }
        Err(e) => {
            eprint!("egress serve: the reload failed; the running configuration stays:\n{e}");
            text(
                StatusCode::BAD_REQUEST,
                &format!("the reload failed; the running configuration stays:\n{e}"),
            )
        }
    }
}

/// The answer to one request, from the last completed run.
fn answer<B>(request: &Request<B>, state: &RwLock<State>) -> Response<Full<Bytes>> {
    if egress_http::head_size(request) > MAX_HEAD {
        return text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request head is over 16 KiB\n",
        );
    }
    let path = request.uri().path();
    let known = ["/", "/metrics", "/api/status", "/healthz"];
    if !known.contains(&path) {
        return text(
            StatusCode::NOT_FOUND,
            "not found: egress serve answers /, /metrics, /api/status, /healthz and POST /-/reload\n",
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    let s = state.read().unwrap_or_else(|e| e.into_inner());
    match path {
        "/metrics" => {
            if egress_http::wants_openmetrics(request.headers()) {
                s.openmetrics.response(request.headers(), OPENMETRICS)
            } else {
                s.classic.response(request.headers(), CLASSIC)
            }
        }
        "/healthz" => match &s.last {
            None => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "starting: the first run has not finished\n",
            ),
            Some(report) => {
                let critical = critical(report);
                if critical.is_empty() {
                    text(StatusCode::OK, "ok: no feature is critical\n")
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &format!("critical: {}\n", critical.join(", ")),
                    )
                }
            }
        },
        "/" => {
            let history: Vec<&Run> = s.history.runs().collect();
            let html = page::render(
                &s.header,
                s.last.as_ref(),
                &history,
                &s.next_run.to_string(),
            );
            with_type(StatusCode::OK, html, "text/html; charset=utf-8")
        }
        _ => {
            let doc = StatusDoc {
                format: "egress.serve-status/1",
                runs: s.runs,
                next_run: s.next_run.to_string(),
                check: s
                    .last
                    .as_ref()
                    .map(|r| egress_check::report::json(r, &s.header)),
                history: s.history.runs().collect(),
            };
            match serde_json::to_string_pretty(&doc) {
                Ok(body) => with_type(StatusCode::OK, body + "\n", "application/json"),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
            }
        }
    }
}

/// `/api/status` (docs/serve.md).
#[derive(Serialize)]
struct StatusDoc<'a> {
    format: &'static str,
    /// Runs finished since the start.
    runs: u64,
    next_run: String,
    /// The last run, as `egress check --format json` writes it; null
    /// before the first run finishes.
    check: Option<egress_catalog::wire::CheckDoc<'a>>,
    /// The runs kept, oldest first.
    history: Vec<&'a Run>,
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    with_type(status, body.to_owned(), "text/plain; charset=utf-8")
}

fn with_type(status: StatusCode, body: String, kind: &'static str) -> Response<Full<Bytes>> {
    bytes_with_type(status, Bytes::from(body), kind)
}

pub(super) fn bytes_with_type(
    status: StatusCode,
    body: Bytes,
    kind: &'static str,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(kind),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_only_when_accepted() {
        fn check(accept_encoding: &[&str], gzip: bool) {
            let mut headers = hyper::HeaderMap::new();
            for v in accept_encoding {
                headers.append(
                    hyper::header::ACCEPT_ENCODING,
                    hyper::header::HeaderValue::from_str(v).unwrap(),
                );
            }
            assert_eq!(accepts_gzip(&headers), gzip, "{accept_encoding:?}");
        }
        check(&[], false);
        check(&["gzip"], true);
        check(&["GZIP"], true);
        check(&["identity, gzip;q=0.5"], true);
        check(&["br", "gzip"], true);
        check(&["gzip;q=0"], false);
        check(&["gzip; q=0.0, identity"], false);
        check(&["deflate, x-gzipped"], false);
    }
}
