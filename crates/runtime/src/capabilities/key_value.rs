//! Key-value storage (`fermyon:spin/key-value@2.0.0`). A component may open
//! only the stores its manifest lists in `key_value_stores`; where each
//! label's data lives comes from the runtime config file (the `default` store
//! is an SQLite file in the state directory unless configured otherwise).

mod backend;

use std::sync::Arc;
use wasmtime::component::Resource;

use crate::capabilities;
use crate::capabilities::access::InstanceAccess;
use crate::capabilities::bindings::key_value::Error;
use crate::capabilities::connections::{ConnectionState, Connections};
use crate::runtime_config::KeyValueBackend;
use crate::services::AppServices;
use backend::Backend;

/// Opens the store `label` wherever the runtime config puts it.
async fn open_store(services: &Arc<AppServices>, label: String) -> Result<Backend, Error> {
    match services.key_value_store(&label) {
        None => Err(Error::NoSuchStore),
        Some(KeyValueBackend::Redis { url }) => Backend::redis(url, services.clone()).await,
        Some(KeyValueBackend::Sqlite(location)) => {
            match services.database(&format!("key_value_store.{label}"), location) {
                Ok(db) => Backend::sqlite(db, label).await,
                Err(e) => Err(Error::Other(format!("{e:#}"))),
            }
        }
    }
}

/// `spin up --key-value`: writes `pairs` into the `default` store before
/// anything is served (a key given twice keeps its last value).
pub(crate) async fn seed_default_store(
    services: &Arc<AppServices>,
    pairs: &[(String, String)],
) -> anyhow::Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let store = open_store(services, "default".into()).await.map_err(|e| {
        anyhow::anyhow!("opening the default key-value store for `--key-value`: {e:?}")
    })?;
    for (key, value) in pairs {
        store
            .set(key.clone(), value.clone().into_bytes())
            .await
            .map_err(|e| anyhow::anyhow!("`--key-value {key}=...`: {e:?}"))?;
    }
    Ok(())
}

/// A guest's handle on an open store.
pub struct KeyValueStore(Arc<Backend>);

/// Opens the store `label` for the component, if its manifest grants it.
async fn open(
    mut state: impl InstanceAccess<ConnectionState>,
    label: String,
) -> wasmtime::Result<Result<Resource<KeyValueStore>, Error>> {
    let services = state.with_state(|state| {
        if state.component.key_value_stores.contains(&label) {
            return Ok(state.component.services.clone());
        }
        tracing::error!(
            "component `{}` opened the key-value store `{label}`, which it is not allowed to use\n\nhint: add `key_value_stores = [\"{label}\"]` to the component in `{}`",
            state.component.id,
            state.component.manifest_path.display()
        );
        Err(Error::AccessDenied)
    });
    let services = match services {
        Ok(services) => services,
        Err(e) => return Ok(Err(e)),
    };
    match open_store(&services, label).await {
        Ok(backend) => {
            let store = KeyValueStore(Arc::new(backend));
            Ok(Ok(state.push(store)?))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// The backend behind a guest's store handle.
fn backend(
    mut state: impl InstanceAccess<ConnectionState>,
    store: &Resource<KeyValueStore>,
) -> wasmtime::Result<Arc<Backend>> {
    state.with_state(|state| Ok(state.connections.get(store)?.0.clone()))
}

/// Registers every version of the key-value interfaces
/// (`fermyon:spin/key-value@2.0.0`, `spin:key-value@3.0.0`, `wasi:keyvalue`
/// draft2: store, atomics, batch), each reaching the instance's key-value
/// [`ConnectionState`] (its open stores) through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut ConnectionState,
) -> anyhow::Result<()> {
    capabilities::bindings::key_value::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::key_value::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::keyvalue::store::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::keyvalue::atomics::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::keyvalue::batch::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

/// `fermyon:spin/key-value@2.0.0`.
mod v2 {
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
}

/// A `wasi:keyvalue` compare-and-swap handle: the key and the value it held
/// when the handle was made.
pub struct KeyValueCas {
    store: Arc<Backend>,
    key: String,
    current: Option<Vec<u8>>,
}

/// `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch), on the same
/// stores and grants as `spin:key-value`: the identifier is a store label.
mod wasi_keyvalue {
    use super::*;
    use crate::capabilities::bindings::v3::keyvalue::{atomics, batch, store};

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
            Ok(Ok(self.connections.push(KeyValueCas {
                store,
                key,
                current,
            })?))
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
}

/// `spin:key-value@3.0.0`: the same operations as `async func`s; the key
/// listing is a stream.
mod v3 {
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
}
