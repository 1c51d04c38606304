//! Requests to a Spin 1 module (built by one of Spin 1's SDKs, made a
//! component when it loaded): as Spin passes them, the method (one of
//! seven; any other is answered 405), the path and query as the URI, every
//! header (the router's `spin-*` ones included), no route parameters, the
//! whole body; the module's whole response back. Each request has an
//! instance to itself, as for `wasi:http@0.2` components, under the same
//! limits (time, memory, the component's grants).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use spin_runtime::app::{LoadedApp, LoadedComponent};
use spin_runtime::memory_budget::NoMemoryForInstance;
use spin_runtime::spin1::{Method, Spin1HttpPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::handler::GuestBody;
use crate::request_body::BodyBroken;

/// What a request to a Spin 1 module may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spin1Limits {
    /// The request's time, from now: reading its body, then running.
    pub(crate) timeout: Duration,
    /// Until when a new instance may wait for memory.
    pub(crate) queue_deadline: Option<Instant>,
    /// How many in-process hops led to the request.
    pub(crate) depth: u32,
}

/// Spin 1's name for `method`, if it has one.
fn spin1_method(method: &http::Method) -> Option<Method> {
    Some(match *method {
        http::Method::GET => Method::Get,
        http::Method::POST => Method::Post,
        http::Method::PUT => Method::Put,
        http::Method::DELETE => Method::Delete,
        http::Method::PATCH => Method::Patch,
        http::Method::HEAD => Method::Head,
        http::Method::OPTIONS => Method::Options,
        _ => return None,
    })
}

/// Runs `component`'s Spin 1 module for `req` (routed: with its `spin-*`
/// headers), within `limits`.
pub(crate) async fn handle<B: GuestBody>(
    app: &LoadedApp,
    component: &Arc<LoadedComponent>,
    pre: &Spin1HttpPre,
    req: Request<B>,
    limits: Spin1Limits,
    capture: Option<Arc<std::sync::OnceLock<spin_runtime::logs::CaptureSince>>>,
) -> Result<Response<HyperOutgoingBody>> {
    let id = &component.config.id;
    let head_request = req.method() == http::Method::HEAD;
    let Some(method) = spin1_method(req.method()) else {
        return Ok(crate::handler::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed: a Spin 1 module takes GET, POST, PUT, DELETE, PATCH, HEAD and OPTIONS only\n",
        ));
    };
    let timeout = limits.timeout;
    let started = Instant::now();
    let deadline = started
        .checked_add(timeout)
        .unwrap_or_else(|| started + Duration::from_secs(86_400 * 365));
    let broken = req.extensions().get::<Arc<BodyBroken>>().cloned();
    let (parts, body) = req.into_parts();
    let body = match crate::request_body::read_whole(body, broken, deadline, timeout).await {
        Ok(Ok(body)) => body,
        Ok(Err(answer)) => return Ok(answer),
        Err(e) => {
            return Err(anyhow!(
                "reading the request's body for the Spin 1 module of component `{id}`: {e:?}"
            ));
        }
    };
    let request = spin_runtime::spin1::Request {
        method,
        uri: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.to_string(), |p| p.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        params: Vec::new(),
        // The only copy the host keeps while the module runs.
        body: Some(Vec::from(body)),
    };

    let mut store = app.new_store(component);
    let memory_deadline = limits.queue_deadline.map_or(deadline, |q| q.min(deadline));
    store.data_mut().wait_for_memory_until(memory_deadline);
    if let (Some(slot), Some(stderr)) = (&capture, store.data().stderr_capture()) {
        let _ = slot.set(stderr);
    }
    store
        .data_mut()
        .outbound_http()
        .set_chain_depth(limits.depth);
    store
        .data_mut()
        .set_request_timeout(timeout.saturating_sub(started.elapsed()));
    let ran = tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline),
        pre.handle(&mut store, &request),
    )
    .await;
    let response = match ran {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            return Err(match NoMemoryForInstance::in_error(&e) {
                Some(refused) => anyhow::Error::new(refused.clone()),
                None => anyhow::Error::from(e),
            });
        }
        Err(_) if store.data().waiting_for_memory() => {
            let refused = NoMemoryForInstance::at_request_deadline(id, started.elapsed());
            return Err(anyhow::Error::new(refused));
        }
        Err(_) => return Err(spin_runtime::failure_hints::timed_out(timeout)),
    };
    drop(store);
    respond(id, head_request, response)
}

/// The HTTP response of a Spin 1 module's `response` (to a HEAD request if
/// `head_request`).
fn respond(
    id: &str,
    head_request: bool,
    response: spin_runtime::spin1::Response,
) -> Result<Response<HyperOutgoingBody>> {
    // A 1xx status is not a final response (101 would tell a proxy in
    // front that the connection now carries another protocol).
    let status = (200..=599)
        .contains(&response.status)
        .then(|| StatusCode::from_u16(response.status).ok())
        .flatten();
    let Some(status) = status else {
        // A request's failure is logged as one message: the hint in it.
        return Err(anyhow!(
            "the Spin 1 module of component `{id}` answered with status {}, which is not the status of a final HTTP response\n\nhint: answer with a status from 200 to 599",
            response.status
        ));
    };
    let body = response.body.unwrap_or_default();
    // The answer to a HEAD has no content: its `content-length` states the
    // length of the body a GET would have had. The module's own is kept
    // there, when it sends no body, as there is nothing to frame.
    let mut length_stated = !(head_request && body.is_empty());
    let mut answer = Response::builder().status(status);
    let (mut skipped, mut framing) = (Vec::new(), Vec::new());
    for (name, value) in response.headers.unwrap_or_default() {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value))
                if name == http::header::CONTENT_LENGTH
                    && !length_stated
                    && value.to_str().is_ok_and(|v| v.parse::<u64>().is_ok()) =>
            {
                answer = answer.header(name, value);
                length_stated = true;
            }
            (Ok(name), _) if crate::server_headers::is_server_header(&name) => {
                framing.push(name.to_string());
            }
            (Ok(name), Ok(value)) => {
                answer = answer.header(name, value);
            }
            _ => skipped.push(name),
        }
    }
    if !skipped.is_empty() {
        tracing::warn!(
            "component `{id}`: the response headers {} were left out (not valid HTTP header names or values)",
            skipped.join(", ")
        );
    }
    if !framing.is_empty() {
        tracing::warn!(
            "component `{id}`: the response headers {} were left out (the server frames the response and owns the connection)",
            framing.join(", ")
        );
    }
    let body = Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed_unsync();
    Ok(answer.body(body)?)
}
