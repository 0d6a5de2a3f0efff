//! The host a request names (a CONNECT authority's host, an absolute-form
//! URL's host), normalized as the SSRF rules need it.
//!
//! Clients, libraries and the resolvers behind them accept IPv4 addresses
//! in many spellings: `127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`,
//! `127.0.0.1.`, even percent-encoded. A proxy that compares text sees a
//! name where the connection goes to an address. The host is therefore
//! read by the WHATWG URL host parser (the `url` crate: what browsers do),
//! which turns each of these into the address it means; names are then
//! normalized by egress-pattern, as every other host in egress is.

use std::net::IpAddr;

use egress_pattern::Host;

/// A request's host, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    /// How the request wrote an IP literal, when it differs from the
    /// address's usual form (`0x7f.1` for `127.0.0.1`): for the log and
    /// the denial's text.
    pub written: Option<String>,
}

impl Target {
    /// The address, when the host is an IP literal.
    pub fn address(&self) -> Option<IpAddr> {
        match self.host {
            Host::Ip(ip) => Some(ip),
            Host::Name(_) => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.written {
            Some(written) => write!(f, "{} (written `{written}`)", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// Why a request's host is refused before any rule is asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("`{0}` names an IPv6 zone, an interface of the proxy's own machine: never allowed")]
    Zone(String),
    #[error("`{host}` is not a host name or IP address: {reason}")]
    Invalid { host: String, reason: String },
}

/// Reads the host of a request: `example.com`, `Example.COM.`, `10.0.0.1`,
/// `[::1]` and every other spelling the URL standard gives an address.
pub fn parse_host(text: &str) -> Result<Target, TargetError> {
    let invalid = |reason: String| TargetError::Invalid {
        host: text.to_owned(),
        reason,
    };
    // `[fe80::1%25eth0]` (RFC 6874) and the bare `%eth0` form.
    if text.starts_with('[') && text.contains('%') {
        return Err(TargetError::Zone(text.to_owned()));
    }
    let written = |usual: String| (usual != text).then(|| text.to_owned());
    match url::Host::parse(text).map_err(|e| invalid(e.to_string()))? {
        url::Host::Ipv4(ip) => Ok(Target {
            written: written(ip.to_string()),
            host: Host::Ip(ip.into()),
        }),
        url::Host::Ipv6(ip) => Ok(Target {
            written: written(format!("[{ip}]")),
            host: Host::Ip(ip.into()),
        }),
        url::Host::Domain(name) => {
            let host = Host::parse(&name).map_err(|e| invalid(e.to_string()))?;
            Ok(Target {
                host,
                written: None,
            })
        }
    }
}
