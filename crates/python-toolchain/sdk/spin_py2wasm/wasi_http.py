"""Conversions between the SDK's simple HTTP values and `wasi:http@0.2.0`.

All I/O here is blocking: a component handles one request at a time, so
waiting on a single pollable is all the "event loop" it needs.
"""

from collections.abc import Iterable, Mapping, Sequence

from spin_py2wasm_bindings.imports import types as http
from spin_py2wasm_bindings.imports.streams import InputStream, StreamError_Closed
from spin_py2wasm_bindings.types import Err

# `blocking-write-and-flush` accepts at most 4096 bytes per call.
WRITE_CHUNK = 4096
READ_CHUNK = 64 * 1024

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
"""Headers as the 2023 SDK accepted them: a mapping, or a list of
`(name, value)` pairs in which a name may repeat."""

_METHODS: dict[str, type] = {
    "GET": http.Method_Get,
    "HEAD": http.Method_Head,
    "POST": http.Method_Post,
    "PUT": http.Method_Put,
    "DELETE": http.Method_Delete,
    "CONNECT": http.Method_Connect,
    "OPTIONS": http.Method_Options,
    "TRACE": http.Method_Trace,
    "PATCH": http.Method_Patch,
}
_METHOD_NAMES: dict[type, str] = {case: name for name, case in _METHODS.items()}


def method_to_wit(method: str) -> http.Method:
    """The WIT method for an HTTP method name (case-insensitive)."""
    case = _METHODS.get(method.upper())
    return case() if case is not None else http.Method_Other(method)


def method_from_wit(method: http.Method) -> str:
    """The HTTP method name of a WIT method."""
    if isinstance(method, http.Method_Other):
        return method.value
    return _METHOD_NAMES[type(method)]


def header_pairs(headers: Headers | None) -> list[tuple[str, str]]:
    """Headers as a list of pairs, keeping repeated names and their order."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(name), str(value)) for name, value in headers.items()]
    return [(str(name), str(value)) for name, value in headers]


def has_header(pairs: Iterable[tuple[str, str]], name: str) -> bool:
    """Whether `name` occurs among `pairs`, ignoring case."""
    wanted = name.lower()
    return any(key.lower() == wanted for key, _ in pairs)


def to_fields(pairs: Iterable[tuple[str, str]]) -> http.Fields:
    """WIT fields holding `pairs`. Values are UTF-8 encoded; bytes that were
    not valid UTF-8 when received round-trip unchanged.

    Raises `ValueError` naming the header the host refused (invalid syntax,
    or one it manages itself, such as `transfer-encoding`)."""
    fields = http.Fields()
    for name, value in pairs:
        try:
            fields.append(name, value.encode("utf-8", "surrogateescape"))
        except Err as error:
            fields.__exit__(None, None, None)
            reason = type(error.value).__name__.removeprefix("HeaderError_")
            raise ValueError(f"the header {name!r}: {value!r} was refused ({reason})") from None
    return fields


def fields_to_dict(fields: http.Fields) -> dict[str, str]:
    """Fields as a dict; a repeated name has its values joined with `", "`,
    which HTTP defines as equivalent for list-valued headers."""
    result: dict[str, str] = {}
    with fields:
        for name, raw in fields.entries():
            value = raw.decode("utf-8", "surrogateescape")
            result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def read_body(body: http.IncomingBody) -> bytes:
    """Reads `body` to the end and releases it."""
    data = bytearray()
    stream: InputStream = body.stream()
    with stream:
        while True:
            try:
                data += stream.blocking_read(READ_CHUNK)
            except Err as error:
                if isinstance(error.value, StreamError_Closed):
                    break
                raise
    http.IncomingBody.finish(body)
    return bytes(data)


def write_body(body: http.OutgoingBody, data: bytes) -> None:
    """Writes all of `data` to `body` and finishes it (no trailers)."""
    with body.write() as stream:
        view = memoryview(data)
        for start in range(0, len(view), WRITE_CHUNK):
            stream.blocking_write_and_flush(bytes(view[start : start + WRITE_CHUNK]))
    http.OutgoingBody.finish(body, None)


def body_bytes(body: object, what: str) -> bytes:
    """`body` as bytes, or a `TypeError` naming `what` when it is not
    bytes-like (text must be encoded explicitly, as in the 2023 SDK)."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(
        f"{what} body must be bytes or None, not {type(body).__name__}"
        + (" (encode text first, e.g. `text.encode('utf-8')`)" if isinstance(body, str) else "")
    )
