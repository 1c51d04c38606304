"""`http.client`, `urllib.request` and `requests` inside a component.

A component has no sockets: its outbound HTTP is `wasi:http`, under the
manifest's allow list. `install()` (run when the SDK is imported, before the
app) puts that transport under the libraries Python code already uses:

* `http.client.HTTPConnection` and `HTTPSConnection` keep the standard
  library's request formatting and response parsing, but the request bytes
  go to the host as one `wasi:http` request and the response streams back
  from it; `urllib.request` (including `https://` URLs) runs on them. TLS is
  the host's: it verifies the server against its own roots.
* urllib3 (under `requests`): a connection pool's `urlopen` sends through
  the host and returns urllib3's own `HTTPResponse` over the streamed body,
  so `requests.get(...)`, `stream=True`, `iter_content` and timeouts behave
  as usual. `requests`' check for a CA bundle file is skipped (the host
  verifies).

A host the manifest does not allow fails with
`spin_http.HttpError::DestinationNotAllowed('<url>')`.
"""

import http.client
import importlib
import importlib.abc
import importlib.util
import io
import sys

from spin_py2wasm import outbound

# Whether `zlib` is the stand-in: then servers are asked not to compress.
_NO_ZLIB = [False]

# Hop-by-hop headers the host manages itself (and refuses from a guest).
_HOST_MANAGED = {"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "host"}


class _RequestRecorder:
    """Where `http.client` writes a request: kept until `getresponse`."""

    def __init__(self) -> None:
        self.data = bytearray()

    def sendall(self, data: bytes) -> None:
        self.data += data

    def settimeout(self, timeout: float | None) -> None:
        pass

    def close(self) -> None:
        pass


class _FramedBody(io.RawIOBase):
    """An HTTP/1.1 response as bytes: the head, then the body from the
    host, chunked when its length is unknown, for `http.client.HTTPResponse`
    to parse."""

    def __init__(self, head: bytes, body: outbound.BodyReader, chunked: bool) -> None:
        self._pending = head
        self._body = body
        self._chunked = chunked
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending and not self._ended:
            data = self._body.read(64 * 1024)
            if not data:
                self._ended = True
                self._pending = b"0\r\n\r\n" if self._chunked else b""
            elif self._chunked:
                self._pending = b"%x\r\n%s\r\n" % (len(data), data)
            else:
                self._pending = data
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._body.close()
        super().close()


class _ResponseSocket:
    """The socket `http.client.HTTPResponse` reads its response from."""

    def __init__(self, framed: _FramedBody) -> None:
        self._framed = framed

    def makefile(self, mode: str = "rb", buffering: int | None = None) -> io.BufferedReader:
        return io.BufferedReader(self._framed)

    def close(self) -> None:
        pass


def _parse_request(raw: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """The method, target, headers and body `http.client` formatted."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    pairs = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    if any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in pairs):
        body = _dechunk(body)
        pairs = [(n, v) for n, v in pairs if n.lower() != "content-length"]
        pairs.append(("Content-Length", str(len(body))))
    return method, target, pairs, body


def _dechunk(data: bytes) -> bytes:
    """The body of a chunked request; as it is when it is not chunked
    (a caller that set the header without `encode_chunked=True`)."""
    out = bytearray()
    rest = data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return data
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def _request_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name.lower() not in _HOST_MANAGED]


def _authority(scheme: str, host: str, port: int | None) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return host if port in (None, default) else f"{host}:{port}"


def _timeout(value: object) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class HTTPConnection(http.client.HTTPConnection):
    """`http.client.HTTPConnection` over the host's outgoing HTTP."""

    _scheme = "http"

    def connect(self) -> None:
        self.sock = _RequestRecorder()

    def getresponse(self) -> http.client.HTTPResponse:
        recorder = self.sock
        if not isinstance(recorder, _RequestRecorder) or not recorder.data:
            raise http.client.ResponseNotReady("no request was sent")
        method, target, pairs, body = _parse_request(bytes(recorder.data))
        if target.startswith(("http://", "https://")):
            url = target  # through a proxy: the target is absolute
        else:
            url = f"{self._scheme}://{_authority(self._scheme, self.host, self.port)}{target}"
        status, headers, reader = outbound.send(method, url, _request_pairs(pairs), body, _timeout(self.timeout))
        known_length = any(name.lower() == "content-length" for name, _ in headers)
        kept = [(n, v) for n, v in headers if n.lower() not in ("transfer-encoding", "connection")]
        if not known_length:
            kept.append(("Transfer-Encoding", "chunked"))
        reason = http.client.responses.get(status, "")
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept) + "\r\n"
        framed = _FramedBody(head.encode("latin-1"), reader, chunked=not known_length)
        response = self.response_class(_ResponseSocket(framed), self.debuglevel, method=method)
        response.begin()
        # Ready for the next request, which gets a recorder of its own.
        self.sock = None
        self._HTTPConnection__state = http.client._CS_IDLE
        self._HTTPConnection__response = None
        return response


class HTTPSConnection(HTTPConnection):
    """`http.client.HTTPSConnection` over the host's outgoing HTTPS (the
    host does TLS and verifies the server; `context` is accepted and not
    used)."""

    _scheme = "https"
    default_port = http.client.HTTPS_PORT

    def __init__(self, host, port=None, *args, context=None, check_hostname=None, **kwargs) -> None:
        # 3.11 and older also took key_file and cert_file positionally.
        kwargs.pop("key_file", None)
        kwargs.pop("cert_file", None)
        super().__init__(host, port, **kwargs)


def _patch_urllib3(connectionpool) -> None:
    """Sends every urllib3 pool request through the host."""
    from urllib3.response import HTTPResponse
    from urllib3._collections import HTTPHeaderDict

    def urlopen(self, method, url, body=None, headers=None, retries=None, redirect=True,
                assert_same_host=True, timeout=None, pool_timeout=None, release_conn=None,
                chunked=False, body_pos=None, preload_content=True, decode_content=True, **kwargs):
        if url.startswith("/"):
            url = f"{self.scheme}://{_authority(self.scheme, self.host, self.port)}{url}"
        pairs = [(str(k), str(v)) for k, v in (headers or self.headers or {}).items()]
        if _NO_ZLIB[0]:
            pairs = [(k, v) for k, v in pairs if k.lower() != "accept-encoding"]
            pairs.append(("Accept-Encoding", "identity"))
        data = _body_bytes(body)
        if data or method.upper() not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            if not any(k.lower() == "content-length" for k, _ in pairs):
                pairs.append(("Content-Length", str(len(data))))
        try:
            status, response_headers, reader = outbound.send(
                method, url, _request_pairs(pairs), data, _urllib3_timeout(timeout if timeout is not None else self.timeout)
            )
        except TimeoutError as error:
            # What `requests` turns into `requests.exceptions.ReadTimeout`.
            from urllib3.exceptions import ReadTimeoutError

            raise ReadTimeoutError(self, url, str(error)) from None
        return HTTPResponse(
            body=io.BufferedReader(reader),
            headers=HTTPHeaderDict(response_headers),
            status=status,
            version=11,
            reason=http.client.responses.get(status, ""),
            preload_content=preload_content,
            decode_content=decode_content,
            request_method=method,
            request_url=url,
            retries=retries,
        )

    connectionpool.HTTPConnectionPool.urlopen = urlopen


def _urllib3_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    plain = _timeout(timeout)
    if plain is not None:
        return plain
    reads = [getattr(timeout, name, None) for name in ("read_timeout", "connect_timeout", "total")]
    numbers = [value for value in reads if _timeout(value) is not None]
    return max(numbers) if numbers else None


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part.encode("utf-8") if isinstance(part, str) else bytes(part) for part in body)


def _patch_requests(adapters) -> None:
    """The host verifies TLS: `requests` need not find a CA bundle file
    (which a built component does not carry)."""
    adapters.HTTPAdapter.cert_verify = lambda self, conn, url, verify, cert: None


_PATCHES = {
    "urllib3.connectionpool": _patch_urllib3,
    "requests.adapters": _patch_requests,
}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches urllib3 and requests as they are imported."""

    def find_spec(self, name, path, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def patched(module):
            exec_module(module)
            patch(module)

        spec.loader = _PatchingLoader(loader, patched)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader, exec_module) -> None:
        self._loader = loader
        self._exec_module = exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._exec_module(module)


def _zlib_stand_in():
    """A `zlib` for an interpreter built without it (componentize-py's):
    urllib3 imports it unconditionally. The transport asks servers not to
    compress (`Accept-Encoding: identity`); compressing or decompressing
    fails with `zlib.error` saying why."""
    import binascii
    import types

    module = types.ModuleType("zlib", "Stand-in: this component's Python has no zlib.")

    class error(Exception):
        pass

    def unavailable(*args, **kwargs):
        raise error("zlib is not available in this component's Python")

    module.error = error
    module.MAX_WBITS = 15
    module.DEFLATED = 8
    module.Z_DEFAULT_COMPRESSION = -1
    module.Z_SYNC_FLUSH = 2
    module.Z_FINISH = 4
    module.crc32 = binascii.crc32
    module.compress = module.decompress = unavailable
    module.compressobj = module.decompressobj = unavailable
    return module


def install() -> None:
    """Puts the host's transport under `http.client`, `urllib.request`,
    urllib3 and `requests`; once."""
    if getattr(http.client, "_spin_installed", False):
        return
    try:
        import zlib  # noqa: F401
    except ImportError:
        sys.modules["zlib"] = _zlib_stand_in()
        _NO_ZLIB[0] = True
    http.client.HTTPConnection = HTTPConnection
    http.client.HTTPSConnection = HTTPSConnection
    try:
        import ssl  # noqa: F401
    except ImportError:
        # `urllib.request`'s HTTPS handler asks for a TLS context, which
        # needs `ssl`; the host does TLS, so there is none to make.
        http.client._create_https_context = lambda http_version: None
    http.client._spin_installed = True
    # `urllib.request` defines its HTTPS handler only if `http.client` has
    # HTTPS when it is imported: import (or re-import) it now.
    if "urllib.request" in sys.modules and not hasattr(sys.modules["urllib.request"], "HTTPSHandler"):
        importlib.reload(sys.modules["urllib.request"])
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    sys.meta_path.insert(0, _PatchOnImport())
