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
    let mut exact = Unique::default();
    let mut suffixes = Unique::default();
    let mut in_label = Unique::default();
    for e in entries {
        match e.pattern().kind() {
            PatternKind::Exact(h) => exact.push(h.to_owned(), e.made),
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
    let exact_lines: Vec<String> = exact
        .iter()
        .map(|h| format!("    {}: true", js(h)))
        .collect();
    let suffix_lines: Vec<String> = suffixes.iter().map(|s| format!("    {}", js(s))).collect();
    let in_label_lines: Vec<String> = in_label.iter().map(|s| format!("    {s}")).collect();
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
{in_label}
];

function egressEndsWith(s, suffix) {{
  return s.length >= suffix.length && s.substring(s.length - suffix.length) == suffix;
}}

function egressAllowed(h) {{
  if (Object.prototype.hasOwnProperty.call(EGRESS_EXACT, h)) return true;
  for (var i = 0; i < EGRESS_SUFFIXES.length; i++) {{
    if (h.length > EGRESS_SUFFIXES[i].length && egressEndsWith(h, EGRESS_SUFFIXES[i])) return true;
  }}
  for (var j = 0; j < EGRESS_IN_LABEL.length; j++) {{
    var pre = EGRESS_IN_LABEL[j][0], post = EGRESS_IN_LABEL[j][1], parent = EGRESS_IN_LABEL[j][2];
    if (!egressEndsWith(h, parent)) continue;
    var label = h.substring(0, h.length - parent.length);
    if (label.indexOf(".") == -1 && label.length > pre.length + post.length &&
        label.substring(0, pre.length) == pre && egressEndsWith(label, post)) return true;
  }}
  return false;
}}

function FindProxyForURL(url, host) {{
  var h = host.toLowerCase();
  if (h.charAt(h.length - 1) == ".") h = h.substring(0, h.length - 1);
  return egressAllowed(h) ? EGRESS_ALLOW : EGRESS_DEFAULT;
}}
"#,
        allow = js(&options.pac_allow),
        default = js(&options.pac_default),
        exact = exact_lines.join(",\n"),
        suffixes = suffix_lines.join(",\n"),
        in_label = in_label_lines.join(",\n"),
    );
    Body::Commented { prefix: "//", text }
}

/// A JavaScript string literal.
fn js(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}
