//! The values of Spin 1's PostgreSQL and MySQL interfaces
//! (`fermyon:spin/rdbms-types`, unversioned) as the 2.0 ones: the same
//! cases in the same order, so each converts case for case and both
//! interfaces' Spin 1 adapters run over their 2.0 implementations.

use crate::capabilities::bindings::rdbms_types as v2;
use crate::capabilities::bindings::v1::rdbms_types as v1;
use crate::state::HostState;

/// The types are shared; the interface has no functions.
impl v1::Host for HostState {}

/// A Spin 1 parameter as a 2.0 one.
pub(crate) fn param(value: v1::ParameterValue) -> v2::ParameterValue {
    use v1::ParameterValue as P;
    match value {
        P::Boolean(v) => v2::ParameterValue::Boolean(v),
        P::Int8(v) => v2::ParameterValue::Int8(v),
        P::Int16(v) => v2::ParameterValue::Int16(v),
        P::Int32(v) => v2::ParameterValue::Int32(v),
        P::Int64(v) => v2::ParameterValue::Int64(v),
        P::Uint8(v) => v2::ParameterValue::Uint8(v),
        P::Uint16(v) => v2::ParameterValue::Uint16(v),
        P::Uint32(v) => v2::ParameterValue::Uint32(v),
        P::Uint64(v) => v2::ParameterValue::Uint64(v),
        P::Floating32(v) => v2::ParameterValue::Floating32(v),
        P::Floating64(v) => v2::ParameterValue::Floating64(v),
        P::Str(v) => v2::ParameterValue::Str(v),
        P::Binary(v) => v2::ParameterValue::Binary(v),
        P::DbNull => v2::ParameterValue::DbNull,
    }
}

/// A 2.0 value as a Spin 1 one.
fn value(value: v2::DbValue) -> v1::DbValue {
    use v2::DbValue as V;
    match value {
        V::Boolean(v) => v1::DbValue::Boolean(v),
        V::Int8(v) => v1::DbValue::Int8(v),
        V::Int16(v) => v1::DbValue::Int16(v),
        V::Int32(v) => v1::DbValue::Int32(v),
        V::Int64(v) => v1::DbValue::Int64(v),
        V::Uint8(v) => v1::DbValue::Uint8(v),
        V::Uint16(v) => v1::DbValue::Uint16(v),
        V::Uint32(v) => v1::DbValue::Uint32(v),
        V::Uint64(v) => v1::DbValue::Uint64(v),
        V::Floating32(v) => v1::DbValue::Floating32(v),
        V::Floating64(v) => v1::DbValue::Floating64(v),
        V::Str(v) => v1::DbValue::Str(v),
        V::Binary(v) => v1::DbValue::Binary(v),
        V::DbNull => v1::DbValue::DbNull,
        V::Unsupported => v1::DbValue::Unsupported,
    }
}

/// A 2.0 column type as a Spin 1 one.
fn data_type(ty: v2::DbDataType) -> v1::DbDataType {
    use v2::DbDataType as T;
    match ty {
        T::Boolean => v1::DbDataType::Boolean,
        T::Int8 => v1::DbDataType::Int8,
        T::Int16 => v1::DbDataType::Int16,
        T::Int32 => v1::DbDataType::Int32,
        T::Int64 => v1::DbDataType::Int64,
        T::Uint8 => v1::DbDataType::Uint8,
        T::Uint16 => v1::DbDataType::Uint16,
        T::Uint32 => v1::DbDataType::Uint32,
        T::Uint64 => v1::DbDataType::Uint64,
        T::Floating32 => v1::DbDataType::Floating32,
        T::Floating64 => v1::DbDataType::Floating64,
        T::Str => v1::DbDataType::Str,
        T::Binary => v1::DbDataType::Binary,
        T::Other => v1::DbDataType::Other,
    }
}

/// A 2.0 result as a Spin 1 one.
pub(crate) fn row_set(rows: v2::RowSet) -> v1::RowSet {
    v1::RowSet {
        columns: rows
            .columns
            .into_iter()
            .map(|c| v1::Column {
                name: c.name,
                data_type: data_type(c.data_type),
            })
            .collect(),
        rows: rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect(),
    }
}

/// A 2.0 error as the cases both Spin 1 error types have (`pg-error`,
/// `mysql-error`).
macro_rules! v1_error {
    ($error:expr, $v1:ident) => {
        match $error {
            v2::Error::ConnectionFailed(m) => $v1::ConnectionFailed(m),
            v2::Error::BadParameter(m) => $v1::BadParameter(m),
            v2::Error::QueryFailed(m) => $v1::QueryFailed(m),
            v2::Error::ValueConversionFailed(m) => $v1::ValueConversionFailed(m),
            v2::Error::Other(m) => $v1::OtherError(m),
        }
    };
}

/// A 2.0 error as Spin 1's PostgreSQL reports it.
pub(crate) fn pg_error(error: v2::Error) -> crate::capabilities::bindings::v1::postgres::PgError {
    use crate::capabilities::bindings::v1::postgres::PgError;
    v1_error!(error, PgError)
}

/// A 2.0 error as Spin 1's MySQL reports it.
pub(crate) fn mysql_error(
    error: v2::Error,
) -> crate::capabilities::bindings::v1::mysql::MysqlError {
    use crate::capabilities::bindings::v1::mysql::MysqlError;
    v1_error!(error, MysqlError)
}

/// Spin 1's PostgreSQL or MySQL interface over the 2.0 one: every
/// statement names its server, so each opens a connection through the 2.0
/// `open` (the same allow list, pool and caps), runs as a 2.0 statement
/// does, and closes it. `$v2`/`$v1` name the interfaces, `$error` Spin 1's
/// error type and `$to_error` the function making it, `$executed` what
/// `execute` answers.
macro_rules! statement_per_connection {
    ($v2:ident, $v1:ident, $error:ident, $to_error:ident, $executed:ty) => {
        use crate::capabilities::bindings::v1::rdbms_types::{ParameterValue, RowSet};
        use crate::capabilities::bindings::v1::$v1::{Host, $error};
        use crate::capabilities::bindings::$v2::HostConnection;
        use crate::capabilities::rdbms_v1;

        impl Host for ConnectionState {
            async fn query(
                &mut self,
                address: String,
                statement: String,
                params: Vec<ParameterValue>,
            ) -> wasmtime::Result<Result<RowSet, $error>> {
                let conn = match HostConnection::open(self, address).await? {
                    Ok(conn) => conn,
                    Err(e) => return Ok(Err(rdbms_v1::$to_error(e))),
                };
                let params = params.into_iter().map(rdbms_v1::param).collect();
                let borrowed = Resource::new_borrow(conn.rep());
                let rows = HostConnection::query(self, borrowed, statement, params).await?;
                HostConnection::drop(self, conn).await?;
                Ok(rows.map(rdbms_v1::row_set).map_err(rdbms_v1::$to_error))
            }

            async fn execute(
                &mut self,
                address: String,
                statement: String,
                params: Vec<ParameterValue>,
            ) -> wasmtime::Result<Result<$executed, $error>> {
                let conn = match HostConnection::open(self, address).await? {
                    Ok(conn) => conn,
                    Err(e) => return Ok(Err(rdbms_v1::$to_error(e))),
                };
                let params = params.into_iter().map(rdbms_v1::param).collect();
                let borrowed = Resource::new_borrow(conn.rep());
                let done = HostConnection::execute(self, borrowed, statement, params).await?;
                HostConnection::drop(self, conn).await?;
                Ok(done.map_err(rdbms_v1::$to_error))
            }
        }
    };
}

pub(crate) use statement_per_connection;
