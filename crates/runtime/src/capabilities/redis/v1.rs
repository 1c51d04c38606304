//! `fermyon:spin/redis` (Spin 1): every command names its server, so each
//! opens a connection (from the pool) under the same allow list, runs as a
//! 2.0 command does, and gives the connection back. Spin 1 reports every
//! failure as `error`; why is logged for the developer.

use super::*;
use crate::capabilities::bindings::v1::redis::Host;
use crate::capabilities::bindings::v1::redis_types::{
    self, Error as V1Error, RedisParameter as V1Parameter, RedisResult as V1Result,
};

impl redis_types::Host for ConnectionState {}

/// Runs `cmd` on a connection to `address`, then gives it back.
async fn command<T: redis::FromRedisValue>(
    state: &mut ConnectionState,
    address: String,
    cmd: redis::Cmd,
    breaks_session: bool,
) -> wasmtime::Result<Result<T, V1Error>> {
    let conn = match open(&mut *state, address.clone()).await? {
        Ok(conn) => conn,
        Err(e) => return Ok(Err(failed(state, &address, &e))),
    };
    let result = run::<T>(&mut *state, &conn, cmd, breaks_session).await?;
    close(state, conn)?;
    Ok(result.map_err(|e| failed(state, &address, &e)))
}

/// Logs why a command to `address` failed; Spin 1's error for it.
fn failed(state: &ConnectionState, address: &str, error: &Error) -> V1Error {
    tracing::warn!(
        "component `{}`: a Redis command to `{}` failed: {error:?}",
        state.component.id,
        spin_outbound_networking::redact_url(address),
    );
    V1Error::Error
}

impl Host for ConnectionState {
    async fn publish(
        &mut self,
        address: String,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), V1Error>> {
        command(self, address, cmd("PUBLISH", (channel, payload)), false).await
    }

    async fn get(
        &mut self,
        address: String,
        key: String,
    ) -> wasmtime::Result<Result<Vec<u8>, V1Error>> {
        // A key without a value reads as an empty payload, as in Spin 1.
        let value = command::<Option<Vec<u8>>>(self, address, cmd("GET", key), false).await?;
        Ok(value.map(Option::unwrap_or_default))
    }

    async fn set(
        &mut self,
        address: String,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), V1Error>> {
        command(self, address, cmd("SET", (key, value)), false).await
    }

    async fn incr(
        &mut self,
        address: String,
        key: String,
    ) -> wasmtime::Result<Result<i64, V1Error>> {
        command(self, address, cmd("INCR", key), false).await
    }

    async fn del(
        &mut self,
        address: String,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<i64, V1Error>> {
        command(self, address, cmd("DEL", keys), false).await
    }

    async fn sadd(
        &mut self,
        address: String,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<i64, V1Error>> {
        command(self, address, cmd("SADD", (key, values)), false).await
    }

    async fn smembers(
        &mut self,
        address: String,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, V1Error>> {
        command(self, address, cmd("SMEMBERS", key), false).await
    }

    async fn srem(
        &mut self,
        address: String,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<i64, V1Error>> {
        command(self, address, cmd("SREM", (key, values)), false).await
    }

    async fn execute(
        &mut self,
        address: String,
        command_name: String,
        arguments: Vec<V1Parameter>,
    ) -> wasmtime::Result<Result<Vec<V1Result>, V1Error>> {
        let conn = match open(&mut *self, address.clone()).await? {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(failed(self, &address, &e))),
        };
        let arguments = arguments
            .into_iter()
            .map(|a| match a {
                V1Parameter::Int64(i) => RedisParameter::Int64(i),
                V1Parameter::Binary(b) => RedisParameter::Binary(b),
            })
            .collect();
        let reply = execute(&mut *self, &conn, command_name, arguments).await?;
        close(self, conn)?;
        Ok(match reply {
            Ok(results) => Ok(results
                .into_iter()
                .map(|r| match r {
                    RedisResult::Nil => V1Result::Nil,
                    RedisResult::Status(s) => V1Result::Status(s),
                    RedisResult::Int64(i) => V1Result::Int64(i),
                    RedisResult::Binary(b) => V1Result::Binary(b),
                })
                .collect()),
            Err(e) => Err(failed(self, &address, &e)),
        })
    }
}
