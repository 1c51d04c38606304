//! The whole file: its top-level keys, each capability's table handed to
//! that capability's parser. Tables are visited in file order, so the first
//! problem reported is the first one in the file.

use std::path::Path;
use toml::de::DeTable;

use crate::error::{ErrorKind, RuntimeConfigError};
use crate::table::{File, Table};
use crate::{
    RuntimeConfig, client_tls, connection_limits, key_value, llm, outbound_http, outbound_mqtt,
    outbound_networking, sqlite, variables,
};

/// The top-level keys this host reads.
pub(super) const TOP_LEVEL_KEYS: &[&str] = &[
    "state_dir",
    "log_dir",
    "max_instance_memory",
    "key_value_store",
    "sqlite_database",
    "variables_provider",
    "config_provider",
    "outbound_networking",
    "client_tls",
    "outbound_http",
    "outbound_redis",
    "outbound_pg",
    "outbound_mysql",
    "outbound_mqtt",
    "llm_compute",
];

pub(super) fn parse(text: &str, path: &Path) -> Result<RuntimeConfig, RuntimeConfigError> {
    let file = File { path, text };
    let root = DeTable::parse(text).map_err(|e| {
        let message = e.message().trim().to_owned();
        file.error(e.span().unwrap_or(0..0), ErrorKind::Syntax { message })
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let top = Table::new(&file, String::new(), 0..0, root.get_ref());
    let mut config = RuntimeConfig::default();
    let mut providers_seen = false;
    for &(key, value) in &top.entries {
        match key.get_ref().as_ref() {
            "state_dir" => config.state_dir = Some(top.dir(key, value)?),
            "log_dir" => config.log_dir = Some(top.dir(key, value)?),
            "max_instance_memory" => config.max_instance_memory = Some(top.size(key, value)?),
            "key_value_store" => {
                for (label, store) in top.labelled(key, value)? {
                    let backend = key_value::parse_store(&store, base)?;
                    config.key_value_stores.insert(label, backend);
                }
            }
            "sqlite_database" => {
                for (label, database) in top.labelled(key, value)? {
                    let (location, allow_attach_file) = sqlite::parse_database(&database)?;
                    if allow_attach_file {
                        config.sqlite_attach_allowed.insert(label.clone());
                    }
                    config.sqlite_databases.insert(label, location);
                }
            }
            "variables_provider" | "config_provider" => {
                if providers_seen {
                    return Err(file.error(key.span(), ErrorKind::BothProviderLists));
                }
                providers_seen = true;
                for provider in top.array_of_tables(key, value)? {
                    config
                        .variables_providers
                        .push(variables::parse_provider(&provider)?);
                }
            }
            "client_tls" => {
                for entry in top.array_of_tables(key, value)? {
                    config
                        .client_tls
                        .push(client_tls::parse_entry(&entry, base)?);
                }
            }
            "outbound_http" => {
                let table = top.nested(key, value, "a table")?;
                config.outbound_http =
                    outbound_http::parse_table(&table, &mut config.connection_limits)?;
            }
            "outbound_networking" => {
                let table = top.nested(key, value, "a table")?;
                config.blocked_networks =
                    outbound_networking::parse_table(&table, &mut config.connection_limits)?;
            }
            "outbound_mqtt" => {
                let table = top.nested(key, value, "a table")?;
                config.outbound_mqtt =
                    outbound_mqtt::parse_table(&table, &mut config.connection_limits)?;
            }
            "llm_compute" => {
                let table = top.nested(key, value, "a table")?;
                config.llm_compute = llm::parse_table(&table)?;
            }
            other => match connection_limits::Outbound::of_table(other) {
                Some(kind) => {
                    let table = top.nested(key, value, "a table")?;
                    connection_limits::parse_table(&table, kind, &mut config.connection_limits)?;
                }
                None => return Err(top.unknown_key(key, TOP_LEVEL_KEYS)),
            },
        }
    }
    Ok(config)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{DatabaseLocation, DirSetting, KeyValueBackend, VariablesProviderConfig};

    /// `text` parsed as `conf/rc.toml`, which must be accepted.
    pub(crate) fn parse_ok(text: &str) -> RuntimeConfig {
        parse(text, Path::new("conf/rc.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Why `text`, parsed as `conf/rc.toml`, is rejected.
    pub(crate) fn parse_err(text: &str) -> RuntimeConfigError {
        parse(text, Path::new("conf/rc.toml")).expect_err("the config should be rejected")
    }

    #[test]
    fn reads_every_supported_table() {
        let config = parse_ok(
            r#"
state_dir = "state"
log_dir = ""
max_instance_memory = 1_048_576

[key_value_store.files]
type = "spin"
path = "data/kv.db"

[key_value_store.absolute]
type = "spin"
path = "/var/kv.db"

[key_value_store.memory]
type = "spin"

[key_value_store.cache]
type = "redis"
url = "redis://127.0.0.1:6379"

[sqlite_database.orders]
type = "spin"
path = "db/orders.db"
allow_attach_file = true

[[variables_provider]]
type = "static"
values = { api_key = "s3cret" }

[[variables_provider]]
type = "env"
prefix = "MYAPP"
dotenv_path = "vars.env"
"#,
        );
        assert_eq!(config.state_dir, Some(DirSetting::Path("state".into())));
        assert_eq!(config.log_dir, Some(DirSetting::Disabled));
        assert_eq!(config.max_instance_memory, Some(1 << 20));
        let kv = &config.key_value_stores;
        assert_eq!(
            kv["files"],
            KeyValueBackend::Sqlite(DatabaseLocation::File("conf/data/kv.db".into()))
        );
        assert_eq!(
            kv["absolute"],
            KeyValueBackend::Sqlite(DatabaseLocation::File("/var/kv.db".into()))
        );
        assert_eq!(
            kv["memory"],
            KeyValueBackend::Sqlite(DatabaseLocation::Memory)
        );
        assert_eq!(
            kv["cache"],
            KeyValueBackend::Redis {
                url: "redis://127.0.0.1:6379".into()
            }
        );
        assert_eq!(
            config.sqlite_databases["orders"],
            DatabaseLocation::File("db/orders.db".into())
        );
        assert_eq!(config.sqlite_attach_allowed, ["orders".to_string()].into());
        assert_eq!(
            config.variables_providers,
            vec![
                VariablesProviderConfig::Static {
                    values: [("api_key".to_string(), "s3cret".to_string())].into()
                },
                VariablesProviderConfig::Env {
                    prefix: Some("MYAPP".into()),
                    dotenv_path: Some("vars.env".into())
                }
            ]
        );
    }

    #[test]
    fn an_empty_file_configures_nothing() {
        assert_eq!(parse_ok(""), RuntimeConfig::default());
    }

    #[test]
    fn unknown_keys_are_located_and_list_the_allowed_ones() {
        let err = parse_err("[key_value_store.cache]\ntype = \"spin\"\npth = \"kv.db\"\n");
        assert_eq!(err.line(), Some(3));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "unknown key `pth` in `[key_value_store.cache]`\n  --> conf/rc.toml:3:1"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("hint: the keys allowed here are `type` and `path`"),
            "{text}"
        );

        let err = parse_err("state_dir = \"s\"\n\n[key_value_stores.x]\ntype = \"spin\"\n");
        assert_eq!(err.line(), Some(3));
        assert!(
            err.to_string()
                .contains("`key_value_store`, `sqlite_database`"),
            "{err}"
        );
    }

    #[test]
    fn types_are_required_and_checked() {
        let err = parse_err("[sqlite_database.db]\npath = \"x.db\"\n");
        assert!(matches!(
            err.kind(),
            ErrorKind::MissingKey { key: "type", .. }
        ));
        assert_eq!(err.line(), Some(1));
        assert!(err.to_string().contains("add `type = \"spin\"`"), "{err}");

        let err = parse_err("[sqlite_database.db]\ntype = \"libsql\"\nurl = \"x\"\n");
        assert!(matches!(err.kind(), ErrorKind::UnknownType { found, .. } if found == "libsql"));
        assert_eq!(err.line(), Some(2));

        let err = parse_err("[key_value_store.c]\ntype = \"azure_cosmos\"\n");
        assert!(
            err.to_string().contains("use one of `spin` and `redis`"),
            "{err}"
        );

        let err = parse_err("[[variables_provider]]\ntype = \"vault\"\nurl = \"x\"\n");
        assert!(err.to_string().contains("`env` and `static`"), "{err}");
    }

    #[test]
    fn values_of_the_wrong_type_are_rejected() {
        let err = parse_err("[key_value_store.c]\ntype = \"spin\"\npath = 3\n");
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "`path` in `[key_value_store.c]` must be a string, not an integer"
        );
        let err = parse_err("max_instance_memory = -1\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }));
        let err = parse_err("[variables_provider]\ntype = \"env\"\n");
        assert!(err.to_string().contains("array of tables"), "{err}");
        let err = parse_err("[key_value_store]\ntype = \"spin\"\n");
        assert!(err.to_string().contains("must be a table"), "{err}");
        let err = parse_err("[[variables_provider]]\ntype = \"static\"\nvalues = { a = 1 }\n");
        assert!(
            err.to_string()
                .contains("`a` in `[[variables_provider].values]`"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse_err("state_dir = \"s\"\n[key_value_store.c\n");
        assert!(matches!(err.kind(), ErrorKind::Syntax { .. }));
        assert_eq!(err.line(), Some(2));
    }
}
