//! The decision log's line (docs/proxy.md): one JSON object a request,
//! written by `egress proxy` and read back by `egress audit log --input
//! egress`. One type for both sides, so that what the proxy writes is what
//! the audit reads.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// What the proxy did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Logged {
    Allow,
    Deny,
}

/// One line of the decision log. Borrowed when the proxy writes it, owned
/// when a reader parses it; the fields a reader can do without may be
/// absent (hand-written lines, logs of earlier versions).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionLine<'a> {
    /// RFC 3339, UTC.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    pub source: IpAddr,
    /// The client's user, when clients authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub method: Cow<'a, str>,
    /// The host, normalized; `written` is how the client wrote it, when
    /// that differs.
    #[serde(borrow)]
    pub host: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<Cow<'a, str>>,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Cow<'a, str>>,
    pub decision: Logged,
    /// The status the client got: 403 denied, 407 asked to authenticate,
    /// 429 over its rate, 502 the origin unreachable, 200 otherwise.
    /// Absent in logs of versions before it was written.
    #[serde(default)]
    pub status: Option<u16>,
    /// Allowed in report mode although the plan does not allow it.
    #[serde(default)]
    pub would_deny: bool,
    #[serde(default, borrow)]
    pub reason: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_miss: Option<Cow<'a, str>>,
    #[serde(default)]
    pub roles: Cow<'a, [String]>,
    #[serde(default)]
    pub servers: Cow<'a, [String]>,
    #[serde(default)]
    pub rows: Cow<'a, [String]>,
    /// The catalog endpoints and features behind the rows.
    #[serde(default)]
    pub endpoints: Cow<'a, [String]>,
    #[serde(default)]
    pub features: Cow<'a, [String]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<SocketAddr>,
    /// The time to connect to the origin (or to get the parent's tunnel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    /// Why an allowed request did not reach its origin (DNS, connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'a, str>>,
    /// For tunnels: bytes from the client, and to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_up: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_down: Option<u64>,
    #[serde(default)]
    pub duration_ms: u64,
}

impl DecisionLine<'_> {
    /// The status the client got: the line's, or for a line without one,
    /// what that version answered (403 denied, 502 failed, 200 allowed).
    pub fn status(&self) -> u16 {
        self.status.unwrap_or(match (self.decision, &self.error) {
            (Logged::Deny, _) => 403,
            (Logged::Allow, Some(_)) => 502,
            (Logged::Allow, None) => 200,
        })
    }
}
