//! `spin:sqlite@3.1.0`: the 2.0 operations, async versions of them (rows as
//! a stream), and the last insert's row id and change count.

use super::*;
use crate::capabilities::access::stream_of;
use crate::capabilities::bindings::v3::sqlite::{
    Error as E3, Host, HostConnection, HostConnectionWithStore, QueryResult as Q3, RowResult as R3,
    Value as V3,
};
use wasmtime::component::{Accessor, FutureReader, StreamReader};

impl From<Error> for E3 {
    fn from(e: Error) -> Self {
        match e {
            Error::NoSuchDatabase => Self::NoSuchDatabase,
            Error::AccessDenied => Self::AccessDenied,
            Error::InvalidConnection => Self::InvalidConnection,
            Error::DatabaseFull => Self::DatabaseFull,
            Error::Io(m) => Self::Io(m),
        }
    }
}

impl From<V3> for Value {
    fn from(v: V3) -> Self {
        match v {
            V3::Integer(i) => Self::Integer(i),
            V3::Real(f) => Self::Real(f),
            V3::Text(t) => Self::Text(t),
            V3::Blob(b) => Self::Blob(b),
            V3::Null => Self::Null,
        }
    }
}

impl From<RowResult> for R3 {
    fn from(row: RowResult) -> Self {
        let values = row
            .values
            .into_iter()
            .map(|v| match v {
                Value::Integer(i) => V3::Integer(i),
                Value::Real(f) => V3::Real(f),
                Value::Text(t) => V3::Text(t),
                Value::Blob(b) => V3::Blob(b),
                Value::Null => V3::Null,
            })
            .collect();
        Self { values }
    }
}

fn params(parameters: Vec<V3>) -> Vec<Value> {
    parameters.into_iter().map(Value::from).collect()
}

impl Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, E3>> {
        Ok(super::open(self, database)?.map_err(E3::from))
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<V3>,
    ) -> wasmtime::Result<Result<Q3, E3>> {
        let result = super::execute(self, &conn, statement, params(parameters)).await?;
        Ok(result
            .map(|r| Q3 {
                columns: r.columns,
                rows: r.rows.into_iter().map(R3::from).collect(),
            })
            .map_err(E3::from))
    }

    async fn last_insert_rowid(
        &mut self,
        conn: Resource<SqliteConnection>,
    ) -> wasmtime::Result<i64> {
        Ok(last(self, &conn)?.0)
    }

    async fn changes(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<u64> {
        Ok(last(self, &conn)?.1)
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.connections.delete(conn)?;
        Ok(())
    }
}

impl<T: 'static> HostConnectionWithStore<T> for Connections {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, E3>> {
        Ok(super::open(accessor, database)?.map_err(E3::from))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<V3>,
    ) -> wasmtime::Result<Result<(Vec<String>, StreamReader<R3>, FutureReader<Result<(), E3>>), E3>>
    {
        // The rows are read within the statement's deadline and memory
        // budget, then streamed to the guest.
        let result = super::execute(accessor, &conn, statement, params(parameters)).await?;
        let result = match result {
            Ok(result) => result,
            Err(e) => return Ok(Err(E3::from(e))),
        };
        let rows: Vec<R3> = result.rows.into_iter().map(R3::from).collect();
        let (rows, done) = stream_of(accessor, rows, Ok(()))?;
        Ok(Ok((result.columns, rows, done)))
    }

    async fn last_insert_rowid_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
    ) -> wasmtime::Result<i64> {
        Ok(last(accessor, &conn)?.0)
    }

    async fn changes_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<SqliteConnection>,
    ) -> wasmtime::Result<u64> {
        Ok(last(accessor, &conn)?.1)
    }
}
