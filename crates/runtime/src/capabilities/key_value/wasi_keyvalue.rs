//! `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch), on the same
//! stores and grants as `spin:key-value`: the identifier is a store label.

use super::*;
use crate::capabilities::bindings::v3::keyvalue::{atomics, batch, store};
use crate::capabilities::connections::TOO_MANY_CONNECTIONS;

fn error(e: Error) -> store::Error {
    match e {
        Error::NoSuchStore => store::Error::NoSuchStore,
        Error::AccessDenied => store::Error::AccessDenied,
        Error::StoreTableFull => store::Error::Other("too many stores are open".into()),
        Error::Other(m) => store::Error::Other(m),
    }
}

impl store::Host for ConnectionState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<KeyValueStore>, store::Error>> {
        Ok(super::open(self, identifier).await?.map_err(error))
    }
}

impl store::HostBucket for ConnectionState {
    async fn get(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        Ok(backend(self, &bucket)?.get(key).await.map_err(error))
    }

    async fn set(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(backend(self, &bucket)?.set(key, value).await.map_err(error))
    }

    async fn delete(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(backend(self, &bucket)?.delete(key).await.map_err(error))
    }

    async fn exists(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, store::Error>> {
        Ok(backend(self, &bucket)?.exists(key).await.map_err(error))
    }

    /// Every key in one page, as Spin answers.
    async fn list_keys(
        &mut self,
        bucket: Resource<KeyValueStore>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<store::KeyResponse, store::Error>> {
        let keys = backend(self, &bucket)?.get_keys().await;
        Ok(keys
            .map(|keys| store::KeyResponse { keys, cursor: None })
            .map_err(error))
    }

    async fn drop(&mut self, bucket: Resource<KeyValueStore>) -> wasmtime::Result<()> {
        self.connections.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for ConnectionState {
    async fn increment(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, store::Error>> {
        let backend = backend(self, &bucket)?;
        Ok(backend.increment(key, delta).await.map_err(error))
    }

    async fn swap(
        &mut self,
        cas: Resource<KeyValueCas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let KeyValueCas {
            store,
            key,
            current,
        } = self.connections.delete(cas)?;
        match store.compare_and_swap(key.clone(), current, value).await {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // A fresh handle on the value that won, to retry with.
                let current = match store.get(key.clone()).await {
                    Ok(current) => current,
                    Err(e) => return Ok(Err(atomics::CasError::StoreError(error(e)))),
                };
                let cas = self.connections.push(KeyValueCas {
                    store,
                    key,
                    current,
                })?;
                Ok(Err(atomics::CasError::CasFailed(cas)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(error(e)))),
        }
    }
}

impl atomics::HostCas for ConnectionState {
    async fn new(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<KeyValueCas>, store::Error>> {
        let store = backend(&mut *self, &bucket)?;
        let current = match store.get(key.clone()).await {
            Ok(current) => current,
            Err(e) => return Ok(Err(error(e))),
        };
        let cas = KeyValueCas {
            store,
            key,
            current,
        };
        Ok(self
            .push_handle(cas, "key-value stores and compare-and-swap handles")?
            .ok_or_else(|| store::Error::Other(TOO_MANY_CONNECTIONS.to_owned())))
    }

    async fn current(
        &mut self,
        cas: Resource<KeyValueCas>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        Ok(Ok(self.connections.get(&cas)?.current.clone()))
    }

    async fn drop(&mut self, cas: Resource<KeyValueCas>) -> wasmtime::Result<()> {
        self.connections.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for ConnectionState {
    async fn get_many(
        &mut self,
        bucket: Resource<KeyValueStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, store::Error>> {
        let store = backend(self, &bucket)?;
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            match store.get(key.clone()).await {
                Ok(value) => values.push((key, value)),
                Err(e) => return Ok(Err(error(e))),
            }
        }
        Ok(Ok(values))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KeyValueStore>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let store = backend(self, &bucket)?;
        for (key, value) in key_values {
            if let Err(e) = store.set(key, value).await {
                return Ok(Err(error(e)));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KeyValueStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let store = backend(self, &bucket)?;
        for key in keys {
            if let Err(e) = store.delete(key).await {
                return Ok(Err(error(e)));
            }
        }
        Ok(Ok(()))
    }
}
