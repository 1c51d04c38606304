//! `fermyon:spin/sqlite` (Spin 1): the 2.0 operations, with a connection
//! named by the index of its entry in the instance's table.

use super::*;
use crate::capabilities::bindings::v1::sqlite::{
    Error as V1Error, Host, QueryResult as V1QueryResult, RowResult as V1RowResult,
    Value as V1Value,
};

/// A 2.0 error as Spin 1 reported it (the same cases).
fn v1_error(error: Error) -> V1Error {
    match error {
        Error::NoSuchDatabase => V1Error::NoSuchDatabase,
        Error::AccessDenied => V1Error::AccessDenied,
        Error::InvalidConnection => V1Error::InvalidConnection,
        Error::DatabaseFull => V1Error::DatabaseFull,
        Error::Io(message) => V1Error::Io(message),
    }
}

fn to_v2(value: V1Value) -> Value {
    match value {
        V1Value::Integer(i) => Value::Integer(i),
        V1Value::Real(r) => Value::Real(r),
        V1Value::Text(t) => Value::Text(t),
        V1Value::Blob(b) => Value::Blob(b),
        V1Value::Null => Value::Null,
    }
}

fn to_v1(value: Value) -> V1Value {
    match value {
        Value::Integer(i) => V1Value::Integer(i),
        Value::Real(r) => V1Value::Real(r),
        Value::Text(t) => V1Value::Text(t),
        Value::Blob(b) => V1Value::Blob(b),
        Value::Null => V1Value::Null,
    }
}

impl Host for ConnectionState {
    async fn open(&mut self, database: String) -> wasmtime::Result<Result<u32, V1Error>> {
        Ok(super::open(self, database)?
            .map(|conn| conn.rep())
            .map_err(v1_error))
    }

    async fn execute(
        &mut self,
        conn: u32,
        statement: String,
        parameters: Vec<V1Value>,
    ) -> wasmtime::Result<Result<V1QueryResult, V1Error>> {
        let Some(conn) = self.numbered::<SqliteConnection>(conn) else {
            return Ok(Err(V1Error::InvalidConnection));
        };
        let parameters = parameters.into_iter().map(to_v2).collect();
        Ok(super::execute(self, &conn, statement, parameters)
            .await?
            .map(|result| V1QueryResult {
                columns: result.columns,
                rows: result
                    .rows
                    .into_iter()
                    .map(|row| V1RowResult {
                        values: row.values.into_iter().map(to_v1).collect(),
                    })
                    .collect(),
            })
            .map_err(v1_error))
    }

    async fn close(&mut self, conn: u32) -> wasmtime::Result<()> {
        self.close_numbered::<SqliteConnection>(conn)
    }
}
