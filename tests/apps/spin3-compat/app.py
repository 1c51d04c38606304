# Exercises spin:sqlite@3.0.0 and spin:postgres@4.1.0 (its connection
# builder) through the raw bindings componentize-py generates, answering
# HTTP on wasi:http directly.
from urllib.parse import parse_qs

from spin3_compat import exports
from spin3_compat.imports import not_served
from spin3_compat.imports import postgres as pg
from spin3_compat.imports import sqlite
from spin3_compat.imports.types import Fields, OutgoingBody, OutgoingResponse, ResponseOutparam
from spin3_compat.types import Err, Ok


def run_sqlite():
    with sqlite.Connection.open("default") as db:
        db.execute("CREATE TABLE IF NOT EXISTS pets (name TEXT, age INTEGER)", [])
        db.execute("DELETE FROM pets", [])
        db.execute(
            "INSERT INTO pets VALUES (?, ?), (?, ?)",
            [sqlite.Value_Text("rex"), sqlite.Value_Integer(3), sqlite.Value_Text("tom"), sqlite.Value_Null()],
        )
        changes, rowid = db.changes(), db.last_insert_rowid()
        result = db.execute("SELECT name, age FROM pets ORDER BY name", [])
        rows = [[getattr(v, "value", None) for v in row.values] for row in result.rows]
        return f"changes={changes} rowid={rowid} {result.columns} {rows}"


def run_postgres(args):
    builder = pg.ConnectionBuilder(args["address"])
    with builder.build() as db:
        rows = db.query("SELECT $1::INT4 + 1 AS n, $2::TEXT AS t", [pg.ParameterValue_Int32(41), pg.ParameterValue_Str("hi")])
        values = [getattr(v, "value", None) for v in rows.rows[0]]
        return f"{[c.name for c in rows.columns]} {values}"


def run(path, args):
    if path == "/sqlite":
        return run_sqlite()
    if path == "/pg":
        return run_postgres(args)
    if path == "/not-served":
        return not_served.ping()
    if path == "/sqlite-denied":
        sqlite.Connection.open("other")
    return "no such route"


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        path, _, query = (request.path_with_query() or "/").partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            body, status = run(path, args), 200
        except Err as e:
            body, status = f"error: {e.value!r}", 502
        response = OutgoingResponse(Fields.from_list([("content-type", b"text/plain")]))
        response.set_status_code(status)
        out = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        with out.write() as stream:
            stream.blocking_write_and_flush(body.encode())
        OutgoingBody.finish(out, None)
