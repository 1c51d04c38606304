//! WASI sockets (`wasi:sockets` 0.2 and 0.3, implemented by wasmtime-wasi),
//! under the manifest's allow list, as in Spin:
//!
//! - a TCP connect is allowed when `allowed_outbound_hosts` grants
//!   `tcp://<address>:<port>` (a `*` scheme too), a UDP destination when it
//!   grants `udp://<address>:<port>`; destinations are addresses, so an
//!   entry must name an address or a CIDR block (or `*`), never a domain;
//! - an address in `[outbound_networking] block_networks` is refused
//!   whatever the manifest says;
//! - listening is always refused, and so is binding anywhere but the
//!   wildcard address with port 0 (what a connect, or a first UDP send,
//!   does on its own): a guest never receives a connection, nor datagrams
//!   on a port of its choosing;
//! - a component with no `tcp`, `udp` or `*` entry that can match an
//!   address cannot create a socket of that kind;
//! - no component looks names up (`wasi:sockets/ip-name-lookup` is off, as
//!   in Spin): a name lookup would send queries of the guest's choosing to
//!   the host's resolver, outside any grant. (`spin py2wasm`'s SDK answers
//!   `getaddrinfo` for IP literals and `localhost` itself.)
//!
//! A refusal fails the call with `access-denied` and is logged with the
//! entry that would allow it. How many sockets a guest may hold open is
//! [`held`]'s business.

pub mod held;

use std::net::SocketAddr;
use std::sync::Arc;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::sockets::SocketAddrUse;

use crate::app::ComponentConfig;
use spin_outbound_networking::{AllowedHosts, BlockedNetworks, OutboundTarget};

/// The destinations whose refusal was logged, per component: each is
/// logged once, so that a guest retrying in a loop does not flood the log.
#[derive(Debug, Default)]
pub struct RefusalLog(std::sync::Mutex<std::collections::HashSet<String>>);

/// Distinct destinations remembered; past it, refusals go unlogged.
const MAX_REMEMBERED_REFUSALS: usize = 256;

impl RefusalLog {
    /// Whether a refusal of `what` should be logged now.
    fn first(&self, what: &str) -> bool {
        let Ok(mut seen) = self.0.lock() else {
            return true;
        };
        if seen.contains(what) || seen.len() >= MAX_REMEMBERED_REFUSALS {
            return false;
        }
        seen.insert(what.to_owned())
    }
}

/// Which kinds of socket a component's allow list grants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketGrants {
    /// Some entry allows `tcp` (or any scheme).
    pub tcp: bool,
    /// Some entry allows `udp` (or any scheme).
    pub udp: bool,
}

impl SocketGrants {
    /// The grants of `allowed`. Entries naming domains for `tcp` or `udp`
    /// are logged: they can never match (a socket connects to an address).
    pub fn of(component: &str, allowed: &AllowedHosts) -> Self {
        for scheme in ["tcp", "udp"] {
            for domain in allowed.domains_for(scheme) {
                tracing::warn!(
                    "component `{component}`: the allowed_outbound_hosts entry for `{scheme}://{domain}` names a host, and sockets connect to addresses, so it allows nothing (as in Spin)\n\nhint: write the address or a CIDR block instead, as in `{scheme}://127.0.0.1:6379` or `{scheme}://10.0.0.0/8:*`"
                );
            }
        }
        Self {
            tcp: allowed.grants_addresses("tcp"),
            udp: allowed.grants_addresses("udp"),
        }
    }
}

/// Opens the socket kinds `config` grants on `wasi`, each use checked by
/// `permits`. Without grants nothing changes: wasmtime-wasi denies
/// sockets by default (and name lookups always).
pub(crate) fn apply(wasi: &mut WasiCtxBuilder, config: &Arc<ComponentConfig>) {
    let grants = config.socket_grants;
    if grants == SocketGrants::default() {
        return;
    }
    let config = config.clone();
    wasi.allow_tcp(grants.tcp)
        .allow_udp(grants.udp)
        .socket_addr_check(move |addr, use_| {
            let allowed = permits(&config, addr, use_);
            Box::pin(async move { allowed })
        });
}

/// Whether `config`'s component may use `addr` as `use_`; a refusal is
/// logged with what to do about it.
fn permits(config: &ComponentConfig, addr: SocketAddr, use_: SocketAddrUse) -> bool {
    let blocked = config.services.blocked_networks();
    let decision = decide(&config.allowed_hosts, blocked, addr, use_);
    if matches!(use_, SocketAddrUse::UdpReceive) {
        // Anyone may send a datagram: dropping it is not worth a log line.
        return decision == Decision::Allow;
    }
    let first = |what: &str| config.socket_refusals.first(what);
    let refusal = match decision {
        Decision::Allow => return true,
        // The guest asked for an explicit bind; nothing worth a log line.
        Decision::Bind => return false,
        Decision::Listen => {
            if first("listen") {
                tracing::warn!(
                    "component `{}` may not listen on a TCP socket: a component never accepts connections (logged once)",
                    config.id
                );
            }
            return false;
        }
        Decision::NotGranted(target) | Decision::Blocked(target, _) if !first(&target) => {
            return false;
        }
        Decision::NotGranted(target) => format!(
            "component `{}` may not connect to `{target}`: its allowed_outbound_hosts does not grant it (logged once per destination)\n\nhint: add `{target}` to the component's `allowed_outbound_hosts` in {}",
            config.id,
            config.manifest_path.display()
        ),
        Decision::Blocked(target, rule) => format!(
            "component `{}` may not connect to `{target}`: {}, which is blocked by {rule} (logged once per destination)\n\nhint: the runtime config file forbids this address; use a server outside the blocked networks, or change the rule",
            config.id,
            addr.ip(),
        ),
    };
    tracing::warn!("{refusal}");
    false
}

/// What becomes of one use of a socket address.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Allow,
    /// A bind other than the implicit one.
    Bind,
    Listen,
    /// `tcp://addr:port` or `udp://addr:port`, not in the allow list.
    NotGranted(String),
    /// That destination, and the rule of `block_networks` it falls under.
    Blocked(String, String),
}

/// The allow list and the blocked networks applied to `addr` used as `use_`.
fn decide(
    allowed: &AllowedHosts,
    blocked: &BlockedNetworks,
    addr: SocketAddr,
    use_: SocketAddrUse,
) -> Decision {
    let scheme = match use_ {
        // Only the implicit bind of a connect or a first send.
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
            return if addr.ip().is_unspecified() && addr.port() == 0 {
                Decision::Allow
            } else {
                Decision::Bind
            };
        }
        SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => return Decision::Listen,
        SocketAddrUse::TcpConnect => "tcp",
        // A datagram is received only from a destination the guest may
        // send to.
        SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => "udp",
    };
    let target = OutboundTarget::socket(scheme, addr);
    // Formatted only for a refusal: an allowed connect allocates nothing.
    let shown = || format!("{scheme}://{}:{}", target.host, target.port);
    // The blocked networks first: for an address that is both, the
    // manifest entry a hint would suggest could not help.
    if let Some(rule) = blocked.blocking(addr.ip()) {
        return Decision::Blocked(shown(), rule.to_string());
    }
    if !allowed.allows(&target) {
        return Decision::NotGranted(shown());
    }
    Decision::Allow
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_outbound_networking::{BlockRule, BlockedRange};

    #[test]
    fn connects_and_sends_follow_the_allow_list_then_the_blocked_networks() {
        let allowed = AllowedHosts::parse(&[
            "tcp://127.0.0.1:6379",
            "udp://10.0.0.0/8:53",
            "tcp://[::1]:*",
        ])
        .unwrap();
        let blocked = BlockedNetworks::new(vec![BlockRule {
            range: BlockedRange::parse("10.9.0.0/16").unwrap(),
            origin: "rc.toml:2".into(),
        }]);
        let decide = |addr: &str, use_| decide(&allowed, &blocked, addr.parse().unwrap(), use_);
        use SocketAddrUse::*;
        assert_eq!(decide("127.0.0.1:6379", TcpConnect), Decision::Allow);
        // Another port, another scheme.
        assert_eq!(
            decide("127.0.0.1:6380", TcpConnect),
            Decision::NotGranted("tcp://127.0.0.1:6380".into())
        );
        assert!(matches!(
            decide("127.0.0.1:6379", UdpSend),
            Decision::NotGranted(_)
        ));
        assert_eq!(decide("10.1.2.3:53", UdpSend), Decision::Allow);
        // Datagrams come in only from where they may go.
        assert_eq!(decide("10.1.2.3:53", UdpReceive), Decision::Allow);
        assert!(matches!(
            decide("10.1.2.3:54", UdpReceive),
            Decision::NotGranted(_)
        ));
        // An IPv4-mapped address is the IPv4 one.
        assert_eq!(
            decide("[::ffff:127.0.0.1]:6379", TcpConnect),
            Decision::Allow
        );
        assert_eq!(decide("[::1]:9", TcpConnect), Decision::Allow);
        // Granted, but in a blocked network.
        assert!(matches!(
            decide("10.9.1.1:53", UdpSend),
            Decision::Blocked(target, rule) if target == "udp://10.9.1.1:53" && rule.contains("10.9.0.0/16")
        ));
    }

    #[test]
    fn only_the_implicit_bind_is_allowed_and_listening_never() {
        let allowed = AllowedHosts::parse(&["*://*:*"]).unwrap();
        let blocked = BlockedNetworks::default();
        let decide = |addr: &str, use_| decide(&allowed, &blocked, addr.parse().unwrap(), use_);
        use SocketAddrUse::*;
        assert_eq!(decide("0.0.0.0:0", TcpBind), Decision::Allow);
        assert_eq!(decide("[::]:0", UdpBind), Decision::Allow);
        assert_eq!(decide("0.0.0.0:8080", TcpBind), Decision::Bind);
        assert_eq!(decide("127.0.0.1:0", UdpBind), Decision::Bind);
        assert_eq!(decide("0.0.0.0:0", TcpListen), Decision::Listen);
        assert_eq!(decide("127.0.0.1:5000", TcpAccept), Decision::Listen);
        assert_eq!(decide("127.0.0.1:9", TcpConnect), Decision::Allow);
    }
}
