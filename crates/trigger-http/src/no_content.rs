//! Responses HTTP sends without content: the answer to a HEAD request, a
//! 204 and a 304 (RFC 9110 §6.4.1).
//!
//! hyper leaves their body out over HTTP/1.x, dropping it unpolled, but
//! sends it over HTTP/2, where the client then fails the stream. And a
//! dropped body closes the guest's output stream under it: a guest still
//! writing a large body (an SDK answers HEAD like GET) would fail, and be
//! logged as failing, for a client's HEAD request. So the body is drained
//! in the background instead, for as long as the guest writes it (which its
//! request timeout bounds).

use bytes::Bytes;
use http::{Response, StatusCode, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt as _, Empty};
use spin_runtime::drain::drain;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// `response` to a request over `version` (a HEAD request if
/// `head_request`), without its content where HTTP has none.
pub(crate) fn without_content(
    version: Version,
    head_request: bool,
    response: Response<HyperOutgoingBody>,
) -> Response<HyperOutgoingBody> {
    let status = response.status();
    if !head_request && status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED {
        return response;
    }
    if version < Version::HTTP_2 {
        // hyper writes the head as HTTP wants it (a HEAD's or a 304's
        // length kept, a 204's left out) and drops the body.
        return response.map(|body| DrainOnDrop(Some(body)).boxed_unsync());
    }
    let (mut parts, body) = response.into_parts();
    // The length hyper would have stated from the body.
    if head_request
        && !parts.headers.contains_key(http::header::CONTENT_LENGTH)
        && let Some(length) = body.size_hint().exact()
    {
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, length.into());
    }
    drain(body);
    if status == StatusCode::NO_CONTENT {
        parts.headers.remove(http::header::CONTENT_LENGTH);
    }
    let empty = Empty::new().map_err(|never| match never {}).boxed_unsync();
    Response::from_parts(parts, empty)
}

/// A body that, dropped before its end, is drained (see [`drain`]).
struct DrainOnDrop(Option<HyperOutgoingBody>);

impl Body for DrainOnDrop {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.0.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        if let Some(body) = self.0.take() {
            drain(body);
        }
    }
}
