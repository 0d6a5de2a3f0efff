//! `egress catalog ...`: browsing and validating catalogs.

use std::fmt::Write as _;

use egress_catalog::embedded;
use egress_catalog::wire::{FeatureDoc, PlaceholderDoc, RevisionDoc, RoleDoc};
use serde::Serialize;

use crate::cli::{BrowseArgs, CatalogCommand, ExportArgs, Format, RevisionsArgs};
use crate::context;
use crate::output;
use egress_catalog::table::Table;

mod list;

pub fn run(command: &CatalogCommand) -> anyhow::Result<crate::Exit> {
    match command {
        CatalogCommand::Diff(args) => return crate::diff::run(args),
        CatalogCommand::Import(args) => return crate::import::run(args),
        CatalogCommand::Fetch(args) => return crate::fetch::run(args),
        _ => {}
    }
    run_browse(command).map(|()| crate::Exit::Success)
}

fn run_browse(command: &CatalogCommand) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Diff(_) | CatalogCommand::Import(_) | CatalogCommand::Fetch(_) => {
            unreachable!("handled by run")
        }
        CatalogCommand::List(args) => list::list(args),
        CatalogCommand::Features(args) => features(args),
        CatalogCommand::Roles(args) => roles(args),
        CatalogCommand::Placeholders(args) => placeholders(args),
        CatalogCommand::Revisions(args) => revisions(args),
        CatalogCommand::Export(args) => export(args),
        CatalogCommand::Validate { file } => {
            let catalog = context::load_catalog_file(file)?;
            println!(
                "ok: {}: catalog {} revision {}: {} features, {} roles, {} placeholders, {} endpoints",
                file.display(),
                catalog.meta.id,
                catalog.meta.revision,
                catalog.features.len(),
                catalog.roles.len(),
                catalog.placeholders.len(),
                catalog.endpoints.len()
            );
            Ok(())
        }
    }
}

/// The embedded catalog's own text, as the file it was built from: it is
/// in the catalog format, so it loads on its own.
fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let all = embedded::all().map_err(context::InputError)?;
    let Some(at) = all.iter().position(|c| c.answers_to(&args.revision)) else {
        let known: Vec<String> = all
            .iter()
            .flat_map(|c| std::iter::once(c.meta.revision.clone()).chain(c.meta.aliases.clone()))
            .collect();
        anyhow::bail!(
            "unknown revision `{}`; the embedded ones are {}",
            args.revision,
            known.join(", ")
        );
    };
    let (name, text) = embedded::REVISIONS[at];
    let text = format!(
        "# Exported by egress {} from its embedded {name} (configmgr@{}).\n{text}",
        env!("CARGO_PKG_VERSION"),
        all[at].meta.revision
    );
    output::emit(&text, args.output.as_deref())
}

fn json<T: Serialize>(value: &T) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// Writes a simple listing as a table, csv, markdown or json. A cell's
/// lines stack in a table and are joined elsewhere.
fn listing<T: Serialize>(
    format: Format,
    headers: &[&'static str],
    rows: Vec<Vec<String>>,
    docs: &[T],
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => json(&docs)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(headers.iter().map(|h| h.to_lowercase()))?;
            for row in &rows {
                w.write_record(row.iter().map(|c| c.replace('\n', " ")))?;
            }
            String::from_utf8(w.into_inner()?)?
        }
        Format::Markdown => {
            let mut out = format!(
                "| {} |\n|{}\n",
                headers.join(" | "),
                "---|".repeat(headers.len())
            );
            for row in &rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| c.replace('|', "\\|").replace('\n', "<br>"))
                    .collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out
        }
        Format::Table => {
            let mut t = Table::new(headers);
            for row in rows {
                t.row(
                    row.iter()
                        .map(|c| c.lines().map(str::to_owned).collect())
                        .collect(),
                );
            }
            let mut out = String::new();
            t.render(&mut out);
            out
        }
    })
}

fn features(args: &BrowseArgs) -> anyhow::Result<()> {
    let loaded = context::load(&args.source)?;
    let c = &loaded.catalog;
    let docs: Vec<FeatureDoc> = c.features.iter().map(|f| FeatureDoc::new(c, f)).collect();
    let rows = docs
        .iter()
        .map(|d| {
            let mut notes = Vec::new();
            if !d.external.is_empty() {
                notes.push("external list".to_owned());
            }
            if let Some(v) = d.since_version {
                notes.push(format!("from {v}"));
            }
            let mut title = d.title.to_owned();
            if !notes.is_empty() {
                title.push_str(&format!("\n({})", notes.join(", ")));
            }
            vec![d.id.to_owned(), d.endpoints.to_string(), title]
        })
        .collect();
    let text = listing(args.format, &["FEATURE", "ENDPOINTS", "TITLE"], rows, &docs)?;
    output::emit(&text, None)
}

fn roles(args: &BrowseArgs) -> anyhow::Result<()> {
    let loaded = context::load(&args.source)?;
    let c = &loaded.catalog;
    let docs: Vec<RoleDoc> = c.roles.iter().map(|r| RoleDoc::new(c, r)).collect();
    let rows = docs
        .iter()
        .map(|d| vec![d.id.to_owned(), d.endpoints.to_string(), d.title.to_owned()])
        .collect();
    let text = listing(args.format, &["ROLE", "ENDPOINTS", "TITLE"], rows, &docs)?;
    output::emit(&text, None)
}

fn placeholders(args: &BrowseArgs) -> anyhow::Result<()> {
    let loaded = context::load(&args.source)?;
    let docs: Vec<PlaceholderDoc> = loaded
        .catalog
        .placeholders
        .iter()
        .map(PlaceholderDoc::new)
        .collect();
    let rows = docs
        .iter()
        .map(|d| {
            vec![
                format!("<{}>", d.name),
                d.kind.to_owned(),
                d.profile_key.clone(),
                d.as_written.join(" "),
                d.example.unwrap_or("").to_owned(),
            ]
        })
        .collect();
    let text = listing(
        args.format,
        &[
            "PLACEHOLDER",
            "KIND",
            "PROFILE KEY",
            "WRITTEN AS",
            "EXAMPLE",
        ],
        rows,
        &docs,
    )?;
    output::emit(&text, None)
}

fn revisions(args: &RevisionsArgs) -> anyhow::Result<()> {
    let all = embedded::all().map_err(context::InputError)?;
    let docs: Vec<RevisionDoc> = all
        .iter()
        .map(|c| RevisionDoc {
            catalog: &c.meta.id,
            revision: &c.meta.revision,
            aliases: &c.meta.aliases,
            describes: c.meta.describes.to_string(),
            features: c.features.len(),
            endpoints: c.endpoints.len(),
        })
        .collect();
    let rows = docs
        .iter()
        .map(|d| {
            vec![
                format!("{}@{}", d.catalog, d.revision),
                d.aliases.join(", "),
                d.describes.clone(),
                d.features.to_string(),
                d.endpoints.to_string(),
            ]
        })
        .collect();
    let text = listing(
        args.format,
        &["REVISION", "ALIASES", "DESCRIBES", "FEATURES", "ENDPOINTS"],
        rows,
        &docs,
    )?;
    output::emit(&text, None)
}
