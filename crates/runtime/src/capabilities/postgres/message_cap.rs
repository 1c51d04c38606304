//! A cap on the size of one message from a PostgreSQL server (a row is one
//! `DataRow`), kept on the bytes as they arrive
//! ([`crate::capabilities::result_cap`]): tokio-postgres reads a whole
//! message before the query's own count sees it, and PostgreSQL sends a
//! value of up to 1 GB. A message larger than the cap fails its query as
//! soon as its header says so, before its body is read.
//!
//! The socket is framed from the first message the server sends. A client
//! that asks for TLS first (`SSLRequest`) gets one unframed byte back:
//! `N` (plain messages follow) or `S`, after which the socket carries TLS
//! and [`CappedTls`] frames the messages above it instead. The framing
//! itself, [`PgFraming`], is in the pure `spin-wire-framing` crate.

use std::future::Future;
use std::pin::Pin;

use tokio_postgres::tls::{ChannelBinding, TlsConnect, TlsStream};

use super::QueryFailure;
use crate::capabilities::result_cap::{CappedStream, Failure};

pub use spin_wire_framing::postgres::{MessageError, PgFraming};

/// A socket to PostgreSQL with its messages capped.
pub type CappedSocket = CappedStream<tokio::net::TcpStream, PgFraming>;

impl<S: TlsStream + Unpin> TlsStream for CappedStream<S, PgFraming> {
    fn channel_binding(&self) -> ChannelBinding {
        self.get_ref().channel_binding()
    }
}

/// A TLS connector whose connections' messages are capped once decrypted.
pub struct CappedTls<T> {
    /// The connector.
    pub inner: T,
    /// The most bytes of one message.
    pub max: usize,
    /// Where the connection's failure is kept (shared with its socket).
    pub failure: Failure<MessageError>,
}

impl<S, T> TlsConnect<S> for CappedTls<T>
where
    T: TlsConnect<S>,
    T::Future: Send + 'static,
    T::Stream: 'static,
{
    type Stream = CappedStream<T::Stream, PgFraming>;
    type Error = T::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Stream, T::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let (max, failure) = (self.max, self.failure);
        let handshake = self.inner.connect(stream);
        Box::pin(async move {
            let tls = handshake.await?;
            Ok(CappedStream::with_failure(
                tls,
                PgFraming::inside_tls(max),
                failure,
            ))
        })
    }
}

/// A client, and what closed its connection if the cap did: tokio-postgres
/// tells the query only that the connection closed.
pub struct CappedClient {
    client: tokio_postgres::Client,
    failure: Failure<MessageError>,
}

impl CappedClient {
    /// `client`, whose connection's failure is kept in `failure`.
    pub fn new(client: tokio_postgres::Client, failure: Failure<MessageError>) -> Self {
        Self { client, failure }
    }

    /// What the guest is told of `error`: the cap's reason when the cap
    /// closed the connection.
    pub(super) fn failure_of(&self, error: &tokio_postgres::Error) -> QueryFailure {
        match self.failure.get() {
            Some(capped) => QueryFailure {
                text: capped.to_string(),
                server: None,
            },
            None => QueryFailure::from(error),
        }
    }
}

impl std::ops::Deref for CappedClient {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        &self.client
    }
}
