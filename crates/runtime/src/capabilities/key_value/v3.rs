//! `spin:key-value@3.0.0`: the same operations as `async func`s; the key
//! listing is a stream.

use super::*;
use crate::capabilities::access::stream_of;
use crate::capabilities::bindings::v3::key_value::{
    Error as E3, Host, HostStore, HostStoreWithStore,
};
use wasmtime::component::{Accessor, FutureReader, StreamReader};

impl From<Error> for E3 {
    fn from(e: Error) -> Self {
        match e {
            Error::StoreTableFull => Self::StoreTableFull,
            Error::NoSuchStore => Self::NoSuchStore,
            Error::AccessDenied => Self::AccessDenied,
            Error::Other(m) => Self::Other(m),
        }
    }
}

impl Host for ConnectionState {}

impl HostStore for ConnectionState {
    async fn drop(&mut self, store: Resource<KeyValueStore>) -> wasmtime::Result<()> {
        self.connections.delete(store)?;
        Ok(())
    }
}

impl<T: 'static> HostStoreWithStore<T> for Connections {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KeyValueStore>, E3>> {
        Ok(super::open(accessor, label).await?.map_err(E3::from))
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, E3>> {
        Ok(backend(accessor, &store)?.get(key).await.map_err(E3::from))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<KeyValueStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), E3>> {
        Ok(backend(accessor, &store)?
            .set(key, value)
            .await
            .map_err(E3::from))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), E3>> {
        Ok(backend(accessor, &store)?
            .delete(key)
            .await
            .map_err(E3::from))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, E3>> {
        Ok(backend(accessor, &store)?
            .exists(key)
            .await
            .map_err(E3::from))
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<KeyValueStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), E3>>)> {
        let listed = backend(accessor, &store)?.get_keys().await;
        let (keys, outcome) = match listed {
            Ok(keys) => (keys, Ok(())),
            Err(e) => (Vec::new(), Err(E3::from(e))),
        };
        stream_of(accessor, keys, outcome)
    }
}
