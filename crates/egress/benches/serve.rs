//! `egress serve` against Debian's `prometheus-blackbox-exporter` probing
//! the same 200 loopback HTTPS endpoints, same run, both as users run
//! them:
//!
//! 1. Resident memory: egress serve with its full history (288 runs, each
//!    with every endpoint failed: the largest history, from `--state`)
//!    after a run, against blackbox_exporter after one probe of each
//!    endpoint.
//! 2. CPU over 10 minutes at a 1-minute interval: egress's own scheduler
//!    (`--interval 1m`) against blackbox_exporter with a scraper probing
//!    every endpoint once a minute (spread over the minute, as Prometheus
//!    spreads scrapes). Both run at the same time; CPU from /proc.
//! 3. `/metrics` under 100 concurrent scrapers (keep-alive connections,
//!    100 scrapes each, a hyper client sending Prometheus's headers, gzip
//!    included): p50 and p99 latency, egress and blackbox_exporter.
//!
//! Targets (issue 20): memory and CPU at most blackbox_exporter's; p99
//! under 10 ms.
//!
//! Run: `cargo bench -p egress --bench serve` (Linux; needs
//! prometheus-blackbox-exporter; about 12 minutes). `EGRESS_BENCH_MINUTES`
//! shortens the CPU run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use egress_bench::Process;
use std::time::{Duration, Instant};

use egress_test_support::origin::https_origin;
use egress_test_support::tools::{Tool, free_port};

const ENDPOINTS: usize = 200;

/// One GET on a keep-alive connection: the status and the body.
fn get(stream: &mut BufReader<TcpStream>, path: &str) -> (u16, Vec<u8>) {
    write!(
        stream.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: egress-bench\r\n\r\n"
    )
    .unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        line.clear();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    if !chunked {
        let mut body = vec![0; length];
        stream.read_exact(&mut body).unwrap();
        return (status, body);
    }
    // Chunked (Go's server, for larger bodies): size lines, data, CRLF.
    let mut body = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).unwrap();
        let size = usize::from_str_radix(line.trim(), 16).unwrap();
        let mut chunk = vec![0; size + 2];
        stream.read_exact(&mut chunk).unwrap();
        if size == 0 {
            return (status, body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

fn connect(port: u16) -> BufReader<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            return BufReader::new(s);
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What Prometheus 2.42 sends with a scrape: it asks for OpenMetrics
/// first and for gzip.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// One scraper as Prometheus scrapes: a keep-alive HTTP/1.1 connection
/// (hyper's client), Prometheus's headers, the whole (compressed) body
/// read. `count` scrapes, every `period` from `offset` when paced, else
/// back to back. The latencies in milliseconds, request sent to body read.
async fn scraper(port: u16, offset: Duration, period: Option<Duration>, count: usize) -> Vec<f64> {
    use http_body_util::{BodyExt as _, Empty};
    use hyper::header::{ACCEPT, ACCEPT_ENCODING, HOST, USER_AGENT};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut send, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut next = tokio::time::Instant::now() + offset;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if let Some(period) = period {
            tokio::time::sleep_until(next).await;
            next += period;
        }
        let request = hyper::Request::get("/metrics")
            .header(HOST, "bench")
            .header(USER_AGENT, "Prometheus/2.42.0")
            .header(ACCEPT, PROMETHEUS_ACCEPT)
            .header(ACCEPT_ENCODING, "gzip")
            .body(Empty::<hyper::body::Bytes>::new())
            .unwrap();
        let start = Instant::now();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(!body.is_empty());
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

/// `GET /metrics` latencies in milliseconds (sorted) from 100 scrapers,
/// each on its own keep-alive connection: `paced`, each scrapes every 100
/// ms for 10 s from its own offset (1,000 scrapes a second in all, far
/// more than a fleet's Prometheus servers send); otherwise each scrapes
/// again as soon as it has the answer (closed loop: the latency is then
/// the queue, 100 / throughput). Also the scrapes a second. The load
/// generator runs on its own tokio runtime, two worker threads.
fn scrapes(port: u16, paced: bool) -> (Vec<f64>, f64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let mut all: Vec<f64> = runtime.block_on(async {
        let scrapers: Vec<_> = (0..100u64)
            .map(|i| {
                let offset = Duration::from_micros(i * 997 % 100_000);
                let period = paced.then_some(Duration::from_millis(100));
                tokio::spawn(scraper(port, offset, period, 100))
            })
            .collect();
        let mut all = Vec::new();
        for s in scrapers {
            all.extend(s.await.unwrap());
        }
        all
    });
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    (all, rate)
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    sorted[sorted.len() * p / 100]
}

fn main() {
    let blackbox = Tool::program(
        "prometheus-blackbox-exporter",
        "Debian package prometheus-blackbox-exporter",
    )
    .path();
    let minutes: u64 = std::env::var("EGRESS_BENCH_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, port) = https_origin(&["*.bench.egress.test", "localhost"]);
    std::fs::write(d.join("ca.pem"), &ca.pem).unwrap();
    let hosts = egress_bench::bench_hosts(ENDPOINTS);
    std::fs::write(
        d.join("catalog.toml"),
        egress_bench::https_catalog(&hosts, port),
    )
    .unwrap();
    // The largest history: 288 runs, every endpoint failed in each.
    let failed: Vec<(String, String)> = hosts
        .iter()
        .map(|h| {
            (
                format!("https://{h}:{port}/"),
                format!("TCP: connection refused by 127.0.0.1:{port}"),
            )
        })
        .collect();
    let mut state = String::new();
    for i in 0..288 {
        let run = serde_json::json!({
            "finished": format!("2026-11-30T{:02}:{:02}:00Z", i / 12, (i % 12) * 5),
            "duration_seconds": 0.2,
            "features": [["f", "critical"]],
            "failed": failed,
        });
        state.push_str(&run.to_string());
        state.push('\n');
    }
    std::fs::write(d.join("state.jsonl"), state).unwrap();

    let egress_port = free_port();
    let mut args: Vec<String> = [
        "serve",
        "--catalog",
        d.join("catalog.toml").to_str().unwrap(),
        "--ca-file",
        d.join("ca.pem").to_str().unwrap(),
        "--state",
        d.join("state.jsonl").to_str().unwrap(),
        "--interval",
        "1m",
        "--listen",
    ]
    .map(String::from)
    .to_vec();
    args.push(format!("127.0.0.1:{egress_port}"));
    for h in &hosts {
        args.push("--resolve".into());
        args.push(format!("{h}:{port}:127.0.0.1"));
    }
    let egress = Process(
        Command::new(env!("CARGO_BIN_EXE_egress"))
            .args(&args)
            .env_remove("HTTPS_PROXY")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    std::fs::write(
        d.join("blackbox.yml"),
        format!(
            "modules:\n  https_head:\n    prober: http\n    timeout: 5s\n    http:\n      method: HEAD\n      preferred_ip_protocol: ip4\n      tls_config:\n        ca_file: {}\n",
            d.join("ca.pem").display()
        ),
    )
    .unwrap();
    let bb_port = free_port();
    let bb = Process(
        Command::new(blackbox)
            .arg(format!(
                "--config.file={}",
                d.join("blackbox.yml").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{bb_port}"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let targets: Vec<String> = (0..ENDPOINTS)
        .map(|i| format!("/probe?module=https_head&target=https://localhost:{port}/%3Fi%3D{i}"))
        .collect();
    let probe_all = |spread: Duration| {
        let mut stream = connect(bb_port);
        for t in &targets {
            let start = Instant::now();
            let (status, body) = get(&mut stream, t);
            assert_eq!(status, 200);
            assert!(
                String::from_utf8_lossy(&body).contains("probe_success 1"),
                "blackbox_exporter could not probe {t}"
            );
            std::thread::sleep(spread.saturating_sub(start.elapsed()));
        }
    };

    // Wait for egress's first run (its /healthz answers 200 once done).
    let mut es = connect(egress_port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&mut es, "/healthz").0 != 200 {
        assert!(Instant::now() < deadline, "egress serve: no good run");
        std::thread::sleep(Duration::from_millis(200));
    }
    probe_all(Duration::ZERO);
    println!(
        "{ENDPOINTS} HTTPS endpoints on loopback, egress serve against blackbox_exporter 0.23, same run:"
    );
    println!(
        "  resident memory     egress {} (history: 288 runs)   blackbox_exporter {}   (target: at most)",
        egress.memory(),
        bb.memory()
    );

    // CPU over `minutes` at a 1-minute interval, both at once.
    let (egress_cpu, bb_cpu) = (egress.cpu(), bb.cpu());
    let spread = Duration::from_secs(60) / ENDPOINTS as u32;
    for _ in 0..minutes {
        probe_all(spread);
    }
    let (egress_cpu, bb_cpu) = (egress.cpu() - egress_cpu, bb.cpu() - bb_cpu);
    println!(
        "  CPU, {minutes} min at 1/min   egress {egress_cpu:.2} s   blackbox_exporter {bb_cpu:.2} s (with its scraper's 200 probes a minute)   {:.2}x   (target: at most 1x)",
        egress_cpu / bb_cpu
    );
    println!(
        "  resident memory after  egress {}   blackbox_exporter {}",
        egress.memory(),
        bb.memory()
    );

    let (_, _, body) = {
        let mut c = connect(egress_port);
        let (status, body) = get(&mut c, "/metrics");
        (status, (), body)
    };
    println!("  /metrics of egress: {} bytes", body.len());
    for (name, port) in [("egress", egress_port), ("blackbox_exporter", bb_port)] {
        let (paced, _) = scrapes(port, true);
        let (closed, rate) = scrapes(port, false);
        println!(
            "  /metrics, 100 scrapers x 100: {name:<17} paced (1,000/s): p50 {:.2} ms p99 {:.2} ms   closed loop: p50 {:.2} ms p99 {:.2} ms, {rate:.0} scrapes/s",
            pct(&paced, 50),
            pct(&paced, 99),
            pct(&closed, 50),
            pct(&closed, 99)
        );
    }
    drop(es);
}
