//! Where a machine's proxy comes from (`--proxy-from`, `egress routes`):
//! the profile (the site system proxy), the environment, WinHTTP, WinINET
//! for SYSTEM and for the user (the registry on Windows, a `reg export`
//! file with `--registry` anywhere), a PAC file, WPAD; each made into the
//! check's `Route`. `docs/proxy-discovery.md` describes it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use anyhow::{Context as _, bail};
use egress_check::ProbeTarget;
use egress_check::auth::Credentials;
use egress_check::settings::{self, Hop, ProxySources, Route};
use egress_pac::{Pac, PacEntry, parse_result};
use egress_proxy::{RegFile, RegValue, Source, Store, WindowsProxy, blob};

use crate::net::{Net, NetHost};

pub const WINHTTP_KEY: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
pub const WININET_SYSTEM_KEY: &str = "HKEY_USERS\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
pub const WININET_USER_KEY: &str = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";

/// What a source says, as found.
#[derive(Debug, Clone)]
pub enum Found {
    /// Nothing is configured there.
    NotSet(String),
    /// A route, and what it was made from (`WinHTTP: proxy a:8080; bypass
    /// <local>`, `WPAD: http://wpad.contoso.com/wpad.dat`).
    Route { route: Box<Route>, says: String },
}

impl Found {
    /// What it says, for a report.
    pub fn says(&self) -> String {
        match self {
            Found::NotSet(why) => format!("not set: {why}"),
            Found::Route { says, .. } => says.clone(),
        }
    }
}

/// Everything discovery reads from.
pub struct Discovery<'a> {
    pub net: Rc<Net>,
    pub registry: Option<(PathBuf, RegFile)>,
    pub profile: Option<&'a egress_catalog::profile::ProxySettings>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub wpad_domain: Option<String>,
    pub client_ip: Option<std::net::IpAddr>,
    /// The targets a PAC file is asked about.
    pub targets: Vec<ProbeTarget>,
    /// What each step of WPAD discovery found, for the report.
    pub wpad_steps: std::cell::RefCell<Vec<String>>,
}

impl std::fmt::Debug for Discovery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery").finish_non_exhaustive()
    }
}

/// Reads a `.reg` file given with `--registry`.
pub fn read_registry(path: &std::path::Path) -> anyhow::Result<(PathBuf, RegFile)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = RegFile::parse(&bytes).map_err(|errors| {
        let lines: Vec<String> = errors
            .0
            .iter()
            .map(|e| format!("{}:{e}", path.display()))
            .collect();
        anyhow::anyhow!("{}", lines.join("\n"))
    })?;
    Ok((path.to_owned(), file))
}

impl Discovery<'_> {
    /// The route `source` gives, or why it gives none. An error is the
    /// user's input (a bad `.reg` file, a PAC file that is not one).
    pub fn find(&self, source: &Source) -> anyhow::Result<Found> {
        match source {
            Source::None => Ok(Found::Route {
                route: Box::new(Route::Direct),
                says: "direct".to_owned(),
            }),
            Source::Profile | Source::Env => {
                let profile_only = *source == Source::Profile;
                let credentials = |name: &str| {
                    name.starts_with("EGRESS_PROXY_")
                        .then(|| (self.env)(name))
                        .flatten()
                };
                let env_only = |name: &str| (self.env)(name);
                let choice = settings::proxy(
                    ProxySources {
                        command_line: None,
                        disabled: false,
                        profile: if profile_only { self.profile } else { None },
                    },
                    if profile_only {
                        &credentials
                    } else {
                        &env_only
                    },
                )?;
                Ok(match &choice.proxy {
                    None => Found::NotSet(if profile_only {
                        "the profile has no [proxy] url".to_owned()
                    } else {
                        "HTTPS_PROXY and HTTP_PROXY are not set".to_owned()
                    }),
                    Some((p, _)) => Found::Route {
                        says: format!("proxy {}:{}", p.host, p.port),
                        route: Box::new(choice.into_route()),
                    },
                })
            }
            Source::WinHttp | Source::WinInetSystem | Source::WinInetUser => {
                let (store, key) = match source {
                    Source::WinHttp => (Store::WinHttp, WINHTTP_KEY),
                    Source::WinInetSystem => (Store::WinInet, WININET_SYSTEM_KEY),
                    _ => (Store::WinInet, WININET_USER_KEY),
                };
                let Some(settings) = self.windows(store, key)? else {
                    return Ok(Found::NotSet(format!(
                        "{key}\\{} is not set",
                        store.value_name()
                    )));
                };
                self.windows_route(&settings)
            }
            Source::Pac(at) => self.pac_route(at, &source.title()),
            Source::Wpad => match self.wpad()? {
                Some(url) => self.pac_route(&url, &format!("WPAD: {}", egress_proxy::redact(&url))),
                None => Ok(Found::NotSet("WPAD found no wpad.dat".to_owned())),
            },
            Source::Auto => bail!("`auto` is resolved per role, not as one source"),
        }
    }

    /// A store's settings: from `--registry`, else (on Windows) the
    /// registry itself.
    fn windows(&self, store: Store, key: &str) -> anyhow::Result<Option<WindowsProxy>> {
        let bytes = match &self.registry {
            Some((path, file)) => match file.value(key, store.value_name()) {
                None | Some(RegValue::Deleted) => return Ok(None),
                Some(RegValue::Binary(b)) => b.clone(),
                Some(_) => bail!(
                    "{}: {key}\\{} is not a binary (hex:) value",
                    path.display(),
                    store.value_name()
                ),
            },
            None => match registry_value(key, store.value_name())? {
                Some(b) => b,
                None => return Ok(None),
            },
        };
        let from = match &self.registry {
            Some((path, _)) => path.display().to_string(),
            None => "the registry".to_owned(),
        };
        blob::decode(&bytes, store)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{from}: {e}"))
    }

    /// Windows settings as a route, in WinINET's order: auto-detection
    /// (WPAD), then the PAC URL, then the fixed proxy.
    fn windows_route(&self, settings: &WindowsProxy) -> anyhow::Result<Found> {
        if settings.auto_detect
            && let Some(url) = self.wpad()?
        {
            return self.pac_route(
                &url,
                &format!("{settings}; WPAD found {}", egress_proxy::redact(&url)),
            );
        }
        if let Some(url) = &settings.pac_url {
            return self.pac_route(url, &settings.to_string());
        }
        let credentials = credentials(self.env);
        Ok(Found::Route {
            route: Box::new(Route::windows(settings, credentials)),
            says: settings.to_string(),
        })
    }

    /// A PAC file asked about every target. A file that cannot be fetched
    /// is the network's problem: a route that fails every probe, saying
    /// why. One that is not a PAC file is the configuration's: an error.
    fn pac_route(&self, at: &str, says: &str) -> anyhow::Result<Found> {
        let (name, text) = match self.net.load_pac(at) {
            Ok(loaded) => loaded,
            Err(e) if at.starts_with("http://") || at.starts_with("https://") => {
                let why = format!("{e:#}");
                return Ok(Found::Route {
                    route: Box::new(Route::Failed(why.clone())),
                    says: format!("{says} ({why})"),
                });
            }
            Err(e) => return Err(e),
        };
        let host = Rc::new(NetHost::new(Rc::clone(&self.net), self.client_ip));
        let mut pac = Pac::compile(&name, &text, host)?;
        let credentials = credentials(self.env);
        let mut answers = HashMap::new();
        for t in &self.targets {
            let (answer, _) = pac.find_proxy(&t.url(), &t.host)?;
            let hops = parse_result(&answer)
                .into_iter()
                .map(|e| match e {
                    PacEntry::Direct => Hop::Direct,
                    PacEntry::Proxy { host, port } => Hop::Proxy(egress_check::Proxy {
                        host,
                        port,
                        credentials: credentials.clone(),
                    }),
                    other => Hop::Unsupported(other.to_string()),
                })
                .collect();
            answers.insert((t.tls, t.host.to_ascii_lowercase(), t.port), hops);
        }
        Ok(Found::Route {
            route: Box::new(Route::Listed {
                description: says.to_owned(),
                answers,
            }),
            says: says.to_owned(),
        })
    }

    /// WPAD by DNS: `wpad.<domain>` for the machine's domain and each
    /// parent with at least two labels, then `http://wpad.<domain>/wpad.dat`.
    /// DHCP option 252 is not asked.
    pub fn wpad(&self) -> anyhow::Result<Option<String>> {
        let Some(domain) = self.wpad_domain.clone().or_else(machine_domain) else {
            self.wpad_steps
                .borrow_mut()
                .push("no DNS domain for this machine: give --wpad-domain".to_owned());
            return Ok(None);
        };
        let labels: Vec<&str> = domain.trim_matches('.').split('.').collect();
        for start in 0..labels.len().saturating_sub(1) {
            let name = format!("wpad.{}", labels[start..].join("."));
            let found = self
                .net
                .runtime
                .block_on(egress_check::fetch::lookup(&name, &self.net.config));
            let Ok(addresses) = found else {
                self.wpad_steps
                    .borrow_mut()
                    .push(format!("{name}: does not resolve"));
                continue;
            };
            let url = format!("http://{name}/wpad.dat");
            let fetched = self
                .net
                .runtime
                .block_on(egress_check::fetch::fetch(&url, &self.net.config));
            let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            match fetched {
                Ok(f) if f.status == 200 => {
                    self.wpad_steps
                        .borrow_mut()
                        .push(format!("{name} ({}): {url} found", shown.join(", ")));
                    return Ok(Some(url));
                }
                Ok(f) => self.wpad_steps.borrow_mut().push(format!(
                    "{name} ({}): {url} answered HTTP {}",
                    shown.join(", "),
                    f.status
                )),
                Err((phase, failure)) => self.wpad_steps.borrow_mut().push(format!(
                    "{name} ({}): {url}: {phase}: {failure}",
                    shown.join(", ")
                )),
            }
        }
        Ok(None)
    }
}

/// Credentials for proxies Windows names (it keeps none: it signs in as
/// the account): EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD when set.
fn credentials(env: &dyn Fn(&str) -> Option<String>) -> Option<Credentials> {
    egress_check::settings::environment_credentials(env)
}

/// The machine's DNS domain: `USERDNSDOMAIN` on Windows, the first
/// `search` (or `domain`) domain of /etc/resolv.conf elsewhere.
fn machine_domain() -> Option<String> {
    if let Ok(d) = std::env::var("USERDNSDOMAIN")
        && !d.is_empty()
    {
        return Some(d.to_ascii_lowercase());
    }
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        match words.next() {
            Some("search" | "domain") => words.next().map(str::to_owned),
            _ => None,
        }
    })
}

/// A binary value from the Windows registry.
#[cfg(windows)]
fn registry_value(key: &str, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    use winreg::RegKey;
    use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, HKEY_USERS};
    let (root, path) = key.split_once('\\').unwrap_or((key, ""));
    let root = match root {
        "HKEY_LOCAL_MACHINE" => RegKey::predef(HKEY_LOCAL_MACHINE),
        "HKEY_USERS" => RegKey::predef(HKEY_USERS),
        _ => RegKey::predef(HKEY_CURRENT_USER),
    };
    let Ok(subkey) = root.open_subkey(path) else {
        return Ok(None);
    };
    match subkey.get_raw_value(name) {
        Ok(v) => Ok(Some(v.bytes.to_vec())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {key}\\{name}: {e}")),
    }
}

#[cfg(not(windows))]
fn registry_value(key: &str, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    bail!(
        "{key}\\{name} lives in the Windows registry; on this system give a `reg export` of that key with --registry FILE.reg"
    )
}
