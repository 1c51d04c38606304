"""A real HTTP(S) upstream for the outbound HTTP tests.

Usage: http_upstream.py [CERT KEY [CLIENT_CA]]. Prints its port, then serves
HTTP/1.1 with keep-alive (over TLS when given a certificate and key; asking
every client for a certificate issued by CLIENT_CA when given one). `GET /count`
answers how many TCP connections it has accepted; `GET /whoami` the common
name of the client's certificate; `GET /header/NAME` the request's header
NAME; `GET /bytes/N` N bytes of `x`; any other path answers `upstream says hi`;
a POST answers `posted <its body>`; `GET /slow` answers after 3 s.
"""

import http.server
import ssl
import sys
import threading
import time

connections = 0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/count":
            body = str(connections).encode()
        elif self.path == "/whoami":
            body = client_name(self.connection).encode()
        elif self.path.startswith("/bytes/"):
            body = b"x" * int(self.path[len("/bytes/"):])
        elif self.path.startswith("/header/"):
            body = (self.headers.get(self.path[len("/header/"):]) or "").encode()
        else:
            body = b"upstream says hi"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:
            pass  # a client that gave up waiting for /slow

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = b"posted " + self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def client_name(connection):
    """The common name in the client's certificate, or `anonymous`."""
    cert = getattr(connection, "getpeercert", lambda: None)()
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return "anonymous"


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) >= 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    if len(sys.argv) == 4:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
