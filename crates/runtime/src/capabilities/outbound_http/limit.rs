//! `[outbound_http] max_connections`: the most upstream connections the
//! application's outbound HTTP client holds open at once, as in Spin. A
//! connection takes a permit as it is made and keeps it until it closes, so
//! an idle pooled connection holds one too (`connection_pooling = false`
//! gives them back at once). A new connection past the limit waits for a
//! permit as long as a connect may take, then fails with
//! `connection-limit-reached`.

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// No permit came in time (or the limit is 0).
#[derive(Debug)]
pub(crate) struct ConnectionLimitReached {
    pub(crate) max: usize,
}

impl std::fmt::Display for ConnectionLimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            0 => write!(
                f,
                "the runtime config's `[outbound_http] max_connections` is 0: no outbound HTTP connection may be made"
            ),
            max => write!(
                f,
                "the application already has {max} outbound HTTP connections open, the runtime config's `[outbound_http] max_connections`, and none closed in time"
            ),
        }
    }
}

impl StdError for ConnectionLimitReached {}

/// The application's connection permits.
pub(crate) struct ConnectionLimit {
    permits: Arc<Semaphore>,
    max: usize,
    wait: Duration,
    /// Whether a wait was logged since a permit was last free at once.
    waiting: AtomicBool,
}

impl ConnectionLimit {
    /// At most `max` connections; a new one waits up to `wait` for a permit.
    pub(crate) fn new(max: usize, wait: Duration) -> Arc<Self> {
        // Beyond what a semaphore holds, no limit is reached anyway.
        let max = max.min(Semaphore::MAX_PERMITS);
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
            wait,
            waiting: AtomicBool::new(false),
        })
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, ConnectionLimitReached> {
        let reached = || ConnectionLimitReached { max: self.max };
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            self.waiting.store(false, Ordering::Relaxed);
            return Ok(permit);
        }
        if self.max == 0 {
            return Err(reached());
        }
        if !self.waiting.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "outbound HTTP connections are at the runtime config's `[outbound_http] max_connections` ({}, idle pooled ones included); new connections wait up to {:?} for one to close (logged once until one is free at once)\n\nhint: raise `max_connections`, or set `connection_pooling = false` so that idle connections close at once",
                self.max,
                self.wait
            );
        }
        tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| reached())?
            .map_err(|_| reached())
    }
}

/// A connector whose connections each hold a permit of `limit` (none
/// without one).
#[derive(Clone)]
pub(crate) struct Limited<C> {
    pub(crate) inner: C,
    pub(crate) limit: Option<Arc<ConnectionLimit>>,
}

impl<C> tower_service::Service<Uri> for Limited<C>
where
    C: tower_service::Service<Uri> + Clone + Send + 'static,
    C::Future: Send,
    C::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = Permitted<C::Response>;
    type Error = Box<dyn StdError + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        // The connector made ready is the one that connects.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let limit = self.limit.clone();
        Box::pin(async move {
            let permit = match limit {
                Some(limit) => Some(limit.acquire().await?),
                None => None,
            };
            let io = inner.call(uri).await.map_err(Into::into)?;
            Ok(Permitted {
                io,
                _permit: permit,
            })
        })
    }
}

/// A connection with its permit, given back when it closes.
pub(crate) struct Permitted<T> {
    io: T,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<T: Connection> Connection for Permitted<T> {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl<T: Read + Unpin> Read for Permitted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for Permitted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permits_are_waited_for_and_refused_past_the_wait() {
        let limit = ConnectionLimit::new(1, Duration::from_millis(50));
        let first = limit.acquire().await.unwrap();
        let err = limit.acquire().await.unwrap_err();
        assert_eq!(err.max, 1);
        // A permit given back lets the next connection in.
        let waiting = {
            let limit = limit.clone();
            tokio::spawn(async move { limit.acquire().await.is_ok() })
        };
        // It waits...
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiting.is_finished());
        drop(first);
        assert!(waiting.await.unwrap());
        // A limit past what a semaphore can hold (a hostile runtime config)
        // is no limit, not a panic.
        let huge = ConnectionLimit::new(usize::MAX, Duration::from_secs(1));
        assert!(huge.acquire().await.is_ok());
        // None at all: refused at once.
        let none = ConnectionLimit::new(0, Duration::from_secs(60));
        let started = tokio::time::Instant::now();
        assert!(none.acquire().await.is_err());
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
