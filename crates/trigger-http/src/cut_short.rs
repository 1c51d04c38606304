//! Response bodies a guest did not finish. When a guest traps or times out
//! after sending its response head, wasmtime-wasi-http's body types end as
//! if complete (the channel they read from just closes), and a client of a
//! chunked response could not tell it was cut short. Here the end of such a
//! body becomes an error, so hyper closes the connection without the last
//! chunk (and an in-process caller gets `HttpResponseIncomplete`). A
//! `wasi:http@0.2` guest that finished its body before failing sent it
//! whole ([`body_left_open`]). A body that breaks on its own (one that
//! does not match its `content-length`, or that its guest ends with an
//! error) ends the same way and is logged naming the component, since the
//! client only sees its connection closed.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use spin_runtime::LoadedComponent;
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
    /// Named in the log when the body fails.
    component: Arc<LoadedComponent>,
    /// The length the response's `content-length` states, if any.
    stated: Option<u64>,
    /// The body's bytes so far.
    sent: u64,
    /// The error the body ends with, held back one poll (see `poll_frame`).
    pending_error: Option<wasmtime_wasi_http::Error>,
    _held: H,
}

/// How a guest's response body went wrong.
enum Broken {
    /// Its guest failed first (logged where it failed).
    GuestFailed,
    /// It ended after `written` bytes, before the length its
    /// `content-length` states.
    Short { written: u64 },
    /// It ran past that length: `written` bytes.
    Long { written: u64 },
    /// It ended in an error.
    Failed(wasmtime_wasi_http::Error),
}

impl GuestFailed {
    /// `inner`, the body of a response that states `stated` bytes (see
    /// [`stated_length`]).
    pub(crate) fn new(
        inner: HyperOutgoingBody,
        failed: Arc<AtomicBool>,
        component: Arc<LoadedComponent>,
        stated: Option<u64>,
    ) -> Self {
        Self {
            inner,
            failed,
            component,
            stated,
            sent: 0,
            pending_error: None,
            _held: (),
        }
    }

    /// The body, keeping `held` until it is done.
    pub(crate) fn holding<H>(self, held: H) -> GuestFailed<H> {
        GuestFailed {
            inner: self.inner,
            failed: self.failed,
            component: self.component,
            stated: self.stated,
            sent: self.sent,
            pending_error: self.pending_error,
            _held: held,
        }
    }
}

/// The body length a response's `headers` state. (A response to a HEAD
/// request is sent without its body, which is never polled.)
pub(crate) fn stated_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl<H> GuestFailed<H> {
    fn cut_short(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Whether fewer bytes went out than `content-length` states.
    fn short_of_stated(&self) -> bool {
        self.stated.is_some_and(|stated| self.sent < stated)
    }

    /// Logs why the body broke (hyper closes the client's connection, and
    /// neither hyper nor the client says why) and returns the error it ends
    /// with.
    fn report(&self, broken: Broken) -> wasmtime_wasi_http::Error {
        let id = &self.component.config.id;
        let stated = self.stated.unwrap_or_default();
        let hint = "hint: write exactly the bytes `content-length` states, or leave the header out to stream a body of any length";
        match broken {
            Broken::GuestFailed => wasmtime_wasi_http::Error::HttpResponseIncomplete,
            Broken::Short { written } => {
                tracing::warn!(
                    "component `{id}` ended its response body after {written} of the {stated} bytes its `content-length` states; the client's connection was closed with the response incomplete\n\n{hint}"
                );
                wasmtime_wasi_http::Error::HttpResponseBodySize(Some(written))
            }
            Broken::Long { written } => {
                tracing::warn!(
                    "component `{id}` wrote {written} bytes of a response body whose `content-length` states {stated}; the client's connection was closed with the response incomplete\n\n{hint}"
                );
                wasmtime_wasi_http::Error::HttpResponseBodySize(Some(written))
            }
            Broken::Failed(err) => {
                if !matches!(err, wasmtime_wasi_http::Error::HttpResponseIncomplete) {
                    tracing::warn!(
                        "component `{id}` ended its response body with an error ({err}); the client's connection was closed with the response incomplete"
                    );
                }
                err
            }
        }
    }
}

impl<H: Unpin> Body for GuestFailed<H> {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(err) = self.pending_error.take() {
            return Poll::Ready(Some(Err(err)));
        }
        let broken = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) if self.cut_short() => Broken::GuestFailed,
            // wasmtime-wasi-http does not always say (its error can be lost
            // when the guest closes the body), and hyper would close the
            // connection before writing out the head.
            Poll::Ready(None) if self.short_of_stated() => Broken::Short { written: self.sent },
            Poll::Ready(Some(Ok(frame))) => {
                self.sent += frame.data_ref().map_or(0, |data| data.len() as u64);
                if self.stated.is_some_and(|stated| self.sent > stated) {
                    // Left out: the client, holding less than the stated
                    // length, can tell the response is incomplete.
                    Broken::Long { written: self.sent }
                } else {
                    return Poll::Ready(Some(Ok(frame)));
                }
            }
            // wasmtime-wasi-http's own count of what the guest wrote.
            Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseBodySize(Some(
                written,
            )))))
                if self.stated.is_some() =>
            {
                if self.stated.is_some_and(|stated| written > stated) {
                    Broken::Long { written }
                } else {
                    Broken::Short { written }
                }
            }
            // A `wasi:http@0.2` guest's `finish` short of the length fails
            // with a protocol error.
            Poll::Ready(Some(Err(_))) if self.short_of_stated() && !self.cut_short() => {
                Broken::Short { written: self.sent }
            }
            Poll::Ready(Some(Err(err))) => Broken::Failed(err),
            polled => return polled,
        };
        // The error goes out at the next poll: hyper first writes out what
        // it holds (the head and the body so far), where an error now would
        // close the connection before that, and a guest that failed fast
        // would leave its client no answer.
        let err = self.report(broken);
        self.pending_error = Some(err);
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.pending_error.is_none()
            && self.inner.is_end_stream()
            && !self.cut_short()
            && !self.short_of_stated()
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
