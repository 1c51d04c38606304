//! Outbound MySQL and MariaDB (`fermyon:spin/mysql@2.0.0`).
//!
//! The address must be allowed by the component's `allowed_outbound_hosts`,
//! and the host connects to exactly the host and port that were checked.
//! Each server, database and user gets one connection pool for the whole
//! application; mysql_async resets a connection's session before reusing
//! it, and closes connections idle for a minute. TLS is as the URL's
//! `ssl-mode` asks (`tls.rs`).

mod tls;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

use crate::capabilities;
use crate::capabilities::access::InstanceAccess;
use crate::capabilities::allow_list::AddressRefused;
use crate::capabilities::allow_list::CheckedAddress;
use crate::capabilities::bindings::rdbms_types::{
    Column, DbDataType, DbValue, Error, ParameterValue, RowSet,
};
use crate::capabilities::connection_quota::ConnectionPermit;
use crate::capabilities::connections::{ConnectionState, Connections, TOO_MANY_CONNECTIONS};
use crate::runtime_config::Outbound;
use tls::SslMode;

/// How long to wait for a connection, new or pooled.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per pool: none kept when idle, at most this many open.
const POOL_CONSTRAINTS: PoolConstraints = match PoolConstraints::new(0, 16) {
    Some(constraints) => constraints,
    None => panic!("0..=16 is a valid pool size"),
};
/// How long an idle connection is kept.
const IDLE_TTL: Duration = Duration::from_secs(60);

/// A guest's handle on a pooled connection; dropping it returns the
/// connection to its pool.
pub struct MysqlConnection {
    /// Locked by the call using it; shared so that `spin:mysql@3.0.0`'s
    /// async calls need not hold the instance's state while they wait.
    conn: Arc<tokio::sync::Mutex<Conn>>,
    /// Its place under the runtime config's connection caps.
    _permit: ConnectionPermit,
}

/// One pool per server, database, user, options and TLS mode, shared by
/// all requests.
pub struct MysqlPools {
    pools: Mutex<HashMap<String, Pool>>,
    /// The client's `max_allowed_packet`: the most bytes of one packet (a
    /// row, a statement) its connections read or send.
    max_packet: usize,
    /// The `PREFERRED` pools whose server offered no TLS, and when that was
    /// found: their connections go plain at once until the finding is
    /// [`IDLE_TTL`] old, instead of first opening one that asks for TLS and
    /// is refused.
    without_tls: Mutex<HashMap<String, Instant>>,
}

/// The TLS mode `checked`'s URL asks for (the last `ssl-mode` counts);
/// any other option is refused.
fn ssl_mode(checked: &CheckedAddress) -> Result<SslMode, Error> {
    let mut mode = SslMode::Disabled;
    for (key, value) in checked.url.query_pairs() {
        if !tls::is_ssl_mode_key(&key) {
            return Err(Error::ConnectionFailed(format!(
                "unknown connection option `{key}`: only ssl-mode is supported"
            )));
        }
        mode = SslMode::parse(&key, &value).map_err(Error::ConnectionFailed)?;
    }
    Ok(mode)
}

/// What tells pools apart: server, database, user and TLS mode.
fn pool_key(checked: &CheckedAddress, mode: SslMode) -> String {
    format!(
        "{:?}",
        (
            checked.credentials(),
            &checked.host,
            &checked.name,
            checked.port,
            checked.path_name(),
            mode,
        )
    )
}

impl MysqlPools {
    /// Pools whose connections read no packet, so no row, larger than
    /// `max_packet` bytes (`--max-result-size`): without it, the client
    /// takes the server's `max_allowed_packet`, up to 1 GiB, and reads a
    /// row whole before the result's own cap can count it.
    pub fn new(max_packet: usize) -> Self {
        Self {
            pools: Mutex::default(),
            max_packet,
            without_tls: Mutex::default(),
        }
    }

    /// Whether `checked`'s server was found to offer no TLS, recently
    /// enough to go plain without asking again (`PREFERRED`).
    fn offers_no_tls(&self, checked: &CheckedAddress) -> bool {
        let key = pool_key(checked, SslMode::Preferred);
        let mut without_tls = self.without_tls.lock().unwrap();
        match without_tls.get(&key) {
            Some(found) if found.elapsed() < IDLE_TTL => true,
            Some(_) => {
                without_tls.remove(&key);
                false
            }
            None => false,
        }
    }

    fn note_no_tls(&self, checked: &CheckedAddress) {
        let key = pool_key(checked, SslMode::Preferred);
        self.without_tls.lock().unwrap().insert(key, Instant::now());
    }

    /// The pool of `checked` in `mode`; when it may not `keep_idle` (a cap
    /// counts MySQL connections, and an idle one would hold no permit), a
    /// connection the guest is done with is closed, not kept.
    fn pool(&self, checked: &CheckedAddress, mode: SslMode, keep_idle: bool) -> Pool {
        let key = pool_key(checked, mode);
        let mut pools = self.pools.lock().unwrap();
        if let Some(pool) = pools.get(&key) {
            return pool.clone();
        }
        let (user, password) = checked.credentials();
        let opts = OptsBuilder::default()
            .ip_or_hostname(checked.host.clone())
            .tcp_port(checked.port)
            .user(user)
            .pass(password)
            .db_name(checked.path_name())
            .ssl_opts(mode.ssl_opts(&checked.name))
            .prefer_socket(false)
            .max_allowed_packet(Some(self.max_packet))
            .pool_opts(
                PoolOpts::default()
                    .with_constraints(POOL_CONSTRAINTS)
                    .with_inactive_connection_ttl(IDLE_TTL)
                    .with_ttl_check_interval(IDLE_TTL)
                    // Expired as soon as it is made: closed when returned.
                    .with_abs_conn_ttl((!keep_idle).then_some(Duration::ZERO)),
            );
        let pool = Pool::new(opts);
        pools.insert(key, pool.clone());
        pool
    }
}

/// A pooled connection to `checked`, in `mode`: under `PREFERRED`, plain
/// when the server offers no TLS (remembered for [`IDLE_TTL`] from when it
/// was found; then the server is asked again).
async fn connect(
    pools: &MysqlPools,
    checked: &CheckedAddress,
    mode: SslMode,
    keep_idle: bool,
) -> Result<Conn, Error> {
    let attempt = |mode: SslMode| async move {
        let pool = pools.pool(checked, mode, keep_idle);
        match tokio::time::timeout(CONNECT_TIMEOUT, pool.get_conn()).await {
            Ok(outcome) => Ok(outcome),
            Err(_) => Err(Error::ConnectionFailed(format!(
                "timed out connecting to MySQL at {}:{}",
                checked.host, checked.port
            ))),
        }
    };
    let preferred = mode == SslMode::Preferred;
    let first = if preferred && pools.offers_no_tls(checked) {
        SslMode::Disabled
    } else {
        mode
    };
    let outcome = match attempt(first).await? {
        Err(mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer))
            if preferred =>
        {
            pools.note_no_tls(checked);
            attempt(SslMode::Disabled).await?
        }
        outcome => outcome,
    };
    outcome.map_err(|e| {
        let e = e.to_string();
        Error::ConnectionFailed(format!(
            "cannot connect to MySQL at {}:{}: {e}\n\nhint: {}",
            checked.host,
            checked.port,
            tls::failure_hint(mode, &e)
        ))
    })
}

/// The connection behind the guest's handle `conn`.
fn connection(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<MysqlConnection>,
) -> wasmtime::Result<Arc<tokio::sync::Mutex<Conn>>> {
    state.with_state(|state| Ok(state.connections.get(conn)?.conn.clone()))
}

fn failed(e: mysql_async::Error) -> Error {
    let text = e.to_string();
    if text.contains("packet too large") {
        // The client's `max_allowed_packet` (`MysqlPools::new`).
        return Error::QueryFailed(format!(
            "{text}: one row, or a statement with its parameters, is larger than the most the host reads or sends for one result (`spin up --max-result-size`, at most the instance memory); select fewer or smaller columns"
        ));
    }
    Error::QueryFailed(text)
}

fn params(values: Vec<ParameterValue>) -> Params {
    if values.is_empty() {
        return Params::Empty;
    }
    Params::Positional(
        values
            .into_iter()
            .map(|v| match v {
                ParameterValue::Boolean(v) => Value::Int(v.into()),
                ParameterValue::Int8(v) => Value::Int(v.into()),
                ParameterValue::Int16(v) => Value::Int(v.into()),
                ParameterValue::Int32(v) => Value::Int(v.into()),
                ParameterValue::Int64(v) => Value::Int(v),
                ParameterValue::Uint8(v) => Value::UInt(v.into()),
                ParameterValue::Uint16(v) => Value::UInt(v.into()),
                ParameterValue::Uint32(v) => Value::UInt(v.into()),
                ParameterValue::Uint64(v) => Value::UInt(v),
                ParameterValue::Floating32(v) => Value::Float(v),
                ParameterValue::Floating64(v) => Value::Double(v),
                ParameterValue::Str(v) => Value::Bytes(v.into_bytes()),
                ParameterValue::Binary(v) => Value::Bytes(v),
                ParameterValue::DbNull => Value::NULL,
            })
            .collect(),
    )
}

/// The interface's name for a column's type, as Spin names it.
fn data_type(column: &mysql_async::Column) -> DbDataType {
    let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = column.flags().contains(ColumnFlags::BINARY_FLAG);
    match (column.column_type(), unsigned) {
        (ColumnType::MYSQL_TYPE_TINY, false) => DbDataType::Int8,
        (ColumnType::MYSQL_TYPE_TINY, true) => DbDataType::Uint8,
        (ColumnType::MYSQL_TYPE_SHORT, false) => DbDataType::Int16,
        (ColumnType::MYSQL_TYPE_SHORT, true) => DbDataType::Uint16,
        (ColumnType::MYSQL_TYPE_LONG | ColumnType::MYSQL_TYPE_INT24, false) => DbDataType::Int32,
        (ColumnType::MYSQL_TYPE_LONG | ColumnType::MYSQL_TYPE_INT24, true) => DbDataType::Uint32,
        (ColumnType::MYSQL_TYPE_LONGLONG, false) => DbDataType::Int64,
        (ColumnType::MYSQL_TYPE_LONGLONG, true) => DbDataType::Uint64,
        (ColumnType::MYSQL_TYPE_FLOAT, _) => DbDataType::Floating32,
        (ColumnType::MYSQL_TYPE_DOUBLE, _) => DbDataType::Floating64,
        (
            ColumnType::MYSQL_TYPE_STRING
            | ColumnType::MYSQL_TYPE_VAR_STRING
            | ColumnType::MYSQL_TYPE_VARCHAR
            | ColumnType::MYSQL_TYPE_BLOB
            | ColumnType::MYSQL_TYPE_TINY_BLOB
            | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
            | ColumnType::MYSQL_TYPE_LONG_BLOB,
            _,
        ) => {
            if binary {
                DbDataType::Binary
            } else {
                DbDataType::Str
            }
        }
        _ => DbDataType::Other,
    }
}

fn convert<T: mysql_async::prelude::FromValue>(
    value: Value,
    wrap: impl FnOnce(T) -> DbValue,
) -> Result<DbValue, Error> {
    mysql_async::from_value_opt::<T>(value)
        .map(wrap)
        .map_err(|e| Error::ValueConversionFailed(e.to_string()))
}

/// Converts one value of a column of type `ty`. Types the interface has no
/// case for (decimals, dates, JSON, enums…) come back as their text, so
/// every column can be read.
fn value(value: Value, ty: DbDataType, column: &mysql_async::Column) -> Result<DbValue, Error> {
    if value == Value::NULL {
        return Ok(DbValue::DbNull);
    }
    match ty {
        DbDataType::Int8 => convert(value, DbValue::Int8),
        DbDataType::Int16 => convert(value, DbValue::Int16),
        DbDataType::Int32 => convert(value, DbValue::Int32),
        DbDataType::Int64 => convert(value, DbValue::Int64),
        DbDataType::Uint8 => convert(value, DbValue::Uint8),
        DbDataType::Uint16 => convert(value, DbValue::Uint16),
        DbDataType::Uint32 => convert(value, DbValue::Uint32),
        DbDataType::Uint64 => convert(value, DbValue::Uint64),
        DbDataType::Floating32 => convert(value, DbValue::Floating32),
        DbDataType::Floating64 => convert(value, DbValue::Floating64),
        DbDataType::Str => convert(value, DbValue::Str),
        DbDataType::Binary => convert(value, DbValue::Binary),
        DbDataType::Boolean => convert(value, DbValue::Boolean),
        DbDataType::Other => Ok(other_value(value, column)),
    }
}

fn other_value(value: Value, column: &mysql_async::Column) -> DbValue {
    match value {
        Value::NULL => DbValue::DbNull,
        Value::Bytes(bytes) => match String::from_utf8(bytes) {
            Ok(text) => DbValue::Str(text),
            Err(e) => DbValue::Binary(e.into_bytes()),
        },
        Value::Int(v) => DbValue::Int64(v),
        Value::UInt(v) => DbValue::Uint64(v),
        Value::Float(v) => DbValue::Floating32(v),
        Value::Double(v) => DbValue::Floating64(v),
        Value::Date(y, mo, d, h, mi, s, us) => {
            let date = format!("{y:04}-{mo:02}-{d:02}");
            DbValue::Str(if column.column_type() == ColumnType::MYSQL_TYPE_DATE {
                date
            } else {
                format!("{date} {}", clock(h.into(), mi, s, us))
            })
        }
        Value::Time(negative, days, h, mi, s, us) => DbValue::Str(format!(
            "{}{}",
            if negative { "-" } else { "" },
            clock(u64::from(days) * 24 + u64::from(h), mi, s, us)
        )),
    }
}

/// `HH:MM:SS`, with microseconds when there are any.
fn clock(hours: u64, minutes: u8, seconds: u8, micros: u32) -> String {
    let mut text = format!("{hours:02}:{minutes:02}:{seconds:02}");
    if micros > 0 {
        text.push_str(&format!(".{micros:06}"));
    }
    text
}

/// Connects the guest to the server at `address`, if its allowed hosts
/// grant it.
async fn open(
    mut state: impl InstanceAccess<ConnectionState>,
    address: String,
) -> wasmtime::Result<Result<Resource<MysqlConnection>, Error>> {
    let component = state.with_state(|state| state.component.clone());
    let checked = match capabilities::allow_list::checked_address(
        &component,
        &capabilities::allow_list::MYSQL,
        &address,
    )
    .await
    {
        Ok(checked) => checked,
        Err(AddressRefused::Denied(denied)) => {
            let reason = denied.reason(&capabilities::allow_list::MYSQL, &address);
            return Ok(Err(Error::ConnectionFailed(reason)));
        }
        Err(AddressRefused::Blocked(reason)) => {
            return Ok(Err(Error::ConnectionFailed(reason)));
        }
    };
    if !state.with_state(|state| state.has_room("MySQL connections")) {
        return Ok(Err(Error::ConnectionFailed(
            TOO_MANY_CONNECTIONS.to_owned(),
        )));
    }
    let quotas = &component.services.connection_quotas;
    let permit = match quotas.acquire_for(&component.id, Outbound::Mysql).await {
        Ok(permit) => permit,
        Err(reached) => return Ok(Err(Error::ConnectionFailed(reached.to_string()))),
    };
    let conn = match ssl_mode(&checked) {
        Ok(mode) => {
            let keep_idle = component.services.keeps_idle(Outbound::Mysql);
            connect(&component.services.mysql, &checked, mode, keep_idle).await
        }
        Err(e) => Err(e),
    };
    let conn = match conn {
        Ok(conn) => conn,
        Err(e) => return Ok(Err(e)),
    };
    let conn = MysqlConnection {
        conn: Arc::new(tokio::sync::Mutex::new(conn)),
        _permit: permit,
    };
    let handle = state.with_state(|state| state.push_handle(conn, "MySQL connections"))?;
    Ok(handle.ok_or_else(|| Error::ConnectionFailed(TOO_MANY_CONNECTIONS.to_owned())))
}

/// Runs a statement that returns rows, reading them one at a time: a
/// result larger than the host reads for one (`--max-result-size`) fails
/// once it passes the limit,
/// instead of the host buffering it whole.
async fn query(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<MysqlConnection>,
    statement: String,
    values: Vec<ParameterValue>,
) -> wasmtime::Result<Result<RowSet, Error>> {
    let max_bytes = state.with_state(|state| state.component.services.max_result_bytes());
    let conn = connection(state, conn)?;
    let mut conn = conn.lock().await;
    let mut result = match conn.exec_iter(statement, params(values)).await {
        Ok(result) => result,
        Err(e) => return Ok(Err(failed(e))),
    };
    let columns = result.columns().unwrap_or_else(|| Vec::new().into());
    let types: Vec<DbDataType> = columns.iter().map(data_type).collect();
    let mut left = max_bytes;
    let mut rows = Vec::new();
    loop {
        let row = match result.next().await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => return Ok(Err(failed(e))),
        };
        let converted = row
            .unwrap()
            .into_iter()
            .zip(types.iter().zip(columns.iter()))
            .map(|(v, (ty, column))| value(v, *ty, column))
            .collect::<Result<Vec<_>, _>>();
        let converted = match converted {
            Ok(converted) => converted,
            Err(e) => return Ok(Err(e)),
        };
        let size: usize = converted.iter().map(value_size).sum();
        let Some(rest) = left.checked_sub(size) else {
            // The rest of the result is read and discarded when the
            // connection is next used.
            return Ok(Err(Error::QueryFailed(format!(
                "the result is larger than {max_bytes} bytes, the most the host reads for one result (`spin up --max-result-size`, at most the instance memory); select fewer rows or columns (`LIMIT`)"
            ))));
        };
        left = rest;
        rows.push(converted);
    }
    Ok(Ok(RowSet {
        columns: columns
            .iter()
            .zip(types)
            .map(|(c, data_type)| Column {
                name: c.name_str().into_owned(),
                data_type,
            })
            .collect(),
        rows,
    }))
}

/// About how many bytes a value takes in the host, for the result limit.
fn value_size(value: &DbValue) -> usize {
    let heap = match value {
        DbValue::Str(s) => s.len(),
        DbValue::Binary(b) => b.len(),
        _ => 0,
    };
    size_of::<DbValue>() + heap
}

/// Runs a statement for its effect on the guest's connection.
async fn execute(
    state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<MysqlConnection>,
    statement: String,
    values: Vec<ParameterValue>,
) -> wasmtime::Result<Result<(), Error>> {
    let conn = connection(state, conn)?;
    let mut conn = conn.lock().await;
    Ok(conn
        .exec_drop(statement, params(values))
        .await
        .map_err(failed))
}

/// Registers every version of the MySQL interfaces
/// (`fermyon:spin/mysql@2.0.0`, `spin:mysql@3.0.0`), each reaching the
/// instance's [`ConnectionState`] for it through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut ConnectionState,
) -> anyhow::Result<()> {
    capabilities::bindings::mysql::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v1::mysql::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::mysql::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

mod v1;

mod v2;

mod v3;
