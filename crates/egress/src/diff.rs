//! `egress catalog diff OLD NEW`: what changed, per feature.

use std::fmt::Write as _;

use anyhow::bail;
use egress_catalog::diff::{Attributes, Change, Diff, diff};
use egress_catalog::wire::DiffDoc;
use egress_catalog::{Catalog, embedded, plan};

use crate::Exit;
use crate::cli::{DiffArgs, DiffFormat, Source};
use crate::context::{self, InputError};

/// A catalog file, or `catalog@revision` for an embedded one.
fn load(spec: &str) -> anyhow::Result<Catalog> {
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
                catalog: None,
                revision: Some(new.meta.revision.clone()),
                profile: Some(path.clone()),
            });
            // The profile is checked against the newer catalog when it is
            // the embedded one; a vendor's catalog is checked as it loads.
            let loaded = match loaded {
                Ok(l) => l,
                Err(_) => context::load(&Source {
                    catalog: None,
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
    let d = diff(&old, &new, &keep, &feature_selected);
    let names = (
        format!("{}@{}", old.meta.id, old.meta.revision),
        format!("{}@{}", new.meta.id, new.meta.revision),
    );
    let text = match args.format {
        DiffFormat::Table => table(&d, &names, false),
        DiffFormat::Markdown => table(&d, &names, true),
        DiffFormat::Json => {
            let mut t = serde_json::to_string_pretty(&DiffDoc::new(&d, &names))?;
            t.push('\n');
            t
        }
    };
    crate::output::emit(&text, None)?;
    Ok(if d.is_empty() {
        Exit::Success
    } else {
        Exit::Found
    })
}

fn describe(a: &Attributes) -> String {
    let mut parts = vec![format!(
        "ports {}",
        a.ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )];
    let roles: Vec<&str> = a.roles.iter().map(String::as_str).collect();
    parts.push(format!("roles {}", roles.join(", ")));
    if !a.cloud.contains("all") {
        parts.push(format!(
            "cloud {}",
            a.cloud.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !a.paths.is_empty() {
        parts.push(format!(
            "paths {}",
            a.paths.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !a.versions.is_empty() {
        parts.push(a.versions.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    parts.join("; ")
}

fn table(d: &Diff, (old, new): &(String, String), markdown: bool) -> String {
    let mut out = String::new();
    let (h1, h2, bullet) = if markdown {
        ("# ", "## ", "- ")
    } else {
        ("", "== ", "  ")
    };
    let _ = writeln!(out, "{h1}{old} -> {new}");
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
    let mut feature = "";
    for c in &d.changes {
        let id = match c {
            Change::Added(id, _) | Change::Removed(id, _) | Change::Changed(id, _) => id,
        };
        if id.feature != feature {
            feature = &id.feature;
            let _ = writeln!(out, "\n{h2}{feature}");
        }
        let tick = if markdown { "`" } else { "" };
        match c {
            Change::Added(id, a) | Change::Removed(id, a) => {
                let sign = if matches!(c, Change::Added(..)) {
                    '+'
                } else {
                    '-'
                };
                let _ = writeln!(
                    out,
                    "{bullet}{sign} {tick}{}{tick} ({}): {}",
                    id.host,
                    id.scheme,
                    describe(a)
                );
            }
            Change::Changed(id, what) => {
                let _ = writeln!(out, "{bullet}~ {tick}{}{tick} ({})", id.host, id.scheme);
                for (name, old, new) in what {
                    let _ = writeln!(out, "{bullet}    {name}: {} -> {}", dash(old), dash(new));
                }
            }
        }
    }
    let counts = |f: fn(&Change) -> bool| d.changes.iter().filter(|c| f(c)).count();
    let _ = writeln!(
        out,
        "\n{} added, {} removed, {} changed; {} features added, {} removed.",
        counts(|c| matches!(c, Change::Added(..))),
        counts(|c| matches!(c, Change::Removed(..))),
        counts(|c| matches!(c, Change::Changed(..))),
        d.features_added.len(),
        d.features_removed.len()
    );
    out
}

fn dash(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}
