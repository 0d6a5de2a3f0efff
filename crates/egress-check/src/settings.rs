//! How a check is set up from what the user gave: durations, `--resolve`
//! pins, the DNS server, and the proxy with its precedence (command line,
//! then the profile, then the environment) and its `NO_PROXY` list. Pure:
//! the environment comes in as a function, so that tests give their own.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use egress_catalog::diagnostic::Problem;
use egress_catalog::profile::{AddressRange, ProxySettings};
use egress_pattern::{Host, HostPattern};

use crate::Proxy;
use crate::auth::Credentials;

/// Why a setting is not one egress can use. Never holds a password: a
/// proxy URL's user information is never repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{option} `{text}`: {reason}; write a duration with its unit, like 5s, 500ms or 2m")]
    Duration {
        option: String,
        text: String,
        reason: String,
    },
    #[error("{option} `{text}`: at most {max}")]
    DurationTooLong {
        option: String,
        text: String,
        max: &'static str,
    },
    #[error("--dns-server `{0}`: expected an IP address, or ADDR:PORT")]
    DnsServer(String),
    #[error("--resolve `{0}`: expected HOST:PORT:ADDR, like example.com:443:127.0.0.1")]
    Resolve(String),
    #[error("--resolve `{text}`: `{port}` is not a port")]
    ResolvePort { text: String, port: String },
    #[error("--resolve `{text}`: `{addr}` is not an IP address")]
    ResolveAddress { text: String, addr: String },
    #[error("proxy {shown}: {reason}")]
    Proxy { shown: String, reason: String },
    #[error("NO_PROXY entry `{entry}`: {reason}")]
    NoProxy { entry: String, reason: String },
}

/// The longest timeout egress accepts: a probe phase that takes longer is
/// a failure worth reporting, not waiting for.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// A duration with its unit (`5s`, `500ms`, `2m`, `1m30s`), more than zero
/// and at most an hour; `option` names the flag in errors.
pub fn duration(text: &str, option: &str) -> Result<Duration, SettingsError> {
    let error = |reason: String| SettingsError::Duration {
        option: option.to_owned(),
        text: text.to_owned(),
        reason,
    };
    let d = humantime::parse_duration(text.trim()).map_err(|e| error(e.to_string()))?;
    if d.is_zero() {
        return Err(error("it must be more than zero".to_owned()));
    }
    if d > MAX_TIMEOUT {
        return Err(SettingsError::DurationTooLong {
            option: option.to_owned(),
            text: text.to_owned(),
            max: "1h",
        });
    }
    Ok(d)
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

/// Which of the sources the proxy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyOrigin {
    CommandLine,
    Profile,
    /// The environment variable with this name.
    Environment(&'static str),
}

impl std::fmt::Display for ProxyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyOrigin::CommandLine => f.write_str("--proxy"),
            ProxyOrigin::Profile => f.write_str("the profile's [proxy]"),
            ProxyOrigin::Environment(name) => f.write_str(name),
        }
    }
}

/// The proxy a check goes through and the hosts it reaches without it.
#[derive(Debug, Clone, Default)]
pub struct ProxyChoice {
    pub proxy: Option<(Proxy, ProxyOrigin)>,
    pub no_proxy: NoProxy,
}

impl ProxyChoice {
    pub fn into_route(self) -> Route {
        match self.proxy {
            Some((proxy, _)) => Route::Proxy {
                proxy,
                no_proxy: self.no_proxy,
            },
            None => Route::Direct,
        }
    }
}

/// How a check reaches each target.
#[derive(Debug, Clone, Default)]
pub enum Route {
    #[default]
    Direct,
    /// One proxy for every scheme; `NO_PROXY` hosts go direct (curl's
    /// semantics).
    Proxy { proxy: Proxy, no_proxy: NoProxy },
    /// Windows settings (WinHTTP, WinINET): a proxy per scheme (none:
    /// direct) and a bypass list with Windows' semantics.
    Windows {
        http: Option<Proxy>,
        https: Option<Proxy>,
        bypass: egress_winproxy::BypassList,
    },
    /// No way: every probe fails with this reason (a PAC file that could
    /// not be fetched).
    Failed(String),
    /// A list per target, tried in order (a PAC file's answers, evaluated
    /// before the check): by (HTTPS, host, port).
    Listed {
        description: String,
        answers: std::collections::HashMap<(bool, String, u16), Vec<Hop>>,
    },
}

/// One way to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    Direct,
    Proxy(Proxy),
    /// What egress cannot go through (`SOCKS5 k:1080`), as written.
    Unsupported(String),
    /// A route that could not be set up (its PAC file could not be
    /// fetched): why.
    Failed(String),
}

impl std::fmt::Display for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hop::Direct => f.write_str("DIRECT"),
            Hop::Proxy(p) => write!(f, "PROXY {}:{}", p.host, p.port),
            Hop::Unsupported(text) | Hop::Failed(text) => f.write_str(text),
        }
    }
}

impl Route {
    /// The ways to a target, tried in order: a PAC file's list, or one.
    pub fn hops(&self, https: bool, host: &str, port: u16) -> Vec<Hop> {
        match self {
            Route::Direct => vec![Hop::Direct],
            Route::Proxy { proxy, no_proxy } if !no_proxy.covers(host) => {
                vec![Hop::Proxy(proxy.clone())]
            }
            Route::Proxy { .. } => vec![Hop::Direct],
            Route::Windows {
                http,
                https: secure,
                bypass,
            } => {
                let scheme = if https { "https" } else { "http" };
                let proxy = if bypass.bypasses(scheme, host, port) {
                    None
                } else if https {
                    secure.as_ref()
                } else {
                    http.as_ref()
                };
                vec![proxy.map_or(Hop::Direct, |p| Hop::Proxy(p.clone()))]
            }
            Route::Failed(why) => vec![Hop::Failed(why.clone())],
            Route::Listed { answers, .. } => answers
                .get(&(https, host.to_ascii_lowercase(), port))
                .cloned()
                // Every target is asked about beforehand; one that was not
                // is never taken as direct.
                .unwrap_or_else(|| {
                    vec![Hop::Failed(format!(
                        "the route was not evaluated for {host}:{port}"
                    ))]
                }),
        }
    }

    /// The route in a few words, for headers.
    pub fn describe(&self) -> String {
        match self {
            Route::Direct => "direct".to_owned(),
            Route::Proxy { proxy, .. } => format!("proxy {}:{}", proxy.host, proxy.port),
            Route::Windows { http, https, .. } => {
                let show = |p: &Option<Proxy>| {
                    p.as_ref()
                        .map_or_else(|| "direct".to_owned(), |p| format!("{}:{}", p.host, p.port))
                };
                if http == https {
                    format!("proxy {}", show(http))
                } else {
                    format!("http via {}, https via {}", show(http), show(https))
                }
            }
            Route::Failed(why) => format!("no route: {why}"),
            Route::Listed { description, .. } => description.clone(),
        }
    }

    /// Windows settings as a route; `credentials` for their proxies
    /// (Windows keeps none: without them, egress authenticates as the
    /// logon identity there).
    pub fn windows(
        settings: &egress_winproxy::WindowsProxy,
        credentials: Option<Credentials>,
    ) -> Route {
        let proxy = |scheme: &str| {
            let servers = settings.proxy.as_ref()?;
            let address = servers.for_scheme(scheme)?;
            Some(Proxy {
                host: address.host.clone(),
                port: address.port,
                credentials: credentials.clone(),
            })
        };
        match (proxy("http"), proxy("https")) {
            (None, None) => Route::Direct,
            (http, https) => Route::Windows {
                http,
                https,
                bypass: settings.bypass.clone(),
            },
        }
    }
}

/// The proxy to use and the hosts reached without it: `--proxy`, then the
/// profile's `[proxy]`, then `HTTPS_PROXY`/`HTTP_PROXY` (and `NO_PROXY`,
/// only when the proxy comes from the environment). Credentials come from
/// the URL, then the profile, then `EGRESS_PROXY_USER` and
/// `EGRESS_PROXY_PASSWORD`. `env` reads an environment variable.
pub fn proxy(
    sources: ProxySources<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProxyChoice, SettingsError> {
    let settings = sources.profile.cloned().unwrap_or_default();
    let first = |names: &[&'static str]| {
        names.iter().find_map(|n| {
            env(n)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v, ProxyOrigin::Environment(n)))
        })
    };
    let from_env = settings.url.is_none() && sources.command_line.is_none();
    let proxy = if sources.disabled {
        None
    } else {
        let url = sources
            .command_line
            .map(|u| (u.to_owned(), ProxyOrigin::CommandLine))
            .or_else(|| {
                let url = settings.url.as_ref()?;
                Some((url.value.clone(), ProxyOrigin::Profile))
            })
            .or_else(|| first(&["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]));
        match url {
            Some((u, origin)) => Some((proxy_url(&u, &settings, env)?, origin)),
            None => None,
        }
    };
    let mut entries: Vec<String> = settings.no_proxy.iter().map(|e| e.value.clone()).collect();
    if from_env && let Some((list, _)) = first(&["NO_PROXY", "no_proxy"]) {
        entries.extend(list.split(',').map(str::to_owned));
    }
    Ok(ProxyChoice {
        proxy,
        no_proxy: NoProxy::parse(entries.iter().map(String::as_str))?,
    })
}

/// Checks a profile's `[proxy]` with the parsers the check uses, each
/// problem at its place in the profile: the URL (an `http://` proxy, with
/// its scheme written, a port, no path), user and password given once and
/// together, and every `no_proxy` entry. Problems never repeat a password.
pub fn profile_proxy_problems(settings: &ProxySettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    let none = |_: &str| None;
    // The URL's user information, whether or not the rest of it parses.
    let url_has_user = settings.url.as_ref().is_some_and(|u| {
        let after_scheme = u
            .value
            .split_once("://")
            .map_or(u.value.as_str(), |(_, r)| r);
        after_scheme.contains('@')
    });
    if let Some(url) = &settings.url {
        let text = url.value.trim();
        if !text.contains("://") {
            problems.push(
                Problem::new(url.span.clone(), "the proxy URL has no scheme")
                    .with_help(format!("write it as {}", shown(&format!("http://{text}")))),
            );
        } else {
            if let Err(e) = proxy_url(text, &ProxySettings::default(), &none) {
                problems.push(
                    Problem::new(url.span.clone(), e.to_string())
                        .with_help("write `url = \"http://proxy.contoso.com:8080\"`"),
                );
            }
        }
    }
    for (given, name) in [(&settings.user, "user"), (&settings.password, "password")] {
        if let Some(g) = given
            && url_has_user
        {
            problems.push(
                Problem::new(
                    g.span.clone(),
                    format!("the {name} is given twice: in `url` and in `{name}`"),
                )
                .with_help(
                    "keep one: the `user` and `password` keys, or the URL's user information",
                ),
            );
        }
    }
    match (&settings.user, &settings.password) {
        _ if url_has_user => {}
        (Some(u), None) => problems.push(
            Problem::new(u.span.clone(), "`user` without `password`").with_help(
                "add `password`, or set EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD instead",
            ),
        ),
        (None, Some(p)) => problems.push(
            Problem::new(p.span.clone(), "`password` without `user`").with_help(
                "add `user`, or set EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD instead",
            ),
        ),
        _ => {}
    }
    for entry in &settings.no_proxy {
        if let Err(SettingsError::NoProxy {
            entry: text,
            reason,
        }) = NoProxy::parse([entry.value.as_str()])
        {
            problems.push(
                Problem::new(entry.span.clone(), format!("`no_proxy` entry `{text}`: {reason}"))
                    .with_help("write a host name (contoso.com covers its subdomains), an address, a range (10.0.0.0/8), or *"),
            );
        }
    }
    problems
}

/// The input for messages, with any user information replaced by `***`.
/// Without an `@`, the authority is shown only when it reads as `host` or
/// `host:port`: a `user:password` written without a host would otherwise
/// show its password.
fn shown(text: &str) -> String {
    let (scheme, rest) = match text.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), text),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host_port) = match authority.rfind('@') {
        Some(at) => ("***@", &authority[at + 1..]),
        None => ("", authority),
    };
    let host_char = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let plain = match host_port.rsplit_once(':') {
        _ if host_port.starts_with('[') => host_port.split_once(']').is_some_and(|(_, p)| {
            p.is_empty()
                || p.strip_prefix(':')
                    .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        }),
        Some((host, port)) => {
            host.chars().all(host_char) && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => host_port.chars().all(host_char),
    };
    // An `@` after the authority means a password with a `/` in it.
    if plain && !tail.contains('@') {
        format!("`{scheme}{user}{host_port}{tail}`")
    } else {
        format!("`{scheme}...`")
    }
}

/// Parses a proxy URL: `http://[user[:password]@]host[:port]`, the scheme
/// optional and case-insensitive, user and password percent-decoded. Only
/// HTTP proxies are supported: `https://` and `socks*://` are refused.
/// Errors never repeat the user information.
pub fn proxy_url(
    text: &str,
    settings: &ProxySettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Proxy, SettingsError> {
    let error = |reason: &str| SettingsError::Proxy {
        shown: shown(text),
        reason: reason.to_owned(),
    };
    let trimmed = text.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        error(&match e {
            url::ParseError::InvalidPort => {
                "the port is not a number from 1 to 65535 (a password goes before the host: http://user:password@host:port)".to_owned()
            }
            url::ParseError::EmptyHost => "no host; expected http://host:port".to_owned(),
            other => format!("not a URL ({other}); expected http://host:port"),
        })
    })?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(error(
                "HTTPS proxies (TLS to the proxy) are not supported; use the proxy's http:// address",
            ));
        }
        s if s.starts_with("socks") => {
            return Err(error("SOCKS proxies are not supported; use an HTTP proxy"));
        }
        _ => return Err(error("unsupported scheme; expected http://host:port")),
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(error("no host; expected http://host:port")),
    };
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(error("a proxy URL has no path; expected http://host:port"));
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| error("the user or password is not UTF-8 once percent-decoded"))
    };
    let credentials = if !url.username().is_empty() {
        Some(Credentials::new(
            decode(url.username())?,
            decode(url.password().unwrap_or(""))?,
        ))
    } else {
        match (&settings.user, &settings.password) {
            (Some(u), Some(p)) => Some(Credentials::new(&u.value, &p.value)),
            _ => environment_credentials(env),
        }
    };
    Ok(Proxy {
        host,
        port: url.port().unwrap_or(80),
        credentials,
    })
}

/// `EGRESS_PROXY_USER` and `EGRESS_PROXY_PASSWORD`, when both are set.
pub fn environment_credentials(env: &dyn Fn(&str) -> Option<String>) -> Option<Credentials> {
    match (env("EGRESS_PROXY_USER"), env("EGRESS_PROXY_PASSWORD")) {
        (Some(u), Some(p)) if !u.is_empty() => Some(Credentials::new(u, p)),
        _ => None,
    }
}

/// Hosts reached without the proxy, with curl's meaning of `NO_PROXY`: `*`
/// covers every host; a name (`contoso.com` or `.contoso.com`) covers it
/// and every subdomain; an IP address or a CIDR range covers targets given
/// as addresses in it. Names are matched by egress-pattern.
#[derive(Debug, Clone, Default)]
pub struct NoProxy {
    all: bool,
    names: Vec<HostPattern>,
    ranges: Vec<AddressRange>,
}

impl NoProxy {
    /// Parses the entries (blank ones are skipped); every bad entry is an
    /// error naming it.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<NoProxy, SettingsError> {
        let mut out = NoProxy::default();
        for raw in entries {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let error = |reason: String| SettingsError::NoProxy {
                entry: entry.to_owned(),
                reason,
            };
            if entry == "*" {
                out.all = true;
            } else if entry.contains('/')
                || entry.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()
            {
                out.ranges
                    .push(AddressRange::parse(entry.trim_matches(['[', ']'])).map_err(error)?);
            } else {
                let name = entry.trim_start_matches('.');
                for text in [name.to_owned(), format!("*.{name}")] {
                    out.names
                        .push(HostPattern::parse(&text).map_err(|e| error(e.to_string()))?);
                }
            }
        }
        Ok(out)
    }

    /// Whether the proxy is bypassed for `host` (a name or an address).
    pub fn covers(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        match Host::parse(host) {
            Ok(Host::Ip(ip)) => self.ranges.iter().any(|r| r.contains(ip)),
            Ok(h @ Host::Name(_)) => self.names.iter().any(|p| p.matches(&h)),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egress_catalog::profile::Located;

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
        check_duration("1m30s", Ok(Duration::from_secs(90)));
        check_duration(
            "0s",
            Err(
                "--timeout `0s`: it must be more than zero; write a duration with its unit, like 5s, 500ms or 2m",
            ),
        );
        check_duration(
            "5",
            Err(
                "--timeout `5`: time unit needed, for example 5sec or 5ms; write a duration with its unit, like 5s, 500ms or 2m",
            ),
        );
        check_duration("2h", Err("--timeout `2h`: at most 1h"));
        assert!(duration("999999999999999999m", "--timeout").is_err());
        assert!(duration("99999999999s", "--timeout").is_err());
    }

    /// The proxy chosen from the command line, the profile and the
    /// environment, as `host:port user (origin)`, and whether NO_PROXY
    /// covers each of `probes`.
    #[track_caller]
    fn check_proxy(
        command_line: Option<&str>,
        profile: Option<&ProxySettings>,
        env: &[(&str, &str)],
        expected: &str,
    ) {
        let env = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let choice = proxy(
            ProxySources {
                command_line,
                disabled: false,
                profile,
            },
            &env,
        )
        .unwrap();
        let got = choice.proxy.map_or_else(
            || "none".to_owned(),
            |(p, origin)| {
                let user = p.credentials.map(|c| c.user).unwrap_or_default();
                format!("{}:{} {user} ({origin})", p.host, p.port).replace("  ", " ")
            },
        );
        assert_eq!(got, expected);
    }

    #[test]
    fn proxy_precedence() {
        let at = |text: &str| Located {
            value: text.to_owned(),
            span: 0..0,
        };
        let profile = ProxySettings {
            url: Some(at("http://profile.test:8080")),
            user: Some(at("svc")),
            password: Some(at("pw")),
            no_proxy: vec![at(".Contoso.com")],
        };
        let env = [
            ("HTTPS_PROXY", "http://env.test:3128"),
            ("NO_PROXY", "a.test, b.test"),
        ];
        check_proxy(None, None, &[], "none");
        check_proxy(None, None, &env, "env.test:3128 (HTTPS_PROXY)");
        check_proxy(
            None,
            Some(&profile),
            &env,
            "profile.test:8080 svc (the profile's [proxy])",
        );
        check_proxy(
            Some("http://bob:x@cli.test:3128"),
            Some(&profile),
            &env,
            "cli.test:3128 bob (--proxy)",
        );
        check_proxy(Some("cli.test"), None, &env, "cli.test:80 (--proxy)");
        check_proxy(
            Some("HTTP://Cli.Test:3128"),
            None,
            &[],
            "cli.test:3128 (--proxy)",
        );
        check_proxy(Some("[::1]:3128"), None, &[], "::1:3128 (--proxy)");
    }

    /// A proxy URL as `host:port user:password`, or its error.
    #[track_caller]
    fn check_url(text: &str, expected: Result<&str, &str>) {
        let got = proxy_url(text, &ProxySettings::default(), &|_| None)
            .map(|p| {
                let (u, pw) = p
                    .credentials
                    .map(|c| (c.user, c.password))
                    .unwrap_or_default();
                format!("{}:{} {u}:{pw}", p.host, p.port)
            })
            .map_err(|e| e.to_string());
        assert_eq!(got.as_deref().map_err(String::as_str), expected, "{text}");
    }

    #[test]
    fn proxy_urls() {
        check_url(
            "http://bob:p%40ss%3Aword@proxy.test:3128",
            Ok("proxy.test:3128 bob:p@ss:word"),
        );
        check_url(
            "http://DOMAIN%5Cbob:pw@proxy.test",
            Ok("proxy.test:80 DOMAIN\\bob:pw"),
        );
        check_url("http://proxy.test:3128/", Ok("proxy.test:3128 :"));
        check_url(
            "http://alice:SECRET",
            Err(
                "proxy `http://...`: the port is not a number from 1 to 65535 (a password goes before the host: http://user:password@host:port)",
            ),
        );
        check_url(
            "socks5://h:1080",
            Err("proxy `socks5://h:1080`: SOCKS proxies are not supported; use an HTTP proxy"),
        );
        check_url(
            "https://user:pw@h:3128",
            Err(
                "proxy `https://***@h:3128`: HTTPS proxies (TLS to the proxy) are not supported; use the proxy's http:// address",
            ),
        );
        check_url(
            "http://h:3128/path",
            Err("proxy `http://h:3128/path`: a proxy URL has no path; expected http://host:port"),
        );
        check_url(
            "http://h:99999",
            Err(
                "proxy `http://h:99999`: the port is not a number from 1 to 65535 (a password goes before the host: http://user:password@host:port)",
            ),
        );
    }

    #[track_caller]
    fn check_no_proxy(entries: &str, host: &str, expected: bool) {
        let n = NoProxy::parse(entries.split(',')).unwrap();
        assert_eq!(n.covers(host), expected, "{entries} / {host}");
    }

    #[test]
    fn no_proxy_has_curls_meaning() {
        check_no_proxy("contoso.com", "contoso.com", true);
        check_no_proxy("contoso.com", "a.b.contoso.com", true);
        check_no_proxy(".contoso.com", "contoso.com", true);
        check_no_proxy(".contoso.com", "www.contoso.com", true);
        check_no_proxy("contoso.com", "evilcontoso.com", false);
        check_no_proxy("contoso.com", "contoso.com.evil.test", false);
        check_no_proxy("Contoso.COM", "www.contoso.com", true);
        check_no_proxy("*", "anything.test", true);
        check_no_proxy("10.0.0.0/8", "10.1.2.3", true);
        check_no_proxy("10.0.0.0/8", "11.1.2.3", false);
        check_no_proxy("192.168.1.5", "192.168.1.5", true);
        check_no_proxy("fd00::/8", "fd12::1", true);
        check_no_proxy("10.0.0.0/8", "fd12::1", false);
        check_no_proxy("0.0.0.0/0", "8.8.8.8", true);
        check_no_proxy("", "a.test", false);
        for bad in ["10.0.0.0/33", "x/8", "a..b", "*.*"] {
            assert!(NoProxy::parse([bad]).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// No error of the proxy URL parser repeats the password, whatever
        /// the rest of the URL looks like.
        #[test]
        fn errors_never_show_the_password(
            scheme in "(http|HTTP|https|socks5|socks5h|ftp|)",
            user in "[a-z%]{0,6}",
            host in "([a-z]{1,8}(\\.[a-z]{1,5})?|\\[::1\\]|)",
            port in "(:[0-9]{1,6}|:[a-z]{1,4}|)",
            path in "(/[a-z]{0,4}|)",
            at in proptest::bool::ANY,
        ) {
            let password = "S3cr3tMarker";
            let sep = if scheme.is_empty() { "" } else { "://" };
            let userinfo = if at { format!("{user}:{password}@") } else { format!("{user}:{password}") };
            for text in [
                format!("{scheme}{sep}{userinfo}{host}{port}{path}"),
                format!("{scheme}{sep}{user}:{password}{port}{path}"),
                format!("{scheme}{sep}{user}:12/{password}@{host}{port}"),
            ] {
                if let Err(e) = proxy_url(&text, &ProxySettings::default(), &|_| None) {
                    let shown = format!("{e} {e:?}");
                    proptest::prop_assert!(!shown.contains(password), "{text}: {shown}");
                }
                if let Ok(p) = proxy_url(&text, &ProxySettings::default(), &|_| None) {
                    let debug = format!("{:?}", p);
                    proptest::prop_assert!(!debug.contains(password));
                }
            }
        }
    }
}
