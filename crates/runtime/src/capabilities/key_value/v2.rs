//! `fermyon:spin/key-value@2.0.0`.

use super::*;
use crate::capabilities::bindings::key_value::{Host, HostStore};

impl Host for ConnectionState {}

impl HostStore for ConnectionState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KeyValueStore>, Error>> {
        super::open(self, label).await
    }

    async fn get(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(backend(self, &store)?.get(key).await)
    }

    async fn set(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(backend(self, &store)?.set(key, value).await)
    }

    async fn delete(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(backend(self, &store)?.delete(key).await)
    }

    async fn exists(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(backend(self, &store)?.exists(key).await)
    }

    async fn get_keys(
        &mut self,
        store: Resource<KeyValueStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(backend(self, &store)?.get_keys().await)
    }

    async fn drop(&mut self, store: Resource<KeyValueStore>) -> wasmtime::Result<()> {
        self.connections.delete(store)?;
        Ok(())
    }
}
