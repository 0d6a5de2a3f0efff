//! Origins on loopback: a thread per connection, every request answered
//! with 200.

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

/// A test CA and an HTTPS origin on 127.0.0.1 whose certificate covers
/// `names`: the CA (for `--ca-file`) and the port.
pub fn https_origin(names: &[&str]) -> (Ca, u16) {
    let ca = Ca::new("Egress Test CA");
    let config = server_config(&ca.leaf(names, Validity::Current));
    let port = serve(move |stream| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, stream);
        if read_head(&mut tls) {
            let _ = tls.write_all(OK);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (ca, port)
}

/// Accepts connections on a new loopback port, each on its own thread.
fn serve(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
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

/// Reads up to the end of a request's head; false when the peer stopped
/// before it.
fn read_head(stream: &mut impl Read) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}
