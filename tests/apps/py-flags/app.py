# An app on our 2023-style SDK for the `spin up` flag tests: it reads what
# `--key-value` and `--sqlite` seeded, prints a line per request (for
# `--follow` and `--truncate-logs`), and reads and writes its mounted files
# (for `--direct-mounts` and `--allow-transient-write`); `/raise` fails with
# an uncaught exception (for `--dev`).
from spin_http import Response
from spin_key_value import kv_open_default
from spin_sqlite import sqlite_open_default


def handle_request(request):
    path = request.uri.split("?", 1)[0]
    print(f"flags app served {path}")
    if path == "/raise":
        raise ValueError("raised on purpose")
    try:
        body = dispatch(path)
    except Exception as e:
        body = f"{type(e).__name__}: {e}"
    return Response(200, {"content-type": "text/plain"}, bytes(body, "utf-8"))


def dispatch(path):
    if path.startswith("/kv/"):
        value = kv_open_default().get(path[len("/kv/"):])
        return "missing" if value is None else value.decode()
    if path == "/sql":
        result = sqlite_open_default().execute("SELECT name FROM pets ORDER BY name", [])
        return ",".join(str(row[0]) for row in result.rows())
    if path == "/read":
        with open("/data/note.txt") as f:
            return f.read()
    if path == "/write":
        with open("/data/note.txt", "w") as f:
            f.write("written by the guest")
        return "written"
    return "ok"
