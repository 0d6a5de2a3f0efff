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
pub const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves HTTP/1.1 on `listener` for ever: each connection with the
/// service `make` returns for its peer, request heads limited to
/// `max_head` bytes (hyper's buffer; [`head_size`] is the exact check)
/// and [`HEAD_TIMEOUT`]. A response goes out whole (`TCP_NODELAY`: its
/// last segment does not wait for the client's delayed ACK). An accept
/// that fails (out of file descriptors, say) waits rather than spins.
pub async fn serve<F, S, B>(listener: tokio::net::TcpListener, max_head: usize, make: F)
where
    F: Fn(std::net::SocketAddr) -> S,
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
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = make(peer);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(max_head)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
