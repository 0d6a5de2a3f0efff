//! Where a machine's proxy comes from (`--proxy-from`, `egress routes`):
//! the profile (the site system proxy), the environment, WinHTTP, WinINET
//! for SYSTEM and for the user (the registry on Windows, a `reg export`
//! file with `--registry` anywhere), a PAC file, WPAD; each made into the
//! check's `Route`. `docs/proxy-discovery.md` describes it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use anyhow::bail;
use egress_check::ProbeTarget;
use egress_check::auth::Credentials;
use egress_check::settings::{self, Hop, ProxySources, Route};
use egress_pac::{Pac, PacEntry, parse_result};
use egress_winproxy::wininet::{self, Flat, Hive, Kept};
use egress_winproxy::{RegFile, RegValue, Source, Store, WindowsProxy, blob};

use crate::net::{Net, NetHost};

mod registry;

pub use registry::read_registry;
use registry::registry_value;

pub const WINHTTP_KEY: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
pub const INTERNET_SETTINGS: &str =
    "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";
/// The hives whose `Internet Settings` WinINET reads for SYSTEM and for
/// the user.
pub const WININET_SYSTEM_HIVE: &str = "HKEY_USERS\\S-1-5-18";
pub const WININET_USER_HIVE: &str = "HKEY_CURRENT_USER";
/// The machine's `Internet Settings`, which every user reads when the
/// policy `ProxySettingsPerUser` is 0.
pub const WININET_MACHINE_KEY: &str =
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";
pub const PROXY_POLICY_KEY: &str =
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";

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
            Source::WinHttp => {
                let Some(settings) = self.winhttp()? else {
                    return Ok(Found::NotSet(format!(
                        "{WINHTTP_KEY}\\{} is not set",
                        Store::WinHttp.value_name()
                    )));
                };
                self.windows_route(&settings, "")
            }
            Source::WinInetSystem | Source::WinInetUser => {
                let hive = match source {
                    Source::WinInetSystem => WININET_SYSTEM_HIVE,
                    _ => WININET_USER_HIVE,
                };
                let (base, machine_wide) = self.wininet_base(hive)?;
                let Some(chosen) = self.wininet(&base)? else {
                    return Ok(Found::NotSet(format!(
                        "neither {base}\\Connections\\DefaultConnectionSettings nor the flat values ProxyEnable, ProxyServer, AutoConfigURL, AutoDetect under {base} are set"
                    )));
                };
                let mut note = String::new();
                if machine_wide {
                    note.push_str(" (machine-wide: the policy ProxySettingsPerUser is 0)");
                }
                match (&chosen.other, chosen.kept) {
                    (_, Kept::Flat) => {
                        note.push_str(&format!(" (from the flat values: {})", chosen.why));
                    }
                    (Some(other), Kept::Blob) => note.push_str(&format!(
                        "; the flat values {other}, unused: {}",
                        chosen.why
                    )),
                    (None, Kept::Blob) => {}
                }
                self.windows_route(&chosen.settings, &note)
            }
            Source::Pac(at) => self.pac_route(at, &source.title()),
            Source::Wpad => match self.wpad()? {
                Some(url) => {
                    self.pac_route(&url, &format!("WPAD: {}", egress_winproxy::redact(&url)))
                }
                None => Ok(Found::NotSet("WPAD found no wpad.dat".to_owned())),
            },
            Source::Auto => bail!("`auto` is resolved per role, not as one source"),
        }
    }

    /// A value from `--registry`, else (on Windows) the registry itself.
    fn value(&self, key: &str, name: &str) -> anyhow::Result<Option<RegValue>> {
        match &self.registry {
            Some((_, file)) => Ok(file
                .value(key, name)
                .filter(|v| **v != RegValue::Deleted)
                .cloned()),
            None => registry_value(key, name),
        }
    }

    /// Where values come from, for messages.
    fn from(&self) -> String {
        match &self.registry {
            Some((path, _)) => path.display().to_string(),
            None => "the registry".to_owned(),
        }
    }

    fn binary(&self, key: &str, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self.value(key, name)? {
            None => Ok(None),
            Some(RegValue::Binary(b)) => Ok(Some(b)),
            Some(_) => bail!(
                "{}: {key}\\{name} is not a binary (hex:) value",
                self.from()
            ),
        }
    }

    fn dword(&self, key: &str, name: &str) -> anyhow::Result<Option<u32>> {
        match self.value(key, name)? {
            None => Ok(None),
            Some(RegValue::Dword(n)) => Ok(Some(n)),
            Some(_) => bail!("{}: {key}\\{name} is not a dword value", self.from()),
        }
    }

    fn string(&self, key: &str, name: &str) -> anyhow::Result<Option<String>> {
        match self.value(key, name)? {
            None => Ok(None),
            Some(RegValue::String(s)) => Ok(Some(s)),
            // REG_EXPAND_SZ, as `reg export` writes it: UTF-16LE.
            Some(RegValue::Other { kind: 2, data }) => {
                let units = data
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .take_while(|u| *u != 0);
                Ok(Some(
                    char::decode_utf16(units)
                        .map(|c| c.unwrap_or('\u{FFFD}'))
                        .collect(),
                ))
            }
            Some(_) => bail!("{}: {key}\\{name} is not a string value", self.from()),
        }
    }

    /// WinHTTP's settings.
    fn winhttp(&self) -> anyhow::Result<Option<WindowsProxy>> {
        let Some(bytes) = self.binary(WINHTTP_KEY, Store::WinHttp.value_name())? else {
            return Ok(None);
        };
        blob::decode(&bytes, Store::WinHttp)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.from()))
    }

    /// The `Internet Settings` key WinINET reads for `hive`, and whether
    /// it is the machine's (the policy `ProxySettingsPerUser` = 0).
    fn wininet_base(&self, hive: &str) -> anyhow::Result<(String, bool)> {
        let per_user = match self.dword(PROXY_POLICY_KEY, "ProxySettingsPerUser")? {
            Some(n) => Some(n),
            None => self.dword(WININET_MACHINE_KEY, "ProxySettingsPerUser")?,
        };
        Ok(match per_user {
            Some(0) => (WININET_MACHINE_KEY.to_owned(), true),
            _ => (format!("{hive}\\{INTERNET_SETTINGS}"), false),
        })
    }

    /// WinINET's settings under `base`, by egress's rule for the blob and
    /// the flat values (egress-winproxy's `wininet`). A flat value of the
    /// wrong type is an error only when the flat values are what is used;
    /// beside a blob it is said.
    fn wininet(&self, base: &str) -> anyhow::Result<Option<wininet::Chosen>> {
        let blob = self.binary(&format!("{base}\\Connections"), Store::WinInet.value_name())?;
        let mut wrong = Vec::new();
        let mut dword = |name: &str| {
            self.dword(base, name).unwrap_or_else(|e| {
                wrong.push(format!("{e:#}"));
                None
            })
        };
        let (proxy_enable, auto_detect, migrate_proxy) = (
            dword("ProxyEnable"),
            dword("AutoDetect"),
            dword("MigrateProxy"),
        );
        let mut string = |name: &str| {
            self.string(base, name).unwrap_or_else(|e| {
                wrong.push(format!("{e:#}"));
                None
            })
        };
        let flat = Flat {
            proxy_enable,
            proxy_server: string("ProxyServer"),
            proxy_override: string("ProxyOverride"),
            auto_config_url: string("AutoConfigURL"),
            auto_detect,
        };
        if !wrong.is_empty() && blob.is_none() {
            bail!("{}", wrong.join("\n"));
        }
        let hive = Hive {
            blob,
            flat,
            migrate_proxy,
        };
        let mut chosen =
            wininet::choose(&hive).map_err(|e| anyhow::anyhow!("{}: {base}: {e}", self.from()))?;
        if let Some(c) = chosen.as_mut().filter(|_| !wrong.is_empty()) {
            let said = format!("cannot all be read ({})", wrong.join("; "));
            c.other = Some(match c.other.take() {
                Some(other) => format!("{other}; some {said}"),
                None => said,
            });
        }
        Ok(chosen)
    }

    /// `note` follows what the settings say.
    fn windows_route(&self, settings: &WindowsProxy, note: &str) -> anyhow::Result<Found> {
        if settings.auto_detect
            && let Some(url) = self.wpad()?
        {
            return self.pac_route(
                &url,
                &format!(
                    "{settings}{note}; WPAD found {}",
                    egress_winproxy::redact(&url)
                ),
            );
        }
        if let Some(url) = &settings.pac_url {
            return self.pac_route(url, &format!("{settings}{note}"));
        }
        let credentials = credentials(self.env);
        Ok(Found::Route {
            route: Box::new(Route::windows(settings, credentials)),
            says: format!("{settings}{note}"),
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
