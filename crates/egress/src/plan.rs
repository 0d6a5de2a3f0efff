//! `egress plan`: the resolved requirements of a site, in four formats.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use egress_catalog::catalog::{Basis, Catalog, Scheme};
use egress_catalog::plan::{self, Pairs, Plan, Row, Status};
use egress_catalog::wire::{PlanDoc, pattern_kind};

use crate::cli::{Format, PlanArgs};
use crate::context::{self, Loaded};
use crate::output;
use egress_catalog::table::Table;

pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    let loaded = context::load(&args.source)?;
    context::check_ids(&loaded.catalog, &args.select)?;
    let request = context::request(&loaded, &args.select, args.cloud);
    let plan = plan::resolve(&loaded.catalog, &request);
    if loaded.profile.is_some() {
        for m in &plan.missing {
            eprintln!(
                "note: the plan needs <{}> ({}); set `{}` in the profile",
                m.name, m.title, m.profile_key
            );
        }
    }
    let text = render(&plan, &loaded, args.format)?;
    output::emit(&text, args.output.as_deref())
}

pub fn render(plan: &Plan, loaded: &Loaded, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => {
            let doc = PlanDoc::new(
                plan,
                env!("CARGO_PKG_VERSION"),
                loaded.profile_name.as_deref(),
            );
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            text
        }
        Format::Csv => csv(plan, &loaded.catalog)?,
        Format::Markdown => markdown(plan, loaded),
        Format::Table => table(plan, loaded),
    })
}

/// A row's scheme and port pairs: `https 443` a line each, or, when every
/// scheme goes with every port, the two lists; assumed values carry a `*`.
pub fn ports_cell(
    schemes: &BTreeMap<Scheme, Basis>,
    ports: &BTreeMap<u16, Basis>,
    pairs: &Pairs,
) -> Vec<String> {
    let mark = |b: Option<&Basis>| if b == Some(&Basis::Assumed) { "*" } else { "" };
    // Every scheme on every port: `https http` over `port 8080 8443`.
    // Otherwise each scheme with its own port, a line each.
    let product = pairs.len() == schemes.len() * ports.len();
    let one_port_each = pairs.len() == schemes.len();
    if product && !one_port_each {
        let schemes: Vec<String> = schemes
            .iter()
            .rev()
            .map(|(s, b)| format!("{s}{}", mark(Some(b))))
            .collect();
        let ports: Vec<String> = ports
            .iter()
            .map(|(p, b)| format!("{p}{}", mark(Some(b))))
            .collect();
        vec![schemes.join(" "), format!("port {}", ports.join(" "))]
    } else {
        pairs
            .iter()
            .rev()
            .map(|(s, p)| format!("{s}{} {p}{}", mark(schemes.get(s)), mark(ports.get(p))))
            .collect()
    }
}

/// An endpoint as people know it: its host or URL (the id if unknown).
fn destination(catalog: &Catalog, id: &str) -> String {
    catalog
        .endpoint(id)
        .map_or_else(|| id.to_owned(), |e| e.destination.to_string())
}

fn status_text(status: &Status, catalog: &Catalog) -> Option<String> {
    match status {
        Status::Required => None,
        Status::NeedsInput { placeholders } => Some(format!(
            "needs {}",
            placeholders
                .iter()
                .map(|p| format!("<{p}>"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Status::Superseded { by, since: Some(d) } => Some(format!(
            "superseded by {} since {d}",
            destination(catalog, by)
        )),
        Status::Superseded { by, since: None } => {
            Some(format!("superseded by {}", destination(catalog, by)))
        }
        Status::NotYetValid { from } => Some(format!("valid from {from}")),
        Status::Expired { until } => Some(format!("expired {until}")),
    }
}

/// The host, with its path for URLs that have one.
fn target(row: &Row) -> String {
    match &row.path {
        Some(p) => format!("{}{p}", row.host),
        None => row.host.clone(),
    }
}

pub fn header(plan: &Plan, loaded: &Loaded) -> Vec<String> {
    let r = &plan.request;
    let mut lines = vec![
        format!(
            "catalog {} revision {} ({}), describes {}",
            plan.catalog_id, plan.revision, loaded.catalog_origin, plan.describes
        ),
        format!(
            "profile {}; cloud {}; {}; as of {}",
            loaded.profile_name.as_deref().unwrap_or("(none)"),
            r.cloud.as_str(),
            r.version
                .map_or("all versions".to_owned(), |v| format!("version {v}")),
            r.as_of
        ),
        format!(
            "features: {}; roles: {}",
            r.features
                .as_ref()
                .map_or("all".to_owned(), |f| f.join(", ")),
            if r.roles.is_empty() {
                "all".to_owned()
            } else {
                r.roles.join(", ")
            }
        ),
        format!("egress {}", env!("CARGO_PKG_VERSION")),
    ];
    // What the site left out is named once, never silently gone.
    let x = &r.exclude;
    if !x.features.is_empty() || !x.endpoints.is_empty() {
        let mut parts = Vec::new();
        if !x.features.is_empty() {
            parts.push(format!("features {}", x.features.join(", ")));
        }
        if !x.endpoints.is_empty() {
            parts.push(format!("endpoints {}", x.endpoints.join(", ")));
        }
        lines.push(format!("excluded by the site: {}", parts.join("; ")));
    }
    lines
}

/// A URL path as indented lines of at most 40 characters, so that tables
/// stay readable at 100 columns.
pub fn path_lines(path: &str) -> Vec<String> {
    let chars: Vec<char> = path.chars().collect();
    chars
        .chunks(40)
        .map(|c| format!("  {}", c.iter().collect::<String>()))
        .collect()
}
/// `optional` (every endpoint behind the row has `required = false`) and
/// the row's attributes (`category: Optimize`), for people.
fn optional_and_attributes(row: &Row) -> impl Iterator<Item = String> + '_ {
    row.optional
        .then(|| "optional".to_owned())
        .into_iter()
        .chain(row.attributes.iter().map(|(k, v)| format!("{k}: {v}")))
}

fn table(plan: &Plan, loaded: &Loaded) -> String {
    let mut out = String::new();
    for line in header(plan, loaded) {
        let _ = writeln!(out, "# {line}");
    }
    out.push('\n');
    let mut t = Table::new(&["HOST", "PORTS", "NEEDED BY (features, then as roles)"]);
    for row in &plan.rows {
        let mut host = vec![row.host.clone()];
        if let Some(path) = &row.path {
            host.extend(path_lines(path));
        }
        if row.direction == egress_catalog::catalog::Direction::Intranet {
            host.push("  (intranet, between site systems)".to_owned());
        }
        match &row.status {
            // The successor is named in the footer, to keep the column narrow.
            Status::Superseded { since: Some(d), .. } => host.push(format!("  (superseded {d})")),
            status => host.extend(status_text(status, &loaded.catalog).map(|s| format!("  ({s})"))),
        }
        for v in &row.versions {
            host.push(format!("  ({v})"));
        }
        for o in &row.origins {
            host.push(format!("  ({o})"));
        }
        host.extend(optional_and_attributes(row).map(|a| format!("  ({a})")));
        t.row(vec![
            host,
            ports_cell(&row.schemes, &row.ports, &row.pairs()),
            needed_by(row),
        ]);
    }
    t.render(&mut out);
    let _ = writeln!(
        out,
        "\n{} rows; * = assumed by the catalog, not stated by the page.",
        plan.rows.len()
    );
    footer(plan, &loaded.catalog, &mut out, "  ");
    out
}

/// The features, then the roles, that need a row (one column, so that the
/// table fits in 100 columns). Where they need it on different schemes or
/// ports, each names its own: `software-updates (http 80)`.
fn needed_by(row: &Row) -> Vec<String> {
    let mut features: Vec<(String, Pairs)> = Vec::new();
    let mut roles: Vec<(String, Pairs)> = Vec::new();
    for r in &row.requirements {
        let basis = if r.role_basis == Basis::Assumed {
            "*"
        } else {
            ""
        };
        for (list, key) in [
            (&mut features, r.feature.clone()),
            (&mut roles, format!("as {}{basis}", r.role)),
        ] {
            match list.iter_mut().find(|(k, _)| *k == key) {
                Some((_, pairs)) => pairs.extend(r.pairs.iter().copied()),
                None => list.push((key, r.pairs.clone())),
            }
        }
    }
    roles.sort();
    let all = row.pairs();
    features
        .into_iter()
        .chain(roles)
        .map(|(name, pairs)| {
            if pairs == all {
                name
            } else {
                let pairs: Vec<String> = pairs.iter().map(|(s, p)| format!("{s} {p}")).collect();
                format!("{name} ({})", pairs.join(", "))
            }
        })
        .collect()
}

/// Each requirement as `feature@role=scheme:port scheme:port`, for CSV.
fn requirements_cell(row: &Row) -> String {
    row.requirements
        .iter()
        .map(|r| {
            let pairs: Vec<String> = r.pairs.iter().map(|(s, p)| format!("{s}:{p}")).collect();
            format!("{}@{}={}", r.feature, r.role, pairs.join(" "))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A network row's ports: `tcp 80,443`, `udp 3478-3481`.
fn network_ports(n: &egress_catalog::plan::NetworkRow) -> Vec<String> {
    let mut out = Vec::new();
    if !n.tcp_ports.is_empty() {
        out.push(format!("tcp {}", n.tcp_ports));
    }
    if !n.udp_ports.is_empty() {
        out.push(format!("udp {}", n.udp_ports));
    }
    out
}

/// The parts every human-readable plan ends with: IP ranges, external
/// lists, missing placeholders, endpoints left out by version.
fn footer(plan: &Plan, catalog: &Catalog, out: &mut String, bullet: &str) {
    if !plan.networks.is_empty() {
        let _ = writeln!(
            out,
            "\nIP ranges ({}; only targets that take addresses render them, the check does not probe them):",
            plan.networks.len()
        );
        for n in &plan.networks {
            let mut parts = vec![n.address.to_string()];
            parts.extend(network_ports(n));
            parts.push(n.features.join(", "));
            if n.optional {
                parts.push("optional".to_owned());
            }
            parts.extend(n.attributes.iter().map(|(k, v)| format!("{k}: {v}")));
            let _ = writeln!(out, "{bullet}{}", parts.join("  "));
        }
    }
    let superseded: Vec<(&Row, &str)> = plan
        .rows
        .iter()
        .filter_map(|r| match &r.status {
            Status::Superseded { by, .. } => Some((r, by.as_str())),
            _ => None,
        })
        .collect();
    if !superseded.is_empty() {
        let _ = writeln!(out, "\nSuperseded (shown, not required):");
        for (row, by) in superseded {
            let _ = writeln!(
                out,
                "{bullet}{}\n{bullet}  replaced by {}",
                target(row),
                destination(catalog, by)
            );
        }
    }
    if !plan.external.is_empty() {
        let _ = writeln!(out, "\nExternal lists not included (allow these too):");
        for x in &plan.external {
            let _ = writeln!(out, "{bullet}{}: {} <{}>", x.feature, x.title, x.url);
        }
    }
    if !plan.missing.is_empty() {
        let _ = writeln!(out, "\nNeeds input (set in the profile):");
        for m in &plan.missing {
            let _ = writeln!(out, "{bullet}<{}>: set `{}`", m.name, m.profile_key);
            let mut hosts: Vec<String> = Vec::new();
            for d in m.endpoints.iter().map(|e| destination(catalog, e)) {
                if !hosts.contains(&d) {
                    hosts.push(d);
                }
            }
            let used_by = format!("{}; used by {}", m.title, hosts.join(", "));
            out.push_str(&egress_catalog::table::wrap(
                &used_by,
                &format!("{bullet}    "),
                100,
            ));
        }
    }
    if !plan.excluded.is_empty() {
        let _ = writeln!(out, "\nLeft out (by version, or by the site):");
        for x in &plan.excluded {
            let _ = writeln!(
                out,
                "{bullet}{}: {}",
                destination(catalog, &x.endpoint),
                x.reason
            );
        }
    }
}

fn markdown(plan: &Plan, loaded: &Loaded) -> String {
    let mut out = String::from("# Internet endpoints to allow\n\n");
    for line in header(plan, loaded) {
        let _ = writeln!(out, "- {line}");
    }
    out.push_str(
        "\n| Host | Ports | Features | Roles | Status | Notes |\n|---|---|---|---|---|---|\n",
    );
    fn cell<S: AsRef<str>>(lines: &[S]) -> String {
        let lines: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
        lines.join("<br>").replace('|', "\\|")
    }
    for row in &plan.rows {
        let roles: Vec<String> = row
            .roles()
            .iter()
            .map(|(r, b)| format!("{r}{}", if *b == Basis::Assumed { "*" } else { "" }))
            .collect();
        let mut status = vec![
            status_text(&row.status, &loaded.catalog).unwrap_or_else(|| "required".to_owned()),
        ];
        status.extend(row.versions.iter().map(|v| v.to_string()));
        if row.direction == egress_catalog::catalog::Direction::Intranet {
            status.push("intranet".to_owned());
        }
        status.extend(optional_and_attributes(row));
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            target(row).replace('|', "\\|"),
            cell(&ports_cell(&row.schemes, &row.ports, &row.pairs())),
            cell(&row.features()),
            cell(&roles),
            cell(&status),
            cell(&row.notes),
        );
    }
    out.push_str("\n\\* assumed by the catalog, not stated by the page.\n");
    footer(plan, &loaded.catalog, &mut out, "- ");
    out
}

fn csv(plan: &Plan, catalog: &Catalog) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "host",
        "path",
        "kind",
        "direction",
        "schemes",
        "ports",
        "features",
        "roles",
        "assumed",
        "sections",
        "status",
        "detail",
        "versions",
        "endpoints",
        "notes",
        "requirements",
        "optional",
        "attributes",
    ])?;
    let join = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<_>>().join(";");
    for row in &plan.rows {
        let assumed = row
            .schemes
            .iter()
            .filter(|(_, b)| **b == Basis::Assumed)
            .map(|(s, _)| format!("scheme:{s}"))
            .chain(
                row.ports
                    .iter()
                    .filter(|(_, b)| **b == Basis::Assumed)
                    .map(|(p, _)| format!("port:{p}")),
            )
            .chain(
                row.roles()
                    .into_iter()
                    .filter(|(_, b)| *b == Basis::Assumed)
                    .map(|(r, _)| format!("role:{r}")),
            );
        w.write_record([
            row.host.clone(),
            row.path.clone().unwrap_or_default(),
            pattern_kind(row.pattern.as_ref()).to_owned(),
            row.direction.as_str().to_owned(),
            join(&mut row.schemes.keys().map(|s| s.to_string())),
            join(&mut row.ports.keys().map(|p| p.to_string())),
            row.features().join(";"),
            join(&mut row.roles().keys().map(|r| r.to_string())),
            join(&mut assumed.into_iter()),
            row.sections.join(";"),
            row.status.as_str().to_owned(),
            status_text(&row.status, catalog).unwrap_or_default(),
            join(&mut row.versions.iter().map(|v| v.to_string())),
            row.endpoints.join(";"),
            row.notes.join(" "),
            requirements_cell(row),
            if row.optional { "true" } else { "" }.to_owned(),
            join(&mut row.attributes.iter().map(|(k, v)| format!("{k}={v}"))),
        ])?;
    }
    // External lists have no hosts; they are rows of their own kind so that
    // nobody mistakes the list for complete.
    for x in &plan.external {
        let mut record = vec![String::new(); 18];
        record[2] = "external".to_owned();
        record[6] = x.feature.clone();
        record[10] = "external".to_owned();
        record[11] = x.url.clone();
        record[14] = format!("External list not included: {}", x.title);
        w.write_record(&record)?;
    }
    // IP ranges: kind `network`, the range in the host column, ports as
    // `tcp:443;udp:3478-3481`.
    for n in &plan.networks {
        let mut record = vec![String::new(); 18];
        record[0] = n.address.to_string();
        record[2] = "network".to_owned();
        record[3] = "internet".to_owned();
        record[5] = network_ports(n).join(";").replace(' ', ":");
        record[6] = n.features.join(";");
        record[10] = "required".to_owned();
        record[13] = n.networks.join(";");
        record[16] = if n.optional { "true" } else { "" }.to_owned();
        record[17] = join(&mut n.attributes.iter().map(|(k, v)| format!("{k}={v}")));
        w.write_record(&record)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
