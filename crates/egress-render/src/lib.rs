//! Allowlists for real firewalls and proxies, rendered from a [`Plan`].
//!
//! Each target is a pure function from a plan to text plus the list of
//! [`Loss`]es: every place where the target admits more or less than the
//! plan (an apex added, a partial-label wildcard broadened, an HTTPS path it
//! cannot enforce, a port it cannot express, a placeholder left as a
//! wildcard, sources it cannot restrict). Where a target can express the
//! plan exactly, it does. The semantics of each target are in
//! `docs/targets.md`.
//!
//! This crate does no I/O and has no async runtime; callers write the text.

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use egress_catalog::catalog::{Direction, Scheme};
use egress_catalog::plan::{Pairs, Plan, Row};
use egress_pattern::{HostPattern, PatternKind, PatternView};

mod aws;
mod azure;
mod edl;
mod pac;
mod plain;
mod squid;

/// The targets egress renders for (besides the plan's own json, csv and
/// markdown forms, which the caller writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Squid,
    Pac,
    PanEdl,
    AzureFirewall,
    AwsNetworkFirewall,
    Plain,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Squid => "squid",
            Target::Pac => "pac",
            Target::PanEdl => "pan-edl",
            Target::AzureFirewall => "azure-firewall",
            Target::AwsNetworkFirewall => "aws-network-firewall",
            Target::Plain => "plain",
        }
    }
}

/// Target options; each target reads the ones that concern it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Lines for the header comment: catalog, revision, profile, version.
    pub header: Vec<String>,
    pub squid_style: SquidStyle,
    /// Where a PAC file sends allowed hosts: `DIRECT` or `PROXY host:port`.
    pub pac_allow: String,
    /// Where a PAC file sends everything else.
    pub pac_default: String,
    pub edl_type: EdlType,
    /// Source addresses by role (`None`: every role), from the profile's
    /// servers.
    pub sources: Vec<(IpAddr, Vec<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SquidStyle {
    /// `*.x` excludes `x`: `dstdom_regex`.
    Exact,
    /// `*.x` becomes `.x` (which admits `x`), reported as a loss.
    Loose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdlType {
    Domain,
    Url,
}

/// What a rendered allowlist does differently from the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loss {
    pub kind: LossKind,
    /// The plan row's host (or `*` for the whole list).
    pub host: String,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LossKind {
    /// The target also admits the wildcard's apex.
    ApexAdded,
    /// A partial-label wildcard became a broader pattern.
    Broadened,
    /// A path the target cannot see or match; the whole host is admitted.
    PathNotEnforceable,
    /// Ports (or schemes) the target cannot express.
    PortNotExpressible,
    /// A placeholder without a value became a wildcard.
    PlaceholderAsWildcard,
    /// A row left out: its placeholder stands for a whole host.
    LeftOut,
    /// Sources cannot be restricted: any source is admitted.
    AnySource,
}

impl LossKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LossKind::ApexAdded => "apex added",
            LossKind::Broadened => "wildcard broadened",
            LossKind::PathNotEnforceable => "path not enforceable",
            LossKind::PortNotExpressible => "port not expressible",
            LossKind::PlaceholderAsWildcard => "placeholder left as a wildcard",
            LossKind::LeftOut => "left out",
            LossKind::AnySource => "any source",
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.kind.as_str(), self.host, self.detail)
    }
}

/// A rendered allowlist.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    pub losses: Vec<Loss>,
}

/// What a target module produces: text, to which a comment header is
/// prepended (or none, for a format without comments), or a JSON document,
/// into which the header goes as data.
pub(crate) enum Body<'a> {
    Commented { prefix: &'static str, text: String },
    Bare(String),
    Azure(azure::Doc<'a>),
    Aws(aws::Doc<'a>),
}

/// Renders a plan for a target.
pub fn render(target: Target, plan: &Plan, options: &Options) -> Rendered {
    let mut losses = Vec::new();
    let mut made = Vec::new();
    let rows = entries(plan, &mut made, &mut losses);
    let external = external(plan, &rows.intranet);
    let body = match target {
        Target::Squid => squid::render(plan, &rows, options, &mut losses),
        Target::Pac => pac::render(&rows, options, &mut losses),
        Target::PanEdl => edl::render(&rows, options.edl_type, &mut losses),
        Target::AzureFirewall => azure::render(plan, &rows, options, &mut losses),
        Target::AwsNetworkFirewall => aws::render(plan, &rows, &mut losses),
        Target::Plain => plain::render(&rows, &mut losses),
    };
    let losses = ordered(losses);
    let text = match body {
        Body::Commented { prefix, mut text } => {
            // In place: a copy of a large list costs a fresh buffer's page
            // faults.
            text.insert_str(0, &comment(prefix, options, &losses, &external));
            text
        }
        Body::Bare(text) => text,
        Body::Azure(mut doc) => {
            azure::add_header(&mut doc, &header(options, &losses, &external));
            json_text(&doc, rows.entries.len())
        }
        Body::Aws(mut doc) => {
            aws::add_header(&mut doc, &header(options, &losses, &external));
            json_text(&doc, rows.entries.len())
        }
    };
    Rendered { text, losses }
}

fn header<'a>(options: &'a Options, losses: &'a [Loss], external: &'a [String]) -> Header<'a> {
    Header {
        lines: &options.header,
        losses,
        external,
    }
}

/// A JSON document of about `entries` entries, pretty-printed, with a final
/// newline. The buffer is sized once (generously: pages never written cost
/// nothing), as one that grows by doubling touches each page twice.
fn json_text(doc: &impl serde::Serialize, entries: usize) -> String {
    let mut text = Vec::with_capacity(4096 + entries * 128);
    serde_json::to_writer_pretty(&mut text, doc).expect("a JSON document serializes");
    text.push(b'\n');
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// The header of a JSON target, as data. Each target writes the losses it
/// has room for (AWS: 40 tags), so they are formatted there.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub lines: &'a [String],
    pub losses: &'a [Loss],
    pub external: &'a [String],
}

/// Losses by kind, then in the plan's order, each once. Linear: a list of
/// a hundred thousand wildcards has as many losses, and sorting them would
/// cost more than rendering.
fn ordered(losses: Vec<Loss>) -> Vec<Loss> {
    let mut by_kind: BTreeMap<LossKind, Vec<Loss>> = BTreeMap::new();
    for l in losses {
        let bucket = by_kind.entry(l.kind).or_default();
        // The same row's loss, pushed again for another group, is adjacent.
        if bucket.last() != Some(&l) {
            bucket.push(l);
        }
    }
    by_kind.into_values().flatten().collect()
}

/// What the list does not include: the external lists the plan's features
/// point to, and the intranet rows (they belong on the firewall between
/// site systems; gathered with the entries, as a second pass over a large
/// plan costs a cache miss a row).
fn external(plan: &Plan, intranet: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = plan
        .external
        .iter()
        .map(|x| format!("{}: {} <{}>", x.feature, x.title, x.url))
        .collect();
    if !intranet.is_empty() {
        out.push(format!(
            "intranet, between site systems (allow on that firewall): {}",
            intranet.join(", ")
        ));
    }
    out
}

fn comment(prefix: &str, options: &Options, losses: &[Loss], external: &[String]) -> String {
    let mut out = String::new();
    for line in &options.header {
        out.push_str(&format!("{prefix} {line}\n"));
    }
    if losses.is_empty() {
        out.push_str(&format!(
            "{prefix} losses: none; this list admits exactly what the plan allows\n"
        ));
    } else {
        out.push_str(&format!(
            "{prefix} losses ({}): where this list admits more or less than the plan\n",
            losses.len()
        ));
        for l in losses {
            out.push_str(&format!("{prefix}   {l}\n"));
        }
    }
    if !external.is_empty() {
        out.push_str(&format!("{prefix} not included (allow these too):\n"));
        for x in external {
            out.push_str(&format!("{prefix}   {x}\n"));
        }
    }
    out
}

/// One plan row as a target sees it: a concrete pattern, its scheme and
/// port pairs. Small and without a destructor: a large plan has as many.
/// What every target reads of each entry is in it or shared (the pattern's
/// text and kind; whether there is a path; the pairs, an index into the
/// few distinct ones), so that a target going through the entries does not
/// read the rows again: in a plan larger than the cache, that second pass
/// was a cache miss a row. (Targets that group by roles or features, squid
/// for a role and azure-firewall, still read the row's `Arc` of them.)
/// Every byte counts too: the list's pages are new memory, a page fault
/// each, and at 40 bytes an entry a 100,000-row plan's list is 4 MB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub row: &'a Row,
    /// The row's own pattern, or one made for a placeholder; `None` only
    /// while [`entries`] runs.
    pattern: Option<PatternView<'a>>,
    /// Whether the pattern was made up (for a placeholder without a value).
    pub made: bool,
    /// Whether any pair is HTTPS.
    pub https: bool,
    /// The entry's scheme and port pairs, as an index into
    /// [`Rows::pair_sets`]: see [`Rows::pairs`].
    pairs: u32,
    /// Whether the row has a path: only then is the row read for it.
    has_path: bool,
}

/// The entries of a plan, and what a target needs to know of all of them,
/// gathered in one pass over the rows (a second pass over a large plan
/// costs a cache miss a row).
#[derive(Debug)]
pub(crate) struct Rows<'a> {
    pub entries: Vec<Entry<'a>>,
    /// Every port the entries name.
    pub ports: BTreeSet<u16>,
    /// Every scheme the entries name.
    pub schemes: BTreeSet<Scheme>,
    /// The hosts of the in-force intranet rows, which no list includes.
    pub intranet: Vec<&'a str>,
    /// The patterns made for placeholders.
    pub made: &'a [HostPattern],
    /// The distinct scheme and port pairs of the entries, each the first
    /// row's with them.
    pair_sets: Vec<&'a Pairs>,
}

impl<'a> Rows<'a> {
    /// An entry's scheme and port pairs.
    pub fn pairs(&self, e: &Entry<'a>) -> &'a Pairs {
        self.pair_sets[e.pairs as usize]
    }
}

impl<'a> Entry<'a> {
    /// The row's host: its pattern's text, or the template when the
    /// pattern was made for a placeholder. (The pattern's text is the one
    /// the target reads anyway; the row's copy of it is another cache miss
    /// in a large plan.)
    pub fn host(&self) -> &'a str {
        match self.pattern {
            Some(p) if !self.made => p.as_str(),
            _ => &self.row.host,
        }
    }

    /// Path and query, for URLs with one.
    pub fn path(&self) -> Option<&'a str> {
        if self.has_path {
            self.row.path.as_deref()
        } else {
            None
        }
    }

    pub fn pattern(&self) -> PatternView<'a> {
        self.pattern
            .expect("entries() gives every entry its pattern")
    }

    /// The entry as a domain-list item that admits a name and all its
    /// subdomains where it starts with a dot: the pattern's text for a host
    /// or an address, `.x` for `*.x` and for `pre*post.x` (broadened). A
    /// part of the pattern's text, so no string is made for it.
    pub fn dotted(&self) -> &'a str {
        let pattern = self.pattern();
        let text = pattern.as_str();
        let parent = match pattern.kind() {
            PatternKind::Subdomains { suffix } => suffix,
            PatternKind::InLabel { parent, .. } => parent,
            PatternKind::Exact(_) | PatternKind::Ip(_) => return text,
        };
        &text[text.len() - parent.len() - 1..]
    }
}

/// The rows a list must admit: in force, toward the internet, with a
/// concrete pattern (a placeholder without a value becomes a wildcard,
/// reported; one that stands for a whole host leaves its row out). The
/// patterns made for placeholders go to `made`.
fn entries<'a>(plan: &'a Plan, made: &'a mut Vec<HostPattern>, losses: &mut Vec<Loss>) -> Rows<'a> {
    let mut out = Vec::with_capacity(plan.rows.len());
    let mut ports = BTreeSet::new();
    let mut schemes = BTreeSet::new();
    let mut intranet = Vec::new();
    // Where the entries with made patterns are.
    let mut made_at = Vec::new();
    let mut pair_sets: Vec<&Pairs> = Vec::new();
    let mut pair_index: BTreeMap<&Pairs, (u32, bool)> = BTreeMap::new();
    let mut last_pairs: Option<(&Pairs, u32, bool)> = None;
    for row in &plan.rows {
        if !row.status.is_in_force() {
            continue;
        }
        if row.direction == Direction::Intranet {
            intranet.push(row.host.as_str());
            continue;
        }
        let pattern = match &row.pattern {
            Some(p) => Some(p.view()),
            None => match placeholder_wildcard(&row.host) {
                Some(p) => {
                    losses.push(Loss {
                        host: row.host.clone(),
                        kind: LossKind::PlaceholderAsWildcard,
                        detail: format!("rendered as `{p}`; set the placeholder in the profile to render the exact host"),
                    });
                    made.push(p);
                    made_at.push(out.len());
                    None
                }
                None => {
                    losses.push(Loss {
                        host: row.host.clone(),
                        kind: LossKind::LeftOut,
                        detail: "its placeholder stands for a whole host; set it in the profile"
                            .to_owned(),
                    });
                    continue;
                }
            },
        };
        // Entries name their pairs by an index into the distinct ones (rows
        // are many, distinct pairs few), so that a target reading them does
        // not read the row again. Most rows have the pairs the last one had;
        // the ports and schemes are gathered once per distinct pairs.
        let (pairs, https) = match last_pairs {
            Some((p, at, https)) if *p == row.pairs => (at, https),
            _ => {
                let (at, https) = *pair_index.entry(&row.pairs).or_insert_with(|| {
                    let https = row.pairs.iter().any(|(s, _)| *s == Scheme::Https);
                    for (scheme, port) in &row.pairs {
                        ports.insert(*port);
                        schemes.insert(*scheme);
                    }
                    pair_sets.push(&row.pairs);
                    // Fewer distinct pairs than rows, and rows fit in memory.
                    ((pair_sets.len() - 1) as u32, https)
                });
                last_pairs = Some((pair_sets[at as usize], at, https));
                (at, https)
            }
        };
        out.push(Entry {
            row,
            made: pattern.is_none(),
            pattern,
            pairs,
            has_path: row.path.is_some(),
            https,
        });
    }
    // The made patterns, in the order they were pushed.
    let made: &'a [HostPattern] = made;
    for (at, p) in made_at.into_iter().zip(made) {
        out[at].pattern = Some(p.view());
    }
    Rows {
        entries: out,
        ports,
        schemes,
        intranet,
        made,
        pair_sets,
    }
}

/// `<cmg-name>.blob.core.windows.net` → `*.blob.core.windows.net`: every
/// label up to the last placeholder becomes one `*`.
fn placeholder_wildcard(template: &str) -> Option<HostPattern> {
    let labels: Vec<&str> = template.split('.').collect();
    let last = labels.iter().rposition(|l| l.contains('<'))?;
    let rest = &labels[last + 1..];
    if rest.is_empty() {
        return None;
    }
    HostPattern::parse(&format!("*.{}", rest.join("."))).ok()
}

/// The summary loss of a target that cannot express ports at all, when the
/// plan names any.
fn ports_not_expressible(target: &str, ports: &BTreeSet<u16>, losses: &mut Vec<Loss>) {
    if !ports.is_empty() {
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        losses.push(Loss {
            host: "*".to_owned(),
            kind: LossKind::PortNotExpressible,
            detail: format!(
                "{target} cannot restrict ports: the plan names {}, the list admits every port",
                list.join(", ")
            ),
        });
    }
}

/// A loss for every row with a path the target cannot match.
fn paths_not_enforceable(entries: &[Entry<'_>], http_paths_ok: bool, losses: &mut Vec<Loss>) {
    for e in entries {
        let Some(path) = e.path() else { continue };
        let https = e.https;
        if https || !http_paths_ok {
            losses.push(Loss {
                host: e.host().to_owned(),
                kind: LossKind::PathNotEnforceable,
                detail: if https {
                    format!("{path} is inside TLS; the whole host is admitted")
                } else {
                    format!("{path} cannot be matched; the whole host is admitted")
                },
            });
        }
    }
}

/// Output items in the plan's order, each once, in linear time and without
/// a set as large as the output (a large set is slow for its cache misses,
/// not its arithmetic). Items made from a row's own pattern can repeat only
/// in neighbouring rows (one host with several paths: the plan sorts them
/// together), so only the last item is compared; items a target made up (a
/// placeholder's or a broadened wildcard) may repeat anywhere, and go
/// through a set that stays small.
#[derive(Debug, Default)]
pub(crate) struct Unique<'a> {
    items: Vec<Cow<'a, str>>,
    made: std::collections::HashSet<Cow<'a, str>>,
}

impl<'a> Unique<'a> {
    /// Room for `n` items: a list as long as the plan grows once.
    pub fn with_capacity(n: usize) -> Unique<'a> {
        Unique {
            items: Vec::with_capacity(n),
            made: Default::default(),
        }
    }

    /// Adds an item: a row's own text, borrowed where it can be, or one the
    /// target made up.
    pub fn push(&mut self, item: impl Into<Cow<'a, str>>, made: bool) {
        let item = item.into();
        if made {
            if !self.made.contains(&item) {
                self.made.insert(item.clone());
                self.items.push(item);
            }
        } else if self.items.last() != Some(&item) {
            self.items.push(item);
        }
    }

    pub fn into_vec(self) -> Vec<Cow<'a, str>> {
        if self.made.is_empty() {
            return self.items;
        }
        // A made-up item may equal one of a row's own: keep the first.
        let first = FirstBytes::of(self.made.iter().map(|m| m.as_ref()));
        let mut emitted = std::collections::HashSet::new();
        let made = self.made;
        self.items
            .into_iter()
            .filter(|i| !first.may_be_made(i) || !made.contains(i) || emitted.insert(i.clone()))
            .collect()
    }
}

/// The first bytes of the made-up items: only a text that starts with one
/// can equal one of them, so that most texts are never hashed.
struct FirstBytes([bool; 256]);

impl FirstBytes {
    fn of<'s>(made: impl Iterator<Item = &'s str>) -> FirstBytes {
        let mut first = [false; 256];
        for m in made {
            if let Some(&b) = m.as_bytes().first() {
                first[usize::from(b)] = true;
            }
        }
        FirstBytes(first)
    }

    fn may_be_made(&self, text: &str) -> bool {
        text.as_bytes()
            .first()
            .is_some_and(|&b| self.0[usize::from(b)])
    }
}

/// [`Unique`] for lists whose items are parts of the entries' own texts
/// ([`Entry::dotted`], the pattern's text): the items are indices into the
/// entries, four bytes each instead of a string's 24, and written from the
/// entry. At 100,000 rows, squid's lists of strings were nearly a third of
/// the pages its render touched (3,837 page faults, 2,615 without them),
/// and copying them as they grew a tenth of its time (BENCHMARKS.md).
#[derive(Debug, Default)]
pub(crate) struct EntryList<'a> {
    items: Vec<u32>,
    /// The text of the last item pushed.
    last: Option<&'a str>,
    /// The made-up items' texts (few: placeholders, broadened wildcards).
    made: std::collections::HashSet<&'a str>,
    /// Whether some item is a `.x` (which may cover others).
    dotted: bool,
}

impl<'a> EntryList<'a> {
    /// Adds entry `i`, whose item is `text`: a row's own item unless it
    /// equals the last one (compared while that row is still in the
    /// cache), a made-up one unless an equal one was made before.
    pub fn push(&mut self, i: usize, text: &'a str, made: bool) {
        let new = if made {
            self.made.insert(text)
        } else {
            self.last != Some(text)
        };
        if new {
            // Fewer entries than `u32::MAX`: a plan's rows fit in memory.
            self.items.push(i as u32);
        }
        self.last = Some(text);
        self.dotted |= text.starts_with('.');
    }

    /// The items to write, in order: of a row's own item and a made-up one
    /// alike, the first, and, with `uncovered`, no item that a `.x` item
    /// covers ([`covered`]). `text` gives an entry's item. A list with
    /// neither made-up nor `.x` items, the common one, is not read again.
    pub fn finish(mut self, uncovered: bool, text: impl Fn(usize) -> &'a str) -> Vec<u32> {
        let text = |i: &u32| text(*i as usize);
        if !self.made.is_empty() {
            let first = FirstBytes::of(self.made.iter().copied());
            let mut emitted = std::collections::HashSet::new();
            self.items.retain(|i| {
                let text = text(i);
                !first.may_be_made(text) || !self.made.contains(text) || emitted.insert(text)
            });
        }
        if uncovered && self.dotted {
            let texts: Vec<&str> = self.items.iter().map(text).collect();
            let mut covered = covered(&texts).into_iter();
            self.items.retain(|_| !covered.next().unwrap_or(false));
        }
        self.items
    }
}

/// Which items a `.x` item (`x` and all its subdomains) covers, in order:
/// `x`, `a.x`, `.a.x`. Linear in the items and their labels; a suffix is
/// looked up only when some `.x` has as many labels as it.
fn covered(items: &[&str]) -> Vec<bool> {
    let labels = |name: &str| name.bytes().filter(|&b| b == b'.').count() + 1;
    // Gathered in a list first, so that the set is made at its size: grown
    // from empty, it would hash every parent again at each doubling.
    let dotted: Vec<&str> = items.iter().filter_map(|i| i.strip_prefix('.')).collect();
    if dotted.is_empty() {
        return vec![false; items.len()];
    }
    let mut parents = std::collections::HashSet::with_capacity(dotted.len());
    parents.extend(dotted);
    // Bit `n`: some parent has `n` labels (more than 127 count as 127).
    let depths = parents
        .iter()
        .fold(0u128, |d, p| d | 1 << labels(p).min(127));
    let covered = |name: &str| {
        let mut n = labels(name);
        if depths & (1 << n.min(127)) != 0 && parents.contains(name) {
            return true;
        }
        let mut rest = name;
        while let Some((_, tail)) = rest.split_once('.') {
            n -= 1;
            if depths & (1 << n.min(127)) != 0 && parents.contains(tail) {
                return true;
            }
            rest = tail;
        }
        false
    };
    items
        .iter()
        .map(|item| match item.strip_prefix('.') {
            // `.x` is not covered by itself, only by a `.` of a suffix.
            Some(parent) => parent.split_once('.').is_some_and(|(_, t)| covered(t)),
            // `x` itself is covered by `.x`.
            None => covered(item),
        })
        .collect()
}

/// Escapes a string for a POSIX extended or JavaScript regular expression.
pub(crate) fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_escaped(&mut out, text);
    out
}

/// [`regex_escape`], appended to `out`.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    // The special characters are ASCII, so a byte that is one is a whole
    // character; the runs between them are copied at once.
    let mut from = 0;
    for (at, b) in text.bytes().enumerate() {
        if matches!(
            b,
            b'\\'
                | b'.'
                | b'+'
                | b'*'
                | b'?'
                | b'('
                | b')'
                | b'|'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'^'
                | b'$'
        ) {
            out.push_str(&text[from..at]);
            out.push('\\');
            from = at;
        }
    }
    out.push_str(&text[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items as the plan would give them, each `(item, made up)`: what
    /// [`EntryList::finish`] keeps, covered items dropped; and, kept, the
    /// same as [`Unique::into_vec`].
    #[track_caller]
    fn check(input: &[(&str, bool)], expected: &[&str]) {
        let finished = |uncovered: bool| -> Vec<&str> {
            let mut list = EntryList::default();
            for (i, (text, made)) in input.iter().enumerate() {
                list.push(i, text, *made);
            }
            let items = list.finish(uncovered, |i| input[i].0);
            items.iter().map(|&i| input[i as usize].0).collect()
        };
        assert_eq!(finished(true), expected);
        let mut unique = Unique::default();
        for (text, made) in input {
            unique.push(*text, *made);
        }
        assert_eq!(finished(false), unique.into_vec(), "covered items kept");
    }

    #[test]
    fn broader_entries_win() {
        check(
            &[("a.x", false), (".x", false), ("x", false), ("b.y", false)],
            &[".x", "b.y"],
        );
        check(&[(".a.x", false), (".x", false)], &[".x"]);
        check(&[("ax", false), (".x", false)], &["ax", ".x"]);
        check(
            &[(".x", false), (".x", false), ("x.y", false)],
            &[".x", "x.y"],
        );
        // Made-up items repeat anywhere; the first is kept.
        check(
            &[(".p", true), ("a.q", false), (".p", true), ("b.q", false)],
            &[".p", "a.q", "b.q"],
        );
        check(
            &[(".p", false), ("a.q", false), (".p", true)],
            &[".p", "a.q"],
        );
        check(
            &[("go.microsoft.com", false), ("go.microsoft.com", false)],
            &["go.microsoft.com"],
        );
        // Covered from any depth, by parents of several depths; a parent
        // with more labels than an item never covers it.
        check(
            &[
                ("c.b.a.x", false),
                (".b.a.x", false),
                ("z.y", false),
                (".x", false),
                (".q.p.o", false),
                ("p.o", false),
                ("r.q.p.o", false),
                ("evilx", false),
                ("x.evil", false),
            ],
            &["z.y", ".x", ".q.p.o", "p.o", "evilx", "x.evil"],
        );
        // A made-up item equal to a later own one, starting with a byte no
        // own item starts with, and own items that are never hashed.
        check(
            &[
                ("*.m", true),
                ("a.b", false),
                ("*.m", false),
                ("c.d", false),
            ],
            &["*.m", "a.b", "c.d"],
        );
    }

    #[test]
    fn placeholders_become_one_wildcard() {
        let check = |t: &str, e: Option<&str>| {
            assert_eq!(
                placeholder_wildcard(t).map(|p| p.to_string()).as_deref(),
                e,
                "{t}"
            )
        };
        check(
            "<cmg-name>.blob.core.windows.net",
            Some("*.blob.core.windows.net"),
        );
        check(
            "<cmg-name>.<cmg-region>.cloudapp.azure.com",
            Some("*.cloudapp.azure.com"),
        );
        check(
            "*.<logic-app-region>.logic.azure.com",
            Some("*.logic.azure.com"),
        );
        check("<child-sup-fqdn>", None);
    }

    /// Every entry's pairs are its row's, whether they repeat the last
    /// entry's or not, in every embedded revision and cloud.
    #[test]
    fn entries_have_their_rows_pairs() {
        use egress_catalog::catalog::Cloud;
        use egress_catalog::plan::{self, Request};
        for catalog in egress_catalog::embedded::all().unwrap() {
            for cloud in [Cloud::Public, Cloud::UsGov] {
                let request = Request {
                    cloud,
                    version: None,
                    as_of: jiff::civil::date(2026, 1, 1),
                    features: None,
                    roles: Vec::new(),
                    placeholders: Default::default(),
                };
                let plan = plan::resolve(&catalog, &request);
                let mut made = Vec::new();
                let rows = entries(&plan, &mut made, &mut Vec::new());
                let mut changes = 0;
                for (i, e) in rows.entries.iter().enumerate() {
                    assert_eq!(rows.pairs(e), &e.row.pairs, "{}", e.row.host);
                    assert_eq!(e.path(), e.row.path.as_deref(), "{}", e.row.host);
                    if i > 0 && e.row.pairs != rows.entries[i - 1].row.pairs {
                        changes += 1;
                    }
                }
                assert!(changes > 1, "the plan's pairs change from row to row");
            }
        }
    }

    /// A large plan has as many entries as rows.
    #[test]
    fn an_entry_is_five_words() {
        assert_eq!(std::mem::size_of::<Entry<'_>>(), 40);
        assert!(!std::mem::needs_drop::<Entry<'_>>());
    }

    #[test]
    fn escapes() {
        assert_eq!(regex_escape("a.b-c*"), "a\\.b-c\\*");
        // Every special character, at the start and the end; two in a row.
        assert_eq!(
            regex_escape(r".a\b+c*d?e(f)g|h[i]j{k}l^m$"),
            r"\.a\\b\+c\*d\?e\(f\)g\|h\[i\]j\{k\}l\^m\$"
        );
        assert_eq!(regex_escape("..xn--bcher-kva"), r"\.\.xn--bcher-kva");
        assert_eq!(regex_escape(""), "");
    }
}
