# Official spin-sdk 3.x app that exercises every capability the manifest can
# grant, reporting errors as text so tests can check allowed and denied cases.
from urllib.parse import parse_qs

from spin_sdk import http, key_value, redis, sqlite
from spin_sdk.http import Request, Response, send
from spin_sdk.sqlite import Value_Integer, Value_Text


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path, _, query = request.uri.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            body = self.dispatch(path, args)
            status = 200
        except Exception as e:
            body, status = f"error: {e!r}", 502
        return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))

    def dispatch(self, path, args):
        if path == "/http":
            resp = send(Request("GET", args["url"], {}, None))
            return f"{resp.status} {str(resp.body or b'', 'utf-8')}"
        if path == "/redis":
            with redis.open(args["address"]) as conn:
                conn.set("sdk-key", b"sdk-value")
                return str(conn.get("sdk-key"), "utf-8")
        if path == "/kv":
            with key_value.open_default() as store:
                store.set("k", b"v")
                return str(store.get("k"), "utf-8")
        if path == "/sqlite":
            with sqlite.open_default() as db:
                db.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER, s TEXT)", [])
                db.execute("INSERT INTO t VALUES (?, ?)", [Value_Integer(7), Value_Text("seven")])
                result = db.execute("SELECT n, s FROM t WHERE n = ?", [Value_Integer(7)])
                return f"{result.columns} {result.rows[0].values[1].value}"
        raise ValueError(f"no such test route {path}")
