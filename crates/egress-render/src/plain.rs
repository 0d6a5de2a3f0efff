//! `plain`: one pattern per line, in egress's own pattern syntax
//! (`docs/host-patterns.md`), for tools that take a list.

use crate::{Body, Entry, Loss, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(entries: &[Entry<'_>], losses: &mut Vec<Loss>) -> Body {
    ports_not_expressible("a plain list", entries, losses);
    paths_not_enforceable(entries, false, losses);
    // Written in the plan's order, each pattern once, without a string per
    // line: this list is the one most often huge.
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    let mut text = String::with_capacity(entries.len() * 32);
    for e in entries {
        let line = e.pattern.as_str();
        if seen.insert(line) {
            text.push_str(line);
            text.push('\n');
        }
    }
    Body::Commented { prefix: "#", text }
}
