//! `fermyon:spin/sqlite@2.0.0`.

use super::*;
use crate::capabilities::bindings::sqlite::{Host, HostConnection};

impl Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, Error>> {
        super::open(self, database)
    }

    async fn execute(
        &mut self,
        conn: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        super::execute(self, &conn, statement, parameters).await
    }

    async fn drop(&mut self, conn: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.connections.delete(conn)?;
        Ok(())
    }
}
