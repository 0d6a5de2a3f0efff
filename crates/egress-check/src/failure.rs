//! Why a probe failed, as data: the first failing phase's error, with who
//! failed (the proxy, the target, or one of the two through the proxy), so
//! that the reason in words and the next step both follow from it.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Who a failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The proxy itself: its name, its port, its rules or its credentials.
    Proxy,
    /// The endpoint.
    Target,
    /// An answer through the proxy that either may have given.
    ProxyOrTarget,
}

/// How one TCP connect attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    Refused,
    TimedOut(Duration),
    Other(String),
}

/// An HTTP status as the peer sent it: the code and its reason phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub phrase: String,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.phrase.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.phrase)
        }
    }
}

/// What the proxy was asked: to open a tunnel, or to forward a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Connect,
    Forward,
}

/// The first failure of a probe. Its `Display` is the reason in plain
/// words; it never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The name does not resolve (`of_proxy`: the proxy's own name).
    NoSuchHost {
        of_proxy: bool,
    },
    DnsTimeout {
        server: Option<SocketAddr>,
        after: Duration,
        of_proxy: bool,
    },
    DnsRefused {
        server: SocketAddr,
        of_proxy: bool,
    },
    Dns {
        detail: String,
        of_proxy: bool,
    },
    /// Every address failed to connect.
    Connect {
        attempts: Vec<(SocketAddr, ConnectError)>,
        to_proxy: bool,
    },
    /// The proxy did not answer its request in time.
    ProxyTimeout {
        request: Request,
        after: Duration,
    },
    /// The exchange with the proxy broke off.
    ProxyExchange {
        request: Request,
        detail: String,
    },
    /// 407 (or 401) without credentials.
    ProxyAuthRequired {
        who: String,
        status: u16,
        /// The schemes its `Proxy-Authenticate` headers offer (`NTLM`,
        /// `Negotiate`, `Basic`).
        offered: Vec<String>,
    },
    /// Authenticating to the proxy failed: the scheme was not one egress
    /// can use, the credentials were rejected, or a leg went wrong.
    ProxyAuth {
        who: String,
        status: u16,
        failure: crate::auth::AuthFailure,
    },
    /// The proxy (known by evidence) refused: 403 and the like.
    ProxyDenied {
        request: Request,
        status: Status,
        who: String,
    },
    /// The proxy (known by evidence) could not reach or verify the target.
    ProxyCannotReach {
        request: Request,
        status: Status,
        who: String,
    },
    /// A 401, 403 or 5xx through the proxy with no evidence of who sent it.
    ThroughProxy {
        status: Status,
        intercepted: bool,
    },
    TlsTimeout {
        after: Duration,
    },
    TlsHandshake(String),
    TlsUntrusted {
        issuer: String,
    },
    TlsWrongName {
        host: String,
    },
    TlsExpired {
        issuer: String,
    },
    TlsOther(String),
    HttpTimeout {
        after: Duration,
    },
    HttpFailed(String),
    BadRedirect {
        location: String,
    },
    TooManyRedirects {
        max: usize,
    },
    /// The catalog lists which statuses mean reachable, and this is not one.
    UnexpectedStatus {
        status: u16,
        reachable: Vec<u16>,
    },
    /// The route offers only proxies egress cannot use (a PAC file's
    /// `SOCKS5`, `HTTPS`): what it offered.
    UnsupportedRoute(String),
    /// The route could not be set up (its PAC file could not be fetched).
    NoRoute(String),
    /// The probe itself failed (a bug): reported, never lost.
    Internal(String),
}

impl Failure {
    /// Who the failure is about.
    pub fn side(&self) -> Side {
        match self {
            Failure::NoSuchHost { of_proxy }
            | Failure::DnsTimeout { of_proxy, .. }
            | Failure::DnsRefused { of_proxy, .. }
            | Failure::Dns { of_proxy, .. } => side(*of_proxy),
            Failure::Connect { to_proxy, .. } => side(*to_proxy),
            Failure::ProxyTimeout { .. }
            | Failure::ProxyExchange { .. }
            | Failure::ProxyAuthRequired { .. }
            | Failure::ProxyAuth { .. }
            | Failure::ProxyDenied { .. }
            | Failure::UnsupportedRoute(_)
            | Failure::NoRoute(_) => Side::Proxy,
            // The proxy answered; what it could not reach is the target.
            Failure::ProxyCannotReach { .. } => Side::Target,
            Failure::ThroughProxy { .. } => Side::ProxyOrTarget,
            _ => Side::Target,
        }
    }
}

fn side(proxy: bool) -> Side {
    if proxy { Side::Proxy } else { Side::Target }
}

/// `5 s`, `500 ms`.
pub(crate) fn secs(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let of = |proxy: bool| if proxy { " (the proxy)" } else { "" };
        let asked = |r: &Request| match r {
            Request::Connect => "CONNECT",
            Request::Forward => "the request",
        };
        match self {
            Failure::NoSuchHost { of_proxy } => write!(f, "no such host{}", of(*of_proxy)),
            Failure::DnsTimeout {
                server: Some(server),
                after,
                of_proxy,
            } => write!(
                f,
                "no answer from {server} within {}{}",
                secs(*after),
                of(*of_proxy)
            ),
            Failure::DnsTimeout {
                server: None,
                after,
                of_proxy,
            } => write!(f, "no answer within {}{}", secs(*after), of(*of_proxy)),
            Failure::DnsRefused { server, of_proxy } => {
                write!(f, "{server} refused the query{}", of(*of_proxy))
            }
            Failure::Dns { detail, of_proxy } => write!(f, "{detail}{}", of(*of_proxy)),
            Failure::Connect { attempts, to_proxy } => {
                let each: Vec<String> = attempts
                    .iter()
                    .map(|(addr, e)| match e {
                        ConnectError::Refused => format!("connection refused by {addr}"),
                        ConnectError::TimedOut(d) => {
                            format!("connection timed out after {} to {addr}", secs(*d))
                        }
                        ConnectError::Other(e) => format!("{e} ({addr})"),
                    })
                    .collect();
                write!(f, "{}{}", each.join("; "), of(*to_proxy))
            }
            Failure::ProxyTimeout { request, after } => {
                write!(f, "no answer to {} within {}", asked(request), secs(*after))
            }
            Failure::ProxyExchange { request, detail } => {
                write!(f, "{} failed: {detail}", asked(request))
            }
            Failure::ProxyAuthRequired {
                who,
                status,
                offered,
            } => {
                write!(f, "proxy requires authentication ({status}, {who}")?;
                if !offered.is_empty() {
                    write!(f, "; offers {}", offered.join(", "))?;
                }
                f.write_str(")")
            }
            Failure::ProxyAuth {
                who,
                status,
                failure,
            } => write!(f, "{failure} ({status}, {who})"),
            Failure::ProxyDenied {
                request,
                status,
                who,
            } => write!(f, "proxy denied {} ({status}, {who})", asked(request)),
            Failure::ProxyCannotReach { status, who, .. } => {
                write!(f, "the proxy could not reach the target ({status}, {who})")
            }
            Failure::ThroughProxy {
                status,
                intercepted: false,
            } => write!(
                f,
                "status {status} through the proxy (the proxy or the origin)"
            ),
            Failure::ThroughProxy {
                status,
                intercepted: true,
            } => write!(
                f,
                "status {status} inside the inspected tunnel (the inspecting proxy or the origin)"
            ),
            Failure::TlsTimeout { after } => {
                write!(f, "handshake timed out after {}", secs(*after))
            }
            Failure::TlsHandshake(e) => write!(f, "handshake failed: {e}"),
            Failure::TlsUntrusted { issuer } => {
                write!(f, "certificate issued by {issuer} is not trusted")
            }
            Failure::TlsWrongName { host } => write!(f, "certificate is not valid for {host}"),
            Failure::TlsExpired { issuer } => {
                write!(f, "certificate issued by {issuer} has expired")
            }
            Failure::TlsOther(e) => write!(f, "certificate not trusted: {e}"),
            Failure::HttpTimeout { after } => write!(f, "no response within {}", secs(*after)),
            Failure::HttpFailed(e) => write!(f, "request failed: {e}"),
            Failure::BadRedirect { location } => write!(
                f,
                "redirect to `{location}`, which is not an http or https URL"
            ),
            Failure::TooManyRedirects { max } => write!(f, "more than {max} redirects"),
            Failure::UnexpectedStatus { status, reachable } => {
                let list: Vec<String> = reachable.iter().map(u16::to_string).collect();
                write!(
                    f,
                    "status {status} is not one the catalog counts as reachable ({})",
                    list.join(", ")
                )
            }
            Failure::UnsupportedRoute(offered) => write!(
                f,
                "the route offers only {offered}, which egress cannot use (it speaks to HTTP proxies)"
            ),
            Failure::NoRoute(why) => write!(f, "no route: {why}"),
            Failure::Internal(e) => write!(f, "the probe failed unexpectedly: {e}"),
        }
    }
}
