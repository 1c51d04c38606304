//! `spin:redis@3.0.0`: the same operations as `async func`s.

use super::*;
use crate::capabilities::bindings::v3::redis::{
    Error as E3, Host, HostConnection, HostConnectionWithStore, RedisParameter as P3,
    RedisResult as R3,
};
use wasmtime::component::Accessor;

impl From<Error> for E3 {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidAddress => Self::InvalidAddress,
            Error::TooManyConnections => Self::TooManyConnections,
            Error::TypeError => Self::TypeError,
            Error::Other(m) => Self::Other(m),
        }
    }
}

impl From<P3> for RedisParameter {
    fn from(p: P3) -> Self {
        match p {
            P3::Int64(i) => Self::Int64(i),
            P3::Binary(b) => Self::Binary(b),
        }
    }
}

impl From<RedisResult> for R3 {
    fn from(r: RedisResult) -> Self {
        match r {
            RedisResult::Nil => Self::Nil,
            RedisResult::Status(s) => Self::Status(s),
            RedisResult::Int64(i) => Self::Int64(i),
            RedisResult::Binary(b) => Self::Binary(b),
        }
    }
}

impl Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        close(self, conn)
    }
}

/// A 2.0 result as the 3.0 one.
fn v3<T>(result: wasmtime::Result<Result<T, Error>>) -> wasmtime::Result<Result<T, E3>> {
    Ok(result?.map_err(E3::from))
}

impl<T: 'static> HostConnectionWithStore<T> for Connections {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, E3>> {
        v3(super::open(accessor, address).await)
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), E3>> {
        v3(run(accessor, &conn, cmd("PUBLISH", (channel, payload)), false).await)
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, E3>> {
        v3(run(accessor, &conn, cmd("GET", key), false).await)
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), E3>> {
        v3(run(accessor, &conn, cmd("SET", (key, value)), false).await)
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, E3>> {
        v3(run(accessor, &conn, cmd("INCR", key), false).await)
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, E3>> {
        v3(run(accessor, &conn, cmd("DEL", keys), false).await)
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, E3>> {
        v3(run(accessor, &conn, cmd("SADD", (key, values)), false).await)
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, E3>> {
        v3(run(accessor, &conn, cmd("SMEMBERS", key), false).await)
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, E3>> {
        v3(run(accessor, &conn, cmd("SREM", (key, values)), false).await)
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        conn: Resource<RedisConnection>,
        command: String,
        arguments: Vec<P3>,
    ) -> wasmtime::Result<Result<Vec<R3>, E3>> {
        let arguments = arguments.into_iter().map(RedisParameter::from).collect();
        let results = super::execute(accessor, &conn, command, arguments).await?;
        Ok(results
            .map(|r| r.into_iter().map(R3::from).collect())
            .map_err(E3::from))
    }
}
