//! `egress proxy`: a forward proxy (CONNECT tunnels and absolute-form
//! plain HTTP) that lets each source reach what its plan allows
//! (docs/proxy.md). The decisions are egress-gate's: the plan through the
//! explain engine, the host and addresses through the SSRF rules. This
//! module does the I/O: listening, resolving, connecting, relaying and
//! the decision log.

use std::borrow::Cow;
use std::convert::Infallible;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use egress_catalog::catalog::Scheme;
use egress_catalog::plan;
use egress_gate::log::{DecisionLine, Logged};
use egress_gate::notice::{AccessLine, Action, Denial, Hierarchy};
use egress_gate::{AddressRules, Ask, Decision, Gate, Plans, ServerPlan, Target, parse_host};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::Exit;
use crate::cli::{ProxyArgs, ProxyMode, Select};
use crate::context;
use config::{CONNECT_TIMEOUT, ProxyConfig};

mod clients;
mod config;
mod metrics;

type Body = BoxBody<Bytes, hyper::Error>;

/// Request heads are limited to this many bytes (then 431).
const MAX_HEAD: usize = 32 * 1024;
/// A tunnel's buffer each way while data flows: bulk transfers move in
/// few, large reads and writes.
const RELAY_BUFFER: usize = 256 * 1024;
/// A tunnel's buffer each way while it waits: idle tunnels (thousands of
/// them: notification channels) hold this much, not `RELAY_BUFFER`.
const IDLE_BUFFER: usize = 2 * 1024;
/// A plain-HTTP request body through `--parent` is read whole, up to this.
const MAX_PARENT_BODY: usize = 16 * 1024 * 1024;

pub fn run(args: &ProxyArgs) -> anyhow::Result<Exit> {
    // The catalog and profile first: their errors are the likeliest.
    let policy = load_policy(args)?;
    let config = ProxyConfig::parse(args)?;
    // What the proxy cannot hold exactly, first.
    for notice in egress_gate::notice::notices(policy.gate.plans(), config.idle_timeout) {
        eprintln!("egress proxy: {notice}");
    }
    let summary = summary(&policy, config.mode, config.parent.as_ref());
    if config.test_config {
        println!("{summary}");
        println!("configuration OK");
        return Ok(Exit::Success);
    }

    let log: Option<Box<dyn Write + Send>> = match config.decision_log.as_deref() {
        None => None,
        Some("-") => Some(Box::new(std::io::stdout())),
        Some(path) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the decision log {path}"))?,
        )),
    };
    let access_log = match &config.access_log {
        None => None,
        Some(path) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the access log {}", path.display()))?,
        )),
    };
    // One thread, like Squid's one worker: tunnels are I/O-bound, and a
    // request and its tunnel never hop between threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(config.listen))
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let own = listener.local_addr().unwrap_or(config.listen);
    let shared = Arc::new(Shared {
        policy: RwLock::new(Arc::new(policy)),
        args: args.clone(),
        rules: AddressRules {
            allow: config.allow.clone(),
            own: vec![own],
        },
        resolver: config.resolver.clone(),
        parent: config.parent.clone(),
        mode: config.mode,
        log: log.map(Mutex::new),
        access_log,
        idle_timeout: config.idle_timeout,
        max_tunnels_per_source: config.max_tunnels_per_source,
        tunnels: Mutex::new(std::collections::HashMap::new()),
        metrics: metrics::ProxyMetrics::new(),
        origins: origins(),
    });
    let admin = match config.admin_listen {
        None => None,
        Some(address) => Some(
            runtime
                .block_on(tokio::net::TcpListener::bind(address))
                .with_context(|| format!("cannot listen on {address} (--admin-listen)"))?,
        ),
    };
    let limits = egress_http::Limits {
        head_timeout: config.header_timeout,
        ..egress_http::Limits::new(MAX_HEAD, config.max_connections as usize)
    };
    eprintln!("egress proxy: listening on {own}; {summary}");
    runtime.block_on(async {
        if let Some(admin) = admin {
            tokio::spawn(serve_admin(admin, shared.clone()));
        }
        #[cfg(unix)]
        tokio::spawn({
            let shared = shared.clone();
            async move {
                egress_http::reload_on_hangup("egress proxy", || reload(&shared)).await;
            }
        });
        let (stop, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(accept(listener, shared.clone(), limits.clone(), stopping));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated() => {}
        }
        drain(&limits, config.max_connections, config.drain_timeout, stop).await;
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    eprintln!("egress proxy: stopped");
    Ok(Exit::Success)
}

/// Stops accepting, lets every connection end after its current response
/// and every tunnel run until it ends, for at most `timeout`; a second
/// signal ends it at once.
async fn drain(
    limits: &egress_http::Limits,
    max_connections: u32,
    timeout: Duration,
    stop: tokio::sync::watch::Sender<bool>,
) {
    let _ = stop.send(true);
    let open =
        |l: &egress_http::Limits| max_connections as usize - l.connections.available_permits();
    eprintln!(
        "egress proxy: draining: no new connections; {} open (tunnels run until they end, at most --drain-timeout {})",
        open(limits),
        humantime::format_duration(timeout)
    );
    let all_ended = limits.connections.acquire_many(max_connections);
    tokio::select! {
        r = tokio::time::timeout(timeout, all_ended) => match r {
            Ok(_) => eprintln!("egress proxy: drained"),
            Err(_) => eprintln!(
                "egress proxy: --drain-timeout reached; closing {} connections",
                open(limits)
            ),
        },
        _ = tokio::signal::ctrl_c() => eprintln!("egress proxy: stopping now"),
        () = terminated() => eprintln!("egress proxy: stopping now"),
    }
}

/// What a reload replaces: the plans from the catalog and the profile,
/// and the profile's clients.
struct Policy {
    gate: Gate,
    clients: Arc<clients::Clients>,
}

/// Reads the catalog and the profile, and builds the plan of each server
/// of the profile and of other sources.
fn load_policy(args: &ProxyArgs) -> anyhow::Result<Policy> {
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let servers = loaded
        .profile
        .as_ref()
        .map(|p| p.servers.clone())
        .unwrap_or_default();
    let plan_of = |select: &Select| {
        let request = context::request(&loaded, select, args.cloud);
        Arc::new(plan::resolve(&loaded.catalog, &request))
    };
    let plans = Plans {
        default: (servers.is_empty() || !args.select.roles.is_empty()).then(|| {
            let request = context::request(&loaded, &args.select, args.cloud);
            (display_roles(&request.roles), plan_of(&args.select))
        }),
        servers: servers
            .iter()
            .map(|s| {
                let select = Select {
                    roles: s.roles.iter().map(|r| r.value.clone()).collect(),
                    ..args.select.clone()
                };
                ServerPlan {
                    name: s.name.to_string(),
                    addresses: s.addresses.clone(),
                    plan: plan_of(&select),
                    roles: select.roles,
                }
            })
            .collect(),
        catalog: Arc::new(loaded.catalog.clone()),
    };
    let clients = loaded
        .profile
        .as_ref()
        .map_or(&[][..], |p| &p.proxy_clients[..]);
    let clients = clients::Clients::new(clients).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Policy {
        gate: Gate::new(plans),
        clients: Arc::new(clients),
    })
}

/// Reads the catalog and the profile again and, when they are good,
/// applies the new plans to every request from now on; open tunnels go
/// on. Returns the new summary, or why the old configuration stays.
async fn reload(shared: &Arc<Shared>) -> Result<String, String> {
    let args = shared.args.clone();
    let loaded = tokio::task::spawn_blocking(move || load_policy(&args))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .and_then(|r| r);
    let policy = match loaded {
        Ok(policy) => policy,
        Err(e) => {
            shared.metrics.reloaded(false);
            return Err(crate::report::error_text(&e));
        }
    };
    for notice in egress_gate::notice::notices(policy.gate.plans(), shared.idle_timeout) {
        eprintln!("egress proxy: {notice}");
    }
    let summary = summary(&policy, shared.mode, shared.parent.as_ref());
    *shared.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
    shared.metrics.reloaded(true);
    Ok(summary)
}

#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}

fn display_roles(roles: &[String]) -> Vec<String> {
    if roles.is_empty() {
        vec!["all".to_owned()]
    } else {
        roles.to_vec()
    }
}

/// One line on what is enforced, for the start and `--test-config`.
fn summary(policy: &Policy, mode: ProxyMode, parent: Option<&egress_check::Config>) -> String {
    let plans = policy.gate.plans();
    let mode = match mode {
        ProxyMode::Report => "report mode (nothing is denied by the plan; would_deny is logged)",
        ProxyMode::Enforce => "enforce mode",
    };
    let default = match &plans.default {
        Some((roles, plan)) => format!(
            "other sources: roles {} ({} rows)",
            roles.join(", "),
            plan.rows.len()
        ),
        None => "other sources: no plan (denied)".to_owned(),
    };
    // The parent's host and port only: its URL may hold a password.
    let route = match parent.and_then(|c| c.proxy.as_ref()) {
        Some(p) => format!(
            "through the parent proxy {}:{} (it resolves the targets)",
            p.host, p.port
        ),
        None => "direct".to_owned(),
    };
    let clients = match policy.clients.users() {
        0 => "clients do not authenticate".to_owned(),
        n => format!("clients authenticate (Basic, {n} users)"),
    };
    format!(
        "{mode}; catalog {} revision {}; {} servers from the profile; {default}; {clients}; {route}",
        plans.catalog.meta.id,
        plans.catalog.meta.revision,
        plans.servers.len()
    )
}

struct Shared {
    /// Replaced whole by a reload; a request uses the one it started with.
    policy: RwLock<Arc<Policy>>,
    /// What a reload reads again.
    args: ProxyArgs,
    rules: AddressRules,
    /// How egress resolves targets (without `--parent`): `--resolve`
    /// pins, `--dns-server`, or the system's resolver.
    resolver: egress_check::Config,
    /// `--parent`: the check's configuration for it (proxy and
    /// authentication).
    parent: Option<egress_check::Config>,
    mode: ProxyMode,
    /// `--decision-log`.
    log: Option<Mutex<Box<dyn Write + Send>>>,
    /// `--access-log`: Squid's native format.
    access_log: Option<Mutex<std::fs::File>>,
    idle_timeout: Duration,
    max_tunnels_per_source: u32,
    metrics: metrics::ProxyMetrics,
    /// Plain-HTTP connections to origins, kept alive.
    origins: Origins,
    /// Open tunnels, per source.
    tunnels: Mutex<std::collections::HashMap<IpAddr, u32>>,
}

/// One open tunnel of a source, counted until it is dropped.
struct TunnelSlot {
    shared: Arc<Shared>,
    source: IpAddr,
}

impl Shared {
    fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A tunnel for `source`, unless it holds `--max-tunnels-per-source`.
    fn open_tunnel(self: &Arc<Shared>, source: IpAddr) -> Option<TunnelSlot> {
        let mut tunnels = self.tunnels.lock().unwrap_or_else(|e| e.into_inner());
        let open = tunnels.entry(source).or_insert(0);
        if *open >= self.max_tunnels_per_source {
            return None;
        }
        *open += 1;
        self.metrics.open_tunnels.inc();
        Some(TunnelSlot {
            shared: self.clone(),
            source,
        })
    }
}

impl Drop for TunnelSlot {
    fn drop(&mut self) {
        self.shared.metrics.open_tunnels.dec();
        let mut tunnels = self
            .shared
            .tunnels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(open) = tunnels.get_mut(&self.source) {
            *open -= 1;
            if *open == 0 {
                tunnels.remove(&self.source);
            }
        }
    }
}

async fn accept(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    limits: egress_http::Limits,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    egress_http::serve(listener, &limits, stop, move |accepted| {
        let shared = shared.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let shared = shared.clone();
            let accepted = accepted.clone();
            async move {
                let connect = request.method() == Method::CONNECT;
                let mut answer = handle(request, accepted, shared).await;
                // A refused CONNECT ends its connection: what the client
                // sends next (eagerly, a TLS hello) is not a request.
                if connect && answer.status() != StatusCode::OK {
                    answer
                        .headers_mut()
                        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(answer)
            }
        })
    })
    .await
}

/// `--admin-listen`: `GET /metrics` (the classic text format, or
/// OpenMetrics when `Accept` asks), `GET /healthz`, `POST /-/reload`
/// (from this machine only).
async fn serve_admin(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let limits = egress_http::Limits::new(MAX_HEAD, tokio::sync::Semaphore::MAX_PERMITS);
    egress_http::serve(listener, &limits, egress_http::never(), move |accepted| {
        let shared = shared.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let shared = shared.clone();
            let peer = accepted.peer;
            async move {
                if request.uri().path() == "/-/reload" {
                    return Ok::<_, Infallible>(reload_request(&request, &shared, peer).await);
                }
                Ok::<_, Infallible>(admin_answer(&request, &shared))
            }
        })
    })
    .await
}

async fn reload_request(
    request: &Request<Incoming>,
    shared: &Arc<Shared>,
    peer: SocketAddr,
) -> Response<Body> {
    if let Some(refused) = egress_http::reload_refused(request, peer) {
        return refused.map(|b| b.map_err(|never| match never {}).boxed());
    }
    match reload(shared).await {
        Ok(summary) => {
            eprintln!("egress proxy: reloaded (POST /-/reload); {summary}");
            text(StatusCode::OK, &format!("reloaded; {summary}\n"))
        }
        Err(e) => {
            eprint!("egress proxy: the reload failed; the running configuration stays:\n{e}");
            text(
                StatusCode::BAD_REQUEST,
                &format!("the reload failed; the running configuration stays:\n{e}"),
            )
        }
    }
}

fn admin_answer(request: &Request<Incoming>, shared: &Shared) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    match request.uri().path() {
        "/metrics" => {
            let open = egress_http::wants_openmetrics(request.headers());
            let kind = if open {
                egress_check::metrics::OPENMETRICS
            } else {
                egress_check::metrics::CLASSIC
            };
            let mut r = text(StatusCode::OK, &shared.metrics.expose(open));
            r.headers_mut()
                .insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(kind));
            r
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: the admin listener answers /metrics and /healthz\n",
        ),
    }
}

/// What happened to a request, for the log.
struct Outcome<'a> {
    source: IpAddr,
    /// The client's user, when clients authenticate.
    user: Option<String>,
    method: &'a str,
    target: Option<&'a Target>,
    raw_host: &'a str,
    port: u16,
    path: Option<&'a str>,
    decision: Option<&'a Decision>,
    /// Set when the request was denied: why.
    denied: Option<String>,
    upstream: Option<SocketAddr>,
    /// The time to connect upstream.
    connect: Option<Duration>,
    error: Option<String>,
    /// The status the client got, when not 403 (denied), 502 (error) or
    /// 200 (a tunnel).
    status: Option<u16>,
    bytes: Option<(u64, u64)>,
    started: Instant,
}

impl Outcome<'_> {
    /// The status the client got.
    fn status(&self) -> u16 {
        self.status.unwrap_or(if self.denied.is_some() {
            403
        } else if self.error.is_some() {
            502
        } else {
            200
        })
    }
}

impl Shared {
    /// Denies the request for `why` (403): logs it and answers in text,
    /// or in JSON when the client asked for it.
    fn refuse(&self, o: &mut Outcome<'_>, why: String, json: bool) -> Response<Body> {
        o.denied = Some(why);
        self.log(o);
        denial(o, json)
    }

    fn log(&self, o: &Outcome<'_>) {
        let would_deny = o.denied.is_none() && o.decision.is_some_and(|d| !d.allowed);
        let empty: &[String] = &[];
        let roles = o.decision.map_or(empty, |d| &d.roles);
        let decision = if o.denied.is_some() {
            "deny"
        } else if o.error.is_some() {
            "error"
        } else if would_deny {
            "would_deny"
        } else {
            "allow"
        };
        let kind = if o.method == "CONNECT" {
            "tunnel"
        } else {
            "http"
        };
        self.metrics.request(kind, decision, roles);
        if let Some((up, down)) = o.bytes {
            self.metrics.tunnel_bytes(up, down);
        }
        if self.log.is_none() && self.access_log.is_none() {
            return;
        }
        let host = o
            .target
            .map_or_else(|| o.raw_host.to_owned(), |t| t.host.to_string());
        if let Some(log) = &self.log {
            let line = DecisionLine {
                time: jiff::Timestamp::now().to_string().into(),
                source: o.source,
                user: o.user.as_deref().map(Cow::Borrowed),
                method: Cow::Borrowed(o.method),
                host: Cow::Borrowed(&host),
                written: o
                    .target
                    .and_then(|t| t.written.as_deref())
                    .map(Cow::Borrowed),
                port: o.port,
                path: o.path.map(Cow::Borrowed),
                decision: if o.denied.is_some() {
                    Logged::Deny
                } else {
                    Logged::Allow
                },
                status: Some(o.status()),
                would_deny,
                reason: Cow::Borrowed(match (&o.denied, o.decision) {
                    (Some(why), _) => why,
                    (None, Some(d)) => &d.reason,
                    (None, None) => "",
                }),
                near_miss: o
                    .decision
                    .and_then(|d| d.near_miss.as_deref())
                    .map(Cow::Borrowed),
                roles: Cow::Borrowed(roles),
                servers: Cow::Borrowed(o.decision.map_or(empty, |d| &d.servers)),
                rows: Cow::Borrowed(o.decision.map_or(empty, |d| &d.rows)),
                endpoints: Cow::Borrowed(o.decision.map_or(empty, |d| &d.endpoints)),
                features: Cow::Borrowed(o.decision.map_or(empty, |d| &d.features)),
                upstream: o.upstream,
                connect_ms: o.connect.map(|d| d.as_secs_f64() * 1000.0),
                error: o.error.as_deref().map(Cow::Borrowed),
                bytes_up: o.bytes.map(|b| b.0),
                bytes_down: o.bytes.map(|b| b.1),
                duration_ms: u64::try_from(o.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            };
            if let Ok(text) = serde_json::to_string(&line) {
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                let _ = writeln!(log, "{text}");
                let _ = log.flush();
            }
        }
        if let Some(access) = &self.access_log {
            let text = self.squid_line(o, &host);
            let mut access = access.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(access, "{text}");
            let _ = access.flush();
        }
    }

    /// The request as Squid's native access.log format writes it.
    fn squid_line(&self, o: &Outcome<'_>, host: &str) -> String {
        let action = match (o.denied.is_some(), o.error.is_some(), o.method) {
            (true, _, _) => Action::Denied,
            (_, true, _) => Action::Aborted,
            (_, _, "CONNECT") => Action::Tunnel,
            _ => Action::Miss,
        };
        let hierarchy = match (&self.parent, o.upstream) {
            _ if o.denied.is_some() => Hierarchy::None,
            (Some(parent), _) => match &parent.proxy {
                Some(p) => Hierarchy::Parent(&p.host),
                None => Hierarchy::None,
            },
            (None, Some(upstream)) => Hierarchy::Direct(upstream.ip()),
            (None, None) => Hierarchy::None,
        };
        AccessLine {
            at: jiff::Timestamp::now(),
            elapsed: o.started.elapsed(),
            client: o.source,
            action,
            status: o.status(),
            // Squid's `%<st`: the bytes sent to the client.
            bytes: o.bytes.map_or(0, |(_, down)| down),
            method: o.method,
            host,
            port: o.port,
            path: o.path,
            user: o.user.as_deref(),
            hierarchy,
        }
        .to_string()
    }

    /// The addresses for `target`, in order: an IP literal's own, a
    /// `--resolve` pin, or DNS; each judged by the SSRF rules.
    async fn addresses(
        &self,
        target: &Target,
        port: u16,
        intranet: bool,
    ) -> Result<Vec<SocketAddr>, Unreachable> {
        let answer: Vec<SocketAddr> = match (target.address(), target.host.as_name()) {
            (Some(ip), _) => vec![SocketAddr::new(ip, port)],
            (None, Some(name)) => egress_check::resolve_host(name, port, &self.resolver)
                .await
                .map_err(|e| Unreachable::Dns(format!("DNS: {name}: {e}")))?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
            (None, None) => Vec::new(),
        };
        let (allowed, denied) = self.rules.partition(&answer, intranet);
        if allowed.is_empty() {
            let reasons: Vec<String> = denied.iter().map(ToString::to_string).collect();
            return Err(if reasons.is_empty() {
                Unreachable::Dns(format!("DNS: no address for {}", target.host))
            } else {
                Unreachable::Denied(reasons.join("; "))
            });
        }
        Ok(allowed)
    }
}

/// Why a request has no address to go to.
enum Unreachable {
    /// The SSRF rules deny every address: 403.
    Denied(String),
    /// DNS gave none: 502.
    Dns(String),
}

/// Connects to the first address that answers, in order.
async fn connect(addresses: &[SocketAddr]) -> Result<(tokio::net::TcpStream, SocketAddr), String> {
    let mut last = String::new();
    for &to in addresses {
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(to)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, to));
            }
            Ok(Err(e)) => last = format!("connect to {to}: {e}"),
            Err(_) => last = format!("connect to {to}: timed out"),
        }
    }
    Err(last)
}

async fn handle(
    request: Request<Incoming>,
    accepted: egress_http::Accepted,
    shared: Arc<Shared>,
) -> Response<Body> {
    let started = Instant::now();
    if egress_http::head_size(&request) > MAX_HEAD {
        return text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request head is over 32 KiB\n",
        );
    }
    let source = accepted.peer.ip().to_canonical();
    let json = wants_json(request.headers());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let (scheme, authority) = if method == Method::CONNECT {
        (Scheme::Https, uri.authority().cloned())
    } else {
        match uri.scheme_str() {
            Some("http") => (Scheme::Http, uri.authority().cloned()),
            Some(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "egress proxy forwards plain HTTP in absolute form (http://...) and HTTPS through CONNECT\n",
                );
            }
            None => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "egress proxy is a forward proxy: send CONNECT host:port, or an absolute-form request (GET http://host/path)\n",
                );
            }
        }
    };
    let Some(authority) = authority else {
        return text(StatusCode::BAD_REQUEST, "the request names no host\n");
    };
    let port = match (authority.port_u16(), scheme) {
        (Some(p), _) => p,
        (None, Scheme::Http) => 80,
        (None, Scheme::Https) => {
            return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port\n");
        }
    };
    let path = (scheme == Scheme::Http).then(|| uri.path_and_query().map_or("/", |p| p.as_str()));
    let raw_host = authority.host();
    let mut outcome = Outcome {
        source,
        user: None,
        method: method.as_str(),
        target: None,
        raw_host,
        port,
        path,
        decision: None,
        denied: None,
        upstream: None,
        connect: None,
        error: None,
        status: None,
        bytes: None,
        started,
    };
    let policy = shared.policy();
    if policy.clients.users() > 0 {
        let header = request
            .headers()
            .get(hyper::header::PROXY_AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        match policy.clients.check(header).await {
            Ok(user) => outcome.user = Some(user),
            Err(why) => {
                outcome.denied = Some(why.as_str().to_owned());
                outcome.status = Some(407);
                shared.log(&outcome);
                let mut r = text(
                    StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                    &format!("{}\n", why.as_str()),
                );
                r.headers_mut().insert(
                    hyper::header::PROXY_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"egress proxy\""),
                );
                return r;
            }
        }
    }
    let target = match parse_host(raw_host) {
        Ok(t) => t,
        Err(e) => {
            return shared.refuse(&mut outcome, e.to_string(), json);
        }
    };
    let decision = policy.gate.decide(&Ask {
        source,
        scheme,
        target: &target,
        port,
        path,
    });
    outcome.target = Some(&target);
    outcome.decision = Some(&decision);
    if !decision.allowed && shared.mode == ProxyMode::Enforce {
        return shared.refuse(&mut outcome, decision.reason.clone(), json);
    }
    let slot = if scheme == Scheme::Https {
        match shared.open_tunnel(source) {
            Some(slot) => Some(Slot {
                _tunnel: slot,
                _connection: accepted.permit,
            }),
            None => {
                let why = format!(
                    "{source} holds --max-tunnels-per-source {} tunnels already",
                    shared.max_tunnels_per_source
                );
                outcome.denied = Some(why.clone());
                outcome.status = Some(429);
                shared.log(&outcome);
                return text(StatusCode::TOO_MANY_REQUESTS, &format!("{why}\n"));
            }
        }
    } else {
        None
    };
    if scheme == Scheme::Http && request.headers().contains_key(hyper::header::UPGRADE) {
        let why = "Upgrade on plain HTTP is not forwarded: a protocol switch would leave the proxy's view";
        return shared.refuse(&mut outcome, why.to_owned(), json);
    }
    if let Some(parent) = &shared.parent {
        // The parent resolves names: only an IP literal's address is
        // known here, and judged.
        if let Some(ip) = target.address()
            && let Err(why) = shared
                .rules
                .judge(SocketAddr::new(ip, port), decision.intranet)
        {
            return shared.refuse(&mut outcome, why.to_string(), json);
        }
        return via_parent(request, &authority, parent, &shared, outcome, slot).await;
    }
    let addresses = match shared.addresses(&target, port, decision.intranet).await {
        Ok(a) => a,
        Err(Unreachable::Denied(why)) => return shared.refuse(&mut outcome, why, json),
        Err(Unreachable::Dns(why)) => {
            let answer = text(StatusCode::BAD_GATEWAY, &format!("{why}\n"));
            outcome.error = Some(why);
            shared.log(&outcome);
            return answer;
        }
    };
    if scheme == Scheme::Http {
        let response = match forward(&shared.origins, request, &addresses, &authority).await {
            Ok((response, upstream)) => {
                outcome.upstream = Some(upstream);
                response
            }
            Err(why) => {
                let answer = text(StatusCode::BAD_GATEWAY, &format!("{why}\n"));
                outcome.error = Some(why);
                answer
            }
        };
        outcome.status = Some(response.status().as_u16());
        shared.log(&outcome);
        return response;
    }
    let connecting = Instant::now();
    let (stream, upstream) = match connect(&addresses).await {
        Ok(s) => {
            outcome.connect = Some(connecting.elapsed());
            shared.metrics.connected(connecting.elapsed().as_secs_f64());
            s
        }
        Err(why) => {
            let answer = text(StatusCode::BAD_GATEWAY, &format!("{why}\n"));
            outcome.error = Some(why);
            shared.log(&outcome);
            return answer;
        }
    };
    outcome.upstream = Some(upstream);
    let slot = slot.expect("a CONNECT has a slot");
    tunnel(
        request,
        stream,
        shared.clone(),
        owned_outcome(&outcome),
        slot,
    )
}

/// Answers 200 to the CONNECT and relays bytes both ways once hyper
/// hands over the connection; the log line is written when it closes.
fn tunnel<S>(
    request: Request<Incoming>,
    upstream: S,
    shared: Arc<Shared>,
    o: OwnedOutcome,
    slot: Slot,
) -> Response<Body>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let bytes = match hyper::upgrade::on(request).await {
            Ok(upgraded) => {
                let activity = Activity::new();
                let client = hyper_util::rt::TokioIo::new(upgraded);
                let (client_read, client_write) = tokio::io::split(client);
                let (upstream_read, upstream_write) = tokio::io::split(upstream);
                // Until both sides have ended, one fails (a reset at the
                // end is how many TLS clients close), or the tunnel idles
                // out; the bytes moved count either way.
                tokio::select! {
                    _ = async {
                        tokio::try_join!(
                            pump(client_read, upstream_write, &activity, true),
                            pump(upstream_read, client_write, &activity, false)
                        )
                    } => {}
                    () = activity.idle(shared.idle_timeout) => {}
                }
                Some((activity.up.load(Relaxed), activity.down.load(Relaxed)))
            }
            Err(_) => None,
        };
        drop(slot);
        shared.log(&Outcome {
            source: o.source,
            user: o.user,
            method: "CONNECT",
            target: Some(&o.target),
            raw_host: "",
            port: o.port,
            path: None,
            decision: Some(&o.decision),
            denied: None,
            upstream: o.upstream,
            connect: o.connect,
            error: None,
            status: None,
            bytes,
            started: o.started,
        });
    });
    Response::new(empty())
}

/// Copies `from` to `to` until `from` ends, then ends `to`'s sending side,
/// counting the bytes in `activity`. It waits with an `IDLE_BUFFER`; a
/// read that fills it starts a burst, read with a `RELAY_BUFFER` until a
/// read brings less than an `IDLE_BUFFER` again: an idle tunnel holds
/// little memory, a busy one moves data in large reads.
async fn pump<R, W>(mut from: R, mut to: W, activity: &Activity, up: bool) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut idle = [0u8; IDLE_BUFFER];
    let mut burst: Option<Vec<u8>> = None;
    loop {
        let buffer: &mut [u8] = match burst.as_mut() {
            Some(b) => b,
            None => &mut idle,
        };
        let n = from.read(buffer).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        activity.moved(up, n);
        to.write_all(&buffer[..n]).await?;
        if burst.is_none() && n == IDLE_BUFFER {
            burst = Some(vec![0; RELAY_BUFFER]);
        } else if n < IDLE_BUFFER {
            burst = None;
        }
    }
}

/// What a tunnel moved, and when it last moved a byte either way.
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last byte.
    last: AtomicU64,
    /// Bytes from the client.
    up: AtomicU64,
    /// Bytes to the client.
    down: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
        }
    }

    fn moved(&self, up: bool, n: usize) {
        self.last
            .store(self.start.elapsed().as_millis() as u64, Relaxed);
        let count = if up { &self.up } else { &self.down };
        count.fetch_add(n as u64, Relaxed);
    }

    /// Returns once nothing has moved for `timeout`.
    async fn idle(&self, timeout: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Relaxed));
            let idle = self.start.elapsed().saturating_sub(last);
            if idle >= timeout {
                return;
            }
            tokio::time::sleep(timeout - idle).await;
        }
    }
}

/// What an open tunnel holds: its place in the source's count and in the
/// connection limit.
struct Slot {
    _tunnel: TunnelSlot,
    _connection: Arc<tokio::sync::OwnedSemaphorePermit>,
}

/// An allowed request through `--parent`: a tunnel through the parent's
/// CONNECT, or a plain-HTTP request in absolute form, authenticated by
/// the check's code. The parent's refusal (a 407 it would not accept, a
/// 403) reaches the client as 502 with the parent's reason.
async fn via_parent(
    request: Request<Incoming>,
    authority: &hyper::http::uri::Authority,
    parent: &egress_check::Config,
    shared: &Arc<Shared>,
    mut outcome: Outcome<'_>,
    slot: Option<Slot>,
) -> Response<Body> {
    let failed = |outcome: &mut Outcome<'_>, why: String| {
        let answer = text(StatusCode::BAD_GATEWAY, &format!("parent proxy: {why}\n"));
        outcome.error = Some(format!("parent proxy: {why}"));
        shared.log(outcome);
        answer
    };
    if request.method() == Method::CONNECT {
        let host = outcome
            .target
            .map_or_else(String::new, |t| t.host.to_string());
        let connecting = Instant::now();
        let through = egress_check::tunnel_via_parent(&host, outcome.port, parent).await;
        if through.is_ok() {
            outcome.connect = Some(connecting.elapsed());
            shared.metrics.connected(connecting.elapsed().as_secs_f64());
        }
        return match through {
            Ok(upstream) => match slot {
                Some(slot) => tunnel(
                    request,
                    upstream,
                    shared.clone(),
                    owned_outcome(&outcome),
                    slot,
                ),
                None => failed(&mut outcome, "no tunnel slot".to_owned()),
            },
            Err(e) => failed(&mut outcome, e.to_string()),
        };
    }
    // The body is read whole: an authentication handshake with the
    // parent (NTLM) sends the request more than once.
    let (mut parts, body) = request.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_PARENT_BODY)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let why = if too_large {
                format!(
                    "a request body through --parent is read whole first, and this one is over {} MiB",
                    MAX_PARENT_BODY >> 20
                )
            } else {
                format!("the client's request body: {e}")
            };
            outcome.error = Some(why.clone());
            outcome.status = Some(if too_large { 413 } else { 400 });
            shared.log(&outcome);
            let status = if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return text(status, &format!("{why}\n"));
        }
    };
    to_origin(&mut parts.headers, authority);
    // hyper frames the whole body by its length.
    parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    parts.headers.remove(hyper::header::CONTENT_LENGTH);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = format!("http://{}{path}", host_and_port(authority));
    match egress_check::forward_via_parent(parts.method, &uri, &parts.headers, body, parent).await {
        Ok(response) => {
            outcome.status = Some(response.status().as_u16());
            shared.log(&outcome);
            to_client(response)
        }
        Err(e) => failed(&mut outcome, e.to_string()),
    }
}

/// Origins' plain-HTTP connections, kept alive between requests and
/// shared by clients (hyper-util's pool). The pool is keyed by the
/// address judged: requests name the origin by that address and set
/// `Host` to the name, so a connection never goes anywhere unjudged.
type Origins =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Body>;

fn origins() -> Origins {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector)
}

/// Forwards one absolute-form request to the origin at the first of
/// `addresses` that takes a connection (a request with a body goes to
/// the first only: its body cannot be sent twice), in origin form,
/// without hop-by-hop headers and proxy credentials. The answer, and the
/// address that gave it.
async fn forward(
    origins: &Origins,
    request: Request<Incoming>,
    addresses: &[SocketAddr],
    authority: &hyper::http::uri::Authority,
) -> Result<(Response<Body>, SocketAddr), String> {
    use hyper::body::Body as _;
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    to_origin(&mut parts.headers, authority);
    let bodiless = body.is_end_stream();
    let mut body = Some(body.boxed());
    let mut last = String::new();
    for &to in addresses {
        let Some(this) = body.take().or_else(|| bodiless.then(empty)) else {
            break;
        };
        let mut attempt = Request::from_parts(parts.clone(), this);
        *attempt.uri_mut() = format!("http://{to}{path}")
            .parse()
            .map_err(|_| "the request's path is not valid".to_owned())?;
        match origins.request(attempt).await {
            Ok(response) => return Ok((to_client(response), to)),
            Err(e) if e.is_connect() => last = format!("connect to {to}: {}", error_chain(&e)),
            Err(e) => return Err(format!("upstream {to}: {}", error_chain(&e))),
        }
    }
    Err(last)
}

/// An error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A request's headers as the origin (or the parent) gets them: without
/// hop-by-hop headers and the client's proxy credentials, `Host` from the
/// request target, `Via` added.
fn to_origin(headers: &mut HeaderMap, authority: &hyper::http::uri::Authority) {
    strip_hop_by_hop(headers);
    if let Ok(host) = HeaderValue::from_str(&host_and_port(authority)) {
        headers.insert(hyper::header::HOST, host);
    }
    headers.append(hyper::header::VIA, HeaderValue::from_static("1.1 egress"));
}

/// `host[:port]` of a request target, without the user information an
/// absolute-form URL may carry (`http://user:password@host/`), which
/// never goes on.
fn host_and_port(authority: &hyper::http::uri::Authority) -> String {
    match authority.port_u16() {
        Some(port) => format!("{}:{port}", authority.host()),
        None => authority.host().to_owned(),
    }
}

/// An origin's answer as the client gets it: without hop-by-hop headers,
/// `Via` added.
fn to_client(response: Response<Incoming>) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts
        .headers
        .append(hyper::header::VIA, HeaderValue::from_static("1.1 egress"));
    Response::from_parts(parts, body.boxed())
}

/// Removes the headers that concern one connection only (RFC 9110, 7.6.1),
/// those the `Connection` header names, and the proxy's credentials.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

/// A log line's fields, owned, for a tunnel that outlives the request.
struct OwnedOutcome {
    source: IpAddr,
    user: Option<String>,
    connect: Option<Duration>,
    target: Target,
    port: u16,
    decision: Decision,
    upstream: Option<SocketAddr>,
    started: Instant,
}

fn owned_outcome(o: &Outcome<'_>) -> OwnedOutcome {
    OwnedOutcome {
        source: o.source,
        user: o.user.clone(),
        connect: o.connect,
        target: o.target.cloned().expect("a tunnel has a target"),
        port: o.port,
        decision: o.decision.cloned().expect("a tunnel has a decision"),
        upstream: o.upstream,
        started: o.started,
    }
}

fn denial(o: &Outcome<'_>, json: bool) -> Response<Body> {
    let d = Denial {
        decision: "deny",
        host: o
            .target
            .map_or_else(|| o.raw_host.to_owned(), |t| t.to_string()),
        port: o.port,
        path: o.path,
        roles: o.decision.map_or(&[], |d| &d.roles),
        reason: o.denied.as_deref().unwrap_or_default(),
        near_miss: o.decision.and_then(|d| d.near_miss.as_deref()),
    };
    if json {
        let mut r = text(
            StatusCode::FORBIDDEN,
            &serde_json::to_string_pretty(&d).unwrap_or_default(),
        );
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return r;
    }
    text(StatusCode::FORBIDDEN, &d.text())
}

/// Whether `Accept` prefers JSON to text.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(hyper::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}

fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(body.to_owned()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
