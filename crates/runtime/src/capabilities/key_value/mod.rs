//! Key-value storage (`fermyon:spin/key-value@2.0.0`). A component may open
//! only the stores its manifest lists in `key_value_stores`; where each
//! label's data lives comes from the runtime config file (the `default` store
//! is an SQLite file in the state directory unless configured otherwise).

mod backend;

/// This capability's runtime-config table, `[key_value_store.<label>]`:
/// parsed by the pure `spin-runtime-config` crate before anything
/// compiles; [`backend`] opens what it says.
pub use spin_runtime_config::key_value as runtime_config;

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
    if !state.with_state(|state| state.has_room("key-value stores")) {
        return Ok(Err(Error::StoreTableFull));
    }
    match open_store(&services, label).await {
        Ok(backend) => {
            let store = KeyValueStore(Arc::new(backend));
            let handle = state.with_state(|state| state.push_handle(store, "key-value stores"))?;
            Ok(handle.ok_or(Error::StoreTableFull))
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
    capabilities::bindings::v1::key_value::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::key_value::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::keyvalue::store::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::keyvalue::atomics::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::keyvalue::batch::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

mod v1;

mod v2;

/// A `wasi:keyvalue` compare-and-swap handle: the key and the value it held
/// when the handle was made.
pub struct KeyValueCas {
    store: Arc<Backend>,
    key: String,
    current: Option<Vec<u8>>,
}

mod wasi_keyvalue;

mod v3;
