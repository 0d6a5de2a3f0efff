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
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use egress_catalog::catalog::{Direction, Scheme};
use egress_catalog::plan::{Pairs, Plan, Requirement, Row};
pub use egress_catalog::profile::{AddressRange, PlaceholderPolicy};
use egress_pattern::{HostPattern, HostSet, PatternKind};

mod aws;
mod azure;
mod edl;
mod pac;
mod plain;
mod rules;
mod squid;

/// The targets egress renders for (besides the plan's own json, csv and
/// markdown forms, which the caller writes). This is the registry: the
/// command line, the docs test and the render tests read [`Target::ALL`].
/// A new target is a module, a variant, and a line in each match below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Squid,
    Pac,
    PanEdl,
    AzureFirewall,
    AwsNetworkFirewall,
    Plain,
    FirewallRules,
}

impl Target {
    /// Every target, in the order the docs list them.
    pub const ALL: [Target; 7] = [
        Target::Squid,
        Target::Pac,
        Target::PanEdl,
        Target::AzureFirewall,
        Target::AwsNetworkFirewall,
        Target::Plain,
        Target::FirewallRules,
    ];

    pub fn name(self) -> &'static str {
        self.describe().0
    }

    /// One line on what the output is, for `--help`.
    pub fn about(self) -> &'static str {
        self.describe().1
    }

    pub fn named(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Target::Squid => (
                "squid",
                "An include file of acl and http_access lines for Squid 5+",
            ),
            Target::Pac => ("pac", "A complete proxy auto-config file"),
            Target::PanEdl => (
                "pan-edl",
                "A Palo Alto Networks external dynamic list (domain or URL)",
            ),
            Target::AzureFirewall => (
                "azure-firewall",
                "An ARM template: firewall policy rule collection group, application rules",
            ),
            Target::AwsNetworkFirewall => (
                "aws-network-firewall",
                "An AWS Network Firewall stateful rule group (domain list)",
            ),
            Target::Plain => ("plain", "One pattern per line"),
            Target::FirewallRules => (
                "firewall-rules",
                "One rule per source role, destination, port and scheme (with --intranet: between site systems)",
            ),
        }
    }
}

/// Target options; each target reads the ones that concern it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Lines for the header comment: catalog, revision, profile, version.
    pub header: Vec<String>,
    /// Leave out the comment header (the losses are still returned), for
    /// a list another program reads: `plain --no-header`.
    pub no_header: bool,
    /// Rows whose placeholder has no value: left out, or widened.
    pub placeholders: PlaceholderPolicy,
    /// The intranet rows (between site systems, for the internal firewall)
    /// instead of the internet ones.
    pub intranet: bool,
    pub squid_style: SquidStyle,
    /// Where a PAC file sends allowed hosts: `DIRECT` or `PROXY host:port`.
    pub pac_allow: String,
    /// Where a PAC file sends everything else.
    pub pac_default: String,
    pub edl_type: EdlType,
    pub aws_rules: AwsRules,
    /// Source addresses by role (`None`: every role), from the profile's
    /// servers.
    pub sources: Vec<(AddressRange, Vec<String>)>,
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
    /// The plan's IP ranges (`[[network]]`), one a line.
    Ip,
}

/// What an AWS Network Firewall rule group holds: a domain list (the
/// plan's hosts) or 5-tuple stateful rules (its IP ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AwsRules {
    #[default]
    DomainList,
    FiveTuple,
}

/// What a rendered allowlist does differently from the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loss {
    pub kind: LossKind,
    /// The plan row's host (or `*` for the whole list).
    pub host: String,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LossKind {
    /// A row left out because its placeholder has no value: the list
    /// admits less than the plan. Listed first.
    PlaceholderOmitted,
    /// The plan's IP ranges, which a list of hosts cannot hold: it admits
    /// less than the plan.
    NetworksLeftOut,
    /// The plan's hosts, which a list of addresses cannot hold.
    HostsLeftOut,
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
    /// The `--strict=KIND` name that refuses this loss.
    pub fn strict_kind(self) -> &'static str {
        match self {
            LossKind::PlaceholderOmitted | LossKind::PlaceholderAsWildcard | LossKind::LeftOut => {
                "placeholders"
            }
            LossKind::NetworksLeftOut | LossKind::HostsLeftOut => "kinds",
            LossKind::ApexAdded => "apex",
            LossKind::Broadened => "broadened",
            LossKind::PathNotEnforceable => "paths",
            LossKind::PortNotExpressible => "ports",
            LossKind::AnySource => "sources",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LossKind::PlaceholderOmitted => "placeholder without a value, left out",
            LossKind::NetworksLeftOut => "IP ranges left out",
            LossKind::HostsLeftOut => "hosts left out",
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
    /// How many plan rows the list admits: none means an empty list.
    pub rows: usize,
}

/// What a target module produces: text, to which a comment header is
/// prepended (or none, for a format without comments), or a JSON document
/// written once the header (which lists every loss) is known.
pub(crate) enum Body<'a> {
    Commented { prefix: &'static str, text: String },
    Bare(String),
    Json(Box<dyn FnOnce(&Header<'_>) -> String + 'a>),
}

/// Renders a plan for a target.
pub fn render(target: Target, plan: &Plan, options: &Options) -> Rendered {
    let mut losses = Vec::new();
    let entries = entries(plan, options, &mut losses);
    let external = external(plan, &entries.left_for_the_other_list, options.intranet);
    let body = match target {
        Target::Squid => squid::render(plan, &entries, options, &mut losses),
        Target::Pac => pac::render(&entries, options, &mut losses),
        Target::PanEdl if options.edl_type == EdlType::Ip => {
            edl::render_ip(plan, &entries, options, &mut losses)
        }
        Target::PanEdl => edl::render(&entries, options.edl_type == EdlType::Url, &mut losses),
        Target::AzureFirewall => azure::render(plan, &entries, options, &mut losses),
        Target::AwsNetworkFirewall if options.aws_rules == AwsRules::FiveTuple => {
            aws::render_five_tuple(plan, &entries, options, &mut losses)
        }
        Target::AwsNetworkFirewall => aws::render(plan, &entries, &mut losses),
        Target::Plain => plain::render(&entries, &mut losses),
        Target::FirewallRules => rules::render(plan, &entries, options, &mut losses),
    };
    // What the list holds: the plan's hosts, its IP ranges (internet
    // rows), or both; a list of hosts cannot hold the ranges.
    let addresses_only = (target == Target::PanEdl && options.edl_type == EdlType::Ip)
        || (target == Target::AwsNetworkFirewall && options.aws_rules == AwsRules::FiveTuple);
    let takes_networks =
        addresses_only || matches!(target, Target::AzureFirewall | Target::FirewallRules);
    if !takes_networks && !options.intranet {
        networks_left_out(plan, &mut losses);
    }
    let rows = if addresses_only {
        0
    } else {
        entries.list.len()
    } + if takes_networks && !options.intranet {
        plan.networks.len()
    } else {
        0
    };
    let losses = ordered(losses);
    let text = match body {
        Body::Commented { text, .. } if options.no_header => text,
        Body::Commented { prefix, text } => comment(prefix, options, &losses, &external) + &text,
        Body::Bare(text) => text,
        Body::Json(write) => write(&Header {
            lines: &options.header,
            losses: &losses,
            external: &external,
        }),
    };
    Rendered { text, losses, rows }
}

/// One loss for the plan's IP ranges, when a list of hosts is rendered.
fn networks_left_out(plan: &Plan, losses: &mut Vec<Loss>) {
    if plan.networks.is_empty() {
        return;
    }
    let mut features: Vec<&str> = Vec::new();
    for n in &plan.networks {
        for f in &n.features {
            if !features.contains(&f.as_str()) {
                features.push(f);
            }
        }
    }
    losses.push(Loss {
        kind: LossKind::NetworksLeftOut,
        host: "*".to_owned(),
        detail: format!(
            "{} IP ranges of {} are not in a list of hosts: render them with pan-edl --edl-type ip, aws-network-firewall --aws-rules 5-tuple, azure-firewall or firewall-rules",
            plan.networks.len(),
            features.join(", ")
        ),
    });
}

/// One loss for the plan's hosts, when a list of addresses is rendered.
pub(crate) fn hosts_left_out(entries: &Entries<'_>, what: &str, losses: &mut Vec<Loss>) {
    if entries.list.is_empty() {
        return;
    }
    losses.push(Loss {
        kind: LossKind::HostsLeftOut,
        host: "*".to_owned(),
        detail: format!(
            "{} host rows are not in {what}: render them as a list of hosts too",
            entries.list.len()
        ),
    });
}

/// A JSON document, pretty-printed, with a final newline.
pub(crate) fn json_text(doc: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(doc).expect("a JSON document serializes");
    text.push('\n');
    text
}

/// The header of a JSON target, as data. Each target writes the losses it
/// has room for (AWS: 40 tags), so they are formatted there.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub lines: &'a [String],
    pub losses: &'a [Loss],
    pub external: &'a [String],
}

/// Losses by kind, then in the plan's order, each once.
fn ordered(losses: Vec<Loss>) -> Vec<Loss> {
    let mut seen = HashSet::new();
    let mut by_kind: BTreeMap<LossKind, Vec<Loss>> = BTreeMap::new();
    for l in losses {
        if seen.insert(l.clone()) {
            by_kind.entry(l.kind).or_default().push(l);
        }
    }
    by_kind.into_values().flatten().collect()
}

/// What the list does not include: the external lists the plan's features
/// point to, and the rows of the other direction (intranet rows belong on
/// the firewall between site systems, `--intranet`; internet rows on the
/// egress path).
fn external(plan: &Plan, other: &[&str], intranet: bool) -> Vec<String> {
    let mut out: Vec<String> = plan
        .external
        .iter()
        .map(|x| format!("{}: {} <{}>", x.feature, x.title, x.url))
        .collect();
    if !other.is_empty() {
        out.push(if intranet {
            format!(
                "internet (allow on the egress path, without --intranet): {}",
                other.join(", ")
            )
        } else {
            format!(
                "intranet, between site systems (allow on that firewall, --intranet): {}",
                other.join(", ")
            )
        });
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

/// One plan row as a target sees it: a concrete pattern (the row's own, or
/// one made for a placeholder) and the requirements in force on it.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub row: &'a Row,
    pub pattern: Cow<'a, HostPattern>,
    pub requirements: Vec<&'a Requirement>,
}

impl Entry<'_> {
    /// The row's host (the template, for a made pattern).
    pub fn host(&self) -> &str {
        &self.row.host
    }

    /// Path and query, for URLs with one.
    pub fn path(&self) -> Option<&str> {
        self.row.path.as_deref()
    }

    pub fn kind(&self) -> PatternKind<'_> {
        self.pattern.kind()
    }

    /// The pairs of every requirement: for a list that admits the same to
    /// every source.
    pub fn pairs(&self) -> Pairs {
        self.pairs_where(|_| true)
    }

    /// The pairs of the requirements `keep` selects: one role's, one
    /// feature's.
    pub fn pairs_where(&self, keep: impl Fn(&Requirement) -> bool) -> Pairs {
        self.requirements
            .iter()
            .filter(|r| keep(r))
            .flat_map(|r| r.pairs.iter().copied())
            .collect()
    }

    /// Whether any requirement is HTTPS (so a path is inside TLS).
    pub fn https(&self) -> bool {
        self.pairs().iter().any(|(s, _)| *s == Scheme::Https)
    }

    /// The entry as a domain-list item that admits a name and all its
    /// subdomains where it starts with a dot: the pattern's text for a host
    /// or an address, `.x` for `*.x` and for `pre*post.x` (broadened).
    pub fn dotted(&self) -> Cow<'_, str> {
        match self.kind() {
            PatternKind::Subdomains { suffix } => Cow::Owned(format!(".{suffix}")),
            PatternKind::InLabel { parent, .. } => Cow::Owned(format!(".{parent}")),
            PatternKind::Exact(_) | PatternKind::Ip(_) => Cow::Borrowed(self.pattern.as_str()),
        }
    }
}

/// The plan's entries of one direction, and the hosts of the in-force
/// rows of the other, which this list does not include.
#[derive(Debug)]
pub(crate) struct Entries<'a> {
    pub list: Vec<Entry<'a>>,
    pub left_for_the_other_list: Vec<&'a str>,
}

impl Entries<'_> {
    /// Every port the entries name.
    pub fn ports(&self) -> BTreeSet<u16> {
        self.list
            .iter()
            .flat_map(|e| e.pairs())
            .map(|(_, p)| p)
            .collect()
    }

    /// Every scheme the entries name.
    pub fn schemes(&self) -> BTreeSet<Scheme> {
        self.list
            .iter()
            .flat_map(|e| e.pairs())
            .map(|(s, _)| s)
            .collect()
    }
}

/// The rows a list must admit: those with a requirement in force, toward
/// the internet (or, with `intranet`, between site systems), with a
/// concrete pattern (a placeholder without a value
/// becomes a wildcard, reported; one that stands for a whole host leaves
/// its row out). Only the requirements in force come along: a superseded
/// endpoint's ports are not admitted because another endpoint of the same
/// host is in force.
fn entries<'a>(plan: &'a Plan, options: &Options, losses: &mut Vec<Loss>) -> Entries<'a> {
    let policy = options.placeholders;
    let wanted = if options.intranet {
        Direction::Intranet
    } else {
        Direction::Internet
    };
    let mut list = Vec::new();
    let mut other = Vec::new();
    for row in &plan.rows {
        let requirements: Vec<&Requirement> = row.in_force().collect();
        if requirements.is_empty() {
            continue;
        }
        if row.direction != wanted {
            // A host has a row per path or version condition: named once.
            if !other.contains(&row.host.as_str()) {
                other.push(row.host.as_str());
            }
            continue;
        }
        let pattern = match &row.pattern {
            Some(p) => Cow::Borrowed(p),
            None if policy == PlaceholderPolicy::Omit => {
                losses.push(Loss {
                    host: row.host.clone(),
                    kind: LossKind::PlaceholderOmitted,
                    detail: format!(
                        "set {} in the profile to render it (or --placeholders widen)",
                        profile_keys(plan, row)
                    ),
                });
                continue;
            }
            None => match placeholder_wildcard(&row.host) {
                Some(p) => {
                    losses.push(Loss {
                        host: row.host.clone(),
                        kind: LossKind::PlaceholderAsWildcard,
                        detail: format!("rendered as `{p}`; set the placeholder in the profile to render the exact host"),
                    });
                    Cow::Owned(p)
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
        list.push(Entry {
            row,
            pattern,
            requirements,
        });
    }
    Entries {
        list,
        left_for_the_other_list: other,
    }
}

/// The profile keys that fill a row's missing placeholders.
fn profile_keys(plan: &Plan, row: &Row) -> String {
    let keys: Vec<&str> = plan
        .missing
        .iter()
        .filter(|m| row.host.contains(&format!("<{}>", m.name)))
        .map(|m| m.profile_key.as_str())
        .collect();
    keys.join(" and ")
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
        let https = e.https();
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

/// A list's items in the order first pushed, each once.
#[derive(Debug, Default)]
pub(crate) struct Unique {
    items: Vec<String>,
    seen: HashSet<String>,
}

impl Unique {
    pub fn push(&mut self, item: impl Into<String>) {
        let item = item.into();
        if !self.seen.contains(&item) {
            self.seen.insert(item.clone());
            self.items.push(item);
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        self.items
    }

    /// The items without those a `.x` item covers (`x`, `a.x`, `.a.x`),
    /// for lists where `.x` admits `x` and its subdomains.
    pub fn into_uncovered(self) -> Vec<String> {
        let covered = covered(&self.items);
        self.items
            .into_iter()
            .zip(covered)
            .filter_map(|(item, covered)| (!covered).then_some(item))
            .collect()
    }
}

/// Which items a `.x` item (`x` and all its subdomains) covers, in order:
/// `x`, `a.x`, `.a.x`; `.x` never covers itself. Matching is egress-pattern's:
/// each `.x` is the pattern `*.x` plus the name `x`.
fn covered(items: &[String]) -> Vec<bool> {
    let parents: Vec<&str> = items.iter().filter_map(|i| i.strip_prefix('.')).collect();
    let patterns: Vec<HostPattern> = parents
        .iter()
        .filter_map(|p| HostPattern::parse(&format!("*.{p}")).ok())
        .collect();
    let below = HostSet::new(&patterns);
    let apexes: HashSet<&str> = parents.into_iter().collect();
    items
        .iter()
        .map(|item| match item.strip_prefix('.') {
            Some(name) => below.is_match_name(name),
            None => apexes.contains(item.as_str()) || below.is_match_name(item),
        })
        .collect()
}

/// Escapes a string for a POSIX extended or JavaScript regular expression.
pub(crate) fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items as a list would get them: what [`Unique`] keeps with covered
    /// items dropped.
    #[track_caller]
    fn check(input: &[&str], expected: &[&str]) {
        let mut list = Unique::default();
        for item in input {
            list.push(*item);
        }
        assert_eq!(list.into_uncovered(), expected);
    }

    #[test]
    fn broader_entries_win() {
        check(&["a.x", ".x", "x", "b.y"], &[".x", "b.y"]);
        check(&[".a.x", ".x"], &[".x"]);
        check(&["ax", ".x"], &["ax", ".x"]);
        check(&[".x", ".x", "x.y"], &[".x", "x.y"]);
        check(
            &["go.microsoft.com", "go.microsoft.com"],
            &["go.microsoft.com"],
        );
        // Covered from any depth, by parents of several depths; a parent
        // with more labels than an item never covers it.
        check(
            &[
                "c.b.a.x", ".b.a.x", "z.y", ".x", ".q.p.o", "p.o", "r.q.p.o", "evilx", "x.evil",
            ],
            &["z.y", ".x", ".q.p.o", "p.o", "evilx", "x.evil"],
        );
    }

    /// The oracle for [`covered`]: each item against each `.x` item, by
    /// the definition (the same name, or ending in `.x`).
    fn covered_by_definition(items: &[String]) -> Vec<bool> {
        items
            .iter()
            .map(|item| {
                let name = item.strip_prefix('.');
                items
                    .iter()
                    .filter_map(|p| p.strip_prefix('.'))
                    .any(|parent| match name {
                        Some(name) => name.ends_with(&format!(".{parent}")),
                        None => item == parent || item.ends_with(&format!(".{parent}")),
                    })
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn covered_agrees_with_its_definition(
            items in proptest::collection::vec("\\.?([abc]\\.){0,3}[abc]", 0..12)
        ) {
            proptest::prop_assert_eq!(covered(&items), covered_by_definition(&items));
        }
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
