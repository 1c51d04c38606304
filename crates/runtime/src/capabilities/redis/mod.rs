//! Outbound Redis (`fermyon:spin/redis@2.0.0`). The address must be
//! allowed by the component's `allowed_outbound_hosts`, and must not
//! resolve into a blocked network.
//!
//! A guest's connection is its own: `execute` can change a session (`SELECT`,
//! `AUTH`, `MULTI`, `CLIENT REPLY OFF`, `SUBSCRIBE`), so connections are
//! never shared between two opens. A closed connection is kept for the next
//! `open` of the same address only once Redis's `RESET` has put its session
//! back to what a fresh connection has (the URL's credentials and database
//! are applied again); a connection that ran a command that changes how
//! replies flow (`CLIENT`, `SUBSCRIBE`, `MONITOR`, `HELLO`, ...), or that
//! failed, is closed instead. So a request pays for the TCP handshake only
//! the first time, and no session state crosses from one request to another.
//!
//! Key-value stores backed by Redis (runtime config) share one multiplexed
//! connection per URL ([`RedisPool::connect`]): they send only the host's
//! own commands.
//!
//! Every connection's replies are capped ([`reply_cap`]) at the most the
//! host reads for one result (`spin up --max-result-size`), so no reply
//! Redis sends can take the host's memory.

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use reply_cap::CappedConnection;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use wasmtime::component::Resource;

use crate::capabilities;
use crate::capabilities::access::InstanceAccess;
use crate::capabilities::allow_list::AddressRefused;
use crate::capabilities::bindings::redis::{Error, RedisParameter, RedisResult};
use crate::capabilities::connection_quota::ConnectionPermit;
use crate::capabilities::connections::{ConnectionState, Connections};
use crate::runtime_config::Outbound;
use spin_outbound_networking::redact_url;

/// How long to wait for a Redis server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long resetting a closed connection may take before it is dropped.
const RESET_TIMEOUT: Duration = Duration::from_secs(2);
/// Closed connections kept per address and credentials.
const MAX_IDLE_PER_ADDRESS: usize = 16;
/// Closed connections kept in all: each holds a socket open, and a guest
/// allowed many addresses (or databases: the index is part of the key)
/// could otherwise leave sixteen behind at each.
const MAX_IDLE: usize = 64;

/// Commands after which a connection is closed rather than reset and
/// reused: they change how replies flow (or may, e.g. `CLIENT REPLY OFF`,
/// `CLIENT SETNAME`, which `RESET` leaves), so a reused connection could
/// hand one request's replies to another.
const SESSION_BREAKING: &[&str] = &[
    "CLIENT",
    "HELLO",
    "MONITOR",
    "PSUBSCRIBE",
    "QUIT",
    "SSUBSCRIBE",
    "SUBSCRIBE",
    "SYNC",
    "PSYNC",
    "REPLCONF",
];

/// A guest's handle on its own connection.
pub struct RedisConnection {
    conn: CappedConnection,
    /// How it was opened, to restore the session before reuse.
    info: ConnectionInfo,
    /// Its idle list in the pool.
    key: String,
    /// False once a command may have left the session unfit for reuse.
    reusable: bool,
    /// Its place under the runtime config's connection caps.
    _permit: ConnectionPermit,
}

/// Redis connections of the application: shared ones for key-value stores,
/// and idle guest connections, reset, waiting for the next `open`.
pub struct RedisPool {
    connections: tokio::sync::Mutex<HashMap<String, CappedConnection>>,
    idle: Mutex<HashMap<String, Vec<CappedConnection>>>,
    /// The most bytes of one reply any of its connections reads.
    max_reply: usize,
}

/// Connects with `info` (over TLS to a certificate for `tls_name`, when
/// that is not the host in `info`), within [`CONNECT_TIMEOUT`], each reply
/// capped at `max_reply` bytes; `shown` is the address as it may be logged.
async fn open_connection(
    info: ConnectionInfo,
    tls_name: Option<&str>,
    shown: &str,
    max_reply: usize,
) -> Result<CappedConnection, Error> {
    let open = CappedConnection::open(&info, tls_name, max_reply);
    tokio::time::timeout(CONNECT_TIMEOUT, open)
        .await
        .map_err(|_| Error::Other(format!("timed out connecting to Redis at {shown}")))?
        .map_err(|e| Error::Other(format!("cannot connect to Redis at {shown}: {e}")))
}

impl RedisPool {
    /// A pool whose connections read at most `max_reply` bytes of one reply.
    pub fn new(max_reply: usize) -> Self {
        Self {
            connections: Default::default(),
            idle: Default::default(),
            max_reply,
        }
    }

    /// The connection shared by the key-value stores using `address`.
    pub(crate) async fn connect(&self, address: &str) -> Result<CappedConnection, Error> {
        let mut connections = self.connections.lock().await;
        if let Some(conn) = connections.get(address) {
            return Ok(conn.clone());
        }
        let info = address
            .into_connection_info()
            .map_err(|_| Error::InvalidAddress)?;
        let conn = open_connection(info, None, &redact_url(address), self.max_reply).await?;
        connections.insert(address.to_string(), conn.clone());
        Ok(conn)
    }

    /// Forgets a shared connection that failed, so the next use reconnects.
    pub(crate) async fn forget(&self, address: &str) {
        self.connections.lock().await.remove(address);
    }

    fn take_idle(&self, key: &str) -> Option<CappedConnection> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(key)?;
        let conn = list.pop();
        if list.is_empty() {
            idle.remove(key);
        }
        conn
    }

    /// Keeps `conn` for the next `open` of `key`, unless as many are kept
    /// already (then it closes as it drops).
    fn put_idle(&self, key: String, conn: CappedConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            let kept: usize = idle.values().map(Vec::len).sum();
            let list = idle.entry(key).or_default();
            if list.len() < MAX_IDLE_PER_ADDRESS && kept < MAX_IDLE {
                list.push(conn);
            }
        }
    }

    /// How many closed connections are kept.
    #[cfg(test)]
    fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .map_or(0, |idle| idle.values().map(Vec::len).sum())
    }
}

/// Puts a closed connection's session back to what `info` opens: `RESET`
/// (Redis 6.2+), then the URL's `AUTH` and `SELECT`. False when any step
/// fails or takes too long; the connection must then be closed.
async fn reset(conn: &mut CappedConnection, info: &ConnectionInfo) -> bool {
    let mut pipe = redis::pipe();
    pipe.cmd("RESET");
    if let Some(password) = &info.redis.password {
        let auth = pipe.cmd("AUTH");
        if let Some(user) = &info.redis.username {
            auth.arg(user);
        }
        auth.arg(password);
    }
    if info.redis.db != 0 {
        pipe.cmd("SELECT").arg(info.redis.db);
    }
    let replies = tokio::time::timeout(RESET_TIMEOUT, pipe.query_async::<Vec<redis::Value>>(conn));
    match replies.await {
        Ok(Ok(replies)) => {
            matches!(replies.first(), Some(redis::Value::SimpleString(s)) if s == "RESET")
                && replies[1..].iter().all(|r| matches!(r, redis::Value::Okay))
        }
        _ => false,
    }
}

/// Opens a connection of the guest's own to the Redis server at `address`,
/// if its allowed hosts grant it.
async fn open(
    mut state: impl InstanceAccess<ConnectionState>,
    address: String,
) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
    // Redis's error type has no "denied" case; Spin reports both as an
    // invalid address too.
    let component = state.with_state(|state| state.component.clone());
    let checked = match capabilities::allow_list::checked_address(
        &component,
        &capabilities::allow_list::REDIS,
        &address,
    )
    .await
    {
        Ok(checked) => checked,
        Err(AddressRefused::Denied(_)) => return Ok(Err(Error::InvalidAddress)),
        Err(AddressRefused::Blocked(reason)) => return Ok(Err(Error::Other(reason))),
    };
    let Ok(mut info) = address.as_str().into_connection_info() else {
        return Ok(Err(Error::InvalidAddress));
    };
    // Connect to the host that was checked (and, with blocked networks,
    // the address that was checked), not a re-parse of the URL; over TLS,
    // the certificate must be for the name that was checked.
    info.addr = match info.addr {
        ConnectionAddr::TcpTls {
            insecure,
            tls_params,
            ..
        } => ConnectionAddr::TcpTls {
            host: checked.host.clone(),
            port: checked.port,
            insecure,
            tls_params,
        },
        _ => ConnectionAddr::Tcp(checked.host.clone(), checked.port),
    };
    // The address with its credentials: a connection authenticated for
    // one user is never handed to an `open` for another.
    let key = format!("{address}\n{}", checked.host);
    if !state.with_state(|state| state.has_room("Redis connections")) {
        return Ok(Err(Error::TooManyConnections));
    }
    let quotas = &component.services.connection_quotas;
    let Ok(permit) = quotas.acquire_for(&component.id, Outbound::Redis).await else {
        return Ok(Err(Error::TooManyConnections));
    };
    let pool = &component.services.redis;
    let conn = match pool.take_idle(&key) {
        Some(conn) => conn,
        None => match open_connection(
            info.clone(),
            Some(&checked.name),
            &redact_url(&address),
            pool.max_reply,
        )
        .await
        {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(e)),
        },
    };
    let conn = RedisConnection {
        conn,
        info,
        key,
        reusable: true,
        _permit: permit,
    };
    let handle = state.with_state(|state| state.push_handle(conn, "Redis connections"))?;
    Ok(handle.ok_or(Error::TooManyConnections))
}

/// Runs `cmd` on the guest's connection `conn` within the command timeout,
/// mapping failures to the guest-visible error. A connection whose command
/// failed or timed out, or that ran a command that changes how replies
/// flow, is not reused: a reply may still be on its way.
async fn run<T: redis::FromRedisValue>(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<RedisConnection>,
    cmd: redis::Cmd,
    breaks_session: bool,
) -> wasmtime::Result<Result<T, Error>> {
    let mut c = state.with_state(|state| -> wasmtime::Result<_> {
        let guest = state.connections.get_mut(conn)?;
        if breaks_session {
            guest.reusable = false;
        }
        Ok(guest.conn.clone())
    })?;
    let result = match tokio::time::timeout(COMMAND_TIMEOUT, cmd.query_async::<T>(&mut c)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if e.kind() == redis::ErrorKind::TypeError => Err(Error::TypeError),
        Ok(Err(e)) => Err(Error::Other(e.to_string())),
        Err(_) => Err(Error::Other("the Redis command timed out".into())),
    };
    if result.is_err() {
        state.with_state(|state| -> wasmtime::Result<()> {
            state.connections.get_mut(conn)?.reusable = false;
            Ok(())
        })?;
    }
    Ok(result)
}

/// `execute`: any command, its reply flattened as Spin does.
async fn execute(
    state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<RedisConnection>,
    command: String,
    arguments: Vec<RedisParameter>,
) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
    let breaks_session = SESSION_BREAKING.contains(&command.to_ascii_uppercase().as_str());
    let mut cmd = redis::cmd(&command);
    for arg in arguments {
        match arg {
            RedisParameter::Int64(i) => cmd.arg(i),
            RedisParameter::Binary(b) => cmd.arg(b),
        };
    }
    let reply = run::<redis::Value>(state, conn, cmd, breaks_session).await?;
    Ok(reply.map(|value| {
        let mut results = Vec::new();
        flatten(value, &mut results);
        results
    }))
}

/// Returns the guest's connection to the pool once its session is reset
/// (closes it under a cap that counts Redis connections).
fn close(state: &mut ConnectionState, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
    let RedisConnection {
        mut conn,
        info,
        key,
        reusable,
        ..
    } = state.connections.delete(conn)?;
    let services = state.component.services.clone();
    if reusable && services.keeps_idle(Outbound::Redis) {
        tokio::spawn(async move {
            if reset(&mut conn, &info).await {
                services.redis.put_idle(key, conn);
            }
        });
    }
    Ok(())
}

/// A command with its arguments.
fn cmd(name: &str, args: impl redis::ToRedisArgs) -> redis::Cmd {
    let mut cmd = redis::cmd(name);
    cmd.arg(args);
    cmd
}

/// Registers every version of the Redis interfaces
/// (`fermyon:spin/redis@2.0.0`, `spin:redis@3.0.0`), each reaching the
/// instance's Redis [`ConnectionState`] through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut ConnectionState,
) -> anyhow::Result<()> {
    capabilities::bindings::redis::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v1::redis::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v1::redis_types::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::redis::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

pub mod reply_cap;

mod v1;

mod v2;

mod v3;

/// Converts a reply into the flat list of results the interface returns
/// (arrays are flattened, as Spin does).
fn flatten(value: redis::Value, out: &mut Vec<RedisResult>) {
    use redis::Value;
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(i) => out.push(RedisResult::Int64(i)),
        Value::BulkString(b) => out.push(RedisResult::Binary(b)),
        Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        Value::Okay => out.push(RedisResult::Status("OK".into())),
        Value::Array(items) | Value::Set(items) => items.into_iter().for_each(|v| flatten(v, out)),
        Value::Map(pairs) => pairs.into_iter().for_each(|(k, v)| {
            flatten(k, out);
            flatten(v, out);
        }),
        Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        Value::Boolean(b) => out.push(RedisResult::Int64(b.into())),
        Value::VerbatimString { text, .. } => out.push(RedisResult::Binary(text.into_bytes())),
        Value::BigNumber(n) => out.push(RedisResult::Binary(n.to_string().into_bytes())),
        Value::Attribute { data, .. } => flatten(*data, out),
        Value::Push { data, .. } => data.into_iter().for_each(|v| flatten(v, out)),
        Value::ServerError(e) => out.push(RedisResult::Status(format!("{e:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the machine's Redis (the tests' real one).
    #[tokio::test]
    async fn closed_connections_are_kept_sixteen_an_address_and_sixty_four_in_all() {
        let pool = RedisPool::new(1 << 20);
        let connect = || async {
            let info = "redis://127.0.0.1:6379".into_connection_info().unwrap();
            open_connection(info, None, "127.0.0.1:6379", 1 << 20)
                .await
                .unwrap()
        };
        for _ in 0..20 {
            pool.put_idle("one".into(), connect().await);
        }
        assert_eq!(pool.idle_count(), MAX_IDLE_PER_ADDRESS);
        // Databases 0..9 of the same server: keys of their own, one cap.
        for db in 0..10 {
            for _ in 0..8 {
                pool.put_idle(format!("db{db}"), connect().await);
            }
        }
        assert_eq!(pool.idle_count(), MAX_IDLE);
        // Taken back, a key's list goes when empty.
        while pool.take_idle("one").is_some() {}
        assert_eq!(pool.idle_count(), MAX_IDLE - MAX_IDLE_PER_ADDRESS);
        assert!(!pool.idle.lock().unwrap().contains_key("one"));
    }
}
