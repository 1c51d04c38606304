//! The two kinds of store behind a label: an SQLite table shared by every
//! store in the file (rows keyed by label, as in Spin), or a Redis database
//! whose keys are used as they are (as in Spin, so two labels on one Redis
//! database share their keys).

use crate::capabilities::redis::reply_cap::CappedConnection;
use redis::AsyncCommands;
use spin_outbound_networking::redact_url;
use std::sync::Arc;
use std::time::Duration;

use crate::capabilities::bindings::key_value::Error;
use crate::capabilities::bindings::redis::Error as RedisError;
use crate::services::{AppServices, Database, DatabaseError, ResultBudget};

/// How long one Redis command may take.
const REDIS_TIMEOUT: Duration = Duration::from_secs(30);

/// An open store.
pub(super) enum Backend {
    Sqlite(SqliteStore),
    Redis(RedisStore),
}

/// One label's rows in an SQLite key-value table.
pub(super) struct SqliteStore {
    db: Arc<Database>,
    label: String,
}

/// A connection to the Redis database behind a store.
pub(super) struct RedisStore {
    conn: CappedConnection,
    url: String,
    services: Arc<AppServices>,
}

impl Backend {
    /// Opens the SQLite store `label` in `db`, creating its table if needed.
    pub(super) async fn sqlite(db: Arc<Database>, label: String) -> Result<Self, Error> {
        let store = SqliteStore { db, label };
        store
            .run(|conn, _, _| {
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
                    [],
                )
            })
            .await?;
        Ok(Self::Sqlite(store))
    }

    /// Connects to the Redis server at `url` through the app's shared pool.
    pub(super) async fn redis(url: &str, services: Arc<AppServices>) -> Result<Self, Error> {
        match services.redis.connect(url).await {
            Ok(conn) => Ok(Self::Redis(RedisStore {
                conn,
                url: url.to_owned(),
                services,
            })),
            Err(e) => {
                services.redis.forget(url).await;
                Err(Error::Other(match e {
                    RedisError::Other(message) => message,
                    other => format!(
                        "cannot use the Redis server at {}: {other:?}",
                        redact_url(url)
                    ),
                }))
            }
        }
    }

    pub(super) async fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Self::Sqlite(store) => {
                store
                    .run(move |conn, label, _| read(conn, label, &key))
                    .await
            }
            Self::Redis(store) => store.get(key).await,
        }
    }

    pub(super) async fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        match self {
            Self::Sqlite(store) => {
                store
                    .run(move |conn, label, _| write(conn, label, &key, &value))
                    .await
            }
            Self::Redis(store) => {
                store.check_size(&value)?;
                store.run(async |mut c| c.set(key, value).await).await
            }
        }
    }

    pub(super) async fn delete(&self, key: String) -> Result<(), Error> {
        match self {
            Self::Sqlite(store) => {
                store
                    .run(move |conn, label, _| {
                        conn.execute(
                            "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2",
                            (label, &key),
                        )
                        .map(drop)
                    })
                    .await
            }
            Self::Redis(store) => store.run(async |mut c| c.del(key).await).await,
        }
    }

    pub(super) async fn exists(&self, key: String) -> Result<bool, Error> {
        match self {
            Self::Sqlite(store) => {
                store.run(move |conn, label, _| {
                    conn.query_row(
                        "SELECT EXISTS (SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2)",
                        (label, &key),
                        |row| row.get(0),
                    )
                })
                .await
            }
            Self::Redis(store) => store.run(async |mut c| c.exists(key).await).await,
        }
    }

    pub(super) async fn get_keys(&self) -> Result<Vec<String>, Error> {
        match self {
            Self::Sqlite(store) => {
                store
                    .run(|conn, label, budget| {
                        let mut stmt = conn.prepare(
                            "SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key",
                        )?;
                        let mut keys = Vec::new();
                        let mut rows = stmt.query([label])?;
                        while let Some(row) = rows.next()? {
                            let key: String = row.get(0)?;
                            // A store may hold more keys than the guest
                            // could receive.
                            budget.spend(key.len() + size_of::<String>())?;
                            keys.push(key);
                        }
                        Ok::<_, DatabaseError>(keys)
                    })
                    .await
            }
            Self::Redis(store) => {
                let max = store.services.max_result_bytes();
                store.run(async |mut c| scan_keys(&mut c, max).await).await
            }
        }
    }
}

/// Every key of the Redis database, by `SCAN` (replies of up to about a
/// thousand keys, where `KEYS *` answers with all of them at once and blocks the
/// server meanwhile), failing once the keys pass `max` bytes together:
/// the guest could not take more, and the shared connection stays whole.
async fn scan_keys(conn: &mut CappedConnection, max: usize) -> redis::RedisResult<Vec<String>> {
    // `SCAN` may return a key more than once.
    let mut keys = std::collections::BTreeSet::new();
    let (mut cursor, mut bytes) = (0u64, 0usize);
    // A reply stays well under the cap while keys are under ~100 bytes,
    // so that the budget below, not the reply cap (which closes the shared
    // connection), is what stops a long listing.
    let count = (max / 1024).clamp(10, 1000);
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(count)
            .query_async(conn)
            .await?;
        for key in batch {
            bytes += key.len() + size_of::<String>();
            if bytes > max {
                return Err(redis::RedisError::from((
                    redis::ErrorKind::ClientError,
                    "too many keys",
                    format!(
                        "the store's keys take more than {max} bytes, the most the host reads for one result (`spin up --max-result-size`)"
                    ),
                )));
            }
            keys.insert(key);
        }
        cursor = next;
        if cursor == 0 {
            return Ok(keys.into_iter().collect());
        }
    }
}

impl Backend {
    /// Adds `delta` to the integer stored (as decimal text, as Redis's
    /// `INCRBY` keeps it) under `key`, 0 when absent, atomically; the new
    /// value.
    pub(super) async fn increment(&self, key: String, delta: i64) -> Result<i64, Error> {
        match self {
            Self::Sqlite(store) => {
                store
                    .run(move |conn, label, _| {
                        // One transaction: no other increment interleaves.
                        let tx = conn.unchecked_transaction()?;
                        let current = read(&tx, label, &key)?;
                        let current = match current {
                            None => 0,
                            Some(bytes) => std::str::from_utf8(&bytes)
                                .ok()
                                .and_then(|t| t.trim().parse::<i64>().ok())
                                .ok_or_else(|| {
                                    DatabaseError::Refused(format!(
                                        "the value of `{key}` is not an integer"
                                    ))
                                })?,
                        };
                        let next = current.checked_add(delta).ok_or_else(|| {
                            DatabaseError::Refused(format!("incrementing `{key}` overflows"))
                        })?;
                        write(&tx, label, &key, &next.to_string().into_bytes())?;
                        tx.commit()?;
                        Ok::<_, DatabaseError>(next)
                    })
                    .await
            }
            Self::Redis(store) => store.run(async |mut c| c.incr(key, delta).await).await,
        }
    }

    /// Sets `key` to `value` if it still holds `expected` (`None`: absent);
    /// whether it did.
    pub(super) async fn compare_and_swap(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, Error> {
        match self {
            Self::Sqlite(store) => {
                store
                    .run(move |conn, label, _| {
                        let tx = conn.unchecked_transaction()?;
                        let current = read(&tx, label, &key)?;
                        if current != expected {
                            return Ok::<_, DatabaseError>(false);
                        }
                        write(&tx, label, &key, &value)?;
                        tx.commit()?;
                        Ok(true)
                    })
                    .await
            }
            Self::Redis(store) => {
                store.check_size(&value)?;
                // One script: Redis runs it atomically.
                let script = redis::Script::new(
                    "local v = redis.call('GET', KEYS[1]) \
                     if (ARGV[1] == '0' and v == false) or (ARGV[1] == '1' and v == ARGV[2]) then \
                       redis.call('SET', KEYS[1], ARGV[3]) return 1 end return 0",
                );
                let present = if expected.is_some() { "1" } else { "0" };
                let expected = expected.unwrap_or_default();
                store
                    .run(async |mut c| {
                        script
                            .key(key)
                            .arg(present)
                            .arg(expected)
                            .arg(value)
                            .invoke_async::<i64>(&mut c)
                            .await
                            .map(|swapped| swapped == 1)
                    })
                    .await
            }
        }
    }
}

/// The value under `key` in the store `label`.
fn read(conn: &rusqlite::Connection, label: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
        (label, key),
        |row| row.get(0),
    )
    .optional()
}

/// Stores `value` under `key` in the store `label`.
fn write(
    conn: &rusqlite::Connection,
    label: &str,
    key: &str,
    value: &[u8],
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
        (label, key, value),
    )
    .map(drop)
}

impl SqliteStore {
    /// Runs `f` on the database, with the store's label, off the async
    /// threads. It stops when the request ends (see [`Database::run`]);
    /// values and key lists are capped like SQLite results.
    async fn run<T: Send + 'static, E: Into<DatabaseError>>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &str, &mut ResultBudget) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Error> {
        let label = self.label.clone();
        self.db
            .run(None, move |conn, budget| {
                f(conn, &label, budget).map_err(Into::into)
            })
            .await
            .map_err(|e| {
                // What the operator must act on (the guest is told too).
                if matches!(e, DatabaseError::OutOfMemory { .. }) {
                    tracing::warn!(store = %self.label, "key-value operation failed: {e}");
                }
                Error::Other(e.to_string())
            })
    }
}

/// A value of `len` bytes that a store may not hold or hand over.
fn too_large(len: usize, max: usize) -> Error {
    Error::Other(format!(
        "the value is {len} bytes: more than the host reads back for one result ({max} bytes with Redis's framing, `spin up --max-result-size`)"
    ))
}

/// What `EXEC`'s reply to a [`RedisStore::get`] weighs beside the value's
/// own bulk string: `*3\r\n`, `:1\r\n` and `:<length>\r\n`.
const GET_FRAMING: usize = 40;

/// The longest value a Redis store reads back within `max` bytes of reply.
fn max_value_len(max: usize) -> usize {
    let budget = max.saturating_sub(GET_FRAMING);
    let mut len = budget.saturating_sub(5);
    while len > 0 && spin_wire_framing::resp::bulk_reply_len(len) > budget {
        len -= 1;
    }
    len
}

impl RedisStore {
    /// Refuses a value a [`RedisStore::get`] could not read back under the
    /// cap on one result.
    fn check_size(&self, value: &[u8]) -> Result<(), Error> {
        let max = self.services.max_result_bytes();
        if value.len() > max_value_len(max) {
            return Err(too_large(value.len(), max));
        }
        Ok(())
    }

    /// The value of `key`, read with no more than the cap crossing the
    /// socket, and without scripting (which a Redis user may not be
    /// allowed): one transaction asks whether the key exists, its length,
    /// and its first bytes up to the most a value may have. A longer value
    /// (something else wrote it) fails with its length; its bytes never
    /// cross the socket, and the connection the application's stores
    /// share stays open.
    async fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
        let max = self.services.max_result_bytes();
        let limit = max_value_len(max);
        let (exists, len, value): (bool, usize, Vec<u8>) = self
            .run(async |mut c| {
                redis::pipe()
                    .atomic()
                    .exists(&key)
                    .strlen(&key)
                    // Inclusive: `limit` bytes (1 at least; a longer
                    // value fails below all the same).
                    .getrange(&key, 0, limit.max(1) as isize - 1)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        if !exists {
            return Ok(None);
        }
        if len > limit {
            return Err(too_large(len, max));
        }
        Ok(Some(value))
    }

    /// Runs one command with a timeout. A broken connection is dropped from
    /// the pool so that the next open reconnects.
    async fn run<T>(
        &self,
        f: impl AsyncFnOnce(CappedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(REDIS_TIMEOUT, f(self.conn.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                    self.services.redis.forget(&self.url).await;
                }
                Err(Error::Other(e.to_string()))
            }
            // The URL comes from the operator's runtime config: the guest
            // sees it without its password.
            Err(_) => Err(Error::Other(format!(
                "the Redis server at {} did not answer in time",
                redact_url(&self.url)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_value_read_back_fits_the_cap_with_its_framing() {
        for max in [1, 45, 1024, 65_536, 64 << 20] {
            let len = max_value_len(max);
            if len > 0 {
                assert!(spin_wire_framing::resp::bulk_reply_len(len) + GET_FRAMING <= max);
            }
            // One byte more would not fit.
            assert!(spin_wire_framing::resp::bulk_reply_len(len + 1) + GET_FRAMING > max);
        }
    }
}
