//! `egress catalog list`: the endpoints of a catalog, as a table, CSV,
//! markdown or JSON.

use std::fmt::Write as _;

use egress_catalog::catalog::{Catalog, Destination, Endpoint, Feature, Network, UNSPECIFIED_ROLE};
use egress_catalog::wire::CatalogDoc;

use crate::cli::{Format, ListArgs, Select};
use crate::context;
use crate::output;
use egress_catalog::table::Table;

use super::json;

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

pub(super) fn list(args: &ListArgs) -> anyhow::Result<()> {
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
    let networks: Vec<&Network> = catalog
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
        Format::Table | Format::Markdown => list_text(
            &loaded,
            &features,
            &endpoints,
            &networks,
            args.format == Format::Markdown,
        ),
    };
    output::emit(&text, args.output.as_deref())
}

/// The listing for people: a header, then each selected feature's
/// section (`==` headings and a table, or markdown).
fn list_text(
    loaded: &context::Loaded,
    features: &[String],
    endpoints: &[&Endpoint],
    networks: &[&Network],
    markdown: bool,
) -> String {
    let catalog = &loaded.catalog;
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
        let ranges: Vec<&&Network> = networks
            .iter()
            .filter(|n| n.features.contains(&f.id))
            .collect();
        if mine.is_empty() && f.external.is_empty() && ranges.is_empty() {
            continue;
        }
        feature_text(&mut out, f, &mine, &ranges, markdown);
    }
    let _ = writeln!(out, "\n* = assumed by the catalog, not stated by the page.");
    out
}

/// One feature's section: its title, section, external lists, IP ranges
/// and endpoints.
fn feature_text(
    out: &mut String,
    f: &Feature,
    mine: &[&&Endpoint],
    ranges: &[&&Network],
    markdown: bool,
) {
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
    for n in ranges {
        let mut ports = Vec::new();
        if !n.tcp_ports.is_empty() {
            ports.push(format!("tcp {}", n.tcp_ports));
        }
        if !n.udp_ports.is_empty() {
            ports.push(format!("udp {}", n.udp_ports));
        }
        let addresses: Vec<String> = n.addresses.iter().map(ToString::to_string).collect();
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
        return;
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
        out.push_str(
            "\n| Endpoint | Ports | Roles | Cloud | Conditions |\n|---|---|---|---|---|\n",
        );
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
        t.render(out);
    }
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
