//! What `serve` and `proxy` share as HTTP servers.

use hyper::Request;

/// The size of a request's head as sent: the request line and every
/// header line. hyper's buffer limit bounds memory but lets a head that
/// arrives in one read through; this is the exact limit.
pub fn head_size<B>(request: &Request<B>) -> usize {
    let line = request.method().as_str().len() + request.uri().to_string().len() + 12;
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
}

/// A request head must arrive within this time.
const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A client connection [`serve`] accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub peer: std::net::SocketAddr,
    /// Its place among the connections served at once: held while the
    /// connection lives, and by what it hands over to (a tunnel).
    pub permit: std::sync::Arc<tokio::sync::OwnedSemaphorePermit>,
}

/// Serves HTTP/1.1 on `listener` for ever: at most `max_connections` at
/// once (further clients wait in the listen backlog), each with the
/// service `make` returns for it, request heads limited to `max_head`
/// bytes (hyper's buffer; [`head_size`] is the exact check) and
/// [`HEAD_TIMEOUT`]; a service may take the connection over (CONNECT).
/// A response goes out whole (`TCP_NODELAY`: its last segment does not
/// wait for the client's delayed ACK). An accept that fails (out of file
/// descriptors, say) waits rather than spins.
pub async fn serve<F, S, B>(
    listener: tokio::net::TcpListener,
    max_head: usize,
    max_connections: usize,
    make: F,
) where
    F: Fn(Accepted) -> S,
    S: hyper::service::Service<
            Request<hyper::body::Incoming>,
            Response = hyper::Response<B>,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connections = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections));
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = make(Accepted {
            peer,
            permit: std::sync::Arc::new(permit),
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(max_head)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// Whether `Accept` asks for OpenMetrics rather than the classic text
/// format.
pub fn wants_openmetrics(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(hyper::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"))
}
