//! `fermyon:spin/postgres@2.0.0`, whose types (shared with MySQL) have
//! unsigned integers and no dates.

use super::*;
use rdbms_types::{Column, DbDataType, DbValue, Error, ParameterValue, RowSet};

fn param(value: ParameterValue) -> Result<Param, String> {
    Ok(param_cases!(value, {
        // PostgreSQL has no unsigned types: widen to the next signed one.
        ParameterValue::Uint8(v) => Param::I16(v.into()),
        ParameterValue::Uint16(v) => Param::I32(v.into()),
        ParameterValue::Uint32(v) => Param::I64(v.into()),
        ParameterValue::Uint64(v) => Param::I64(
            i64::try_from(v).map_err(|_| format!("{v} does not fit PostgreSQL's bigint"))?,
        ),
    }))
}

fn value(value: Value) -> DbValue {
    value_cases!(value, { _ => DbValue::Unsupported })
}

fn data_type(ty: ColumnType) -> DbDataType {
    type_cases!(ty, { _ => DbDataType::Other })
}

impl v2::Host for ConnectionState {}

/// The types shared with MySQL; the interface has no functions.
impl rdbms_types::Host for HostState {}

fn query_failed(failure: QueryFailure) -> Error {
    Error::QueryFailed(failure.text)
}

host_connection!(v2);
