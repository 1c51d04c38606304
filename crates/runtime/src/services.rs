//! State shared by every request of an application: pooled HTTP, Redis,
//! PostgreSQL and MySQL connections, and the SQLite databases behind
//! key-value stores and `sqlite_databases`, opened on first use.
//!
//! A guest's SQL runs on a sandboxed connection (see [`Database`]): it cannot
//! reach files other than its database, cannot outlive its request, and
//! cannot build a result larger than the guest could receive.

use anyhow::{Context as _, Result};
use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::{Connection, ErrorCode};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::app::LoadOptions;
use crate::capabilities::connection_quota::{ConnectionQuotas, DEFAULT_CONNECTION_WAIT};
use crate::capabilities::mysql::MysqlPools;
use crate::capabilities::outbound_http::HttpClient;
use crate::capabilities::outbound_http::{
    DEFAULT_MAX_CHAIN_DEPTH, DEFAULT_MAX_REQUESTS_PER_INSTANCE,
};
use crate::capabilities::postgres::PgPool;
use crate::capabilities::redis::RedisPool;
use crate::capabilities::sockets::held::DEFAULT_MAX_SOCKETS_PER_INSTANCE;
use crate::runtime_config::{DatabaseLocation, KeyValueBackend, Stores};
use spin_outbound_networking::BlockedNetworks;

/// How many stores or connections one instance may hold open in each
/// capability, by default: Spin's key-value and SQLite tables hold 256.
pub const DEFAULT_MAX_HANDLES_PER_INSTANCE: usize = 256;

/// The most bytes of one result the host reads on an instance's behalf
/// (a query's rows, a Redis reply or published message, a key-value or
/// SQLite value) before copying it into the instance, by default. The host
/// holds it outside the instance's memory limit, so without a cap of its
/// own a guest could have each of its requests take up to that limit
/// (512 MiB) of the host's memory again.
pub const DEFAULT_MAX_RESULT_SIZE: usize = 64 << 20;

/// How many WASI resources (HTTP fields, requests and responses, WASI 0.2
/// streams and pollables, files, sockets…) one instance may hold at once,
/// by default. (WASI 0.3's streams and futures live in wasmtime's own table
/// of the instance's tasks, not in this one.)
/// Each holds host memory no guest limit counts (a `fields` up to 128 KiB):
/// wasmtime's own cap, 1,000,000, would let one instance take 128 GB.
pub const DEFAULT_MAX_RESOURCES_PER_INSTANCE: usize = 16_384;

/// One application's shared services.
pub struct AppServices {
    /// Redis connections by address.
    pub redis: RedisPool,
    /// The outbound HTTP client, with its idle upstream connections.
    pub http: HttpClient,
    /// Idle PostgreSQL connections by address.
    pub postgres: PgPool,
    /// MySQL connection pools by address.
    pub mysql: MysqlPools,
    /// The runtime config's caps on outbound connections.
    pub connection_quotas: Arc<ConnectionQuotas>,
    /// `[outbound_mqtt] max_payload_size_bytes`.
    pub mqtt_max_payload: Option<usize>,
    /// Where the LLM interface's calls go (`[llm_compute]`).
    pub llm: crate::capabilities::llm::LlmEngine,
    /// Addresses no outbound connection may reach (runtime config).
    blocked_networks: BlockedNetworks,
    max_outbound_http_per_instance: usize,
    max_sockets_per_instance: usize,
    /// The most stores and connections one instance may hold open in each
    /// capability.
    max_handles_per_instance: usize,
    /// The most WASI resources one instance may hold at once.
    max_resources_per_instance: usize,
    /// The most in-process hops a chain of requests may take.
    max_chain_depth: u32,
    stores: Stores,
    /// The most bytes one SQLite result (or value) may hold.
    max_result_bytes: usize,
    components: OnceLock<Arc<dyn ComponentRequests>>,
    databases: Mutex<HashMap<DatabaseKey, Arc<Database>>>,
    /// Database files that failed to open, each logged once (the guest's
    /// call reports it every time).
    failed_databases: Mutex<HashSet<PathBuf>>,
}

/// What a chained request (`http://<component>.spin.internal/...`) yields.
pub type ChainedResponse = std::pin::Pin<
    Box<
        dyn Future<
                Output = Result<
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    >,
>;

/// Service chaining and requests to the application itself: the HTTP
/// trigger hands a request to one of the application's components, or to
/// its router, in-process, without a socket.
pub trait ComponentRequests: Send + Sync {
    /// Sends `request` to the component `id`.
    fn send(
        &self,
        id: &str,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
    ) -> ChainedResponse;

    /// Sends `request` (a relative URL, or one to `self.alt`) to the
    /// application, routed by its path as a client's request would be.
    fn send_to_app(&self, request: http::Request<wasmtime_wasi_http::WasiBody>) -> ChainedResponse;
}

/// What makes two opens share one connection: the same file with the same
/// permission to attach files, or the same owner of an in-memory database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum DatabaseKey {
    File {
        path: PathBuf,
        allow_attach_file: bool,
    },
    Memory(String),
}

impl AppServices {
    /// Services for the stores and databases in `stores`. One result (a
    /// query's rows, a Redis reply, a value) may hold at most
    /// `max_result_bytes` (`--max-result-size`, at most the instance memory
    /// limit: the result is copied into the guest's memory, so a larger one
    /// could never be delivered).
    pub fn new(stores: Stores, max_result_bytes: usize) -> Self {
        Self {
            redis: RedisPool::new(max_result_bytes),
            http: HttpClient::default(),
            postgres: PgPool::default(),
            mysql: MysqlPools::new(max_result_bytes),
            connection_quotas: Arc::default(),
            mqtt_max_payload: None,
            llm: Default::default(),
            blocked_networks: BlockedNetworks::default(),
            max_outbound_http_per_instance: DEFAULT_MAX_REQUESTS_PER_INSTANCE,
            max_sockets_per_instance: DEFAULT_MAX_SOCKETS_PER_INSTANCE,
            max_handles_per_instance: DEFAULT_MAX_HANDLES_PER_INSTANCE,
            max_resources_per_instance: DEFAULT_MAX_RESOURCES_PER_INSTANCE,
            max_chain_depth: DEFAULT_MAX_CHAIN_DEPTH,
            stores,
            max_result_bytes,
            components: OnceLock::new(),
            databases: Mutex::default(),
            failed_databases: Mutex::default(),
        }
    }

    /// Applies the outbound networking settings of `options`: blocked
    /// networks for every connection, the TLS settings of `client_tls` for
    /// HTTPS, the HTTP client's connection reuse (`outbound_http`), the caps
    /// on connections (`connection_limits`, waited for up to
    /// `outbound_connection_wait`), at most `max_outbound_http_per_instance`
    /// outbound HTTP requests in flight per instance (at least 1), at most
    /// `max_sockets_per_instance` open sockets per instance, at most
    /// `max_handles_per_instance` stores or connections per capability and
    /// instance (at least 1), at most `max_resources_per_instance` WASI
    /// resources per instance (at least 1), and
    /// chains of in-process requests at most `max_chain_depth` hops deep (at
    /// least 1). Fails when a `client_tls` entry's certificates cannot be
    /// used.
    pub fn with_outbound_limits(mut self, options: &LoadOptions) -> Result<Self> {
        self.max_chain_depth = options
            .max_chain_depth
            .unwrap_or(DEFAULT_MAX_CHAIN_DEPTH)
            .max(1);
        self.connection_quotas = Arc::new(ConnectionQuotas::new(
            &options.connection_limits,
            options
                .outbound_connection_wait
                .unwrap_or(DEFAULT_CONNECTION_WAIT),
        ));
        self.http = HttpClient::new(
            options.blocked_networks.clone(),
            &options.client_tls,
            options.outbound_http.clone(),
            self.connection_quotas.clone(),
        )?;
        self.blocked_networks = options.blocked_networks.clone();
        self.mqtt_max_payload = options.outbound_mqtt.max_payload_size_bytes;
        self.llm = crate::capabilities::llm::LlmEngine::new(&options.llm_compute)?;
        self.max_outbound_http_per_instance = options
            .max_outbound_http_per_instance
            .unwrap_or(DEFAULT_MAX_REQUESTS_PER_INSTANCE)
            .max(1);
        self.max_sockets_per_instance = options
            .max_sockets_per_instance
            .unwrap_or(DEFAULT_MAX_SOCKETS_PER_INSTANCE);
        self.max_handles_per_instance = options
            .max_handles_per_instance
            .unwrap_or(DEFAULT_MAX_HANDLES_PER_INSTANCE)
            .max(1);
        self.max_resources_per_instance = options
            .max_resources_per_instance
            .unwrap_or(DEFAULT_MAX_RESOURCES_PER_INSTANCE)
            .max(1);
        Ok(self)
    }

    /// Whether a connection of `kind` the guest closed may wait idle in
    /// the host's pool: not under a cap that counts that kind, where an
    /// idle connection would hold no permit and the server would see more
    /// connections than the cap (it is closed instead).
    pub fn keeps_idle(&self, kind: crate::runtime_config::Outbound) -> bool {
        self.connection_quotas.cap(kind).is_none()
    }

    /// The networks no outbound connection may reach.
    pub fn blocked_networks(&self) -> &BlockedNetworks {
        &self.blocked_networks
    }

    /// How many outbound HTTP requests one instance may have in flight.
    pub fn max_outbound_http_per_instance(&self) -> usize {
        self.max_outbound_http_per_instance
    }

    /// How many sockets one instance may hold open.
    pub fn max_sockets_per_instance(&self) -> usize {
        self.max_sockets_per_instance
    }

    /// How many stores or connections one instance may hold open in each
    /// capability (key-value, SQLite, Redis, PostgreSQL, MySQL, MQTT).
    pub fn max_handles_per_instance(&self) -> usize {
        self.max_handles_per_instance
    }

    /// How many WASI resources one instance may hold at once.
    pub fn max_resources_per_instance(&self) -> usize {
        self.max_resources_per_instance
    }

    /// How many in-process hops (`http://<component>.spin.internal`) a
    /// chain of requests may take.
    pub fn max_chain_depth(&self) -> u32 {
        self.max_chain_depth
    }

    /// How many bytes of one result the host reads for an instance
    /// (`--max-result-size`, at most the instance memory limit).
    pub fn max_result_bytes(&self) -> usize {
        self.max_result_bytes
    }

    /// Tells the application how to reach its components in-process (the
    /// HTTP trigger, once it serves).
    pub fn set_component_requests(&self, components: Arc<dyn ComponentRequests>) {
        let _ = self.components.set(components);
    }

    /// How to reach the application's components in-process, once the
    /// HTTP trigger serves.
    pub fn component_requests(&self) -> Option<Arc<dyn ComponentRequests>> {
        self.components.get().cloned()
    }

    /// Where the key-value store `label` keeps its data, if it is defined.
    pub fn key_value_store(&self, label: &str) -> Option<&KeyValueBackend> {
        self.stores.key_value.get(label)
    }

    /// Where the SQLite database `label` lives, if it is defined.
    pub fn sqlite_database(&self, label: &str) -> Option<&DatabaseLocation> {
        self.stores.sqlite.get(label)
    }

    /// The connection to the SQLite database `label` (see
    /// [`Self::database`]), if it is defined; its statements may attach files
    /// only if its runtime config says `allow_attach_file = true`.
    pub fn sqlite_connection(&self, label: &str) -> Option<Result<Arc<Database>>> {
        let location = self.sqlite_database(label)?;
        let sandbox = Sandbox {
            owner: format!("sqlite_database.{label}"),
            allow_attach_file: self.stores.sqlite_attach_allowed.contains(label),
        };
        Some(self.open_shared(sandbox, location))
    }

    /// The connection to the database at `location`, opened (and created)
    /// on first use, then shared. `owner` (e.g. `key_value_store.cache`)
    /// keeps in-memory databases of different owners apart. Its statements
    /// may not attach files.
    pub fn database(&self, owner: &str, location: &DatabaseLocation) -> Result<Arc<Database>> {
        let sandbox = Sandbox {
            owner: owner.to_owned(),
            allow_attach_file: false,
        };
        self.open_shared(sandbox, location)
    }

    fn open_shared(&self, sandbox: Sandbox, location: &DatabaseLocation) -> Result<Arc<Database>> {
        let key = match location {
            DatabaseLocation::File(path) => DatabaseKey::File {
                path: path.clone(),
                allow_attach_file: sandbox.allow_attach_file,
            },
            DatabaseLocation::Memory => DatabaseKey::Memory(sandbox.owner.clone()),
        };
        let mut dbs = self.databases.lock().expect("database map lock");
        if let Some(db) = dbs.get(&key) {
            return Ok(db.clone());
        }
        let conn = match location {
            DatabaseLocation::File(path) => match open(path) {
                Ok(conn) => conn,
                Err(e) => {
                    // Logged with no lock held: a slow stderr stalls no
                    // other store's opening.
                    drop(dbs);
                    self.log_failed_open(path, &e);
                    return Err(e);
                }
            },
            DatabaseLocation::Memory => Connection::open_in_memory()?,
        };
        let db = Arc::new(Database::new(conn, sandbox, self.max_result_bytes)?);
        dbs.insert(key, db.clone());
        Ok(db)
    }
}

impl AppServices {
    /// Logs, the first time only, that the database at `path` did not open:
    /// the operator sees it, not only the guest whose call failed.
    fn log_failed_open(&self, path: &Path, error: &anyhow::Error) {
        let first = self
            .failed_databases
            .lock()
            .expect("failed database set lock")
            .insert(path.to_owned());
        if first {
            let hint = error
                .chain()
                .find_map(|e| e.downcast_ref::<spin_hint::Hinted>())
                .map(|h| format!(" (hint: {})", h.hint))
                .unwrap_or_default();
            tracing::error!(
                "a database did not open, and every statement on it fails until it does: {error:#}{hint}"
            );
        }
    }
}

fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    refuse_linked_database_files(path)?;
    let conn = Connection::open(path).with_context(|| format!("opening `{}`", path.display()))?;
    // WAL lets readers proceed while a writer commits; the busy timeout makes
    // concurrent `spin up`s on one state dir wait instead of failing.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// The files SQLite keeps beside a database, by suffix.
const DATABASE_COMPANIONS: &[&str] = &["", "-wal", "-shm", "-journal"];

/// Refuses a database at `path` when it, or a file SQLite keeps beside it,
/// is a symbolic link or anything else but a plain file: SQLite would
/// follow a link, so an application's directory (its
/// `.spin/sqlite_db.db`, say) could point a store at another application's
/// data, or a write-ahead log at any file of the user's; and a FIFO would
/// hang every store's opening.
fn refuse_linked_database_files(path: &Path) -> Result<()> {
    for suffix in DATABASE_COMPANIONS {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        let what = if meta.file_type().is_symlink() {
            "a symbolic link"
        } else if !meta.is_file() {
            "not a plain file"
        } else {
            continue;
        };
        return Err(spin_hint::Hinted::new(
            format!(
                "the database file `{}` is {what}; spin opens databases only at their own path, so that an application's directory cannot point its stores at other data",
                file.display()
            ),
            "replace it with the database file itself, or point the runtime config's `path` (or `--state-dir`) where the database is",
        )
        .into());
    }
    Ok(())
}

/// Caps the memory SQLite may hold in this process at `bytes` (`spin up
/// --max-sqlite-memory`): every database and key-value store together,
/// their page caches, sorts and in-memory databases. Past it an allocation
/// fails and the statement with it ([`DatabaseError::OutOfMemory`]), where
/// the process would otherwise grow until the kernel stops it. SQLite has
/// no cap per connection, so the cap is the process's.
pub fn cap_sqlite_memory(bytes: usize) {
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    // SAFETY: each sets one integer, under SQLite's own lock. Near the cap
    // (past the soft limit) SQLite first gives back cached pages.
    unsafe {
        rusqlite::ffi::sqlite3_hard_heap_limit64(bytes);
        rusqlite::ffi::sqlite3_soft_heap_limit64(bytes / 8 * 7);
    }
}

/// The cap [`cap_sqlite_memory`] set, if any.
fn sqlite_memory_cap() -> Option<usize> {
    // SAFETY: a negative argument only reads the cap.
    let cap = unsafe { rusqlite::ffi::sqlite3_hard_heap_limit64(-1) };
    usize::try_from(cap).ok().filter(|&cap| cap > 0)
}

/// How often (in SQLite virtual machine instructions, a few microseconds)
/// a running statement checks whether it must stop.
const PROGRESS_OPS: i32 = 1000;

/// Who uses a connection, and what its statements may do beyond their own
/// database.
struct Sandbox {
    /// `sqlite_database.<label>` or `key_value_store.<label>`, for messages.
    owner: String,
    /// `allow_attach_file = true`: `ATTACH` and `VACUUM INTO` may name files.
    allow_attach_file: bool,
}

/// A shared SQLite connection whose statements are confined: an authorizer
/// refuses what would reach other files (`ATTACH`/`VACUUM INTO` a path,
/// unless the runtime config allows it; `load_extension`; pragmas that
/// move files elsewhere), each statement stops at its deadline or when its
/// request ends, and values and results are capped.
pub struct Database {
    /// An async lock, so that requests waiting for the connection hold no
    /// thread and can give up when their request ends.
    conn: Arc<tokio::sync::Mutex<Connection>>,
    /// Why the authorizer last refused an action, for the guest's error.
    refusal: Arc<Mutex<Option<String>>>,
    max_result_bytes: usize,
}

/// Why a statement failed; the guest receives the text.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// SQLite's own error (a syntax error, a constraint, …).
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    /// The authorizer refused part of the statement.
    #[error("not authorized: {0}")]
    Refused(String),
    /// The statement was stopped.
    #[error("interrupted: {0}")]
    Interrupted(&'static str),
    /// SQLite reached the process's cap on its memory.
    #[error(
        "out of memory: SQLite holds all the memory this server lets it have{}, for every database and key-value store of the application together\n\nhint: make the statement need less (sort or group fewer rows, `DETACH` in-memory databases you are done with, a smaller `PRAGMA cache_size`), or raise `spin up --max-sqlite-memory`",
        cap.map(|cap| format!(" ({} MiB)", cap.div_ceil(1 << 20))).unwrap_or_default()
    )]
    OutOfMemory {
        /// The cap, when one is set.
        cap: Option<usize>,
    },
    /// The result, or one value in it, is larger than the limit.
    #[error(
        "the result is larger than the limit of {limit} bytes per query (`spin up --max-result-size`, at most the instance memory)\n\nhint: select fewer rows or smaller values (e.g. with `LIMIT`, `substr`), or raise `spin up --max-result-size` (and `--max-instance-memory` if it is lower)"
    )]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl From<rusqlite::Error> for DatabaseError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// What the guest is told when its request's time runs out mid-statement.
const DEADLINE_PASSED: &str = "the statement ran until the request's time was nearly up and was stopped\n\nhint: make the query cheaper, or raise `spin up --request-timeout`";
/// Logged when the request ended (timed out, or its client went away)
/// first: no guest is left to read it.
const REQUEST_ENDED: &str = "the request ended while the statement ran";

/// How many more bytes a statement's result may take.
pub struct ResultBudget {
    left: usize,
    limit: usize,
}

impl ResultBudget {
    /// Counts `bytes` more of the result, failing once over the limit.
    pub fn spend(&mut self, bytes: usize) -> Result<(), DatabaseError> {
        self.left = self
            .left
            .checked_sub(bytes)
            .ok_or(DatabaseError::TooLarge { limit: self.limit })?;
        Ok(())
    }
}

/// Sets the flag when dropped: the request's future holding it was dropped
/// (timeout, client gone, shutdown) or finished, so the statement it was
/// waiting for must stop.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Database {
    fn new(conn: Connection, sandbox: Sandbox, max_result_bytes: usize) -> Result<Self> {
        // Defensive mode refuses what corrupts a database file on purpose
        // (`writable_schema`, shadow-table writes); an untrusted schema may
        // not run functions with side effects from views and triggers.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
        // SQLite then refuses any longer string or blob itself (e.g.
        // `zeroblob(1e9)`), before allocating it.
        let length = i32::try_from(max_result_bytes).unwrap_or(i32::MAX);
        conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, length)?;
        let refusal = Arc::new(Mutex::new(None));
        let record = refusal.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            match refused(&ctx.action, &sandbox) {
                Some(why) => {
                    *record.lock().expect("refusal lock") = Some(why);
                    Authorization::Deny
                }
                None => Authorization::Allow,
            }
        }));
        Ok(Self {
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
            refusal,
            max_result_bytes,
        })
    }

    /// Runs `f` on the connection on a blocking thread. It stops with
    /// [`DatabaseError::Interrupted`] at `deadline`, or as soon as the
    /// returned future is dropped (its request timed out or ended), so no
    /// statement keeps a thread, a core or the connection's lock after its
    /// request. `f` spends the result's bytes from the budget it is given.
    pub async fn run<T: Send + 'static>(
        &self,
        deadline: Option<Instant>,
        f: impl FnOnce(&Connection, &mut ResultBudget) -> Result<T, DatabaseError> + Send + 'static,
    ) -> Result<T, DatabaseError> {
        let lock = self.conn.clone().lock_owned();
        let conn = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), lock)
                .await
                .map_err(|_| DatabaseError::Interrupted(DEADLINE_PASSED))?,
            None => lock.await,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = StopOnDrop(stop.clone());
        let refusal = self.refusal.clone();
        let mut budget = ResultBudget {
            left: self.max_result_bytes,
            limit: self.max_result_bytes,
        };
        let work = tokio::task::spawn_blocking(move || {
            if stop.load(Ordering::Relaxed) {
                return Err(DatabaseError::Interrupted(REQUEST_ENDED));
            }
            let past = move || deadline.is_some_and(|d| Instant::now() >= d);
            let stopped = stop.clone();
            conn.progress_handler(
                PROGRESS_OPS,
                Some(move || stopped.load(Ordering::Relaxed) || past()),
            );
            refusal.lock().expect("refusal lock").take();
            let result = f(&conn, &mut budget);
            conn.progress_handler(0, None::<fn() -> bool>);
            let refused = refusal.lock().expect("refusal lock").take();
            result.map_err(|e| match e {
                DatabaseError::Sqlite(e) => match (refused, e.sqlite_error_code()) {
                    // Checked first: `VACUUM INTO` reports its refused inner
                    // `ATTACH` as a plain error.
                    (Some(why), _) => DatabaseError::Refused(why),
                    (None, Some(ErrorCode::OperationInterrupted)) if past() => {
                        DatabaseError::Interrupted(DEADLINE_PASSED)
                    }
                    (None, Some(ErrorCode::OperationInterrupted)) => {
                        DatabaseError::Interrupted(REQUEST_ENDED)
                    }
                    (None, Some(ErrorCode::TooBig)) => DatabaseError::TooLarge {
                        limit: budget.limit,
                    },
                    (None, Some(ErrorCode::OutOfMemory)) => DatabaseError::OutOfMemory {
                        cap: sqlite_memory_cap(),
                    },
                    _ => DatabaseError::Sqlite(e),
                },
                other => other,
            })
        });
        match work.await {
            Ok(result) => result,
            // rusqlite asserts that a text value SQLite returns is there;
            // it is not when SQLite had no memory left to convert it.
            Err(e) if e.is_panic() => Err(DatabaseError::OutOfMemory {
                cap: sqlite_memory_cap(),
            }),
            // The runtime is shutting down.
            Err(_) => Err(DatabaseError::Interrupted(REQUEST_ENDED)),
        }
    }
}

/// Why the authorizer refuses `action` on `sandbox`'s connection, if it does.
fn refused(action: &AuthAction<'_>, sandbox: &Sandbox) -> Option<String> {
    let owner = &sandbox.owner;
    let hint = |what: &str| {
        format!(
            "{what}\n\nhint: to let `{owner}` attach files, set `allow_attach_file = true` in its `[{owner}]` table of the runtime config file (`spin up --runtime-config-file`)"
        )
    };
    match action {
        // `:memory:` and `""` (a private temporary database) reach no file
        // anyone else uses. `VACUUM INTO` attaches its target the same way.
        AuthAction::Attach { filename } if filename.is_empty() || *filename == ":memory:" => None,
        AuthAction::Attach { filename } if !sandbox.allow_attach_file => Some(hint(&format!(
            "`{owner}` may not attach the file `{filename}` (`ATTACH` and `VACUUM INTO` may name only `:memory:`)"
        ))),
        // SQLite names the file only when it is a literal; a computed or
        // bound name could be anything.
        AuthAction::Unknown { code, .. }
            if *code == rusqlite::ffi::SQLITE_ATTACH && !sandbox.allow_attach_file =>
        {
            Some(hint(&format!(
                "`{owner}` may attach only the literal `':memory:'`, not a computed or bound file name"
            )))
        }
        AuthAction::Function { function_name }
            if function_name.eq_ignore_ascii_case("load_extension") =>
        {
            Some("`load_extension` would run native code in the host; it is never allowed".into())
        }
        // These two move SQLite's temporary (or, on Windows, data) files to
        // any directory; they are deprecated and nothing needs them.
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(_),
        } if pragma_name.eq_ignore_ascii_case("temp_store_directory")
            || pragma_name.eq_ignore_ascii_case("data_store_directory") =>
        {
            Some(format!(
                "`PRAGMA {pragma_name}` would place files outside the database's directory; it is never allowed"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_beside_a_fifo_is_refused_without_waiting_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite");
        let fifo = std::ffi::CString::new(format!("{}-wal", db.display())).unwrap();
        // SAFETY: a NUL-terminated path of our own.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let err = open(&db).expect_err("a FIFO beside the database is refused");
        assert!(
            format!("{err:#}").contains("-wal` is not a plain file"),
            "{err:#}"
        );
        assert!(!db.exists());
    }

    #[test]
    fn files_are_shared_by_path_and_memory_by_owner() {
        let dir = std::env::temp_dir().join(format!("spin-services-{}", std::process::id()));
        let file = DatabaseLocation::File(dir.join("nested/db.sqlite"));
        let services = AppServices::new(Stores::default(), 1 << 20);
        let a = services.database("a", &file).unwrap();
        let b = services.database("b", &file).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(dir.join("nested/db.sqlite").exists());

        let m1 = services.database("a", &DatabaseLocation::Memory).unwrap();
        let m2 = services.database("b", &DatabaseLocation::Memory).unwrap();
        let m1_again = services.database("a", &DatabaseLocation::Memory).unwrap();
        assert!(!Arc::ptr_eq(&m1, &m2));
        assert!(Arc::ptr_eq(&m1, &m1_again));
        std::fs::remove_dir_all(dir).unwrap();
    }

    const ENDLESS: &str =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

    fn memory_database(max_result_bytes: usize) -> Arc<Database> {
        let services = AppServices::new(Stores::default(), max_result_bytes);
        services
            .database("test", &DatabaseLocation::Memory)
            .unwrap()
    }

    fn endless(conn: &Connection, _: &mut ResultBudget) -> Result<i64, DatabaseError> {
        Ok(conn.query_row(ENDLESS, [], |row| row.get(0))?)
    }

    #[tokio::test]
    async fn a_statement_stops_at_its_deadline() {
        let db = memory_database(1 << 20);
        let deadline = Instant::now() + std::time::Duration::from_millis(200);
        let err = db.run(Some(deadline), endless).await.unwrap_err();
        assert!(err.to_string().starts_with("interrupted: "), "{err}");
    }

    #[tokio::test]
    async fn a_statement_stops_when_its_request_is_dropped_and_frees_the_connection() {
        let db = memory_database(1 << 20);
        let abandoned = tokio::time::timeout(std::time::Duration::from_millis(200), {
            let db = db.clone();
            async move { db.run(None, endless).await }
        })
        .await;
        assert!(abandoned.is_err());
        // The next statement gets the connection, so the endless one ended.
        let answer = db
            .run(None, |conn, _| {
                Ok(conn.query_row("SELECT 42", [], |r| r.get::<_, i64>(0))?)
            })
            .await
            .unwrap();
        assert_eq!(answer, 42);
    }

    #[tokio::test]
    async fn values_and_results_are_capped() {
        let db = memory_database(1000);
        let err = db
            .run(None, |conn, _| {
                Ok(conn.query_row("SELECT zeroblob(2000)", [], |r| r.get::<_, Vec<u8>>(0))?)
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, DatabaseError::TooLarge { limit: 1000 }),
            "{err}"
        );
        let mut budget = ResultBudget {
            left: 10,
            limit: 10,
        };
        budget.spend(10).unwrap();
        assert!(budget.spend(1).is_err());
    }

    #[tokio::test]
    async fn files_cannot_be_attached_without_permission() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("other.db");
        let attach = format!("ATTACH '{}' AS other", target.display());
        let db = memory_database(1 << 20);
        let statement = attach.clone();
        let err = db
            .run(None, move |conn, _| Ok(conn.execute(&statement, [])?))
            .await
            .unwrap_err();
        assert!(matches!(err, DatabaseError::Refused(_)), "{err}");
        assert!(
            err.to_string().contains("allow_attach_file = true"),
            "{err}"
        );
        assert!(!target.exists());
        db.run(None, |conn, _| {
            Ok(conn.execute("ATTACH ':memory:' AS m", [])?)
        })
        .await
        .unwrap();

        let mut stores = Stores::default();
        stores
            .sqlite
            .insert("open".into(), DatabaseLocation::Memory);
        stores.sqlite_attach_allowed.insert("open".into());
        let services = AppServices::new(stores, 1 << 20);
        let open = services.sqlite_connection("open").unwrap().unwrap();
        open.run(None, move |conn, _| Ok(conn.execute(&attach, [])?))
            .await
            .unwrap();
        assert!(target.exists());
    }
}
