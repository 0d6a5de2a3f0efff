//! The Microsoft 365 IP address and URL web service's `/endpoints`
//! answer (JSON records) as an egress catalog: a feature per service
//! area, an endpoint per record and URL, a network per record with IP
//! ranges (docs/import.md).
//!
//! Each record carries `id`, `serviceArea`, `urls`, `ips`, `tcpPorts`,
//! `udpPorts`, `category`, `expressRoute`, `required` and `notes`. URLs
//! become host patterns on the record's TCP ports (80: http, 443: https,
//! other ports as stated); `required: false` becomes `required = false`;
//! `category` and `expressRoute` become attributes; `notes` are kept; the
//! record id is the endpoint's provenance. IP ranges become a
//! `[[network]]` on the record's TCP and UDP ports as written. What is not
//! taken (UDP ports of URLs, wide port ranges of URLs) is a remark.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use egress_pattern::HostPattern;
use serde::Deserialize;
use toml_writer::TomlWrite;

use crate::{Import, ImportError, M365Answer, Remark, RemarkKind};

/// Which instance of the web service the answer is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    Worldwide,
    UsGovDod,
    UsGovGccHigh,
    China,
}

impl Instance {
    /// The web service's name for it (`/endpoints/{instance}`).
    pub fn service_name(self) -> &'static str {
        match self {
            Instance::Worldwide => "Worldwide",
            Instance::UsGovDod => "USGovDoD",
            Instance::UsGovGccHigh => "USGovGCCHigh",
            Instance::China => "China",
        }
    }
}

/// What to import.
#[derive(Debug, Clone, Copy)]
pub struct M365Request<'a> {
    /// The file the answer was read from (for messages).
    pub file: &'a Path,
    pub instance: Instance,
    /// Only these service areas (by name, any case); all when empty.
    pub service_areas: &'a [String],
    /// The catalog revision (the web service's version, `2026113000`).
    pub revision: &'a str,
    /// The day the answer describes (`YYYY-MM-DD`).
    pub describes: &'a str,
}

/// One record (endpoint set) of the answer, as the web service writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    pub(crate) id: u64,
    pub(crate) service_area: String,
    pub(crate) service_area_display_name: Option<String>,
    #[serde(default)]
    pub(crate) urls: Vec<String>,
    #[serde(default)]
    pub(crate) ips: Vec<String>,
    pub(crate) tcp_ports: Option<String>,
    pub(crate) udp_ports: Option<String>,
    #[serde(default, deserialize_with = "loose_bool")]
    pub(crate) express_route: Option<bool>,
    pub(crate) category: Option<String>,
    #[serde(default, deserialize_with = "loose_bool")]
    pub(crate) required: Option<bool>,
    pub(crate) notes: Option<String>,
    /// When a URL added by a `/changes` record goes live (`YYYY-MM-DD`),
    /// by URL as written.
    #[serde(skip)]
    pub(crate) effective: BTreeMap<String, String>,
}

/// The service areas the web service documents, with their feature
/// titles; any other is imported by its name, and reported.
const AREAS: [(&str, &str); 5] = [
    ("Common", "Microsoft 365 Common and Office Online"),
    ("Exchange", "Exchange Online"),
    ("SharePoint", "SharePoint Online and OneDrive for Business"),
    ("Skype", "Skype for Business Online and Microsoft Teams"),
    ("MEM", "Microsoft Intune"),
];

/// The catalog note that records a selection of service areas, which
/// `/changes` and `catalog fetch` keep.
const AREAS_NOTE: &str = "Imported for the service areas: ";

/// The service areas a catalog the importer wrote was limited to (its
/// note), as given; empty when it holds them all.
pub fn selected_areas(notes: &[String]) -> Vec<String> {
    notes
        .iter()
        .find_map(|n| n.strip_prefix(AREAS_NOTE))
        .map(|areas| areas.split(", ").map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The day a web service version `YYYYMMDDNN` names (`2026120100` →
/// `2026-12-01`); `None` when it is not a version.
pub fn version_day(version: &str) -> Option<String> {
    (version.len() == 10 && version.bytes().all(|b| b.is_ascii_digit()))
        .then(|| day(version))
        .flatten()
}

/// `YYYYMMDD` (the web service's `effectiveDate`) as `YYYY-MM-DD`.
pub(crate) fn day(d: &str) -> Option<String> {
    let d = d.get(..8)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |r: std::ops::Range<usize>| d[r].parse::<u32>().ok();
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || !(1..=days).contains(&day) {
        return None;
    }
    Some(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
}

const CATEGORIES: [&str; 3] = ["Optimize", "Allow", "Default"];

/// Ports of one range imported one by one at most; a wider range is a
/// remark.
const RANGE_MAX: u32 = 16;

/// Imports an `/endpoints` answer. Every record's problem is reported at
/// once; nothing is returned on error.
pub fn import(bytes: &[u8], request: &M365Request<'_>) -> Result<Import, ImportError> {
    let text = json_text(request.file, bytes)?;
    let records: Vec<Record> = serde_json::from_str(&text).map_err(|e| ImportError::NotM365 {
        file: request.file.to_owned(),
        answer: M365Answer::Endpoints,
        line: e.line() as u32,
        column: (e.column() as u32).max(1),
        reason: match looks_like_changes(&text) {
            true => format!(
                "{e}; its records have `disposition` and `endpointSetId`: it is a `/changes` answer"
            ),
            false => e.to_string(),
        },
    })?;
    let lines = record_lines(&text);
    build(&records, &lines, &lines, Vec::new(), &|_| true, request)
}

/// An answer's text, decoded (a BOM and UTF-16 read, as everywhere).
pub(crate) fn json_text(file: &Path, bytes: &[u8]) -> Result<String, ImportError> {
    egress_text::decode(bytes)
        .map(|t| t.text)
        .map_err(|error| ImportError::NotText {
            file: file.to_owned(),
            error,
        })
}

/// Whether `text` holds `/changes` records (told apart by their keys).
pub(crate) fn looks_like_changes(text: &str) -> bool {
    text.contains("\"disposition\"") && text.contains("\"endpointSetId\"")
}

/// `true` or `false`, as JSON writes them or as strings: published
/// `/changes` records write `"expressRoute": "false"`.
pub(crate) fn loose_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Bool(bool),
        Text(String),
    }
    match Option::<Loose>::deserialize(d)? {
        None => Ok(None),
        Some(Loose::Bool(b)) => Ok(Some(b)),
        Some(Loose::Text(t)) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Loose::Text(t)) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(Loose::Text(t)) => Err(serde::de::Error::custom(format!(
            "`{t}` is not a boolean: expected true or false"
        ))),
    }
}

/// The catalog of `records` (`lines`: each record's line in the file, for
/// remarks and problems; `sources`: the line each record's endpoints name
/// as their source; `remarks`: said before the records'; `said`: whether
/// a record's own remarks are said). Every record's problem is reported
/// at once.
pub(crate) fn build(
    records: &[Record],
    lines: &std::collections::HashMap<u64, u32>,
    sources: &std::collections::HashMap<u64, u32>,
    mut remarks: Vec<Remark>,
    said: &dyn Fn(u64) -> bool,
    request: &M365Request<'_>,
) -> Result<Import, ImportError> {
    let file = request.file.to_owned();
    let wanted = |area: &str| {
        request.service_areas.is_empty()
            || request
                .service_areas
                .iter()
                .any(|a| a.eq_ignore_ascii_case(area))
    };
    let mut problems = Vec::new();
    let mut features: BTreeMap<String, String> = BTreeMap::new();
    let mut endpoints = Vec::new();
    let mut networks = Vec::new();
    let mut tenant = false;
    let mut seen = std::collections::HashSet::new();
    for r in records.iter().filter(|r| wanted(&r.service_area)) {
        // Remarks of records `said` leaves out are not repeated.
        let before = remarks.len();
        'record: {
            let line = lines.get(&r.id).copied().unwrap_or(1);
            let remark = |kind, text: String, why: String| Remark {
                file: file.clone(),
                line,
                kind,
                text,
                why,
            };
            if !seen.insert(r.id) {
                problems.push(format!(
                    "{}:{line}: record {}: the id is given to another record already: each endpoint set has its own",
                    file.display(),
                    r.id
                ));
                break 'record;
            }
            let feature = feature_id(&r.service_area);
            if feature.is_empty() {
                problems.push(format!(
                    "{}:{line}: record {}: service area `{}` has no letter or digit to name a feature by",
                    file.display(),
                    r.id,
                    r.service_area
                ));
                break 'record;
            }
            if !features.contains_key(&feature) {
                let title = match AREAS.iter().find(|(a, _)| *a == r.service_area) {
                    Some((_, title)) => (*title).to_owned(),
                    None => {
                        remarks.push(remark(
                            RemarkKind::NotUnderstood,
                            r.service_area.clone(),
                            format!("not a service area the web service documents: imported as feature `{feature}`"),
                        ));
                        r.service_area_display_name
                            .clone()
                            .unwrap_or_else(|| r.service_area.clone())
                    }
                };
                features.insert(feature.clone(), title);
            }
            if let Some(c) = &r.category
                && !CATEGORIES.contains(&c.as_str())
            {
                remarks.push(remark(
                    RemarkKind::NotUnderstood,
                    c.clone(),
                    format!("record {}: not a category the web service documents (Optimize, Allow, Default): kept as written", r.id),
                ));
            }
            let udp = r.udp_ports.as_deref().filter(|u| !u.trim().is_empty());
            if !r.ips.is_empty() {
                // The record's IP ranges on its TCP and UDP ports, as
                // written (ranges too): one `[[network]]`.
                let mut bad = false;
                for ip in &r.ips {
                    if let Err(e) = address_range(ip) {
                        bad = true;
                        problems.push(format!("{}:{line}: record {}: {e}", file.display(), r.id));
                    }
                }
                for (key, value) in [("tcpPorts", r.tcp_ports.as_deref()), ("udpPorts", udp)] {
                    if let Err(e) = ports(value.unwrap_or_default()) {
                        bad = true;
                        problems.push(format!(
                            "{}:{line}: record {}: {}",
                            file.display(),
                            r.id,
                            e.replace("tcpPorts", key)
                        ));
                    }
                }
                let tcp = r.tcp_ports.as_deref().is_some_and(|t| !t.trim().is_empty());
                if bad {
                    break 'record;
                }
                if tcp || udp.is_some() {
                    networks.push((
                        r,
                        feature.clone(),
                        sources.get(&r.id).copied().unwrap_or(line),
                    ));
                } else {
                    remarks.push(remark(
                        RemarkKind::NotTaken,
                        format!("{} IP ranges", r.ips.len()),
                        format!(
                            "record {}: no TCP or UDP port: its IP ranges are left out",
                            r.id
                        ),
                    ));
                }
            } else if let Some(udp) = udp
                && !r.urls.is_empty()
            {
                remarks.push(remark(
                    RemarkKind::NotTaken,
                    format!("udp {udp}"),
                    format!(
                        "record {}: UDP ports of URLs are not egress's (HTTP and TLS over TCP); only IP ranges take them",
                        r.id
                    ),
                ));
            }
            let ports = match ports(r.tcp_ports.as_deref().unwrap_or_default()) {
                Ok((ports, wide)) => {
                    for w in wide {
                        remarks.push(remark(
                            RemarkKind::NotTaken,
                            format!("tcp {w}"),
                            format!("record {}: a range of more than {RANGE_MAX} ports is not imported port by port", r.id),
                        ));
                    }
                    ports
                }
                Err(e) => {
                    problems.push(format!("{}:{line}: record {}: {e}", file.display(), r.id));
                    break 'record;
                }
            };
            if r.urls.is_empty() {
                break 'record;
            }
            if ports.is_empty() {
                remarks.push(remark(
                    RemarkKind::NotTaken,
                    r.urls.join(", "),
                    format!(
                        "record {}: no TCP port egress imports: its URLs are left out",
                        r.id
                    ),
                ));
                break 'record;
            }
            for p in ports.iter().filter(|p| !matches!(p, 80 | 443)) {
                remarks.push(remark(
                    RemarkKind::NotUnderstood,
                    format!("tcp {p}"),
                    format!("record {}: not HTTP (80) or HTTPS (443): kept as stated, checked and rendered as TLS", r.id),
                ));
            }
            for url in &r.urls {
                match host(url) {
                    Ok((pattern, placeholder)) => {
                        tenant |= placeholder;
                        if placeholder {
                            remarks.push(remark(
                                RemarkKind::NotUnderstood,
                                url.clone(),
                                format!("record {}: `*` as a whole middle label is one tenant's name: imported as `{pattern}` (set placeholders.tenant in the profile)", r.id),
                            ));
                        }
                        endpoints.push((
                            r,
                            feature.clone(),
                            pattern,
                            url.as_str(),
                            ports.clone(),
                            sources.get(&r.id).copied().unwrap_or(line),
                        ));
                    }
                    Err(e) => problems.push(format!(
                        "{}:{line}: record {}: `{url}` is not a host egress can match: {e}",
                        file.display(),
                        r.id
                    )),
                }
            }
        }
        if !said(r.id) {
            remarks.truncate(before);
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Records { problems });
    }
    // A service area whose records gave nothing (no URL or range on a
    // port egress takes: each said in a remark) is no feature.
    features.retain(|id, _| {
        endpoints.iter().any(|e| e.1 == *id) || networks.iter().any(|n| n.1 == *id)
    });
    if endpoints.is_empty() && networks.is_empty() {
        return Err(ImportError::NoEndpoints {
            file: file.clone(),
            remarks,
        });
    }
    let mut catalog = write(request, &features, &endpoints, tenant);
    write_networks(&mut catalog, &networks);
    Ok(Import {
        catalog,
        revision: request.revision.to_owned(),
        language: "en-US".to_owned(),
        language_known: true,
        files: vec![PathBuf::from(request.file)],
        endpoints: endpoints.len(),
        networks: networks.len(),
        features: features.len(),
        remarks,
    })
}

/// A record's IP range (`20.190.128.0/18`, `2603:1006::/40`, or one
/// address): checked as the catalog checks it, host bits included.
fn address_range(text: &str) -> Result<(), String> {
    let bad = || format!("`{text}` in ips is not an IP range like `20.190.128.0/18`");
    // Written trimmed; nothing else is changed.
    let (addr, prefix) = match text.trim().split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text.trim(), None),
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
    let (bits, max) = match ip {
        std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32u32),
        std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let prefix = match prefix {
        None => max,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
            .parse::<u32>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(bad)?,
        Some(_) => return Err(bad()),
    };
    let host_mask = u128::MAX.checked_shr(prefix).unwrap_or(0);
    let host_mask = if max == 32 {
        host_mask & (u128::MAX << 96)
    } else {
        host_mask
    };
    if bits & host_mask != 0 {
        return Err(format!("`{text}` in ips has host bits set"));
    }
    Ok(())
}

/// `attributes = { category, express_route, effective_date }` of a
/// record (the effective date of `url`, when a change added it), and its
/// notes.
fn write_details(out: &mut String, r: &Record, url: Option<&str>) {
    let mut attributes = Vec::new();
    if let Some(c) = &r.category {
        attributes.push(("category", c.clone()));
    }
    if let Some(e) = r.express_route {
        attributes.push(("express_route", e.to_string()));
    }
    if let Some(d) = url.and_then(|u| r.effective.get(u)) {
        attributes.push(("effective_date", d.clone()));
    }
    if !attributes.is_empty() {
        out.push_str("attributes = { ");
        for (i, (k, v)) in attributes.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(k);
            out.push_str(" = ");
            let _ = out.value(v.as_str());
        }
        out.push_str(" }\n");
    }
    if let Some(n) = r.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        out.push_str("notes = [");
        let _ = out.value(n.trim());
        out.push_str("]\n");
    }
}

/// One `[[network]]` per record with IP ranges: `r<id>-ips`.
fn write_networks(out: &mut String, networks: &[(&Record, String, u32)]) {
    for (r, feature, line) in networks {
        out.push_str("\n[[network]]\n");
        let _ = writeln!(out, "id = \"r{}-ips\"", r.id);
        let _ = writeln!(out, "features = [\"{feature}\"]");
        // Checked ranges hold only hex digits, `.`, `:` and `/`: nothing
        // to escape.
        out.push_str("addresses = [");
        for (i, ip) in r.ips.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push('"');
            out.push_str(ip.trim());
            out.push('"');
        }
        out.push_str("]\n");
        for (key, ports) in [("tcp_ports", &r.tcp_ports), ("udp_ports", &r.udp_ports)] {
            if let Some(p) = ports.as_deref().filter(|p| !p.trim().is_empty()) {
                out.push_str(key);
                out.push_str(" = ");
                let _ = out.value(p.replace(' ', "").as_str());
                out.push('\n');
            }
        }
        if r.required == Some(false) {
            out.push_str("required = false\n");
        }
        write_details(out, r, None);
        out.push_str(&format!(
            "source = {{ page = \"web-service\", line = {line}, text = \"record {}\" }}\n",
            r.id
        ));
    }
}

/// The documented service area whose feature id is `feature`.
pub(crate) fn area_name(feature: &str) -> Option<&'static str> {
    AREAS
        .iter()
        .map(|(a, _)| *a)
        .find(|a| feature_id(a) == feature)
}

/// A service area's feature id: its name in lowercase (`SharePoint` →
/// `sharepoint`, `MEM` → `mem`), each run of other characters as one `-`;
/// empty when the name has no letter or digit.
pub fn feature_id(area: &str) -> String {
    let mut id = String::new();
    for c in area.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

/// The record's TCP ports (`80,443,1024-65535`): each port, and the ranges
/// too wide to list.
fn ports(text: &str) -> Result<(Vec<u16>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut wide = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("`{part}` in tcpPorts is not a port or a range (`443`, `1024-65535`)");
        let port = |p: &str| {
            p.trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(bad)
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                if a > b {
                    return Err(bad());
                }
                if u32::from(b - a) >= RANGE_MAX {
                    wide.push(part.to_owned());
                } else {
                    out.extend(a..=b);
                }
            }
            None => out.push(port(part)?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok((out, wide))
}

/// A record's URL as an egress host pattern: `*.x` and partial-label
/// forms (`*-files.sharepoint.com`) as they are; a `*` that is a whole
/// middle label (`autodiscover.*.onmicrosoft.com`) as the `<tenant>`
/// placeholder (`true`).
fn host(url: &str) -> Result<(String, bool), String> {
    let url = url.trim().trim_end_matches('/').to_ascii_lowercase();
    let middle = url.split('.').skip(1).any(|l| l == "*");
    if !middle {
        HostPattern::parse(&url).map_err(|e| e.to_string())?;
        return Ok((url, false));
    }
    let labels = |star: &str| {
        url.split('.')
            .enumerate()
            .map(|(i, l)| if i > 0 && l == "*" { star } else { l })
            .collect::<Vec<_>>()
            .join(".")
    };
    HostPattern::parse(&labels("tenant")).map_err(|e| e.to_string())?;
    Ok((labels("<tenant>"), true))
}

/// The line of each record's `"id"` key, in one pass over the text
/// (records without one found are given line 1).
pub(crate) fn record_lines(text: &str) -> std::collections::HashMap<u64, u32> {
    let mut lines = std::collections::HashMap::new();
    let (mut line, mut counted) = (1u32, 0);
    for (at, key) in text.match_indices("\"id\"") {
        line += text[counted..at].matches('\n').count() as u32;
        counted = at;
        let value = text[at + key.len()..]
            .trim_start()
            .strip_prefix(':')
            .map(str::trim_start)
            .unwrap_or_default();
        let digits = value.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(id) = value[..digits].parse() {
            lines.entry(id).or_insert(line);
        }
    }
    lines
}

/// A record, its feature, a URL as a pattern and as written, its ports
/// and its line.
type Taken<'r> = (&'r Record, String, String, &'r str, Vec<u16>, u32);

/// The catalog text: `[catalog]`, the web service as its page, a feature
/// per service area, the `<tenant>` placeholder when used, an endpoint
/// per record and URL.
fn write(
    request: &M365Request<'_>,
    features: &BTreeMap<String, String>,
    endpoints: &[Taken<'_>],
    tenant: bool,
) -> String {
    // About 300 bytes an endpoint.
    let mut out = String::with_capacity(4096 + endpoints.len() * 320);
    let kv = |out: &mut String, key: &str, value: &str| {
        out.push_str(key);
        out.push_str(" = ");
        let _ = out.value(value);
        out.push('\n');
    };
    let instance = request.instance.service_name();
    out.push_str("# Imported by `egress catalog import --format m365-json` from the\n# Microsoft 365 IP address and URL web service. Do not edit: import again.\n\n[catalog]\n");
    kv(&mut out, "id", "m365");
    kv(
        &mut out,
        "title",
        &format!("Microsoft 365 endpoints ({instance})"),
    );
    kv(&mut out, "vendor", "Microsoft");
    kv(&mut out, "product", "Microsoft 365");
    kv(&mut out, "revision", request.revision);
    out.push_str(&format!("describes = {}\n", request.describes));
    if !request.service_areas.is_empty() {
        out.push_str("notes = [");
        let _ = out.value(format!("{AREAS_NOTE}{}", request.service_areas.join(", ")).as_str());
        out.push_str("]\n");
    }
    out.push_str("\n[[page]]\n");
    kv(&mut out, "id", "web-service");
    kv(
        &mut out,
        "title",
        "Office 365 IP Address and URL web service",
    );
    kv(
        &mut out,
        "url",
        &format!("https://endpoints.office.com/endpoints/{instance}"),
    );
    kv(&mut out, "language", "en-US");
    if tenant {
        out.push_str("\n[[placeholder]]\n");
        kv(&mut out, "name", "tenant");
        kv(
            &mut out,
            "title",
            "your tenant's name (contoso in contoso.onmicrosoft.com)",
        );
        kv(&mut out, "kind", "label");
    }
    for (id, title) in features {
        out.push_str("\n[[feature]]\n");
        kv(&mut out, "id", id);
        kv(&mut out, "title", title);
        kv(&mut out, "page", "web-service");
        kv(&mut out, "section", title);
    }
    let mut ids = std::collections::HashSet::new();
    let mut id = String::new();
    for (r, feature, host, url, ports, line) in endpoints {
        // `r<record>-<host>`: `*` as `x`, every other run of
        // non-alphanumerics as one `-`; `-2`, `-3`... when taken.
        id.clear();
        let _ = write!(id, "r{}-", r.id);
        for c in host.chars() {
            match c {
                '*' => id.push('x'),
                c if c.is_ascii_alphanumeric() => id.push(c),
                _ if !id.ends_with('-') => id.push('-'),
                _ => {}
            }
        }
        let base = id.trim_end_matches('-').len();
        id.truncate(base);
        let mut n = 2;
        while ids.contains(id.as_str()) {
            id.truncate(base);
            let _ = write!(id, "-{n}");
            n += 1;
        }
        ids.insert(id.clone());
        // Ids and checked host patterns hold nothing TOML escapes.
        let _ = write!(out, "\n[[endpoint]]\nid = \"{id}\"\nhost = \"{host}\"\n");
        let _ = writeln!(out, "features = [\"{feature}\"]");
        out.push_str(
            match (ports.contains(&80), ports.iter().any(|p| *p != 80)) {
                (true, true) => "schemes = [\"http\", \"https\"]\n",
                (true, false) => "schemes = [\"http\"]\n",
                _ => "schemes = [\"https\"]\n",
            },
        );
        out.push_str("ports = [");
        for (i, p) in ports.iter().enumerate() {
            let _ = write!(out, "{}{p}", if i > 0 { ", " } else { "" });
        }
        out.push_str("]\n");
        if r.required == Some(false) {
            out.push_str("required = false\n");
        }
        write_details(&mut out, r, Some(url));
        let _ = writeln!(
            out,
            "source = {{ page = \"web-service\", line = {line}, text = \"record {}\" }}",
            r.id
        );
    }
    out
}
