//! A guest's outbound request body as hyper sends it, kept open for the
//! guest once hyper has sent all it declared.
//!
//! hyper drops a request body as soon as it has written the bytes its
//! `content-length` declares (at once for `content-length: 0`), while the
//! guest may not have finished it: spin-sdk 3.x writes even an empty body,
//! flushes it and finishes it after calling `handle`. Dropping the body
//! closes the guest's stream, so a guest slower than a loopback exchange got
//! `StreamError_Closed` from `flush` on a request that had been sent whole
//! (seen in CI, under load, in `one_instance_has_a_bounded_number_of_
//! outbound_requests_in_flight`). Here a body dropped after its declared
//! length is drained instead, until the guest finishes it; one dropped
//! earlier (the request failed) still closes, so a guest stops writing.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime_wasi_http::{Error, WasiBody};

/// See the module's comment.
pub(super) struct SentBody {
    inner: Option<WasiBody>,
    /// The declared bytes not yet sent; `None` without a `content-length`.
    remaining: Option<u64>,
}

impl SentBody {
    /// `inner`, whose request declares `content_length`.
    pub(super) fn new(inner: WasiBody, content_length: Option<u64>) -> Self {
        Self {
            inner: Some(inner),
            remaining: content_length,
        }
    }
}

impl Body for SentBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let next = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &next
            && let (Some(remaining), Some(data)) = (self.remaining, frame.data_ref())
        {
            self.remaining = Some(remaining.saturating_sub(data.len() as u64));
        }
        next
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for SentBody {
    fn drop(&mut self) {
        if self.remaining == Some(0)
            && let Some(body) = self.inner.take()
        {
            crate::drain::drain(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc;
    use http_body_util::{BodyExt, StreamBody};
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    type Writer = mpsc::Sender<Result<Frame<Bytes>, Error>>;

    /// A body its writer (the guest) has not finished yet.
    fn unfinished() -> (Writer, WasiBody) {
        let (writer, frames) = mpsc::channel(1);
        (writer, StreamBody::new(frames).boxed_unsync())
    }

    /// Sends `body` as a `content-length: 0` request to an upstream on
    /// loopback that answers at once; returns once the response is in and
    /// the connection has ended.
    async fn send_empty(body: WasiBody) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 1024];
            let _ = socket.read(&mut head).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        });
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        let connection = tokio::spawn(connection);
        let request = http::Request::post("/")
            .header(http::header::CONTENT_LENGTH, "0")
            .body(body)
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        drop(sender);
        let _ = connection.await;
        upstream.await.unwrap();
    }

    #[tokio::test]
    async fn hyper_drops_a_body_once_its_declared_length_is_sent() {
        // Why this module exists: the guest's stream closes under it.
        let (writer, body) = unfinished();
        send_empty(body).await;
        assert!(writer.is_closed());
    }

    #[tokio::test]
    async fn a_body_sent_whole_stays_open_until_its_writer_finishes() {
        let (mut writer, body) = unfinished();
        send_empty(SentBody::new(body, Some(0)).boxed_unsync()).await;
        assert!(!writer.is_closed());
        // What the guest still writes (nothing, or its trailers) is taken.
        writer.try_send(Ok(Frame::data(Bytes::new()))).unwrap();
        drop(writer);
    }

    #[tokio::test]
    async fn a_body_dropped_short_of_its_length_closes() {
        let (writer, body) = unfinished();
        drop(SentBody::new(body, Some(10)));
        assert!(writer.is_closed());
    }
}
