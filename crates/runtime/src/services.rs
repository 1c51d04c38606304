//! State shared by every request of an application: pooled Redis
//! connections and the SQLite files behind the default key-value store and
//! database, opened on first use.

use anyhow::{Context as _, Result};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::capabilities::redis::RedisPool;

/// One application's shared services.
pub struct AppServices {
    /// Where the default stores live (`.spin/` beside the manifest).
    pub state_dir: PathBuf,
    /// Redis connections by address.
    pub redis: RedisPool,
    databases: Mutex<HashMap<PathBuf, Arc<Mutex<Connection>>>>,
}

impl AppServices {
    /// Services keeping their files under `state_dir`.
    pub fn new(state_dir: PathBuf) -> Self {
        Self {
            state_dir,
            redis: RedisPool::default(),
            databases: Mutex::default(),
        }
    }

    /// The connection to the SQLite file `name` in the state directory,
    /// opened (and created) on first use, then shared.
    pub fn database(&self, name: &str) -> Result<Arc<Mutex<Connection>>> {
        let path = self.state_dir.join(name);
        let mut dbs = self.databases.lock().expect("database map lock");
        if let Some(db) = dbs.get(&path) {
            return Ok(db.clone());
        }
        let db = Arc::new(Mutex::new(open(&path)?));
        dbs.insert(path, db.clone());
        Ok(db)
    }
}

fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    }
    let conn = Connection::open(path).with_context(|| format!("opening `{}`", path.display()))?;
    // WAL lets readers proceed while a writer commits; the busy timeout makes
    // concurrent `spin up`s on one state dir wait instead of failing.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}
