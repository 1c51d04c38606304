# A spin-sdk 5 component built with `componentize-py --features wasi-otel`,
# so it imports wasi:otel: it asks for the outer span and reports a span
# start, and answers with what it got.
from spin_sdk import http
from spin_sdk.http import Request, Response
from spin_sdk.wit.imports import wasi_otel_tracing_0_2_0_rc_2 as tracing


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        outer = tracing.outer_span_context()
        tracing.on_start(outer)
        body = f"trace-id={outer.trace_id!r} span-id={outer.span_id!r} remote={outer.is_remote}"
        return Response(200, {"content-type": "text/plain"}, bytes(body, "utf-8"))
