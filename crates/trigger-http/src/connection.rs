//! One connection's clock: how long a client may take to send a request head,
//! and how long a kept-alive connection may sit idle between requests.
//!
//! hyper's own `header_read_timeout` starts when it begins waiting for a head,
//! so it also bounds the idle wait between requests (the two cannot differ),
//! and it does nothing for HTTP/2. This clock sees the bytes read (through
//! [`ClockedIo`]) and the requests in flight (through [`Busy`], held until
//! the response body is dropped), so it tells the two phases apart and works
//! for both protocols.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The deadlines of one connection.
pub(crate) struct ConnectionClock {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    state: Mutex<ClockState>,
    /// Woken when a deadline appears or moves earlier.
    changed: Notify,
    /// Woken when a request starts.
    started: Notify,
}

struct ClockState {
    /// Requests whose response is not yet fully handed to hyper.
    in_flight: usize,
    /// Whether a request was served: until then the connection is new and
    /// the head clock runs from the accept.
    served: bool,
    /// When the connection last became free of requests (or was accepted).
    waiting_since: Instant,
    /// The first byte read since then: a new request head has begun.
    head_started: Option<Instant>,
}

/// Why the clock closed a connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expired {
    /// No complete request head arrived in time.
    HeaderRead(Duration),
    /// A kept-alive connection sent nothing for too long.
    Idle(Duration),
}

impl std::fmt::Display for Expired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expired::HeaderRead(d) => write!(
                f,
                "no complete request head within {d:?} (`--http-header-read-timeout`)"
            ),
            Expired::Idle(d) => write!(f, "idle for {d:?} (`--http-idle-timeout`)"),
        }
    }
}

impl ConnectionClock {
    /// A clock for a connection accepted now.
    pub(crate) fn new(header_read_timeout: Duration, idle_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            header_read_timeout,
            idle_timeout,
            state: Mutex::new(ClockState {
                in_flight: 0,
                served: false,
                waiting_since: Instant::now(),
                head_started: None,
            }),
            changed: Notify::new(),
            started: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().expect("connection clock lock")
    }

    /// The next deadline and what passing it means; none while a request
    /// is in flight (the request timeout covers those).
    fn deadline(&self) -> Option<(Instant, Expired)> {
        let state = self.lock();
        if state.in_flight > 0 {
            return None;
        }
        let head = Expired::HeaderRead(self.header_read_timeout);
        if !state.served {
            return Some((state.waiting_since + self.header_read_timeout, head));
        }
        match state.head_started {
            Some(at) => Some((at + self.header_read_timeout, head)),
            None => Some((
                state.waiting_since + self.idle_timeout,
                Expired::Idle(self.idle_timeout),
            )),
        }
    }

    /// Resolves once the connection is past a deadline.
    pub(crate) async fn expired(&self) -> Expired {
        loop {
            match self.deadline() {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    let _ = tokio::time::timeout_at(at, self.changed.notified()).await;
                }
                None => self.changed.notified().await,
            }
        }
    }

    /// Records that bytes arrived.
    fn bytes_read(&self) {
        let mut state = self.lock();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            // The head clock may end before the idle one.
            self.changed.notify_one();
        }
    }

    /// Whether a request may be on its way with none in flight: none has
    /// been served yet (the first may sit unread in the socket), or a new
    /// head has begun.
    pub(crate) fn may_hold_unread_request(&self) -> bool {
        let state = self.lock();
        state.in_flight == 0 && (!state.served || state.head_started.is_some())
    }

    /// Resolves when a request starts after this call (or within it: the
    /// waiter is registered before `may_hold_unread_request` is asked).
    pub(crate) fn request_start(&self) -> std::pin::Pin<Box<tokio::sync::futures::Notified<'_>>> {
        let mut notified = Box::pin(self.started.notified());
        notified.as_mut().enable();
        notified
    }

    /// Records that a request head arrived; the returned guard marks the
    /// request finished when dropped.
    pub(crate) fn request_started(self: &Arc<Self>) -> Busy {
        let mut state = self.lock();
        state.in_flight += 1;
        state.served = true;
        state.head_started = None;
        drop(state);
        self.started.notify_waiters();
        Busy(self.clone())
    }
}

/// A request in flight on a connection.
pub(crate) struct Busy(Arc<ConnectionClock>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.waiting_since = Instant::now();
            state.head_started = None;
            drop(state);
            self.0.changed.notify_one();
        }
    }
}

/// A response body that keeps its request counted as in flight until hyper
/// has taken the last frame (or dropped it), so a long stream is not cut off
/// as idle.
pub(crate) struct BusyBody {
    body: HyperOutgoingBody,
    _busy: Busy,
}

impl BusyBody {
    pub(crate) fn new(body: HyperOutgoingBody, busy: Busy) -> Self {
        Self { body, _busy: busy }
    }
}

impl Body for BusyBody {
    type Data = Bytes;
    type Error = <HyperOutgoingBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's socket, telling its clock when bytes arrive.
pub(crate) struct ClockedIo<T> {
    io: T,
    clock: Arc<ConnectionClock>,
}

impl<T> ClockedIo<T> {
    pub(crate) fn new(io: T, clock: Arc<ConnectionClock>) -> Self {
        Self { io, clock }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ClockedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.bytes_read();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ClockedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(30);

    fn waiting_since(clock: &ConnectionClock) -> Instant {
        clock.lock().waiting_since
    }

    #[test]
    fn a_new_connection_has_the_header_timeout_from_the_accept() {
        let clock = ConnectionClock::new(HEAD, IDLE);
        let since = waiting_since(&clock);
        assert_eq!(
            clock.deadline(),
            Some((since + HEAD, Expired::HeaderRead(HEAD)))
        );
        // Bytes of the first head do not extend it.
        clock.bytes_read();
        assert_eq!(
            clock.deadline(),
            Some((since + HEAD, Expired::HeaderRead(HEAD)))
        );
    }

    #[test]
    fn no_deadline_while_requests_are_in_flight_then_the_idle_one() {
        let clock = ConnectionClock::new(HEAD, IDLE);
        let first = clock.request_started();
        let second = clock.request_started();
        assert_eq!(clock.deadline(), None);
        drop(first);
        assert_eq!(clock.deadline(), None);
        drop(second);
        let since = waiting_since(&clock);
        assert_eq!(clock.deadline(), Some((since + IDLE, Expired::Idle(IDLE))));
    }

    #[test]
    fn a_head_begun_on_an_idle_connection_gets_the_header_timeout() {
        let clock = ConnectionClock::new(HEAD, IDLE);
        drop(clock.request_started());
        clock.bytes_read();
        let started = clock.lock().head_started.expect("the head began");
        assert_eq!(
            clock.deadline(),
            Some((started + HEAD, Expired::HeaderRead(HEAD)))
        );
        // The head's arrival stops it.
        let busy = clock.request_started();
        assert_eq!(clock.deadline(), None);
        drop(busy);
    }
}
