//! SQLite (`fermyon:spin/sqlite@2.0.0`). A component may open only the
//! databases its manifest lists in `sqlite_databases`. The runtime config
//! file says where each label's database lives; the `default` database is a
//! file in the state directory unless configured otherwise.
//!
//! Statements run sandboxed (see [`crate::services::Database`]): no file
//! other than the database is reachable unless the runtime config says
//! `allow_attach_file = true`, a statement stops shortly before its request's
//! deadline, and a result may not exceed the instance memory limit.

use rusqlite::types::{Value as SqlValue, ValueRef};
use std::sync::Arc;
use wasmtime::component::Resource;

use crate::capabilities::bindings::sqlite::{
    Error, Host, HostConnection, QueryResult, RowResult, Value,
};
use crate::services::{AppServices, Database, DatabaseError, ResultBudget};
use crate::state::HostState;

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
}

impl Host for HostState {}

impl HostConnection for HostState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, Error>> {
        if !self.component.sqlite_databases.contains(&database) {
            tracing::error!(
                "component `{}` opened the SQLite database `{database}`, which it is not allowed to use\n\nhint: add `sqlite_databases = [\"{database}\"]` to the component in `{}`",
                self.component.id,
                self.component.manifest_path.display()
            );
            return Ok(Err(Error::AccessDenied));
        }
        match self.component.services.sqlite_connection(&database) {
            None => Ok(Err(Error::NoSuchDatabase)),
            Some(Ok(db)) => Ok(Ok(self.table.push(SqliteConnection { db })?)),
            Some(Err(e)) => Ok(Err(Error::Io(format!("{e:#}")))),
        }
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let db = self.table.get(&conn)?.db.clone();
        let result = db
            .run(self.query_deadline, move |conn, budget| {
                query(conn, &statement, parameters, budget)
            })
            .await;
        if let Err(e @ (DatabaseError::Refused(_) | DatabaseError::TooLarge { .. })) = &result {
            tracing::warn!(component = %self.component.id, "SQLite statement refused: {e}");
        }
        Ok(result.map_err(|e| Error::Io(e.to_string())))
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

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
