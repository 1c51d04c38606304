//! `spin:postgres@4.2.0` (Spin 4): 4.0's types and functions, a
//! connection builder, and `async func` variants whose rows stream.

use crate::capabilities::bindings::v3::postgres as v4;
v4_conversions!();
use crate::capabilities::access::stream_of;
use crate::capabilities::connections::TOO_MANY_CONNECTIONS;
use v4::{HostConnectionBuilder, HostConnectionBuilderWithStore, HostConnectionWithStore};
use wasmtime::component::{Accessor, FutureReader, StreamReader};

impl v4::Host for ConnectionState {}

host_connection!(v4);

impl<T: 'static> HostConnectionWithStore<T> for Connections {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        Ok(open(accessor, address).await?.map_err(Error::from))
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<PgConnection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<Column>,
                StreamReader<Vec<DbValue>>,
                FutureReader<Result<(), Error>>,
            ),
            Error,
        >,
    > {
        // The rows are read (within the instance's limits) before they
        // stream to the guest.
        let rows = match run_query(accessor, &conn, statement, params(values)).await? {
            Ok(rows) => rows,
            Err(e) => return Ok(Err(Error::from(e))),
        };
        let cols = columns(rows.columns);
        let rows: Vec<Vec<DbValue>> = rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect();
        let (rows, done) = stream_of(accessor, rows, Ok(()))?;
        Ok(Ok((cols, rows, done)))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        conn: Resource<PgConnection>,
        statement: String,
        values: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let count = run_execute(accessor, &conn, statement, params(values)).await?;
        Ok(count.map_err(Error::from))
    }
}

impl HostConnectionBuilder for ConnectionState {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<PgConnectionBuilder>> {
        let builder = PgConnectionBuilder {
            address,
            ca_root: None,
        };
        // A constructor has no error to answer with: past the cap, the
        // call fails (logged once with the flag to raise).
        self.push_handle(builder, "PostgreSQL connections and builders")?
            .ok_or_else(|| wasmtime::format_err!("{TOO_MANY_CONNECTIONS}"))
    }

    async fn set_ca_root(
        &mut self,
        builder: Resource<PgConnectionBuilder>,
        certificate: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.connections.get_mut(&builder)?.ca_root = Some(certificate);
        Ok(Ok(()))
    }

    async fn build(
        &mut self,
        builder: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        let builder = self.connections.get(&builder)?;
        let (address, ca_root) = (builder.address.clone(), builder.ca_root.clone());
        Ok(open_trusting(self, address, ca_root)
            .await?
            .map_err(Error::from))
    }

    async fn drop(&mut self, builder: Resource<PgConnectionBuilder>) -> wasmtime::Result<()> {
        self.connections.delete(builder)?;
        Ok(())
    }
}

impl<T: 'static> HostConnectionBuilderWithStore<T> for Connections {
    async fn build_async(
        mut accessor: &Accessor<T, Self>,
        builder: Resource<PgConnectionBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        let (address, ca_root) = accessor.with_state(|state| -> wasmtime::Result<_> {
            let builder = state.connections.get(&builder)?;
            Ok((builder.address.clone(), builder.ca_root.clone()))
        })?;
        Ok(open_trusting(accessor, address, ca_root)
            .await?
            .map_err(Error::from))
    }
}
