# Official spin-sdk 3.x app that binds a socket at its top level, as
# urllib3 does when imported: componentize-py runs that while building, and
# the C library keeps the build's network handle (tests/sockets.rs).
import socket
from spin_sdk import http
from spin_sdk.http import Request, Response

# What urllib3 does when imported: probe IPv6 by binding a socket.
try:
    _probe = socket.socket(socket.AF_INET6)
    _probe.bind(("::1", 0))
    _probe.close()
except Exception:
    pass


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as conn:
                conn.connect(("127.0.0.1", 6379))
                conn.sendall(b"PING\r\n")
                body = repr(conn.recv(64))
        except Exception as e:
            body = "error: " + repr(e)
        return Response(200, {"content-type": "text/plain"}, bytes(body, "utf-8"))
