//! `pac`: a complete proxy auto-config file. Allowed hosts go to the
//! allowed route (`--pac-proxy`), everything else to `--pac-default`.
//!
//! Exact semantics without DNS lookups: the host is lowercased and one
//! trailing dot removed; exact hosts are looked up in an object; `*.x` is a
//! suffix test on `.x` (so never `x` itself); a partial-label wildcard is
//! checked label by label, since `shExpMatch`'s `*` also matches dots. A PAC
//! file sees only the host of an HTTPS URL and cannot restrict ports.

use egress_pattern::PatternKind;

use crate::{Body, Loss, Options, Rows, Unique, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(rows: &Rows<'_>, options: &Options, losses: &mut Vec<Loss>) -> Body<'static> {
    let entries = &rows.entries[..];
    ports_not_expressible("a PAC file", &rows.ports, losses);
    paths_not_enforceable(entries, false, losses);
    let mut exact = Unique::with_capacity(entries.len());
    let mut suffixes = Unique::default();
    let mut in_label = Unique::default();
    for e in entries {
        match e.pattern().kind() {
            // Borrowed from the plan: no string per host.
            PatternKind::Exact(h) => exact.push(h, e.made),
            PatternKind::Ip(ip) => exact.push(ip.to_string(), e.made),
            PatternKind::Subdomains { suffix } => suffixes.push(format!(".{suffix}"), e.made),
            PatternKind::InLabel {
                prefix,
                suffix,
                parent,
            } => in_label.push(
                format!(
                    "[{}, {}, {}]",
                    js(prefix),
                    js(suffix),
                    js(&format!(".{parent}"))
                ),
                e.made,
            ),
        }
    }
    let (exact, suffixes, in_label) = (exact.into_vec(), suffixes.into_vec(), in_label.into_vec());
    // Written into one string sized once: the lists are as long as the plan.
    let size: usize = [&exact, &suffixes, &in_label]
        .iter()
        .flat_map(|list| list.iter())
        .map(|i| i.len() + 16)
        .sum();
    let mut text = String::with_capacity(size + 2048);
    for part in [
        r#"var EGRESS_ALLOW = "#,
        &js(&options.pac_allow),
        r#";
var EGRESS_DEFAULT = "#,
        &js(&options.pac_default),
        r#";

// Exact hosts.
var EGRESS_EXACT = {
"#,
    ] {
        text.push_str(part);
    }
    lines(&mut text, &exact, |out, h| {
        push_js(out, h);
        out.push_str(": true");
    });
    text.push_str(
        r#"
};

// `*.x`: one or more whole labels before `.x`, never `x` itself.
var EGRESS_SUFFIXES = [
"#,
    );
    lines(&mut text, &suffixes, push_js);
    text.push_str(
        r#"
];

// `pre*post.parent`: `*` is one or more characters within the first label.
var EGRESS_IN_LABEL = [
"#,
    );
    lines(&mut text, &in_label, |out, s| out.push_str(s));
    text.push_str(FUNCTIONS);
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

/// Appends the items to `out`, one a line, indented, separated by commas.
fn lines<T: AsRef<str>>(out: &mut String, items: &[T], write: impl Fn(&mut String, &str)) {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(",\n");
        }
        out.push_str("    ");
        write(out, item.as_ref());
    }
}

/// A JavaScript string literal.
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_js(&mut out, s);
    out
}

/// [`js`], appended to `out`. Host names need no escapes; anything else
/// goes through serde_json.
fn push_js(out: &mut String, s: &str) {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._*:".contains(&b);
    if s.bytes().all(plain) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("a string serializes"));
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
