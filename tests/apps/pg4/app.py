# Exercises spin:postgres@4.0.0 through the raw bindings componentize-py
# generates, answering HTTP on wasi:http directly.
from urllib.parse import parse_qs

from pg4 import exports
from pg4.imports import postgres as pg
from pg4.imports.types import Fields, OutgoingBody, OutgoingResponse, ResponseOutparam
from pg4.types import Err, Ok


def case(value):
    """A variant value as Case=payload."""
    return f"{type(value).__name__.split('_', 1)[1]}={getattr(value, 'value', None)!r}"


def run(path, args):
    with pg.Connection.open(args["address"]) as db:
        if path == "/error":
            db.query("SELECT * FROM no_such_table", [])
        table = args["table"]
        db.execute(f"DROP TABLE IF EXISTS {table}", [])
        db.execute(
            f"CREATE TABLE {table} (u UUID, j JSONB, d NUMERIC, r4 INT4RANGE, r8 INT8RANGE, rd NUMRANGE,"
            " a4 INT4[], a8 INT8[], ad NUMERIC[], at TEXT[], iv INTERVAL, dt DATE, ip INET, n INTEGER)",
            [],
        )
        inclusive, exclusive = pg.RangeBoundKind.INCLUSIVE, pg.RangeBoundKind.EXCLUSIVE
        count = db.execute(
            f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '10.0.0.1', $13)",
            [
                pg.ParameterValue_Uuid("6f1c1a2e-3b4d-4c5e-8f90-a1b2c3d4e5f6"),
                pg.ParameterValue_Jsonb(b'{"a": [1, 2]}'),
                pg.ParameterValue_Decimal("12345.6789"),
                pg.ParameterValue_RangeInt32(((1, inclusive), (10, exclusive))),
                pg.ParameterValue_RangeInt64((None, (5000000000, inclusive))),
                pg.ParameterValue_RangeDecimal((("1.5", inclusive), ("2.5", inclusive))),
                pg.ParameterValue_ArrayInt32([1, None, 3]),
                pg.ParameterValue_ArrayInt64([9000000000]),
                pg.ParameterValue_ArrayDecimal(["0.1", None]),
                pg.ParameterValue_ArrayStr(["x", None, "z"]),
                pg.ParameterValue_Interval(pg.Interval(micros=1500000, days=2, months=3)),
                pg.ParameterValue_Date((2024, 2, 29)),
                pg.ParameterValue_DbNull(),
            ],
        )
        rows = db.query(f"SELECT * FROM {table}", [])
        db.execute(f"DROP TABLE {table}", [])
        columns = " ".join(f"{c.name}:{case(c.data_type)}" for c in rows.columns)
        values = " ".join(case(v) for v in rows.rows[0])
        return f"{count} {columns} | {values}"


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
        data = body.encode()
        with out.write() as stream:
            for start in range(0, len(data), 4096):
                stream.blocking_write_and_flush(data[start : start + 4096])
        OutgoingBody.finish(out, None)
