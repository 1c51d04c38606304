//! Incremental framing of what database and broker servers send, so that
//! a host can cap each message's size on the socket, before a client
//! library reads the whole message into memory: [`resp`] for Redis
//! (RESP2 and RESP3), [`postgres`] for PostgreSQL's backend messages;
//! and [`resp::values`], which reads whole RESP2 values with a bound,
//! skipping a bulk string too large to keep (a Redis subscriber's reader).
//!
//! Pure: no I/O, no async runtime. The host's socket wrapper feeds each
//! read to a [`Framing`] and fails the read when it trips.

#![deny(missing_docs)]

pub mod postgres;
pub mod resp;

/// A protocol's framing of the bytes a server sends.
pub trait Framing {
    /// Why a stream failed.
    type Error: std::error::Error + Clone + Send + Sync + 'static;

    /// Takes the next bytes read. Fails once one message has passed the
    /// cap, or when the bytes cannot be framed; it is not fed again after a
    /// failure.
    fn feed(&mut self, piece: &[u8]) -> Result<(), Tripped<Self::Error>>;

    /// Sees the bytes written (for a protocol whose next answer depends on
    /// what was asked).
    fn wrote(&mut self, _bytes: &[u8]) {}
}

/// A message passed the cap (or could not be framed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tripped<E> {
    /// How many bytes of the piece fed came before the failing message
    /// (whole messages, still delivered).
    pub before: usize,
    /// Why.
    pub error: E,
}
