//! State shared by every request of an application: pooled HTTP, Redis,
//! PostgreSQL and MySQL connections, and the SQLite databases behind
//! key-value stores and `sqlite_databases`, opened on first use.

use anyhow::{Context as _, Result};
use rusqlite::Connection;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::capabilities::mysql::MysqlPools;
use crate::capabilities::outbound_http::DEFAULT_MAX_REQUESTS_PER_INSTANCE;
use crate::capabilities::outbound_http::HttpClient;
use crate::capabilities::postgres::PgPool;
use crate::capabilities::redis::RedisPool;
use crate::runtime_config::{DatabaseLocation, KeyValueBackend, Stores};
use spin_outbound_networking::BlockedNetworks;

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
    /// Addresses no outbound connection may reach (runtime config).
    blocked_networks: BlockedNetworks,
    max_outbound_http_per_instance: usize,
    stores: Stores,
    /// Where the application's HTTP trigger listens, for self requests.
    app_address: OnceLock<SocketAddr>,
    databases: Mutex<HashMap<DatabaseKey, Arc<Mutex<Connection>>>>,
}

/// What makes two opens share one connection: the same file, or the same
/// owner of an in-memory database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum DatabaseKey {
    File(PathBuf),
    Memory(String),
}

impl AppServices {
    /// Services for the stores and databases in `stores`.
    pub fn new(stores: Stores) -> Self {
        Self {
            redis: RedisPool::default(),
            http: HttpClient::default(),
            postgres: PgPool::default(),
            mysql: MysqlPools::default(),
            blocked_networks: BlockedNetworks::default(),
            max_outbound_http_per_instance: DEFAULT_MAX_REQUESTS_PER_INSTANCE,
            stores,
            app_address: OnceLock::new(),
            databases: Mutex::default(),
        }
    }

    /// Applies the outbound networking limits: `blocked` networks for every
    /// connection, and at most `max_http_per_instance` outbound HTTP
    /// requests in flight per instance (at least 1).
    pub fn with_outbound_limits(
        mut self,
        blocked: BlockedNetworks,
        max_http_per_instance: Option<usize>,
    ) -> Self {
        self.http = HttpClient::new(blocked.clone());
        self.blocked_networks = blocked;
        self.max_outbound_http_per_instance = max_http_per_instance
            .unwrap_or(DEFAULT_MAX_REQUESTS_PER_INSTANCE)
            .max(1);
        self
    }

    /// The networks no outbound connection may reach.
    pub fn blocked_networks(&self) -> &BlockedNetworks {
        &self.blocked_networks
    }

    /// How many outbound HTTP requests one instance may have in flight.
    pub fn max_outbound_http_per_instance(&self) -> usize {
        self.max_outbound_http_per_instance
    }

    /// Records where the HTTP trigger listens. A wildcard address (all
    /// interfaces) is reached on loopback.
    pub fn set_app_address(&self, addr: SocketAddr) {
        let ip = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let _ = self.app_address.set(SocketAddr::new(ip, addr.port()));
    }

    /// Where requests to the application itself go, once it listens.
    pub fn app_address(&self) -> Option<SocketAddr> {
        self.app_address.get().copied()
    }

    /// Where the key-value store `label` keeps its data, if it is defined.
    pub fn key_value_store(&self, label: &str) -> Option<&KeyValueBackend> {
        self.stores.key_value.get(label)
    }

    /// Where the SQLite database `label` lives, if it is defined.
    pub fn sqlite_database(&self, label: &str) -> Option<&DatabaseLocation> {
        self.stores.sqlite.get(label)
    }

    /// The connection to the database at `location`, opened (and created)
    /// on first use, then shared. `owner` (e.g. `sqlite_database.orders`)
    /// keeps in-memory databases of different owners apart.
    pub fn database(
        &self,
        owner: &str,
        location: &DatabaseLocation,
    ) -> Result<Arc<Mutex<Connection>>> {
        let key = match location {
            DatabaseLocation::File(path) => DatabaseKey::File(path.clone()),
            DatabaseLocation::Memory => DatabaseKey::Memory(owner.to_owned()),
        };
        let mut dbs = self.databases.lock().expect("database map lock");
        if let Some(db) = dbs.get(&key) {
            return Ok(db.clone());
        }
        let conn = match location {
            DatabaseLocation::File(path) => open(path)?,
            DatabaseLocation::Memory => Connection::open_in_memory()?,
        };
        let db = Arc::new(Mutex::new(conn));
        dbs.insert(key, db.clone());
        Ok(db)
    }
}

fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    let conn = Connection::open(path).with_context(|| format!("opening `{}`", path.display()))?;
    // WAL lets readers proceed while a writer commits; the busy timeout makes
    // concurrent `spin up`s on one state dir wait instead of failing.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_shared_by_path_and_memory_by_owner() {
        let dir = std::env::temp_dir().join(format!("spin-services-{}", std::process::id()));
        let file = DatabaseLocation::File(dir.join("nested/db.sqlite"));
        let services = AppServices::new(Stores::default());
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
}
