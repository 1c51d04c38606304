//! Outbound PostgreSQL: `fermyon:spin/postgres@2.0.0` and
//! `spin:postgres@3.0.0`, one implementation behind both.
//!
//! The address must be allowed by the component's `allowed_outbound_hosts`,
//! and the host connects to exactly the host and port that were checked.
//! Connections are pooled for the whole application: a backend process costs
//! milliseconds to start, so a component that opens a connection on every
//! request reuses an idle one instead. A connection goes back to the pool
//! only after its session was reset (see [`RESET`]), so no session state and
//! no open transaction leaks from one request to the next.

pub mod message_cap;
mod rich;
mod tls;
mod values;

use message_cap::CappedClient as Client;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tls::{SSL_MODES, SslMode};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;
use wasmtime::component::Resource;

use crate::capabilities;
use crate::capabilities::access::InstanceAccess;
use crate::capabilities::allow_list::AddressRefused;
use crate::capabilities::allow_list::CheckedAddress;
use crate::capabilities::bindings::{
    postgres as v2, postgres3 as v3, postgres4 as v4, rdbms_types,
};
use crate::capabilities::connection_quota::ConnectionPermit;
use crate::capabilities::connections::{ConnectionState, Connections, TOO_MANY_CONNECTIONS};
use crate::runtime_config::Outbound;
use crate::state::HostState;
use std::sync::Arc;
use values::{ColumnType, Param, Value};

/// How long connecting (DNS, TCP, start-up and authentication) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections kept, over all addresses.
const MAX_IDLE: usize = 16;
/// How long an idle connection is kept.
const IDLE_TTL: Duration = Duration::from_secs(60);
/// How long resetting a returned connection may take.
const RESET_TIMEOUT: Duration = Duration::from_secs(5);

/// What `DISCARD ALL` does, except `DEALLOCATE ALL`: that would also drop
/// the statements tokio-postgres prepared for its own type lookups, which it
/// expects to keep. An open transaction is rolled back first (a warning when
/// there is none). The last statement counts the statements the guest
/// prepared with SQL `PREPARE`: such a connection is closed, not pooled.
const RESET: &str = "ROLLBACK; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; \
    UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES; \
    SELECT count(*) FROM pg_prepared_statements WHERE from_sql";

/// A guest's handle on a connection.
pub struct PgConnection {
    /// Shared with the calls in flight on it (`spin:postgres@4.2.0`'s async
    /// functions run while the guest goes on).
    client: Option<Arc<Client>>,
    /// Which idle connections this one can stand in for.
    key: String,
    /// Its place under the runtime config's connection caps.
    _permit: ConnectionPermit,
}

/// A guest's `spin:postgres@4.2.0` connection builder.
pub struct PgConnectionBuilder {
    address: String,
    ca_root: Option<String>,
}

/// Idle connections shared by all requests.
#[derive(Default)]
pub struct PgPool {
    idle: Mutex<Vec<Idle>>,
}

struct Idle {
    key: String,
    client: Client,
    since: Instant,
}

impl PgPool {
    fn take(&self, key: &str) -> Option<Client> {
        let mut idle = self.idle.lock().unwrap();
        idle.retain(|i| i.since.elapsed() < IDLE_TTL && !i.client.is_closed());
        let index = idle.iter().rposition(|i| i.key == key)?;
        Some(idle.remove(index).client)
    }

    fn put(&self, key: String, client: Client) {
        let mut idle = self.idle.lock().unwrap();
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push(Idle {
            key,
            client,
            since: Instant::now(),
        });
    }
}

/// Connections to the same server, database and user, with the same
/// options, are interchangeable.
fn pool_key(address: &CheckedAddress) -> String {
    format!(
        "{:?}",
        (
            address.credentials(),
            &address.name,
            &address.host,
            address.port,
            address.path_name(),
            address.url.query(),
        )
    )
}

/// Resets a returned connection's session; whether it may be pooled.
async fn reset(client: &Client) -> bool {
    let Ok(Ok(messages)) = tokio::time::timeout(RESET_TIMEOUT, client.simple_query(RESET)).await
    else {
        return false;
    };
    messages.iter().rev().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0) == Some("0")),
        _ => None,
    }) == Some(true)
}

/// Why an operation failed, before it is put in a version's error type.
enum PgError {
    ConnectionFailed(String),
    BadParameter(String),
    QueryFailed(QueryFailure),
    ValueConversionFailed(String),
}

/// A failed statement: one line for interfaces that take text, and the
/// server's error fields, when it sent some, for those that take them.
struct QueryFailure {
    text: String,
    /// Boxed: the fields are large and most results are not failures.
    server: Option<Box<ServerError>>,
}

/// The fields of an error the server reported.
struct ServerError {
    severity: String,
    code: String,
    message: String,
    detail: Option<String>,
    extras: Vec<(String, String)>,
}

impl QueryFailure {
    fn from(error: &tokio_postgres::Error) -> Self {
        let server = error.as_db_error().map(|db| {
            let extras = [
                ("hint", db.hint()),
                ("where", db.where_()),
                ("schema", db.schema()),
                ("table", db.table()),
                ("column", db.column()),
                ("datatype", db.datatype()),
                ("constraint", db.constraint()),
            ]
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
            .collect();
            Box::new(ServerError {
                severity: db.severity().to_owned(),
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
                detail: db.detail().map(str::to_owned),
                extras,
            })
        });
        QueryFailure {
            text: values::error_text(error),
            server,
        }
    }
}

/// A query's result, before it is put in a version's row-set type.
struct Rows {
    columns: Vec<(String, ColumnType)>,
    rows: Vec<Vec<Value>>,
}

/// Builds the client configuration from the checked address, and says how
/// the connection is secured.
fn config(address: &CheckedAddress) -> Result<(tokio_postgres::Config, SslMode), PgError> {
    let mut config = tokio_postgres::Config::new();
    // The name is what TLS checks the certificate against; the connection
    // goes to the address that was checked, when one was pinned.
    config
        .host(&address.name)
        .port(address.port)
        .connect_timeout(CONNECT_TIMEOUT);
    if address.host != address.name
        && let Ok(pinned) = address.host.parse::<std::net::IpAddr>()
    {
        config.hostaddr(pinned);
    }
    let (user, password) = address.credentials();
    let user = user.ok_or_else(|| {
        PgError::ConnectionFailed(
            "the address names no user: write it as postgres://user[:password]@host[:port]/database"
                .into(),
        )
    })?;
    config.user(&user);
    if let Some(password) = password {
        config.password(password);
    }
    if let Some(database) = address.path_name() {
        config.dbname(&database);
    }
    let mut ssl_mode = SslMode::default();
    for (key, value) in address.url.query_pairs() {
        match (&*key, &*value) {
            ("sslmode", mode) => {
                ssl_mode = SslMode::parse(mode).ok_or_else(|| {
                    PgError::ConnectionFailed(format!(
                        "sslmode={mode} is not a TLS mode this host offers: use {SSL_MODES}"
                    ))
                })?;
            }
            ("application_name", name) => {
                config.application_name(name);
            }
            ("options", options) => {
                config.options(options);
            }
            _ => {
                return Err(PgError::ConnectionFailed(format!(
                    "unknown connection option `{key}`: supported are sslmode, application_name and options"
                )));
            }
        }
    }
    config.ssl_mode(ssl_mode.negotiation());
    Ok((config, ssl_mode))
}

/// Opens a connection for the guest to the server `address` names (a URL,
/// or a libpq `key=value` string), if its allowed hosts grant it.
async fn open(
    state: impl InstanceAccess<ConnectionState>,
    address: String,
) -> wasmtime::Result<Result<Resource<PgConnection>, PgError>> {
    open_trusting(state, address, None).await
}

/// [`open`], the connection verified against `ca_root` (PEM certificates)
/// besides the usual roots, when given.
async fn open_trusting(
    mut state: impl InstanceAccess<ConnectionState>,
    address: String,
    ca_root: Option<String>,
) -> wasmtime::Result<Result<Resource<PgConnection>, PgError>> {
    let address = match libpq_to_url(&address) {
        Ok(address) => address,
        Err(e) => return Ok(Err(PgError::ConnectionFailed(e))),
    };
    let service = &capabilities::allow_list::POSTGRES;
    let component = state.with_state(|state| state.component.clone());
    let checked =
        match capabilities::allow_list::checked_address(&component, service, &address).await {
            Ok(checked) => checked,
            Err(AddressRefused::Denied(denied)) => {
                let reason = denied.reason(service, &address);
                return Ok(Err(PgError::ConnectionFailed(reason)));
            }
            Err(AddressRefused::Blocked(reason)) => {
                return Ok(Err(PgError::ConnectionFailed(reason)));
            }
        };
    let mut key = pool_key(&checked);
    if let Some(pem) = &ca_root {
        // Only a connection verified against the same roots is the same.
        key.push_str(&format!(" ca_root={}", blake3::hash(pem.as_bytes())));
    }
    if !state.with_state(|state| state.has_room("PostgreSQL connections")) {
        return Ok(Err(PgError::ConnectionFailed(
            TOO_MANY_CONNECTIONS.to_owned(),
        )));
    }
    let quotas = &component.services.connection_quotas;
    let permit = match quotas.acquire_for(&component.id, Outbound::Postgres).await {
        Ok(permit) => permit,
        Err(reached) => return Ok(Err(PgError::ConnectionFailed(reached.to_string()))),
    };
    let pool = &component.services.postgres;
    let client = match pool.take(&key) {
        Some(client) => client,
        None => match connect(
            &checked,
            ca_root.as_deref(),
            component.services.max_result_bytes(),
        )
        .await
        {
            Ok(client) => client,
            Err(e) => return Ok(Err(e)),
        },
    };
    let conn = PgConnection {
        client: Some(Arc::new(client)),
        key,
        _permit: permit,
    };
    let handle = state.with_state(|state| state.push_handle(conn, "PostgreSQL connections"))?;
    Ok(handle.ok_or_else(|| PgError::ConnectionFailed(TOO_MANY_CONNECTIONS.to_owned())))
}

/// A libpq connection string (`host=localhost user=postgres dbname=app`,
/// as the official SDK's example writes it) as the equivalent
/// `postgres://` URL, so that one allow-list check and one connection path
/// serve both forms; a URL is returned as it is.
fn libpq_to_url(address: &str) -> Result<String, String> {
    if address.contains("://") {
        return Ok(address.to_owned());
    }
    // tokio-postgres reads `disable`, `prefer` and `require` only; the
    // mode is carried over as written and checked with the URL's.
    let (ssl_mode, address) = take_ssl_mode(address);
    let config: tokio_postgres::Config = address
        .parse()
        .map_err(|e| format!("not a PostgreSQL address (a URL or libpq key=value string): {e}"))?;
    let host = match config.get_hosts() {
        [tokio_postgres::config::Host::Tcp(host)] => host.clone(),
        [] => return Err("the connection string names no `host`".into()),
        _ => return Err("only one TCP `host` is supported".into()),
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let port = match config.get_ports() {
        [] => 5432,
        [port] => *port,
        _ => return Err("only one `port` is supported".into()),
    };
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut url = String::from("postgres://");
    if let Some(user) = config.get_user() {
        url.push_str(&encode(user));
        if let Some(password) = config.get_password() {
            url.push(':');
            url.push_str(&encode(&String::from_utf8_lossy(password)));
        }
        url.push('@');
    }
    url.push_str(&format!("{host}:{port}"));
    if let Some(db) = config.get_dbname() {
        url.push('/');
        url.push_str(&encode(db));
    }
    // A mode only tokio-postgres's parser found (a form the pairs above do
    // not read) is kept too.
    let ssl_mode = ssl_mode.or(match config.get_ssl_mode() {
        tokio_postgres::config::SslMode::Disable => Some("disable".to_owned()),
        tokio_postgres::config::SslMode::Require => Some("require".to_owned()),
        _ => None,
    });
    if let Some(mode) = ssl_mode {
        url.push_str("?sslmode=");
        url.push_str(&encode(&mode));
    }
    Ok(url)
}

/// A libpq string's `sslmode` (`sslmode=verify-full`, `sslmode = 'require'`;
/// the last one counts, as in libpq), and the string without it. A string
/// that does not read as `key = value` pairs is left whole, for the
/// parser's error.
fn take_ssl_mode(address: &str) -> (Option<String>, String) {
    let Some(pairs) = libpq_pairs(address) else {
        return (None, address.to_owned());
    };
    let mut mode = None;
    let mut without = String::new();
    let mut kept_to = 0;
    for (key, value, span) in pairs {
        if key == "sslmode" {
            mode = Some(value);
            without.push_str(&address[kept_to..span.start]);
            kept_to = span.end;
        }
    }
    without.push_str(&address[kept_to..]);
    (mode, without)
}

/// One `key = value` pair of a libpq string, and where it is.
type LibpqPair = (String, String, std::ops::Range<usize>);

/// The `key = value` pairs of a libpq string; values may be single-quoted,
/// with `\` escapes.
fn libpq_pairs(text: &str) -> Option<Vec<LibpqPair>> {
    let mut pairs = Vec::new();
    let mut chars = text.char_indices().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_spaces(&mut chars);
        let Some(&(start, _)) = chars.peek() else {
            return Some(pairs);
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        skip_spaces(&mut chars);
        chars.next_if(|(_, c)| *c == '=')?;
        skip_spaces(&mut chars);
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next()? {
                    (_, '\'') => break,
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, c) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(c);
            }
        }
        let end = chars.peek().map_or(text.len(), |(at, _)| *at);
        pairs.push((key, value, start..end));
    }
}

/// The client behind the guest's handle `conn`.
fn client(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<PgConnection>,
) -> wasmtime::Result<Arc<Client>> {
    state.with_state(|state| {
        state
            .connections
            .get(conn)?
            .client
            .clone()
            .ok_or_else(|| wasmtime::format_err!("the PostgreSQL connection was closed"))
    })
}

/// The client behind `conn`, and how many bytes of result one instance may
/// hold.
fn client_and_budget(
    mut state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<PgConnection>,
) -> wasmtime::Result<(Arc<Client>, usize)> {
    let max_bytes = state.with_state(|state| state.component.services.max_result_bytes());
    Ok((client(state, conn)?, max_bytes))
}

/// Runs a statement that returns rows on the guest's connection.
async fn run_query(
    state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<PgConnection>,
    statement: String,
    params: Result<Vec<Param>, String>,
) -> wasmtime::Result<Result<Rows, PgError>> {
    let params = match params {
        Ok(params) => params,
        Err(e) => return Ok(Err(PgError::BadParameter(e))),
    };
    let (client, max_bytes) = client_and_budget(state, conn)?;
    Ok(query(&client, &statement, &params, max_bytes).await)
}

/// Runs a statement for its effect on the guest's connection.
async fn run_execute(
    state: impl InstanceAccess<ConnectionState>,
    conn: &Resource<PgConnection>,
    statement: String,
    params: Result<Vec<Param>, String>,
) -> wasmtime::Result<Result<u64, PgError>> {
    let params = match params {
        Ok(params) => params,
        Err(e) => return Ok(Err(PgError::BadParameter(e))),
    };
    let client = client(state, conn)?;
    Ok(client
        .execute(&statement, &param_refs(&params))
        .await
        .map_err(|e| PgError::QueryFailed(client.failure_of(&e))))
}

/// Returns the connection to the pool once its session is reset (unless a
/// call on it is still in flight, or a cap counts PostgreSQL connections:
/// then it is closed).
fn close(state: &mut ConnectionState, conn: Resource<PgConnection>) -> wasmtime::Result<()> {
    let PgConnection { client, key, .. } = state.connections.delete(conn)?;
    let services = state.component.services.clone();
    let Some(client) = client
        .and_then(|c| Arc::try_unwrap(c).ok())
        .filter(|c| !c.is_closed() && services.keeps_idle(Outbound::Postgres))
    else {
        return Ok(());
    };
    tokio::spawn(async move {
        if reset(&client).await {
            services.postgres.put(key, client);
        }
    });
    Ok(())
}

/// Connects to `address` (trusting `ca_root` too, when given), each message
/// from the server capped at `max` bytes.
async fn connect(
    address: &CheckedAddress,
    ca_root: Option<&str>,
    max: usize,
) -> Result<Client, PgError> {
    let failed = |why: String| {
        PgError::ConnectionFailed(format!(
            "cannot connect to PostgreSQL at {}:{}: {why}",
            address.host, address.port
        ))
    };
    let (mut config, mut ssl_mode) = config(address)?;
    let mut trusting = None;
    if let Some(pem) = ca_root {
        ssl_mode = ssl_mode.with_ca_root().map_err(&failed)?;
        config.ssl_mode(ssl_mode.negotiation());
        trusting = Some(ssl_mode.connector_trusting(pem).map_err(&failed)?);
    }
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    let timed_out = |_| failed(format!("no answer in {CONNECT_TIMEOUT:?}"));
    let first = connect_with(address, &config, ssl_mode, trusting, max);
    let outcome = tokio::time::timeout_at(deadline, first)
        .await
        .map_err(timed_out)?;
    let outcome = match outcome {
        // As libpq's `prefer`: a server whose TLS this host cannot speak
        // (an old protocol version, a key rustls refuses) is reached in
        // plain text.
        Err(e) if ssl_mode == SslMode::Prefer && e.starts_with(TLS_FAILED) => {
            tracing::debug!(
                "PostgreSQL at {}: TLS failed ({e}); `prefer` goes on without",
                address.name
            );
            config.ssl_mode(SslMode::Disable.negotiation());
            let plain = connect_with(address, &config, SslMode::Disable, None, max);
            tokio::time::timeout_at(deadline, plain)
                .await
                .map_err(timed_out)?
        }
        other => other,
    };
    outcome.map_err(|why| match why.starts_with(TLS_FAILED) {
        true => failed(format!("{why}\n\nhint: {}", ssl_mode.failure_hint())),
        false => failed(why),
    })
}

/// How tokio-postgres's error for a failed TLS handshake begins.
const TLS_FAILED: &str = "error performing TLS handshake";

/// Connects to `address` as `config` and `mode` say (through `trusting`,
/// when a CA root was given), each message from the server capped at `max`
/// bytes ([`message_cap`]), and drives the connection in a task of its own
/// until the client is dropped. Fails with the reason, as text.
async fn connect_with(
    address: &CheckedAddress,
    config: &tokio_postgres::Config,
    mode: SslMode,
    trusting: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    max: usize,
) -> Result<Client, String> {
    use crate::capabilities::result_cap::Failure;
    use message_cap::{CappedSocket, CappedTls, PgFraming};
    use tokio_postgres::tls::MakeTlsConnect;
    let pg = |e: tokio_postgres::Error| values::error_text(&e);
    // One failure for the socket and the TLS stream above it.
    let failure = Failure::default();
    // The address that was checked (pinned, with blocked networks).
    let tcp = tokio::net::TcpStream::connect((address.host.as_str(), address.port))
        .await
        .map_err(|e| format!("error connecting to server: {e}"))?;
    // As tokio-postgres sets its own sockets: no delay, and keepalives so
    // that a server gone mid-answer frees the connection's task (after 2 h).
    let _ = tcp.set_nodelay(true);
    let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(2 * 60 * 60));
    let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
    let socket = CappedSocket::with_failure(tcp, PgFraming::socket(max), failure.clone());
    match trusting.or_else(|| (mode != SslMode::Disable).then(|| mode.connector())) {
        Some(mut make) => {
            // The certificate is checked against the name, not the address.
            let tls = MakeTlsConnect::<CappedSocket>::make_tls_connect(&mut make, &address.name)
                .map_err(|e| format!("{TLS_FAILED}: {e}"))?;
            let (client, connection) = config
                .connect_raw(
                    socket,
                    CappedTls {
                        inner: tls,
                        max,
                        failure: failure.clone(),
                    },
                )
                .await
                .map_err(pg)?;
            tokio::spawn(drive(connection));
            Ok(Client::new(client, failure))
        }
        None => {
            let (client, connection) = config.connect_raw(socket, NoTls).await.map_err(pg)?;
            tokio::spawn(drive(connection));
            Ok(Client::new(client, failure))
        }
    }
}

/// Runs a connection until its client is dropped.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::debug!("PostgreSQL connection closed: {e}");
    }
}

fn param_refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Runs `statement`, reading its rows one at a time: a result larger than
/// `max_bytes` (`--max-result-size`, at most the instance memory limit, so
/// a result the guest could not hold either) fails once it passes the limit, instead of the host buffering
/// it whole.
async fn query(
    client: &Client,
    statement: &str,
    params: &[Param],
    max_bytes: usize,
) -> Result<Rows, PgError> {
    use futures::TryStreamExt as _;
    let failed = |e: tokio_postgres::Error| PgError::QueryFailed(client.failure_of(&e));
    // Preparing first gives the columns even when no row comes back.
    let prepared = client.prepare(statement).await.map_err(failed)?;
    let refs = param_refs(params);
    let stream = client
        .query_raw(&prepared, refs.iter().map(|p| *p as &dyn ToSql))
        .await
        .map_err(failed)?;
    let mut stream = std::pin::pin!(stream);
    let columns = prepared
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), ColumnType::of(c.type_())))
        .collect();
    let mut left = max_bytes;
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(failed)? {
        let values = (0..row.len())
            .map(|i| values::read(&row, i, row.columns()[i].type_()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(PgError::ValueConversionFailed)?;
        let size: usize = values.iter().map(Value::size).sum();
        left = left.checked_sub(size).ok_or_else(|| {
            PgError::QueryFailed(QueryFailure {
                text: format!(
                    "the result is larger than {max_bytes} bytes, the most the host reads for one result (`spin up --max-result-size`, at most the instance memory); select fewer rows or columns (`LIMIT`)"
                ),
                server: None,
            })
        })?;
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

/// The conversions every interface version shares, as `match` arms; each
/// version passes the arms of its own extra cases. `dated` adds the date and
/// time cases of versions 3 and 4.
macro_rules! param_cases {
    ($value:expr, dated { $($extra:tt)* }) => {
        param_cases!($value, {
            ParameterValue::Date((y, m, d)) => Param::Date(values::date(y, m, d)?),
            ParameterValue::Time((h, m, s, ns)) => Param::Time(values::time(h, m, s, ns)?),
            ParameterValue::Datetime(parts) => Param::DateTime(values::datetime(parts)?),
            ParameterValue::Timestamp(v) => Param::Timestamp(values::timestamp(v)?),
            $($extra)*
        })
    };
    ($value:expr, { $($extra:tt)* }) => {
        match $value {
            ParameterValue::Boolean(v) => Param::Bool(v),
            ParameterValue::Int8(v) => Param::I8(v),
            ParameterValue::Int16(v) => Param::I16(v),
            ParameterValue::Int32(v) => Param::I32(v),
            ParameterValue::Int64(v) => Param::I64(v),
            ParameterValue::Floating32(v) => Param::F32(v),
            ParameterValue::Floating64(v) => Param::F64(v),
            ParameterValue::Str(v) => Param::Str(v),
            ParameterValue::Binary(v) => Param::Bytes(v),
            ParameterValue::DbNull => Param::Null,
            $($extra)*
        }
    };
}

/// [`param_cases`] for values read from a row.
macro_rules! value_cases {
    ($value:expr, dated { $($extra:tt)* }) => {
        value_cases!($value, {
            Value::Date(d) => DbValue::Date(values::date_parts(d)),
            Value::Time(t) => DbValue::Time(values::time_parts(t)),
            Value::DateTime(dt) => DbValue::Datetime(values::datetime_parts(dt)),
            $($extra)*
        })
    };
    ($value:expr, { $($extra:tt)* }) => {
        match $value {
            Value::Bool(v) => DbValue::Boolean(v),
            Value::I8(v) => DbValue::Int8(v),
            Value::I16(v) => DbValue::Int16(v),
            Value::I32(v) => DbValue::Int32(v),
            Value::I64(v) => DbValue::Int64(v),
            Value::F32(v) => DbValue::Floating32(v),
            Value::F64(v) => DbValue::Floating64(v),
            Value::Str(v) => DbValue::Str(v),
            Value::Bytes(v) => DbValue::Binary(v),
            Value::Null => DbValue::DbNull,
            $($extra)*
        }
    };
}

/// [`param_cases`] for column types.
macro_rules! type_cases {
    ($ty:expr, dated { $($extra:tt)* }) => {
        type_cases!($ty, {
            ColumnType::Date => DbDataType::Date,
            ColumnType::Time => DbDataType::Time,
            ColumnType::DateTime => DbDataType::Datetime,
            $($extra)*
        })
    };
    ($ty:expr, { $($extra:tt)* }) => {
        match $ty {
            ColumnType::Bool => DbDataType::Boolean,
            ColumnType::I8 => DbDataType::Int8,
            ColumnType::I16 => DbDataType::Int16,
            ColumnType::I32 => DbDataType::Int32,
            ColumnType::I64 => DbDataType::Int64,
            ColumnType::F32 => DbDataType::Floating32,
            ColumnType::F64 => DbDataType::Floating64,
            ColumnType::Str => DbDataType::Str,
            ColumnType::Bytes => DbDataType::Binary,
            $($extra)*
        }
    };
}

/// The conversions from the shared operations' results to one interface
/// version's types, and that version's `HostConnection`. Each version's
/// module defines `param`, `value`, `data_type` and `query_failed` for its
/// own types.
macro_rules! host_connection {
    ($interface:ident) => {
        impl From<PgError> for Error {
            fn from(e: PgError) -> Self {
                match e {
                    PgError::ConnectionFailed(m) => Error::ConnectionFailed(m),
                    PgError::BadParameter(m) => Error::BadParameter(m),
                    PgError::QueryFailed(failure) => query_failed(failure),
                    PgError::ValueConversionFailed(m) => Error::ValueConversionFailed(m),
                }
            }
        }

        fn params(values: Vec<ParameterValue>) -> Result<Vec<Param>, String> {
            values.into_iter().map(param).collect()
        }

        fn columns(columns: Vec<(String, ColumnType)>) -> Vec<Column> {
            columns
                .into_iter()
                .map(|(name, ty)| Column {
                    name,
                    data_type: data_type(ty),
                })
                .collect()
        }

        impl $interface::HostConnection for ConnectionState {
            async fn open(
                &mut self,
                address: String,
            ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
                Ok(super::open(self, address).await?.map_err(Error::from))
            }

            async fn query(
                &mut self,
                conn: Resource<PgConnection>,
                statement: String,
                values: Vec<ParameterValue>,
            ) -> wasmtime::Result<Result<RowSet, Error>> {
                let rows = run_query(self, &conn, statement, params(values)).await?;
                Ok(rows.map_err(Error::from).map(|rows| RowSet {
                    columns: columns(rows.columns),
                    rows: rows
                        .rows
                        .into_iter()
                        .map(|row| row.into_iter().map(value).collect())
                        .collect(),
                }))
            }

            async fn execute(
                &mut self,
                conn: Resource<PgConnection>,
                statement: String,
                values: Vec<ParameterValue>,
            ) -> wasmtime::Result<Result<u64, Error>> {
                let count = run_execute(self, &conn, statement, params(values)).await?;
                Ok(count.map_err(Error::from))
            }

            async fn drop(&mut self, conn: Resource<PgConnection>) -> wasmtime::Result<()> {
                close(self, conn)
            }
        }
    };
}

/// Registers every version of the PostgreSQL interfaces
/// (`fermyon:spin/postgres@2.0.0`, `spin:postgres@3.0.0`, `@4.0.0`,
/// `@4.2.0`), each reaching the instance's [`ConnectionState`] for it
/// through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    get: fn(&mut T) -> &mut ConnectionState,
) -> anyhow::Result<()> {
    capabilities::bindings::postgres::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v1::postgres::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::postgres3::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::postgres4::add_to_linker::<T, Connections>(linker, get)?;
    capabilities::bindings::v3::postgres::add_to_linker::<T, Connections>(linker, get)?;
    Ok(())
}

mod v1;

mod v2_host;

mod v3_host;

/// The conversions of `spin:postgres@4.x`, whose types are the same in 4.0
/// and 4.2: expanded in each version's module, where `v4` names that
/// version's bindings.
macro_rules! v4_conversions {
    () => {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;
    use v4::{
        Column, DbDataType, DbError, DbValue, Error, Interval as WitInterval, ParameterValue,
        QueryError, RangeBoundKind, RowSet,
    };
    use values::{Interval, JsonText, Range};

    type WitBound<T> = Option<(T, RangeBoundKind)>;

    fn decimal(text: String) -> Result<Decimal, String> {
        Decimal::from_str(&text).map_err(|e| format!("`{text}` is not a decimal: {e}"))
    }

    fn range_in<T, U>(
        (lower, upper): (WitBound<T>, WitBound<T>),
        convert: impl Fn(T) -> Result<U, String>,
    ) -> Result<Range<U>, String> {
        let bound = |b: WitBound<T>| {
            b.map(|(v, kind)| Ok::<_, String>((convert(v)?, kind == RangeBoundKind::Inclusive)))
                .transpose()
        };
        Ok(Range {
            lower: bound(lower)?,
            upper: bound(upper)?,
        })
    }

    fn range_out<T, U>(range: Range<T>, convert: impl Fn(T) -> U) -> (WitBound<U>, WitBound<U>) {
        let bound = |b: Option<(T, bool)>| {
            b.map(|(v, inclusive)| {
                let kind = if inclusive {
                    RangeBoundKind::Inclusive
                } else {
                    RangeBoundKind::Exclusive
                };
                (convert(v), kind)
            })
        };
        (bound(range.lower), bound(range.upper))
    }

    fn param(value: ParameterValue) -> Result<Param, String> {
        Ok(param_cases!(value, dated {
            ParameterValue::Uuid(v) => Param::Uuid(
                uuid::Uuid::parse_str(&v).map_err(|e| format!("`{v}` is not a UUID: {e}"))?,
            ),
            ParameterValue::Jsonb(v) => Param::Json(JsonText(v)),
            ParameterValue::Decimal(v) => Param::Decimal(decimal(v)?),
            ParameterValue::RangeInt32(r) => Param::RangeI32(range_in(r, Ok)?),
            ParameterValue::RangeInt64(r) => Param::RangeI64(range_in(r, Ok)?),
            ParameterValue::RangeDecimal(r) => Param::RangeDecimal(range_in(r, decimal)?),
            ParameterValue::ArrayInt32(v) => Param::ArrayI32(v),
            ParameterValue::ArrayInt64(v) => Param::ArrayI64(v),
            ParameterValue::ArrayDecimal(v) => Param::ArrayDecimal(
                v.into_iter()
                    .map(|d| d.map(decimal).transpose())
                    .collect::<Result<_, _>>()?,
            ),
            ParameterValue::ArrayStr(v) => Param::ArrayStr(v),
            ParameterValue::Interval(v) => Param::Interval(Interval {
                micros: v.micros,
                days: v.days,
                months: v.months,
            }),
        }))
    }

    fn value(value: Value) -> DbValue {
        let text = |d: Decimal| d.to_string();
        value_cases!(value, dated {
            Value::Uuid(v) => DbValue::Uuid(v.to_string()),
            Value::Json(v) => DbValue::Jsonb(v),
            Value::Decimal(v) => DbValue::Decimal(text(v)),
            Value::RangeI32(r) => DbValue::RangeInt32(range_out(r, |v| v)),
            Value::RangeI64(r) => DbValue::RangeInt64(range_out(r, |v| v)),
            Value::RangeDecimal(r) => DbValue::RangeDecimal(range_out(r, text)),
            Value::ArrayI32(v) => DbValue::ArrayInt32(v),
            Value::ArrayI64(v) => DbValue::ArrayInt64(v),
            Value::ArrayDecimal(v) => {
                DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(text)).collect())
            }
            Value::ArrayStr(v) => DbValue::ArrayStr(v),
            Value::Interval(v) => DbValue::Interval(WitInterval {
                micros: v.micros,
                days: v.days,
                months: v.months,
            }),
            Value::Unsupported(raw) => DbValue::Unsupported(raw),
        })
    }

    fn data_type(ty: ColumnType) -> DbDataType {
        type_cases!(ty, dated {
            ColumnType::Uuid => DbDataType::Uuid,
            ColumnType::Json => DbDataType::Jsonb,
            ColumnType::Decimal => DbDataType::Decimal,
            ColumnType::RangeI32 => DbDataType::RangeInt32,
            ColumnType::RangeI64 => DbDataType::RangeInt64,
            ColumnType::RangeDecimal => DbDataType::RangeDecimal,
            ColumnType::ArrayI32 => DbDataType::ArrayInt32,
            ColumnType::ArrayI64 => DbDataType::ArrayInt64,
            ColumnType::ArrayDecimal => DbDataType::ArrayDecimal,
            ColumnType::ArrayStr => DbDataType::ArrayStr,
            ColumnType::Interval => DbDataType::Interval,
            ColumnType::Other(name) => DbDataType::Other(name),
        })
    }

    fn query_failed(failure: QueryFailure) -> Error {
        Error::QueryFailed(match failure.server {
            Some(server) => QueryError::DbError(DbError {
                as_text: failure.text,
                severity: server.severity,
                code: server.code,
                message: server.message,
                detail: server.detail,
                extras: server.extras,
            }),
            None => QueryError::Text(failure.text),
        })
    }

    };
}

mod v4_host;

mod v4_2_host;

#[cfg(test)]
mod tests {
    use super::{libpq_to_url, take_ssl_mode};

    #[test]
    fn the_ssl_mode_of_a_libpq_string_is_carried_as_written() {
        assert_eq!(
            libpq_to_url("host=db user=u sslmode=verify-full").unwrap(),
            "postgres://u@db:5432?sslmode=verify%2Dfull"
        );
        for (written, mode, rest) in [
            ("sslmode=require host=h", "require", " host=h"),
            ("host=h sslmode = 'verify-ca'", "verify-ca", "host=h "),
            (
                "host=h  sslmode=prefer  user=u",
                "prefer",
                "host=h    user=u",
            ),
            // The last one counts, as in libpq.
            (
                "sslmode=disable host=h sslmode=require",
                "require",
                " host=h ",
            ),
            // Inside a quoted value it is the value's.
            (
                "password='x sslmode=disable' sslmode=verify-full",
                "verify-full",
                "password='x sslmode=disable' ",
            ),
        ] {
            assert_eq!(
                take_ssl_mode(written),
                (Some(mode.to_owned()), rest.to_owned()),
                "{written}"
            );
        }
        for kept in [
            "host=h xsslmode=require",
            "host=h sslmodes=x",
            "host=h password='unterminated",
        ] {
            assert_eq!(take_ssl_mode(kept), (None, kept.to_owned()), "{kept}");
        }
        // Escapes in a quoted value, as libpq reads them.
        assert_eq!(
            libpq_to_url(r"host=h user=u sslmode='requir\e'").unwrap(),
            "postgres://u@h:5432?sslmode=require"
        );
    }

    #[test]
    fn libpq_strings_become_the_url_that_is_checked_and_connected_to() {
        assert_eq!(
            libpq_to_url(
                "host=localhost user=postgres dbname=spin_dev sslmode=disable password=pw"
            )
            .unwrap(),
            "postgres://postgres:pw@localhost:5432/spin%5Fdev?sslmode=disable"
        );
        assert_eq!(
            libpq_to_url("host=::1 port=6543 user=a").unwrap(),
            "postgres://a@[::1]:6543"
        );
        // Characters that would change the URL's host are escaped.
        assert_eq!(
            libpq_to_url("host=db user=x@evil.example password=a/b:c dbname=d#e").unwrap(),
            "postgres://x%40evil%2Eexample:a%2Fb%3Ac@db:5432/d%23e"
        );
        // A URL is left as it is.
        assert_eq!(
            libpq_to_url("postgres://u@h/db").unwrap(),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn libpq_strings_with_several_hosts_sockets_or_no_host_are_refused() {
        for refused in [
            "host=a,b user=u",
            "host=/var/run/postgresql user=u",
            "user=u dbname=d",
            "host=a port=1,2 user=u",
            "not a connection string",
        ] {
            assert!(libpq_to_url(refused).is_err(), "{refused}");
        }
    }
}
