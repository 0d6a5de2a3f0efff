//! `plain`: one pattern per line, in egress's own pattern syntax
//! (`docs/host-patterns.md`), for tools that take a list.

use crate::{Body, EntryList, Loss, Rows, paths_not_enforceable, ports_not_expressible};

pub(crate) fn render(rows: &Rows<'_>, losses: &mut Vec<Loss>) -> Body<'static> {
    let entries = &rows.entries[..];
    ports_not_expressible("a plain list", &rows.ports, losses);
    paths_not_enforceable(entries, false, losses);
    let mut text = String::with_capacity(entries.len() * 32);
    if rows.made.is_empty() {
        // Only the plan's own patterns: a repeat can only follow its first.
        let mut last = None;
        for e in entries {
            let line = e.pattern().as_str();
            if last != Some(line) {
                text.push_str(line);
                text.push('\n');
                last = Some(line);
            }
        }
        return Body::Commented { prefix: "#", text };
    }
    let line = |i: usize| entries[i].pattern().as_str();
    let mut lines = EntryList::default();
    for (i, e) in entries.iter().enumerate() {
        lines.push(i, line(i), e.made);
    }
    for i in lines.finish(false, line) {
        text.push_str(line(i as usize));
        text.push('\n');
    }
    Body::Commented { prefix: "#", text }
}
