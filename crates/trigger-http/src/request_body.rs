//! A client's request body as a guest reads it, failing the request when
//! the body breaks instead of letting the guest take it for whole.
//!
//! A `wasi:http@0.3` guest reads the body as a `stream<u8>` that can only
//! end; whether it ended whole is a separate future, which the SDKs never
//! look at. So a body the client cut short (its connection half-closed
//! mid-upload), or one that is not valid chunked encoding, reached the
//! guest as complete, and the guest stored half an upload. Here a broken
//! body never ends: it stays pending for the guest, and, unless the guest
//! has answered already, the request is answered `400` by the host (the
//! guest, still waiting for the rest, is stopped as for a client that went
//! away). Until the guest answers, an HTTP/1.x body that pauses longer than
//! `--http-body-read-timeout` counts as broken too (`408`): a client that
//! stops sending its body otherwise holds a request slot and an instance
//! for the whole request timeout. (Once the guest has answered, a pause is
//! the guest's business, a full-duplex exchange may wait on the client, and
//! a broken body reaches the guest as the error it is: there is no one left
//! to refuse.)

use crate::handler::text as text_response;
use crate::server::close_after;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Sleep;
use wasmtime_wasi_http::Error;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Why a request body broke; shared by the body and the request's handler.
#[derive(Default)]
pub(crate) struct BodyBroken {
    why: OnceLock<Broke>,
    notify: Notify,
    /// Set once the guest's response head is out.
    answered: AtomicBool,
    /// The body's reader, waiting on a body that broke just as the guest
    /// answered (see [`WatchedBody::poll_one`]).
    reader: Mutex<Option<Waker>>,
}

/// How a request body broke.
#[derive(Debug)]
enum Broke {
    /// The client sent no body data for this long.
    Stalled(Duration),
    /// hyper's error: cut short, or malformed.
    Failed(String),
    /// Longer than `--max-request-body-size`, this many bytes.
    TooLarge(u64),
}

impl BodyBroken {
    fn set(&self, why: Broke) {
        if self.why.set(why).is_ok() {
            self.notify.notify_waiters();
        }
    }

    /// Records that the guest's response head is out: the body may pause
    /// from now on. The body may have broken in the moment before: a guest
    /// still reading it is told now, or it would wait for the rest until
    /// the request timeout. (Under the reader's lock, as in
    /// [`WatchedBody::poll_broken`], so that one of the two sees the other.)
    fn answered(&self) {
        let mut reader = self.reader.lock().unwrap();
        self.answered.store(true, Ordering::Relaxed);
        if self.why.get().is_some()
            && let Some(reader) = reader.take()
        {
            reader.wake();
        }
    }

    /// `guest` (the wait for the guest's response head), unless the body
    /// of the request breaks first: then the answer for the client, and
    /// `guest` is dropped, which stops the guest waiting for the rest of
    /// the body. A guest that answers first wins, and the body may pause
    /// from then on.
    pub(crate) async fn unless_broken<F: Future>(
        broken: Option<&Self>,
        guest: F,
    ) -> Result<F::Output, Response<HyperOutgoingBody>> {
        let Some(broken) = broken else {
            return Ok(guest.await);
        };
        tokio::select! {
            biased;
            answered = guest => {
                broken.answered();
                Ok(answered)
            }
            answer = broken.answer() => Err(answer),
        }
    }

    /// Resolves once the body has broken, with the answer for the client.
    async fn answer(&self) -> Response<HyperOutgoingBody> {
        loop {
            let notified = self.notify.notified();
            if let Some(why) = self.why.get() {
                return answer(why);
            }
            notified.await;
        }
    }
}

impl Broke {
    /// The error a guest that answered already reads from the body.
    fn to_error(&self) -> Error {
        match self {
            Broke::Stalled(_) => Error::ConnectionReadTimeout,
            Broke::Failed(err) => Error::InternalError(Some(err.clone())),
            Broke::TooLarge(limit) => Error::HttpRequestBodySize(Some(*limit)),
        }
    }
}

/// Reads a request body whole for a guest that takes it whole (a Wagi or
/// Spin 1 module), within the request's time: the body, or the answer the
/// client gets instead (a body that broke, as for any component; one that
/// did not arrive in time, 408 with the connection closed).
pub(crate) async fn read_whole<B>(
    body: B,
    broken: Option<Arc<BodyBroken>>,
    deadline: std::time::Instant,
    timeout: Duration,
) -> Result<Result<Bytes, Response<HyperOutgoingBody>>, Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Error>,
{
    use http_body_util::BodyExt as _;
    let reading = tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), body.collect());
    match BodyBroken::unless_broken(broken.as_deref(), reading).await {
        Err(answer) => Ok(Err(answer)),
        // The client's doing, not the component's: answered 408, and the
        // connection (its framing lost with the body) closed.
        Ok(Err(_)) => Ok(Err(close_after(text_response(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "Request Timeout: the request body did not arrive within the request's {timeout:?}\n\nhint: send it sooner (the limit is `spin up --request-timeout`)\n"
            ),
        )))),
        Ok(Ok(Err(e))) => Err(e.into()),
        Ok(Ok(Ok(collected))) => Ok(Ok(collected.to_bytes())),
    }
}

/// The answer to a request whose body is over `limit` bytes.
pub(crate) fn too_large(limit: u64) -> Response<HyperOutgoingBody> {
    answer(&Broke::TooLarge(limit))
}

/// The client's answer: the body broke, so there is nothing to serve.
fn answer(why: &Broke) -> Response<HyperOutgoingBody> {
    let (status, text) = match why {
        Broke::TooLarge(limit) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Content Too Large: the request body is over the {limit} bytes allowed\n\nhint: send less, or raise the limit with `spin up --max-request-body-size`\n"
            ),
        ),
        Broke::Stalled(timeout) => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "Request Timeout: no request body data for {timeout:?}\n\nhint: send the body without pauses that long (the limit is `spin up --http-body-read-timeout`)\n"
            ),
        ),
        Broke::Failed(err) => (
            StatusCode::BAD_REQUEST,
            format!(
                "Bad Request: the request body was cut short or malformed ({err})\n\nhint: send the whole body, as its Content-Length or chunked encoding says\n"
            ),
        ),
    };
    // The connection's framing is lost with the body.
    close_after(text_response(status, text))
}

/// `inner` (a client's request body), watched: see the module's comment.
pub(crate) struct WatchedBody<B> {
    /// Dropped once broken, so hyper stops reading the connection at once.
    inner: Option<B>,
    /// `None` when there is nothing to watch.
    broken: Option<Arc<BodyBroken>>,
    /// How long the body may stall (HTTP/1.x only: an HTTP/2 stream's data
    /// may wait on the connection's flow-control window, which other
    /// streams' unread bodies can hold).
    read_timeout: Option<Duration>,
    /// The stall timer, allocated once and re-armed while the body is
    /// waited for.
    stall: Option<Pin<Box<Sleep>>>,
    armed: bool,
    /// Whether the guest was given the error of a broken body.
    told: bool,
    /// The most bytes the body may hold, and how many it has held so far.
    limit: u64,
    received: u64,
}

impl<B: Body> WatchedBody<B> {
    /// `inner`, watched, with the handle its request's handler waits on;
    /// none for a body that has already ended (a GET's): it passes through
    /// as it is, at no cost.
    pub(crate) fn new(
        inner: B,
        read_timeout: Option<Duration>,
        limit: u64,
    ) -> (Self, Option<Arc<BodyBroken>>) {
        let broken = (!inner.is_end_stream()).then(Arc::<BodyBroken>::default);
        let body = WatchedBody {
            inner: Some(inner),
            broken: broken.clone(),
            read_timeout,
            stall: None,
            armed: false,
            told: false,
            limit,
            received: 0,
        };
        (body, broken)
    }
}

impl<B> WatchedBody<B> {
    fn break_with(
        &mut self,
        why: Broke,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        tracing::debug!("a client's request body broke: {why:?}");
        self.inner = None;
        self.stall = None;
        if let Some(broken) = &self.broken {
            broken.set(why);
        }
        self.poll_broken(cx)
    }

    /// A broken body never ends for a guest that has not answered: the
    /// host answers for it. One that answered as the body broke (the two
    /// raced) reads the error instead, once.
    fn poll_broken(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let Some(broken) = self.broken.as_ref() else {
            return Poll::Ready(None);
        };
        if self.told {
            return Poll::Ready(None);
        }
        let mut reader = broken.reader.lock().unwrap();
        match broken.why.get() {
            Some(why) if broken.answered.load(Ordering::Relaxed) => {
                self.told = true;
                Poll::Ready(Some(Err(why.to_error())))
            }
            _ => {
                *reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Whether the guest has answered (or there is no one to tell).
    fn answered(&self) -> bool {
        self.broken
            .as_ref()
            .is_none_or(|broken| broken.answered.load(Ordering::Relaxed))
    }
}

impl<B> Body for WatchedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Error> + std::fmt::Display,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return self.poll_broken(cx);
        };
        match Pin::new(inner).poll_frame(cx) {
            // Once the guest has answered, there is no one to refuse: it
            // gets the error (a 0.3 guest only in the body's trailers).
            Poll::Ready(Some(Err(err))) if !self.answered() => {
                self.break_with(Broke::Failed(err.to_string()), cx)
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(Some(Ok(frame))) => {
                self.armed = false;
                self.received += frame.data_ref().map_or(0, |data| data.len() as u64);
                if self.received <= self.limit {
                    return Poll::Ready(Some(Ok(frame)));
                }
                let limit = self.limit;
                if !self.answered() {
                    return self.break_with(Broke::TooLarge(limit), cx);
                }
                // Answered already: the guest gets the error, and no more.
                tracing::debug!("a client's request body went over the {limit} bytes allowed");
                self.inner = None;
                self.told = true;
                Poll::Ready(Some(Err(Error::HttpRequestBodySize(Some(self.received)))))
            }
            Poll::Ready(None) => {
                self.armed = false;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let Some(timeout) = self.read_timeout.filter(|_| !self.answered()) else {
                    return Poll::Pending;
                };
                let deadline = tokio::time::Instant::now() + timeout;
                let this = &mut *self;
                let stall = this
                    .stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.armed {
                    stall.as_mut().reset(deadline);
                    this.armed = true;
                }
                match stall.as_mut().poll(cx) {
                    Poll::Ready(()) => self.break_with(Broke::Stalled(timeout), cx),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_some_and(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(SizeHint::default, Body::size_hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;
    use http_body_util::{BodyExt, StreamBody};
    use std::convert::Infallible;

    type Ready = Result<Frame<Bytes>, Infallible>;

    #[tokio::test]
    async fn a_guest_that_answers_as_the_body_stalls_reads_the_error() {
        let pending = StreamBody::new(stream::pending::<Ready>());
        let (mut body, broken) =
            WatchedBody::new(pending, Some(Duration::from_millis(1)), u64::MAX);
        let broken = broken.unwrap();
        let reader = tokio::spawn(async move { body.frame().await });
        // The body stalls while the guest reads it...
        let _ = broken.answer().await;
        // ...and the guest's answer, ready in the same moment, wins.
        let answered = BodyBroken::unless_broken(Some(&broken), async {}).await;
        assert!(answered.is_ok());
        // The guest still reading is told the body broke, not left waiting.
        let read = tokio::time::timeout(Duration::from_secs(30), reader)
            .await
            .expect("the guest's read was left waiting")
            .unwrap();
        assert!(
            matches!(read, Some(Err(Error::ConnectionReadTimeout))),
            "{read:?}"
        );
    }
}
