# Official spin-sdk 3.x app that runs the SQL statement in the request body on
# the database named by `?db=` (default `default`) and answers its result, or
# 500 with the error text, so tests can try what a hostile guest would.
from urllib.parse import parse_qs

from spin_sdk import http, sqlite
from spin_sdk.http import Request, Response


def show(value):
    """A value, with blobs shortened to their length (a result may be huge)."""
    inner = getattr(value, "value", None)
    if isinstance(inner, (bytes, bytearray)):
        return f"blob[{len(inner)}]"
    return repr(inner)


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        _, _, query = request.uri.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        statement = str(request.body or b"", "utf-8")
        try:
            with sqlite.open(args.get("db", "default")) as db:
                result = db.execute(statement, [])
            rows = [" ".join(show(v) for v in row.values) for row in result.rows]
            body, status = f"{len(rows)} rows: " + " | ".join(rows[:5]), 200
        except Exception as e:
            body, status = f"error: {e!r}", 500
        return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))
