//! `fermyon:spin/http` (Spin 1): a whole request out, a whole response
//! back. The request takes the same way as a `wasi:http` one (the allow
//! list, `self` and relative URLs, `*.spin.internal`, the chain's depth,
//! the instance's slots, the timeouts); its response body is read whole,
//! up to `--max-result-size` (at most what the instance may hold).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use wasmtime::component::HasData;
use wasmtime_wasi_http::{Error, WasiHttpHooks};

use super::{OutboundHttp, for_log};
use crate::capabilities::bindings::v1::http::Host;
use crate::capabilities::bindings::v1::http_types::{self, HttpError, Method, Request, Response};

/// Reaches an instance's [`OutboundHttp`] for the Spin 1 interface.
pub(crate) struct OutboundHttpV1;

impl HasData for OutboundHttpV1 {
    type Data<'a> = &'a mut OutboundHttp;
}

impl http_types::Host for OutboundHttp {}

/// How a failure reaches a Spin 1 guest.
fn v1_error(error: &Error) -> HttpError {
    match error {
        Error::HttpRequestDenied | Error::DestinationIpProhibited => {
            HttpError::DestinationNotAllowed
        }
        Error::HttpRequestUriInvalid => HttpError::InvalidUrl,
        Error::LoopDetected | Error::InternalError(_) => HttpError::RuntimeError,
        _ => HttpError::RequestError,
    }
}

impl Host for OutboundHttp {
    async fn send_request(
        &mut self,
        req: Request,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        let id = self.component.id.clone();
        let method = match req.method {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Delete => http::Method::DELETE,
            Method::Patch => http::Method::PATCH,
            Method::Head => http::Method::HEAD,
            Method::Options => http::Method::OPTIONS,
        };
        let Ok(uri) = req.uri.parse::<http::Uri>() else {
            tracing::error!(
                "component `{id}`: outbound request to `{}` refused: not a URL",
                req.uri.chars().take(200).collect::<String>()
            );
            return Ok(Err(HttpError::InvalidUrl));
        };
        let mut request = http::Request::builder().method(method).uri(uri);
        let mut dropped = Vec::new();
        for (name, value) in &req.headers {
            // The headers a `wasi:http` guest may not set (framing,
            // connection, `host`) are left out here too.
            match http::HeaderName::from_bytes(name.as_bytes()) {
                Ok(header) if WasiHttpHooks::is_forbidden_header(self, &header) => {
                    dropped.push(name.as_str());
                }
                _ => request = request.header(name, value),
            }
        }
        if !dropped.is_empty() {
            tracing::warn!(
                "component `{id}`: the outbound request's headers {} were left out (the host sets them)",
                dropped.join(", ")
            );
        }
        let body = Full::new(Bytes::from(req.body.unwrap_or_default()))
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = match request.body(body) {
            Ok(request) => request,
            Err(e) => {
                tracing::error!("component `{id}`: outbound request refused: {e}");
                return Ok(Err(HttpError::RequestError));
            }
        };
        let target = for_log(request.uri());
        let sent = WasiHttpHooks::send_request(self, request, None, Box::new(async { Ok(()) }));
        let response = match Box::into_pin(sent).await {
            Ok((response, _)) => response,
            Err(e) => {
                tracing::warn!("component `{id}`: outbound request to `{target}` failed: {e}");
                return Ok(Err(v1_error(&e)));
            }
        };
        let (parts, body) = response.into_parts();
        let most = self.component.services.max_result_bytes();
        let body = match Limited::new(body, most).collect().await {
            Ok(body) => body.to_bytes().to_vec(),
            Err(e) => {
                tracing::warn!(
                    "component `{id}`: reading the response from `{target}` failed (a Spin 1 module reads it whole, up to {most} bytes): {e}"
                );
                return Ok(Err(HttpError::RequestError));
            }
        };
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(Ok(Response {
            status: parts.status.as_u16(),
            headers: Some(headers),
            body: Some(body),
        }))
    }
}
