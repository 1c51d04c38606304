//! `fermyon:spin/key-value` (Spin 1): the 2.0 operations, with a store
//! named by the index of its entry in the instance's table, and a missing
//! key an error as Spin 1 had it.

use super::*;
use crate::capabilities::bindings::key_value::HostStore;
use crate::capabilities::bindings::v1::key_value::{Error as V1Error, Host};

/// A 2.0 error as Spin 1 reported it.
fn v1_error(error: Error) -> V1Error {
    match error {
        Error::StoreTableFull => V1Error::StoreTableFull,
        Error::NoSuchStore => V1Error::NoSuchStore,
        Error::AccessDenied => V1Error::AccessDenied,
        Error::Other(message) => V1Error::Io(message),
    }
}

impl Host for ConnectionState {
    async fn open(&mut self, name: String) -> wasmtime::Result<Result<u32, V1Error>> {
        Ok(HostStore::open(self, name)
            .await?
            .map(|store| store.rep())
            .map_err(v1_error))
    }

    async fn get(&mut self, store: u32, key: String) -> wasmtime::Result<Result<Vec<u8>, V1Error>> {
        let Some(store) = self.numbered::<KeyValueStore>(store) else {
            return Ok(Err(V1Error::InvalidStore));
        };
        Ok(match HostStore::get(self, store, key).await? {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(V1Error::NoSuchKey),
            Err(e) => Err(v1_error(e)),
        })
    }

    async fn set(
        &mut self,
        store: u32,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), V1Error>> {
        let Some(store) = self.numbered::<KeyValueStore>(store) else {
            return Ok(Err(V1Error::InvalidStore));
        };
        Ok(HostStore::set(self, store, key, value)
            .await?
            .map_err(v1_error))
    }

    async fn delete(&mut self, store: u32, key: String) -> wasmtime::Result<Result<(), V1Error>> {
        let Some(store) = self.numbered::<KeyValueStore>(store) else {
            return Ok(Err(V1Error::InvalidStore));
        };
        Ok(HostStore::delete(self, store, key).await?.map_err(v1_error))
    }

    async fn exists(&mut self, store: u32, key: String) -> wasmtime::Result<Result<bool, V1Error>> {
        let Some(store) = self.numbered::<KeyValueStore>(store) else {
            return Ok(Err(V1Error::InvalidStore));
        };
        Ok(HostStore::exists(self, store, key).await?.map_err(v1_error))
    }

    async fn get_keys(&mut self, store: u32) -> wasmtime::Result<Result<Vec<String>, V1Error>> {
        let Some(store) = self.numbered::<KeyValueStore>(store) else {
            return Ok(Err(V1Error::InvalidStore));
        };
        Ok(HostStore::get_keys(self, store).await?.map_err(v1_error))
    }

    async fn close(&mut self, store: u32) -> wasmtime::Result<()> {
        self.close_numbered::<KeyValueStore>(store)
    }
}
