//! `egress serve`: the check on a schedule, and its results over HTTP
//! (docs/serve.md). One scheduler runs the check every interval (the first
//! run at start); the server answers from the last completed run, so a
//! scrape never waits for a check.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use egress_check::metrics::{CatalogInfo, Metrics};
use egress_check::plan::{FeatureStatus, Report, check};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};

mod endpoints;
mod page;
#[cfg(windows)]
mod service;

use egress_check::history::{History, Run};

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
                egress_http::reload_on_hangup("egress serve", || reload(&shared)).await;
            }
        });
        tokio::select! {
            () = endpoints::serve(listener, shared) => {}
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
        s.history.write(w)
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
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(text).lines() {
        match line {
            Ok(l) => lines.push(l),
            Err(e) => {
                eprintln!(
                    "egress serve: {}: {e}; the history starts empty",
                    file.display()
                );
                return;
            }
        }
    }
    let mut read = History::new(history.capacity());
    match read.read(lines) {
        Ok(()) => *history = read,
        Err((line, e)) => {
            let aside = file.with_extension("corrupt");
            let moved = std::fs::rename(file, &aside);
            eprintln!(
                "egress serve: {}:{line}: not a run ({e}); the history starts empty{}",
                file.display(),
                match moved {
                    Ok(()) => format!(", and the file is kept as {}", aside.display()),
                    Err(e) => format!(" (it could not be set aside: {e})"),
                }
            );
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
        let gzip = endpoints::accepts_gzip(headers) && !self.gzip.is_empty();
        let body = if gzip { &self.gzip } else { &self.plain };
        let mut r = endpoints::bytes_with_type(StatusCode::OK, body.clone(), kind);
        if gzip {
            r.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r.headers_mut()
            .insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
