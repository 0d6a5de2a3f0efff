//! `egress catalog ...`: browsing and validating catalogs.

use std::fmt::Write as _;

use egress_catalog::catalog::{Catalog, Destination, Endpoint, UNSPECIFIED_ROLE};
use egress_catalog::embedded;
use egress_catalog::wire::{CatalogDoc, FeatureDoc, PlaceholderDoc, RevisionDoc, RoleDoc};
use serde::Serialize;

use crate::cli::{BrowseArgs, CatalogCommand, ExportArgs, Format, ListArgs, RevisionsArgs, Select};
use crate::context;
use crate::output;
use egress_catalog::table::Table;

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
        CatalogCommand::List(args) => list(args),
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

fn selected<'a>(catalog: &'a Catalog, args: &ListArgs, features: &[String]) -> Vec<&'a Endpoint> {
    let cloud = args.cloud.map(context::cloud);
    catalog
        .endpoints
        .iter()
        .filter(|e| features.is_empty() || e.features.iter().any(|f| features.contains(f)))
        .filter(|e| {
            args.roles.is_empty()
                || e.roles
                    .value
                    .iter()
                    .any(|r| r == UNSPECIFIED_ROLE || args.roles.contains(r))
        })
        .filter(|e| cloud.is_none_or(|c| e.cloud.includes(c)))
        .collect()
}

/// The target as lines: `scheme://host[:port]`, then the path indented.
fn target_lines(target: &Destination) -> Vec<String> {
    match target {
        Destination::Host(h) => vec![h.to_string()],
        Destination::Url(u) => {
            let mut first = format!("{}://{}", u.scheme, u.host);
            if let Some(p) = u.port {
                let _ = write!(first, ":{p}");
            }
            let mut lines = vec![first];
            if u.path != "/" {
                lines.extend(crate::plan::path_lines(&u.path));
            }
            lines
        }
    }
}

fn conditions(e: &Endpoint) -> Vec<String> {
    let mut out = Vec::new();
    if !e.versions.is_unbounded() {
        out.push(e.versions.to_string());
    }
    if let Some(d) = e.valid.from {
        out.push(format!("from {d}"));
    }
    if let Some(d) = e.valid.until {
        out.push(format!("until {d}"));
    }
    if let Some(s) = &e.superseded {
        out.push(match s.from {
            Some(d) => format!("superseded from {d}"),
            None => "superseded".to_owned(),
        });
        out.push(format!("by {}", s.by));
    }
    if e.direction == egress_catalog::catalog::Direction::Intranet {
        out.push("intranet".to_owned());
    }
    if !e.tls_versions.is_empty() {
        let v: Vec<&str> = e.tls_versions.iter().map(|t| t.as_str()).collect();
        out.push(format!("TLS {} only", v.join(", ")));
    }
    if let Some(s) = e.min_proxy_idle_timeout_secs {
        out.push(format!("idle timeout >= {s}s"));
    }
    if !e.required {
        out.push("optional".to_owned());
    }
    out.extend(e.attributes.iter().map(|(k, v)| format!("{k}: {v}")));
    out
}

fn mark(basis: egress_catalog::catalog::Basis) -> &'static str {
    match basis {
        egress_catalog::catalog::Basis::Assumed => "*",
        egress_catalog::catalog::Basis::Stated => "",
    }
}

fn list(args: &ListArgs) -> anyhow::Result<()> {
    let loaded = context::load(&args.source)?;
    let catalog = &loaded.catalog;
    context::check_ids(
        catalog,
        &Select {
            roles: args.roles.clone(),
            features: args.features.clone(),
            exclude_features: Vec::new(),
        },
    )?;
    // `catalog:feature` as its id here.
    let features: Vec<String> = args
        .features
        .iter()
        .map(|f| catalog.feature_id(f).unwrap_or(f).to_owned())
        .collect();
    let endpoints = selected(catalog, args, &features);
    // Networks by feature (they serve every role and cloud).
    let networks: Vec<&egress_catalog::catalog::Network> = catalog
        .networks
        .iter()
        .filter(|n| features.is_empty() || n.features.iter().any(|f| features.contains(f)))
        .collect();
    let text = match args.format {
        Format::Json => json(&CatalogDoc::new(
            catalog,
            endpoints.iter().copied(),
            networks.iter().copied(),
        ))?,
        Format::Csv => list_csv(&endpoints)?,
        Format::Table | Format::Markdown => {
            let markdown = args.format == Format::Markdown;
            let mut out = String::new();
            let _ = writeln!(
                out,
                "# {} revision {} ({}), describes {}: {} endpoints",
                catalog.meta.id,
                catalog.meta.revision,
                loaded.catalog_origin,
                catalog.meta.describes,
                endpoints.len()
            );
            for f in &catalog.features {
                if !features.is_empty() && !features.contains(&f.id) {
                    continue;
                }
                let mine: Vec<&&Endpoint> = endpoints
                    .iter()
                    .filter(|e| e.features.contains(&f.id))
                    .collect();
                let ranges: Vec<&&egress_catalog::catalog::Network> = networks
                    .iter()
                    .filter(|n| n.features.contains(&f.id))
                    .collect();
                if mine.is_empty() && f.external.is_empty() && ranges.is_empty() {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "\n{} {}: {}",
                    if markdown { "##" } else { "==" },
                    f.id,
                    f.title
                );
                let _ = writeln!(
                    out,
                    "{}section: {}",
                    if markdown { "\n" } else { "" },
                    f.section
                );
                for x in &f.external {
                    let _ = writeln!(
                        out,
                        "{}external list, not included: {} <{}>",
                        if markdown { "\n" } else { "" },
                        x.title,
                        x.url
                    );
                }
                for n in &ranges {
                    let mut ports = Vec::new();
                    if !n.tcp_ports.is_empty() {
                        ports.push(format!("tcp {}", n.tcp_ports));
                    }
                    if !n.udp_ports.is_empty() {
                        ports.push(format!("udp {}", n.udp_ports));
                    }
                    let addresses: Vec<String> =
                        n.addresses.iter().map(ToString::to_string).collect();
                    let _ = writeln!(
                        out,
                        "{}IP ranges {} ({}{}): {}",
                        if markdown { "\n" } else { "" },
                        n.id,
                        ports.join("; "),
                        if n.required { "" } else { "; optional" },
                        addresses.join(", ")
                    );
                }
                if mine.is_empty() {
                    continue;
                }
                let rows = mine.iter().map(|e| {
                    let schemes = e
                        .schemes
                        .value
                        .iter()
                        .map(|s| (*s, e.schemes.basis))
                        .collect();
                    let ports = e.ports.value.iter().map(|p| (*p, e.ports.basis)).collect();
                    vec![
                        target_lines(&e.destination),
                        crate::plan::ports_cell(
                            &schemes,
                            &ports,
                            &egress_catalog::plan::pairs(&e.schemes.value, &e.ports.value)
                                .into_iter()
                                .collect(),
                        ),
                        e.roles
                            .value
                            .iter()
                            .map(|r| format!("{r}{}", mark(e.roles.basis)))
                            .collect(),
                        vec![e.cloud.as_str().to_owned()],
                        conditions(e),
                    ]
                });
                if markdown {
                    out.push_str("\n| Endpoint | Ports | Roles | Cloud | Conditions |\n|---|---|---|---|---|\n");
                    for cells in rows {
                        let cells: Vec<String> = cells
                            .iter()
                            .map(|c| c.join("<br>").replace('|', "\\|"))
                            .collect();
                        let _ = writeln!(out, "| {} |", cells.join(" | "));
                    }
                } else {
                    // Roles, cloud and conditions share a column so that the table
                    // fits in 100 columns.
                    let mut t = Table::new(&["ENDPOINT", "PORTS", "ROLES (CLOUD, CONDITIONS)"]);
                    for mut cells in rows {
                        let conditions = cells.pop().unwrap_or_default();
                        let cloud = cells.pop().unwrap_or_default();
                        let notes = cloud
                            .into_iter()
                            .filter(|c| c != "all")
                            .map(|c| format!("{c} cloud"))
                            .chain(conditions);
                        cells[2].extend(notes.map(|n| format!("({n})")));
                        t.row(cells);
                    }
                    t.render(&mut out);
                }
            }
            let _ = writeln!(out, "\n* = assumed by the catalog, not stated by the page.");
            out
        }
    };
    output::emit(&text, args.output.as_deref())
}

fn list_csv(endpoints: &[&Endpoint]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "target",
        "host",
        "path",
        "features",
        "roles",
        "roles_basis",
        "schemes",
        "schemes_basis",
        "ports",
        "ports_basis",
        "cloud",
        "direction",
        "since_version",
        "until_version",
        "valid_from",
        "valid_until",
        "superseded_by",
        "notes",
        "source_page",
        "source_line",
    ])?;
    for e in endpoints {
        let path = match &e.destination {
            Destination::Url(u) => u.path.clone(),
            Destination::Host(_) => String::new(),
        };
        let opt = |v: Option<String>| v.unwrap_or_default();
        w.write_record([
            e.id.clone(),
            e.destination.to_string(),
            e.destination.host().to_string(),
            path,
            e.features.join(";"),
            e.roles.value.join(";"),
            e.roles.basis.as_str().to_owned(),
            e.schemes
                .value
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            e.schemes.basis.as_str().to_owned(),
            e.ports
                .value
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(";"),
            e.ports.basis.as_str().to_owned(),
            e.cloud.as_str().to_owned(),
            e.direction.as_str().to_owned(),
            opt(e.versions.since.map(|v| v.to_string())),
            opt(e.versions.until.map(|v| v.to_string())),
            opt(e.valid.from.map(|d| d.to_string())),
            opt(e.valid.until.map(|d| d.to_string())),
            opt(e.superseded.as_ref().map(|s| s.by.clone())),
            e.notes.join(" "),
            opt(e.source.as_ref().map(|s| s.page.clone())),
            opt(e.source.as_ref().map(|s| s.line.to_string())),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
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
