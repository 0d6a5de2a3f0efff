//! `pan-edl`: a Palo Alto Networks external dynamic list, of type domain,
//! URL or IP (the plan's IP ranges, one a line). PAN-OS matches a bare domain entry together with its subdomains,
//! `^host` exactly, and `*.x` every subdomain of `x` but not `x`; a `*` must
//! be a whole token, so a partial-label wildcard cannot be written. An EDL
//! has no comments: the header goes to stderr only.

use egress_pattern::PatternKind;

use egress_catalog::plan::Plan;

use crate::{
    Body, Entries, Loss, LossKind, Options, Unique, hosts_left_out, paths_not_enforceable,
    ports_not_expressible,
};

/// An IP list: the plan's IP ranges (none with `--intranet`: they are the
/// egress path's). It admits every port and protocol to them.
pub(crate) fn render_ip(
    plan: &Plan,
    entries: &Entries<'_>,
    options: &Options,
    losses: &mut Vec<Loss>,
) -> Body<'static> {
    hosts_left_out(entries, "an IP list", losses);
    let mut lines = Unique::default();
    let mut ports = Unique::default();
    if !options.intranet {
        for n in &plan.networks {
            lines.push(n.address.to_string());
            for (protocol, p) in [("tcp", &n.tcp_ports), ("udp", &n.udp_ports)] {
                if !p.is_empty() {
                    ports.push(format!("{protocol} {p}"));
                }
            }
        }
    }
    let ports = ports.into_vec();
    if !ports.is_empty() {
        losses.push(Loss {
            host: "*".to_owned(),
            kind: LossKind::PortNotExpressible,
            detail: format!(
                "an IP list cannot restrict ports or protocols: the plan names {}, the list admits every port",
                ports.join("; ")
            ),
        });
    }
    let mut text = lines.into_vec().join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Body::Bare(text)
}

/// A domain list, or (`url`) a URL list, of the plan's hosts.
pub(crate) fn render(entries: &Entries<'_>, url: bool, losses: &mut Vec<Loss>) -> Body<'static> {
    ports_not_expressible("an external dynamic list", &entries.ports(), losses);
    // A domain list never sees paths; a URL list sees them for plain HTTP
    // (and for HTTPS only with decryption, which egress does not assume).
    paths_not_enforceable(&entries.list, url, losses);
    let mut lines = Unique::default();
    for e in &entries.list {
        let host = match e.kind() {
            PatternKind::Exact(h) if url => h.to_owned(),
            PatternKind::Exact(h) => format!("^{h}"),
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
        match url {
            false => lines.push(host),
            // A trailing slash ends the host, so that `example.com/` does
            // not also match `example.com.evil.test`.
            true => match e.path().filter(|_| !e.https()) {
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
