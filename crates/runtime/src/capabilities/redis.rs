//! Outbound Redis (`fermyon:spin/redis@2.0.0`). Connections are multiplexed
//! and pooled per address for the whole application, so a request only pays
//! for the TCP handshake the first time an address is used. The address must
//! be allowed by the component's `allowed_outbound_hosts`.

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use std::collections::HashMap;
use std::time::Duration;
use wasmtime::component::Resource;

use crate::capabilities;
use crate::capabilities::bindings::redis::{
    Error, Host, HostConnection, RedisParameter, RedisResult,
};
use crate::state::HostState;

/// How long to wait for a Redis server to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A guest's handle on a connection.
pub struct RedisConnection {
    conn: MultiplexedConnection,
}

/// Connections shared by all requests, one per address.
#[derive(Default)]
pub struct RedisPool {
    connections: tokio::sync::Mutex<HashMap<String, MultiplexedConnection>>,
}

impl RedisPool {
    pub(crate) async fn connect(&self, address: &str) -> Result<MultiplexedConnection, Error> {
        let mut connections = self.connections.lock().await;
        if let Some(conn) = connections.get(address) {
            return Ok(conn.clone());
        }
        let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection())
            .await
            .map_err(|_| Error::Other(format!("timed out connecting to Redis at {address}")))?
            .map_err(|e| Error::Other(format!("cannot connect to Redis at {address}: {e}")))?;
        connections.insert(address.to_string(), conn.clone());
        Ok(conn)
    }

    /// Forgets a connection that failed, so the next request reconnects.
    pub(crate) async fn forget(&self, address: &str) {
        self.connections.lock().await.remove(address);
    }
}

impl HostState {
    fn redis_conn(
        &self,
        conn: &Resource<RedisConnection>,
    ) -> wasmtime::Result<MultiplexedConnection> {
        Ok(self.table.get(conn)?.conn.clone())
    }
}

/// Runs one command with the command timeout, mapping failures to the
/// guest-visible error.
async fn run<T>(fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T, Error> {
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if e.kind() == redis::ErrorKind::TypeError => Err(Error::TypeError),
        Ok(Err(e)) => Err(Error::Other(e.to_string())),
        Err(_) => Err(Error::Other("the Redis command timed out".into())),
    }
}

impl Host for HostState {}

impl HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        // Redis's error type has no "denied" case; Spin reports both as an
        // invalid address too.
        if self
            .connection_allowed(&capabilities::REDIS, &address)
            .is_err()
        {
            return Ok(Err(Error::InvalidAddress));
        }
        let conn = match self.component.services.redis.connect(&address).await {
            Ok(conn) => conn,
            Err(e) => {
                self.component.services.redis.forget(&address).await;
                return Ok(Err(e));
            }
        };
        Ok(Ok(self.table.push(RedisConnection { conn })?))
    }

    async fn publish(
        &mut self,
        conn: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.publish::<_, _, ()>(channel, payload)).await)
    }

    async fn get(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.get::<_, Option<Vec<u8>>>(key)).await)
    }

    async fn set(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.set::<_, _, ()>(key, value)).await)
    }

    async fn incr(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.incr::<_, _, i64>(key, 1)).await)
    }

    async fn del(
        &mut self,
        conn: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.del::<_, u32>(keys)).await)
    }

    async fn sadd(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.sadd::<_, _, u32>(key, values)).await)
    }

    async fn smembers(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.smembers::<_, Vec<String>>(key)).await)
    }

    async fn srem(
        &mut self,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut c = self.redis_conn(&conn)?;
        Ok(run(c.srem::<_, _, u32>(key, values)).await)
    }

    async fn execute(
        &mut self,
        conn: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let mut c = self.redis_conn(&conn)?;
        let mut cmd = redis::cmd(&command);
        for arg in arguments {
            match arg {
                RedisParameter::Int64(i) => cmd.arg(i),
                RedisParameter::Binary(b) => cmd.arg(b),
            };
        }
        Ok(run(cmd.query_async::<redis::Value>(&mut c))
            .await
            .map(|value| {
                let mut results = Vec::new();
                flatten(value, &mut results);
                results
            }))
    }

    async fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

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
