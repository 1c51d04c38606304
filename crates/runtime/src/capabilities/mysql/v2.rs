//! `fermyon:spin/mysql@2.0.0`.

use super::*;
use crate::capabilities::bindings::mysql::{Host, HostConnection};

impl Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, Error>> {
        super::open(self, address).await
    }

    async fn query(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        super::query(self, &conn, statement, values).await
    }

    async fn execute(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<(), Error>> {
        super::execute(self, &conn, statement, values).await
    }

    async fn drop(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.connections.delete(conn)?;
        Ok(())
    }
}
