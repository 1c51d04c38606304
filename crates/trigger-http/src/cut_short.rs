//! Response bodies a guest did not finish. When a guest traps or times out
//! after sending its response head, wasmtime-wasi-http's body types end as
//! if complete (the channel they read from just closes), and a client of a
//! chunked response could not tell it was cut short. Here the end of such a
//! body becomes an error, so hyper closes the connection without the last
//! chunk (and an in-process caller gets `HttpResponseIncomplete`). A
//! `wasi:http@0.2` guest that finished its body before failing sent it
//! whole ([`body_left_open`]).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use wasmtime::component::ResourceTable;
use wasmtime_wasi_http::p2::body::{HostOutgoingBody, HyperOutgoingBody};

/// A guest's response body and whether its guest failed (the flag is set
/// before the guest's store, and with it the body's sender, is dropped),
/// holding whatever must live as long as the body (a request slot).
pub(crate) struct GuestFailed<H = ()> {
    inner: HyperOutgoingBody,
    failed: Arc<AtomicBool>,
    /// The body ended with its guest failed: the error is next.
    ended_cut_short: bool,
    _held: H,
}

impl GuestFailed {
    pub(crate) fn new(inner: HyperOutgoingBody, failed: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            failed,
            ended_cut_short: false,
            _held: (),
        }
    }

    /// The body, keeping `held` until it is done.
    pub(crate) fn holding<H>(self, held: H) -> GuestFailed<H> {
        GuestFailed {
            inner: self.inner,
            failed: self.failed,
            ended_cut_short: self.ended_cut_short,
            _held: held,
        }
    }
}

impl<H> GuestFailed<H> {
    fn cut_short(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}

impl<H: Unpin> Body for GuestFailed<H> {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.ended_cut_short {
            return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseIncomplete)));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) if self.cut_short() => {
                // The error comes at the next poll: hyper first writes out
                // what it holds (the head and the body so far), where an
                // error now would close the connection before that, and a
                // guest that failed fast would leave its client no answer.
                self.ended_cut_short = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            polled => polled,
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.ended_cut_short && self.inner.is_end_stream() && !self.cut_short()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a failed `wasi:http@0.2` guest left a body unfinished. The
/// `outgoing-body` resource of its response stays in its resource table until
/// the guest calls `finish`, which takes it out: a guest that failed after
/// finishing its response body (in work it did after responding) sent that
/// body whole. wasmtime-wasi-http does not say whether an open body is the
/// response's or an outgoing request's, so any open body counts: a finished
/// response of a guest that also left a request body open is still reported
/// cut short.
pub(crate) fn body_left_open(table: &mut ResourceTable) -> bool {
    table.iter_mut().any(|entry| entry.is::<HostOutgoingBody>())
}

/// Marks a `wasi:http@0.2` guest failed unless its outcome was settled first.
/// A guest task that panics (or is dropped) drops its store, and with it its
/// body's sender; declared after the store, this guard is dropped first, so
/// that body ends cut short, not as if complete.
pub(crate) struct FailUnlessSettled(Option<Arc<AtomicBool>>);

impl FailUnlessSettled {
    pub(crate) fn new(failed: Arc<AtomicBool>) -> Self {
        Self(Some(failed))
    }

    /// Records whether the guest failed with its body unfinished.
    pub(crate) fn settle(mut self, cut_short: bool) {
        if let Some(failed) = self.0.take()
            && cut_short
        {
            failed.store(true, Ordering::Release);
        }
    }
}

impl Drop for FailUnlessSettled {
    fn drop(&mut self) {
        if let Some(failed) = self.0.take() {
            failed.store(true, Ordering::Release);
        }
    }
}
