//! `[outbound_http] max_connections` and `[outbound_networking]
//! max_total_connections` for the outbound HTTP client: a connection takes
//! its permits (see [`crate::capabilities::connection_quota`]) as it is
//! made and keeps them until it closes, so an idle pooled connection holds
//! them too (`connection_pooling = false` gives them back at once). A new
//! connection past a cap waits for a permit, then fails with
//! `connection-limit-reached`.

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::capabilities::connection_quota::{ConnectionPermit, ConnectionQuotas};
use crate::runtime_config::Outbound;

/// A connector whose connections each hold their permits of `quotas` (none
/// when outbound HTTP is not capped).
#[derive(Clone)]
pub(crate) struct Limited<C> {
    pub(crate) inner: C,
    pub(crate) quotas: Option<Arc<ConnectionQuotas>>,
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
        let quotas = self.quotas.clone();
        Box::pin(async move {
            let permit = match quotas {
                Some(quotas) => Some(quotas.acquire(Outbound::Http).await?),
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
    _permit: Option<ConnectionPermit>,
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
