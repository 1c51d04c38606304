# A low-level wasi:http 0.3 handler (the `wasi:http/service` world of WASI
# 0.3.0-rc-2026-03-15, as spin-sdk 4.0's streaming example targets): request
# and response bodies as streams, a body written after the handler has
# returned, several outbound requests in flight at once, and 500s with a
# streamed body and with none (for `spin up --dev`).
import asyncio
import sys

import componentize_py_async_support
from componentize_py_async_support.streams import ByteStreamWriter
from componentize_py_types import Ok
from spin_sdk import wit
from spin_sdk.wit import exports
from spin_sdk.wit.imports import wasi_http_client_0_3_0_rc_2026_03_15 as client
from spin_sdk.wit.imports.wasi_http_types_0_3_0_rc_2026_03_15 import (
    Fields,
    Request,
    Response,
    Scheme_Http,
)


def no_trailers():
    return wit.result_option_wasi_http_types_0_3_0_rc_2026_03_15_fields_wasi_http_types_0_3_0_rc_2026_03_15_error_code_future(lambda: Ok(None))[1]


def finished():
    return wit.result_unit_wasi_http_types_0_3_0_rc_2026_03_15_error_code_future(lambda: Ok(None))[1]


def plain(body) -> Response:
    headers = Fields.from_list([("content-type", b"text/plain")])
    return Response.new(headers, body, no_trailers())[0]


def plain_text(text: str) -> Response:
    tx, rx = wit.byte_stream()
    componentize_py_async_support.spawn(write_text(text, tx))
    return plain(rx)


async def write_text(text: str, tx: ByteStreamWriter) -> None:
    with tx:
        await tx.write_all(bytes(text, "utf-8"))


async def write_then_fail(tx: ByteStreamWriter) -> None:
    # No `with`: the stream is not closed, the instance traps mid-body.
    await tx.write_all(b"part one\n")
    raise RuntimeError("failing mid-stream on purpose")


async def count_to(n: int, tx: ByteStreamWriter) -> None:
    with tx:
        for i in range(1, n + 1):
            await tx.write_all(bytes(f"{i}\n", "utf-8"))


async def fetch(authority: str, path: str) -> str:
    request = Request.new(Fields(), None, no_trailers(), None)[0]
    request.set_scheme(Scheme_Http())
    request.set_authority(authority)
    request.set_path_with_query(path)
    response = await client.send(request)
    status = response.get_status_code()
    # `consume-body` takes the response: its handle is gone afterwards.
    body = Response.consume_body(response, finished())[0]
    received = b""
    with body:
        while not body.writer_dropped:
            received += await body.read(16 * 1024)
    return f"{status} {received.decode()}"


async def fetch_all(targets, tx: ByteStreamWriter) -> None:
    with tx:
        results = await asyncio.gather(*(fetch(a, p) for a, p in targets))
        for line in results:
            await tx.write_all(bytes(line + "\n", "utf-8"))


class HttpHandler(exports.HttpHandler):
    async def handle(self, request: Request) -> Response:
        path = request.get_path_with_query()
        if path == "/echo":
            body, trailers = Request.consume_body(request, finished())
            return Response.new(Fields(), body, trailers)[0]
        if path == "/count-reads":
            # How many reads the request body took: a client's small chunks
            # should reach the guest joined, not one read each.
            body = Request.consume_body(request, finished())[0]
            reads = size = 0
            with body:
                while not body.writer_dropped:
                    size += len(await body.read(64 * 1024))
                    reads += 1
            return plain_text(f"{size} bytes in {reads} reads\n")
        if path == "/count":
            tx, rx = wit.byte_stream()
            componentize_py_async_support.spawn(count_to(5, tx))
            return plain(rx)
        if path == "/fetch-all":
            headers = request.get_headers().copy_all()
            targets = [str(v, "utf-8").split("/", 1) for k, v in headers if k == "x-target"]
            tx, rx = wit.byte_stream()
            componentize_py_async_support.spawn(fetch_all([(a, "/" + p) for a, p in targets], tx))
            return plain(rx)
        if path == "/fail-midway":
            tx, rx = wit.byte_stream()
            componentize_py_async_support.spawn(write_then_fail(tx))
            return plain(rx)
        if path == "/streamed-500":
            # A failure that says so itself, in a streamed body.
            tx, rx = wit.byte_stream()
            componentize_py_async_support.spawn(count_to(3, tx))
            response = plain(rx)
            response.set_status_code(500)
            return response
        if path == "/empty-500":
            print("about to answer an empty 500", file=sys.stderr)
            response = plain(None)
            response.set_status_code(500)
            return response
        response = plain(None)
        response.set_status_code(404)
        return response
