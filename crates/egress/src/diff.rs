//! `egress catalog diff OLD NEW`: what changed, per feature.

use std::fmt::Write as _;

use anyhow::bail;
use egress_catalog::diff::{Attribute, Attributes, Change, Diff, NetworkAction, Options, diff};
use egress_catalog::wire::DiffDoc;
use egress_catalog::{Catalog, embedded, plan};

use crate::Exit;
use crate::cli::{DiffArgs, DiffFormat, DiffView, Source};
use crate::context::{self, InputError};

/// A catalog file, or `catalog@revision` for an embedded one.
pub fn load(spec: &str) -> anyhow::Result<Catalog> {
    if let Some((id, revision)) = spec.split_once('@')
        && !std::path::Path::new(spec).exists()
    {
        if id != embedded::CATALOG_ID {
            bail!(
                "`{spec}`: no embedded catalog `{id}`; the embedded one is `{}`",
                embedded::CATALOG_ID
            );
        }
        let all = embedded::all().map_err(InputError)?;
        let names: Vec<String> = all
            .iter()
            .map(|c| format!("{}@{}", c.meta.id, c.meta.revision))
            .collect();
        return all
            .into_iter()
            .find(|c| c.answers_to(revision))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "`{spec}`: no such revision; the embedded ones are {}",
                    names.join(", ")
                )
            });
    }
    context::load_catalog_file(std::path::Path::new(spec))
}

pub fn run(args: &DiffArgs) -> anyhow::Result<Exit> {
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let request = match &args.profile {
        Some(path) => {
            let loaded = context::load(&Source {
                catalog: Vec::new(),
                revision: Some(new.meta.revision.clone()),
                profile: Some(path.clone()),
            });
            // The profile is checked against the newer catalog when it is
            // the embedded one; a vendor's catalog is checked as it loads.
            let loaded = match loaded {
                Ok(l) => l,
                Err(_) => context::load(&Source {
                    catalog: Vec::new(),
                    revision: None,
                    profile: Some(path.clone()),
                })?,
            };
            Some(context::request(
                &loaded,
                &crate::cli::Select::default(),
                None,
            ))
        }
        None => None,
    };
    let keep = |e: &egress_catalog::Endpoint| request.as_ref().is_none_or(|r| plan::selects(r, e));
    let feature_selected = |f: &str| {
        request
            .as_ref()
            .and_then(|r| r.features.as_ref())
            .is_none_or(|fs| fs.iter().any(|x| x == f))
    };
    let viewed: &[Attribute] = match args.view {
        DiffView::Full => &Attribute::ALL,
        DiffView::Firewall => &Attribute::FIREWALL,
    };
    let ignored: Vec<Attribute> = args
        .ignore
        .iter()
        .filter_map(|a| Attribute::named(a))
        .collect();
    let options = Options {
        compared: viewed
            .iter()
            .copied()
            .filter(|a| !ignored.contains(a))
            .collect(),
        placeholders: request
            .as_ref()
            .map(|r| r.placeholders.clone())
            .unwrap_or_default(),
    };
    let d = diff(&old, &new, &keep, &feature_selected, &options);
    let names = (named(&args.old, &old), named(&args.new, &new));
    let text = match args.format {
        DiffFormat::Table => table(&d, &names, &options.compared, false),
        DiffFormat::Markdown => table(&d, &names, &options.compared, true),
        DiffFormat::Json => {
            let mut t = serde_json::to_string_pretty(&DiffDoc::new(&d, &names, &options.compared))?;
            t.push('\n');
            t
        }
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if d.is_empty() {
        Exit::Success
    } else {
        Exit::Found
    })
}

/// What changed from `old` to `new`, every attribute compared, as a
/// table; `None` when nothing did.
pub fn changes(old: (&str, &Catalog), new: (&str, &Catalog)) -> Option<String> {
    let options = Options {
        compared: Attribute::ALL.to_vec(),
        placeholders: Default::default(),
    };
    let d = diff(old.1, new.1, &|_| true, &|_| true, &options);
    if d.is_empty() {
        return None;
    }
    let names = (named(old.0, old.1), named(new.0, new.1));
    Some(table(&d, &names, &options.compared, false))
}

/// A side as the user gave it, with what it turned out to be when that
/// differs: `old.toml (contoso-agent@2024-05)`, `configmgr@latest
/// (configmgr@2025-03)`.
fn named(spec: &str, catalog: &Catalog) -> String {
    let actual = format!("{}@{}", catalog.meta.id, catalog.meta.revision);
    if spec == actual {
        actual
    } else {
        format!("{spec} ({actual})")
    }
}

/// An added or removed endpoint's compared attributes, ports first.
fn describe(a: &Attributes, compared: &[Attribute]) -> String {
    let mut parts = Vec::new();
    for &attribute in compared {
        let shown = a.shown(attribute);
        let skip = match attribute {
            // The usual values go without saying.
            Attribute::Cloud => a.cloud.contains("all"),
            Attribute::Direction => a.direction.contains("internet"),
            Attribute::Validity | Attribute::Notes => true,
            _ => shown.is_empty(),
        };
        if !skip {
            parts.push(match attribute {
                Attribute::Versions => shown,
                _ => format!("{} {shown}", attribute.name()),
            });
        }
    }
    parts.join("; ")
}

fn table(
    d: &Diff,
    (old, new): &(String, String),
    compared: &[Attribute],
    markdown: bool,
) -> String {
    let mut out = String::new();
    let (h1, h2, bullet) = if markdown {
        ("# ", "## ", "- ")
    } else {
        ("", "== ", "  ")
    };
    let _ = writeln!(out, "{h1}{old} -> {new}");
    if compared.len() < Attribute::ALL.len() {
        let names: Vec<&str> = compared.iter().map(|a| a.name()).collect();
        let _ = writeln!(
            out,
            "{}compared: hosts and schemes, {}",
            if markdown { "\n" } else { "" },
            if names.is_empty() {
                "no attribute".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    if d.is_empty() {
        let _ = writeln!(out, "\nNo change.");
        return out;
    }
    for f in &d.features_added {
        let _ = writeln!(out, "{bullet}feature added: {f}");
    }
    for f in &d.features_removed {
        let _ = writeln!(out, "{bullet}feature removed: {f}");
    }
    // Tables mark a change with + - ~; markdown, whose bullets are `-`,
    // says it in words.
    let (added, removed, changed) = if markdown {
        ("added", "removed", "changed")
    } else {
        ("+", "-", "~")
    };
    let mut feature = "";
    for c in &d.changes {
        let id = match c {
            Change::Added(id, _) | Change::Removed(id, _) | Change::Changed(id, _) => id,
        };
        if id.feature != feature {
            feature = &id.feature;
            let _ = writeln!(out, "\n{h2}{feature}");
            if markdown {
                out.push('\n');
            }
        }
        let tick = if markdown { "`" } else { "" };
        match c {
            Change::Added(id, a) | Change::Removed(id, a) => {
                let sign = if matches!(c, Change::Added(..)) {
                    added
                } else {
                    removed
                };
                let _ = writeln!(
                    out,
                    "{bullet}{sign} {tick}{}{tick} ({}): {}",
                    id.host,
                    id.scheme,
                    describe(a, compared)
                );
            }
            Change::Changed(id, what) => {
                let _ = writeln!(
                    out,
                    "{bullet}{changed} {tick}{}{tick} ({})",
                    id.host, id.scheme
                );
                for (name, old, new) in what {
                    let item = if markdown { "  - " } else { "      " };
                    let _ = writeln!(out, "{item}{name}: {} -> {}", dash(old), dash(new));
                }
            }
        }
    }
    if !d.networks.is_empty() {
        let _ = writeln!(out, "\n{h2}IP ranges");
        if markdown {
            out.push('\n');
        }
        for n in &d.networks {
            let _ = match n.action {
                NetworkAction::Added => {
                    writeln!(
                        out,
                        "{bullet}{added} {} ({}): {}",
                        n.address, n.feature, n.new
                    )
                }
                NetworkAction::Removed => {
                    writeln!(
                        out,
                        "{bullet}{removed} {} ({}): {}",
                        n.address, n.feature, n.old
                    )
                }
                NetworkAction::Changed => writeln!(
                    out,
                    "{bullet}{changed} {} ({}): ports {} -> {}",
                    n.address, n.feature, n.old, n.new
                ),
            };
        }
    }
    let counts = |f: fn(&Change) -> bool| d.changes.iter().filter(|c| f(c)).count();
    let _ = writeln!(
        out,
        "\n{} added, {} removed, {} changed; {} features added, {} removed.{}",
        counts(|c| matches!(c, Change::Added(..))),
        counts(|c| matches!(c, Change::Removed(..))),
        counts(|c| matches!(c, Change::Changed(..))),
        d.features_added.len(),
        d.features_removed.len(),
        if d.networks.is_empty() {
            String::new()
        } else {
            let n = |a: NetworkAction| d.networks.iter().filter(|x| x.action == a).count();
            format!(
                " IP ranges: {} added, {} removed, {} changed.",
                n(NetworkAction::Added),
                n(NetworkAction::Removed),
                n(NetworkAction::Changed)
            )
        }
    );
    out
}

fn dash(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}
