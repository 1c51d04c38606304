//! `--max-connections-per-client`: one client may hold at most so many
//! connections at once, so that a single client cannot take every slot of
//! `--max-connections` from the others (each slot it holds idle costs it
//! nothing). A client is an IPv4 address, or an IPv6 /64: one host is
//! usually given a whole /64, and could otherwise take an address of it per
//! connection. Past the cap its new connection is closed at once (it can
//! use those it has), logged once for each client's run of them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// The open connections of each client, against a cap.
#[derive(Debug)]
pub(crate) struct ClientConnections {
    max: usize,
    clients: Mutex<HashMap<IpAddr, Client>>,
}

/// One client's connections.
#[derive(Debug, Default)]
struct Client {
    /// Open now.
    open: usize,
    /// Closed at once since it last had one admitted.
    refused: u64,
}

/// One open connection of a client; dropping it closes its place.
#[derive(Debug)]
pub(crate) struct ClientSlot {
    owner: Arc<ClientConnections>,
    client: IpAddr,
}

impl ClientConnections {
    /// At most `max` connections per client.
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            clients: Mutex::default(),
        })
    }

    /// A place for a new connection from `address`, or `None` (logged once
    /// for the client's run of refusals) when that client has `max` open.
    pub(crate) fn admit(self: &Arc<Self>, address: IpAddr) -> Option<ClientSlot> {
        let client = client_of(address);
        let (admitted, refused) = {
            let mut clients = self.clients.lock().expect("client connection lock");
            let entry = clients.entry(client).or_default();
            if entry.open < self.max {
                entry.open += 1;
                (true, std::mem::take(&mut entry.refused))
            } else {
                entry.refused += 1;
                (false, entry.refused)
            }
        };
        if !admitted {
            if refused == 1 {
                tracing::warn!(
                    "{} has {} connections open, the most one client may; its new ones are closed at once (logged once until it has one admitted again)\n\nhint: raise it with `spin up --max-connections-per-client <N>`; behind a reverse proxy, every client comes from the proxy's address",
                    shown(client),
                    self.max
                );
            }
            return None;
        }
        log_refused(client, refused);
        Some(ClientSlot {
            owner: self.clone(),
            client,
        })
    }
}

/// Ends a client's run of refusals in the log.
fn log_refused(client: IpAddr, refused: u64) {
    if refused > 0 {
        tracing::info!(
            "{}: {refused} connections were closed at once past `--max-connections-per-client`",
            shown(client)
        );
    }
}

/// A client as the log shows it: an IPv6 one as its /64.
fn shown(client: IpAddr) -> String {
    match client {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{v6}/64"),
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut clients = self.owner.clients.lock().expect("client connection lock");
        if let Some(entry) = clients.get_mut(&self.client) {
            entry.open -= 1;
            if entry.open == 0 {
                let refused = entry.refused;
                clients.remove(&self.client);
                drop(clients);
                log_refused(self.client, refused);
            }
        }
    }
}

/// The client `address` belongs to: an IPv4 address (written as IPv6 or
/// not), or the /64 of an IPv6 one.
fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_cap_and_a_place_back_when_one_closes() {
        let clients = ClientConnections::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = clients.admit(a).unwrap();
        let _second = clients.admit(a).unwrap();
        assert!(clients.admit(a).is_none());
        assert!(
            clients.admit(b).is_some(),
            "another client is not held back"
        );
        drop(first);
        assert!(clients.admit(a).is_some());
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let clients = ClientConnections::new(1);
        let _one = clients.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(
            clients
                .admit("2001:db8:1:2:ffff::9".parse().unwrap())
                .is_none()
        );
        assert!(clients.admit("2001:db8:1:3::1".parse().unwrap()).is_some());
        let _v4 = clients.admit("192.0.2.7".parse().unwrap()).unwrap();
        assert!(clients.admit("::ffff:192.0.2.7".parse().unwrap()).is_none());
    }

    #[test]
    fn nothing_is_kept_for_a_client_with_no_connections() {
        let clients = ClientConnections::new(3);
        let slot = clients.admit("10.0.0.1".parse().unwrap()).unwrap();
        drop(slot);
        assert!(clients.clients.lock().unwrap().is_empty());
    }
}
