# The benchmark's hello world for our SDK (`spin py2wasm`): the seed page's
# handler, so the figures are for the code users start from.
from spin_http import Response


def handle_request(request):
    return Response(200,
                    [("content-type", "text/plain")],
                    bytes("Hello from the Python SDK", "utf-8"))
