//! `HostSet`: many patterns compiled into one matcher.
//!
//! Every pattern is keyed by a name: an exact pattern by its host, `*.x` by
//! `x`, an in-label pattern `pre*post.parent` by `parent`. A host is looked
//! up once per label boundary, right to left: the hash of each suffix is
//! computed in one pass over the host (a polynomial hash weighted from the
//! end), and each suffix costs one
//! probe of an open-addressing table. A host with four labels therefore
//! costs one pass over its bytes and four probes, whatever the number of
//! patterns.
//!
//! Memory is kept flat for millions of patterns: key texts live in one
//! arena, table slots are 8 bytes, and ids are `u32` indexes.

use std::net::IpAddr;

use crate::{Host, HostPattern, PatternKind};

/// The index of a pattern in the order it was added to a [`HostSetBuilder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatternId(pub u32);

/// Collects patterns, then compiles them into a [`HostSet`].
#[derive(Debug, Default)]
pub struct HostSetBuilder {
    /// (key, kind, in-label prefix and suffix, id)
    items: Vec<(String, Slot, String, String, PatternId)>,
    ips: Vec<(IpAddr, PatternId)>,
    count: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    #[default]
    Exact,
    Subdomains,
    InLabel,
}

impl HostSetBuilder {
    pub fn new() -> HostSetBuilder {
        HostSetBuilder::default()
    }

    /// Adds a pattern; its id is its index in the order of addition.
    pub fn push(&mut self, pattern: &HostPattern) -> PatternId {
        let id = PatternId(self.count);
        self.count += 1;
        match pattern.kind() {
            PatternKind::Exact(host) => self.items.push((
                host.to_owned(),
                Slot::Exact,
                String::new(),
                String::new(),
                id,
            )),
            PatternKind::Subdomains { suffix } => self.items.push((
                suffix.to_owned(),
                Slot::Subdomains,
                String::new(),
                String::new(),
                id,
            )),
            PatternKind::InLabel {
                prefix,
                suffix,
                parent,
            } => self.items.push((
                parent.to_owned(),
                Slot::InLabel,
                prefix.to_owned(),
                suffix.to_owned(),
                id,
            )),
            PatternKind::Ip(ip) => self.ips.push((ip, id)),
        }
        id
    }

    pub fn build(mut self) -> HostSet {
        self.items
            .sort_by(|a, b| (&a.0, a.1, a.4).cmp(&(&b.0, b.1, b.4)));
        let mut set = HostSet {
            slots: Vec::new(),
            mask: 0,
            entries: Vec::with_capacity(self.items.len()),
            text: String::new(),
            ids: Vec::with_capacity(self.items.len()),
            in_label: Vec::new(),
            ips: self.ips,
            len: self.count as usize,
            depths: 0,
        };
        let mut i = 0;
        while i < self.items.len() {
            let key = self.items[i].0.clone();
            let text_start = set.text.len() as u32;
            set.text.push_str(&key);
            let ids_start = set.ids.len() as u32;
            let in_label_start = set.in_label.len() as u32;
            let (mut n_exact, mut n_sub) = (0u32, 0u32);
            while i < self.items.len() && self.items[i].0 == key {
                let (_, slot, prefix, suffix, id) = std::mem::take(&mut self.items[i]);
                match slot {
                    Slot::Exact => {
                        set.ids.push(id.0);
                        n_exact += 1;
                    }
                    Slot::Subdomains => {
                        set.ids.push(id.0);
                        n_sub += 1;
                    }
                    Slot::InLabel => {
                        let prefix_start = set.text.len() as u32;
                        set.text.push_str(&prefix);
                        set.text.push_str(&suffix);
                        set.in_label.push(InLabel {
                            text_start: prefix_start,
                            prefix_len: prefix.len() as u8,
                            suffix_len: suffix.len() as u8,
                            id: id.0,
                        });
                    }
                }
                i += 1;
            }
            set.entries.push(Entry {
                text_start,
                text_len: key.len() as u8,
                ids_start,
                n_exact,
                n_sub,
                in_label_start,
                n_in_label: set.in_label.len() as u32 - in_label_start,
            });
        }
        set.index();
        set.text.shrink_to_fit();
        set.in_label.shrink_to_fit();
        set
    }
}

/// A compiled set of host patterns. See the module documentation.
#[derive(Debug, Clone)]
pub struct HostSet {
    /// Open addressing: `(fingerprint << 32) | (entry + 1)`, 0 for empty.
    slots: Vec<u64>,
    mask: usize,
    entries: Vec<Entry>,
    text: String,
    ids: Vec<u32>,
    in_label: Vec<InLabel>,
    ips: Vec<(IpAddr, PatternId)>,
    len: usize,
    /// Bit `n` is set when some key has `n` labels: suffixes with another
    /// number of labels need no probe.
    depths: u128,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    text_start: u32,
    text_len: u8,
    ids_start: u32,
    n_exact: u32,
    n_sub: u32,
    in_label_start: u32,
    n_in_label: u32,
}

#[derive(Debug, Clone, Copy)]
struct InLabel {
    /// Prefix then suffix, in `text`.
    text_start: u32,
    prefix_len: u8,
    suffix_len: u8,
    id: u32,
}

/// A polynomial hash weighted from the end: `H(t) = sum t[j] * B^(len-1-j)`
/// modulo 2^64. Walking a host right to left, the running sum at a dot is
/// the hash of the suffix after it, so one pass yields every suffix's hash;
/// each byte costs an independent multiply and an add (no chain of
/// multiplies). Matches are always confirmed by comparing the text, so a
/// collision costs time, never a wrong answer.
const B: u64 = 0x9e37_79b9_7f4a_7c15 | 1;

/// Names longer than this cannot match: no valid pattern is longer.
const MAX: usize = crate::MAX_NAME_LEN;

const fn powers() -> [u64; MAX] {
    let mut table = [1u64; MAX];
    let mut i = 1;
    while i < MAX {
        table[i] = table[i - 1].wrapping_mul(B);
        i += 1;
    }
    table
}

static POW: [u64; MAX] = powers();

/// Bit 32 is always set, so that 0 never is a hash (it marks "no probe").
#[inline]
fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    (h ^ (h >> 33)) | (1 << 32)
}

fn hash_key(key: &[u8]) -> u64 {
    let h = key.iter().rev().zip(POW.iter()).fold(0u64, |h, (&b, &p)| {
        h.wrapping_add(u64::from(b).wrapping_mul(p))
    });
    finish(h)
}

impl HostSet {
    pub fn builder() -> HostSetBuilder {
        HostSetBuilder::new()
    }

    /// Builds a set from patterns, ids in order.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a HostPattern>) -> HostSet {
        let mut b = HostSetBuilder::new();
        for p in patterns {
            b.push(p);
        }
        b.build()
    }

    /// The number of patterns.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held, for reports of memory per pattern.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.text.capacity()
            + self.ids.capacity() * 4
            + self.in_label.capacity() * std::mem::size_of::<InLabel>()
            + self.ips.capacity() * std::mem::size_of::<(IpAddr, PatternId)>()
    }

    fn index(&mut self) {
        // At most a quarter full: a miss mostly meets an empty slot at once.
        let capacity = (self.entries.len() * 4).next_power_of_two().max(8);
        self.slots = vec![0; capacity];
        self.mask = capacity - 1;
        for (i, e) in self.entries.iter().enumerate() {
            let key = &self.text.as_bytes()[e.text_start as usize..][..e.text_len as usize];
            let h = hash_key(key);
            let labels = key.iter().filter(|&&b| b == b'.').count() + 1;
            self.depths |= 1u128 << labels.min(127);
            let mut slot = (h as usize) & self.mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & self.mask;
            }
            self.slots[slot] = (h & 0xffff_ffff_0000_0000) | (i as u64 + 1);
        }
    }

    /// Finds the entry for `key`, whose hash is `h`; `first` is the content
    /// of its first slot when the caller has loaded it already.
    #[inline]
    fn find_from(&self, key: &[u8], h: u64, first: Option<u64>) -> Option<&Entry> {
        let fingerprint = h & 0xffff_ffff_0000_0000;
        let mut slot = (h as usize) & self.mask;
        let mut s = first.unwrap_or_else(|| self.slots[slot]);
        loop {
            if s == 0 {
                return None;
            }
            if s & 0xffff_ffff_0000_0000 == fingerprint {
                let e = &self.entries[(s & 0xffff_ffff) as usize - 1];
                if &self.text.as_bytes()[e.text_start as usize..][..e.text_len as usize] == key {
                    return Some(e);
                }
            }
            slot = (slot + 1) & self.mask;
            s = self.slots[slot];
        }
    }

    /// Calls `f` with every pattern that matches `name`, an already
    /// normalized name (as [`Host::parse`] makes it); stops when `f`
    /// returns false.
    fn each_match(&self, name: &str, mut f: impl FnMut(u32) -> bool) {
        let bytes = name.as_bytes();
        let n = bytes.len();
        if self.entries.is_empty() || n > MAX {
            return;
        }
        // Pass 1, right to left: at each dot, the running sum is the hash of
        // the suffix after it. Hosts rarely have more than 15 dots; more
        // spill to the heap.
        let mut inline = [(0u64, 0usize); 16];
        let mut spill: Vec<(u64, usize)> = Vec::new();
        let mut m = 0;
        let mut h = 0u64;
        let pow = &POW[..n];
        for (k, &p) in pow.iter().enumerate() {
            let i = n - 1 - k;
            let b = bytes[i];
            if b == b'.' {
                let depth = m + 1;
                // No key has this many labels: no probe.
                let hash = if self.depths & (1u128 << depth.min(127)) != 0 {
                    finish(h)
                } else {
                    0
                };
                if m < inline.len() {
                    inline[m] = (hash, i + 1);
                } else {
                    if spill.is_empty() {
                        spill.extend_from_slice(&inline);
                    }
                    spill.push((hash, i + 1));
                }
                m += 1;
            }
            h = h.wrapping_add(u64::from(b).wrapping_mul(p));
        }
        let suffixes = if spill.is_empty() {
            &inline[..m]
        } else {
            &spill[..]
        };
        let whole = if self.depths & (1u128 << (m + 1).min(127)) != 0 {
            finish(h)
        } else {
            0
        };

        // Pass 2: load every first slot before looking at any, so that their
        // cache misses overlap (this is what keeps large sets fast).
        let mut first = [0u64; 17];
        for (j, &(hash, _)) in suffixes.iter().take(16).enumerate() {
            first[j] = if hash == 0 {
                0
            } else {
                self.slots[(hash as usize) & self.mask]
            };
        }
        first[16] = if whole == 0 {
            0
        } else {
            self.slots[(whole as usize) & self.mask]
        };

        for (j, &(hash, start)) in suffixes.iter().enumerate() {
            if hash == 0 {
                continue;
            }
            let loaded = first.get(j).copied().filter(|_| j < 16);
            let Some(e) = self.find_from(&bytes[start..], hash, loaded) else {
                continue;
            };
            // `*.suffix`: one or more whole labels before it.
            for &id in &self.ids[(e.ids_start + e.n_exact) as usize..][..e.n_sub as usize] {
                if !f(id) {
                    return;
                }
            }
            // `pre*post.suffix`: only when a single label stands before it.
            if j + 1 == suffixes.len() {
                let label = &bytes[..start - 1];
                for p in &self.in_label[e.in_label_start as usize..][..e.n_in_label as usize] {
                    let t = &self.text.as_bytes()[p.text_start as usize..];
                    let prefix = &t[..p.prefix_len as usize];
                    let suffix = &t[p.prefix_len as usize..][..p.suffix_len as usize];
                    if label.len() > prefix.len() + suffix.len()
                        && label.starts_with(prefix)
                        && label.ends_with(suffix)
                        && !f(p.id)
                    {
                        return;
                    }
                }
            }
        }
        // The whole name: exact patterns.
        if whole != 0
            && let Some(e) = self.find_from(bytes, whole, Some(first[16]))
        {
            for &id in &self.ids[e.ids_start as usize..][..e.n_exact as usize] {
                if !f(id) {
                    return;
                }
            }
        }
    }

    /// Every pattern that matches an already normalized name, in id order.
    pub fn matches_name(&self, name: &str) -> Vec<PatternId> {
        let mut out = Vec::new();
        self.each_match(name, |id| {
            out.push(PatternId(id));
            true
        });
        out.sort_unstable();
        out
    }

    /// Whether any pattern matches an already normalized name.
    pub fn is_match_name(&self, name: &str) -> bool {
        let mut found = false;
        self.each_match(name, |_| {
            found = true;
            false
        });
        found
    }

    /// Every pattern that matches the host, in id order.
    pub fn matches(&self, host: &Host) -> Vec<PatternId> {
        match host {
            Host::Name(name) => self.matches_name(name),
            Host::Ip(ip) => {
                let mut ids: Vec<PatternId> = self
                    .ips
                    .iter()
                    .filter(|(a, _)| a == ip)
                    .map(|(_, id)| *id)
                    .collect();
                ids.sort_unstable();
                ids
            }
        }
    }

    pub fn is_match(&self, host: &Host) -> bool {
        match host {
            Host::Name(name) => self.is_match_name(name),
            Host::Ip(ip) => self.ips.iter().any(|(a, _)| a == ip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(patterns: &[&str], host: &str, expected: &[u32]) {
        let parsed: Vec<HostPattern> = patterns
            .iter()
            .map(|p| HostPattern::parse(p).unwrap())
            .collect();
        let set = HostSet::new(&parsed);
        let host = Host::parse(host).unwrap();
        let got: Vec<u32> = set.matches(&host).into_iter().map(|id| id.0).collect();
        assert_eq!(got, expected, "{host}");
        assert_eq!(set.is_match(&host), !expected.is_empty());
    }

    #[test]
    fn every_matching_pattern() {
        let p = &[
            "*.manage.microsoft.com",
            "ssu2.manage.microsoft.com",
            "manage.microsoft.com",
            "*-umwatsonc.events.data.microsoft.com",
            "umwatsonc.events.data.microsoft.com",
            "*.events.data.microsoft.com",
            "127.0.0.1",
            "*.manage.microsoft.com",
        ];
        check(p, "ssu2.manage.microsoft.com", &[0, 1, 7]);
        check(p, "manage.microsoft.com", &[2]);
        check(p, "a.b.manage.microsoft.com", &[0, 7]);
        check(p, "evilmanage.microsoft.com", &[]);
        check(p, "x.manage.microsoft.com.evil.test", &[]);
        check(p, "eu-umwatsonc.events.data.microsoft.com", &[3, 5]);
        check(p, "umwatsonc.events.data.microsoft.com", &[4, 5]);
        check(p, "a.eu-umwatsonc.events.data.microsoft.com", &[5]);
        check(p, "127.0.0.1", &[6]);
        check(p, "127.0.0.2", &[]);
        check(p, "microsoft.com", &[]);
    }

    #[test]
    fn empty_set() {
        check(&[], "a.b", &[]);
    }
}
