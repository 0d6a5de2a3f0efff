//! The HTTP/1.1 server `egress serve` and `egress proxy` both run: the
//! accept loop with its connection limit and a stop signal, request-head
//! limits, `Accept` negotiation, `Strict` (egress-gate's head scanner in
//! front of hyper), reload on SIGHUP, and who may ask for a reload.

#![forbid(unsafe_code)]

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{Either, Full};
use hyper::Request;
use hyper::body::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

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

/// The answer to a `/-/reload` request that may not reload: 405 for any
/// method but POST, 403 from another machine; `None` when it may.
pub fn reload_refused<B>(
    request: &Request<B>,
    peer: std::net::SocketAddr,
) -> Option<hyper::Response<Full<Bytes>>> {
    let (status, body) = if request.method() != hyper::Method::POST {
        (hyper::StatusCode::METHOD_NOT_ALLOWED, "only POST\n")
    } else if !from_this_machine(peer) {
        (
            hyper::StatusCode::FORBIDDEN,
            "a reload is taken from this machine only (loopback)\n",
        )
    } else {
        return None;
    };
    let mut r = hyper::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == hyper::StatusCode::METHOD_NOT_ALLOWED {
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
    }
    Some(r)
}

/// Whether `peer` is this machine, for what only this machine may ask
/// (`POST /-/reload`): a loopback address, also as an IPv4-mapped IPv6
/// one (a listener on `[::]` sees 127.0.0.1 as `::ffff:127.0.0.1`).
pub fn from_this_machine(peer: std::net::SocketAddr) -> bool {
    peer.ip().to_canonical().is_loopback()
}

/// A client connection [`serve`] accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub peer: std::net::SocketAddr,
    /// Its place among the connections served at once: held while the
    /// connection lives, and by what it hands over to (a tunnel).
    pub permit: Arc<OwnedSemaphorePermit>,
}

/// What [`serve`] allows a client.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request heads: hyper's buffer; [`head_size`] is the exact check.
    pub max_head: usize,
    /// A request head must arrive within this time.
    pub head_timeout: Duration,
    /// Connections served at once (further clients wait in the listen
    /// backlog). A connection holds a permit until it and what it handed
    /// over to have ended: all permits free means all connections ended.
    pub connections: Arc<Semaphore>,
}

impl Limits {
    pub fn new(max_head: usize, max_connections: usize) -> Limits {
        Limits {
            max_head,
            head_timeout: Duration::from_secs(10),
            connections: Arc::new(Semaphore::new(max_connections)),
        }
    }
}

/// Serves HTTP/1.1 on `listener` until `stop` turns true, each connection
/// with the service `make` returns for it, within `limits`; a service may
/// take the connection over (CONNECT). When `stop` turns true, the
/// listener closes and every connection is asked to end after its
/// current response (what was handed over goes on). A response goes out
/// whole (`TCP_NODELAY`: its last segment does not wait for the client's
/// delayed ACK). An accept that fails (out of file descriptors, say)
/// waits rather than spins.
pub async fn serve<F, S, B>(
    listener: tokio::net::TcpListener,
    limits: &Limits,
    stop: watch::Receiver<bool>,
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
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let accepted = async {
            let permit = limits.connections.clone().acquire_owned().await.ok()?;
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => return Some((permit, stream, peer)),
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        };
        let (permit, stream, peer) = tokio::select! {
            a = accepted => match a {
                Some(a) => a,
                None => return,
            },
            () = stopped(stop.clone()) => return,
        };
        let _ = stream.set_nodelay(true);
        let service = make(Accepted {
            peer,
            permit: Arc::new(permit),
        });
        let refused = Arc::new(Mutex::new(None));
        let stream = Strict::new(stream, refused.clone());
        let service = hyper::service::service_fn(move |request| {
            let answer = refusal(&request, &refused).map(|why| {
                let mut r = hyper::Response::new(Either::Right(Full::new(Bytes::from(format!(
                    "bad request: {why}\n"
                )))));
                *r.status_mut() = hyper::StatusCode::BAD_REQUEST;
                r
            });
            let inner = answer.is_none().then(|| service.call(request));
            async move {
                match (answer, inner) {
                    (Some(answer), _) => Ok::<_, std::convert::Infallible>(answer),
                    (None, Some(inner)) => Ok(inner.await?.map(Either::Left)),
                    (None, None) => unreachable!("a request is answered or served"),
                }
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.head_timeout)
            .max_buf_size(limits.max_head)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .with_upgrades();
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                () = stopped(stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
}

/// The request [`Strict`] puts in place of a refused head: hyper reads it
/// after the requests before, so its 400 goes out in order.
const REFUSED: &[u8] =
    b"GET /.egress/refused HTTP/1.1\r\nHost: egress\r\nConnection: close\r\n\r\n";

/// Why `request` stands for a head [`Strict`] refused, if it does.
fn refusal<B>(request: &Request<B>, refused: &Mutex<Option<String>>) -> Option<String> {
    if request.uri() != "/.egress/refused" {
        return None;
    }
    refused.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A client connection whose request heads are read strictly
/// (egress-gate's `head::Scanner`) before hyper reads them: a refused
/// head becomes [`REFUSED`], and the connection ends after it.
struct Strict<S> {
    inner: S,
    scanner: egress_gate::head::Scanner,
    /// Bytes judged and not yet read by hyper.
    ready: Vec<u8>,
    taken: usize,
    /// Set with the reason once a head is refused.
    refused: Arc<Mutex<Option<String>>>,
    /// After a refused head, what the client sends is read and dropped
    /// (an end of input would make hyper drop the 400 unsent).
    dropping: bool,
}

impl<S> Strict<S> {
    fn new(inner: S, refused: Arc<Mutex<Option<String>>>) -> Strict<S> {
        Strict {
            inner,
            scanner: egress_gate::head::Scanner::new(),
            ready: Vec::new(),
            taken: 0,
            refused,
            dropping: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Strict<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.taken < this.ready.len() {
                let n = buf.remaining().min(this.ready.len() - this.taken);
                buf.put_slice(&this.ready[this.taken..this.taken + n]);
                this.taken += n;
                if this.taken == this.ready.len() {
                    this.ready.clear();
                    this.taken = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.scanner.is_through() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut bytes = [0u8; 8 * 1024];
            let mut read = ReadBuf::new(&mut bytes);
            std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // The client's end of input: hyper's too.
                return Poll::Ready(Ok(()));
            }
            if this.dropping {
                continue;
            }
            if let Err(why) = this.scanner.feed(read.filled(), &mut this.ready) {
                this.ready.extend_from_slice(REFUSED);
                *this.refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.to_string());
                this.dropping = true;
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Strict<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Returns once `stop` is true; never, if its sender is gone without
/// saying so.
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs `reload` on every SIGHUP and says how it went on standard error
/// (`who`: `egress serve`, `egress proxy`); a failed reload keeps the
/// running configuration.
#[cfg(unix)]
pub async fn reload_on_hangup<F, Fut, T>(who: &str, mut reload: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hangup.recv().await.is_some() {
        match reload().await {
            Ok(_) => eprintln!("{who}: reloaded (SIGHUP)"),
            Err(e) => {
                eprint!("{who}: the reload (SIGHUP) failed; the running configuration stays:\n{e}")
            }
        }
    }
}

/// A `stop` for [`serve`] that never turns true (its sender is gone).
pub fn never() -> watch::Receiver<bool> {
    watch::channel(false).1
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

#[cfg(test)]
mod tests {
    use super::{from_this_machine, reload_refused};

    #[test]
    fn only_a_post_from_this_machine_reloads() {
        let request = |method: &str| {
            hyper::Request::builder()
                .method(method)
                .uri("/-/reload")
                .body(())
                .unwrap()
        };
        let get = reload_refused(&request("GET"), "127.0.0.1:5000".parse().unwrap()).unwrap();
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
        let far = reload_refused(&request("POST"), "10.0.0.5:5000".parse().unwrap()).unwrap();
        assert_eq!(far.status(), 403);
        assert!(
            reload_refused(&request("POST"), "[::ffff:127.0.0.1]:5000".parse().unwrap()).is_none()
        );
    }

    #[test]
    fn only_loopback_peers_are_this_machine() {
        for (peer, expected) in [
            ("127.0.0.1:5000", true),
            ("127.8.9.10:5000", true),
            ("[::1]:5000", true),
            ("[::ffff:127.0.0.1]:5000", true),
            ("10.0.0.5:5000", false),
            ("[::ffff:10.0.0.5]:5000", false),
            ("[fe80::1]:5000", false),
        ] {
            assert_eq!(from_this_machine(peer.parse().unwrap()), expected, "{peer}");
        }
    }
}
