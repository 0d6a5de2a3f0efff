//! `pac`: a complete proxy auto-config file. Allowed hosts go to the
//! allowed route (`--pac-proxy`), everything else to `--pac-default`.
//!
//! Exact semantics without DNS lookups: the host is lowercased and one
//! trailing dot removed; exact hosts are looked up in an object; `*.x` is a
//! suffix test on `.x` (so never `x` itself); a partial-label wildcard is
//! checked label by label, since `shExpMatch`'s `*` also matches dots. A PAC
//! file sees only the host of an HTTPS URL and cannot restrict ports.

use egress_pattern::PatternKind;

use crate::{
    Body, EntryList, Loss, Options, Rows, Unique, paths_not_enforceable, ports_not_expressible,
};

pub(crate) fn render(rows: &Rows<'_>, options: &Options, losses: &mut Vec<Loss>) -> Body<'static> {
    let entries = &rows.entries[..];
    ports_not_expressible("a PAC file", &rows.ports, losses);
    paths_not_enforceable(entries, false, losses);
    // Exact hosts and `.x` suffixes are the entries' own texts: lists of
    // indices (`EntryList`).
    let mut exact = EntryList::default();
    let mut suffixes = EntryList::default();
    let mut in_label = Unique::default();
    for (i, e) in entries.iter().enumerate() {
        match e.pattern().kind() {
            PatternKind::Exact(_) | PatternKind::Ip(_) => exact.push(i, e.dotted(), e.made),
            PatternKind::Subdomains { .. } => suffixes.push(i, e.dotted(), e.made),
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
    let item = |i: usize| entries[i].dotted();
    let own = |i: &u32| item(*i as usize);
    let (exact, suffixes) = (exact.finish(false, item), suffixes.finish(false, item));
    let in_label = in_label.into_vec();
    // Written into one string sized once: the lists are as long as the plan.
    // An item's length is read from its entry, which holds its text's.
    let size: usize = (exact.iter().chain(&suffixes).map(|i| own(i).len()))
        .chain(in_label.iter().map(|i| i.len()))
        .map(|n| n + 16)
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
    lines(&mut text, &exact, |out, i| {
        push_js(out, own(i));
        out.push_str(": true");
    });
    text.push_str(
        r#"
};

// `*.x`: one or more whole labels before `.x`, never `x` itself.
var EGRESS_SUFFIXES = [
"#,
    );
    lines(&mut text, &suffixes, |out, i| push_js(out, own(i)));
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
fn lines<T>(out: &mut String, items: &[T], write: impl Fn(&mut String, &T)) {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(",\n");
        }
        out.push_str("    ");
        write(out, item);
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
