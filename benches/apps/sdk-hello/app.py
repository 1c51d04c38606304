# The benchmark's hello world for the official spin-sdk 3.3.0, built with
# componentize-py 0.16.0 (world `spin-http`): the same response as every
# other case.
from spin_sdk import http
from spin_sdk.http import Request, Response


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        return Response(200,
                        {"content-type": "text/plain"},
                        bytes("Hello from the Python SDK", "utf-8"))
