//! Key-value storage (`fermyon:spin/key-value@2.0.0`). A component may open
//! only the stores its manifest lists in `key_value_stores`; where each
//! label's data lives comes from the runtime config file (the `default` store
//! is an SQLite file in the state directory unless configured otherwise).

mod backend;

use std::sync::Arc;
use wasmtime::component::Resource;

use crate::capabilities::bindings::key_value::{Error, Host, HostStore};
use crate::runtime_config::KeyValueBackend;
use crate::services::AppServices;
use crate::state::HostState;
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
pub struct KeyValueStore(Backend);

impl HostState {
    fn kv(&self, store: &Resource<KeyValueStore>) -> wasmtime::Result<&Backend> {
        Ok(&self.table.get(store)?.0)
    }
}

impl Host for HostState {}

impl HostStore for HostState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KeyValueStore>, Error>> {
        if !self.component.key_value_stores.contains(&label) {
            tracing::error!(
                "component `{}` opened the key-value store `{label}`, which it is not allowed to use\n\nhint: add `key_value_stores = [\"{label}\"]` to the component in `{}`",
                self.component.id,
                self.component.manifest_path.display()
            );
            return Ok(Err(Error::AccessDenied));
        }
        match open_store(&self.component.services, label).await {
            Ok(backend) => Ok(Ok(self.table.push(KeyValueStore(backend))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn get(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self.kv(&store)?.get(key).await)
    }

    async fn set(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.kv(&store)?.set(key, value).await)
    }

    async fn delete(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.kv(&store)?.delete(key).await)
    }

    async fn exists(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self.kv(&store)?.exists(key).await)
    }

    async fn get_keys(
        &mut self,
        store: Resource<KeyValueStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self.kv(&store)?.get_keys().await)
    }

    async fn drop(&mut self, store: Resource<KeyValueStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
