//! The Microsoft 365 web service's `/changes` answer applied to a catalog
//! imported from its `/endpoints` answer (docs/import.md).
//!
//! The catalog holds, per endpoint, the record (endpoint set) it came
//! from (`source.text = "record N"`), its service area (the feature), URL,
//! TCP ports, `required`, category, ExpressRoute and notes: the records
//! are rebuilt from it, each change record newer than the catalog's
//! revision (the web service version it was imported at) is applied in
//! version order, and the catalog is written again at the newest version.
//! IP ranges come back from its `[[network]]` tables. What the catalog
//! does not hold (a set's wide TCP ranges without IP ranges, a service
//! area it leaves out) is said.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::m365::{
    Instance, M365Request, Record, build, day, json_text, looks_like_changes, loose_bool,
    record_lines, selected_areas, version_day,
};
use crate::{Import, ImportError, M365Answer, Remark, RemarkKind};

/// What to apply.
#[derive(Debug, Clone, Copy)]
pub struct ChangesRequest<'a> {
    /// The `/changes` answer's file (for messages).
    pub file: &'a Path,
    /// The catalog the changes apply to, and its text.
    pub catalog_file: &'a Path,
    pub catalog: &'a str,
    /// Only these service areas (default: the catalog's selection).
    pub service_areas: &'a [String],
}

/// A change record, as the web service writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeRecord {
    id: u64,
    endpoint_set_id: u64,
    disposition: String,
    version: String,
    current: Option<Fields>,
    add: Option<Added>,
    remove: Option<Removed>,
}

/// The values a change sets (`current`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(alias = "ExpressRoute", default, deserialize_with = "loose_bool")]
    express_route: Option<bool>,
    service_area: Option<String>,
    category: Option<String>,
    #[serde(default, deserialize_with = "loose_bool")]
    required: Option<bool>,
    tcp_ports: Option<String>,
    udp_ports: Option<String>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Added {
    effective_date: Option<String>,
    #[serde(default)]
    ips: Vec<String>,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Removed {
    #[serde(default)]
    ips: Vec<String>,
    #[serde(default)]
    urls: Vec<String>,
}

/// The parts of a catalog `import --format m365-json` wrote that the
/// records are rebuilt from.
#[derive(Debug, Deserialize)]
struct Written {
    catalog: WrittenMeta,
    #[serde(default)]
    page: Vec<WrittenPage>,
    #[serde(default)]
    feature: Vec<WrittenFeature>,
    #[serde(default)]
    endpoint: Vec<WrittenEndpoint>,
    #[serde(default)]
    network: Vec<WrittenNetwork>,
}

#[derive(Debug, Deserialize)]
struct WrittenNetwork {
    addresses: Vec<String>,
    tcp_ports: Option<String>,
    udp_ports: Option<String>,
    #[serde(flatten)]
    common: WrittenCommon,
}

/// What endpoints and networks both carry of their record.
#[derive(Debug, Deserialize)]
struct WrittenCommon {
    features: Vec<String>,
    required: Option<bool>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    notes: Vec<String>,
    source: Option<WrittenSource>,
}

#[derive(Debug, Deserialize)]
struct WrittenMeta {
    id: String,
    revision: String,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct WrittenPage {
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WrittenFeature {
    id: String,
    title: String,
}

#[derive(Debug, Deserialize)]
struct WrittenEndpoint {
    host: String,
    #[serde(default)]
    ports: Vec<u16>,
    #[serde(flatten)]
    common: WrittenCommon,
}

#[derive(Debug, Deserialize)]
struct WrittenSource {
    line: Option<u32>,
    text: Option<String>,
}

/// Applies a `/changes` answer to the catalog; the catalog at the newest
/// version applied. Every problem is reported at once; nothing is returned
/// on error.
pub fn apply(bytes: &[u8], request: &ChangesRequest<'_>) -> Result<Import, ImportError> {
    let text = json_text(request.file, bytes)?;
    let changes: Vec<ChangeRecord> =
        serde_json::from_str(&text).map_err(|e| ImportError::NotM365 {
            file: request.file.to_owned(),
            answer: M365Answer::Changes,
            line: e.line() as u32,
            column: (e.column() as u32).max(1),
            reason: match looks_like_changes(&text) {
                true => e.to_string(),
                false => format!("{e}; a `/changes` answer is a JSON array of change records, with `disposition` and `endpointSetId`"),
            },
        })?;
    let not_imported = |reason: String| ImportError::NotM365Catalog {
        file: request.catalog_file.to_owned(),
        reason,
    };
    // The id first: another catalog's endpoints need not have this shape.
    #[derive(Deserialize)]
    struct Head {
        catalog: WrittenMeta,
    }
    let head: Head = toml::from_str(request.catalog).map_err(|e| not_imported(e.to_string()))?;
    if head.catalog.id != "m365" {
        return Err(not_imported(format!(
            "its id is `{}`, not `m365`",
            head.catalog.id
        )));
    }
    let written: Written =
        toml::from_str(request.catalog).map_err(|e| not_imported(e.to_string()))?;
    let base = version(&written.catalog.revision).ok_or_else(|| {
        not_imported(format!(
            "its revision `{}` is not a web service version (YYYYMMDDNN), so which changes it holds is unknown; import the `/endpoints` answer with --revision VERSION",
            written.catalog.revision
        ))
    })?;
    let instance = written
        .page
        .iter()
        .filter_map(|p| p.url.as_deref())
        .find_map(|u| {
            [
                Instance::Worldwide,
                Instance::UsGovDod,
                Instance::UsGovGccHigh,
                Instance::China,
            ]
            .into_iter()
            .find(|i| u.ends_with(&format!("/endpoints/{}", i.service_name())))
        })
        .ok_or_else(|| not_imported("no page names the web service's instance".to_owned()))?;
    let mut records = rebuild(&written).map_err(not_imported)?;
    // Each set's line in the `/endpoints` answer (its endpoints' source);
    // a new set's, its change's.
    let mut lines: HashMap<u64, u32> = written
        .endpoint
        .iter()
        .map(|e| &e.common.source)
        .chain(written.network.iter().map(|n| &n.common.source))
        .filter_map(|s| {
            let s = s.as_ref()?;
            Some((record_id(s.text.as_deref()?)?, s.line?))
        })
        .collect();

    let kept = selected_areas(&written.catalog.notes);
    let change_lines = record_lines(&text);
    let mut remarks = Vec::new();
    let mut problems = Vec::new();
    let mut ordered: Vec<&ChangeRecord> = Vec::new();
    for c in &changes {
        match version(&c.version) {
            Some(v) if v > base => ordered.push(c),
            Some(_) => {}
            None => problems.push(format!(
                "{}:{}: change {}: `version` is `{}`, not YYYYMMDDNN",
                request.file.display(),
                change_lines.get(&c.id).copied().unwrap_or(1),
                c.id,
                c.version
            )),
        }
    }
    ordered.sort_by_key(|c| (version(&c.version), c.id));
    // The sets a change touches: their remarks are said again, at the
    // change's line; the others' were said when the catalog was imported.
    let touched: std::collections::HashSet<u64> =
        ordered.iter().map(|c| c.endpoint_set_id).collect();
    let skipped = changes.len() - ordered.len() - problems.len();
    for c in &ordered {
        let line = change_lines.get(&c.id).copied().unwrap_or(1);
        let remark = |kind, text: String, why: String| Remark {
            file: request.file.to_owned(),
            line,
            kind,
            text,
            why,
        };
        let at = records.iter().position(|r| r.id == c.endpoint_set_id);
        let disposition = c.disposition.to_ascii_lowercase();
        if disposition == "remove" {
            if let Some(i) = at {
                records.remove(i);
            }
            continue;
        }
        if !matches!(disposition.as_str(), "add" | "change") {
            problems.push(format!(
                "{}:{line}: change {}: disposition `{}` is not one the web service documents (Add, Change, Remove)",
                request.file.display(),
                c.id,
                c.disposition
            ));
            continue;
        }
        let record = match at {
            Some(i) => &mut records[i],
            None => {
                // A new endpoint set, or one the catalog does not hold:
                // its values must be given.
                let Some(area) = c.current.as_ref().and_then(|f| f.service_area.clone()) else {
                    if !kept.is_empty() {
                        // Likely a set of a service area the catalog
                        // leaves out.
                        remarks.push(remark(
                            RemarkKind::NotTaken,
                            format!("change {}", c.id),
                            format!(
                                "endpoint set {} is not in the catalog, which holds only the service areas {}",
                                c.endpoint_set_id,
                                kept.join(", ")
                            ),
                        ));
                    } else {
                        problems.push(format!(
                            "{}:{line}: change {}: endpoint set {} is not in {} and the change does not give its service area and ports; import the `/endpoints` answer again",
                            request.file.display(),
                            c.id,
                            c.endpoint_set_id,
                            request.catalog_file.display()
                        ));
                    }
                    continue;
                };
                lines.insert(c.endpoint_set_id, line);
                let i = records.len();
                records.push(Record {
                    id: c.endpoint_set_id,
                    service_area: area,
                    ..Record::default()
                });
                &mut records[i]
            }
        };
        if let Some(f) = &c.current {
            if let Some(v) = &f.service_area {
                record.service_area = v.clone();
            }
            if f.category.is_some() {
                record.category = f.category.clone();
            }
            if f.required.is_some() {
                record.required = f.required;
            }
            if f.express_route.is_some() {
                record.express_route = f.express_route;
            }
            if f.tcp_ports.is_some() {
                record.tcp_ports = f.tcp_ports.clone();
            }
            if f.udp_ports.is_some() {
                record.udp_ports = f.udp_ports.clone();
            }
            if f.notes.is_some() {
                record.notes = f.notes.clone();
            }
        }
        if let Some(r) = &c.remove {
            record
                .urls
                .retain(|u| !r.urls.iter().any(|x| x.eq_ignore_ascii_case(u)));
            record
                .ips
                .retain(|ip| !r.ips.iter().any(|x| x.eq_ignore_ascii_case(ip)));
        }
        if let Some(a) = &c.add {
            let effective = a.effective_date.as_deref().and_then(day);
            for url in &a.urls {
                if !record.urls.iter().any(|u| u.eq_ignore_ascii_case(url)) {
                    record.urls.push(url.clone());
                }
                if let Some(d) = &effective {
                    record.effective.insert(url.clone(), d.clone());
                }
            }
            for ip in &a.ips {
                if !record.ips.iter().any(|x| x.eq_ignore_ascii_case(ip)) {
                    record.ips.push(ip.clone());
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Records { problems });
    }
    let newest = ordered
        .last()
        .map_or(written.catalog.revision.clone(), |c| c.version.clone());
    remarks.insert(
        0,
        Remark {
            file: request.file.to_owned(),
            line: 1,
            kind: RemarkKind::Applied,
            text: format!("{} change records", ordered.len()),
            why: format!(
                "applied to {} (version {}), now version {newest}; {skipped} older ones were already in it",
                request.catalog_file.display(),
                written.catalog.revision
            ),
        },
    );
    let describes = version_day(&newest).unwrap_or_default();
    let build_request = M365Request {
        file: request.file,
        instance,
        service_areas: if request.service_areas.is_empty() {
            &kept
        } else {
            request.service_areas
        },
        revision: &newest,
        describes: &describes,
    };
    // Records are written in id order, as the web service lists them.
    records.sort_by_key(|r| r.id);
    // Remarks and problems point at the (last) change of a set.
    let at_change: HashMap<u64, u32> = ordered
        .iter()
        .map(|c| {
            (
                c.endpoint_set_id,
                change_lines.get(&c.id).copied().unwrap_or(1),
            )
        })
        .collect();
    build(
        &records,
        &at_change,
        &lines,
        remarks,
        &|id| touched.contains(&id),
        &build_request,
    )
}

/// The records the catalog was imported from, as far as it holds them.
fn rebuild(written: &Written) -> Result<Vec<Record>, String> {
    let mut records: BTreeMap<u64, Record> = BTreeMap::new();
    for e in &written.endpoint {
        let r = record(
            &mut records,
            written,
            &e.common,
            &format!("endpoint `{}`", e.host),
        )?;
        let ports: Vec<String> = e.ports.iter().map(u16::to_string).collect();
        r.tcp_ports = Some(ports.join(","));
        // The web service writes a tenant's name as `*`.
        let url = e.host.replace("<tenant>", "*");
        if let Some(d) = e.common.attributes.get("effective_date") {
            r.effective.insert(url.clone(), d.clone());
        }
        r.urls.push(url);
    }
    // A record's IP ranges, on its ports as written (ranges too, which its
    // endpoints hold only port by port).
    for n in &written.network {
        let r = record(&mut records, written, &n.common, "a network")?;
        r.ips.clone_from(&n.addresses);
        r.tcp_ports.clone_from(&n.tcp_ports);
        r.udp_ports.clone_from(&n.udp_ports);
    }
    Ok(records.into_values().collect())
}

/// The record an endpoint or network (`what`) came from, with the values
/// they share taken from it.
fn record<'a>(
    records: &'a mut BTreeMap<u64, Record>,
    written: &Written,
    c: &WrittenCommon,
    what: &str,
) -> Result<&'a mut Record, String> {
    let id = c
        .source
        .as_ref()
        .and_then(|s| record_id(s.text.as_deref()?))
        .ok_or_else(|| {
            format!("{what} names no web service record (`source.text = \"record N\"`)")
        })?;
    let feature = c.features.first().cloned().unwrap_or_default();
    let r = records.entry(id).or_insert_with(|| Record {
        id,
        service_area: crate::m365::area_name(&feature)
            .map_or_else(|| feature.clone(), str::to_owned),
        service_area_display_name: written
            .feature
            .iter()
            .find(|f| f.id == feature)
            .map(|f| f.title.clone()),
        ..Record::default()
    });
    r.required = c.required.or(Some(true));
    r.category = c.attributes.get("category").cloned();
    r.express_route = c.attributes.get("express_route").map(|v| v == "true");
    if r.notes.is_none() {
        r.notes = c.notes.first().cloned();
    }
    Ok(r)
}

/// `record N` → N.
fn record_id(text: &str) -> Option<u64> {
    text.strip_prefix("record ")?.parse().ok()
}

/// A version `YYYYMMDDNN` as a number.
fn version(v: &str) -> Option<u64> {
    version_day(v).and_then(|_| v.parse().ok())
}
