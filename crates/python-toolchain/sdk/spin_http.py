"""HTTP requests and responses, and outbound HTTP.

An app module defines `handle_request(request: Request) -> Response`;
`spin py2wasm` connects it to Spin's HTTP trigger. `http_send` makes outbound
requests, to hosts listed in the component's `allowed_http_hosts`
(`allowed_outbound_hosts` in newer manifests).
"""

from dataclasses import dataclass

from spin_py2wasm import outbound
from spin_py2wasm.errors import SpinError
from spin_py2wasm.wasi_http import (
    Headers,
    body_bytes,
    fields_to_dict,
    has_header,
    header_pairs,
    read_body,
)
from spin_py2wasm_bindings.imports import types as http

__all__ = ["HttpError", "Request", "Response", "http_send"]


@dataclass
class Request:
    """An HTTP request.

    `uri` is the path and query (e.g. `/hello?x=1`) for a request received by
    the component, and an absolute URL for one passed to `http_send`.
    `headers` is a dict, or a list of `(name, value)` pairs when a name must
    repeat; received requests always carry a dict, with repeated names joined
    by `", "`.
    """

    method: str
    uri: str
    headers: Headers
    body: bytes | None


@dataclass
class Response:
    """An HTTP response; `headers` is a dict or a list of `(name, value)` pairs."""

    status: int
    headers: Headers
    body: bytes | None


class HttpError(SpinError):
    """An outbound request failed. The text names the failure as Spin 1 did,
    e.g. `HttpError::DestinationNotAllowed` when the host is not listed in the
    component's `allowed_http_hosts`."""


# How Spin 1's `http-error` cases map onto `wasi:http`'s error codes; every
# other code is a `RequestError`.
_SPIN1_NAMES: dict[type, str] = {
    http.ErrorCode_HttpRequestDenied: "DestinationNotAllowed",
    http.ErrorCode_HttpRequestUriInvalid: "InvalidUrl",
    http.ErrorCode_ConnectionLimitReached: "TooManyRequests",
    http.ErrorCode_InternalError: "RuntimeError",
}


def _http_error(code: http.ErrorCode) -> HttpError:
    variant = _SPIN1_NAMES.get(type(code), "RequestError")
    detail = None if variant == "DestinationNotAllowed" else repr(code)
    return HttpError.named(variant, detail)


def http_send(request: Request) -> Response:
    """Sends `request` and returns the complete response.

    A relative URI (`/api/items`) is a request to the application itself; the
    manifest must allow it with `allowed_outbound_hosts = ["http://self"]`.
    Raises `HttpError` when the request cannot be sent or no response arrives.
    A `content-length` header is added when the request has none.
    """
    body = body_bytes(request.body, "request")
    pairs = header_pairs(request.headers)
    if not has_header(pairs, "content-length") and (body or request.method.upper() not in ("GET", "HEAD")):
        pairs.append(("content-length", str(len(body))))
    outgoing = outbound.outgoing_request(request.method, request.uri, pairs)
    with outbound.transmit(outgoing, body, None) as incoming:
        return Response(incoming.status(), fields_to_dict(incoming.headers()), read_body(incoming.consume()))
