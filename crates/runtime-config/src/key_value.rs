//! `[key_value_store.<label>]`: where each key-value store keeps its data
//! (the key-value capability opens them: `spin-runtime`'s
//! `capabilities/key_value`).

use std::path::Path;

use crate::error::{ErrorKind, RuntimeConfigError};
use crate::sqlite::DatabaseLocation;
use crate::table::Table;

/// Where a key-value store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueBackend {
    /// `type = "spin"`: an SQLite database, as Spin's own store.
    Sqlite(DatabaseLocation),
    /// `type = "redis"`: a Redis server; keys are used as they are, so
    /// `get_keys` lists every key in the Redis database.
    Redis {
        /// The server's `redis://` URL.
        url: String,
    },
}

/// One `[key_value_store.<label>]` table; a relative `path` is relative to
/// `base`, the runtime config file's directory (as in Spin).
pub(crate) fn parse_store(
    table: &Table,
    base: &Path,
) -> Result<KeyValueBackend, RuntimeConfigError> {
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
                let url = spin_outbound_networking::redact_url(&url);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::tests::parse_err;

    #[test]
    fn redis_stores_need_a_usable_url() {
        let err = parse_err("[key_value_store.c]\ntype = \"redis\"\n");
        assert!(err.to_string().contains("add `url = \"redis://"), "{err}");
        let err = parse_err("[key_value_store.c]\ntype = \"redis\"\nurl = \"http://x\"\n");
        assert!(matches!(err.kind(), ErrorKind::InvalidRedisUrl { .. }));
        assert_eq!(err.line(), Some(3));
    }
}
