//! SQLite (`fermyon:spin/sqlite@2.0.0`). A component may open only the
//! databases its manifest lists in `sqlite_databases`. The runtime config
//! file says where each label's database lives; the `default` database is a
//! file in the state directory unless configured otherwise.
//!
//! Statements run sandboxed (see [`crate::services::Database`]): no file
//! other than the database is reachable unless the runtime config says
//! `allow_attach_file = true`, a statement stops shortly before its request's
//! deadline, and a result may not exceed `--max-result-size` (at most the
//! instance memory limit).

/// This capability's runtime-config table, `[sqlite_database.<label>]`:
/// parsed by the pure `spin-runtime-config` crate before anything
/// compiles; [`crate::services::Database`] opens what it says.
pub use spin_runtime_config::sqlite as runtime_config;

use rusqlite::types::{Value as SqlValue, ValueRef};
use std::sync::Arc;
use wasmtime::component::Resource;

use crate::capabilities::access::InstanceAccess;
use crate::capabilities::bindings::sqlite::{Error, QueryResult, RowResult, Value};
use crate::capabilities::connections::{ConnectionState, Connections, TOO_MANY_CONNECTIONS};
use crate::services::{AppServices, Database, DatabaseError, ResultBudget};

/// `spin up --sqlite`: runs each of `statements` (one or more SQL
/// statements each, e.g. a migration file's text) against the `default`
/// database, in order, before anything is served.
pub(crate) async fn run_on_default_database(
    services: &Arc<AppServices>,
    statements: &[String],
) -> anyhow::Result<()> {
    if statements.is_empty() {
        return Ok(());
    }
    let db = match services.sqlite_connection("default") {
        Some(db) => db?,
        None => {
            anyhow::bail!("there is no `default` SQLite database to run `--sqlite` statements on")
        }
    };
    for statement in statements {
        let sql = statement.clone();
        db.run(None, move |conn, _| conn.execute_batch(&sql).map_err(DatabaseError::Sqlite))
            .await
            .map_err(|e| {
                spin_hint::Hinted::new(
                    format!("`--sqlite {}` failed: {e}", shorten(statement)),
                    "check the statement against the default database; `--sqlite @file.sql` runs a file",
                )
            })?;
    }
    Ok(())
}

/// The start of a long statement, for messages.
fn shorten(statement: &str) -> String {
    let line = statement.trim().lines().next().unwrap_or_default();
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None if statement.trim().lines().count() > 1 => format!("{line}…"),
        None => line.to_owned(),
    }
}

/// A guest's handle on an open database.
pub struct SqliteConnection {
    db: Arc<Database>,
    /// The row id of this handle's last insert and the rows its last
    /// statement changed (`spin:sqlite@3.1.0`), read right after each
    /// statement, under the database's lock.
    last: std::sync::Mutex<(i64, u64)>,
}

/// Opens the database `database` for the component, if its manifest
/// grants it.
fn open(
    mut state: impl InstanceAccess<ConnectionState>,
    database: String,
) -> wasmtime::Result<Result<Resource<SqliteConnection>, Error>> {
    state.with_state(|state| {
        if !state.component.sqlite_databases.contains(&database) {
            tracing::error!(
                "component `{}` opened the SQLite database `{database}`, which it is not allowed to use\n\nhint: add `sqlite_databases = [\"{database}\"]` to the component in `{}`",
                state.component.id,
                state.component.manifest_path.display()
            );
            return Ok(Err(Error::AccessDenied));
        }
        match state.component.services.sqlite_connection(&database) {
            None => Ok(Err(Error::NoSuchDatabase)),
            Some(Ok(db)) => {
                let connection = SqliteConnection {
                    db,
                    last: Default::default(),
                };
                Ok(state
                    .push_handle(connection, "SQLite connections")?
                    .ok_or_else(|| Error::Io(TOO_MANY_CONNECTIONS.to_owned())))
            }
            Some(Err(e)) => Ok(Err(Error::Io(format!("{e:#}")))),
        }
    })
}

/// Runs `statement` on the guest's connection `conn`, within the request's
/// deadline and the instance's memory budget.
async fn execute(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<SqliteConnection>,
    statement: String,
    parameters: Vec<Value>,
) -> wasmtime::Result<Result<QueryResult, Error>> {
    let (db, deadline, component) = state.with_state(|state| -> wasmtime::Result<_> {
        Ok((
            state.connections.get(conn)?.db.clone(),
            state.deadline,
            state.component.id.clone(),
        ))
    })?;
    let result = db
        .run(deadline, move |conn, budget| {
            let result = query(conn, &statement, parameters, budget)?;
            Ok((result, conn.last_insert_rowid(), conn.changes()))
        })
        .await;
    if let Err(
        e @ (DatabaseError::Refused(_)
        | DatabaseError::TooLarge { .. }
        | DatabaseError::OutOfMemory { .. }),
    ) = &result
    {
        tracing::warn!(component = %component, "SQLite statement refused: {e}");
    }
    match result {
        Ok((result, rowid, changes)) => {
            state.with_state(|state| -> wasmtime::Result<()> {
                *state
                    .connections
                    .get(conn)?
                    .last
                    .lock()
                    .expect("sqlite stats") = (rowid, changes);
                Ok(())
            })?;
            Ok(Ok(result))
        }
        Err(e) => Ok(Err(Error::Io(e.to_string()))),
    }
}

/// The row id of the last insert and the rows changed by the last
/// statement on `conn`.
fn last(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<SqliteConnection>,
) -> wasmtime::Result<(i64, u64)> {
    state.with_state(|state| {
        Ok(*state
            .connections
            .get(conn)?
            .last
            .lock()
            .expect("sqlite stats"))
    })
}

/// Registers every version of the SQLite interfaces
/// (`fermyon:spin/sqlite@2.0.0`, `spin:sqlite@3.1.0`), each reaching the
/// instance's SQLite [`ConnectionState`] (its open databases and the
/// request's deadline) through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut ConnectionState,
) -> anyhow::Result<()> {
    crate::capabilities::bindings::sqlite::add_to_linker::<T, Connections>(linker, get)?;
    crate::capabilities::bindings::v1::sqlite::add_to_linker::<T, Connections>(linker, get)?;
    crate::capabilities::bindings::v3::sqlite::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

mod v1;

mod v2;

mod v3;

/// What one value costs the host besides its bytes (the enum itself).
const VALUE_OVERHEAD: usize = size_of::<Value>();

fn query(
    conn: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
    budget: &mut ResultBudget,
) -> Result<QueryResult, DatabaseError> {
    let mut stmt = conn.prepare_cached(statement)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    budget.spend(columns.iter().map(|c| c.len() + VALUE_OVERHEAD).sum())?;
    let params: Vec<SqlValue> = parameters
        .into_iter()
        .map(|v| match v {
            Value::Integer(i) => SqlValue::Integer(i),
            Value::Real(f) => SqlValue::Real(f),
            Value::Text(s) => SqlValue::Text(s),
            Value::Blob(b) => SqlValue::Blob(b),
            Value::Null => SqlValue::Null,
        })
        .collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = cursor.next()? {
        let values = (0..width)
            .map(|i| {
                let value = row.get_ref(i)?;
                // Counted before copying, so an over-limit result is refused
                // without the host ever holding it.
                let bytes = match value {
                    ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
                    _ => 0,
                };
                budget.spend(bytes + VALUE_OVERHEAD)?;
                Ok(match value {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Integer(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                })
            })
            .collect::<Result<_, DatabaseError>>()?;
        rows.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows })
}
