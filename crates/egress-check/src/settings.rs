//! How a check is set up from what the user gave: durations, `--resolve`
//! pins, the DNS server, and the proxy with its precedence (command line,
//! then the profile, then the environment) and its `NO_PROXY` list. Pure:
//! the environment comes in as a function, so that tests give their own.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use egress_catalog::profile::ProxySettings;

use crate::Proxy;

/// Why a setting is not one egress can use. Never holds a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{option} `{text}`: expected a positive duration like 3s or 500ms")]
    Duration { option: String, text: String },
    #[error("{option} `{text}`: expected a unit of ms, s or m, like 3s or 500ms")]
    DurationUnit { option: String, text: String },
    #[error("--dns-server `{0}`: expected an IP address, or ADDR:PORT")]
    DnsServer(String),
    #[error("--resolve `{0}`: expected HOST:PORT:ADDR, like example.com:443:127.0.0.1")]
    Resolve(String),
    #[error("--resolve `{text}`: `{port}` is not a port")]
    ResolvePort { text: String, port: String },
    #[error("--resolve `{text}`: `{addr}` is not an IP address")]
    ResolveAddress { text: String, addr: String },
    #[error("proxy `{hostport}`: `{port}` is not a port")]
    ProxyPort { hostport: String, port: String },
    #[error("proxy `{0}`: no host; expected http://host:port")]
    ProxyHost(String),
}

/// `3s`, `500ms`, `2m`; `option` names the flag in errors.
pub fn duration(text: &str, option: &str) -> Result<Duration, SettingsError> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| SettingsError::Duration {
            option: option.to_owned(),
            text: text.to_owned(),
        })?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => {
            return Err(SettingsError::DurationUnit {
                option: option.to_owned(),
                text: text.to_owned(),
            });
        }
    })
}

/// `ADDR` or `ADDR:PORT` (IPv6 as `[ADDR]:PORT`); port 53 by default.
pub fn dns_server(text: &str) -> Result<SocketAddr, SettingsError> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip: IpAddr = text
        .trim_matches(['[', ']'])
        .parse()
        .map_err(|_| SettingsError::DnsServer(text.to_owned()))?;
    Ok(SocketAddr::new(ip, 53))
}

/// `HOST:PORT:ADDR`, as curl's `--resolve`.
pub fn resolve(text: &str) -> Result<(String, u16, IpAddr), SettingsError> {
    let mut parts = text.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SettingsError::Resolve(text.to_owned()));
    };
    let port: u16 = port.parse().map_err(|_| SettingsError::ResolvePort {
        text: text.to_owned(),
        port: port.to_owned(),
    })?;
    let addr: IpAddr =
        addr.trim_matches(['[', ']'])
            .parse()
            .map_err(|_| SettingsError::ResolveAddress {
                text: text.to_owned(),
                addr: addr.to_owned(),
            })?;
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// Where the proxy comes from, in order of precedence.
#[derive(Debug, Clone, Copy)]
pub struct ProxySources<'a> {
    /// `--proxy`.
    pub command_line: Option<&'a str>,
    /// `--no-proxy`: no proxy at all.
    pub disabled: bool,
    /// The profile's `[proxy]`.
    pub profile: Option<&'a ProxySettings>,
}

/// The proxy to use and the hosts reached without it: `--proxy`, then the
/// profile's `[proxy]`, then `HTTPS_PROXY`/`HTTP_PROXY` (and `NO_PROXY`,
/// only when the proxy comes from the environment). Credentials come from
/// the URL, then the profile, then `EGRESS_PROXY_USER` and
/// `EGRESS_PROXY_PASSWORD`. `env` reads an environment variable.
pub fn proxy(
    sources: ProxySources<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Option<Proxy>, Vec<String>), SettingsError> {
    let settings = sources.profile.cloned().unwrap_or_default();
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n))
            .filter(|v| !v.trim().is_empty())
    };
    let from_env = settings.url.is_none() && sources.command_line.is_none();
    let proxy = if sources.disabled {
        None
    } else {
        let url = sources
            .command_line
            .map(str::to_owned)
            .or_else(|| settings.url.clone())
            .or_else(|| first(&["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]));
        url.map(|u| proxy_url(&u, &settings, env)).transpose()?
    };
    let mut no_proxy: Vec<String> = settings.no_proxy.clone();
    if from_env {
        no_proxy.extend(
            first(&["NO_PROXY", "no_proxy"])
                .unwrap_or_default()
                .split(',')
                .map(str::to_owned),
        );
    }
    let no_proxy = no_proxy
        .iter()
        .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    Ok((proxy, no_proxy))
}

/// `http://[user:password@]host:port`. Errors never show the password.
fn proxy_url(
    url: &str,
    settings: &ProxySettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Proxy, SettingsError> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => match p.parse::<u16>() {
            Ok(p) => (h, p),
            Err(_) => {
                return Err(SettingsError::ProxyPort {
                    hostport: hostport.to_owned(),
                    port: p.to_owned(),
                });
            }
        },
        None => (hostport, 80),
    };
    if host.is_empty() {
        return Err(SettingsError::ProxyHost(hostport.to_owned()));
    }
    let credentials = match userinfo.and_then(|u| u.split_once(':')) {
        Some((user, password)) => Some((user.to_owned(), password.to_owned())),
        None => match (&settings.user, &settings.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => match (env("EGRESS_PROXY_USER"), env("EGRESS_PROXY_PASSWORD")) {
                (Some(u), Some(p)) => Some((u, p)),
                _ => None,
            },
        },
    };
    Ok(Proxy {
        host: host.trim_matches(['[', ']']).to_owned(),
        port,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_duration(text: &str, expected: Result<Duration, &str>) {
        assert_eq!(
            duration(text, "--timeout").map_err(|e| e.to_string()),
            expected.map_err(str::to_owned),
            "{text}"
        );
    }

    #[test]
    fn durations() {
        check_duration("3s", Ok(Duration::from_secs(3)));
        check_duration("500ms", Ok(Duration::from_millis(500)));
        check_duration("2m", Ok(Duration::from_secs(120)));
        check_duration(
            "0s",
            Err("--timeout `0s`: expected a positive duration like 3s or 500ms"),
        );
        check_duration(
            "3h",
            Err("--timeout `3h`: expected a unit of ms, s or m, like 3s or 500ms"),
        );
    }

    /// The proxy chosen from the command line, the profile and the
    /// environment, as `host:port user` and the NO_PROXY list.
    #[track_caller]
    fn check_proxy(
        command_line: Option<&str>,
        profile: Option<&ProxySettings>,
        env: &[(&str, &str)],
        expected: (&str, &[&str]),
    ) {
        let env = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let (proxy, no_proxy) = proxy(
            ProxySources {
                command_line,
                disabled: false,
                profile,
            },
            &env,
        )
        .unwrap();
        let got = proxy.map_or_else(
            || "none".to_owned(),
            |p| {
                let user = p.credentials.map(|(u, _)| u).unwrap_or_default();
                format!("{}:{} {user}", p.host, p.port).trim().to_owned()
            },
        );
        let no_proxy: Vec<&str> = no_proxy.iter().map(String::as_str).collect();
        assert_eq!((got.as_str(), no_proxy.as_slice()), expected);
    }

    #[test]
    fn proxy_precedence() {
        let profile = ProxySettings {
            url: Some("http://profile.test:8080".to_owned()),
            user: Some("svc".to_owned()),
            password: Some("pw".to_owned()),
            no_proxy: vec![".Contoso.com".to_owned()],
        };
        let env = [
            ("HTTPS_PROXY", "http://env.test:3128"),
            ("NO_PROXY", "a.test, b.test"),
        ];
        check_proxy(None, None, &[], ("none", &[]));
        check_proxy(None, None, &env, ("env.test:3128", &["a.test", "b.test"]));
        check_proxy(
            None,
            Some(&profile),
            &env,
            ("profile.test:8080 svc", &["contoso.com"]),
        );
        check_proxy(
            Some("http://bob:x@cli.test:3128"),
            Some(&profile),
            &env,
            ("cli.test:3128 bob", &["contoso.com"]),
        );
        check_proxy(Some("cli.test"), None, &env, ("cli.test:80", &[]));
    }
}
