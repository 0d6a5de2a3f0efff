//! `plain`: one pattern per line, in egress's own pattern syntax
//! (`docs/host-patterns.md`), for tools that take a list.

use crate::{Body, Entry, Loss, Unique, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(entries: &[Entry<'_>], losses: &mut Vec<Loss>) -> Body {
    ports_not_expressible("a plain list", entries, losses);
    paths_not_enforceable(entries, false, losses);
    let mut lines = Unique::default();
    for e in entries {
        lines.push(e.pattern.to_string(), e.made);
    }
    let mut text = String::with_capacity(entries.len() * 32);
    for line in lines.into_vec() {
        text.push_str(&line);
        text.push('\n');
    }
    Body::Commented { prefix: "#", text }
}
