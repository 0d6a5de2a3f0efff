//! `pan-edl`: a Palo Alto Networks external dynamic list, of type domain
//! or URL. PAN-OS matches a bare domain entry together with its subdomains,
//! `^host` exactly, and `*.x` every subdomain of `x` but not `x`; a `*` must
//! be a whole token, so a partial-label wildcard cannot be written. An EDL
//! has no comments: the header goes to stderr only.

use egress_pattern::PatternKind;

use crate::{
    Body, EdlType, Entries, Loss, LossKind, Unique, paths_not_enforceable, ports_not_expressible,
};

pub(crate) fn render(entries: &Entries<'_>, edl: EdlType, losses: &mut Vec<Loss>) -> Body<'static> {
    ports_not_expressible("an external dynamic list", &entries.ports(), losses);
    // A domain list never sees paths; a URL list sees them for plain HTTP
    // (and for HTTPS only with decryption, which egress does not assume).
    paths_not_enforceable(&entries.list, edl == EdlType::Url, losses);
    let mut lines = Unique::default();
    for e in &entries.list {
        let host = match e.kind() {
            PatternKind::Exact(h) => match edl {
                EdlType::Domain => format!("^{h}"),
                EdlType::Url => h.to_owned(),
            },
            PatternKind::Subdomains { suffix } => format!("*.{suffix}"),
            PatternKind::InLabel { parent, .. } => {
                losses.push(Loss {
                    host: e.host().to_owned(),
                    kind: LossKind::Broadened,
                    detail: format!("PAN-OS wildcards are whole tokens: rendered as `*.{parent}`"),
                });
                format!("*.{parent}")
            }
            PatternKind::Ip(ip) => ip.to_string(),
        };
        match edl {
            EdlType::Domain => lines.push(host),
            // A trailing slash ends the host, so that `example.com/` does
            // not also match `example.com.evil.test`.
            EdlType::Url => match e.path().filter(|_| !e.https()) {
                Some(path) => lines.push(format!("{host}{path}")),
                None => lines.push(format!("{host}/")),
            },
        }
    }
    let mut text = lines.into_vec().join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Body::Bare(text)
}
