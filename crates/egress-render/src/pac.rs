//! `pac`: a complete proxy auto-config file. Allowed hosts go to the
//! allowed route (`--pac-proxy`), everything else to `--pac-default`.
//!
//! Exact semantics without DNS lookups: the host is lowercased and one
//! trailing dot removed; exact hosts are looked up in an object; `*.x` is a
//! suffix test on `.x` (so never `x` itself); a partial-label wildcard is
//! checked label by label, since `shExpMatch`'s `*` also matches dots. A PAC
//! file sees only the host of an HTTPS URL and cannot restrict ports.

use egress_pattern::PatternKind;

use crate::{Body, Entries, Loss, Options, Unique, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(
    entries: &Entries<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'static> {
    ports_not_expressible("a PAC file", &entries.ports(), losses);
    paths_not_enforceable(&entries.list, false, losses);
    let mut exact = Unique::default();
    let mut suffixes = Unique::default();
    let mut in_label = Unique::default();
    for e in &entries.list {
        match e.kind() {
            PatternKind::Exact(_) | PatternKind::Ip(_) => exact.push(js(&e.dotted())),
            PatternKind::Subdomains { .. } => suffixes.push(js(&e.dotted())),
            PatternKind::InLabel {
                prefix,
                suffix,
                parent,
            } => in_label.push(format!(
                "[{}, {}, {}]",
                js(prefix),
                js(suffix),
                js(&format!(".{parent}"))
            )),
        }
    }
    let exact: Vec<String> = exact
        .into_vec()
        .iter()
        .map(|h| format!("{h}: true"))
        .collect();
    let text = format!(
        r#"var EGRESS_ALLOW = {allow};
var EGRESS_DEFAULT = {default};

// Exact hosts.
var EGRESS_EXACT = {{
{exact}
}};

// `*.x`: one or more whole labels before `.x`, never `x` itself.
var EGRESS_SUFFIXES = [
{suffixes}
];

// `pre*post.parent`: `*` is one or more characters within the first label.
var EGRESS_IN_LABEL = [
{in_label}{FUNCTIONS}"#,
        allow = js(&options.pac_allow),
        default = js(&options.pac_default),
        exact = lines(&exact),
        suffixes = lines(&suffixes.into_vec()),
        in_label = lines(&in_label.into_vec()),
    );
    Body::Commented { prefix: "//", text }
}

/// The end of the lists and the functions that read them.
const FUNCTIONS: &str = r#"
];

function egressEndsWith(s, suffix) {
  return s.length >= suffix.length && s.substring(s.length - suffix.length) == suffix;
}

function egressAllowed(h) {
  if (Object.prototype.hasOwnProperty.call(EGRESS_EXACT, h)) return true;
  for (var i = 0; i < EGRESS_SUFFIXES.length; i++) {
    if (h.length > EGRESS_SUFFIXES[i].length && egressEndsWith(h, EGRESS_SUFFIXES[i])) return true;
  }
  for (var j = 0; j < EGRESS_IN_LABEL.length; j++) {
    var pre = EGRESS_IN_LABEL[j][0], post = EGRESS_IN_LABEL[j][1], parent = EGRESS_IN_LABEL[j][2];
    if (!egressEndsWith(h, parent)) continue;
    var label = h.substring(0, h.length - parent.length);
    if (label.indexOf(".") == -1 && label.length > pre.length + post.length &&
        label.substring(0, pre.length) == pre && egressEndsWith(label, post)) return true;
  }
  return false;
}

function FindProxyForURL(url, host) {
  var h = host.toLowerCase();
  if (h.charAt(h.length - 1) == ".") h = h.substring(0, h.length - 1);
  return egressAllowed(h) ? EGRESS_ALLOW : EGRESS_DEFAULT;
}
"#;

/// The items, one a line, indented, separated by commas.
fn lines(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("    {i}"))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// A JavaScript string literal: host names need no escapes; anything else
/// goes through serde_json.
fn js(s: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._*:".contains(&b);
    if s.bytes().all(plain) {
        format!("\"{s}\"")
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_strings() {
        let check = |s: &str, expected: &str| assert_eq!(js(s), expected, "{s}");
        check(
            "login.microsoftonline.com",
            r#""login.microsoftonline.com""#,
        );
        check("*-umwatsonc.events", r#""*-umwatsonc.events""#);
        check("PROXY 127.0.0.1:3128", r#""PROXY 127.0.0.1:3128""#);
        check(r#"a"b\c"#, r#""a\"b\\c""#);
        check("line\nbreak", r#""line\nbreak""#);
        check("bücher", r#""bücher""#);
        check("", r#""""#);
    }
}
