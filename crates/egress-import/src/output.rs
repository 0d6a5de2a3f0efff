//! The imported page as catalog text, written with `toml_writer` (the
//! encoder under the `toml` crate): strings are quoted and escaped by it,
//! and the layout follows the hand-written catalogs (one `[[endpoint]]`
//! table each, `source` inline).

use std::fmt::Write as _;

use toml_writer::{TomlWrite, WriteTomlValue};

use crate::expand::Expanded;
use crate::known;
use crate::page::Parsed;

/// A TOML document being written. Writing to a `String` cannot fail, so
/// the `fmt::Result`s are dropped.
struct Doc(String);

impl Doc {
    fn header(&mut self, name: &str) {
        let _ = write!(self.0, "\n[[{name}]]\n");
    }

    /// `key` is always one of the catalog format's bare keys.
    fn kv<V: WriteTomlValue + ?Sized>(&mut self, key: &str, value: &V) {
        self.0.push_str(key);
        self.0.push_str(" = ");
        let _ = self.0.value(value);
        self.0.push('\n');
    }

    /// A string value. Ids, hosts and URLs need no escaping and are most
    /// of the document: they are written directly, the rest by
    /// `toml_writer`.
    fn string(&mut self, value: &str) {
        let plain = value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ');
        if plain {
            self.0.push('"');
            self.0.push_str(value);
            self.0.push('"');
        } else {
            let _ = self.0.value(value);
        }
    }

    fn kv_str(&mut self, key: &str, value: &str) {
        self.0.push_str(key);
        self.0.push_str(" = ");
        self.string(value);
        self.0.push('\n');
    }

    fn opt<V: WriteTomlValue + ?Sized>(&mut self, key: &str, value: Option<&V>) {
        if let Some(v) = value {
            self.kv(key, v);
        }
    }

    fn list(&mut self, key: &str, values: &[String]) {
        if !values.is_empty() {
            self.kv(key, values);
        }
    }

    /// A date: written bare, as TOML's local date.
    fn date(&mut self, key: &str, value: &toml::value::Datetime) {
        let _ = writeln!(self.0, "{key} = {value}");
    }
}

fn date(text: &str) -> Option<toml::value::Datetime> {
    text.parse().ok()
}

/// Page ids: `main` for the page, `inc-<file stem>` for each include.
fn page_id(index: usize, ex: &Expanded) -> String {
    if index == 0 {
        return "main".to_owned();
    }
    let stem = ex.files[index]
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let slug = known::kebab(&stem);
    let base = format!(
        "inc-{}",
        if slug.is_empty() {
            index.to_string()
        } else {
            slug
        }
    );
    // The same file included twice is two entries in `files`; keep ids unique.
    let earlier = (1..index)
        .filter(|&i| ex.files[i].path.file_stem() == ex.files[index].path.file_stem())
        .count();
    if earlier == 0 {
        base
    } else {
        format!("{base}-{}", earlier + 1)
    }
}

/// Appends `text` to a kebab-case id: `*` as `any`, ASCII letters and
/// digits kept, everything else one `-`.
fn slug_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if c == '*' {
            out.push_str("any-");
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
}

pub fn catalog(ex: &Expanded, parsed: &Parsed, revision: &str) -> String {
    let mut doc = Doc(String::with_capacity(
        256 * (parsed.endpoints.len() + parsed.features.len() + 8),
    ));
    doc.0.push_str(
        "# Imported by `egress catalog import`; format: docs/catalog-format.md.\n\
         # Every endpoint names the page and line it was read from.\n\n",
    );
    let title = meta(&mut doc, ex, parsed, revision);
    let page_ids = pages(&mut doc, ex, parsed, &title);
    roles_and_placeholders(&mut doc, parsed);
    features(&mut doc, parsed, &page_ids);
    endpoints(&mut doc, parsed, &page_ids);
    doc.0
}

/// `[catalog]`: who and what the page is; its title.
fn meta(doc: &mut Doc, ex: &Expanded, parsed: &Parsed, revision: &str) -> String {
    let front = &ex.files[0].front;
    let title = front
        .title
        .clone()
        .unwrap_or_else(|| "Imported page".to_owned());
    let describes = front
        .date
        .as_deref()
        .and_then(date)
        .or_else(|| date(&format!("{revision}-01")))
        .or_else(|| date(revision))
        .unwrap_or_else(|| date("1970-01-01").expect("a valid date"));
    let (id, vendor, product) = if parsed.known_page {
        (
            "configmgr".to_owned(),
            "Microsoft".to_owned(),
            "Configuration Manager (current branch)".to_owned(),
        )
    } else {
        let id = known::kebab(&title);
        let vendor = if front.microsoft {
            "Microsoft"
        } else {
            "unknown"
        };
        (
            if id.is_empty() {
                "imported".to_owned()
            } else {
                id
            },
            vendor.to_owned(),
            title.clone(),
        )
    };
    let mut notes = vec![format!(
        "Imported by egress {} from {} (language {}); review it before use.",
        env!("CARGO_PKG_VERSION"),
        ex.files[0].path.display(),
        parsed.locale
    )];
    match (&front.date, &front.bad_date) {
        (Some(_), _) => {}
        (None, Some((_, value))) => notes.push(format!(
            "The page's ms.date `{value}` is not a date (MM/DD/YYYY): `describes` is taken from the revision."
        )),
        (None, None) => notes.push(
            "The page's front matter has no ms.date: `describes` is taken from the revision."
                .to_owned(),
        ),
    }

    doc.0.push_str("[catalog]\n");
    doc.kv_str("id", &id);
    doc.kv("title", &title);
    doc.kv("vendor", &vendor);
    doc.kv("product", &product);
    doc.kv("revision", revision);
    doc.date("describes", &describes);
    doc.kv("notes", &notes);
    title
}

/// A `[[page]]` for the page and each include; their ids.
fn pages(doc: &mut Doc, ex: &Expanded, parsed: &Parsed, title: &str) -> Vec<String> {
    let page_ids: Vec<String> = (0..ex.files.len()).map(|i| page_id(i, ex)).collect();
    for (i, file) in ex.files.iter().enumerate() {
        doc.header("page");
        doc.kv_str("id", &page_ids[i]);
        let page_title = file.front.title.clone().unwrap_or_else(|| {
            if i == 0 {
                title.to_owned()
            } else {
                format!("Include: {}", file.path.display())
            }
        });
        doc.kv("title", &page_title);
        doc.kv("path", &file.path.display().to_string());
        if let Some(d) = file.front.date.as_deref().and_then(date) {
            doc.date("date", &d);
        }
        doc.kv_str(
            "language",
            file.front.locale.as_deref().unwrap_or(&parsed.locale),
        );
    }
    page_ids
}

/// The roles the endpoints name, and the placeholders.
fn roles_and_placeholders(doc: &mut Doc, parsed: &Parsed) {
    let mut roles: Vec<&str> = parsed.endpoints.iter().filter_map(|e| e.role).collect();
    roles.sort_unstable();
    roles.dedup();
    for r in roles {
        doc.header("role");
        doc.kv_str("id", r);
        doc.kv("title", &known::role_title(r));
    }

    for p in &parsed.placeholders {
        doc.header("placeholder");
        doc.kv_str("name", &p.name);
        doc.kv("title", &p.title);
        doc.kv_str("kind", p.kind);
        doc.kv("as_written", &p.as_written);
    }
}

/// The features the page kept.
fn features(doc: &mut Doc, parsed: &Parsed, page_ids: &[String]) {
    for f in parsed.features.iter().filter(|f| !f.dropped) {
        doc.header("feature");
        doc.kv_str("id", &f.id);
        doc.kv("title", &f.title);
        doc.kv_str("page", &page_ids[f.at.file]);
        doc.kv("section", &f.section);
        doc.opt("anchor", f.anchor.as_ref());
        doc.list("notes", &f.notes);
        if !f.external.is_empty() {
            doc.0.push_str("external = [");
            for (n, (t, url)) in f.external.iter().enumerate() {
                doc.0
                    .push_str(if n == 0 { "{ title = " } else { ", { title = " });
                let _ = doc.0.value(t);
                doc.0.push_str(", url = ");
                let _ = doc.0.value(url);
                doc.0.push_str(" }");
            }
            doc.0.push_str("]\n");
        }
    }
}

/// Every endpoint, with an id made from its feature and target.
fn endpoints(doc: &mut Doc, parsed: &Parsed, page_ids: &[String]) {
    let mut used = std::collections::HashMap::<String, usize>::new();
    for e in &parsed.endpoints {
        let feature = &parsed.features[e.feature].id;
        let mut base = String::with_capacity(feature.len() + e.target.len() + 4);
        slug_into(&mut base, feature);
        base.push('-');
        slug_into(&mut base, &e.target);
        if base.is_empty() {
            base.push_str("endpoint");
        }
        let n = used.entry(base.clone()).or_default();
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        doc.header("endpoint");
        doc.kv_str("id", &id);
        doc.kv_str(if e.url { "url" } else { "host" }, &e.target);
        doc.0.push_str("features = [");
        doc.string(feature);
        doc.0.push_str("]\n");
        doc.opt("section", e.section.as_ref());
        if let Some(role) = e.role {
            doc.0.push_str("roles = [");
            doc.string(role);
            doc.0.push_str("]\n");
        }
        if !e.schemes.is_empty() {
            doc.kv("schemes", &e.schemes);
        }
        if let Some(cloud) = e.cloud {
            doc.kv_str("cloud", cloud.as_str());
        }
        if e.intranet {
            doc.kv_str("direction", "intranet");
        }
        doc.opt("since_version", e.versions.since.as_ref());
        doc.opt("until_version", e.versions.until.as_ref());
        doc.list("notes", &e.notes);
        doc.0.push_str("source = { page = ");
        doc.string(&page_ids[e.at.file]);
        let _ = write!(doc.0, ", line = {}", e.at.line);
        let written = e.written.trim();
        if written != e.target {
            doc.0.push_str(", text = ");
            doc.string(written);
        }
        doc.0.push_str(" }\n");
    }
}
