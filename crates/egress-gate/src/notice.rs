//! What `egress proxy` says, as data: the notices at start and reload
//! (what it cannot hold exactly, what may break), a denial's body, and
//! the line of Squid's native access.log for each request. The binary
//! sends and writes them.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use egress_catalog::catalog::Scheme;
use serde::Serialize;

use crate::decision::Plans;

/// What the proxy cannot hold exactly (`loss: `), then what may break
/// (`warning: `), for the start and every reload.
pub fn notices(plans: &Plans, idle: Duration) -> Vec<String> {
    let losses = path_losses(plans).into_iter().map(|l| format!("loss: {l}"));
    let warnings = idle_warnings(plans, idle)
        .into_iter()
        .map(|w| format!("warning: {w}"));
    losses.chain(warnings).collect()
}

/// Rows whose catalog entry wants a proxy to keep idle connections
/// longer than `--tunnel-idle-timeout`.
fn idle_warnings(plans: &Plans, idle: Duration) -> Vec<String> {
    let mut out: Vec<String> = plans
        .rows()
        .filter_map(|r| {
            let wanted = Duration::from_secs(u64::from(r.min_proxy_idle_timeout_secs?));
            (wanted > idle).then(|| {
                format!(
                    "`{}` keeps connections idle for up to {}; --tunnel-idle-timeout {} closes them sooner",
                    r.host,
                    humantime::format_duration(wanted),
                    humantime::format_duration(idle)
                )
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// HTTPS endpoints that name a path: through CONNECT only the host is
/// visible, so the proxy allows the whole host.
fn path_losses(plans: &Plans) -> Vec<String> {
    let mut out: Vec<String> = plans
        .rows()
        .filter(|r| {
            r.path.as_deref().is_some_and(|p| p != "/")
                && r.schemes.contains_key(&Scheme::Https)
                && r.status.is_in_force()
        })
        .map(|r| {
            format!(
                "`{}{}` names a path, but a CONNECT tunnel shows only the host: the proxy allows all of `{}` over HTTPS",
                r.host,
                r.path.as_deref().unwrap_or(""),
                r.host
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A denial's body (docs/proxy.md): the host and port, the roles the
/// source asked as, why, and the catalog's nearest near miss. JSON when
/// the client asks for it, else [`Denial::text`].
#[derive(Debug, Serialize)]
pub struct Denial<'a> {
    pub decision: &'static str,
    pub host: String,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    pub roles: &'a [String],
    pub reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near_miss: Option<&'a str>,
}

impl Denial<'_> {
    /// The denial as one line of text.
    pub fn text(&self) -> String {
        let mut body = format!("egress proxy denied {}:{}", self.host, self.port);
        if !self.roles.is_empty() {
            body.push_str(&format!(" (roles: {})", self.roles.join(", ")));
        }
        body.push_str(&format!(": {}", self.reason));
        if let Some(near) = self.near_miss {
            body.push_str("; ");
            body.push_str(near);
        }
        body.push('\n');
        body
    }
}

/// What happened to a request, in Squid's words (`%Ss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Denied,
    /// Allowed, and the origin could not be reached.
    Aborted,
    Tunnel,
    Miss,
}

/// Where a request went, in Squid's words (`%Sh/%<a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hierarchy<'a> {
    None,
    Parent(&'a str),
    Direct(IpAddr),
}

/// A request as Squid's native access.log format writes it (`logformat
/// squid`: time, elapsed ms, client, action/status, bytes, method, URL,
/// user, hierarchy/peer, type), so that log tools read both alike.
#[derive(Debug)]
pub struct AccessLine<'a> {
    pub at: jiff::Timestamp,
    pub elapsed: Duration,
    pub client: IpAddr,
    pub action: Action,
    pub status: u16,
    /// The bytes sent to the client.
    pub bytes: u64,
    pub method: &'a str,
    pub host: &'a str,
    pub port: u16,
    /// The path of a plain-HTTP request.
    pub path: Option<&'a str>,
    pub user: Option<&'a str>,
    pub hierarchy: Hierarchy<'a>,
}

impl fmt::Display for AccessLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            Action::Denied => "TCP_DENIED",
            Action::Aborted => "TCP_MISS_ABORTED",
            Action::Tunnel => "TCP_TUNNEL",
            Action::Miss => "TCP_MISS",
        };
        let url = match (self.method, self.path) {
            ("CONNECT", _) | (_, None) => format!("{}:{}", self.host, self.port),
            (_, Some(path)) => format!("http://{}:{}{path}", self.host, self.port),
        };
        let hierarchy = match self.hierarchy {
            Hierarchy::None => "HIER_NONE/-".to_owned(),
            Hierarchy::Parent(host) => format!("FIRSTUP_PARENT/{host}"),
            Hierarchy::Direct(ip) => format!("HIER_DIRECT/{ip}"),
        };
        write!(
            f,
            "{}.{:03} {:>6} {} {action}/{:03} {} {} {url} {} {hierarchy} -",
            self.at.as_second(),
            self.at.subsec_millisecond(),
            self.elapsed.as_millis(),
            self.client,
            self.status,
            self.bytes,
            self.method,
            self.user.unwrap_or("-"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_read_as_squids() {
        let at: jiff::Timestamp = "2026-12-08T05:00:00.25Z".parse().unwrap();
        let line = |action, status, method, path, hierarchy| {
            AccessLine {
                at,
                elapsed: Duration::from_millis(12),
                client: "10.0.0.5".parse().unwrap(),
                action,
                status,
                bytes: 4721,
                method,
                host: "go.microsoft.com",
                port: 443,
                path,
                user: Some("svc-scp"),
                hierarchy,
            }
            .to_string()
        };
        assert_eq!(
            line(
                Action::Tunnel,
                200,
                "CONNECT",
                None,
                Hierarchy::Direct("20.1.2.3".parse().unwrap())
            ),
            "1796706000.250     12 10.0.0.5 TCP_TUNNEL/200 4721 CONNECT go.microsoft.com:443 svc-scp HIER_DIRECT/20.1.2.3 -"
        );
        assert_eq!(
            line(Action::Denied, 403, "GET", Some("/x"), Hierarchy::None),
            "1796706000.250     12 10.0.0.5 TCP_DENIED/403 4721 GET http://go.microsoft.com:443/x svc-scp HIER_NONE/- -"
        );
        assert_eq!(
            line(
                Action::Aborted,
                502,
                "GET",
                Some("/"),
                Hierarchy::Parent("proxy.contoso.test")
            ),
            "1796706000.250     12 10.0.0.5 TCP_MISS_ABORTED/502 4721 GET http://go.microsoft.com:443/ svc-scp FIRSTUP_PARENT/proxy.contoso.test -"
        );
    }

    #[test]
    fn denials_say_who_asked_and_why() {
        let roles = ["service-connection-point".to_owned()];
        let d = Denial {
            decision: "deny",
            host: "evil.example".to_owned(),
            port: 443,
            path: None,
            roles: &roles,
            reason: "not in the plan",
            near_miss: Some("nearest: *.manage.microsoft.com"),
        };
        assert_eq!(
            d.text(),
            "egress proxy denied evil.example:443 (roles: service-connection-point): not in the plan; nearest: *.manage.microsoft.com\n"
        );
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({
                "decision": "deny", "host": "evil.example", "port": 443,
                "roles": ["service-connection-point"], "reason": "not in the plan",
                "near_miss": "nearest: *.manage.microsoft.com"
            })
        );
    }
}
