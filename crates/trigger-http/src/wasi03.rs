//! One request to a `wasi:http/handler@0.3.0` component (spin-sdk 4.x and
//! 5.x): the guest's `handle` is an async export that returns the response
//! head while its body (and trailers) may still be streaming, and may keep
//! working after that. The store's event loop runs until every guest task
//! of the request has finished, so the instance is idle when it returns.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3::bindings::Service;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;

use spin_runtime::HostState;

/// The guest's response head, or the error code it returned instead.
pub(crate) type Head = Result<Response<HyperOutgoingBody>, ErrorCode>;
pub(crate) type HeadSender = tokio::sync::oneshot::Sender<Head>;

/// Calls `service`'s handler with `req` in `store`, sends the response head
/// on `head` as soon as the guest returns it, and returns once the guest has
/// finished all it started for this request (streaming the body included).
pub(crate) async fn handle(
    store: &mut Store<HostState>,
    service: &Service,
    req: Request<Incoming>,
    tls: bool,
    head: HeadSender,
) -> wasmtime::Result<()> {
    let req = with_absolute_uri(req, tls);
    let (request, request_io) =
        wasmtime_wasi_http::p3::Request::from_http(store.data_mut().http().hooks, req);
    store
        .run_concurrent(async |accessor| -> wasmtime::Result<()> {
            match service.handle(accessor, request).await? {
                Ok(response) => {
                    let response =
                        accessor.with(|mut store| response.into_http(&mut store, request_io))?;
                    let _ = head.send(Ok(response));
                }
                Err(code) => {
                    let _ = head.send(Err(code));
                }
            }
            // The guest may still be writing the body, or working after it
            // answered (`asyncio` tasks it left running).
            std::future::poll_fn(|cx| accessor.poll_no_interesting_tasks(cx)).await;
            Ok(())
        })
        .await?
}

/// `req` with the scheme and authority in its URI, as `wasi:http@0.3`
/// requests carry them (hyper gives a server the path alone). The host is
/// the `Host` header, which the caller has already made sure of.
fn with_absolute_uri(req: Request<Incoming>, tls: bool) -> Request<Incoming> {
    let (mut parts, body) = req.into_parts();
    let authority = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
        .or_else(|| parts.uri.authority().cloned());
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut uri = Uri::builder()
        .scheme(if tls { Scheme::HTTPS } else { Scheme::HTTP })
        .path_and_query(path);
    if let Some(authority) = authority {
        uri = uri.authority(authority);
    }
    if let Ok(uri) = uri.build() {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}
