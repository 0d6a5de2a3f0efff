//! What the commands that look at the network share beyond the check:
//! a runtime, the resolver and TLS options (`--resolve`, `--dns-server`,
//! `--ca-file`, `--timeout`), loading a PAC file from a path or URL, and the
//! machine a PAC file asks (`PacHost`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;

use anyhow::{Context as _, bail};
use egress_check::Config;
use egress_check::settings;
use egress_pac::PacHost;

use crate::cli::NetArgs;

/// A runtime and the options every lookup and fetch uses.
#[derive(Debug)]
pub struct Net {
    pub runtime: tokio::runtime::Runtime,
    pub config: Config,
}

impl Net {
    pub fn new(args: &NetArgs) -> anyhow::Result<Net> {
        let timeout = settings::duration(&args.timeout, "--timeout")?;
        let resolve = args
            .resolve
            .iter()
            .map(|r| settings::resolve(r))
            .collect::<Result<Vec<_>, _>>()?;
        let dns_server = args
            .dns_server
            .as_deref()
            .map(settings::dns_server)
            .transpose()?;
        let mut extra_roots = Vec::new();
        for file in &args.ca_file {
            extra_roots.extend(crate::check::certificates(file)?);
        }
        Net::with_config(Config {
            connect_timeout: timeout,
            phase_timeout: timeout,
            resolve: resolve.into(),
            dns_server,
            extra_roots,
            ..Config::default()
        })
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
        let shown = egress_proxy::redact(spec);
        if spec.starts_with("http://") || spec.starts_with("https://") {
            let fetched = self
                .runtime
                .block_on(egress_check::fetch::fetch(spec, &self.config))
                .map_err(|(phase, failure)| {
                    let why = egress_proxy::redact(&format!("{phase}: {failure}"));
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
