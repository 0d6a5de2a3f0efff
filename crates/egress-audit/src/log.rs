//! Proxy log lines, read as requests.

use std::borrow::Cow;

use egress_gate::log::{DecisionLine, Logged};

/// What a log is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Squid's native `access.log` (`logformat squid`), as `egress proxy
    /// --access-log` writes it too.
    Squid,
    /// W3C extended log files (IIS, ISA/TMG/Forefront, many appliances):
    /// the fields a `#Fields:` directive names.
    W3c,
    /// `egress proxy --decision-log`: a JSON object a line.
    Egress,
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Allowed,
    /// Refused by the proxy (403, Squid's `TCP_DENIED`, a W3C `Denied`
    /// action, egress's `deny`).
    Denied,
    /// Asked to authenticate (407): the first legs of every NTLM or
    /// Negotiate handshake, or credentials the proxy does not take.
    Challenged,
    /// Allowed, but the proxy could not reach the origin (5xx from the
    /// proxy, status 0, egress's `error`).
    Failed,
}

/// One request of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The host as written (not yet normalized).
    pub host: Cow<'a, str>,
    pub port: Option<u16>,
    /// `CONNECT` (a tunnel: HTTPS), `GET`, ...
    pub method: Cow<'a, str>,
    pub status: u16,
    pub outcome: Outcome,
    pub client: Cow<'a, str>,
    /// The user the client authenticated as, `-` for none.
    pub user: Cow<'a, str>,
    /// As the log writes it (Squid: Unix seconds; W3C: `date time`;
    /// egress: RFC 3339); compared as text within one log.
    pub time: Cow<'a, str>,
}

/// Why a line is not a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadLine(pub String);

/// The shape a log's lines were read in, named in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shape {
    /// `logformat squid`.
    SquidNative,
    /// Squid's predefined `common`.
    SquidCommon,
    /// Squid's predefined `combined`.
    SquidCombined,
    W3c,
    Egress,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::SquidNative => "Squid native (logformat squid)",
            Shape::SquidCommon => "Squid common (logformat common)",
            Shape::SquidCombined => "Squid combined (logformat combined)",
            Shape::W3c => "W3C extended (#Fields:)",
            Shape::Egress => "egress proxy decision log",
        }
    }
}

/// Reads the lines of one log, in order (a W3C log's `#Fields:` applies
/// to the lines after it).
#[derive(Debug)]
pub struct Reader {
    format: Format,
    fields: Option<W3cFields>,
    /// The shape of the last line read as a request.
    shape: Option<Shape>,
}

impl Reader {
    pub fn new(format: Format) -> Reader {
        Reader {
            format,
            fields: None,
            shape: None,
        }
    }

    /// The shape of the last line read as a request.
    pub fn shape(&self) -> Option<Shape> {
        self.shape
    }

    /// A Squid line: in the shape of the lines before, else of its own; a
    /// line of the other shape (a log written across a reconfigure) is
    /// read in that one; a line of neither gets the error of the shape it
    /// looks like.
    fn squid_line<'a>(&self, line: &'a str) -> Result<(Option<Entry<'a>>, Shape), BadLine> {
        let common = match self.shape {
            Some(Shape::SquidCommon | Shape::SquidCombined) => true,
            Some(_) => false,
            None => squid_common_shape(line),
        };
        let (read, other): (SquidRead, SquidRead) = if common {
            (squid_common, squid_native)
        } else {
            (squid_native, squid_common)
        };
        read(line).or_else(|e| {
            other(line).map_err(|other| {
                if squid_common_shape(line) == common {
                    e
                } else {
                    other
                }
            })
        })
    }

    /// The request `line` records; `None` for a line that records none
    /// (blank, a comment or directive, a Squid transaction without a URL).
    pub fn read<'a>(&mut self, line: &'a str) -> Result<Option<Entry<'a>>, BadLine> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return Ok(None);
        }
        let (entry, shape) = match self.format {
            Format::Squid => self.squid_line(line)?,
            Format::W3c => {
                if let Some(directive) = line.strip_prefix('#') {
                    if let Some(fields) = directive.strip_prefix("Fields:") {
                        // Until a usable directive comes, no line reads.
                        self.fields = None;
                        self.fields = Some(W3cFields::new(fields)?);
                    }
                    return Ok(None);
                }
                match &self.fields {
                    Some(fields) => (fields.read(line)?, Shape::W3c),
                    None => {
                        return Err(BadLine(
                            "a W3C log line before any `#Fields:` directive".to_owned(),
                        ));
                    }
                }
            }
            Format::Egress => (egress(line)?, Shape::Egress),
        };
        if entry.is_some() {
            self.shape = Some(shape);
        }
        Ok(entry)
    }
}

/// A reader of one Squid line shape.
type SquidRead = for<'a> fn(&'a str) -> Result<(Option<Entry<'a>>, Shape), BadLine>;

/// Squid's native format, as one of the shapes a Squid log has.
fn squid_native(line: &str) -> Result<(Option<Entry<'_>>, Shape), BadLine> {
    squid(line).map(|e| (e, Shape::SquidNative))
}

/// Whether a Squid log line has the shape of Squid's `common` and
/// `combined` formats (`client ident user [time] "request" ...`) rather
/// than the native one (whose fourth field is `ACTION/STATUS`).
fn squid_common_shape(line: &str) -> bool {
    Fields(line).nth(3).is_some_and(|f| f.starts_with('['))
}

/// Squid's predefined `common` format (`%>a %[ui %[un [%tl] "%rm %ru
/// HTTP/%rv" %>Hs %<st %Ss:%Sh`) and `combined` (`"%{Referer}>h"
/// "%{User-Agent}>h"` before `%Ss:%Sh`).
fn squid_common(line: &str) -> Result<(Option<Entry<'_>>, Shape), BadLine> {
    let shape_error = || {
        BadLine(
            "not Squid's native, common or combined format: `client ident user [time] \"METHOD URL HTTP/x\" status bytes ...`"
                .to_owned(),
        )
    };
    let mut fields = Fields(line);
    let client = fields.next().ok_or_else(shape_error)?;
    let _ident = fields.next().ok_or_else(shape_error)?;
    let user = fields.next().ok_or_else(shape_error)?;
    let rest = fields.0.trim_start();
    let rest = rest.strip_prefix('[').ok_or_else(shape_error)?;
    let close = first(rest, b']').ok_or_else(shape_error)?;
    let time = common_time(&rest[..close]);
    let rest = rest[close + 1..].trim_start();
    let rest = rest.strip_prefix('"').ok_or_else(shape_error)?;
    let close = first(rest, b'"').ok_or_else(shape_error)?;
    let mut request = rest[..close].split(' ');
    let method = request
        .next()
        .filter(|m| !m.is_empty())
        .ok_or_else(shape_error)?;
    let url = request.next().ok_or_else(shape_error)?;
    let mut after = Fields(&rest[close + 1..]);
    let status = after.next().ok_or_else(shape_error)?;
    let _bytes = after.next().ok_or_else(shape_error)?;
    let rest = after.0.trim_start();
    let shape = if rest.starts_with('"') {
        Shape::SquidCombined
    } else {
        Shape::SquidCommon
    };
    // The action is the last field (`TCP_DENIED:HIER_NONE`).
    let action = rest.rsplit(' ').next().unwrap_or_default();
    let status: u16 = status
        .parse()
        .map_err(|_| BadLine(format!("`{status}` is not an HTTP status")))?;
    if url.starts_with("error:") || url == "-" {
        return Ok((None, shape));
    }
    let (host, port) = url_host(url, method)?;
    Ok((
        Some(Entry {
            host: Cow::Borrowed(host),
            port,
            method: Cow::Borrowed(method),
            status,
            outcome: squid_outcome(action, status),
            client: Cow::Borrowed(client),
            user: Cow::Borrowed(user),
            time,
        }),
        shape,
    ))
}

/// A `common` time (`07/Dec/2026:10:00:00 +0000`) written so that times
/// sort as text (`2026-12-07 10:00:00 +0000`), as the other formats'
/// do; as written when it is not one.
fn common_time(time: &str) -> Cow<'_, str> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts = || {
        let (date, rest) = time.split_once(':')?;
        let mut date = date.split('/');
        let (day, month, year) = (date.next()?, date.next()?, date.next()?);
        let month = MONTHS.iter().position(|m| *m == month)? + 1;
        Some(format!("{year}-{month:02}-{day} {rest}"))
    };
    parts().map_or(Cow::Borrowed(time), Cow::Owned)
}

/// What Squid's action (`TCP_DENIED`, `TCP_MISS_ABORTED`) and status say
/// became of a request.
fn squid_outcome(action: &str, status: u16) -> Outcome {
    if status == 407 {
        Outcome::Challenged
    } else if has(action, b"DENIED") || status == 403 {
        Outcome::Denied
    } else if status == 0 || status >= 500 || has(action, b"ABORTED") {
        Outcome::Failed
    } else {
        Outcome::Allowed
    }
}

/// `time elapsed client action/status bytes method URL user hierarchy
/// type`.
fn squid(line: &str) -> Result<Option<Entry<'_>>, BadLine> {
    let mut fields = Fields(line);
    let mut next = |what: &str| {
        fields.next().ok_or_else(|| {
            BadLine(format!(
                "Squid's native format has 10 fields; {what} is missing"
            ))
        })
    };
    let time = next("the time")?;
    let _elapsed = next("the elapsed time")?;
    let client = next("the client")?;
    let action = next("the action/status")?;
    let _bytes = next("the size")?;
    let method = next("the method")?;
    let url = next("the URL")?;
    let slash =
        last(action, b'/').ok_or_else(|| BadLine(format!("`{action}` is not ACTION/STATUS")))?;
    let (action, status) = (&action[..slash], &action[slash + 1..]);
    let status: u16 = status
        .parse()
        .map_err(|_| BadLine(format!("`{status}` is not an HTTP status")))?;
    if url.starts_with("error:") || url == "-" {
        // A transaction that never became a request (`error:invalid-request`).
        return Ok(None);
    }
    let (host, port) = url_host(url, method)?;
    let outcome = squid_outcome(action, status);
    // The user matters to a challenge only (read there alone: a field
    // less to find on every other line).
    let user = if outcome == Outcome::Challenged {
        fields.next().unwrap_or("-")
    } else {
        "-"
    };
    Ok(Some(Entry {
        host: Cow::Borrowed(host),
        port,
        method: Cow::Borrowed(method),
        status,
        outcome,
        client: Cow::Borrowed(client),
        user: Cow::Borrowed(user),
        time: Cow::Borrowed(time),
    }))
}

/// The space-separated fields of a line (runs of spaces are one
/// separator: Squid pads its elapsed time).
struct Fields<'a>(&'a str);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.0.as_bytes();
        let start = bytes.iter().position(|&b| b != b' ')?;
        let rest = &self.0[start..];
        let end = first(rest, b' ').unwrap_or(rest.len());
        self.0 = &rest[end..];
        Some(&rest[..end])
    }
}

/// Whether `text` holds `word` (short texts: a plain scan).
fn has<const N: usize>(text: &str, word: &[u8; N]) -> bool {
    text.as_bytes().windows(N).any(|w| w == word)
}

/// Where `byte` first is in `text`.
fn first(text: &str, byte: u8) -> Option<usize> {
    memchr::memchr(byte, text.as_bytes())
}

/// Where `byte` last is in `text`.
fn last(text: &str, byte: u8) -> Option<usize> {
    memchr::memrchr(byte, text.as_bytes())
}

/// The host and port a request URL names: `host:port` (CONNECT, or a
/// TMG `cs-uri`), `scheme://[user@]host[:port]/...`, `[v6]:port`.
pub fn url_host<'a>(url: &'a str, method: &str) -> Result<(&'a str, Option<u16>), BadLine> {
    // Messages quote the URL without its user information: a log's URL
    // may carry a password (`http://user:password@host/`).
    let bad = |what: String| BadLine(format!("`{}`{what}", without_user(url)));
    let (scheme, rest) = match first(url, b':') {
        Some(colon) if url[colon..].starts_with("://") => (Some(&url[..colon]), &url[colon + 3..]),
        _ => (None, url),
    };
    let end = memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = last(authority, b'@').map_or(authority, |at| &authority[at + 1..]);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad(": an IPv6 address without `]`".to_owned()))?;
        (host, after.strip_prefix(':'))
    } else {
        match last(authority, b':') {
            Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad(" names no host".to_owned()));
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| bad(format!(": `{p}` is not a port")))?,
        ),
        None => match (scheme, method) {
            (Some(s), _) if s.eq_ignore_ascii_case("https") => Some(443),
            (Some(s), _) if s.eq_ignore_ascii_case("http") => Some(80),
            (None, "CONNECT") => Some(443),
            _ => None,
        },
    };
    Ok((host, port))
}

/// Where a W3C log's fields are, by the names of its `#Fields:` line.
#[derive(Debug)]
struct W3cFields {
    count: usize,
    date: Option<usize>,
    time: Option<usize>,
    client: Option<usize>,
    method: Option<usize>,
    /// `cs-uri`: a whole URL, or `host:port` for CONNECT.
    uri: Option<usize>,
    /// `cs-host` or `r-host`: the target's host.
    host: Option<usize>,
    /// `r-port`, `cs-uri-port`: the target's port.
    port: Option<usize>,
    scheme: Option<usize>,
    status: Option<usize>,
    /// `s-action`, `action`, `x-action`: `Allowed`, `Denied`, `TCP_DENIED`.
    action: Option<usize>,
    /// ProxySG's `x-exception-id`: why it refused or failed a request
    /// (`policy_denied`, `dns_unresolved_hostname`), `-` for none.
    exception: Option<usize>,
    /// `cs-username`.
    user: Option<usize>,
}

impl W3cFields {
    fn new(names: &str) -> Result<W3cFields, BadLine> {
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let at = |wanted: &[&str]| {
            wanted
                .iter()
                .find_map(|w| names.iter().position(|n| n.eq_ignore_ascii_case(w)))
        };
        let fields = W3cFields {
            count: names.len(),
            date: at(&["date"]),
            time: at(&["time"]),
            client: at(&["c-ip"]),
            method: at(&["cs-method"]),
            uri: at(&["cs-uri"]),
            host: at(&["cs-host", "r-host", "cs(host)", "r-dns"]),
            port: at(&["r-port", "cs-uri-port"]),
            scheme: at(&["cs-uri-scheme", "cs-protocol"]),
            status: at(&["sc-status"]),
            action: at(&["s-action", "action", "x-action", "sc-filter-result"]),
            exception: at(&["x-exception-id"]),
            user: at(&["cs-username"]),
        };
        if fields.host.is_none() && fields.uri.is_none() {
            return Err(BadLine(
                "the `#Fields:` directive names no host field (cs-host, r-host or cs-uri)"
                    .to_owned(),
            ));
        }
        if fields.status.is_none() && fields.action.is_none() {
            return Err(BadLine(
                "the `#Fields:` directive names neither sc-status nor an action field".to_owned(),
            ));
        }
        Ok(fields)
    }

    fn read<'a>(&self, line: &'a str) -> Result<Option<Entry<'a>>, BadLine> {
        let values = w3c_values(line)?;
        if values.len() != self.count {
            return Err(BadLine(format!(
                "{} fields where `#Fields:` names {}",
                values.len(),
                self.count
            )));
        }
        let get = |i: Option<usize>| i.map(|i| values[i]).filter(|v| *v != "-" && !v.is_empty());
        let method = get(self.method).unwrap_or("-");
        let (mut host, mut port) = match get(self.host) {
            Some(h) => (h, None),
            None => ("", None),
        };
        if let Some(uri) = get(self.uri)
            && (host.is_empty() || uri.contains("://"))
        {
            let (h, p) = url_host(uri, method)?;
            if host.is_empty() {
                host = h;
            }
            port = p;
        }
        if host.is_empty() {
            return Err(BadLine("the line names no host".to_owned()));
        }
        if let Some(p) = get(self.port) {
            port = Some(
                p.parse()
                    .map_err(|_| BadLine(format!("`{p}` is not a port")))?,
            );
        }
        if port.is_none() {
            port = match get(self.scheme).map(str::to_ascii_lowercase).as_deref() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ if method == "CONNECT" => Some(443),
                _ => None,
            };
        }
        let status: u16 = match get(self.status) {
            Some(s) => s
                .parse()
                .map_err(|_| BadLine(format!("`{s}` is not an HTTP status")))?,
            None => 0,
        };
        let action = get(self.action).unwrap_or_default().to_ascii_lowercase();
        let exception = get(self.exception).unwrap_or_default().to_ascii_lowercase();
        let exception_is = |words: &[&str]| words.iter().any(|w| exception.contains(w));
        // ProxySG's exceptions: asking for credentials, a target it could
        // not reach, a refusal by policy; others (`policy_redirect`) say
        // nothing the status does not.
        let outcome = if status == 407 || exception_is(&["authentication"]) {
            Outcome::Challenged
        } else if exception_is(&[
            "dns_",
            "tcp_",
            "connect",
            "unreachable",
            "timeout",
            "gateway",
            "invalid_response",
            "ssl_",
            "internal_error",
            "server_",
        ]) {
            Outcome::Failed
        } else if action.contains("denied")
            || action.contains("blocked")
            || status == 403
            || exception_is(&["denied"])
        {
            Outcome::Denied
        } else if (self.status.is_some() && (status == 0 || status >= 500))
            || action.contains("failed")
        {
            Outcome::Failed
        } else {
            Outcome::Allowed
        };
        let time = match (get(self.date), get(self.time)) {
            (Some(d), Some(t)) => Cow::Owned(format!("{d} {t}")),
            (None, Some(t)) => Cow::Borrowed(t),
            (Some(d), None) => Cow::Borrowed(d),
            (None, None) => Cow::Borrowed("-"),
        };
        Ok(Some(Entry {
            host: Cow::Borrowed(host),
            port,
            method: Cow::Borrowed(method),
            status,
            outcome,
            client: Cow::Borrowed(get(self.client).unwrap_or("-")),
            user: Cow::Borrowed(get(self.user).unwrap_or("-")),
            time,
        }))
    }
}

fn egress(line: &str) -> Result<Option<Entry<'_>>, BadLine> {
    // serde reads a struct from an array too; a decision is an object.
    if !line.trim_start().starts_with('{') {
        return Err(BadLine(
            "not a decision log line: a JSON object a line".to_owned(),
        ));
    }
    let d: DecisionLine<'_> =
        serde_json::from_str(line).map_err(|e| BadLine(format!("not a decision log line: {e}")))?;
    if d.host.is_empty() {
        return Err(BadLine("the decision names no host".to_owned()));
    }
    let status = d.status();
    let outcome = match (d.decision, &d.error) {
        (Logged::Deny, _) if status == 407 => Outcome::Challenged,
        (Logged::Deny, _) => Outcome::Denied,
        (Logged::Allow, Some(_)) => Outcome::Failed,
        (Logged::Allow, None) => Outcome::Allowed,
    };
    Ok(Some(Entry {
        host: d.host,
        port: Some(d.port),
        method: d.method,
        status,
        outcome,
        client: Cow::Owned(d.source.to_string()),
        user: Cow::Owned(d.user.map_or_else(|| "-".to_owned(), Cow::into_owned)),
        time: d.time,
    }))
}

/// The values of a W3C extended log line, as the W3C working draft
/// writes them: separated by spaces or tabs; a value in double quotes may
/// hold spaces, and `""` inside it stands for one quote (the value is read
/// between its quotes as written: the fields egress reads hold no quote).
/// A line with a tab is separated by tabs alone: Forefront TMG and ISA
/// write tabs, and spaces inside values (`c-agent`).
fn w3c_values(line: &str) -> Result<Vec<&str>, BadLine> {
    if line.contains('\t') {
        return Ok(line.split('\t').collect());
    }
    let mut values = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                loop {
                    match memchr::memchr(b'"', &bytes[j..]) {
                        Some(q) if bytes.get(j + q + 1) == Some(&b'"') => j += q + 2,
                        Some(q) => {
                            values.push(&line[start..j + q]);
                            i = j + q + 1;
                            break;
                        }
                        None => {
                            return Err(BadLine(format!(
                                "a quoted value is not closed (field {})",
                                values.len() + 1
                            )));
                        }
                    }
                }
            }
            _ => {
                let start = i;
                while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
                    i += 1;
                }
                values.push(&line[start..i]);
            }
        }
    }
    Ok(values)
}

/// `url` with its user information (`user:password@`) masked.
fn without_user(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |e| start + e);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}
