//! Key-value storage (`fermyon:spin/key-value@2.0.0`). The `default` store is
//! an SQLite file in the state directory, as in Spin; a component may open
//! only the stores its manifest lists in `key_value_stores`.

use std::sync::{Arc, Mutex};
use wasmtime::component::Resource;

use crate::capabilities::bindings::key_value::{Error, Host, HostStore};
use crate::state::HostState;

/// The file behind the `default` store (Spin's name for it).
const DEFAULT_STORE_FILE: &str = "sqlite_key_value.db";

/// A guest's handle on an open store.
pub struct KeyValueStore {
    label: String,
    db: Arc<Mutex<rusqlite::Connection>>,
}

impl KeyValueStore {
    /// Runs `f` on the store's database off the async threads.
    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, Error> {
        let db = self.db.clone();
        let label = self.label.clone();
        tokio::task::spawn_blocking(move || {
            let conn = db.lock().expect("key-value database lock");
            f(&conn, &label)
        })
        .await
        .map_err(|e| Error::Other(e.to_string()))?
        .map_err(|e| Error::Other(e.to_string()))
    }
}

impl HostState {
    fn kv(&self, store: &Resource<KeyValueStore>) -> wasmtime::Result<&KeyValueStore> {
        Ok(self.table.get(store)?)
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
        if label != "default" {
            return Ok(Err(Error::NoSuchStore));
        }
        let db = match self.component.services.database(DEFAULT_STORE_FILE) {
            Ok(db) => db,
            Err(e) => return Ok(Err(Error::Other(format!("{e:#}")))),
        };
        let store = KeyValueStore { label, db };
        if let Err(e) = store
            .with_db(|conn, _| {
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
                    [],
                )
            })
            .await
        {
            return Ok(Err(e));
        }
        Ok(Ok(self.table.push(store)?))
    }

    async fn get(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(self
            .kv(&store)?
            .with_db(move |conn, label| {
                use rusqlite::OptionalExtension;
                conn.query_row(
                    "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
                    (label, &key),
                    |row| row.get(0),
                )
                .optional()
            })
            .await)
    }

    async fn set(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self
            .kv(&store)?
            .with_db(move |conn, label| {
                conn.execute(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                    (label, &key, &value),
                )
                .map(drop)
            })
            .await)
    }

    async fn delete(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self
            .kv(&store)?
            .with_db(move |conn, label| {
                conn.execute(
                    "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2",
                    (label, &key),
                )
                .map(drop)
            })
            .await)
    }

    async fn exists(
        &mut self,
        store: Resource<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(self
            .kv(&store)?
            .with_db(move |conn, label| {
                conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2)",
                    (label, &key),
                    |row| row.get(0),
                )
            })
            .await)
    }

    async fn get_keys(
        &mut self,
        store: Resource<KeyValueStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self
            .kv(&store)?
            .with_db(|conn, label| {
                let mut stmt =
                    conn.prepare("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
                stmt.query_map([label], |row| row.get(0))?.collect()
            })
            .await)
    }

    async fn drop(&mut self, store: Resource<KeyValueStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
