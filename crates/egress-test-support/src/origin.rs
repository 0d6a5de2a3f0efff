//! Origins on loopback, a thread per connection: one that answers every
//! request with 200, one that echoes the request head, one that echoes
//! bytes, and one that serves files by path.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::tls::{Ca, Validity, server_config};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/// A plain-HTTP origin on 127.0.0.1; its port.
pub fn http_origin() -> u16 {
    serve(|stream| {
        let mut stream = stream;
        if read_head(&mut stream) {
            let _ = stream.write_all(OK);
        }
    })
}

/// A plain-HTTP origin on 127.0.0.1 that answers every request with its
/// request head (and its body, when `Content-Length` gives one) as the
/// body: what a proxy forwarded, for the test to read. Its port.
pub fn echo_origin() -> u16 {
    serve(|mut stream| {
        if let Some(head) = read_request(&mut stream) {
            let head = with_body(head, &mut stream);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                head.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    })
}

/// A plain-HTTP origin on 127.0.0.1 that keeps its connections alive
/// (every request answered `ok` with a length); its port, and how many
/// connections it has accepted.
pub fn keep_alive_origin() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    let port = serve(move |mut stream| {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        while read_head(&mut stream) {
            let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            if stream.write_all(answer).is_err() {
                return;
            }
        }
    });
    (port, accepted)
}

/// A TCP origin on 127.0.0.1 that sends back every byte it gets until
/// the peer closes: a long-lived channel through a tunnel. Its port.
pub fn byte_echo_origin() -> u16 {
    serve(|mut stream| {
        stream.set_read_timeout(None).ok();
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

/// A plain-HTTP origin on `address` (port 0: any) serving `files` (path,
/// content type, body); other paths get 404. Its port.
pub fn files_origin(address: &str, files: &[(&str, &str, &str)]) -> u16 {
    let files: Vec<(String, String, String)> = files
        .iter()
        .map(|(p, t, b)| (p.to_string(), t.to_string(), b.to_string()))
        .collect();
    let listener = TcpListener::bind(address)
        .unwrap_or_else(|e| panic!("cannot listen on {address} (port 80 needs root): {e}"));
    serve_on(listener, move |mut stream| {
        let Some(head) = read_request(&mut stream) else {
            return;
        };
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        let _ = stream.write_all(file_answer(&files, path).as_bytes());
    })
}

/// The answer for `path`: its file, or 404.
fn file_answer(files: &[(String, String, String)], path: &str) -> String {
    match files.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
        }
    }
}

/// An HTTPS origin on 127.0.0.1 whose certificate covers `names`, serving
/// `files` (path without query, content type, body; other paths 404): the
/// CA (for `--ca-file`), the port, and the request targets it was sent
/// (query included), in order.
pub fn https_files_origin(
    names: &[&str],
    files: &[(&str, &str, &str)],
) -> (Ca, u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let files: Vec<(String, String, String)> = files
        .iter()
        .map(|(p, t, b)| (p.to_string(), t.to_string(), b.to_string()))
        .collect();
    let ca = Ca::new("Egress Test CA");
    let config = server_config(&ca.leaf(names, Validity::Current));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let port = serve(move |stream| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, stream);
        let Some(head) = read_request(&mut tls) else {
            return;
        };
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let path = target.split('?').next().unwrap_or("/").to_owned();
        log.lock().unwrap().push(target);
        let _ = tls.write_all(file_answer(&files, &path).as_bytes());
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    (ca, port, seen)
}

/// A test CA and an HTTPS origin on 127.0.0.1 whose certificate covers
/// `names`: the CA (for `--ca-file`) and the port.
pub fn https_origin(names: &[&str]) -> (Ca, u16) {
    let ca = Ca::new("Egress Test CA");
    let port = serve(answer_ok_over_tls(&ca, names));
    (ca, port)
}

/// A connection handler that answers 200 over TLS with a certificate for
/// `names` signed by `ca`.
fn answer_ok_over_tls(ca: &Ca, names: &[&str]) -> impl Fn(TcpStream) + Send + Sync + 'static {
    let config = server_config(&ca.leaf(names, Validity::Current));
    move |stream| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, stream);
        if read_head(&mut tls) {
            let _ = tls.write_all(OK);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

/// An HTTPS origin on `address` (`127.0.0.44:443`) whose certificate,
/// signed by `ca`, covers `names`; `None` when the address cannot be
/// bound (a port below 1024 needs root).
pub fn https_origin_at(address: &str, ca: &Ca, names: &[&str]) -> Option<u16> {
    let listener = TcpListener::bind(address).ok()?;
    Some(serve_on(listener, answer_ok_over_tls(ca, names)))
}

/// Accepts connections on a new loopback port, each on its own thread.
fn serve(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    serve_on(
        TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
        handle,
    )
}

fn serve_on(listener: TcpListener, handle: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let port = listener.local_addr().expect("a bound address").port();
    let handle = Arc::new(handle);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let handle = handle.clone();
            thread::spawn(move || handle(stream));
        }
    });
    port
}

/// A request's head, when the peer sent one.
fn read_request(stream: &mut impl Read) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// `request` (a head, and what came with it) with the rest of its body,
/// when `Content-Length` gives one.
fn with_body(mut request: String, stream: &mut impl Read) -> String {
    let length = request
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let head = request.find("\r\n\r\n").map_or(request.len(), |i| i + 4);
    let mut rest = vec![0u8; (head + length).saturating_sub(request.len())];
    if stream.read_exact(&mut rest).is_ok() {
        request.push_str(&String::from_utf8_lossy(&rest));
    }
    request
}

/// Reads up to the end of a request's head; false when the peer stopped
/// before it.
fn read_head(stream: &mut impl Read) -> bool {
    read_request(stream).is_some()
}
