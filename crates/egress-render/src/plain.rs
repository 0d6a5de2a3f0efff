//! `plain`: one pattern per line, in egress's own pattern syntax
//! (`docs/host-patterns.md`), for tools that take a list.

use crate::{Body, Entry, Loss, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(entries: &[Entry<'_>], losses: &mut Vec<Loss>) -> Body {
    ports_not_expressible("a plain list", entries, losses);
    paths_not_enforceable(entries, false, losses);
    let mut lines: Vec<String> = entries.iter().map(|e| e.pattern.to_string()).collect();
    lines.sort();
    lines.dedup();
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Body::Commented { prefix: "#", text }
}
