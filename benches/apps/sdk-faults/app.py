# The reliability run's app, for the official spin-sdk 3.3.0 built with
# componentize-py (world `spin-http`): a cheap route for the load, and one
# route for each dependency that the run breaks on purpose.
from urllib.parse import parse_qs

from spin_sdk import http, redis
from spin_sdk.http import Request, Response, send


def text(status, body):
    return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path, _, query = request.uri.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        if path == "/hello":
            return text(200, "hello")
        if path == "/redis":
            # Fails (500) while Redis is down; answers again once it is back.
            with redis.open(args["address"]) as conn:
                conn.incr("reliability-counter")
                return text(200, str(conn.get("reliability-counter"), "utf-8"))
        if path == "/upstream":
            resp = send(Request("GET", args["url"], {}, None))
            return text(resp.status, "upstream answered")
        if path == "/echo":
            return text(200, str(len(request.body or b"")))
        return text(404, "no such route")
