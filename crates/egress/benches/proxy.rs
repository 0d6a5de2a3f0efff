//! `egress proxy` against Squid and tinyproxy (Debian), on loopback, same
//! run, each as users run it (egress in report mode with its plan, Squid
//! and tinyproxy allowing everything):
//!
//! 1. The added cost of a new tunnel: a fresh TCP connection, CONNECT, a
//!    TLS handshake with the origin through it, one request, read to the
//!    end; minus the same done directly, paired (direct, egress, Squid,
//!    tinyproxy in turn, 300 rounds). Target: egress's added cost at most
//!    0.75x Squid's.
//! 2. Throughput of 1 GiB through one tunnel (plain bytes, not TLS: the
//!    relay's own cost). Target: at least Squid's.
//! 3. Small plain-HTTP requests, 50 concurrent keep-alive clients, 100
//!    requests each: p50 and p99 latency. Target: at most Squid's.
//! 4. Resident memory of egress holding 5,000 idle tunnels. Target: under
//!    100 MB.
//!
//! Run: `cargo bench -p egress --bench proxy` (Linux; needs squid and
//! tinyproxy: scripts/test installs them; about 2 minutes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egress_bench::Process;
use egress_test_support::origin::{http_origin, https_origin};
use egress_test_support::proxies::tinyproxy;
use egress_test_support::squid::{self, Squid};
use egress_test_support::tools::free_port;

const ROUNDS: usize = 300;
const BULK: u64 = 1 << 30;
const TUNNELS: usize = 5_000;

/// A connection to `target` (`host:port`): through the proxy on `proxy`
/// with CONNECT, or directly to 127.0.0.1 at the target's port.
fn open(proxy: Option<u16>, target: &str) -> TcpStream {
    let port: u16 = target.rsplit(':').next().unwrap().parse().unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", proxy.unwrap_or(port))).unwrap();
    s.set_nodelay(true).unwrap();
    if proxy.is_some() {
        s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
            .unwrap();
        // Byte by byte up to the end of the head: nothing of the tunnel is
        // read ahead.
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"),
            "{}",
            String::from_utf8_lossy(&head)
        );
    }
    s
}

/// One new tunnel: connect, CONNECT, TLS, one request, the answer read to
/// its end. Seconds.
fn one_tunnel(proxy: Option<u16>, target: &str, tls: &Arc<rustls::ClientConfig>) -> f64 {
    let start = Instant::now();
    let stream = open(proxy, target);
    let host = target.split(':').next().unwrap().to_owned();
    let name = rustls::pki_types::ServerName::try_from(host.clone()).unwrap();
    let conn = rustls::ClientConnection::new(tls.clone(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, stream);
    tls.write_all(
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    assert!(
        answer.ends_with(b"ok"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    start.elapsed().as_secs_f64()
}

/// An origin that sends `BULK` bytes to each connection, then closes.
fn bulk_origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let chunk = vec![0u8; 1 << 16];
                let mut sent = 0;
                while sent < BULK {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                }
            });
        }
    });
    port
}

/// An origin that accepts connections and holds them, idle.
fn holding_origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// 50 clients, each on its own keep-alive connection (a new one when the
/// proxy closes it, as a client would), 100 plain-HTTP GETs each: the
/// latencies in milliseconds, sorted. Directly, each request is a new
/// connection: the origin closes after each answer.
fn small_requests(proxy: Option<u16>, origin: u16) -> Vec<f64> {
    let threads: Vec<_> = (0..50)
        .map(|_| {
            std::thread::spawn(move || {
                let connect = || {
                    let s = TcpStream::connect(("127.0.0.1", proxy.unwrap_or(origin))).unwrap();
                    s.set_nodelay(true).unwrap();
                    BufReader::new(s)
                };
                let request = format!(
                    "GET http://localhost:{origin}/ HTTP/1.1\r\nHost: localhost:{origin}\r\n\r\n"
                );
                let mut out = Vec::new();
                let mut open: Option<BufReader<TcpStream>> = None;
                for _ in 0..100 {
                    let start = Instant::now();
                    let mut stream = open.take().unwrap_or_else(connect);
                    stream.get_mut().write_all(request.as_bytes()).unwrap();
                    let mut line = String::new();
                    if stream.read_line(&mut line).unwrap_or(0) == 0 {
                        // Closed while idle (tinyproxy closes kept-alive
                        // connections): a new one, as a client would.
                        stream = connect();
                        stream.get_mut().write_all(request.as_bytes()).unwrap();
                        stream.read_line(&mut line).unwrap();
                    }
                    assert!(line.contains(" 200 "), "{line}");
                    let mut length = 0;
                    let mut close = proxy.is_none() || line.starts_with("HTTP/1.0");
                    loop {
                        line.clear();
                        let n = stream.read_line(&mut line).unwrap();
                        assert!(n > 0, "the connection closed before the answer's end");
                        if line == "\r\n" {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        close |= lower.starts_with("connection: close")
                            || lower.starts_with("proxy-connection: close");
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).unwrap();
                    assert_eq!(body, b"ok");
                    if !close {
                        open = Some(stream);
                    }
                    out.push(start.elapsed().as_secs_f64() * 1000.0);
                }
                out
            })
        })
        .collect();
    let mut all: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_by(f64::total_cmp);
    all
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, tls_port) = https_origin(&["localhost"]);
    let http_port = http_origin();
    let bulk_port = bulk_origin();
    let hold_port = holding_origin();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    let tls = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );

    // The plan: the origin on each port, over HTTPS for tunnels and over
    // HTTP for plain requests.
    let mut catalog = egress_test_support::catalog_head("proxy-bench")
        + "\n[[feature]]\nid = \"f\"\ntitle = \"F\"\npage = \"p\"\nsection = \"F\"\n";
    for (i, (scheme, port)) in [
        ("https", tls_port),
        ("https", bulk_port),
        ("https", hold_port),
        ("http", http_port),
    ]
    .iter()
    .enumerate()
    {
        catalog.push_str(&format!(
            "\n[[endpoint]]\nid = \"e{i}\"\nurl = \"{scheme}://localhost:{port}/\"\nfeatures = [\"f\"]\n"
        ));
    }
    std::fs::write(d.join("catalog.toml"), catalog).unwrap();
    let egress_port = free_port();
    let mut args: Vec<String> = [
        "proxy",
        "--catalog",
        d.join("catalog.toml").to_str().unwrap(),
        "--allow-net",
        "127.0.0.0/8",
        "--max-tunnels-per-source",
        "10000",
        "--listen",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("127.0.0.1:{egress_port}"));
    for port in [tls_port, bulk_port, hold_port, http_port] {
        args.push("--resolve".into());
        args.push(format!("localhost:{port}:127.0.0.1"));
    }
    let egress = Process(
        Command::new(env!("CARGO_BIN_EXE_egress"))
            .args(&args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", egress_port)).is_err() {
        assert!(Instant::now() < deadline, "egress proxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let squid = Squid::start(squid::folder(), &["localhost"], "http_access allow all\n");
    let tiny = tinyproxy("", None);
    let proxies = [
        ("egress", Some(egress_port)),
        ("squid", Some(squid.port)),
        ("tinyproxy", Some(tiny.port)),
    ];
    println!("egress proxy against Squid 5.7 and tinyproxy 1.11, loopback, same run:");

    // 1. Added cost of a new tunnel, paired with the direct time.
    let target = format!("localhost:{tls_port}");
    for _ in 0..20 {
        one_tunnel(None, &target, &tls);
        for (_, p) in proxies {
            one_tunnel(p, &target, &tls);
        }
    }
    let mut added: Vec<Vec<f64>> = vec![Vec::new(); proxies.len()];
    let mut direct = Vec::new();
    for _ in 0..ROUNDS {
        let base = one_tunnel(None, &target, &tls);
        direct.push(base);
        for (i, (_, p)) in proxies.iter().enumerate() {
            added[i].push(one_tunnel(*p, &target, &tls) - base);
        }
    }
    println!(
        "  new tunnel (TCP, CONNECT, TLS, one request), {ROUNDS} paired rounds; direct median {:.3} ms",
        median(direct) * 1000.0
    );
    let medians: Vec<f64> = added.iter().map(|a| median(a.clone())).collect();
    for (i, (name, _)) in proxies.iter().enumerate() {
        let mean = added[i].iter().sum::<f64>() / added[i].len() as f64;
        println!(
            "    {name:<10} added: median {:.3} ms, mean {:.3} ms",
            medians[i] * 1000.0,
            mean * 1000.0
        );
    }
    println!(
        "    egress / squid (medians of the added cost): {:.2}x   (target: at most 0.75x)",
        medians[0] / medians[1]
    );

    // 2. 1 GiB through one tunnel.
    let bulk = format!("localhost:{bulk_port}");
    println!("  1 GiB through one tunnel (plain bytes, not TLS):");
    let mut rates = Vec::new();
    for (name, p) in [("direct", None)].into_iter().chain(proxies) {
        let start = Instant::now();
        let mut s = open(p, &bulk);
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0u64;
        while got < BULK {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "{name}: closed after {got} bytes");
            got += n as u64;
        }
        let rate = BULK as f64 / start.elapsed().as_secs_f64() / (1 << 20) as f64;
        rates.push(rate);
        println!("    {name:<10} {rate:.0} MiB/s");
    }
    println!(
        "    egress / squid: {:.2}x   (target: at least 1x)",
        rates[1] / rates[2]
    );

    // 3. Small plain-HTTP requests, 50 clients.
    println!("  small plain-HTTP GETs, 50 keep-alive clients x 100:");
    let mut p99s = Vec::new();
    for (name, p) in [("direct", None)].into_iter().chain(proxies) {
        let all = small_requests(p, http_port);
        p99s.push(pct(&all, 99));
        println!(
            "    {name:<10} p50 {:.2} ms p99 {:.2} ms",
            pct(&all, 50),
            pct(&all, 99)
        );
    }
    println!(
        "    egress / squid p99: {:.2}x   (target: at most 1x)",
        p99s[1] / p99s[2]
    );

    // 4. 5,000 idle tunnels held by egress.
    let before = egress.rss();
    let hold = format!("localhost:{hold_port}");
    let tunnels: Vec<TcpStream> = (0..TUNNELS)
        .map(|_| open(Some(egress_port), &hold))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "  {TUNNELS} idle tunnels: egress resident memory {:.1} MiB (before {before:.1} MiB)   (target: under 100 MB)",
        egress.rss()
    );
    drop(tunnels);
}
