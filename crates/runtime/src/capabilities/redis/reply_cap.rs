//! A cap on the size of one Redis reply, kept on the bytes as they arrive
//! ([`crate::capabilities::result_cap`]).
//!
//! Redis sends a reply of up to 512 MB (`proto-max-bulk-len`) for a short
//! command: `GET` of a value a single `SETRANGE key 500000000 x` made,
//! `KEYS *`, `LRANGE`, a published message. [`RespScanner`] (in the pure
//! `spin-wire-framing` crate) frames RESP2 and RESP3 and counts each
//! reply's bytes, so a guest cannot have the host hold more than the cap of
//! one.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{ConnectionAddr, ConnectionInfo};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::capabilities::result_cap::CappedStream;
use crate::tls::Checks;
use rustls::pki_types::ServerName;

pub use spin_wire_framing::resp::{ReplyError, RespScanner};

/// A socket whose replies are capped.
pub type ReplyCap<S> = CappedStream<S, RespScanner>;

/// A socket to a Redis server: TCP or a Unix socket.
pub trait Socket: AsyncRead + AsyncWrite + Send + Unpin {}

impl<S: AsyncRead + AsyncWrite + Send + Unpin> Socket for S {}

/// Opens a socket to the server at `addr` (see [`open_socket`] for
/// `tls_name`), each of its replies capped at `max_reply` bytes.
pub async fn connect(
    addr: &ConnectionAddr,
    tls_name: Option<&str>,
    max_reply: usize,
) -> io::Result<ReplyCap<Box<dyn Socket>>> {
    let socket = open_socket(addr, tls_name).await?;
    Ok(CappedStream::new(socket, RespScanner::new(max_reply)))
}

/// Opens a socket to the server at `addr`, uncapped: for a reader that
/// bounds what it keeps itself (the Redis trigger's subscriber). A
/// `rediss://` address is reached over TLS, its certificate verified
/// against the trusted roots (webpki's and the machine's) and the host
/// name, unless the URL ends in `#insecure` (the `redis` crate's and
/// Spin's way to accept any certificate: encrypted, not authenticated).
/// `tls_name` is the name the certificate must carry when it is not the
/// host connected to (an address resolved from the name the allow list
/// checked).
pub async fn open_socket(
    addr: &ConnectionAddr,
    tls_name: Option<&str>,
) -> io::Result<Box<dyn Socket>> {
    let socket: Box<dyn Socket> = match addr {
        ConnectionAddr::Tcp(host, port) => Box::new(tcp(host, *port).await?),
        ConnectionAddr::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => {
            let name = tls_name.unwrap_or(host);
            let name = ServerName::try_from(name.to_owned()).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{name}` is not a name TLS can verify: {e}"),
                )
            })?;
            let checks = if *insecure {
                Checks::None
            } else {
                Checks::ChainAndName
            };
            let connector = tokio_rustls::TlsConnector::from(crate::tls::client_config(checks));
            let tls = connector
                .connect(name, tcp(host, *port).await?)
                .await
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "TLS with the Redis server at {host}:{port} failed: {e} (a certificate from a private CA is trusted through SSL_CERT_FILE or SSL_CERT_DIR; ask for the name the certificate is for; `#insecure` at the end of the address skips the checks)"
                        ),
                    )
                })?;
            Box::new(tls)
        }
    };
    Ok(socket)
}

/// When an idle connection starts probing that its server is still there,
/// how often it probes, and after how many unanswered probes it fails.
const KEEPALIVE: (Duration, Duration, u32) = (Duration::from_secs(60), Duration::from_secs(10), 6);

/// A TCP connection to `host`:`port`, each command sent at once.
async fn tcp(host: &str, port: u16) -> io::Result<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect((host, port)).await?;
    // Commands are small and each waits for its reply.
    tcp.set_nodelay(true)?;
    // A subscriber only reads: if its server's machine goes away without
    // closing the connection (a power cut, a network partition, a load
    // balancer dropping idle flows), only probes notice, after about two
    // minutes, and the trigger then reconnects.
    let (time, interval, retries) = KEEPALIVE;
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(time)
        .with_interval(interval)
        .with_retries(retries);
    socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive)?;
    Ok(tcp)
}

/// Stops a spawned task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A multiplexed connection whose replies are capped. Its driver task (the
/// socket's owner) stops when the last clone is dropped, even with a
/// command in flight (a `BLPOP` cut off by a timeout would otherwise keep
/// the task and its socket until Redis closed it, which by default it never
/// does).
#[derive(Clone)]
pub struct CappedConnection {
    conn: MultiplexedConnection,
    _driver: Arc<AbortOnDrop>,
}

impl CappedConnection {
    /// Connects to the server `info` names (its credentials and database
    /// applied; `tls_name` as for [`open_socket`]), each reply capped at
    /// `max_reply` bytes.
    pub async fn open(
        info: &ConnectionInfo,
        tls_name: Option<&str>,
        max_reply: usize,
    ) -> redis::RedisResult<Self> {
        let socket = connect(&info.addr, tls_name, max_reply).await?;
        let config = redis::AsyncConnectionConfig::new();
        let (conn, driver) =
            MultiplexedConnection::new_with_config(&info.redis, socket, config).await?;
        let driver = tokio::spawn(driver).abort_handle();
        Ok(Self {
            conn,
            _driver: Arc::new(AbortOnDrop(driver)),
        })
    }
}

impl ConnectionLike for CappedConnection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        self.conn.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        self.conn.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every TCP connection to Redis probes its server when idle.
    #[tokio::test]
    async fn connections_probe_an_idle_server() {
        let socket = tcp("127.0.0.1", 6379).await.unwrap();
        let probed = socket2::SockRef::from(&socket);
        assert!(probed.keepalive().unwrap());
        assert_eq!(probed.tcp_keepalive_time().unwrap(), KEEPALIVE.0);
        assert_eq!(probed.tcp_keepalive_interval().unwrap(), KEEPALIVE.1);
        assert_eq!(probed.tcp_keepalive_retries().unwrap(), KEEPALIVE.2);
    }

    /// Against the machine's Redis: a value larger than the cap fails its
    /// command with the cap's error; the client held no more than the cap.
    #[tokio::test]
    async fn a_reply_past_the_cap_fails_its_command() {
        use redis::AsyncCommands as _;
        let info =
            redis::IntoConnectionInfo::into_connection_info("redis://127.0.0.1:6379/").unwrap();
        let open = |max| {
            let info = info.clone();
            async move {
                let socket = connect(&info.addr, None, max).await.unwrap();
                let failure = socket.failure();
                let (conn, driver) = redis::aio::MultiplexedConnection::new_with_config(
                    &info.redis,
                    socket,
                    redis::AsyncConnectionConfig::new(),
                )
                .await
                .unwrap();
                tokio::spawn(driver);
                (conn, failure)
            }
        };
        let key = format!("reply-cap-{}", std::process::id());
        let (mut conn, failure) = open(1 << 20).await;
        // One short command makes a 2 MB value.
        let _: i64 = redis::cmd("SETRANGE")
            .arg(&key)
            .arg(2_000_000)
            .arg("x")
            .query_async(&mut conn)
            .await
            .unwrap();
        let small: i64 = conn.strlen(&key).await.unwrap();
        assert_eq!(small, 2_000_001);
        let err = conn.get::<_, Vec<u8>>(&key).await.unwrap_err();
        assert!(
            err.to_string().contains("larger than 1048576 bytes"),
            "{err}"
        );
        assert_eq!(failure.get(), Some(&ReplyError::TooLarge(1 << 20)));
        // Under a larger cap, the same value arrives whole.
        let (mut roomy, failure) = open(4 << 20).await;
        let value: Vec<u8> = roomy.get(&key).await.unwrap();
        assert_eq!(value.len(), 2_000_001);
        let _: i64 = roomy.del(&key).await.unwrap();
        assert_eq!(failure.get(), None);
    }
}
