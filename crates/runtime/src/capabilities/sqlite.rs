//! SQLite (`fermyon:spin/sqlite@2.0.0`). A component may open only the
//! databases its manifest lists in `sqlite_databases`. The runtime config
//! file says where each label's database lives; the `default` database is a
//! file in the state directory unless configured otherwise.

use rusqlite::types::{Value as SqlValue, ValueRef};
use std::sync::{Arc, Mutex};
use wasmtime::component::Resource;

use crate::capabilities::bindings::sqlite::{
    Error, Host, HostConnection, QueryResult, RowResult, Value,
};
use crate::state::HostState;

/// A guest's handle on an open database.
pub struct SqliteConnection {
    db: Arc<Mutex<rusqlite::Connection>>,
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
        let services = &self.component.services;
        let Some(location) = services.sqlite_database(&database) else {
            return Ok(Err(Error::NoSuchDatabase));
        };
        match services.database(&format!("sqlite_database.{database}"), location) {
            Ok(db) => Ok(Ok(self.table.push(SqliteConnection { db })?)),
            Err(e) => Ok(Err(Error::Io(format!("{e:#}")))),
        }
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let db = self.table.get(&conn)?.db.clone();
        let result = tokio::task::spawn_blocking(move || {
            let conn = db.lock().expect("database lock");
            query(&conn, &statement, parameters)
        })
        .await?;
        Ok(result.map_err(|e| Error::Io(e.to_string())))
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

fn query(
    conn: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
) -> rusqlite::Result<QueryResult> {
    let mut stmt = conn.prepare_cached(statement)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
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
                Ok(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Integer(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                })
            })
            .collect::<rusqlite::Result<_>>()?;
        rows.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows })
}
