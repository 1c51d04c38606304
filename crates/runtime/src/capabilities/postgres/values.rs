//! PostgreSQL values independent of the interface version: parameters are
//! bound and columns read through these, then converted to the types of
//! `fermyon:spin/postgres@2.0.0` or `spin:postgres@3.0.0`/`@4.0.0`.

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use std::error::Error as StdError;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};
use uuid::Uuid;

use super::rich::RawBytes;
pub use super::rich::{Interval, JsonText, Range};

/// A statement parameter.
#[derive(Debug)]
pub enum Param {
    Bool(bool),
    /// PostgreSQL's one-byte `"char"`.
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    /// A Unix timestamp, bound as `timestamptz`.
    Timestamp(DateTime<Utc>),
    Uuid(Uuid),
    Json(JsonText),
    Decimal(Decimal),
    RangeI32(Range<i32>),
    RangeI64(Range<i64>),
    RangeDecimal(Range<Decimal>),
    ArrayI32(Vec<Option<i32>>),
    ArrayI64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<Decimal>>),
    ArrayStr(Vec<Option<String>>),
    Interval(Interval),
    Null,
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> SqlResult {
        self.to_sql_checked(ty, out)
    }

    /// Every parameter accepts every type here; the check that matters is
    /// the inner value's, made in `to_sql_checked`.
    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> SqlResult {
        match self {
            Param::Bool(v) => v.to_sql_checked(ty, out),
            Param::I8(v) => integer(i64::from(*v), ty, out, |out| v.to_sql_checked(ty, out)),
            Param::I16(v) => integer(i64::from(*v), ty, out, |out| v.to_sql_checked(ty, out)),
            Param::I32(v) => integer(i64::from(*v), ty, out, |out| v.to_sql_checked(ty, out)),
            Param::I64(v) => integer(*v, ty, out, |out| v.to_sql_checked(ty, out)),
            Param::F32(v) => float(f64::from(*v), ty, out, |out| v.to_sql_checked(ty, out)),
            Param::F64(v) => float(*v, ty, out, |out| v.to_sql_checked(ty, out)),
            Param::Str(v) => v.to_sql_checked(ty, out),
            Param::Bytes(v) => v.to_sql_checked(ty, out),
            Param::Date(v) => v.to_sql_checked(ty, out),
            Param::Time(v) => v.to_sql_checked(ty, out),
            Param::DateTime(v) => v.to_sql_checked(ty, out),
            Param::Timestamp(v) => v.to_sql_checked(ty, out),
            Param::Uuid(v) => v.to_sql_checked(ty, out),
            Param::Json(v) => v.to_sql_checked(ty, out),
            Param::Decimal(v) => v.to_sql_checked(ty, out),
            Param::RangeI32(v) => v.to_sql_checked(ty, out),
            Param::RangeI64(v) => v.to_sql_checked(ty, out),
            Param::RangeDecimal(v) => v.to_sql_checked(ty, out),
            Param::ArrayI32(v) => v.to_sql_checked(ty, out),
            Param::ArrayI64(v) => v.to_sql_checked(ty, out),
            Param::ArrayDecimal(v) => v.to_sql_checked(ty, out),
            Param::ArrayStr(v) => v.to_sql_checked(ty, out),
            Param::Interval(v) => v.to_sql_checked(ty, out),
            // NULL fits a column of any type.
            Param::Null => Ok(IsNull::Yes),
        }
    }
}

type SqlResult = Result<IsNull, Box<dyn StdError + Sync + Send>>;

/// Binds an integer to any integer column it fits, as PostgreSQL's own
/// casts would: SDKs in untyped languages (Python's `int`) send every
/// integer as 64-bit. Other column types get the value's own typed check,
/// whose error names both types.
fn integer(
    value: i64,
    ty: &Type,
    out: &mut BytesMut,
    typed: impl FnOnce(&mut BytesMut) -> SqlResult,
) -> SqlResult {
    let range = |_| format!("{value} is out of range for a column of type {ty}");
    match *ty {
        Type::CHAR => i8::try_from(value).map_err(range)?.to_sql(ty, out),
        Type::INT2 => i16::try_from(value).map_err(range)?.to_sql(ty, out),
        Type::INT4 => i32::try_from(value).map_err(range)?.to_sql(ty, out),
        Type::INT8 => value.to_sql(ty, out),
        _ => typed(out),
    }
}

/// Binds a float to either float column type.
fn float(
    value: f64,
    ty: &Type,
    out: &mut BytesMut,
    typed: impl FnOnce(&mut BytesMut) -> SqlResult,
) -> SqlResult {
    match *ty {
        Type::FLOAT4 => (value as f32).to_sql(ty, out),
        Type::FLOAT8 => value.to_sql(ty, out),
        _ => typed(out),
    }
}

/// A column's type, as the interfaces can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    Str,
    Bytes,
    Date,
    Time,
    DateTime,
    Uuid,
    Json,
    Decimal,
    RangeI32,
    RangeI64,
    RangeDecimal,
    ArrayI32,
    ArrayI64,
    ArrayDecimal,
    ArrayStr,
    Interval,
    /// Any other type, by its PostgreSQL name.
    Other(String),
}

impl ColumnType {
    pub fn of(ty: &Type) -> Self {
        match *ty {
            Type::BOOL => Self::Bool,
            Type::CHAR => Self::I8,
            Type::INT2 => Self::I16,
            Type::INT4 => Self::I32,
            Type::INT8 => Self::I64,
            Type::FLOAT4 => Self::F32,
            Type::FLOAT8 => Self::F64,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Self::Str,
            Type::BYTEA => Self::Bytes,
            Type::DATE => Self::Date,
            Type::TIME => Self::Time,
            Type::TIMESTAMP | Type::TIMESTAMPTZ => Self::DateTime,
            Type::UUID => Self::Uuid,
            Type::JSONB => Self::Json,
            Type::NUMERIC => Self::Decimal,
            Type::INT4_RANGE => Self::RangeI32,
            Type::INT8_RANGE => Self::RangeI64,
            Type::NUM_RANGE => Self::RangeDecimal,
            Type::INT4_ARRAY => Self::ArrayI32,
            Type::INT8_ARRAY => Self::ArrayI64,
            Type::NUMERIC_ARRAY => Self::ArrayDecimal,
            Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => Self::ArrayStr,
            Type::INTERVAL => Self::Interval,
            _ => Self::Other(ty.name().to_owned()),
        }
    }
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    /// In UTC: `timestamptz` values are converted, `timestamp` taken as is.
    DateTime(NaiveDateTime),
    Uuid(Uuid),
    Json(Vec<u8>),
    Decimal(Decimal),
    RangeI32(Range<i32>),
    RangeI64(Range<i64>),
    RangeDecimal(Range<Decimal>),
    ArrayI32(Vec<Option<i32>>),
    ArrayI64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<Decimal>>),
    ArrayStr(Vec<Option<String>>),
    Interval(Interval),
    Null,
    /// A value of a type no interface case carries, as its raw bytes.
    Unsupported(Vec<u8>),
}

impl Value {
    /// About how many bytes the value takes in the host, for the limit on a
    /// result's size.
    pub fn size(&self) -> usize {
        let heap = match self {
            Value::Str(s) => s.len(),
            Value::Bytes(b) | Value::Json(b) | Value::Unsupported(b) => b.len(),
            Value::ArrayI32(v) => v.len() * size_of::<Option<i32>>(),
            Value::ArrayI64(v) => v.len() * size_of::<Option<i64>>(),
            Value::ArrayDecimal(v) => v.len() * size_of::<Option<Decimal>>(),
            Value::ArrayStr(v) => v
                .iter()
                .map(|s| size_of::<Option<String>>() + s.as_ref().map_or(0, String::len))
                .sum(),
            _ => 0,
        };
        size_of::<Value>() + heap
    }
}

/// Reads column `index` of `row`, whose type is `ty`.
pub fn read(row: &Row, index: usize, ty: &Type) -> Result<Value, String> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a Row,
        index: usize,
        wrap: impl FnOnce(T) -> Value,
    ) -> Result<Value, String> {
        row.try_get::<_, Option<T>>(index)
            .map(|v| v.map_or(Value::Null, wrap))
            .map_err(|e| error_text(&e))
    }
    match ColumnType::of(ty) {
        ColumnType::Bool => get(row, index, Value::Bool),
        ColumnType::I8 => get(row, index, Value::I8),
        ColumnType::I16 => get(row, index, Value::I16),
        ColumnType::I32 => get(row, index, Value::I32),
        ColumnType::I64 => get(row, index, Value::I64),
        ColumnType::F32 => get(row, index, Value::F32),
        ColumnType::F64 => get(row, index, Value::F64),
        ColumnType::Str => get(row, index, Value::Str),
        ColumnType::Bytes => get(row, index, Value::Bytes),
        ColumnType::Date => get(row, index, Value::Date),
        ColumnType::Time => get(row, index, Value::Time),
        ColumnType::DateTime if *ty == Type::TIMESTAMPTZ => get(row, index, |v: DateTime<Utc>| {
            Value::DateTime(v.naive_utc())
        }),
        ColumnType::DateTime => get(row, index, Value::DateTime),
        ColumnType::Uuid => get(row, index, Value::Uuid),
        ColumnType::Json => get(row, index, |v: JsonText| Value::Json(v.0)),
        ColumnType::Decimal => get(row, index, Value::Decimal),
        ColumnType::RangeI32 => get(row, index, Value::RangeI32),
        ColumnType::RangeI64 => get(row, index, Value::RangeI64),
        ColumnType::RangeDecimal => get(row, index, Value::RangeDecimal),
        ColumnType::ArrayI32 => get(row, index, Value::ArrayI32),
        ColumnType::ArrayI64 => get(row, index, Value::ArrayI64),
        ColumnType::ArrayDecimal => get(row, index, Value::ArrayDecimal),
        ColumnType::ArrayStr => get(row, index, Value::ArrayStr),
        ColumnType::Interval => get(row, index, Value::Interval),
        ColumnType::Other(_) => get(row, index, |v: RawBytes| Value::Unsupported(v.0)),
    }
}

/// A client error as one line: the server's message and detail when the
/// server sent one, otherwise the error and its cause.
pub fn error_text(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        return text;
    }
    match error.source() {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// A date from year, month and day, refusing impossible dates.
pub fn date(year: i32, month: u8, day: u8) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(year, month.into(), day.into())
        .ok_or_else(|| format!("{year:04}-{month:02}-{day:02} is not a valid date"))
}

/// A time of day from hour, minute, second and nanosecond.
pub fn time(hour: u8, minute: u8, second: u8, nanos: u32) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)
        .ok_or_else(|| format!("{hour:02}:{minute:02}:{second:02}.{nanos:09} is not a valid time"))
}

/// A Unix timestamp in seconds.
pub fn timestamp(seconds: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("{seconds} is out of range"))
}

/// A date and time from its parts, refusing impossible ones.
pub fn datetime(
    (year, month, day, hour, minute, second, nanos): (i32, u8, u8, u8, u8, u8, u32),
) -> Result<NaiveDateTime, String> {
    Ok(NaiveDateTime::new(
        date(year, month, day)?,
        time(hour, minute, second, nanos)?,
    ))
}

/// A date as (year, month, day).
pub fn date_parts(d: NaiveDate) -> (i32, u8, u8) {
    use chrono::Datelike;
    // Months and days always fit a byte.
    (d.year(), d.month() as u8, d.day() as u8)
}

/// A time as (hour, minute, second, nanosecond).
pub fn time_parts(t: NaiveTime) -> (u8, u8, u8, u32) {
    use chrono::Timelike;
    (
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond(),
    )
}

/// A date and time as (year, month, day, hour, minute, second, nanosecond).
pub fn datetime_parts(dt: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (year, month, day) = date_parts(dt.date());
    let (hour, minute, second, nanos) = time_parts(dt.time());
    (year, month, day, hour, minute, second, nanos)
}
