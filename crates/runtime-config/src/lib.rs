//! Spin's runtime configuration file (`spin up --runtime-config-file`): where
//! key-value stores and SQLite databases live, where variable values come
//! from, and the state and log directories. It lets an operator change these
//! without touching the application.
//!
//! The file is checked completely before anything starts: an unknown table,
//! key or store type is an error naming the file, line and key.
//!
//! This crate is pure (no wasmtime, no tokio), so `spin up` can check the
//! file before it compiles anything, and the parser can be fuzzed alone.
//!
//! ```
//! use std::path::Path;
//! use spin_runtime_config::{KeyValueBackend, RuntimeConfig};
//!
//! let text = "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1\"\n";
//! let config = RuntimeConfig::parse(text, Path::new("runtime-config.toml")).unwrap();
//! let stores = config.stores(Some(Path::new(".spin")));
//! assert!(matches!(stores.key_value["cache"], KeyValueBackend::Redis { .. }));
//! assert!(stores.key_value.contains_key("default"));
//! ```

#![deny(missing_docs)]

pub mod client_tls;
pub mod connection_limits;
mod error;
pub mod key_value;
pub mod llm;
pub mod outbound_http;
pub mod outbound_mqtt;
pub mod outbound_networking;
mod parse;
pub mod sqlite;
mod table;
pub mod variables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use client_tls::ClientTls;
pub use connection_limits::{ConnectionLimits, Outbound};
pub use error::{ErrorKind, RuntimeConfigError};
pub use key_value::KeyValueBackend;
pub use llm::{LlmApi, LlmCompute, RemoteLlm};
pub use outbound_http::OutboundHttpConfig;
pub use outbound_mqtt::OutboundMqttConfig;
pub use spin_outbound_networking::BlockedNetworks;
pub use sqlite::DatabaseLocation;
pub use variables::VariablesProviderConfig;

/// The label every application may use without configuration.
pub const DEFAULT_LABEL: &str = "default";
/// The file behind the `default` key-value store (Spin's name for it).
const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";
/// The file behind the `default` SQLite database (Spin's name for it).
const DEFAULT_DATABASE_FILE: &str = "sqlite_db.db";

/// What a runtime config file says. Relative paths are already resolved the
/// way Spin resolves them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConfig {
    /// Top-level `state_dir`, relative to the current directory.
    pub state_dir: Option<DirSetting>,
    /// Top-level `log_dir`, relative to the current directory.
    pub log_dir: Option<DirSetting>,
    /// Top-level `max_instance_memory`, in bytes.
    pub max_instance_memory: Option<usize>,
    /// `[key_value_store.<label>]` tables.
    pub key_value_stores: BTreeMap<String, KeyValueBackend>,
    /// `[sqlite_database.<label>]` tables.
    pub sqlite_databases: BTreeMap<String, DatabaseLocation>,
    /// The `sqlite_database` labels with `allow_attach_file = true`, whose
    /// statements may `ATTACH` (and `VACUUM INTO`) files.
    pub sqlite_attach_allowed: BTreeSet<String>,
    /// `[[variables_provider]]` (or `[[config_provider]]`) entries, highest
    /// priority first.
    pub variables_providers: Vec<VariablesProviderConfig>,
    /// `[outbound_networking] block_networks`: addresses no outbound
    /// connection may reach, each rule with the file and line it came from.
    pub blocked_networks: BlockedNetworks,
    /// `[[client_tls]]` entries, in file order (the first to cover a
    /// component and host applies).
    pub client_tls: Vec<ClientTls>,
    /// `[outbound_http]`: connection reuse.
    pub outbound_http: OutboundHttpConfig,
    /// `[outbound_mqtt]`: the largest message a component may publish.
    pub outbound_mqtt: OutboundMqttConfig,
    /// `[llm_compute]`: where the LLM interface's calls run.
    pub llm_compute: LlmCompute,
    /// The caps on outbound connections: `max_connections` of each
    /// `[outbound_*]` table, and `[outbound_networking]`'s
    /// `max_total_connections` and `max_socket_connections`.
    pub connection_limits: ConnectionLimits,
}

/// A directory setting: a path, or `""`, which Spin reads as "none".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirSetting {
    /// Use this directory.
    Path(PathBuf),
    /// No directory: default stores are kept in memory, logs are not written.
    Disabled,
}

impl DirSetting {
    /// Reads a path from a flag or file, where an empty one means "none".
    pub fn from_path(path: &Path) -> Self {
        if path.as_os_str().is_empty() {
            Self::Disabled
        } else {
            Self::Path(path.to_owned())
        }
    }

    fn into_option(self) -> Option<PathBuf> {
        match self {
            Self::Path(path) => Some(path),
            Self::Disabled => None,
        }
    }
}

/// The key-value stores and databases an application can open, by label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stores {
    /// Key-value stores.
    pub key_value: BTreeMap<String, KeyValueBackend>,
    /// SQLite databases.
    pub sqlite: BTreeMap<String, DatabaseLocation>,
    /// SQLite database labels whose statements may attach files
    /// (`allow_attach_file = true`); every other database may attach only
    /// in-memory or temporary databases.
    pub sqlite_attach_allowed: BTreeSet<String>,
}

impl RuntimeConfig {
    /// Reads and checks the runtime config file at `path`.
    pub fn load(path: &Path) -> Result<Self, RuntimeConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| RuntimeConfigError::unlocated(path, ErrorKind::Read { error }))?;
        Self::parse(&text, path)
    }

    /// Checks runtime config text; `path` names the file in errors, and its
    /// directory is the base of key-value stores' relative `path`s.
    pub fn parse(text: &str, path: &Path) -> Result<Self, RuntimeConfigError> {
        parse::parse(text, path)
    }

    /// The state directory: `--state-dir`, else the file's `state_dir`, else
    /// `.spin` in `app_dir`. `None` when set to `""`.
    pub fn state_dir(&self, flag: Option<&Path>, app_dir: &Path) -> Option<PathBuf> {
        flag.map(DirSetting::from_path)
            .or_else(|| self.state_dir.clone())
            .unwrap_or_else(|| DirSetting::Path(app_dir.join(".spin")))
            .into_option()
    }

    /// The log directory: `--log-dir`, else the file's `log_dir`, else
    /// `logs` in the state directory. `None` when set to `""` or when there
    /// is no state directory.
    pub fn log_dir(&self, flag: Option<&Path>, state_dir: Option<&Path>) -> Option<PathBuf> {
        match flag
            .map(DirSetting::from_path)
            .or_else(|| self.log_dir.clone())
        {
            Some(setting) => setting.into_option(),
            None => state_dir.map(|dir| dir.join("logs")),
        }
    }

    /// Every store and database label, with Spin's `default` ones added
    /// unless the file configures them: files in `state_dir`, or memory when
    /// there is none.
    pub fn stores(&self, state_dir: Option<&Path>) -> Stores {
        let in_state_dir = |file: &str| match state_dir {
            Some(dir) => DatabaseLocation::File(dir.join(file)),
            None => DatabaseLocation::Memory,
        };
        let mut stores = Stores {
            key_value: self.key_value_stores.clone(),
            sqlite: self.sqlite_databases.clone(),
            sqlite_attach_allowed: self.sqlite_attach_allowed.clone(),
        };
        stores
            .key_value
            .entry(DEFAULT_LABEL.into())
            .or_insert_with(|| KeyValueBackend::Sqlite(in_state_dir(DEFAULT_KEY_VALUE_FILE)));
        stores
            .sqlite
            .entry(DEFAULT_LABEL.into())
            .or_insert_with(|| in_state_dir(DEFAULT_DATABASE_FILE));
        stores
    }
}

/// A component that uses a store or database no one defined.
#[derive(Debug, thiserror::Error)]
pub enum UndefinedLabel {
    /// A `key_value_stores` label.
    #[error("component `{component}` uses the key-value store `{label}`, which is not defined")]
    KeyValue {
        /// The component.
        component: String,
        /// The label.
        label: String,
    },
    /// A `sqlite_databases` label.
    #[error("component `{component}` uses the SQLite database `{label}`, which is not defined")]
    Sqlite {
        /// The component.
        component: String,
        /// The label.
        label: String,
    },
}

impl UndefinedLabel {
    /// What to do about it: the runtime config table that defines the label.
    pub fn hint(&self) -> String {
        let (what, table, label) = match self {
            Self::KeyValue { label, .. } => ("store", "key_value_store", label),
            Self::Sqlite { label, .. } => ("database", "sqlite_database", label),
        };
        format!(
            "only `default` exists without configuration; define the {what} in a runtime config file passed with `--runtime-config-file`:\n    [{table}.{label}]\n    type = \"spin\"\n    path = \"{label}.db\""
        )
    }
}

/// The message with its hint kept apart, for the CLI to print last.
impl From<&UndefinedLabel> for spin_hint::Hinted {
    fn from(error: &UndefinedLabel) -> Self {
        spin_hint::Hinted::new(error.to_string(), error.hint())
    }
}

impl Stores {
    /// Checks that every label `component` lists is defined, as Spin does
    /// at startup, so a typo fails before serving rather than per request.
    pub fn check(&self, component: &spin_manifest::Component) -> Result<(), UndefinedLabel> {
        let undefined = |labels: &[String], defined: &dyn Fn(&str) -> bool| {
            labels.iter().find(|l| !defined(l)).cloned()
        };
        if let Some(label) = undefined(&component.key_value_stores, &|l| {
            self.key_value.contains_key(l)
        }) {
            return Err(UndefinedLabel::KeyValue {
                component: component.id.clone(),
                label,
            });
        }
        if let Some(label) = undefined(&component.sqlite_databases, &|l| {
            self.sqlite.contains_key(l)
        }) {
            return Err(UndefinedLabel::Sqlite {
                component: component.id.clone(),
                label,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> RuntimeConfig {
        RuntimeConfig::parse(text, Path::new("conf/rc.toml")).unwrap()
    }

    #[test]
    fn state_dir_precedence_is_flag_then_file_then_default() {
        let app = Path::new("/app");
        let none = RuntimeConfig::default();
        assert_eq!(none.state_dir(None, app), Some(PathBuf::from("/app/.spin")));
        let file = config("state_dir = \"/state\"");
        assert_eq!(file.state_dir(None, app), Some(PathBuf::from("/state")));
        assert_eq!(
            file.state_dir(Some(Path::new("/flag")), app),
            Some(PathBuf::from("/flag"))
        );
        assert_eq!(file.state_dir(Some(Path::new("")), app), None);
        assert_eq!(config("state_dir = \"\"").state_dir(None, app), None);
    }

    #[test]
    fn log_dir_defaults_to_the_state_dir() {
        let state = Some(Path::new("/state"));
        let none = RuntimeConfig::default();
        assert_eq!(
            none.log_dir(None, state),
            Some(PathBuf::from("/state/logs"))
        );
        assert_eq!(none.log_dir(None, None), None);
        let file = config("log_dir = \"logs\"");
        assert_eq!(file.log_dir(None, state), Some(PathBuf::from("logs")));
        assert_eq!(
            file.log_dir(Some(Path::new("/flag")), state),
            Some(PathBuf::from("/flag"))
        );
        assert_eq!(config("log_dir = \"\"").log_dir(None, state), None);
    }

    #[test]
    fn defaults_are_added_unless_configured() {
        let stores = RuntimeConfig::default().stores(Some(Path::new("/s")));
        assert_eq!(
            stores.key_value["default"],
            KeyValueBackend::Sqlite(DatabaseLocation::File("/s/sqlite_key_value.db".into()))
        );
        assert_eq!(
            stores.sqlite["default"],
            DatabaseLocation::File("/s/sqlite_db.db".into())
        );
        let memory = RuntimeConfig::default().stores(None);
        assert_eq!(memory.sqlite["default"], DatabaseLocation::Memory);

        let configured = config(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://h\"\n[sqlite_database.default]\ntype = \"spin\"\n",
        )
        .stores(Some(Path::new("/s")));
        assert_eq!(
            configured.key_value["default"],
            KeyValueBackend::Redis {
                url: "redis://h".into()
            }
        );
        assert_eq!(configured.sqlite["default"], DatabaseLocation::Memory);
    }

    #[test]
    fn undefined_labels_name_the_component_and_the_fix() {
        let manifest = "spin_manifest_version = 2\n[application]\nname = \"a\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\nkey_value_stores = [\"default\", \"cache\"]\nsqlite_databases = [\"default\"]\n";
        let app = spin_manifest::parse(manifest, Path::new("spin.toml")).unwrap();
        let component = &app.components[0];
        let err = RuntimeConfig::default()
            .stores(None)
            .check(component)
            .unwrap_err();
        // The hint is data, printed once by the CLI, not part of the message.
        let hinted = spin_hint::Hinted::from(&err);
        assert_eq!(
            hinted.message,
            "component `c` uses the key-value store `cache`, which is not defined"
        );
        assert_eq!(hinted.message, err.to_string());
        assert!(
            hinted
                .hint
                .contains("[key_value_store.cache]\n    type = \"spin\"\n    path = \"cache.db\""),
            "{}",
            hinted.hint
        );

        let manifest = manifest.replace("[\"default\"]\n", "[\"default\", \"users\"]\n");
        let app = spin_manifest::parse(&manifest, Path::new("spin.toml")).unwrap();
        let err = defined_stores().check(&app.components[0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "component `c` uses the SQLite database `users`, which is not defined"
        );
        assert_eq!(
            err.hint(),
            "only `default` exists without configuration; define the database in a runtime config file passed with `--runtime-config-file`:\n    [sqlite_database.users]\n    type = \"spin\"\n    path = \"users.db\""
        );
        assert!(defined_stores().check(component).is_ok());
    }

    fn defined_stores() -> Stores {
        config("[key_value_store.cache]\ntype = \"spin\"\n").stores(None)
    }
}
