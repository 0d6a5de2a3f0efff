//! The walk over the markdown events: headings give features and roles,
//! code spans give endpoints, the text around them gives clouds, versions
//! and notes.

use std::collections::HashMap;
use std::rc::Rc;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::RemarkKind;
use crate::expand::{Expanded, Origin};
use crate::known::{self, Meaning};
use crate::language::{self, Cloud, Language, Versions};

#[derive(Debug, Default)]
pub struct Parsed {
    pub locale: String,
    pub language_known: bool,
    /// Whether any heading was in the table of known headings: the page is
    /// the ConfigMgr page (or one of its translations).
    pub known_page: bool,
    pub features: Vec<Feature>,
    pub endpoints: Vec<Endpoint>,
    pub placeholders: Vec<Placeholder>,
    pub remarks: Vec<RawRemark>,
}

#[derive(Debug)]
pub struct RawRemark {
    pub at: Origin,
    pub kind: RemarkKind,
    pub text: String,
    pub why: String,
}

#[derive(Debug)]
pub struct Feature {
    pub id: String,
    pub title: String,
    pub section: String,
    pub anchor: Option<String>,
    pub notes: Vec<String>,
    /// Links to lists kept elsewhere (`[Network endpoints for Microsoft
    /// Intune](https://...)`): title and URL.
    pub external: Vec<(String, String)>,
    /// No endpoints and no external list: left out of the catalog.
    pub dropped: bool,
    pub at: Origin,
}

#[derive(Debug)]
pub struct Placeholder {
    pub name: String,
    pub title: String,
    pub kind: &'static str,
    pub as_written: Vec<String>,
}

#[derive(Debug)]
pub struct Endpoint {
    /// `host` or `url`, as the catalog writes it (placeholders by name).
    pub url: bool,
    pub target: String,
    /// The code span as the page writes it.
    pub written: String,
    pub feature: usize,
    pub role: Option<&'static str>,
    /// For a bare host: the schemes its section states (`TCP 443`, `TCP 80`).
    pub schemes: Vec<&'static str>,
    pub cloud: Option<Cloud>,
    pub versions: Versions,
    pub intranet: bool,
    pub section: Option<String>,
    pub notes: Vec<String>,
    pub at: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PieceKind {
    Text,
    Emphasis,
    Code,
}

#[derive(Debug)]
struct Piece<'e> {
    kind: PieceKind,
    /// Borrowed from the page where the parser allows: most pieces are.
    text: CowStr<'e>,
    offset: usize,
    column: usize,
}

#[derive(Debug)]
struct Heading {
    text: String,
    keys: Vec<String>,
    level: u8,
    at: Origin,
    meaning: Option<Meaning>,
    /// Ports a paragraph of this section states (`TCP 443`).
    ports: Vec<u16>,
    /// The feature derived for an unknown heading, once it has one.
    derived: Option<usize>,
}

#[derive(Debug, Default)]
struct Item {
    cloud: Option<Cloud>,
    versions: Versions,
    endpoints: Vec<usize>,
}

#[derive(Debug)]
struct Quote {
    text: String,
    at: Origin,
}

#[derive(Debug, Default)]
struct Table {
    header: Vec<String>,
    in_head: bool,
    column: usize,
}

/// A heading while its text is read: level, text, the anchors in it, and
/// where it starts.
#[derive(Debug)]
struct OpenHeading {
    level: u8,
    text: String,
    anchors: Vec<String>,
    offset: usize,
}

/// A code block while it is read: its text and where it starts.
#[derive(Debug)]
struct CodeBlock {
    text: String,
    offset: usize,
}

/// A link while its text is read: its destination, and where its text
/// starts in the walker's pieces.
#[derive(Debug)]
struct OpenLink {
    dest: String,
    first_piece: usize,
}

struct Walker<'e> {
    ex: &'e Expanded,
    lang: &'static Language,
    headings: Vec<Heading>,
    /// The heading being read.
    heading: Option<OpenHeading>,
    pieces: Vec<Piece<'e>>,
    /// The text of `pieces` without code, as written and lowercased.
    prose: String,
    lower: String,
    emphasis: usize,
    items: Vec<Item>,
    quotes: Vec<Quote>,
    table: Option<Table>,
    in_comment: bool,
    /// Inside a fenced or indented code block.
    code_block: Option<CodeBlock>,
    /// An open link.
    link: Option<OpenLink>,
    out: Parsed,
    feature_ids: HashMap<String, usize>,
    /// The endpoints of the current section, where a host listed twice is
    /// merged (sections are short: a scan beats hashing every key).
    in_section: Vec<usize>,
    scope_cache: Option<(bool, Rc<Scope>)>,
}

pub fn walk(ex: &Expanded) -> Parsed {
    let front = &ex.files[0].front;
    let locale = front.locale.clone().unwrap_or_else(|| "en-US".to_owned());
    let lang = language::for_locale(&locale);
    let mut w = Walker {
        ex,
        lang: lang.unwrap_or(language::unknown()),
        headings: Vec::new(),
        heading: None,
        pieces: Vec::new(),
        prose: String::new(),
        lower: String::new(),
        emphasis: 0,
        items: Vec::new(),
        quotes: Vec::new(),
        table: None,
        in_comment: false,
        code_block: None,
        link: None,
        out: Parsed {
            locale: locale.clone(),
            language_known: lang.is_some(),
            ..Parsed::default()
        },
        feature_ids: HashMap::new(),
        in_section: Vec::new(),
        scope_cache: None,
    };
    if lang.is_none() {
        w.remark(
            0,
            RemarkKind::NotUnderstood,
            &locale,
            "egress has no phrase table for this language: endpoints are imported, but clouds \
             and version conditions written in it are not read",
        );
    }
    let options = Options::ENABLE_TABLES;
    for (event, range) in Parser::new_ext(&ex.text, options).into_offset_iter() {
        w.event(event, range.start);
    }
    w.flush();
    w.finish();
    // In page order: the expanded text's order, which is reading order.
    w.out.remarks.sort_by_cached_key(|r| ex.position(r.at));
    w.out
}

impl<'e> Walker<'e> {
    fn remark(&mut self, offset: usize, kind: RemarkKind, text: &str, why: &str) {
        self.out.remarks.push(RawRemark {
            at: self.ex.origin(offset),
            kind,
            text: text.to_owned(),
            why: why.to_owned(),
        });
    }

    fn piece(&mut self, kind: PieceKind, text: CowStr<'e>, offset: usize) {
        let column = self.table.as_ref().map_or(0, |t| t.column);
        let kind = if kind == PieceKind::Text && self.emphasis > 0 {
            PieceKind::Emphasis
        } else {
            kind
        };
        self.pieces.push(Piece {
            kind,
            text,
            offset,
            column,
        });
    }

    fn event(&mut self, event: Event<'e>, offset: usize) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.flush();
                self.heading = Some(OpenHeading {
                    level: level as u8,
                    text: String::new(),
                    anchors: Vec::new(),
                    offset,
                });
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(),
            Event::Text(t) | Event::Code(t) if self.heading.is_some() => {
                if let Some(h) = &mut self.heading {
                    h.text.push_str(&t);
                }
            }
            Event::Text(_) | Event::Code(_) if self.in_comment => {}
            Event::Start(Tag::CodeBlock(_)) => {
                self.flush();
                self.code_block = Some(CodeBlock {
                    text: String::new(),
                    offset,
                });
            }
            Event::Text(t) if self.code_block.is_some() => {
                if let Some(block) = &mut self.code_block {
                    block.text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(CodeBlock { text, offset: at }) = self.code_block.take() {
                    let first = text
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("")
                        .trim();
                    self.remark(
                        at,
                        RemarkKind::NotTaken,
                        first,
                        "a code block: its lines are not read as endpoints",
                    );
                }
            }
            Event::Text(t) => self.piece(PieceKind::Text, t, offset),
            Event::Code(t) => self.piece(PieceKind::Code, t, offset),
            Event::SoftBreak | Event::HardBreak => {
                self.piece(PieceKind::Text, CowStr::Borrowed(" "), offset)
            }
            Event::Html(h) | Event::InlineHtml(h) => self.html(&h, offset),
            Event::Start(Tag::Link { dest_url, .. }) if self.heading.is_none() => {
                self.link = Some(OpenLink {
                    dest: dest_url.to_string(),
                    first_piece: self.pieces.len(),
                });
            }
            Event::End(TagEnd::Link) => self.end_link(),
            Event::Start(Tag::Emphasis) => self.emphasis += 1,
            Event::End(TagEnd::Emphasis) => self.emphasis = self.emphasis.saturating_sub(1),
            Event::End(TagEnd::Paragraph) => self.flush(),
            Event::Start(Tag::List(_)) => self.flush(),
            Event::Start(Tag::Item) => {
                self.flush();
                self.items.push(Item::default());
            }
            Event::End(TagEnd::Item) => {
                self.flush();
                self.items.pop();
            }
            Event::Start(Tag::BlockQuote(_)) => {
                self.flush();
                self.quotes.push(Quote {
                    text: String::new(),
                    at: self.ex.origin(offset),
                });
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                self.flush();
                if let Some(q) = self.quotes.pop() {
                    self.end_quote(q);
                }
            }
            Event::Start(Tag::Table(_)) => {
                self.flush();
                self.table = Some(Table::default());
            }
            Event::Start(Tag::TableHead) => {
                if let Some(t) = &mut self.table {
                    t.in_head = true;
                    t.column = 0;
                }
            }
            Event::End(TagEnd::TableHead) => {
                let mut header = Vec::new();
                for p in self.pieces.drain(..) {
                    if header.len() <= p.column {
                        header.resize(p.column + 1, String::new());
                    }
                    header[p.column].push_str(&p.text);
                }
                if let Some(t) = &mut self.table {
                    t.header = header.iter().map(|h| h.to_lowercase()).collect();
                    t.in_head = false;
                }
            }
            Event::Start(Tag::TableRow) => {
                if let Some(t) = &mut self.table {
                    t.column = 0;
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(t) = &mut self.table {
                    t.column += 1;
                }
            }
            Event::End(TagEnd::TableRow) => self.flush(),
            Event::End(TagEnd::Table) => {
                self.flush();
                self.table = None;
            }
            _ => {}
        }
    }

    fn html(&mut self, html: &str, offset: usize) {
        let mut rest = html;
        loop {
            if self.in_comment {
                let Some(end) = rest.find("-->") else {
                    self.comment_code(rest, offset);
                    return;
                };
                self.comment_code(&rest[..end], offset);
                self.in_comment = false;
                rest = &rest[end + 3..];
            } else {
                let Some(start) = rest.find("<!--") else {
                    self.tags(rest, offset);
                    return;
                };
                self.tags(&rest[..start], offset);
                self.in_comment = true;
                rest = &rest[start + 4..];
            }
        }
    }

    /// Anchors in a heading; a `<br>` elsewhere separates two endpoints.
    fn tags(&mut self, html: &str, offset: usize) {
        if let Some(h) = &mut self.heading {
            let mut rest = html;
            while let Some(i) = rest.find("name=\"").or_else(|| rest.find("id=\"")) {
                let after = &rest[i..];
                let start = after.find('"').map_or(after.len(), |q| q + 1);
                let value = &after[start..];
                let end = value.find('"').unwrap_or(value.len());
                h.anchors.push(value[..end].to_owned());
                rest = &value[end..];
            }
        } else if html.to_ascii_lowercase().contains("<br") {
            self.piece(PieceKind::Text, CowStr::Borrowed(" "), offset);
        }
    }

    /// Code in an HTML comment is not on the page; say so.
    fn comment_code(&mut self, text: &str, offset: usize) {
        let mut parts = text.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            if !code.trim().is_empty() {
                self.remark(
                    offset,
                    RemarkKind::NotTaken,
                    code,
                    "inside an HTML comment, which the published page does not show",
                );
            }
        }
    }

    /// A link to an absolute or site-rooted URL, outside quoted notes, is a
    /// candidate external list for the section's feature.
    fn end_link(&mut self) {
        let Some(OpenLink {
            dest,
            first_piece: start,
        }) = self.link.take()
        else {
            return;
        };
        if !self.quotes.is_empty() || start > self.pieces.len() {
            return;
        }
        let url = if dest.starts_with("https://") || dest.starts_with("http://") {
            dest
        } else if dest.starts_with('/') && !dest.starts_with("//") {
            format!("https://learn.microsoft.com{dest}")
        } else {
            return;
        };
        let title: String = self.pieces[start..]
            .iter()
            .map(|p| p.text.as_ref())
            .collect();
        let title = collapse(&title);
        if let Some(f) = self.scope(false).feature {
            let external = &mut self.out.features[f].external;
            if !external.iter().any(|(_, u)| *u == url) {
                external.push((if title.is_empty() { url.clone() } else { title }, url));
            }
        }
    }

    /// Features without endpoints keep their external lists; those with
    /// neither are left out, and said so.
    fn finish(&mut self) {
        let mut used = vec![false; self.out.features.len()];
        for e in &self.out.endpoints {
            used[e.feature] = true;
        }
        for (i, f) in self.out.features.iter_mut().enumerate() {
            if used[i] {
                f.external.clear();
            } else if f.external.is_empty() {
                f.dropped = true;
                let mut why =
                    "a section with no endpoints and no link to an external list: not a feature of the catalog"
                        .to_owned();
                if !f.notes.is_empty() {
                    why.push_str(&format!(
                        "; its notes are left out too: {}",
                        f.notes.join(" / ")
                    ));
                }
                self.out.remarks.push(RawRemark {
                    at: f.at,
                    kind: RemarkKind::NotTaken,
                    text: f.title.clone(),
                    why,
                });
            }
        }
    }

    fn end_heading(&mut self) {
        let Some(OpenHeading {
            level,
            text,
            anchors: mut keys,
            offset,
        }) = self.heading.take()
        else {
            return;
        };
        let text = collapse(&text);
        let slug = known::slug(&text);
        if let Some(english) = self.lang.heading(&slug)
            && !keys.iter().any(|k| k == english)
        {
            keys.push(english.to_owned());
        }
        if !slug.is_empty() && !keys.contains(&slug) {
            keys.push(slug);
        }
        while self.headings.last().is_some_and(|h| h.level >= level) {
            self.headings.pop();
        }
        let ancestors: Vec<&[String]> = self.headings.iter().map(|h| h.keys.as_slice()).collect();
        let meaning = known::heading(&keys, &ancestors);
        self.scope_cache = None;
        self.in_section.clear();
        self.out.known_page |= meaning.is_some();
        let heading = Heading {
            text,
            keys,
            level,
            at: self.ex.origin(offset),
            meaning,
            ports: Vec::new(),
            derived: None,
        };
        // Every unknown heading is reported, whether or not anything under
        // it becomes an endpoint.
        if heading.meaning.is_none() {
            self.out.remarks.push(RawRemark {
                at: heading.at,
                kind: RemarkKind::UnknownHeading,
                text: heading.text.clone(),
                why: format!(
                    "not a heading egress knows; its endpoints form a new feature `{}`",
                    derived_id(&heading)
                ),
            });
        }
        self.headings.push(heading);
    }

    fn end_quote(&mut self, quote: Quote) {
        let text = collapse(&quote.text);
        let (kind, body) = match text.strip_prefix("[!").and_then(|r| r.split_once(']')) {
            Some((kind, body)) => (kind.to_ascii_uppercase(), body.trim().to_owned()),
            None => ("NOTE".to_owned(), text.clone()),
        };
        if body.is_empty() {
            return;
        }
        let note = format!("{kind}: {body}");
        if let Some(item) = self.items.last().filter(|i| !i.endpoints.is_empty()) {
            for &e in &item.endpoints.clone() {
                self.out.endpoints[e].notes.push(note.clone());
            }
            return;
        }
        match self.scope(false).feature {
            Some(feature) => self.out.features[feature].notes.push(note),
            None => self.out.remarks.push(RawRemark {
                at: quote.at,
                kind: RemarkKind::NotTaken,
                text: note,
                why: "a note under a heading that is not a feature (it groups others): not kept"
                    .to_owned(),
            }),
        }
    }

    /// The feature, role and section that the current headings give.
    /// The same, computed once per section: headings and stated ports
    /// change it, nothing else does.
    fn scope(&mut self, for_endpoint: bool) -> Rc<Scope> {
        if let Some((cached_for, scope)) = &self.scope_cache
            && *cached_for == for_endpoint
        {
            return Rc::clone(scope);
        }
        let scope = Rc::new(self.compute_scope(for_endpoint));
        self.scope_cache = Some((for_endpoint, Rc::clone(&scope)));
        scope
    }

    fn compute_scope(&mut self, for_endpoint: bool) -> Scope {
        let mut feature: Option<usize> = None;
        let mut feature_heading: Option<usize> = None;
        let mut role = None;
        let mut intranet = false;
        for i in 0..self.headings.len() {
            match self.headings[i].meaning {
                Some(m) => {
                    if let Some(id) = m.feature {
                        feature = Some(self.known_feature(id, i));
                        feature_heading = Some(i);
                    } else if self.headings[i].level > 1
                        && feature_heading.is_some_and(|j| self.headings[j].level == 1)
                    {
                        // The page title's feature covers only the text
                        // before the first section.
                        feature = None;
                        feature_heading = None;
                    }
                    role = m.role.or(role);
                    intranet |= m.intranet;
                }
                None => {
                    feature = Some(self.derived_feature(i));
                    feature_heading = Some(i);
                }
            }
        }
        if feature.is_none() && for_endpoint {
            if let Some(last) = self.headings.len().checked_sub(1) {
                feature = Some(self.derived_feature(last));
                feature_heading = Some(last);
            } else {
                feature = Some(self.page_feature());
            }
        }
        let ports = self
            .headings
            .iter()
            .rev()
            .find(|h| !h.ports.is_empty())
            .map(|h| h.ports.clone())
            .unwrap_or_default();
        let section = self.section(self.headings.len());
        let feature_section = feature_heading.map(|i| self.section(i + 1));
        Scope {
            feature,
            role,
            intranet,
            ports,
            section: (feature_section.as_deref() != Some(section.as_str()) && !section.is_empty())
                .then_some(section),
        }
    }

    /// The heading path below the page title, down to heading `n - 1`.
    fn section(&self, n: usize) -> String {
        let path: Vec<&str> = self.headings[..n]
            .iter()
            .filter(|h| h.level > 1)
            .map(|h| h.text.as_str())
            .collect();
        if path.is_empty() {
            self.headings
                .first()
                .map(|h| h.text.clone())
                .unwrap_or_default()
        } else {
            path.join(" > ")
        }
    }

    fn add_feature(
        &mut self,
        id: String,
        title: String,
        section: String,
        anchor: Option<String>,
        at: Origin,
    ) -> usize {
        if let Some(&i) = self.feature_ids.get(&id) {
            return i;
        }
        self.out.features.push(Feature {
            id: id.clone(),
            title,
            section,
            anchor,
            notes: Vec::new(),
            external: Vec::new(),
            dropped: false,
            at,
        });
        self.feature_ids.insert(id, self.out.features.len() - 1);
        self.out.features.len() - 1
    }

    fn known_feature(&mut self, id: &'static str, heading: usize) -> usize {
        if let Some(&i) = self.feature_ids.get(id) {
            return i;
        }
        let h = &self.headings[heading];
        let anchor = h.keys.iter().find(|k| k.starts_with("bkmk_")).cloned();
        let (title, at) = (h.text.clone(), h.at);
        let section = self.section(heading + 1);
        self.add_feature(id.to_owned(), title, section, anchor, at)
    }

    fn derived_feature(&mut self, heading: usize) -> usize {
        if let Some(f) = self.headings[heading].derived {
            return f;
        }
        let h = &self.headings[heading];
        let id = derived_id(h);
        let (title, at, grouping) = (h.text.clone(), h.at, h.meaning.is_some());
        let section = self.section(heading + 1);
        let i = self.add_feature(id.clone(), title.clone(), section, None, at);
        self.headings[heading].derived = Some(i);
        // An unknown heading was reported when it ended.
        if grouping {
            self.out.remarks.push(RawRemark {
                at,
                kind: RemarkKind::UnknownHeading,
                text: title,
                why: format!(
                    "a heading that groups features has endpoints of its own: they form a new feature `{id}`"
                ),
            });
        }
        i
    }

    fn page_feature(&mut self) -> usize {
        let title = self.ex.files[0]
            .front
            .title
            .clone()
            .unwrap_or_else(|| "Endpoints".to_owned());
        let id = known::kebab(&known::slug(&title));
        let id = if id.is_empty() {
            "endpoints".to_owned()
        } else {
            id
        };
        self.add_feature(id, title.clone(), title, None, Origin { file: 0, line: 1 })
    }

    fn flush(&mut self) {
        if self.pieces.is_empty() || self.table.as_ref().is_some_and(|t| t.in_head) {
            return;
        }
        // The buffers go back when done, so that their memory is reused.
        let mut pieces = std::mem::take(&mut self.pieces);
        let mut prose = std::mem::take(&mut self.prose);
        let mut lower = std::mem::take(&mut self.lower);
        prose.clear();
        lower.clear();
        for p in pieces.iter().filter(|p| p.kind != PieceKind::Code) {
            prose.push_str(&p.text);
            push_lower(&mut lower, &p.text);
        }
        self.flush_block(&pieces, &prose, &lower);
        pieces.clear();
        self.pieces = pieces;
        self.prose = prose;
        self.lower = lower;
    }

    fn flush_block(&mut self, pieces: &[Piece<'e>], prose: &str, lower: &str) {
        if let Some(q) = self.quotes.last_mut() {
            for p in pieces {
                match p.kind {
                    PieceKind::Code => {
                        q.text.push('`');
                        q.text.push_str(&p.text);
                        q.text.push('`');
                    }
                    _ => q.text.push_str(&p.text),
                }
            }
            for p in pieces.iter().filter(|p| p.kind == PieceKind::Code) {
                self.remark(
                    p.offset,
                    RemarkKind::NotTaken,
                    &p.text,
                    "inside a quoted block (> [!NOTE], [!TIP], [!IMPORTANT]): part of the note's text, not an endpoint",
                );
            }
            return;
        }
        let in_item = !self.items.is_empty();
        let in_table = self.table.is_some();
        if !in_item && !in_table {
            self.section_ports(lower, pieces[0].offset);
        }
        let versions = self.lang.versions(lower);
        let has_code = pieces.iter().any(|p| p.kind == PieceKind::Code);
        if !has_code {
            if let Some(item) = self.items.last_mut() {
                item.cloud = item.cloud.or(self.lang.cloud(lower));
                item.versions = merge(item.versions, versions);
            }
            return;
        }
        let note = (in_item || in_table)
            .then(|| collapse(prose))
            .map(|n| {
                n.trim_matches(|c: char| c == ':' || c == '-' || c.is_whitespace())
                    .to_owned()
            })
            .filter(|n| n.split_whitespace().count() >= 5);
        let mut before = String::new();
        for (i, p) in pieces.iter().enumerate() {
            if p.kind != PieceKind::Code {
                push_lower(&mut before, &p.text);
                // An example phrase reaches to the end of its sentence.
                if let Some(end) = before.rfind(". ") {
                    before.drain(..end + 2);
                }
                continue;
            }
            if self.lang.example_at(&before).is_some() {
                self.remark(
                    p.offset,
                    RemarkKind::NotTaken,
                    &p.text,
                    "an example in the page's prose, not a requirement",
                );
                continue;
            }
            let candidate = match classify(&p.text) {
                Ok(c) => c,
                Err(why) => {
                    self.remark(p.offset, RemarkKind::NotTaken, &p.text, &why);
                    continue;
                }
            };
            let mut annotation = String::new();
            let mut annotation_lower = String::new();
            for q in pieces[i + 1..]
                .iter()
                .take_while(|q| q.kind != PieceKind::Code && q.column == p.column)
            {
                annotation.push_str(&q.text);
                push_lower(&mut annotation_lower, &q.text);
            }
            let own_cloud = self.lang.cloud(&annotation_lower);
            if own_cloud.is_none() {
                self.unread_annotation(&annotation, pieces[i + 1..].iter(), p);
            }
            let header_cloud = self
                .table
                .as_ref()
                .and_then(|t| t.header.get(p.column))
                .and_then(|h| self.lang.cloud(h));
            let item_cloud = self.items.iter().rev().find_map(|i| i.cloud);
            let inherited = self
                .items
                .iter()
                .fold(Versions::default(), |v, i| merge(v, i.versions));
            self.endpoint(Found {
                candidate,
                written: p.text.to_string(),
                offset: p.offset,
                cloud: own_cloud.or(header_cloud).or(item_cloud),
                versions: merge(inherited, versions),
                note: note.clone(),
            });
        }
    }

    /// Text right after a code span that looks like an annotation (in
    /// parentheses, or in italics) but names no cloud the language table
    /// knows.
    fn unread_annotation<'p>(
        &mut self,
        annotation: &str,
        mut after: impl Iterator<Item = &'p Piece<'e>>,
        code: &Piece<'e>,
    ) where
        'e: 'p,
    {
        let trimmed = annotation.trim();
        let italic = after
            .by_ref()
            .take_while(|q| q.kind != PieceKind::Code)
            .find(|q| q.kind == PieceKind::Emphasis && !q.text.trim().is_empty());
        let paren = trimmed
            .starts_with('(')
            .then(|| trimmed.split(')').next().unwrap_or(trimmed).to_owned() + ")");
        let unread = paren.or_else(|| italic.map(|q| q.text.trim().to_owned()));
        if let Some(text) = unread {
            let lower = text.to_lowercase();
            if self.lang.versions(&lower) == Versions::default() {
                self.remark(
                    code.offset,
                    RemarkKind::NotUnderstood,
                    &text,
                    &format!(
                        "an annotation of `{}` that names no cloud or version egress knows",
                        code.text
                    ),
                );
            }
        }
    }

    fn section_ports(&mut self, lower: &str, offset: usize) {
        let mut ports = Vec::new();
        let mut from = 0;
        while let Some(at) = lower[from..].find("tcp ") {
            let start = from + at + 4;
            from = start;
            let digits: String = lower[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(port) = digits.parse::<u16>() {
                if port == 443 || port == 80 {
                    ports.push(port);
                } else {
                    self.remark(
                        offset,
                        RemarkKind::NotUnderstood,
                        &format!("TCP {port}"),
                        "a port other than 80 and 443 stated for a section: bare hosts keep HTTPS 443",
                    );
                }
            }
        }
        if !ports.is_empty() {
            self.scope_cache = None;
        }
        if let (false, Some(h)) = (ports.is_empty(), self.headings.last_mut()) {
            for p in ports {
                if !h.ports.contains(&p) {
                    h.ports.push(p);
                }
            }
        }
    }

    fn endpoint(&mut self, found: Found) {
        let scope = self.scope(true);
        let Some(feature) = scope.feature else {
            return;
        };
        let at = self.ex.origin(found.offset);
        for (written, ph) in &found.candidate.placeholders {
            self.placeholder(written, ph);
        }
        let same = |e: &Endpoint| {
            e.feature == feature
                && e.cloud == found.cloud
                && e.role == scope.role
                && e.target == found.candidate.target
                && e.section == scope.section
        };
        let existing = self
            .in_section
            .iter()
            .copied()
            .find(|&i| same(&self.out.endpoints[i]));
        if let Some(existing) = existing {
            let first = self.out.endpoints[existing].at.line;
            self.remark(
                found.offset,
                RemarkKind::Merged,
                &found.written,
                &format!("listed again in the same section (first on line {first}): one endpoint"),
            );
            let note = format!(
                "Listed more than once on the page (also on line {}).",
                at.line
            );
            self.out.endpoints[existing].notes.push(note);
            return;
        }
        let schemes = if found.candidate.url {
            Vec::new()
        } else {
            scope
                .ports
                .iter()
                .map(|p| if *p == 80 { "http" } else { "https" })
                .collect()
        };
        self.out.endpoints.push(Endpoint {
            url: found.candidate.url,
            target: found.candidate.target,
            written: found.written,
            feature,
            role: scope.role,
            schemes,
            cloud: found.cloud,
            versions: found.versions,
            intranet: scope.intranet,
            section: scope.section.clone(),
            notes: found.note.into_iter().collect(),
            at,
        });
        let index = self.out.endpoints.len() - 1;
        self.in_section.push(index);
        if let Some(item) = self.items.last_mut() {
            item.endpoints.push(index);
        }
    }

    fn placeholder(&mut self, written: &str, ph: &PlaceholderRef) {
        if let Some(p) = self.out.placeholders.iter_mut().find(|p| p.name == ph.name) {
            if !p.as_written.iter().any(|w| w == written) {
                p.as_written.push(written.to_owned());
            }
            return;
        }
        self.out.placeholders.push(Placeholder {
            name: ph.name.clone(),
            title: ph.title.clone(),
            kind: ph.kind,
            as_written: vec![written.to_owned()],
        });
    }
}

#[derive(Clone)]
struct Scope {
    feature: Option<usize>,
    role: Option<&'static str>,
    intranet: bool,
    ports: Vec<u16>,
    section: Option<String>,
}

struct Found {
    candidate: Candidate,
    written: String,
    offset: usize,
    cloud: Option<Cloud>,
    versions: Versions,
    note: Option<String>,
}

/// The words of `text`, one space apart.
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The feature id for a heading the table does not know: its first key (a
/// localized page's anchor is the English slug, the better id), else its
/// line.
fn derived_id(h: &Heading) -> String {
    let base = h
        .keys
        .first()
        .map(|k| known::slug(&k.replace('_', "-")))
        .unwrap_or_default();
    if base.starts_with(|c: char| c.is_ascii_lowercase()) {
        known::kebab(&base)
    } else {
        format!("section-{}", h.at.line)
    }
}

/// Appends `text` lowercased; ASCII (nearly all of a page) in place.
fn push_lower(out: &mut String, text: &str) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&text.to_lowercase());
    }
}

fn merge(outer: Versions, inner: Versions) -> Versions {
    Versions {
        since: inner.since.or(outer.since),
        until: inner.until.or(outer.until),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlaceholderRef {
    name: String,
    title: String,
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    url: bool,
    /// The host, or the URL, with placeholders written by their catalog
    /// names.
    target: String,
    placeholders: Vec<(String, PlaceholderRef)>,
}

/// File extensions that docs pages name in code and that are no top-level
/// domain.
const FILE_EXTENSIONS: &[&str] = &[
    "bat", "cab", "cmd", "config", "dll", "exe", "ini", "json", "log", "mof", "msi", "ps1", "sql",
    "txt", "xml",
];

/// Whether a code span is an endpoint: a host name or pattern, or an
/// `http`/`https` URL; why not, when it is not.
pub(crate) fn classify(code: &str) -> Result<Candidate, String> {
    let t = code.trim();
    if t.is_empty() {
        return Err("empty".to_owned());
    }
    if t.starts_with('<') && t.ends_with('>') && t.matches('<').count() == 1 {
        return Err("a placeholder on its own, not an endpoint".to_owned());
    }
    // `find(':')` is a memchr; most spans are bare hosts without one.
    let (scheme, rest) = match t.find(':').filter(|&i| t[i..].starts_with("://")) {
        Some(i) => {
            let scheme = t[..i].to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return Err(format!(
                    "a `{scheme}` URL: only http and https endpoints are imported"
                ));
            }
            (Some(scheme), &t[i + 3..])
        }
        None => (None, t),
    };
    // The host runs to the first `/`, `?`, `#` or `:` outside a placeholder.
    let mut depth = 0usize;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            '/' | '?' | '#' | ':' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let (host, tail) = rest.split_at(end);
    if scheme.is_none() && !tail.is_empty() {
        return Err(
            "a host followed by a path or port but no scheme: not an endpoint egress can place"
                .to_owned(),
        );
    }
    if let Some(port) = tail.strip_prefix(':') {
        let digits = port.split(['/', '?', '#']).next().unwrap_or("");
        if digits.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!("port `{digits}` is not a port number"));
        }
    }
    let mut placeholders = Vec::new();
    let mut named = String::with_capacity(t.len() + 16);
    if let Some(s) = &scheme {
        named.push_str(s);
        named.push_str("://");
    }
    let mut probe = String::new();
    let mut rest_host = host;
    while let Some(open) = rest_host.find('<') {
        let Some(close) = rest_host[open..].find('>').map(|c| open + c) else {
            return Err("a `<` without its `>`".to_owned());
        };
        let written = &rest_host[open..=close];
        let whole = open == 0 && close == rest_host.len() - 1 && named.is_empty();
        let ph = match known::placeholder(written) {
            Some(k) => PlaceholderRef {
                name: k.name.to_owned(),
                title: k.title.to_owned(),
                kind: k.kind,
            },
            None => {
                let name = known::kebab(&written[1..written.len() - 1]);
                if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                    return Err(format!("placeholder `{written}` has no usable name"));
                }
                PlaceholderRef {
                    title: format!("{} (as the page writes it)", &written[1..written.len() - 1]),
                    name,
                    kind: if whole { "host" } else { "label" },
                }
            }
        };
        let start = named.len();
        named.push_str(&rest_host[..open]);
        named[start..].make_ascii_lowercase();
        probe.push_str(&rest_host[..open]);
        named.push('<');
        named.push_str(&ph.name);
        named.push('>');
        probe.push_str(if ph.kind == "host" {
            "placeholder.example"
        } else {
            "placeholder"
        });
        placeholders.push((written.to_owned(), ph));
        rest_host = &rest_host[close + 1..];
    }
    let start = named.len();
    named.push_str(rest_host);
    named[start..].make_ascii_lowercase();
    // Without placeholders the host is checked as written.
    let probe = if placeholders.is_empty() {
        host
    } else {
        probe.push_str(rest_host);
        probe.as_str()
    };
    if !probe.contains('.') && !probe.contains(':') {
        return Err("a single word, not a host name".to_owned());
    }
    // `Microsoft.ConfigurationManagement.exe.config` is shaped like a host;
    // no top-level domain is a file extension.
    let last = probe.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    if FILE_EXTENSIONS.contains(&last.as_str()) {
        return Err(format!("a file name (`.{last}`), not a host name"));
    }
    if let Err(e) = egress_pattern::HostPattern::parse(probe) {
        return Err(format!("not a host name or pattern: {e}"));
    }
    named.push_str(tail);
    Ok(Candidate {
        url: scheme.is_some(),
        target: named,
        placeholders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(code: &str, expected: Result<&str, &str>) {
        let got = classify(code).map(|c| c.target);
        match (got, expected) {
            (Ok(t), Ok(e)) => assert_eq!(t, e),
            (Err(why), Err(e)) => assert!(why.contains(e), "{code:?}: {why:?} does not say {e:?}"),
            (got, expected) => panic!("{code:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn code_spans() {
        check("*.manage.microsoft.com", Ok("*.manage.microsoft.com"));
        check(
            "Configmgrbits.cdn.manage.microsoft.com",
            Ok("configmgrbits.cdn.manage.microsoft.com"),
        );
        check(
            "https://go.microsoft.com/fwlink/?LinkID=619849",
            Ok("https://go.microsoft.com/fwlink/?LinkID=619849"),
        );
        check(
            "<prefix>.<region>.cloudapp.azure.com",
            Ok("<cmg-name>.<cmg-region>.cloudapp.azure.com"),
        );
        check(
            "https://*.<RegionName>.logic.azure.com:443",
            Ok("https://*.<logic-app-region>.logic.azure.com:443"),
        );
        check(
            "http://<FQDN for software update point on child site>",
            Ok("http://<child-sup-fqdn>"),
        );
        check("<name>", Err("a placeholder on its own"));
        check("AzureEnvironments", Err("a single word"));
        check("ftp://example.com", Err("only http and https"));
        check("example.com/path", Err("no scheme"));
        check("https://example.com:99999/", Err("not a port number"));
        check("exa mple.com", Err("not a host name"));
        check(
            "<unknown thing>.example.com",
            Ok("<unknown-thing>.example.com"),
        );
    }
}
