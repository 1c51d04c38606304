"""Connects an app's `handle_request` function to `wasi:http/incoming-handler`.

`spin py2wasm` generates an entry module that calls `incoming_handler_for`
with the app's module name; componentize-py then exports the returned class.
"""

import importlib
import sys
from collections.abc import Callable
from typing import Any

from spin_py2wasm import host_names, http_clients, request_scope, tracebacks
from spin_py2wasm.wasi_http import (
    body_bytes,
    fields_to_dict,
    has_header,
    header_pairs,
    method_from_wit,
    read_body,
    to_fields,
    write_body,
)
from spin_py2wasm_bindings.imports import types as http
from spin_py2wasm_bindings.types import Ok
from spin_http import Request, Response

RequestHandler = Callable[[Request], Response]

# Before the app is imported: `urllib.request` and `requests` then run over
# the host's outgoing HTTP, and `socket` connects to IP addresses and
# `localhost` as usual.
http_clients.install()
host_names.install()


def incoming_handler_for(module_name: str, mounts: dict[str, str]) -> type:
    """Imports the app module (at build time, so that its top-level code runs
    during pre-initialisation) and returns the class componentize-py exports
    as `wasi:http/incoming-handler`.

    `mounts` maps guest python-path prefixes to the names tracebacks show for
    them (see `tracebacks.register_sources`)."""
    with host_names.while_building():
        module = importlib.import_module(module_name)
    handle_request: RequestHandler | None = getattr(module, "handle_request", None)
    if handle_request is None or not callable(handle_request):
        raise AttributeError(
            f"module `{module_name}` defines no "
            "`handle_request` function; add `def handle_request(request):` returning a "
            "`spin_http.Response`"
        )
    app_handler: RequestHandler = handle_request
    tracebacks.register_sources(mounts)

    class IncomingHandler:
        """Serves each request with the app's `handle_request`."""

        def handle(self, request: http.IncomingRequest, response_out: http.ResponseOutparam) -> None:
            serve(app_handler, request, response_out)

    return IncomingHandler


def serve(handle_request: RequestHandler, incoming: http.IncomingRequest, response_out: http.ResponseOutparam) -> None:
    """Reads the whole request, calls the app and sends its response.

    An exception from the app is printed to stderr (where Spin logs it) and
    answered with a 500, so the server carries on serving.
    """
    request_scope.clear()
    try:
        status, pairs, body = _response_parts(handle_request(_request_from(incoming)))
        response = http.OutgoingResponse(to_fields(pairs))
        response.set_status_code(status)
    except BaseException as error:  # noqa: BLE001 - the app's failure must become a 500
        sys.stderr.write(tracebacks.render(error))
        sys.stderr.flush()
        status, pairs, body = 500, [("content-length", "0")], b""
        response = http.OutgoingResponse(to_fields(pairs))
        response.set_status_code(status)
    finally:
        request_scope.clear()
    outgoing_body = response.body()
    http.ResponseOutparam.set(response_out, Ok(response))
    write_body(outgoing_body, body)


def _request_from(incoming: http.IncomingRequest) -> Request:
    with incoming:
        return Request(
            method_from_wit(incoming.method()),
            incoming.path_with_query() or "/",
            fields_to_dict(incoming.headers()),
            read_body(incoming.consume()),
        )


def _response_parts(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Checks what the app returned and adds `content-length`, which the 2023
    SDK always sent (the whole body is known, so there is no need to chunk)."""
    if not isinstance(response, Response):
        raise TypeError(f"handle_request must return a spin_http.Response, not {type(response).__name__}")
    body = body_bytes(response.body, "response")
    pairs = header_pairs(response.headers)
    if not has_header(pairs, "content-length"):
        pairs.append(("content-length", str(len(body))))
    return response.status, pairs, body

