//! `[outbound_networking] block_networks`: address ranges no outbound
//! connection may reach, whatever a component's allow list says. The
//! operator's guard against a name that an allowed domain's owner points at
//! an internal address (DNS rebinding, `127.0.0.1.nip.io`).
//!
//! The check runs on the address a connection is actually made to, after
//! name resolution, so the address checked is the address used.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What one `block_networks` entry covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockedRange {
    /// A CIDR block (`10.0.0.0/8`, `fd00::/8`); a single address is a /32
    /// or /128.
    Network(IpNet),
    /// `private`: every address that is not globally routable, as Spin
    /// defines it (see [`is_private`]).
    Private,
}

impl BlockedRange {
    /// Parses a `block_networks` entry: `private`, a CIDR block, or a single
    /// address. Host bits below the prefix are dropped (`8.8.8.8/16` is
    /// `8.8.0.0/16`), as in Spin.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text == "private" {
            return Some(Self::Private);
        }
        if let Ok(net) = text.parse::<IpNet>() {
            return Some(Self::Network(net.trunc()));
        }
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| Self::Network(IpNet::from(ip.to_canonical())))
    }
}

impl fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(net) => write!(f, "{net}"),
            Self::Private => f.write_str("private"),
        }
    }
}

/// One `block_networks` entry and where it was configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRule {
    /// The range.
    pub range: BlockedRange,
    /// Where the entry is written, for messages, e.g. `rc.toml:3`.
    pub origin: String,
}

impl fmt::Display for BlockRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` in `[outbound_networking] block_networks` ({})",
            self.range, self.origin
        )
    }
}

/// The blocked ranges of an application; empty blocks nothing.
///
/// ```
/// use spin_outbound_networking::{BlockRule, BlockedNetworks, BlockedRange};
///
/// let blocked = BlockedNetworks::new(vec![BlockRule {
///     range: BlockedRange::Private,
///     origin: "rc.toml:2".into(),
/// }]);
/// assert!(blocked.blocking("127.0.0.1".parse().unwrap()).is_some());
/// assert!(blocked.blocking("::ffff:10.0.0.1".parse().unwrap()).is_some());
/// assert!(blocked.blocking("93.184.215.14".parse().unwrap()).is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockedNetworks {
    rules: Vec<BlockRule>,
}

impl BlockedNetworks {
    /// Blocks every range in `rules`.
    pub fn new(rules: Vec<BlockRule>) -> Self {
        Self { rules }
    }

    /// True when nothing is blocked (no lookups are needed before
    /// connecting).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[BlockRule] {
        &self.rules
    }

    /// The first rule that blocks `addr`, if any. An IPv6 address that
    /// carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
    /// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) is blocked when either form
    /// is, so that spelling an address in IPv6 does not get around an IPv4
    /// rule; the unspecified address (`0.0.0.0`, `::`), which a connect
    /// reaches as loopback, is blocked when loopback is.
    pub fn blocking(&self, addr: IpAddr) -> Option<&BlockRule> {
        let forms = [
            Some(addr.to_canonical()),
            embedded_ipv4(addr),
            connected_as(addr.to_canonical()),
        ];
        self.rules.iter().find(|rule| {
            forms.iter().flatten().any(|ip| match &rule.range {
                BlockedRange::Network(net) => net.contains(ip),
                BlockedRange::Private => is_private(*ip),
            })
        })
    }
}

/// The address a connect to `addr` reaches instead, if another: Linux (and
/// others) take the unspecified address for loopback.
fn connected_as(addr: IpAddr) -> Option<IpAddr> {
    match addr {
        IpAddr::V4(v4) if v4.is_unspecified() => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(v6) if v6.is_unspecified() => Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => None,
    }
}

/// The IPv4 address an IPv6 address stands for, if it has one.
fn embedded_ipv4(addr: IpAddr) -> Option<IpAddr> {
    let IpAddr::V6(v6) = addr else {
        return None;
    };
    let nat64 = Ipv6Net::new(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96).ok()?;
    if nat64.contains(&v6) {
        let [.., a, b, c, d] = v6.octets();
        return Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)));
    }
    // Mapped and compatible forms; `::` and `::1` are IPv6's own.
    if v6.is_unspecified() || v6.is_loopback() {
        return None;
    }
    v6.to_ipv4().map(IpAddr::V4)
}

/// IPv4 ranges that are not globally routable (IANA's special-purpose
/// registry, as Spin's `private` uses it): "this network", RFC 1918,
/// shared address space (CGNAT), loopback, link-local, IETF protocol
/// assignments, documentation, benchmarking, reserved and broadcast; and
/// multicast, which is routed on the local network (mDNS, SSDP) rather
/// than to a host on the Internet.
const PRIVATE_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),
    ([10, 0, 0, 0], 8),
    ([100, 64, 0, 0], 10),
    ([127, 0, 0, 0], 8),
    ([169, 254, 0, 0], 16),
    ([172, 16, 0, 0], 12),
    ([192, 0, 0, 0], 24),
    ([192, 0, 2, 0], 24),
    ([192, 168, 0, 0], 16),
    ([198, 18, 0, 0], 15),
    ([198, 51, 100, 0], 24),
    ([203, 0, 113, 0], 24),
    ([224, 0, 0, 0], 4),
    ([240, 0, 0, 0], 4),
];

/// IPv6 ranges that are not globally routable: unspecified, loopback,
/// local-use NAT64, discard-only, IETF protocol assignments (Teredo
/// included), documentation, unique local, link-local and the deprecated
/// site-local range, and multicast. IPv4-mapped addresses are checked as
/// IPv4.
const PRIVATE_V6: &[([u16; 8], u8)] = &[
    ([0, 0, 0, 0, 0, 0, 0, 0], 128),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128),
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
];

/// Whether `addr` is outside the globally routable Internet: what the word
/// `private` in `block_networks` blocks.
pub fn is_private(addr: IpAddr) -> bool {
    match addr.to_canonical() {
        IpAddr::V4(v4) => PRIVATE_V4.iter().any(|&(net, len)| {
            Ipv4Net::new(Ipv4Addr::from(net), len).is_ok_and(|n| n.contains(&v4))
        }),
        IpAddr::V6(v6) => PRIVATE_V6.iter().any(|&(net, len)| {
            Ipv6Net::new(Ipv6Addr::from(net), len).is_ok_and(|n| n.contains(&v6))
        }),
    }
}
