//! `spin:mysql@3.0.0` (spin-sdk 5): the same operations as `async func`s,
//! rows as a stream. Its types are `rdbms-types`' with other names.

use super::*;
use crate::capabilities::access::stream_of;
use crate::capabilities::bindings::v3::mysql as m3;
use m3::{HostConnection, HostConnectionWithStore};
use wasmtime::component::{Accessor, FutureReader, StreamReader};

fn error(e: Error) -> m3::Error {
    match e {
        Error::ConnectionFailed(m) => m3::Error::ConnectionFailed(m),
        Error::BadParameter(m) => m3::Error::BadParameter(m),
        Error::QueryFailed(m) => m3::Error::QueryFailed(m),
        Error::ValueConversionFailed(m) => m3::Error::ValueConversionFailed(m),
        Error::Other(m) => m3::Error::Other(m),
    }
}

fn parameter(p: m3::ParameterValue) -> ParameterValue {
    use m3::ParameterValue as P;
    match p {
        P::Boolean(v) => ParameterValue::Boolean(v),
        P::Int8(v) => ParameterValue::Int8(v),
        P::Int16(v) => ParameterValue::Int16(v),
        P::Int32(v) => ParameterValue::Int32(v),
        P::Int64(v) => ParameterValue::Int64(v),
        P::Uint8(v) => ParameterValue::Uint8(v),
        P::Uint16(v) => ParameterValue::Uint16(v),
        P::Uint32(v) => ParameterValue::Uint32(v),
        P::Uint64(v) => ParameterValue::Uint64(v),
        P::Floating32(v) => ParameterValue::Floating32(v),
        P::Floating64(v) => ParameterValue::Floating64(v),
        P::Str(v) => ParameterValue::Str(v),
        P::Binary(v) => ParameterValue::Binary(v),
        P::DbNull => ParameterValue::DbNull,
    }
}

fn value(v: DbValue) -> m3::DbValue {
    use m3::DbValue as V;
    match v {
        DbValue::Boolean(v) => V::Boolean(v),
        DbValue::Int8(v) => V::Int8(v),
        DbValue::Int16(v) => V::Int16(v),
        DbValue::Int32(v) => V::Int32(v),
        DbValue::Int64(v) => V::Int64(v),
        DbValue::Uint8(v) => V::Uint8(v),
        DbValue::Uint16(v) => V::Uint16(v),
        DbValue::Uint32(v) => V::Uint32(v),
        DbValue::Uint64(v) => V::Uint64(v),
        DbValue::Floating32(v) => V::Floating32(v),
        DbValue::Floating64(v) => V::Floating64(v),
        DbValue::Str(v) => V::Str(v),
        DbValue::Binary(v) => V::Binary(v),
        DbValue::DbNull => V::DbNull,
        DbValue::Unsupported => V::Unsupported,
    }
}

fn data_type(t: DbDataType) -> m3::DbDataType {
    use m3::DbDataType as T;
    match t {
        DbDataType::Boolean => T::Boolean,
        DbDataType::Int8 => T::Int8,
        DbDataType::Int16 => T::Int16,
        DbDataType::Int32 => T::Int32,
        DbDataType::Int64 => T::Int64,
        DbDataType::Uint8 => T::Uint8,
        DbDataType::Uint16 => T::Uint16,
        DbDataType::Uint32 => T::Uint32,
        DbDataType::Uint64 => T::Uint64,
        DbDataType::Floating32 => T::Floating32,
        DbDataType::Floating64 => T::Floating64,
        DbDataType::Str => T::Str,
        DbDataType::Binary => T::Binary,
        DbDataType::Other => T::Other,
    }
}

fn parameters(values: Vec<m3::ParameterValue>) -> Vec<ParameterValue> {
    values.into_iter().map(parameter).collect()
}

impl m3::Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn drop(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.connections.delete(conn)?;
        Ok(())
    }
}

impl<T: 'static> HostConnectionWithStore<T> for Connections {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, m3::Error>> {
        Ok(super::open(accessor, address).await?.map_err(error))
    }

    async fn query(
        accessor: &Accessor<T, Self>,
        conn: Resource<MysqlConnection>,
        statement: String,
        values: Vec<m3::ParameterValue>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<m3::Column>,
                StreamReader<Vec<m3::DbValue>>,
                FutureReader<Result<(), m3::Error>>,
            ),
            m3::Error,
        >,
    > {
        let rows = match super::query(accessor, &conn, statement, parameters(values)).await? {
            Ok(rows) => rows,
            Err(e) => return Ok(Err(error(e))),
        };
        let columns = rows
            .columns
            .into_iter()
            .map(|c| m3::Column {
                name: c.name,
                data_type: data_type(c.data_type),
            })
            .collect();
        let rows: Vec<Vec<m3::DbValue>> = rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect();
        let (rows, done) = stream_of(accessor, rows, Ok(()))?;
        Ok(Ok((columns, rows, done)))
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        conn: Resource<MysqlConnection>,
        statement: String,
        values: Vec<m3::ParameterValue>,
    ) -> wasmtime::Result<Result<(), m3::Error>> {
        let done = super::execute(accessor, &conn, statement, parameters(values)).await?;
        Ok(done.map_err(error))
    }
}
