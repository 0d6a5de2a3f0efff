//! What the commands that look at the network share: the one place their
//! flags become an `egress_check::Config` (`names` for `--resolve` and
//! `--dns-server`, `config` for those with `--ca-file` and `--timeout`,
//! `route_config` for the check's route options with the proxy), a
//! runtime, loading a PAC file from a path or URL, and the machine a PAC
//! file asks (`PacHost`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::rc::Rc;

use anyhow::{Context as _, bail};
use egress_check::Config;
use egress_check::settings::{self, ProxySources};
use egress_pac::PacHost;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::cli::{NetArgs, ResolveArgs, RouteArgs};

/// A runtime and the options every lookup and fetch uses.
#[derive(Debug)]
pub struct Net {
    pub runtime: tokio::runtime::Runtime,
    pub config: Config,
}

/// `--resolve`'s pins and `--dns-server`'s address, each problem added to
/// `problems`.
pub fn names(
    args: &ResolveArgs,
    problems: &mut Vec<anyhow::Error>,
) -> (Vec<(String, u16, IpAddr)>, Option<SocketAddr>) {
    let pins = args
        .resolve
        .iter()
        .filter_map(|r| {
            settings::resolve(r)
                .map_err(|e| problems.push(e.into()))
                .ok()
        })
        .collect();
    let dns_server = args.dns_server.as_deref().and_then(|d| {
        settings::dns_server(d)
            .map_err(|e| problems.push(e.into()))
            .ok()
    });
    (pins, dns_server)
}

/// The configuration of lookups and fetches from the flags (the check and
/// serve add their proxy and connect deadline), every problem at once.
pub fn config(args: &NetArgs) -> anyhow::Result<Config> {
    let mut problems = Vec::new();
    let timeout = settings::duration(&args.timeout, "--timeout")
        .map_err(|e| problems.push(e.into()))
        .unwrap_or_default();
    let (pins, dns_server) = names(&args.names, &mut problems);
    let mut extra_roots = Vec::new();
    for file in &args.ca_file {
        match certificates(file) {
            Ok(certificates) => extra_roots.extend(certificates),
            Err(e) => problems.push(e),
        }
    }
    if problems.len() == 1 {
        return Err(problems.remove(0));
    }
    if !problems.is_empty() {
        let all: Vec<String> = problems.iter().map(|e| format!("{e:#}")).collect();
        bail!("{}", all.join("\n"));
    }
    Ok(Config {
        connect_timeout: timeout,
        phase_timeout: timeout,
        resolve: pins.into(),
        dns_server,
        extra_roots,
        ..Config::default()
    })
}

/// The configuration and proxy the route options give (deadlines,
/// resolver, CAs, proxy and its authentication), checked before anything
/// is sent; `profile` is the profile's `[proxy]`.
pub fn route_config(
    args: &RouteArgs,
    profile: Option<&egress_catalog::profile::ProxySettings>,
) -> anyhow::Result<(Config, settings::ProxyChoice)> {
    let net = config(&args.net)?;
    let connect_timeout = settings::duration(&args.connect_timeout, "--connect-timeout")?;
    let choice = settings::proxy(
        ProxySources {
            command_line: args.proxy.as_deref(),
            disabled: args.no_proxy,
            profile,
        },
        &|name| std::env::var(name).ok(),
    )?;
    let proxy_auth = egress_check::auth::AuthMode::from(args.proxy_auth);
    let credentials = match &choice.proxy {
        Some((p, _)) => p.credentials.clone(),
        None => settings::environment_credentials(&|name| std::env::var(name).ok()),
    };
    egress_check::auth::validate(proxy_auth, credentials.as_ref())?;
    let config = Config {
        connect_timeout,
        roots_only: args.roots_only,
        proxy: None,
        proxy_auth,
        ..net
    };
    Ok((config, choice))
}

pub fn certificates(file: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}: not a PEM file of certificates", file.display()))?;
    if certs.is_empty() {
        bail!(
            "{}: no certificate in it; expected PEM `BEGIN CERTIFICATE` blocks",
            file.display()
        );
    }
    Ok(certs)
}

impl Net {
    pub fn new(args: &NetArgs) -> anyhow::Result<Net> {
        Net::with_config(config(args)?)
    }

    /// Lookups and fetches with `config` (a check's).
    pub fn with_config(config: Config) -> anyhow::Result<Net> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Net { runtime, config })
    }

    /// A PAC file's name and text, from a path or an `http(s)://` URL
    /// (fetched directly, as Windows fetches it).
    /// The name is the path or URL with any user information as `***`.
    pub fn load_pac(&self, spec: &str) -> anyhow::Result<(String, String)> {
        let shown = egress_winproxy::redact(spec);
        if spec.starts_with("http://") || spec.starts_with("https://") {
            let fetched = self
                .runtime
                .block_on(egress_check::fetch::fetch(spec, &self.config))
                .map_err(|(phase, failure)| {
                    let why = egress_winproxy::redact(&format!("{phase}: {failure}"));
                    anyhow::anyhow!("cannot fetch the PAC file {shown}: {why}")
                })?;
            if fetched.status != 200 {
                bail!(
                    "cannot fetch the PAC file {shown}: the server answered HTTP {}",
                    fetched.status
                );
            }
            Ok((shown, fetched.text))
        } else {
            let bytes =
                std::fs::read(spec).with_context(|| format!("cannot read the PAC file {shown}"))?;
            // Browsers and pacparser run a PAC file with a Latin-1
            // comment: replaced, and said.
            let (text, error) = egress_text::decode_lossy(&bytes);
            if let Some(e) = error {
                eprintln!(
                    "egress: warning: {shown}:{}:{}: {}; read with U+FFFD in its place",
                    e.line, e.column, e.what
                );
            }
            Ok((shown, text.text))
        }
    }
}

/// The machine as a PAC file sees it: names through the check's resolver
/// (each looked up once), and its address (`--client-ip`, else the
/// address this machine's default route leaves from).
#[derive(Debug)]
pub struct NetHost {
    net: Rc<Net>,
    addresses: Vec<IpAddr>,
    cache: RefCell<HashMap<String, Vec<IpAddr>>>,
}

impl NetHost {
    pub fn new(net: Rc<Net>, client_ip: Option<IpAddr>) -> NetHost {
        NetHost {
            net,
            addresses: client_ip.map_or_else(own_addresses, |ip| vec![ip]),
            cache: RefCell::default(),
        }
    }
}

impl PacHost for NetHost {
    fn resolve(&self, host: &str) -> Vec<IpAddr> {
        if let Some(found) = self.cache.borrow().get(host) {
            return found.clone();
        }
        let found = self
            .net
            .runtime
            .block_on(egress_check::fetch::lookup(host, &self.net.config))
            .unwrap_or_default();
        self.cache
            .borrow_mut()
            .insert(host.to_owned(), found.clone());
        found
    }

    fn my_addresses(&self) -> Vec<IpAddr> {
        self.addresses.clone()
    }
}

/// The address outgoing traffic leaves from: a UDP socket connected to a
/// documentation address (RFC 5737) learns its local address without
/// sending anything. Loopback when there is no route.
fn own_addresses() -> Vec<IpAddr> {
    let local = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").and_then(|()| s.local_addr()));
    vec![local.map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip())]
}
