//! `plain`: one pattern per line, in egress's own pattern syntax
//! (`docs/host-patterns.md`), for tools that take a list.

use crate::{Body, Loss, Rows, Unique, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(rows: &Rows<'_>, losses: &mut Vec<Loss>) -> Body<'static> {
    let entries = &rows.entries[..];
    ports_not_expressible("a plain list", &rows.ports, losses);
    paths_not_enforceable(entries, false, losses);
    let mut lines = Unique::with_capacity(entries.len());
    for e in entries {
        // Borrowed from the plan: no string per line.
        lines.push(e.pattern().as_str(), e.made);
    }
    let mut text = String::with_capacity(entries.len() * 32);
    for line in lines.into_vec() {
        text.push_str(&line);
        text.push('\n');
    }
    Body::Commented { prefix: "#", text }
}
