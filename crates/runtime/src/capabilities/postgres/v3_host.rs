//! `spin:postgres@3.0.0`: signed integers only, plus dates and times.

use super::*;
use v3::{Column, DbDataType, DbValue, Error, ParameterValue, RowSet};

fn param(value: ParameterValue) -> Result<Param, String> {
    Ok(param_cases!(value, dated {}))
}

fn value(value: Value) -> DbValue {
    value_cases!(value, dated { _ => DbValue::Unsupported })
}

fn data_type(ty: ColumnType) -> DbDataType {
    type_cases!(ty, dated { _ => DbDataType::Other })
}

impl v3::Host for ConnectionState {}

fn query_failed(failure: QueryFailure) -> Error {
    Error::QueryFailed(failure.text)
}

host_connection!(v3);
