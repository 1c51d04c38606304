"""One outbound HTTP request over `wasi:http/outgoing-handler`, with the
response body read as it arrives: what `http.client`, `urllib.request` and
`requests` run on inside a component (see `http_clients`)."""

import io
from urllib.parse import urlsplit

from spin_py2wasm.wasi_http import method_to_wit, to_fields, write_body
from spin_py2wasm_bindings.imports import outgoing_handler
from spin_py2wasm_bindings.imports import types as http
from spin_py2wasm_bindings.imports.streams import StreamError_Closed
from spin_py2wasm_bindings.types import Err, Ok


# The error codes of a request that took too long.
_TIMEOUTS = tuple(
    getattr(http, name)
    for name in (
        "ErrorCode_ConnectionTimeout",
        "ErrorCode_ConnectionReadTimeout",
        "ErrorCode_ConnectionWriteTimeout",
        "ErrorCode_HttpResponseTimeout",
    )
    if hasattr(http, name)
)


class BodyReader(io.RawIOBase):
    """A response body, read from the host as the caller reads."""

    def __init__(self, incoming: http.IncomingResponse) -> None:
        self._incoming = incoming
        self._body = incoming.consume()
        self._stream = self._body.stream()
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._done:
            return 0
        try:
            data = self._stream.blocking_read(len(buffer))
        except Err as error:
            if isinstance(error.value, StreamError_Closed):
                self._finish()
                return 0
            raise ConnectionError(f"the response body failed: {error.value!r}") from None
        buffer[: len(data)] = data
        return len(data)

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._stream.__exit__(None, None, None)
            http.IncomingBody.finish(self._body)
            self._incoming.__exit__(None, None, None)

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._stream.__exit__(None, None, None)
            self._body.__exit__(None, None, None)
            self._incoming.__exit__(None, None, None)
        super().close()


def send(
    method: str, url: str, pairs: list[tuple[str, str]], body: bytes, timeout: float | None
) -> tuple[int, list[tuple[str, str]], BodyReader]:
    """Sends the request; returns the status, the headers and the body.

    `timeout` (seconds) bounds the connection, the wait for the response
    head and each wait between body bytes, as a socket timeout would.
    Raises `spin_http.HttpError` (its text names the URL) when the host
    refuses or fails the request, e.g. `HttpError::DestinationNotAllowed`
    for a host the manifest does not allow."""
    from spin_http import HttpError

    if not url.startswith(("http://", "https://")):
        raise HttpError.named("InvalidUrl", url)
    outgoing = outgoing_request(method, url, pairs)
    options = None
    if timeout is not None:
        options = http.RequestOptions()
        nanoseconds = max(1, int(timeout * 1e9))
        for setter in (options.set_connect_timeout, options.set_first_byte_timeout, options.set_between_bytes_timeout):
            try:
                setter(nanoseconds)
            except Err:
                pass  # a host that cannot bound this wait
    try:
        incoming = transmit(outgoing, body, options)
    except HttpError as error:
        if isinstance(error.__cause__, _TimeoutCode):
            raise TimeoutError(f"{method} {url} timed out") from None
        raise _named(error, url) from None
    with incoming.headers() as fields:
        headers = [(name, value.decode("latin-1")) for name, value in fields.entries()]
    return incoming.status(), headers, BodyReader(incoming)


def outgoing_request(method: str, uri: str, pairs: list[tuple[str, str]]) -> http.OutgoingRequest:
    """The `wasi:http` request for `method` and `uri`: an absolute
    `http(s)://` URL, or a path (`/api`) for a request to the application
    itself. Raises `spin_http.HttpError` (`InvalidUrl`, or `RequestError`
    naming a header the host refused)."""
    from spin_http import HttpError

    url = urlsplit(uri)
    relative = not url.scheme and not url.netloc and url.path.startswith("/")
    if not relative and (url.scheme not in ("http", "https") or not url.netloc):
        raise HttpError.named("InvalidUrl", uri)
    try:
        outgoing = http.OutgoingRequest(to_fields(pairs))
    except ValueError as error:
        raise HttpError.named("RequestError", str(error)) from None
    try:
        outgoing.set_method(method_to_wit(method))
        if not relative:
            outgoing.set_scheme(http.Scheme_Http() if url.scheme == "http" else http.Scheme_Https())
            outgoing.set_authority(url.netloc)
        outgoing.set_path_with_query((url.path or "/") + (f"?{url.query}" if url.query else ""))
    except Err:
        raise HttpError.named("InvalidUrl", uri) from None
    return outgoing


class _TimeoutCode(Exception):
    """The cause of an `HttpError` for a request that took too long."""


def transmit(outgoing: http.OutgoingRequest, body: bytes, options) -> http.IncomingResponse:
    """Sends `outgoing` with `body` and waits for the response head.
    Raises `spin_http.HttpError` when the host refuses or fails it; its
    `__cause__` is a `_TimeoutCode` when the request took too long."""
    from spin_http import HttpError, _http_error

    outgoing_body = outgoing.body()
    try:
        future = outgoing_handler.handle(outgoing, options)
    except Err as error:
        raise _http_error(error.value) from None
    write_body(outgoing_body, body)
    with future:
        result = future.get()
        while result is None:
            with future.subscribe() as ready:
                ready.block()
            result = future.get()
    if isinstance(result, Err):
        raise HttpError.named("RuntimeError", "the response was already taken")
    outcome = result.value
    if isinstance(outcome, Err):
        cause = _TimeoutCode() if isinstance(outcome.value, _TIMEOUTS) else None
        raise _http_error(outcome.value) from cause
    assert isinstance(outcome, Ok)
    return outcome.value


def _named(error, url: str):
    """`error` with the URL in its text: `HttpError::DestinationNotAllowed('http://...')`."""
    if error.detail is None:
        return type(error).named(error.variant, url)
    return error
