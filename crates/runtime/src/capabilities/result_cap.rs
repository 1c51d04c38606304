//! A socket whose incoming messages are capped in size as they arrive.
//!
//! A database or broker client reads a whole message (a Redis reply, a
//! PostgreSQL row) into the host's memory before anyone sees it, outside
//! every instance limit. [`CappedStream`] sits between the socket and the
//! client and frames the protocol as the bytes pass ([`Framing`]): once one
//! message passes the cap, reading fails, and the client has held no more
//! than the cap of it. The connection is then unusable (its message is
//! half read), which is what the client makes of any failed read: the
//! command fails, and the connection is closed. Messages that arrived
//! whole before it in the same read still reach the client.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use spin_wire_framing::{Framing, Tripped};

/// What a [`CappedStream`] failed with, readable by its owner once the
/// client holding the stream reports a closed connection.
#[derive(Debug)]
pub struct Failure<E>(Arc<OnceLock<E>>);

impl<E> Clone for Failure<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<E> Default for Failure<E> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<E> Failure<E> {
    /// The failure, if the stream has failed.
    pub fn get(&self) -> Option<&E> {
        self.0.get()
    }
}

/// A socket whose incoming messages are framed by `F` and capped.
pub struct CappedStream<S, F: Framing> {
    inner: S,
    framing: F,
    failure: Failure<F::Error>,
}

impl<S, F: Framing> CappedStream<S, F> {
    /// Reads `inner` through `framing`.
    pub fn new(inner: S, framing: F) -> Self {
        Self::with_failure(inner, framing, Failure::default())
    }

    /// Reads `inner` through `framing`, its failure shared with others
    /// (one connection's streams, one inside the other).
    pub fn with_failure(inner: S, framing: F, failure: Failure<F::Error>) -> Self {
        Self {
            inner,
            framing,
            failure,
        }
    }

    /// Where the stream's failure can be read once it fails.
    pub fn failure(&self) -> Failure<F::Error> {
        self.failure.clone()
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin, F: Framing + Unpin> AsyncRead for CappedStream<S, F> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(failed) = this.failure.get() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                failed.clone(),
            )));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if let Err(tripped) = this.framing.feed(&buf.filled()[before..]) {
            // The reader never sees the failing message; the whole ones
            // before it in this read are delivered now, the failure at the
            // next read.
            buf.set_filled(before + tripped.before);
            let _ = this.failure.0.set(tripped.error.clone());
            if tripped.before == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    tripped.error,
                )));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin, F: Framing + Unpin> AsyncWrite for CappedStream<S, F> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.framing.wrote(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        let mut left = written;
        for buf in bufs {
            if left == 0 {
                break;
            }
            let taken = left.min(buf.len());
            this.framing.wrote(&buf[..taken]);
            left -= taken;
        }
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
