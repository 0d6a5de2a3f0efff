//! `egress serve`: the check on a schedule, and its results over HTTP
//! (docs/serve.md). One scheduler runs the check every interval (the first
//! run at start); the server answers from the last completed run, so a
//! scrape never waits for a check.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use egress_check::metrics::{CLASSIC, CatalogInfo, Metrics, OPENMETRICS};
use egress_check::plan::{FeatureStatus, Outcome, Report, check};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

mod page;
#[cfg(windows)]
mod service;

use crate::Exit;
use crate::check::{Prepared, prepare};
use crate::cli::ServeArgs;

/// The largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

pub fn run(args: &ServeArgs) -> anyhow::Result<Exit> {
    if args.service {
        #[cfg(windows)]
        return service::run(args);
        #[cfg(not(windows))]
        anyhow::bail!(
            "--service runs egress as a Windows service; on this system use a systemd unit (deploy/systemd/egress.service)"
        );
    }
    run_until(args, shutdown())
}

/// Serves until `stop` resolves (Ctrl-C or SIGTERM in a console, the
/// service control manager's stop for a Windows service).
pub fn run_until(
    args: &ServeArgs,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<Exit> {
    // Everything is validated before the port is bound.
    let interval = egress_check::settings::duration(&args.interval, "--interval")?;
    let prepared = prepare(&args.probe, false)?;
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        eprintln!(
            "egress serve: warning: {} is reachable from other machines, and /metrics and /api/status show this site's endpoints and proxy; give --allow-remote to say that is meant",
            args.listen
        );
    }
    let mut history = History::new(args.history as usize);
    if let Some(file) = &args.state {
        read_state(file, &mut history);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.listen))
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!("egress serve: listening on http://{}/", args.listen);
    let mut state = State {
        header: prepared.header.clone(),
        classic: Exposition::default(),
        openmetrics: Exposition::default(),
        last: None,
        history,
        metrics: Metrics::new(&CatalogInfo::of(&prepared.loaded.catalog)),
        next_run: jiff::Timestamp::now(),
        runs: 0,
    };
    state.expose();
    let shared = Arc::new(Shared {
        state: RwLock::new(state),
        setup: RwLock::new(Arc::new(prepared)),
        probe: args.probe.clone(),
        state_file: args.state.clone(),
        wake: tokio::sync::Notify::new(),
    });
    runtime.block_on(async move {
        tokio::spawn(schedule(shared.clone(), interval));
        #[cfg(unix)]
        tokio::spawn({
            let shared = shared.clone();
            async move {
                crate::http::reload_on_hangup("egress serve", || reload(&shared)).await;
            }
        });
        tokio::select! {
            () = serve(listener, shared) => {}
            () = stop => eprintln!("egress serve: stopping"),
        }
    });
    // Probes still running are cancelled with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(Exit::Success)
}

/// What the scheduler and the server share.
struct Shared {
    state: RwLock<State>,
    /// What is checked: replaced whole by a reload.
    setup: RwLock<Arc<Prepared>>,
    /// The options to read the catalog and profile again with.
    probe: crate::cli::ProbeArgs,
    state_file: Option<std::path::PathBuf>,
    /// Wakes the scheduler for a run now (after a reload).
    wake: tokio::sync::Notify,
}

/// Runs the check every `interval` (the first at once), one run at a time.
async fn schedule(shared: Arc<Shared>, interval: Duration) {
    loop {
        let setup = shared
            .setup
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let report = check(&setup.loaded.catalog, &setup.plan, &setup.options, |_| {}).await;
        let next = jittered(interval);
        let now = jiff::Timestamp::now();
        let critical = critical(&report);
        {
            let mut s = shared.state.write().unwrap_or_else(|e| e.into_inner());
            s.metrics
                .record(&report, now.as_millisecond() as f64 / 1000.0);
            s.expose();
            s.history.push(Run::of(&report, now));
            s.last = Some(report);
            s.runs += 1;
            s.next_run = now
                .checked_add(jiff::SignedDuration::try_from(next).unwrap_or_default())
                .unwrap_or(now);
        }
        if shared.state_file.is_some() {
            let shared = shared.clone();
            // Blocking file I/O, off the runtime's thread; scrapes read
            // the state meanwhile.
            let _ = tokio::task::spawn_blocking(move || keep_history(&shared)).await;
        }
        eprintln!(
            "egress serve: run finished at {now}: {}",
            if critical.is_empty() {
                "no feature is critical".to_owned()
            } else {
                format!("critical: {}", critical.join(", "))
            }
        );
        tokio::select! {
            () = tokio::time::sleep(next) => {}
            () = shared.wake.notified() => {}
        }
    }
}

/// Rewrites the `--state` file with the history, a line a run, streamed:
/// a full history of failing runs is megabytes of JSON.
fn keep_history(shared: &Shared) {
    let Some(file) = &shared.state_file else {
        return;
    };
    let s = shared.state.read().unwrap_or_else(|e| e.into_inner());
    let written = crate::output::write_atomically_with(file, crate::output::Overwrite::Yes, |w| {
        for run in s.history.runs() {
            serde_json::to_writer(&mut *w, run)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    });
    if let Err(e) = written {
        eprintln!("egress serve: cannot keep the history: {e:#}");
    }
}

/// Reads the catalog and profile again: a configuration with a problem is
/// reported, and the running one kept. The next run starts at once.
async fn reload(shared: &Arc<Shared>) -> Result<(), String> {
    let probe = shared.probe.clone();
    let prepared = tokio::task::spawn_blocking(move || prepare(&probe, false))
        .await
        .map_err(|e| format!("the reload failed: {e}"))?
        .map_err(|e| crate::report::error_text(&e))?;
    {
        let mut s = shared.state.write().unwrap_or_else(|e| e.into_inner());
        s.header = prepared.header.clone();
        s.metrics = Metrics::new(&CatalogInfo::of(&prepared.loaded.catalog));
        s.expose();
    }
    *shared.setup.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(prepared);
    shared.wake.notify_one();
    Ok(())
}

/// Adds the runs kept in `file` to `history`, a line at a time; a file
/// that cannot be read as runs is reported and set aside (renamed
/// `FILE.corrupt`), and the history starts empty: never fatal.
fn read_state(file: &std::path::Path, history: &mut History) {
    use std::io::BufRead as _;
    let Ok(text) = std::fs::File::open(file) else {
        return;
    };
    let lines = std::io::BufReader::new(text).lines();
    for (n, line) in lines.enumerate() {
        let line = match line {
            Ok(l) if l.trim().is_empty() => continue,
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "egress serve: {}: {e}; the history starts empty",
                    file.display()
                );
                *history = History::new(history.capacity);
                return;
            }
        };
        match serde_json::from_str::<Run>(&line) {
            Ok(run) => history.push(run),
            Err(e) => {
                let aside = file.with_extension("corrupt");
                let moved = std::fs::rename(file, &aside);
                eprintln!(
                    "egress serve: {}:{}: not a run ({e}); the history starts empty{}",
                    file.display(),
                    n + 1,
                    match moved {
                        Ok(()) => format!(", and the file is kept as {}", aside.display()),
                        Err(e) => format!(" (it could not be set aside: {e})"),
                    }
                );
                *history = History::new(history.capacity);
                return;
            }
        }
    }
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `interval`, less up to a tenth of it, so that a fleet started together
/// does not probe together.
fn jittered(interval: Duration) -> Duration {
    let nanos = jiff::Timestamp::now().subsec_nanosecond().unsigned_abs();
    let tenth = interval / 10;
    interval - tenth.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

fn critical(report: &Report) -> Vec<String> {
    report
        .features
        .iter()
        .filter(|f| f.status == FeatureStatus::Critical)
        .map(|f| f.id.clone())
        .collect()
}

struct State {
    header: Vec<String>,
    /// The metrics of the last run, in each format.
    classic: Exposition,
    openmetrics: Exposition,
    last: Option<Report>,
    history: History,
    metrics: Metrics,
    next_run: jiff::Timestamp,
    runs: u64,
}

impl State {
    /// Renders the metrics once for every scrape until they change: a
    /// scrape sends these bytes and never waits for an encoder.
    fn expose(&mut self) {
        self.classic = Exposition::new(self.metrics.classic());
        self.openmetrics = Exposition::new(self.metrics.openmetrics());
    }
}

/// One format of the metrics, as sent: plain, and gzip-compressed for the
/// scrapers that accept it (Prometheus asks for gzip on every scrape).
/// Compressed once per run, not once per scrape.
#[derive(Default)]
struct Exposition {
    plain: Bytes,
    gzip: Bytes,
}

impl Exposition {
    fn new(text: String) -> Exposition {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec does not fail.
        let gzip = encoder
            .write_all(text.as_bytes())
            .and_then(|()| encoder.finish())
            .unwrap_or_default();
        Exposition {
            plain: Bytes::from(text),
            gzip: Bytes::from(gzip),
        }
    }

    /// The response: gzip when the request accepts it and compression
    /// worked.
    fn response(&self, headers: &hyper::HeaderMap, kind: &'static str) -> Response<Full<Bytes>> {
        use hyper::header::{CONTENT_ENCODING, HeaderValue, VARY};
        let gzip = accepts_gzip(headers) && !self.gzip.is_empty();
        let body = if gzip { &self.gzip } else { &self.plain };
        let mut r = bytes_with_type(StatusCode::OK, body.clone(), kind);
        if gzip {
            r.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r.headers_mut()
            .insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        r
    }
}

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(headers: &hyper::HeaderMap) -> bool {
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

/// One run, as the history keeps it (and `--state` stores it, a line
/// each). Its pairs are shared with the other runs that hold the same (the
/// history interns them): a full history of failing runs repeats the same
/// endpoints and reasons run after run, and keeps each pair once.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Run {
    /// When it finished (RFC 3339).
    pub finished: String,
    pub duration_seconds: f64,
    /// Each feature's status.
    pub features: Vec<Pair>,
    /// The endpoints that failed, with the reason.
    pub failed: Vec<Pair>,
}

/// Two texts of a run: a feature and its status, or an endpoint and why
/// it failed. Stored as a two-element array.
pub type Pair = Arc<(String, String)>;

impl Run {
    fn of(report: &Report, finished: jiff::Timestamp) -> Run {
        Run {
            finished: finished.to_string(),
            duration_seconds: report.duration.as_secs_f64(),
            features: report
                .features
                .iter()
                .map(|f| Arc::new((f.id.clone(), f.status.as_str().to_owned())))
                .collect(),
            failed: report
                .endpoints
                .iter()
                .filter(|e| e.counts && matches!(e.outcome, Outcome::Failed { .. }))
                .map(|e| {
                    Arc::new((
                        e.url.clone().unwrap_or_else(|| e.row.clone()),
                        e.outcome.reason().to_owned(),
                    ))
                })
                .collect(),
        }
    }
}

/// The last runs, at most `capacity`. When full, the oldest run that
/// neither failed nor changed a feature's status goes first; only when
/// every run did is the oldest dropped.
#[derive(Debug)]
pub struct History {
    capacity: usize,
    runs: VecDeque<(Run, bool)>,
    /// Every pair the runs hold, once.
    pairs: std::collections::HashSet<Pair>,
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(1),
            runs: VecDeque::new(),
            pairs: std::collections::HashSet::new(),
        }
    }

    pub fn push(&mut self, mut run: Run) {
        for pairs in [&mut run.features, &mut run.failed] {
            for pair in pairs.iter_mut() {
                match self.pairs.get(pair) {
                    Some(kept) => *pair = kept.clone(),
                    None => {
                        self.pairs.insert(pair.clone());
                    }
                }
            }
        }
        let changed = self
            .runs
            .back()
            .is_none_or(|(last, _)| last.features != run.features);
        let keep = changed || !run.failed.is_empty();
        self.runs.push_back((run, keep));
        if self.runs.len() > self.capacity {
            match self.runs.iter().position(|(_, keep)| !keep) {
                Some(at) => {
                    self.runs.remove(at);
                }
                None => {
                    self.runs.pop_front();
                }
            }
            // Pairs no run holds any more.
            self.pairs.retain(|p| Arc::strong_count(p) > 1);
        }
    }

    pub fn runs(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().map(|(r, _)| r)
    }
}

async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let limits = crate::http::Limits::new(MAX_HEAD, tokio::sync::Semaphore::MAX_PERMITS);
    crate::http::serve(listener, &limits, crate::http::never(), move |accepted| {
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
    if request.method() != Method::POST {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only POST\n");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return r;
    }
    if !crate::http::from_this_machine(peer) {
        return text(
            StatusCode::FORBIDDEN,
            "a reload is taken from this machine only (loopback)\n",
        );
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
    if crate::http::head_size(request) > MAX_HEAD {
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
            if crate::http::wants_openmetrics(request.headers()) {
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

fn bytes_with_type(status: StatusCode, body: Bytes, kind: &'static str) -> Response<Full<Bytes>> {
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

    fn run(n: usize, status: &str, failed: bool) -> Run {
        Run {
            finished: format!("t{n}"),
            duration_seconds: 0.0,
            features: vec![Arc::new(("f".into(), status.into()))],
            failed: if failed {
                vec![Arc::new(("u".into(), "r".into()))]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn history_keeps_failures_and_changes_longest() {
        let mut h = History::new(3);
        h.push(run(0, "OK", false)); // a change: the first
        h.push(run(1, "OK", false));
        h.push(run(2, "critical", true));
        h.push(run(3, "critical", true));
        let kept: Vec<&str> = h.runs().map(|r| r.finished.as_str()).collect();
        assert_eq!(kept, ["t0", "t2", "t3"]);
        h.push(run(4, "critical", true));
        let kept: Vec<&str> = h.runs().map(|r| r.finished.as_str()).collect();
        assert_eq!(kept, ["t2", "t3", "t4"]);
    }

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

    #[test]
    fn gzip_exposition_is_the_text() {
        use std::io::Read as _;
        let e = Exposition::new("egress_build_info{version=\"1\"} 1\n".repeat(100));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&e.gzip[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text.as_bytes(), &e.plain[..]);
        assert!(e.gzip.len() < e.plain.len() / 10);
    }
}
