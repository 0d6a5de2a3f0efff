//! Squid ACLs: their values as Squid parses them, and whether a request
//! matches one: yes, no, or not known here (a type egress does not
//! evaluate, a list file it cannot find, a value only the proxy's DNS
//! knows), or not until the client authenticates.

pub(crate) use crate::span::{Span, spans_hold};

/// Whether an ACL (or a rule) matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Truth {
    Yes,
    No,
    /// Not known here: why, naming the ACL, its type and where.
    Unknown(String),
    /// Squid asks the client to authenticate first (an authentication
    /// ACL, and no user to judge as): where.
    Auth(String),
    /// Not known here (why), and where it matches Squid asks the client
    /// to authenticate next: no later rule settles it.
    UnknownThenAuth(String),
}

impl Truth {
    pub fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            other => other,
        }
    }
}

/// What an ACL holds, by type.
#[derive(Debug)]
pub(crate) enum Values {
    /// `dstdomain`, `ssl::server_name`: `.x` is `x` and its subdomains;
    /// `x` is `x` only; without case. `lookup`: an IP-address host is
    /// matched by its reverse DNS name (no `-n`).
    Domains {
        names: Vec<String>,
        lookup: bool,
    },
    /// `dstdom_regex`, `ssl::server_name_regex`: on the host.
    HostRegex {
        list: Vec<regex::Regex>,
        lookup: bool,
    },
    /// `url_regex`: on the URL (`host:port` for CONNECT).
    UrlRegex(Vec<regex::Regex>),
    /// `urlpath_regex`: on the path (empty for CONNECT).
    PathRegex(Vec<regex::Regex>),
    Dst(Vec<Span>),
    Src(Vec<Span>),
    Ports(Vec<(u16, u16)>),
    LocalPorts(Vec<(u16, u16)>),
    /// Compared without case, as Squid's relaxed parser (its default)
    /// reads method names.
    Methods(Vec<String>),
    /// `proxy_auth`: `None` is `REQUIRED` (any user who authenticates).
    Users {
        names: Option<Vec<String>>,
        ignore_case: bool,
    },
    UserRegex(Vec<regex::Regex>),
    /// `all-of`: a group of ACLs a line (by index), all of one group
    /// matching; `any-of`: any of the ACLs.
    AllOf(Vec<Vec<usize>>),
    AnyOf(Vec<usize>),
    /// `at_step`: `SslBump1` is 1, and so on.
    Steps(Vec<u8>),
    /// A type egress does not evaluate.
    Other,
}

/// One ACL: every `acl` line of its name.
#[derive(Debug)]
pub(crate) struct Acl {
    /// As first written.
    pub name: String,
    pub kind: String,
    /// `file:line` of its first line.
    pub at: String,
    pub values: Values,
    /// Values as written, with `file:line`.
    pub written: Vec<(String, String)>,
    /// Why some of its values are not known (a list file not found, a
    /// pattern egress cannot read): a request that none of the known
    /// values matches is not judged.
    pub unknown: Option<String>,
    /// `ssl::server_name --client-requested`: the name the client asked
    /// for, at every `ssl_bump` step (otherwise, at step 3, the server
    /// certificate's names).
    pub client_requested: bool,
}

impl Acl {
    /// `acl NAME of type TYPE at file:line`.
    pub fn described(&self) -> String {
        if self.at.starts_with(super::PREDEFINED_AT) {
            format!(
                "acl {} of type {} (predefined by Squid)",
                self.name, self.kind
            )
        } else {
            format!("acl {} of type {} at {}", self.name, self.kind, self.at)
        }
    }
}

/// The ACL types whose values egress reads, and the part of a request
/// each is matched against.
pub(crate) fn empty_values(kind: &str) -> Values {
    match kind {
        "dstdomain" | "ssl::server_name" => Values::Domains {
            names: Vec::new(),
            lookup: kind == "dstdomain",
        },
        "dstdom_regex" | "ssl::server_name_regex" => Values::HostRegex {
            list: Vec::new(),
            lookup: kind == "dstdom_regex",
        },
        "url_regex" => Values::UrlRegex(Vec::new()),
        "urlpath_regex" => Values::PathRegex(Vec::new()),
        "dst" => Values::Dst(Vec::new()),
        "src" => Values::Src(Vec::new()),
        "port" => Values::Ports(Vec::new()),
        "localport" => Values::LocalPorts(Vec::new()),
        "method" => Values::Methods(Vec::new()),
        "proxy_auth" => Values::Users {
            names: Some(Vec::new()),
            ignore_case: false,
        },
        "proxy_auth_regex" => Values::UserRegex(Vec::new()),
        "all-of" => Values::AllOf(Vec::new()),
        "any-of" => Values::AnyOf(Vec::new()),
        "at_step" => Values::Steps(Vec::new()),
        _ => Values::Other,
    }
}

/// A port or a range of ports (`1025-65535`).
pub(crate) fn port_range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    match (a.parse::<u16>(), b.parse::<u16>()) {
        (Ok(a), Ok(b)) if a <= b => Some((a, b)),
        _ => None,
    }
}

/// Whether a domain value (`.x` or `x`, lowercase) holds `host`.
pub(crate) fn domain_holds(value: &str, host: &str) -> bool {
    match value.strip_prefix('.') {
        Some(x) => host == x || host.strip_suffix(x).is_some_and(|h| h.ends_with('.')),
        None => host == value,
    }
}
