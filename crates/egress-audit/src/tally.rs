//! Requests held against the plan, in tables whose size does not grow
//! with the log.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use egress_catalog::catalog::Scheme;
use egress_catalog::{Catalog, Plan};
use egress_pattern::{Host, HostSet, PatternKind};
use serde::Serialize;

use crate::log::{Entry, Outcome, Reader, Shape};

/// Lines shown of those that are not requests.
const BAD_SHOWN: usize = 5;
/// Clients and hosts named per plan row.
const NAMED: usize = 10;

/// The hosts counted most often, in bounded memory (the Space-Saving
/// scheme, pruned in batches): at most `2 × hold` hosts are held; past
/// that, all but the `hold` most counted are dropped, and a host seen
/// again, or for the first time, starts from the highest count dropped
/// (`floor`), so a host seen often late in a log still rises to the top.
/// Every count is then at most `floor` above the truth; a host seen more
/// than one time in `hold` is never lost.
#[derive(Debug, Clone)]
pub struct TopHosts {
    keep: usize,
    hold: usize,
    counts: HashMap<String, u64>,
    floor: u64,
}

impl TopHosts {
    /// Shows the `keep` most counted; holds many more.
    pub fn new(keep: usize) -> TopHosts {
        TopHosts {
            keep,
            hold: (keep * 50).max(1_000),
            counts: HashMap::new(),
            floor: 0,
        }
    }

    pub fn add(&mut self, host: &str) {
        if let Some(n) = self.counts.get_mut(host) {
            *n += 1;
            return;
        }
        self.counts.insert(host.to_owned(), self.floor + 1);
        if self.counts.len() > 2 * self.hold {
            self.prune();
        }
    }

    /// How much a count may be above the truth (0: every count is exact).
    pub fn error(&self) -> u64 {
        self.floor
    }

    /// Adds the counts of `other` (another part of the same log): a host
    /// one of them no longer holds counts that one's `floor`, so counts
    /// stay at most the summed floors above the truth, never below it.
    pub fn merge(&mut self, other: TopHosts) {
        let (mine, theirs) = (self.floor, other.floor);
        for n in self.counts.values_mut() {
            *n += theirs;
        }
        for (host, n) in other.counts {
            match self.counts.get_mut(&host) {
                Some(c) => *c = *c - theirs + n,
                None => {
                    self.counts.insert(host, n + mine);
                }
            }
        }
        self.floor = mine + theirs;
        if self.counts.len() > 2 * self.hold {
            self.prune();
        }
    }

    /// Keeps the `hold` most counted; the highest count dropped becomes
    /// the floor.
    fn prune(&mut self) {
        let mut all: Vec<(String, u64)> = self.counts.drain().collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.floor = self.floor.max(all[self.hold].1);
        all.truncate(self.hold);
        self.counts = all.into_iter().collect();
    }

    /// The `keep` most counted, most first.
    pub fn top(&self) -> Vec<HostCount> {
        let mut all: Vec<HostCount> = self
            .counts
            .iter()
            .map(|(host, &count)| HostCount {
                host: host.clone(),
                count,
            })
            .collect();
        all.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.host.cmp(&b.host)));
        all.truncate(self.keep);
        all
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostCount {
    pub host: String,
    pub count: u64,
}

/// Denied or failed requests to one plan row.
#[derive(Debug, Clone, Default)]
struct Needed {
    count: u64,
    first: String,
    last: String,
    clients: BTreeMap<String, u64>,
    more_clients: bool,
    statuses: BTreeMap<u16, u64>,
    hosts: BTreeMap<String, u64>,
}

impl Needed {
    /// Adds another part's requests to the row: counts add, the times
    /// widen, and the lowest clients and hosts stay.
    fn merge(&mut self, other: Needed) {
        self.count += other.count;
        if self.first.is_empty() || (!other.first.is_empty() && other.first < self.first) {
            self.first = other.first;
        }
        if other.last > self.last {
            self.last = other.last;
        }
        self.more_clients |= other.more_clients;
        for (client, c) in other.clients {
            self.more_clients |= count_lowest(&mut self.clients, &client, c);
        }
        for (status, c) in other.statuses {
            *self.statuses.entry(status).or_default() += c;
        }
        for (host, c) in other.hosts {
            count_lowest(&mut self.hosts, &host, c);
        }
    }
}

/// Counts `c` more for `name` in `held`, which keeps the [`NAMED`]
/// lowest names (in byte order); whether a name was dropped. However a
/// log is cut into parts, the same names stay, each counted exactly: a
/// name not among the lowest when first seen never gets in, and one
/// dropped never comes back, so a name held at the end was held from its
/// first request in every part.
fn count_lowest(held: &mut BTreeMap<String, u64>, name: &str, c: u64) -> bool {
    if let Some(n) = held.get_mut(name) {
        *n += c;
        return false;
    }
    if held.len() >= NAMED
        && held
            .last_key_value()
            .is_some_and(|(last, _)| last.as_str() < name)
    {
        return true;
    }
    held.insert(name.to_owned(), c);
    if held.len() > NAMED {
        held.pop_last();
        return true;
    }
    false
}

/// What separates a pair's client from its host: no log line holds one.
const PAIR: char = '\n';

/// A (client, host) pair's authentication challenges (407) that no other
/// answer has followed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenged {
    row: usize,
    /// The last user these challenges named, empty for none.
    user: String,
    count: u64,
    first: String,
    last: String,
}

/// What one stretch of a log, read in order (a block of lines), says of
/// authentication, for the hosts of the plan: per (client, host) pair
/// (`client` and `host` joined by [`PAIR`]), the challenges since its last other answer, and the
/// pairs that got another answer, one after the other in one string
/// (`answers` holds where each is): written on every answer, looked up
/// only while challenges from earlier blocks wait.
#[derive(Debug, Default, Clone)]
pub struct AuthBlock {
    challenged: HashMap<String, Challenged, PairHash>,
    answered: String,
    answers: Vec<(usize, usize)>,
}

/// The hasher of the challenged (client, host) pairs, looked up on every
/// challenge and, in a block with challenges, on every answer to a plan
/// host: FxHash's multiply-and-rotate, as rustc hashes its own tables
/// (SipHash, the standard one, guards tables that an attacker fills;
/// these hold one block's pairs, bounded by its lines).
type PairHash = std::hash::BuildHasherDefault<FxHasher>;

#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The pairs whose last challenge no other answer followed, from the
/// blocks of a log folded in log order: a challenge another answer
/// follows (the client authenticated: allowed, or denied by a rule) is a
/// handshake; one none follows is authentication failing.
#[derive(Debug, Default, Clone)]
struct Auth {
    pending: BTreeMap<String, Challenged>,
}

impl Auth {
    /// Adds `block`, the stretch of the log after those folded before.
    fn fold(&mut self, block: AuthBlock) {
        // Every challenge folded before comes before any answer of this
        // block.
        for &(start, end) in &block.answers {
            if self.pending.is_empty() {
                break;
            }
            self.pending.remove(&block.answered[start..end]);
        }
        for (pair, c) in block.challenged {
            if c.count == 0 {
                continue;
            }
            match self.pending.get_mut(&pair) {
                // Not answered in between (else removed above).
                Some(p) => {
                    p.count += c.count;
                    p.last = c.last;
                    if !c.user.is_empty() {
                        p.user = c.user;
                    }
                }
                None => {
                    self.pending.insert(pair, c);
                }
            }
        }
    }
}

/// What hosts are looked up in: the plan's rows, and every endpoint of
/// the catalogs. Built once; shared by the audits of a log's parts.
#[derive(Debug)]
pub struct Lookup<'p> {
    plan: &'p Plan,
    plan_set: HostSet,
    /// `plan_set`'s pattern ids → plan rows.
    plan_rows: Vec<usize>,
    catalog_set: HostSet,
}

impl<'p> Lookup<'p> {
    /// `plan`'s rows in force; `catalogs`' endpoints (all of them, in and
    /// out of the plan) tell the denied hosts the catalog does not know.
    pub fn new(plan: &'p Plan, catalogs: &[&Catalog]) -> Lookup<'p> {
        let mut b = HostSet::builder();
        let mut plan_rows = Vec::new();
        for (i, row) in plan.rows.iter().enumerate() {
            if let (Some(pattern), true) = (&row.pattern, row.status.is_in_force()) {
                b.push(pattern);
                plan_rows.push(i);
            }
        }
        let mut c = HostSet::builder();
        for catalog in catalogs {
            for e in &catalog.endpoints {
                if let Ok(p) = e
                    .destination
                    .host()
                    .resolve(|name| plan.request.placeholders.get(name).map(String::as_str))
                {
                    c.push(&p);
                }
            }
        }
        Lookup {
            plan,
            plan_set: b.build(),
            plan_rows,
            catalog_set: c.build(),
        }
    }
}

/// A log (or a part of one) held against a plan: feed it lines or
/// entries, [`merge`](Audit::merge) the parts, then take the [`Report`].
#[derive(Debug)]
pub struct Audit<'l> {
    lookup: &'l Lookup<'l>,
    /// The current entry's host, normalized.
    host: String,
    /// The current entry's client and host, joined by [`PAIR`].
    pair: String,
    lines: u64,
    requests: u64,
    denied: u64,
    failed: u64,
    challenged: u64,
    /// The block being read.
    block: AuthBlock,
    /// The blocks folded so far (in log order).
    auth: Auth,
    bad: u64,
    first_bad: Vec<BadLineAt>,
    /// The shapes the lines were read in.
    shapes: BTreeSet<Shape>,
    needed: BTreeMap<usize, Needed>,
    wildcards: BTreeMap<usize, TopHosts>,
    denied_unknown: TopHosts,
    unplanned: Option<TopHosts>,
}

impl<'l> Audit<'l> {
    /// An empty audit. `top`: how many hosts each list keeps;
    /// `unplanned`: also count allowed hosts outside the plan.
    pub fn new(lookup: &'l Lookup<'l>, top: usize, unplanned: bool) -> Audit<'l> {
        Audit {
            lookup,
            host: String::new(),
            pair: String::new(),
            lines: 0,
            requests: 0,
            denied: 0,
            failed: 0,
            challenged: 0,
            block: AuthBlock::default(),
            auth: Auth::default(),
            bad: 0,
            first_bad: Vec::new(),
            shapes: BTreeSet::new(),
            needed: BTreeMap::new(),
            wildcards: BTreeMap::new(),
            denied_unknown: TopHosts::new(top),
            unplanned: unplanned.then(|| TopHosts::new(top)),
        }
    }

    /// The lines of `block` (whole lines of `file`, the first of them line
    /// `first_line`), read by `reader` and counted, after the lines read
    /// before (their authentication answers folded in: see
    /// [`block_lines`](Audit::block_lines) for blocks read apart).
    pub fn lines(&mut self, reader: &mut Reader, file: &str, first_line: u64, block: &[u8]) {
        let auth = self.block_lines(reader, file, first_line, block);
        self.fold(auth);
    }

    /// The lines of `block`, read and counted as [`lines`](Audit::lines)
    /// does, but what they say of authentication handed back, to be
    /// [`fold`](Audit::fold)ed in log order (blocks read on several
    /// threads finish in any order).
    pub fn block_lines(
        &mut self,
        reader: &mut Reader,
        file: &str,
        first_line: u64,
        block: &[u8],
    ) -> AuthBlock {
        self.read_block(reader, file, first_line, block);
        std::mem::take(&mut self.block)
    }

    /// Folds in a block's authentication answers: the block after those
    /// folded before.
    pub fn fold(&mut self, block: AuthBlock) {
        self.auth.fold(block);
    }

    fn read_block(&mut self, reader: &mut Reader, file: &str, first_line: u64, block: &[u8]) {
        let mut start = 0;
        let unended = !block.is_empty() && block.last() != Some(&b'\n');
        let ends = memchr::memchr_iter(b'\n', block).chain(unended.then_some(block.len()));
        // One check of the whole block is much cheaper than one a line; a
        // block that is not all UTF-8 is checked line by line.
        let whole = std::str::from_utf8(block).ok();
        for (end, number) in ends.zip(first_line..) {
            let (line, text) = (&block[start..end], whole.map(|w| &w[start..end]));
            start = end + 1;
            let Some(text) = text.or_else(|| std::str::from_utf8(line).ok()) else {
                self.bad_line(file, number, "not UTF-8".to_owned());
                continue;
            };
            let before = reader.shape();
            match reader.read(text) {
                Ok(Some(entry)) => {
                    if reader.shape() != before
                        && let Some(shape) = reader.shape()
                    {
                        self.shapes.insert(shape);
                    }
                    self.add(&entry);
                }
                Ok(None) => self.other_line(),
                Err(e) => self.bad_line(file, number, e.0),
            }
        }
    }

    /// Adds the counts of `other`, another part of the log (or a later
    /// log): the bad lines shown stay the first ones, in file order. What
    /// the parts say of authentication depends on their order, so it is
    /// not merged: read the parts with [`block_lines`](Audit::block_lines)
    /// and [`fold`](Audit::fold) their blocks in log order.
    pub fn merge(&mut self, other: Audit<'_>) {
        self.lines += other.lines;
        self.requests += other.requests;
        self.denied += other.denied;
        self.failed += other.failed;
        self.challenged += other.challenged;
        self.bad += other.bad;
        self.first_bad.extend(other.first_bad);
        let files: Vec<String> = self.first_bad.iter().map(|b| b.file.clone()).collect();
        let rank = |file: &str| files.iter().position(|f| f == file);
        self.first_bad.sort_by_key(|b| (rank(&b.file), b.line));
        self.first_bad.truncate(BAD_SHOWN);
        self.shapes.extend(other.shapes);
        for (row, n) in other.needed {
            self.needed.entry(row).or_default().merge(n);
        }
        for (row, top) in other.wildcards {
            match self.wildcards.get_mut(&row) {
                Some(mine) => mine.merge(top),
                None => {
                    self.wildcards.insert(row, top);
                }
            }
        }
        self.denied_unknown.merge(other.denied_unknown);
        if let (Some(mine), Some(theirs)) = (&mut self.unplanned, other.unplanned) {
            mine.merge(theirs);
        }
    }

    /// The lines, requests and lines that are not requests read so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        (self.lines, self.requests, self.bad)
    }

    /// The first line of `file` shown as not a request, if one is.
    pub fn first_bad_in(&self, file: &str) -> Option<&BadLineAt> {
        self.first_bad.iter().find(|b| b.file == file)
    }

    /// A line that is not a request: counted, the first few kept.
    pub fn bad_line(&mut self, file: &str, line: u64, why: String) {
        self.lines += 1;
        self.bad += 1;
        if self.first_bad.len() < BAD_SHOWN {
            self.first_bad.push(BadLineAt {
                file: file.to_owned(),
                line,
                reason: why,
            });
        }
    }

    /// A line that records no request (a comment, a directive).
    pub fn other_line(&mut self) {
        self.lines += 1;
    }

    pub fn add(&mut self, e: &Entry<'_>) {
        self.lines += 1;
        self.requests += 1;
        match e.outcome {
            Outcome::Denied => self.denied += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Challenged => self.challenged += 1,
            Outcome::Allowed => {}
        }
        let lookup = self.lookup;
        self.host.clear();
        self.host.push_str(e.host.trim_end_matches('.'));
        self.host.make_ascii_lowercase();
        let host = self.host.as_str();
        // A name is looked up as it is (a log's hosts are ASCII); an IP
        // address as one.
        let ip = host
            .starts_with(|c: char| c.is_ascii_digit() || c == ':')
            .then(|| host.parse::<std::net::IpAddr>().ok())
            .flatten();
        let ids = match ip {
            Some(ip) => lookup.plan_set.matches(&Host::Ip(ip)),
            None => lookup.plan_set.matches_name(host),
        };
        let rows = ids.iter().map(|id| lookup.plan_rows[id.0 as usize]);
        let tunnel = e.method == "CONNECT";
        let needs = |row: usize| {
            lookup.plan.rows[row].in_force().any(|r| {
                r.pairs.iter().any(|&(scheme, port)| {
                    e.port.is_none_or(|p| p == port) && (!tunnel || scheme == Scheme::Https)
                })
            })
        };
        let needed_row = rows.clone().find(|&r| needs(r));
        // Authentication, for the plan's hosts (on any port): a challenge
        // is not a denial; another answer after it makes it a handshake.
        if let Some(row) = needed_row.or_else(|| rows.clone().next()) {
            if e.outcome != Outcome::Challenged {
                let block = &mut self.block;
                let start = block.answered.len();
                block.answered.push_str(&e.client);
                block.answered.push(PAIR);
                block.answered.push_str(host);
                let pair = &block.answered[start..];
                block.answers.push((start, block.answered.len()));
                // The challenges before this answer were a handshake.
                if !block.challenged.is_empty()
                    && let Some(c) = block.challenged.get_mut(pair)
                {
                    c.count = 0;
                    c.user.clear();
                }
            } else {
                self.pair.clear();
                self.pair.push_str(&e.client);
                self.pair.push(PAIR);
                self.pair.push_str(host);
                let pair = self.pair.as_str();
                let c = match self.block.challenged.get_mut(pair) {
                    Some(c) => c,
                    None => self
                        .block
                        .challenged
                        .entry(pair.to_owned())
                        .or_insert_with(|| Challenged {
                            row,
                            user: String::new(),
                            count: 0,
                            first: String::new(),
                            last: String::new(),
                        }),
                };
                if c.count == 0 {
                    c.first = e.time.to_string();
                }
                c.count += 1;
                c.last = e.time.to_string();
                // The first legs of NTLM and Negotiate name no user: keep
                // the last one named.
                if !e.user.is_empty() && *e.user != *"-" {
                    c.user.clear();
                    c.user.push_str(&e.user);
                }
            }
        }
        if e.outcome == Outcome::Challenged {
            return;
        }
        for row in rows {
            if lookup.plan.rows[row]
                .pattern
                .as_ref()
                .is_some_and(|p| !matches!(p.kind(), PatternKind::Exact(_)))
            {
                self.wildcards
                    .entry(row)
                    .or_insert_with(|| TopHosts::new(self.denied_unknown.keep))
                    .add(host);
            }
        }
        if e.outcome == Outcome::Allowed {
            if needed_row.is_none()
                && let Some(unplanned) = &mut self.unplanned
            {
                unplanned.add(host);
            }
            return;
        }
        match needed_row {
            Some(row) => {
                let n = self.needed.entry(row).or_default();
                n.count += 1;
                if n.first.is_empty() || *e.time < *n.first {
                    n.first = e.time.to_string();
                }
                if *e.time > *n.last {
                    n.last = e.time.to_string();
                }
                n.more_clients |= count_lowest(&mut n.clients, &e.client, 1);
                *n.statuses.entry(e.status).or_default() += 1;
                count_lowest(&mut n.hosts, host, 1);
            }
            None if e.outcome == Outcome::Denied => {
                let known = match ip {
                    Some(ip) => lookup.catalog_set.is_match(&Host::Ip(ip)),
                    None => lookup.catalog_set.is_match_name(host),
                };
                if !known {
                    self.denied_unknown.add(host);
                }
            }
            None => {}
        }
    }

    pub fn report(&self) -> Report {
        let row = |i: usize| &self.lookup.plan.rows[i];
        // Entries added one by one are in the block being read.
        let mut auth = self.auth.clone();
        auth.fold(self.block.clone());
        Report {
            notes: Vec::new(),
            read_as: self.shapes.iter().map(|s| s.name().to_owned()).collect(),
            lines: self.lines,
            requests: self.requests,
            denied: self.denied,
            failed: self.failed,
            challenged: self.challenged,
            auth_failing: auth
                .pending
                .iter()
                .map(|(pair, c)| {
                    let (client, host) = pair.split_once(PAIR).unwrap_or((pair, ""));
                    let (features, roles) = features_and_roles(row(c.row));
                    AuthFailing {
                        row: row(c.row).host.clone(),
                        features,
                        roles,
                        client: client.to_owned(),
                        host: host.to_owned(),
                        user: (!c.user.is_empty()).then(|| c.user.clone()),
                        challenges: c.count,
                        first_seen: c.first.clone(),
                        last_seen: c.last.clone(),
                    }
                })
                .collect(),
            bad_lines: self.bad,
            first_bad_lines: self.first_bad.clone(),
            needed: self
                .needed
                .iter()
                .map(|(&i, n)| {
                    let r = row(i);
                    let (features, roles) = features_and_roles(r);
                    NeededRow {
                        row: r.host.clone(),
                        features,
                        roles,
                        count: n.count,
                        first_seen: n.first.clone(),
                        last_seen: n.last.clone(),
                        clients: n.clients.keys().cloned().collect(),
                        more_clients: n.more_clients,
                        statuses: n
                            .statuses
                            .iter()
                            .map(|(s, c)| (s.to_string(), *c))
                            .collect(),
                        hosts: n
                            .hosts
                            .iter()
                            .map(|(h, c)| HostCount {
                                host: h.clone(),
                                count: *c,
                            })
                            .collect(),
                    }
                })
                .collect(),
            wildcards: self
                .wildcards
                .iter()
                .map(|(&i, top)| WildcardRow {
                    row: row(i).host.clone(),
                    hosts: top.top(),
                    count_error: top.error(),
                })
                .collect(),
            denied_not_in_catalog: self.denied_unknown.top(),
            denied_not_in_catalog_error: self.denied_unknown.error(),
            unplanned: self.unplanned.as_ref().map(TopHosts::top),
        }
    }
}

/// A row's features and roles in force, each once, sorted.
fn features_and_roles(r: &egress_catalog::Row) -> (Vec<String>, Vec<String>) {
    let mut features: Vec<String> = r.in_force().map(|q| q.feature.clone()).collect();
    features.sort();
    features.dedup();
    let mut roles: Vec<String> = r.in_force().map(|q| q.role.clone()).collect();
    roles.sort();
    roles.dedup();
    (features, roles)
}

/// A client whose authentication to the proxy fails for a host the plan
/// needs: challenged (407), and no other answer after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthFailing {
    /// The plan row's host pattern.
    pub row: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    pub client: String,
    pub host: String,
    /// The user of the last challenge, when the log names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The challenges since its last other answer.
    pub challenges: u64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadLineAt {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// What the log says against the plan (docs/audit.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What the reader of the report must know first (set by the caller,
    /// who knows the files: one whose lines are mostly not requests).
    pub notes: Vec<String>,
    /// The shapes the lines were read in (`Squid native (logformat
    /// squid)`, ...).
    pub read_as: Vec<String>,
    pub lines: u64,
    pub requests: u64,
    pub denied: u64,
    pub failed: u64,
    /// Authentication challenges (407): counted apart from denials.
    pub challenged: u64,
    /// Clients whose authentication fails for hosts the plan needs.
    pub auth_failing: Vec<AuthFailing>,
    pub bad_lines: u64,
    pub first_bad_lines: Vec<BadLineAt>,
    /// Denied or failed requests the plan needs, by plan row.
    pub needed: Vec<NeededRow>,
    /// The hosts seen under each wildcard row of the plan.
    pub wildcards: Vec<WildcardRow>,
    /// Denied hosts no catalog endpoint matches, most denied first.
    pub denied_not_in_catalog: Vec<HostCount>,
    /// How much those counts may be above the truth (see [`TopHosts`]).
    pub denied_not_in_catalog_error: u64,
    /// Allowed hosts outside the plan (`--show-unplanned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unplanned: Option<Vec<HostCount>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeededRow {
    /// The plan row's host pattern.
    pub row: String,
    pub features: Vec<String>,
    pub roles: Vec<String>,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// The ten lowest clients seen (in byte order, so the same for any
    /// cut of the log), and whether there were more.
    pub clients: Vec<String>,
    pub more_clients: bool,
    /// Status → count.
    pub statuses: BTreeMap<String, u64>,
    /// The ten lowest hosts asked for under the row (in byte order), each
    /// counted exactly.
    pub hosts: Vec<HostCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WildcardRow {
    pub row: String,
    pub hosts: Vec<HostCount>,
    /// How much a count may be above the truth: 0 unless the row saw more
    /// distinct hosts than are held.
    pub count_error: u64,
}
