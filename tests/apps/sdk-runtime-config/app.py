# Official spin-sdk 3.x app that opens key-value stores and SQLite databases
# by label and reads variables, so tests can check what a runtime config
# file wires them to. Errors come back as text.
from urllib.parse import parse_qs

from spin_sdk import http, key_value, sqlite, variables
from spin_sdk.http import Request, Response
from spin_sdk.sqlite import Value_Text


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path, _, query = request.uri.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            body, status = self.dispatch(path, args), 200
        except Exception as e:
            body, status = f"error: {e!r}", 502
        return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))

    def dispatch(self, path, args):
        if path == "/kv/set":
            with key_value.open(args["label"]) as store:
                store.set(args["key"], bytes(args["value"], "utf-8"))
                return "ok"
        if path == "/kv/get":
            with key_value.open(args["label"]) as store:
                value = store.get(args["key"])
                return "missing" if value is None else str(value, "utf-8")
        if path == "/kv/keys":
            with key_value.open(args["label"]) as store:
                return ",".join(sorted(store.get_keys()))
        if path == "/sqlite":
            with sqlite.open(args["label"]) as db:
                db.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)", [])
                db.execute("INSERT INTO notes VALUES (?)", [Value_Text(args["note"])])
                result = db.execute("SELECT body FROM notes", [])
                return ",".join(row.values[0].value for row in result.rows)
        if path == "/variable":
            return variables.get(args["name"])
        raise ValueError(f"no such test route {path}")
