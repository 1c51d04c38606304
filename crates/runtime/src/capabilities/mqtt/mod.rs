//! Outbound MQTT (`fermyon:spin/mqtt@2.0.0`): publish to a broker the
//! component's `allowed_outbound_hosts` lists.
//!
//! A connection is the guest's own: the host drives its event loop inside
//! the guest's calls, so `open` returns once the broker accepted the client
//! and `publish` once the message is as delivered as its QoS asks (sent for
//! at-most-once, acknowledged for at-least-once, completed for exactly-once).
//!
//! Its functions reach only its own per-instance state (a
//! [`ConnectionState`]: the component's grants and the guest's connections).

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasmtime::component::Resource;

use crate::capabilities;
use crate::capabilities::access::InstanceAccess;
use crate::capabilities::allow_list::AddressRefused;
use crate::capabilities::allow_list::OutboundDenied;
use crate::capabilities::bindings::mqtt::{Error, Qos};
use crate::capabilities::connection_quota::ConnectionPermit;
use crate::capabilities::connections::{ConnectionState, Connections};
use crate::runtime_config::Outbound;
use std::sync::Arc;
use wasmtime::component::Linker;

/// How long to wait for the broker to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a publish may take to be sent and acknowledged.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest message either way; MQTT allows up to 256 MiB, rumqttc's
/// default is 10 KiB.
const MAX_PACKET_SIZE: usize = 16 * 1024 * 1024;

/// A guest's connection to a broker.
pub struct MqttConnection {
    client: AsyncClient,
    /// Driven by whichever call waits on the broker; shared so that no
    /// call holds the instance's state while it waits.
    events: Arc<tokio::sync::Mutex<EventLoop>>,
    /// Its place under the runtime config's connection caps.
    _permit: ConnectionPermit,
}

/// A client id unique to this process, as brokers drop a second client that
/// connects with the id of one already connected.
fn client_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "spin-{}-{}-{nanos:x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `events` until `done` accepts one, failing on a connection error
/// or after `limit`.
async fn drive(
    events: &mut EventLoop,
    limit: Duration,
    mut done: impl FnMut(&Event) -> bool,
) -> Result<(), String> {
    let wait = async {
        loop {
            match events.poll().await {
                Ok(event) if done(&event) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .unwrap_or_else(|_| Err(format!("no answer from the broker in {limit:?}")))
}

/// Connects to the broker at `address`, if the component's allowed hosts
/// grant it.
async fn open(
    mut state: impl InstanceAccess<ConnectionState>,
    address: String,
    username: String,
    password: String,
    keep_alive_interval_in_secs: u64,
) -> wasmtime::Result<Result<Resource<MqttConnection>, Error>> {
    let service = &capabilities::allow_list::MQTT;
    let component = state.with_state(|state| state.component.clone());
    let checked = match capabilities::allow_list::checked_address(&component, service, &address)
        .await
    {
        Ok(checked) => checked,
        Err(AddressRefused::Denied(OutboundDenied::InvalidAddress)) => {
            return Ok(Err(Error::InvalidAddress));
        }
        Err(AddressRefused::Denied(denied)) => {
            let reason = denied.reason(service, &address);
            return Ok(Err(Error::ConnectionFailed(reason)));
        }
        Err(AddressRefused::Blocked(reason)) => return Ok(Err(Error::ConnectionFailed(reason))),
    };
    if !state.with_state(|state| state.has_room("MQTT connections")) {
        return Ok(Err(Error::TooManyConnections));
    }
    let quotas = &component.services.connection_quotas;
    let Ok(permit) = quotas.acquire_for(&component.id, Outbound::Mqtt).await else {
        return Ok(Err(Error::TooManyConnections));
    };
    // As in Spin, `?client_id=` chooses the id the broker sees.
    let id = checked
        .url
        .query_pairs()
        .find(|(k, _)| k == "client_id")
        .map_or_else(client_id, |(_, v)| v.into_owned());
    // rumqttc joins host and port as `host:port`: an IPv6 address needs
    // its brackets.
    let host = if checked.host.contains(':') {
        format!("[{}]", checked.host)
    } else {
        checked.host.clone()
    };
    let mut options = MqttOptions::new(id, host, checked.port);
    // rumqttc takes whole seconds; MQTT's field is 16 bits.
    options
        .set_keep_alive(Duration::from_secs(
            keep_alive_interval_in_secs.min(u16::MAX.into()),
        ))
        .set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE);
    if !username.is_empty() || !password.is_empty() {
        options.set_credentials(username, password);
    }
    let (client, mut events) = AsyncClient::new(options, 16);
    let connected = drive(&mut events, CONNECT_TIMEOUT, |e| {
        matches!(e, Event::Incoming(Packet::ConnAck(_)))
    })
    .await;
    if let Err(e) = connected {
        return Ok(Err(Error::ConnectionFailed(format!(
            "cannot connect to the MQTT broker at {}:{}: {e}",
            checked.host, checked.port
        ))));
    }
    let conn = MqttConnection {
        client,
        events: Arc::new(tokio::sync::Mutex::new(events)),
        _permit: permit,
    };
    let handle = state.with_state(|state| state.push_handle(conn, "MQTT connections"))?;
    Ok(handle.ok_or(Error::TooManyConnections))
}

/// Publishes `payload` on `topic` and waits for the delivery `qos` asks for.
async fn publish(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<MqttConnection>,
    topic: String,
    payload: Vec<u8>,
    qos: Qos,
) -> wasmtime::Result<Result<(), Error>> {
    let (client, events, max_payload) = state.with_state(|state| -> wasmtime::Result<_> {
        let max_payload = state.component.services.mqtt_max_payload;
        let conn = state.connections.get(conn)?;
        Ok((conn.client.clone(), conn.events.clone(), max_payload))
    })?;
    if let Some(max) = max_payload
        && payload.len() > max
    {
        // Spin's words, with the setting to change.
        return Ok(Err(Error::Other(format!(
            "payload size {} exceeds the maximum allowed size of {max} bytes (the runtime config's `[outbound_mqtt] max_payload_size_bytes`)",
            payload.len()
        ))));
    }
    let qos = match qos {
        Qos::AtMostOnce => QoS::AtMostOnce,
        Qos::AtLeastOnce => QoS::AtLeastOnce,
        Qos::ExactlyOnce => QoS::ExactlyOnce,
    };
    // One publish at a time on a connection, from handing the message over
    // to its delivery: the events say "a publish was sent" or "acked", not
    // which one, so two in flight (`asyncio.gather`) could take each
    // other's.
    let mut events = events.lock().await;
    // The request queue is bounded: with the broker gone it fills up,
    // and a publish must not wait past the timeout for room.
    match tokio::time::timeout(PUBLISH_TIMEOUT, client.publish(topic, qos, false, payload)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Ok(Err(Error::Other(e.to_string()))),
        Err(_) => {
            return Ok(Err(Error::Other(
                "the broker is not accepting messages".into(),
            )));
        }
    }
    let delivered = drive(&mut events, PUBLISH_TIMEOUT, |e| match qos {
        QoS::AtMostOnce => matches!(e, Event::Outgoing(Outgoing::Publish(_))),
        QoS::AtLeastOnce => matches!(e, Event::Incoming(Packet::PubAck(_))),
        QoS::ExactlyOnce => matches!(e, Event::Incoming(Packet::PubComp(_))),
    })
    .await;
    Ok(delivered.map_err(Error::Other))
}

/// Disconnects politely, in the background.
fn close(state: &mut ConnectionState, conn: Resource<MqttConnection>) -> wasmtime::Result<()> {
    let MqttConnection { client, events, .. } = state.connections.delete(conn)?;
    // Say goodbye so the broker does not treat this as a lost client.
    if client.try_disconnect().is_ok() {
        tokio::spawn(async move {
            let _ = drive(&mut *events.lock().await, Duration::from_secs(1), |e| {
                matches!(e, Event::Outgoing(Outgoing::Disconnect))
            })
            .await;
        });
    }
    Ok(())
}

/// Registers every version of the MQTT interfaces
/// (`fermyon:spin/mqtt@2.0.0`, `spin:mqtt@3.0.0`), each reaching the
/// instance's [`ConnectionState`] through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut ConnectionState,
) -> anyhow::Result<()> {
    capabilities::bindings::mqtt::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::mqtt::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

mod v2;

mod v3;
