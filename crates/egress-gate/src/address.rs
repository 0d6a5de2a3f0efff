//! Where an address points, and whether the proxy may connect to it.
//!
//! A forward proxy that connects wherever DNS points lets anyone who can
//! reach it reach the proxy's own network: its loopback services, the
//! cloud metadata address 169.254.169.254, the site's servers. After DNS,
//! every address is judged before it is tried: only public addresses,
//! unless the plan marks the host intranet or `--allow-net` lists the
//! network. IPv6 addresses that carry an IPv4 address (IPv4-mapped and
//! -compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address they
//! lead to as well.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use egress_catalog::profile::AddressRange;

/// Where an address points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 (RFC 1918); fec0::/10 (site-local).
    Private,
    /// 169.254/16 (with the cloud metadata address), fe80::/10.
    LinkLocal,
    /// 100.64/10 (RFC 6598, carrier-grade NAT).
    SharedCgnat,
    /// fc00::/7 (RFC 4193).
    UniqueLocal,
    /// 224/4, ff00::/8.
    Multicast,
    /// 0.0.0.0/8 ("this network"), ::.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// 240/4, reserved for future use; not routed.
    Reserved,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Public => "public",
            Class::Loopback => "loopback",
            Class::Private => "a private network (RFC 1918)",
            Class::LinkLocal => "link-local (with the cloud metadata address)",
            Class::SharedCgnat => "carrier-grade NAT space (RFC 6598)",
            Class::UniqueLocal => "an IPv6 unique local address (RFC 4193)",
            Class::Multicast => "multicast",
            Class::Unspecified => "unspecified (this host)",
            Class::Broadcast => "broadcast",
            Class::Reserved => "reserved",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IPv4 addresses an IPv6 address leads to, with the mechanism.
fn inner_ipv4(ip: Ipv6Addr) -> Option<(&'static str, Vec<Ipv4Addr>)> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from(bits as u32);
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(("IPv4-mapped", vec![v4]));
    }
    // ::a.b.c.d (deprecated IPv4-compatible), but not :: and ::1.
    if bits >> 32 == 0 && bits > 1 {
        return Some(("IPv4-compatible", vec![low32]));
    }
    // 64:ff9b::/96 (RFC 6052) and the local-use 64:ff9b:1::/48 (RFC 8215).
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 || (s[0], s[1], s[2]) == (0x64, 0xff9b, 1) {
        return Some(("NAT64", vec![low32]));
    }
    // 2002:AABB:CCDD::/48 (6to4, RFC 3056).
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]));
        return Some(("6to4", vec![v4]));
    }
    // 2001:0000:SERVER:FLAGS:PORT:CLIENT (Teredo, RFC 4380): the server,
    // and the client with its bits inverted.
    if (s[0], s[1]) == (0x2001, 0) {
        let server = Ipv4Addr::from((u32::from(s[2]) << 16) | u32::from(s[3]));
        return Some(("Teredo", vec![server, Ipv4Addr::from(!(bits as u32))]));
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Class {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Class::Loopback
    } else if ip.is_private() {
        Class::Private
    } else if ip.is_link_local() {
        Class::LinkLocal
    } else if a == 100 && (64..128).contains(&b) {
        Class::SharedCgnat
    } else if ip.is_multicast() {
        Class::Multicast
    } else if ip.is_broadcast() {
        Class::Broadcast
    } else if a == 0 {
        Class::Unspecified
    } else if a >= 240 {
        Class::Reserved
    } else {
        Class::Public
    }
}

/// Where `ip` itself points (an IPv6 address that carries an IPv4 one is
/// judged by [`AddressRules`] on both).
pub fn classify(ip: IpAddr) -> Class {
    let ip6 = match ip {
        IpAddr::V4(v4) => return classify_v4(v4),
        IpAddr::V6(v6) => v6,
    };
    let first = ip6.segments()[0];
    if ip6.is_loopback() {
        Class::Loopback
    } else if ip6.is_unspecified() {
        Class::Unspecified
    } else if ip6.is_multicast() {
        Class::Multicast
    } else if ip6.is_unicast_link_local() {
        Class::LinkLocal
    } else if first & 0xffc0 == 0xfec0 {
        Class::Private
    } else if ip6.is_unique_local() {
        Class::UniqueLocal
    } else {
        Class::Public
    }
}

/// Why the proxy does not connect to an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// It is not public, and neither the plan nor `--allow-net` allows it.
    NotPublic {
        address: IpAddr,
        class: Class,
        /// The IPv4 address it leads to, and how, when that is what is
        /// not public.
        via: Option<(&'static str, Ipv4Addr)>,
    },
    /// It is the proxy's own listening socket: a request to itself.
    Loop { address: SocketAddr },
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::NotPublic {
                address,
                class,
                via: None,
            } => write!(
                f,
                "{address} is {class}; allow it with --allow-net, or mark the host intranet in the catalog"
            ),
            Denied::NotPublic {
                address,
                class,
                via: Some((how, v4)),
            } => write!(
                f,
                "{address} leads to {v4} ({how}), which is {class}; allow it with --allow-net, or mark the host intranet in the catalog"
            ),
            Denied::Loop { address } => write!(
                f,
                "{address} is this proxy's own listening address: a request to itself is never forwarded"
            ),
        }
    }
}

/// What the proxy may connect to.
#[derive(Debug, Clone, Default)]
pub struct AddressRules {
    /// `--allow-net`: networks allowed although they are not public.
    pub allow: Vec<AddressRange>,
    /// The proxy's own listening sockets: always denied.
    pub own: Vec<SocketAddr>,
}

impl AddressRules {
    /// Whether the proxy may connect to `to`, for a host the plan marks
    /// intranet (`intranet`: any address but the proxy's own) or not.
    pub fn judge(&self, to: SocketAddr, intranet: bool) -> Result<(), Denied> {
        let ip = to.ip().to_canonical();
        let own = self.own.iter().any(|own| {
            let own_ip = own.ip().to_canonical();
            // Listening on every address: any address of this machine is
            // the proxy; the ones that are not public cannot be told from
            // this machine's without asking the system, so all are.
            own.port() == to.port()
                && (own_ip == ip || (own_ip.is_unspecified() && classify(ip) != Class::Public))
        });
        if own {
            return Err(Denied::Loop { address: to });
        }
        if intranet {
            return Ok(());
        }
        let allowed = |ip: IpAddr| self.allow.iter().any(|range| range.contains(ip));
        let class = classify(ip);
        if class != Class::Public && !allowed(ip) {
            return Err(Denied::NotPublic {
                address: to.ip(),
                class,
                via: None,
            });
        }
        if let IpAddr::V6(v6) = ip
            && let Some((how, inner)) = inner_ipv4(v6)
        {
            for v4 in inner {
                let class = classify_v4(v4);
                if class != Class::Public && !allowed(v4.into()) {
                    return Err(Denied::NotPublic {
                        address: to.ip(),
                        class,
                        via: Some((how, v4)),
                    });
                }
            }
        }
        Ok(())
    }

    /// Splits a DNS answer: the addresses that may be tried, in order, and
    /// why each of the others may not (an answer that mixes public and
    /// private addresses is judged address by address).
    pub fn partition(
        &self,
        answer: &[SocketAddr],
        intranet: bool,
    ) -> (Vec<SocketAddr>, Vec<Denied>) {
        let mut allowed = Vec::new();
        let mut denied = Vec::new();
        for &to in answer {
            match self.judge(to, intranet) {
                Ok(()) => allowed.push(to),
                Err(why) => denied.push(why),
            }
        }
        (allowed, denied)
    }
}
