//! `egress proxy`'s settings from its flags, checked once: every problem
//! of the flags reported at once, before anything listens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use egress_catalog::profile::AddressRange;

use crate::cli::{ProxyArgs, ProxyMode};

/// Each connect attempt to an upstream address.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the proxy runs with, besides the plans (which a reload reads
/// again).
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    pub mode: ProxyMode,
    /// The networks it may connect to although they are not public.
    pub allow: Vec<AddressRange>,
    /// What egress itself resolves with: `--resolve` pins, then
    /// `--dns-server` or the system's resolver.
    pub resolver: egress_check::Config,
    /// The parent proxy and its authentication, with the pins for its
    /// own name.
    pub parent: Option<egress_check::Config>,
    pub idle_timeout: Duration,
    pub header_timeout: Duration,
    pub drain_timeout: Duration,
    pub max_connections: u32,
    pub max_tunnels_per_source: u32,
    pub admin_listen: Option<SocketAddr>,
    /// A file, or `-` for standard output.
    pub decision_log: Option<String>,
    pub access_log: Option<PathBuf>,
    pub test_config: bool,
}

impl ProxyConfig {
    /// The settings `args` give, or every problem with them.
    pub fn parse(args: &ProxyArgs) -> anyhow::Result<ProxyConfig> {
        let mut problems = Vec::new();
        let allow: Vec<AddressRange> = args
            .allow_net
            .iter()
            .filter_map(|a| {
                AddressRange::parse(a)
                    .map_err(|e| problems.push(format!("--allow-net {e}")))
                    .ok()
            })
            .collect();
        let mut name_problems = Vec::new();
        let (pins, dns_server) = crate::net::names(&args.names, &mut name_problems);
        problems.extend(name_problems.iter().map(ToString::to_string));
        let mut duration =
            |text: &str, option: &str| match egress_check::settings::duration(text, option) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => {
                    problems.push(format!("{option} must be more than 0"));
                    Duration::ZERO
                }
                Err(e) => {
                    problems.push(e.to_string());
                    Duration::ZERO
                }
            };
        let idle_timeout = duration(&args.tunnel_idle_timeout, "--tunnel-idle-timeout");
        let header_timeout = duration(&args.header_timeout, "--header-timeout");
        let drain_timeout = duration(&args.drain_timeout, "--drain-timeout");
        let env = |name: &str| std::env::var(name).ok();
        let parent = match args
            .parent
            .as_deref()
            .map(|url| egress_check::settings::proxy_url(url, &Default::default(), &env))
        {
            None => None,
            Some(Err(e)) => {
                problems.push(format!("--parent {e}"));
                None
            }
            Some(Ok(proxy)) => {
                let proxy_auth = egress_check::auth::AuthMode::from(args.proxy_auth);
                if let Err(e) = egress_check::auth::validate(proxy_auth, proxy.credentials.as_ref())
                {
                    problems.push(format!("--proxy-auth: {e}"));
                }
                Some(egress_check::Config {
                    proxy: Some(proxy),
                    proxy_auth,
                    resolve: pins.clone().into(),
                    ..egress_check::Config::default()
                })
            }
        };
        if parent.is_some() && dns_server.is_some() {
            problems.push(
                "--dns-server and --parent: with a parent, the parent resolves the targets"
                    .to_owned(),
            );
        }
        if !problems.is_empty() {
            anyhow::bail!("{}", problems.join("\n"));
        }
        Ok(ProxyConfig {
            listen: args.listen,
            mode: args.mode,
            allow,
            resolver: egress_check::Config {
                resolve: pins.into(),
                dns_server,
                phase_timeout: CONNECT_TIMEOUT,
                ..egress_check::Config::default()
            },
            parent,
            idle_timeout,
            header_timeout,
            drain_timeout,
            max_connections: args.max_connections,
            max_tunnels_per_source: args.max_tunnels_per_source,
            admin_listen: args.admin_listen,
            decision_log: args.decision_log.clone(),
            access_log: args.access_log.clone(),
            test_config: args.test_config,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::ProxyConfig;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> anyhow::Result<ProxyConfig> {
        let cli = Cli::try_parse_from(["egress", "proxy"].iter().chain(args)).unwrap();
        let Command::Proxy(args) = &cli.command else {
            unreachable!("egress proxy parses as the proxy");
        };
        ProxyConfig::parse(args)
    }

    #[test]
    fn every_problem_of_the_flags_at_once() {
        let e = parse(&[
            "--allow-net",
            "10.0.0.0/33",
            "--resolve",
            "no-port",
            "--tunnel-idle-timeout",
            "0s",
            "--header-timeout",
            "soon",
            "--parent",
            "http://proxy.contoso.test:8080",
            "--dns-server",
            "127.0.0.1",
        ])
        .unwrap_err()
        .to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 5, "{e}");
        assert!(lines[0].starts_with("--allow-net `10.0.0.0/33`"), "{e}");
        assert!(lines[1].contains("no-port"), "{e}");
        assert!(
            lines[2].starts_with("--tunnel-idle-timeout `0s`: it must be more than zero"),
            "{e}"
        );
        assert!(lines[3].contains("--header-timeout"), "{e}");
        assert_eq!(
            lines[4],
            "--dns-server and --parent: with a parent, the parent resolves the targets"
        );
    }

    #[test]
    fn good_flags_give_their_settings() {
        let c = parse(&[
            "--listen",
            "127.0.0.1:3129",
            "--allow-net",
            "10.0.0.0/8",
            "--resolve",
            "a.example:443:127.0.0.1",
            "--tunnel-idle-timeout",
            "20m",
        ])
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:3129".parse().unwrap());
        assert_eq!(c.allow.len(), 1);
        assert_eq!(c.resolver.resolve.len(), 1);
        assert_eq!(c.idle_timeout, std::time::Duration::from_secs(1200));
        assert!(c.parent.is_none());
    }
}
