//! `HostSet`: many patterns compiled into one matcher.
//!
//! Every pattern is keyed by a name: an exact pattern by its host, `*.x` by
//! `x`, an in-label pattern `pre*post.parent` by `parent`. A host is looked
//! up once per label boundary, right to left: the hash of each suffix is
//! computed in one pass over the host, eight bytes at a time (words
//! aligned to the name's end, so that every suffix shares them; see
//! [`K`]), and each suffix costs one probe of an open-addressing table. A
//! host with four labels therefore costs one pass over its words and at
//! most four probes (only suffixes with as many labels as some key),
//! whatever the number of patterns.
//!
//! Memory is kept flat for millions of patterns, and a probe that finds its
//! key costs two cache misses, not four: a table slot (8 bytes: a
//! fingerprint of the hash and an offset) leads to the key's record, in
//! which the key text, the ids of its patterns and its in-label patterns lie
//! together, so that confirming the key and reading its patterns touch the
//! same one or two cache lines.

use std::net::IpAddr;

use crate::{Host, HostPattern, PatternKind};

/// The index of a pattern in the order it was added to a [`HostSetBuilder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatternId(pub u32);

/// Collects patterns, then compiles them into a [`HostSet`].
#[derive(Debug, Default)]
pub struct HostSetBuilder {
    items: Vec<Item>,
    ips: Vec<(IpAddr, PatternId)>,
    count: u32,
}

/// A name pattern as the set stores it: under its key, with its kind.
#[derive(Debug)]
struct Item {
    /// The host of an exact pattern, `x` of `*.x`, `parent` of
    /// `pre*post.parent`.
    key: String,
    kind: Kind,
    /// `pre` and `post` of an in-label pattern; empty otherwise.
    prefix: String,
    suffix: String,
    id: PatternId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Exact,
    Subdomains,
    InLabel,
}

/// A suffix of the host being looked up: where it starts, and its hash
/// (0: no key has as many labels, so it is not probed).
#[derive(Debug, Clone, Copy, Default)]
struct Suffix {
    hash: u64,
    start: usize,
}

/// Suffixes kept on the stack; a host with more labels spills to the heap.
const INLINE_SUFFIXES: usize = 16;

impl HostSetBuilder {
    pub fn new() -> HostSetBuilder {
        HostSetBuilder::default()
    }

    /// Adds a pattern; its id is its index in the order of addition.
    pub fn push(&mut self, pattern: &HostPattern) -> PatternId {
        let id = PatternId(self.count);
        self.count += 1;
        let item = |key: &str, kind, prefix: &str, suffix: &str| Item {
            key: key.to_owned(),
            kind,
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            id,
        };
        match pattern.kind() {
            PatternKind::Exact(host) => self.items.push(item(host, Kind::Exact, "", "")),
            PatternKind::Subdomains { suffix } => {
                self.items.push(item(suffix, Kind::Subdomains, "", ""))
            }
            PatternKind::InLabel {
                prefix,
                suffix,
                parent,
            } => self.items.push(item(parent, Kind::InLabel, prefix, suffix)),
            PatternKind::Ip(ip) => self.ips.push((ip, id)),
        }
        id
    }

    pub fn build(mut self) -> HostSet {
        self.items
            .sort_by(|a, b| (&a.key, a.kind, a.id).cmp(&(&b.key, b.kind, b.id)));
        let mut set = HostSet {
            slots: Vec::new(),
            mask: 0,
            records: Vec::new(),
            ips: self.ips,
            len: self.count as usize,
            depths: 0,
        };
        let mut offsets = Vec::new();
        let mut i = 0;
        while i < self.items.len() {
            let end = i + self.items[i..]
                .iter()
                .take_while(|item| item.key == self.items[i].key)
                .count();
            offsets.push(set.records.len());
            set.push_record(&self.items[i..end]);
            i = end;
        }
        set.index(&offsets);
        set.records.shrink_to_fit();
        set
    }
}

/// A compiled set of host patterns. See the module documentation.
#[derive(Debug, Clone)]
pub struct HostSet {
    /// Open addressing: `(fingerprint << OFFSET_BITS) | (record offset + 1)`,
    /// 0 for empty.
    slots: Vec<u64>,
    mask: usize,
    /// One record per key, back to back (see [`Record`]).
    records: Vec<u8>,
    ips: Vec<(IpAddr, PatternId)>,
    len: usize,
    /// Bit `n` is set when some key has `n` labels (bit 63: 63 or more):
    /// suffixes with another number of labels need no probe.
    depths: u64,
}

/// Offsets into the records take the low 40 bits of a slot (a terabyte of
/// records), the hash's fingerprint the high 24.
const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// The length of a record's header: the key's length (1 byte), then the
/// number of exact, `*.key` and in-label patterns (4 bytes each).
const HEADER: usize = 13;

/// One key's record, read from the arena: `key_len: u8, n_exact: u32,
/// n_sub: u32, n_in_label: u32`, the key, the exact then the `*.key` ids
/// (`u32` each), then each in-label pattern as `prefix_len: u8,
/// suffix_len: u8, id: u32`, prefix, suffix. Integers are little-endian.
#[derive(Debug, Clone, Copy)]
struct Record<'a> {
    exact: &'a [u8],
    sub: &'a [u8],
    n_in_label: u32,
    in_label: &'a [u8],
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// The ids in `bytes`, four bytes each.
fn ids(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Each in-label pattern of a record: `(prefix, suffix, id)`.
fn in_label_patterns(r: Record<'_>) -> impl Iterator<Item = (&[u8], &[u8], u32)> {
    let mut rest = r.in_label;
    (0..r.n_in_label).map(move |_| {
        let (p, s) = (usize::from(rest[0]), usize::from(rest[1]));
        let id = u32_at(rest, 2);
        let prefix = &rest[6..6 + p];
        let suffix = &rest[6 + p..6 + p + s];
        rest = &rest[6 + p + s..];
        (prefix, suffix, id)
    })
}

/// The hash of a name, built from its end: the name is cut into 8-byte
/// words aligned to its *last* byte (the first word holds its last eight
/// bytes), which are mixed in from the right; what is left at the front
/// (up to seven bytes) and the length are mixed in last. A suffix of a name
/// ends where the name ends, so it is cut into the same words: walking a
/// host right to left a word at a time, the state before a word is the
/// state every suffix starting inside that word shares, and the bytes of
/// the word right of a dot are that suffix's front. One pass over the words
/// therefore yields the hash of the whole name and of every suffix after a
/// dot, at one multiply per eight bytes. Matches are always confirmed by
/// comparing the text, so a collision costs time, never a wrong answer.
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// Names longer than this cannot match: no valid pattern is longer.
const MAX: usize = crate::MAX_NAME_LEN;

/// Every byte a `.`.
const DOTS: u64 = 0x2e2e_2e2e_2e2e_2e2e;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

/// The last step: the front bytes (the top `front` bytes of `word`, as the
/// low bytes of the result) and the length `len`.
#[inline(always)]
fn last(h: u64, word: u64, front: usize, len: usize) -> u64 {
    let bytes = if front == 0 {
        0
    } else {
        word >> (8 * (8 - front))
    };
    finish(mix(h, bytes | (len as u64) << 56))
}

/// Bit 32 is always set, so that 0 never is a hash (it marks "no probe").
#[inline(always)]
fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    (h ^ (h >> 33)) | (1 << 32)
}

/// The 8 bytes of `bytes` that end at `end` (at least 8), little-endian.
#[inline(always)]
fn word_ending(bytes: &[u8], end: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[end - 8..end]);
    u64::from_le_bytes(w)
}

/// The first `n` (at most 7) bytes of `bytes` as the top bytes of a word,
/// as if the name were preceded by zeros.
#[inline(always)]
fn front_word(bytes: &[u8], n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    let low = if bytes.len() >= 8 {
        word_ending(bytes, 8)
    } else {
        bytes[..n]
            .iter()
            .rev()
            .fold(0u64, |w, &b| w << 8 | u64::from(b))
    };
    low << (8 * (8 - n))
}

/// A high bit in each byte of `w` that is a dot. Eight bytes at once: a
/// plain loop over the bytes made lookups 20 % slower (BENCHMARKS.md).
#[inline(always)]
fn dots_in(w: u64) -> u64 {
    let x = w ^ DOTS;
    !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH
}

/// The hash of a key (a whole name): the pass a host takes, with no
/// suffix wanted, so that keys and hosts hash alike by construction.
fn hash_key(key: &[u8]) -> u64 {
    scan(
        key,
        0,
        &mut [Suffix::default(); INLINE_SUFFIXES],
        &mut Vec::new(),
    )
    .0
}

/// One pass over an already normalized name of at most `MAX` bytes, right
/// to left, a word at a time. Entry `j` of `out` becomes the suffix of
/// `j + 1` labels (its hash 0 when `depths` has no bit for `j + 1`
/// labels); suffixes past the 16th go to `spill`, with the first 16 copied
/// ahead of them. Returns the hash of the
/// whole name and its number of dots. A function of its own, so that its
/// loop keeps its state in registers.
#[inline(never)]
fn scan(
    bytes: &[u8],
    depths: u64,
    out: &mut [Suffix; INLINE_SUFFIXES],
    spill: &mut Vec<Suffix>,
) -> (u64, usize) {
    let n = bytes.len();
    let full = n / 8;
    let mut h = 0u64;
    let mut labels = 0;
    let mut k = 0;
    loop {
        // The word `k` from the right; past the full words, the front.
        let (word, after) = if k < full {
            (word_ending(bytes, n - 8 * k), 8 * k)
        } else {
            (front_word(bytes, n % 8), full * 8)
        };
        let mut m = dots_in(word);
        while m != 0 {
            let bit = 63 - m.leading_zeros() as usize;
            m &= !(1 << bit);
            // The bytes of the word right of this dot start the suffix.
            let front = 7 - bit / 8;
            let len = after + front;
            let hash = if depths & (1 << (labels + 1).min(63)) != 0 {
                last(h, word, front, len)
            } else {
                0
            };
            let suffix = Suffix {
                hash,
                start: n - len,
            };
            if labels < out.len() {
                out[labels] = suffix;
            } else {
                if spill.is_empty() {
                    spill.extend_from_slice(out);
                }
                spill.push(suffix);
            }
            labels += 1;
        }
        if k == full {
            return (last(h, word, n % 8, n), labels);
        }
        h = mix(h, word);
        k += 1;
    }
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
            + self.records.capacity()
            + self.ips.capacity() * std::mem::size_of::<(IpAddr, PatternId)>()
    }

    /// Appends the record of one key, from its items (all with that key).
    fn push_record(&mut self, items: &[Item]) {
        let key = &items[0].key;
        let count = |kind: Kind| items.iter().filter(|i| i.kind == kind).count() as u32;
        let r = &mut self.records;
        // Keys are names, at most 253 bytes: one byte holds the length.
        r.push(key.len() as u8);
        for kind in [Kind::Exact, Kind::Subdomains, Kind::InLabel] {
            r.extend_from_slice(&count(kind).to_le_bytes());
        }
        r.extend_from_slice(key.as_bytes());
        for kind in [Kind::Exact, Kind::Subdomains] {
            for item in items.iter().filter(|i| i.kind == kind) {
                r.extend_from_slice(&item.id.0.to_le_bytes());
            }
        }
        for item in items.iter().filter(|i| i.kind == Kind::InLabel) {
            // Parts of one label: at most 63 bytes each.
            r.push(item.prefix.len() as u8);
            r.push(item.suffix.len() as u8);
            r.extend_from_slice(&item.id.0.to_le_bytes());
            r.extend_from_slice(item.prefix.as_bytes());
            r.extend_from_slice(item.suffix.as_bytes());
        }
    }

    fn index(&mut self, offsets: &[usize]) {
        // At most half full: a miss mostly meets an empty slot within the
        // cache line of its first (eight slots to a line), and the table
        // stays small enough to share the cache with the records.
        let capacity = (offsets.len() * 2).next_power_of_two().max(8);
        self.slots = vec![0; capacity];
        self.mask = capacity - 1;
        for &offset in offsets {
            let key_len = usize::from(self.records[offset]);
            let key = &self.records[offset + HEADER..][..key_len];
            let h = hash_key(key);
            let labels = key.iter().filter(|&&b| b == b'.').count() + 1;
            self.depths |= 1 << labels.min(63);
            let mut slot = (h as usize) & self.mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & self.mask;
            }
            self.slots[slot] = (h >> OFFSET_BITS << OFFSET_BITS) | (offset as u64 + 1);
        }
    }

    /// Whether some key has `labels` labels (bit 63 stands for 63 or more).
    #[inline]
    fn probes(&self, labels: usize) -> bool {
        self.depths & (1 << labels.min(63)) != 0
    }

    /// Finds the record for `key`, whose hash is `h`; `first` is the content
    /// of its first slot when the caller has loaded it already.
    #[inline(always)]
    fn find_from(&self, key: &[u8], h: u64, first: Option<u64>) -> Option<Record<'_>> {
        let fingerprint = h >> OFFSET_BITS;
        let mut slot = (h as usize) & self.mask;
        let mut s = first.unwrap_or_else(|| self.slots[slot]);
        loop {
            if s == 0 {
                return None;
            }
            if s >> OFFSET_BITS == fingerprint {
                let r = &self.records[(s & OFFSET_MASK) as usize - 1..];
                let key_len = usize::from(r[0]);
                if r[HEADER..HEADER + key_len] == *key {
                    let n_exact = u32_at(r, 1) as usize;
                    let n_sub = u32_at(r, 5) as usize;
                    let ids_at = HEADER + key_len;
                    let sub_at = ids_at + 4 * n_exact;
                    let in_at = sub_at + 4 * n_sub;
                    return Some(Record {
                        exact: &r[ids_at..sub_at],
                        sub: &r[sub_at..in_at],
                        n_in_label: u32_at(r, 9),
                        in_label: &r[in_at..],
                    });
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
        if self.records.is_empty() || n > MAX {
            return;
        }
        // Right to left: entry `j` is the suffix of `j + 1` labels, with its
        // hash, or 0 when no key has that many labels (no probe).
        let mut inline = [Suffix::default(); INLINE_SUFFIXES];
        let mut longer: Vec<Suffix> = Vec::new();
        let (whole, m) = scan(bytes, self.depths, &mut inline, &mut longer);
        let suffixes = if longer.is_empty() {
            &inline[..m]
        } else {
            &longer[..]
        };
        let whole = if self.probes(m + 1) { whole } else { 0 };

        // Load every first slot before looking at any, so that their cache
        // misses overlap (this is what keeps large sets fast).
        let slot_of = |hash: u64| {
            if hash == 0 {
                0
            } else {
                self.slots[(hash as usize) & self.mask]
            }
        };
        let mut first = [0u64; INLINE_SUFFIXES + 1];
        for (j, s) in suffixes.iter().take(INLINE_SUFFIXES).enumerate() {
            first[j] = slot_of(s.hash);
        }
        first[INLINE_SUFFIXES] = slot_of(whole);

        for (j, &Suffix { hash, start }) in suffixes.iter().enumerate() {
            if hash == 0 {
                continue;
            }
            let loaded = first.get(j).copied().filter(|_| j < INLINE_SUFFIXES);
            let Some(e) = self.find_from(&bytes[start..], hash, loaded) else {
                continue;
            };
            // `*.suffix`: one or more whole labels before it.
            for id in ids(e.sub) {
                if !f(id) {
                    return;
                }
            }
            // `pre*post.suffix`: only when a single label stands before it.
            if j + 1 == suffixes.len() {
                let label = &bytes[..start - 1];
                for (prefix, suffix, id) in in_label_patterns(e) {
                    if label.len() > prefix.len() + suffix.len()
                        && label.starts_with(prefix)
                        && label.ends_with(suffix)
                        && !f(id)
                    {
                        return;
                    }
                }
            }
        }
        // The whole name: exact patterns.
        if whole != 0
            && let Some(e) = self.find_from(bytes, whole, Some(first[INLINE_SUFFIXES]))
        {
            for id in ids(e.exact) {
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

    /// Names of up to 127 one-letter labels: depths from 63 on share a bit.
    #[test]
    fn very_deep_names() {
        let deep = |n: usize| vec!["a"; n].join(".");
        let (p70, p63, p62) = (
            deep(70),
            format!("*.{}", deep(63)),
            format!("*b.{}", deep(62)),
        );
        let p = &[p70.as_str(), p63.as_str(), p62.as_str()];
        check(p, &deep(70), &[0, 1]);
        check(p, &deep(64), &[1]);
        check(p, &deep(63), &[]);
        check(p, &format!("xb.{}", deep(62)), &[2]);
        check(p, &format!("x.{}", deep(62)), &[]);
        check(p, &deep(127), &[1]);
    }

    /// Every length of name and suffix against the 8-byte words the hash
    /// cuts a name into (shorter than a word, a multiple of it, a dot at
    /// each place in a word), against the pattern-by-pattern definition.
    #[test]
    fn every_length_against_the_definition() {
        let mut patterns = vec!["*.ex".to_owned(), "*b.ex".to_owned(), "*.a.ex".to_owned()];
        for k in 1..=20 {
            patterns.push(format!("{}.ex", "a".repeat(k)));
            patterns.push(format!("*.{}.e", "c".repeat(k)));
        }
        let parsed: Vec<HostPattern> = patterns
            .iter()
            .map(|p| HostPattern::parse(p).unwrap())
            .collect();
        let set = HostSet::new(&parsed);
        for k in 1..=20 {
            let a = "a".repeat(k);
            let c = "c".repeat(k);
            for host in [
                format!("{a}.ex"),
                format!("{a}b.ex"),
                format!("a.{a}.ex"),
                format!("{a}.ex.evil"),
                format!("x.{c}.e"),
                format!("{a}.{c}.e"),
                format!("{c}.e"),
                "ex".to_owned(),
                "b.ex".to_owned(),
            ] {
                let h = Host::parse(&host).unwrap();
                let expected: Vec<u32> = (0..parsed.len() as u32)
                    .filter(|&i| parsed[i as usize].matches(&h))
                    .collect();
                check(
                    &patterns.iter().map(String::as_str).collect::<Vec<_>>(),
                    &host,
                    &expected,
                );
                assert_eq!(set.is_match(&h), !expected.is_empty(), "{host}");
            }
        }
    }

    #[test]
    fn empty_set() {
        check(&[], "a.b", &[]);
    }
}
