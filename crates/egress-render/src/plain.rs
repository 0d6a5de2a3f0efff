//! `plain`: one pattern per line, in egress's own pattern syntax
//! (`docs/host-patterns.md`), for tools that take a list.

use crate::{Body, Entries, Loss, Unique, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(entries: &Entries<'_>, losses: &mut Vec<Loss>) -> Body<'static> {
    ports_not_expressible("a plain list", &entries.ports(), losses);
    paths_not_enforceable(&entries.list, false, losses);
    let mut lines = Unique::default();
    for e in &entries.list {
        lines.push(e.pattern.as_str());
    }
    let mut text = String::new();
    for line in lines.into_vec() {
        text.push_str(&line);
        text.push('\n');
    }
    Body::Commented { prefix: "#", text }
}
