//! Ranges of addresses: a client's (a profile's server or subnet) held
//! against the sources a rule names (Squid's `src`, Azure Firewall's
//! `sourceAddresses`).

use std::net::IpAddr;

use egress_catalog::profile::AddressRange;

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub v6: bool,
    pub low: u128,
    pub high: u128,
}

impl Span {
    /// Every address of both families.
    pub const EVERYTHING: [Span; 2] = [
        Span {
            v6: false,
            low: 0,
            high: u32::MAX as u128,
        },
        Span {
            v6: true,
            low: 0,
            high: u128::MAX,
        },
    ];

    /// An address as its family and number.
    pub fn of(ip: IpAddr) -> (bool, u128) {
        match ip {
            IpAddr::V4(a) => (false, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, u128::from(a)),
        }
    }

    /// The addresses of a profile's range (`10.1.0.0/16`).
    pub fn from_range(range: &AddressRange) -> Span {
        let (v6, network) = Span::of(range.network);
        let bits: u32 = if v6 { 128 } else { 32 };
        let host_bits = bits - u32::from(range.prefix);
        let size = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Span {
            v6,
            low: network,
            high: network | size,
        }
    }

    /// One Squid `src`/`dst` value: `all`, `ipv4`, `ipv6`, an address,
    /// `address/bits`, `address/netmask`, `low-high` or `low-high/mask`.
    /// `None`: a host name (Squid resolves it when it reads the file).
    pub fn parse_squid(text: &str) -> Option<Vec<Span>> {
        let [all4, all6] = Span::EVERYTHING;
        match text {
            "all" => return Some(vec![all4, all6]),
            "ipv4" => return Some(vec![all4]),
            "ipv6" => return Some(vec![all6]),
            _ => {}
        }
        let (addresses, mask) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let (low, high) = match addresses.split_once('-') {
            Some((l, h)) => (l, Some(h)),
            None => (addresses, None),
        };
        let parse = |s: &str| s.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        let low = parse(low)?;
        let high = match high {
            Some(h) => parse(h)?,
            None => low,
        };
        let (v6, mut lo) = Span::of(low);
        let (v6_high, mut hi) = Span::of(high);
        if v6 != v6_high {
            return None;
        }
        let bits: u32 = if v6 { 128 } else { 32 };
        if let Some(mask) = mask {
            let prefix: u32 = match mask.parse::<u32>() {
                Ok(p) if p <= bits => p,
                _ => {
                    // A dotted netmask: its leading ones.
                    let m: std::net::Ipv4Addr = mask.parse().ok()?;
                    u32::from(m).leading_ones()
                }
            };
            let host = bits - prefix;
            let host_mask = if host >= 128 {
                u128::MAX
            } else {
                (1u128 << host) - 1
            };
            lo &= !host_mask;
            hi |= host_mask;
        }
        if lo > hi {
            return None;
        }
        Some(vec![Span {
            v6,
            low: lo,
            high: hi,
        }])
    }
}

/// Whether `spans` hold all of `client`, none of it, or part.
pub(crate) fn spans_hold(spans: &[Span], client: Span) -> Option<bool> {
    let mut covered: Vec<(u128, u128)> = spans
        .iter()
        .filter(|s| s.v6 == client.v6)
        .filter(|s| s.low <= client.high && client.low <= s.high)
        .map(|s| (s.low.max(client.low), s.high.min(client.high)))
        .collect();
    if covered.is_empty() {
        return Some(false);
    }
    covered.sort_unstable();
    // Whether the overlaps join into the whole of `client`.
    let mut next = client.low;
    for (low, high) in covered {
        if low > next {
            return None;
        }
        if high >= client.high {
            return Some(true);
        }
        next = next.max(high + 1);
    }
    None
}
