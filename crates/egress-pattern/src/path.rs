//! URL paths: whether an endpoint's path covers a request's, for the
//! places that can see a path (plain HTTP through a proxy).
//!
//! Both paths are compared as an origin server would read them: the path
//! percent-decoded, then its dot segments removed (RFC 3986, 5.2.4), so
//! that `/feed/%2e%2e/admin` and `/feed/../admin` are `/admin`. Then the
//! endpoint's path must be the request's whole path or a prefix of it by
//! whole segments (`/feed` covers `/feed` and `/feed/x`, not `/feeds`),
//! compared case-sensitively. An endpoint path with a query covers only
//! that path with exactly that query.

use std::borrow::Cow;

/// Whether the endpoint path `rule` (path and query as the catalog writes
/// it) covers the request path `request` (path and query as sent).
pub fn path_covers(rule: &str, request: &str) -> bool {
    let (rule_path, rule_query) = split_query(rule);
    let (request_path, request_query) = split_query(request);
    if rule_query.is_some() && rule_query != request_query {
        return false;
    }
    let rule = normalize_path(rule_path);
    let request = normalize_path(request_path);
    if rule == "/" || rule == request {
        return true;
    }
    match request.strip_prefix(rule.trim_end_matches('/')) {
        Some(rest) => rest.starts_with('/'),
        None => false,
    }
}

fn split_query(text: &str) -> (&str, Option<&str>) {
    let text = text.split('#').next().unwrap_or(text);
    match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text, None),
    }
}

/// The path percent-decoded (bytes that are not UTF-8 kept as U+FFFD,
/// which no catalog path contains), with its dot segments removed, `/`
/// when empty.
pub fn normalize_path(path: &str) -> String {
    let decoded: Cow<'_, str> = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = decoded.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." if i == last => {
                // `/a/b/..` is `/a/`: the directory itself.
                if *segment == ".." {
                    out.pop();
                }
                out.push("");
            }
            "." => {}
            ".." => {
                out.pop();
            }
            s if i == 0 && s.is_empty() => {}
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}
