//! Walks the parsed TOML, keeping spans, so that every problem points at the
//! key or value that causes it. Tables are visited in file order, so the
//! first problem reported is the first one in the file.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ErrorKind, RuntimeConfigError};
use super::{
    DatabaseLocation, DirSetting, KeyValueBackend, RuntimeConfig, VariablesProviderConfig,
};
use spin_outbound_networking::{BlockRule, BlockedNetworks, BlockedRange};

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
];

/// Spin runtime configuration that this host does not implement, reported
/// as unsupported rather than unknown.
const SPIN_ONLY_KEYS: &[&str] = &[
    "llm_compute",
    "client_tls",
    "outbound_http",
    "outbound_redis",
    "outbound_pg",
    "outbound_mysql",
    "outbound_mqtt",
];

type Key<'a> = Spanned<Cow<'a, str>>;
type Value<'a> = Spanned<DeValue<'a>>;

/// The file being parsed, for building located errors.
struct File<'a> {
    path: &'a Path,
    text: &'a str,
}

impl File<'_> {
    fn error(&self, span: Range<usize>, kind: ErrorKind) -> RuntimeConfigError {
        RuntimeConfigError::at(self.path, self.text, span, kind)
    }
}

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
                    let backend = key_value_store(&store, base)?;
                    config.key_value_stores.insert(label, backend);
                }
            }
            "sqlite_database" => {
                for (label, database) in top.labelled(key, value)? {
                    let (location, allow_attach_file) = sqlite_database(&database)?;
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
                        .push(variables_provider(&provider)?);
                }
            }
            "outbound_networking" => {
                let table = top.nested(key, value, "a table")?;
                config.blocked_networks = outbound_networking(&table)?;
            }
            other if SPIN_ONLY_KEYS.contains(&other) => {
                return Err(file.error(key.span(), ErrorKind::UnsupportedKey { key: other.into() }));
            }
            _ => return Err(top.unknown_key(key, TOP_LEVEL_KEYS)),
        }
    }
    Ok(config)
}

fn key_value_store(table: &Table, base: &Path) -> Result<KeyValueBackend, RuntimeConfigError> {
    const TYPES: &[&str] = &["spin", "redis"];
    let (kind, span) = table.kind(TYPES)?;
    match kind.as_str() {
        "spin" => {
            table.check_keys(&["type", "path"])?;
            let location = match table.string("path")? {
                // Relative to the runtime config file, as in Spin.
                Some(path) => DatabaseLocation::File(base.join(path)),
                None => DatabaseLocation::Memory,
            };
            Ok(KeyValueBackend::Sqlite(location))
        }
        "redis" => {
            table.check_keys(&["type", "url"])?;
            let url = table.required_string("url", "url = \"redis://127.0.0.1:6379\"")?;
            if let Err(reason) = check_redis_url(&url) {
                let span = table.get("url").map(|(_, v)| v.span()).unwrap_or(span);
                return Err(table
                    .file
                    .error(span, ErrorKind::InvalidRedisUrl { url, reason }));
            }
            Ok(KeyValueBackend::Redis { url })
        }
        _ => Err(table.unknown_type("key-value store", kind, span, TYPES)),
    }
}

/// Checks a Redis URL the way the Redis client will read it, without
/// depending on the client (this crate stays free of networking code).
fn check_redis_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    match parsed.scheme() {
        "redis" | "rediss" => {
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err("the URL has no host".into());
            }
            let db = parsed.path().trim_start_matches('/');
            if !db.is_empty() && db.parse::<u32>().is_err() {
                return Err(format!("`{db}` is not a database number"));
            }
            Ok(())
        }
        "redis+unix" | "unix" => Ok(()),
        other => Err(format!(
            "`{other}` is not a Redis scheme (use `redis`, `rediss` or `redis+unix`)"
        )),
    }
}

/// `[outbound_networking]`: `block_networks` is read; Spin's connection
/// limits are refused by name, since this host does not enforce them.
fn outbound_networking(table: &Table) -> Result<BlockedNetworks, RuntimeConfigError> {
    const KEYS: &[&str] = &[
        "block_networks",
        "max_socket_connections",
        "max_total_connections",
    ];
    table.check_keys(KEYS)?;
    for (key, _) in &table.entries {
        if key.get_ref().starts_with("max_") {
            return Err(table.file.error(
                key.span(),
                ErrorKind::UnsupportedKey {
                    key: table.child_name(key.get_ref()),
                },
            ));
        }
    }
    let Some((key, value)) = table.get("block_networks") else {
        return Ok(BlockedNetworks::default());
    };
    const EXPECTED: &str = "an array of CIDR blocks or \"private\"";
    let DeValue::Array(items) = value.get_ref() else {
        return Err(table.wrong_type(key, value, EXPECTED));
    };
    let file = table.file;
    let rules = items
        .iter()
        .map(|item| {
            let text = table.str(key, item)?;
            let range = BlockedRange::parse(&text).ok_or_else(|| {
                file.error(
                    item.span(),
                    ErrorKind::InvalidBlockedNetwork { entry: text },
                )
            })?;
            let line = file.text[..item.span().start].matches('\n').count() + 1;
            Ok(BlockRule {
                range,
                origin: format!("{}:{line}", file.path.display()),
            })
        })
        .collect::<Result<_, RuntimeConfigError>>()?;
    Ok(BlockedNetworks::new(rules))
}

/// The database's location, and whether its statements may attach files.
fn sqlite_database(table: &Table) -> Result<(DatabaseLocation, bool), RuntimeConfigError> {
    const TYPES: &[&str] = &["spin"];
    let (kind, span) = table.kind(TYPES)?;
    if kind != "spin" {
        return Err(table.unknown_type("SQLite database", kind, span, TYPES));
    }
    table.check_keys(&["type", "path", "allow_attach_file"])?;
    // Off by default, as in Spin: a statement that could attach any path
    // could read or overwrite any file the host user can.
    let allow_attach_file = table.boolean("allow_attach_file")?.unwrap_or(false);
    let location = match table.string("path")? {
        // Relative to the current directory, as in Spin.
        Some(path) => DatabaseLocation::File(PathBuf::from(path)),
        None => DatabaseLocation::Memory,
    };
    Ok((location, allow_attach_file))
}

fn variables_provider(table: &Table) -> Result<VariablesProviderConfig, RuntimeConfigError> {
    const TYPES: &[&str] = &["env", "static"];
    let (kind, span) = table.kind(TYPES)?;
    match kind.as_str() {
        "env" => {
            table.check_keys(&["type", "prefix", "dotenv_path"])?;
            Ok(VariablesProviderConfig::Env {
                prefix: table.string("prefix")?,
                dotenv_path: table.string("dotenv_path")?.map(PathBuf::from),
            })
        }
        "static" => {
            table.check_keys(&["type", "values"])?;
            let Some((key, value)) = table.get("values") else {
                return Err(table.missing("values", "values = { name = \"value\" }"));
            };
            let values = table.nested(key, value, "values")?;
            let values = values
                .entries
                .iter()
                .map(|&(name, value)| Ok((name.get_ref().to_string(), values.str(name, value)?)))
                .collect::<Result<BTreeMap<_, _>, RuntimeConfigError>>()?;
            Ok(VariablesProviderConfig::Static { values })
        }
        _ => Err(table.unknown_type("variables provider", kind, span, TYPES)),
    }
}

/// One TOML table's entries in file order, with its name as written in a
/// header (empty for the top level) for messages.
struct Table<'a> {
    file: &'a File<'a>,
    name: String,
    /// Where to point when a required key is missing.
    span: Range<usize>,
    entries: Vec<(&'a Key<'a>, &'a Value<'a>)>,
}

impl<'a> Table<'a> {
    fn new(file: &'a File<'a>, name: String, span: Range<usize>, table: &'a DeTable<'a>) -> Self {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        Self {
            file,
            name,
            span,
            entries,
        }
    }

    fn get(&self, key: &str) -> Option<(&'a Key<'a>, &'a Value<'a>)> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .copied()
    }

    fn child_name(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.name)
        }
    }

    fn unknown_key(&self, key: &Key, expected: &'static [&'static str]) -> RuntimeConfigError {
        self.file.error(
            key.span(),
            ErrorKind::UnknownKey {
                table: self.name.clone(),
                key: key.get_ref().to_string(),
                expected,
            },
        )
    }

    fn check_keys(&self, allowed: &'static [&'static str]) -> Result<(), RuntimeConfigError> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !allowed.contains(&k.get_ref().as_ref()))
        {
            Some((key, _)) => Err(self.unknown_key(key, allowed)),
            None => Ok(()),
        }
    }

    fn wrong_type(&self, key: &Key, value: &Value, expected: &'static str) -> RuntimeConfigError {
        self.file.error(
            value.span(),
            ErrorKind::WrongType {
                table: self.name.clone(),
                key: key.get_ref().to_string(),
                expected,
                found: describe(value.get_ref()),
            },
        )
    }

    fn missing(&self, key: &'static str, example: &'static str) -> RuntimeConfigError {
        self.file.error(
            self.span.clone(),
            ErrorKind::MissingKey {
                table: self.name.clone(),
                key,
                example,
            },
        )
    }

    fn str(&self, key: &Key, value: &Value) -> Result<String, RuntimeConfigError> {
        value
            .get_ref()
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.wrong_type(key, value, "a string"))
    }

    fn string(&self, key: &str) -> Result<Option<String>, RuntimeConfigError> {
        self.get(key).map(|(k, v)| self.str(k, v)).transpose()
    }

    fn required_string(
        &self,
        key: &'static str,
        example: &'static str,
    ) -> Result<String, RuntimeConfigError> {
        self.string(key)?.ok_or_else(|| self.missing(key, example))
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, RuntimeConfigError> {
        self.get(key)
            .map(|(k, v)| {
                v.get_ref()
                    .as_bool()
                    .ok_or_else(|| self.wrong_type(k, v, "`true` or `false`"))
            })
            .transpose()
    }

    fn dir(&self, key: &Key, value: &Value) -> Result<DirSetting, RuntimeConfigError> {
        Ok(DirSetting::from_path(Path::new(&self.str(key, value)?)))
    }

    fn size(&self, key: &Key, value: &Value) -> Result<usize, RuntimeConfigError> {
        value
            .get_ref()
            .as_integer()
            .and_then(|i| u64::from_str_radix(i.as_str(), i.radix()).ok())
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.wrong_type(key, value, "a number of bytes"))
    }

    /// The value of `key` as a table.
    fn nested(
        &self,
        key: &'a Key<'a>,
        value: &'a Value<'a>,
        expected: &'static str,
    ) -> Result<Table<'a>, RuntimeConfigError> {
        match value.get_ref() {
            DeValue::Table(table) => Ok(Table::new(
                self.file,
                self.child_name(key.get_ref()),
                key.span(),
                table,
            )),
            _ => Err(self.wrong_type(key, value, expected)),
        }
    }

    /// The `[<key>.<label>]` tables under `key`, with their labels.
    fn labelled(
        &self,
        key: &'a Key<'a>,
        value: &'a Value<'a>,
    ) -> Result<Vec<(String, Table<'a>)>, RuntimeConfigError> {
        let parent = self.nested(key, value, "a table of labelled tables")?;
        parent
            .entries
            .iter()
            .map(|&(label, table)| {
                Ok((
                    label.get_ref().to_string(),
                    parent.nested(label, table, "a table")?,
                ))
            })
            .collect()
    }

    /// The `[[<key>]]` tables.
    fn array_of_tables(
        &self,
        key: &'a Key<'a>,
        value: &'a Value<'a>,
    ) -> Result<Vec<Table<'a>>, RuntimeConfigError> {
        const EXPECTED: &str = "an array of tables (written `[[...]]`)";
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.wrong_type(key, value, EXPECTED));
        };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::Table(table) => Ok(Table::new(
                    self.file,
                    format!("[{}]", key.get_ref()),
                    item.span(),
                    table,
                )),
                _ => Err(self.wrong_type(key, item, EXPECTED)),
            })
            .collect()
    }

    /// The table's `type`, which must be present.
    fn kind(
        &self,
        expected: &'static [&'static str],
    ) -> Result<(String, Range<usize>), RuntimeConfigError> {
        let Some((key, value)) = self.get("type") else {
            return Err(self.missing(
                "type",
                match expected.first() {
                    Some(&"spin") => "type = \"spin\"",
                    _ => "type = \"env\"",
                },
            ));
        };
        Ok((self.str(key, value)?, value.span()))
    }

    fn unknown_type(
        &self,
        what: &'static str,
        found: String,
        span: Range<usize>,
        expected: &'static [&'static str],
    ) -> RuntimeConfigError {
        self.file.error(
            span,
            ErrorKind::UnknownType {
                what,
                found,
                expected,
            },
        )
    }
}

/// A TOML value's type, with its article, for messages.
fn describe(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> RuntimeConfig {
        parse(text, Path::new("conf/rc.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> RuntimeConfigError {
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
    fn config_provider_is_an_alias() {
        let config = parse_ok("[[config_provider]]\ntype = \"env\"\n");
        assert_eq!(
            config.variables_providers,
            vec![VariablesProviderConfig::Env {
                prefix: None,
                dotenv_path: None
            }]
        );
        let err = parse_err(
            "[[variables_provider]]\ntype = \"env\"\n[[config_provider]]\ntype = \"env\"\n",
        );
        assert!(matches!(err.kind(), ErrorKind::BothProviderLists));
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
    fn spin_tables_this_host_lacks_are_unsupported_not_unknown() {
        let err = parse_err("[llm_compute]\ntype = \"spin\"\n");
        assert!(matches!(err.kind(), ErrorKind::UnsupportedKey { key } if key == "llm_compute"));
        assert!(
            err.to_string()
                .contains("Spin runtime configuration that this host does not support"),
            "{err}"
        );
    }

    #[test]
    fn outbound_networking_blocks_networks_with_their_origin() {
        let config = parse_ok(
            "state_dir = \"s\"\n[outbound_networking]\nblock_networks = [\n  \"127.0.0.0/8\",\n  \"private\",\n  \"8.8.8.8/16\",\n  \"::1\",\n]\n",
        );
        let rules = config.blocked_networks.rules();
        let shown: Vec<String> = rules.iter().map(|r| r.range.to_string()).collect();
        assert_eq!(shown, ["127.0.0.0/8", "private", "8.8.0.0/16", "::1/128"]);
        assert_eq!(rules[0].origin, "conf/rc.toml:4");
        assert_eq!(rules[3].origin, "conf/rc.toml:7");
        assert!(
            parse_ok("[outbound_networking]\n")
                .blocked_networks
                .is_empty()
        );
        assert!(
            parse_ok("[outbound_networking]\nblock_networks = []\n")
                .blocked_networks
                .is_empty()
        );
    }

    #[test]
    fn outbound_networking_mistakes_are_located() {
        let err = parse_err("[outbound_networking]\nblock_networks = [\"10.0.0.0/33\"]\n");
        assert_eq!(err.line(), Some(2));
        let text = err.to_string();
        assert!(
            text.starts_with("`10.0.0.0/33` is not a network to block"),
            "{text}"
        );
        assert!(text.contains("hint: write a CIDR block"), "{text}");
        let err = parse_err("[outbound_networking]\nblock_networks = \"private\"\n");
        assert!(err.to_string().contains("must be an array"), "{err}");
        let err = parse_err("[outbound_networking]\nblock_networks = [1]\n");
        assert!(matches!(err.kind(), ErrorKind::WrongType { .. }), "{err}");
        // The key is `block_networks`, as in Spin.
        let err = parse_err("[outbound_networking]\nblocked_networks = [\"private\"]\n");
        assert!(
            matches!(err.kind(), ErrorKind::UnknownKey { key, .. } if key == "blocked_networks")
        );
        let err = parse_err("[outbound_networking]\nmax_total_connections = 10\n");
        assert!(
            matches!(err.kind(), ErrorKind::UnsupportedKey { key } if key == "outbound_networking.max_total_connections"),
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
    fn redis_stores_need_a_usable_url() {
        let err = parse_err("[key_value_store.c]\ntype = \"redis\"\n");
        assert!(err.to_string().contains("add `url = \"redis://"), "{err}");
        let err = parse_err("[key_value_store.c]\ntype = \"redis\"\nurl = \"http://x\"\n");
        assert!(matches!(err.kind(), ErrorKind::InvalidRedisUrl { .. }));
        assert_eq!(err.line(), Some(3));
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse_err("state_dir = \"s\"\n[key_value_store.c\n");
        assert!(matches!(err.kind(), ErrorKind::Syntax { .. }));
        assert_eq!(err.line(), Some(2));
    }
}
