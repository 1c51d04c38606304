# The benchmark's hello world for today's official spin-sdk 5.0.0, built with
# componentize-py 0.25.1 (world `spin:up/http-trigger@4.1.0`) into a
# `wasi:http/handler@0.3.0` component: the same response as every other case.
from spin_sdk import http
from spin_sdk.http import Request, Response


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        return Response(200,
                        {"content-type": "text/plain"},
                        bytes("Hello from the Python SDK", "utf-8"))
