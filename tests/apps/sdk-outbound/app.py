# Official spin-sdk 3.x app that exercises every capability the manifest can
# grant, reporting errors as text so tests can check allowed and denied cases.
from urllib.parse import parse_qs

from spin_sdk import http, key_value, mqtt, mysql, postgres, redis, sqlite
from spin_sdk.http import Request, Response, send
from spin_sdk.sqlite import Value_Integer, Value_Text
from spin_sdk.wit.imports import rdbms_types as rdbms
from spin_sdk.wit.imports import spin_postgres_postgres as pg3
from spin_sdk.wit.imports import wasi_config_store


def show(rows):
    """Column names and types, then each value as Type=value."""
    columns = " ".join(f"{c.name}:{c.data_type.name}" for c in rows.columns)
    values = [
        " ".join(f"{type(v).__name__.split('_', 1)[1]}={getattr(v, 'value', None)!r}" for v in row)
        for row in rows.rows
    ]
    return f"{columns} | " + " | ".join(values)


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
        if path.endswith("/chain"):
            # Calls itself through service chaining until the host refuses.
            url = args["url"]
            resp = send(Request("GET", f"{url}?url={url}", {}, None))
            return f"hop {str(resp.body or b'', 'utf-8')}"
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
        if path == "/pg":
            table = args["table"]
            with postgres.open(args["address"]) as db:
                db.execute(f"DROP TABLE IF EXISTS {table}", [])
                db.execute(
                    f"CREATE TABLE {table} (b BOOLEAN, c \"char\", i2 SMALLINT, i4 INTEGER, i8 BIGINT,"
                    " f4 REAL, f8 DOUBLE PRECISION, t TEXT, v VARCHAR(8), by BYTEA, n INTEGER, j JSON)",
                    [],
                )
                count = db.execute(
                    f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '[1]')",
                    [
                        rdbms.ParameterValue_Boolean(True),
                        rdbms.ParameterValue_Int8(-1),
                        rdbms.ParameterValue_Int16(-2),
                        rdbms.ParameterValue_Int32(-4),
                        rdbms.ParameterValue_Int64(-8),
                        rdbms.ParameterValue_Floating32(1.5),
                        rdbms.ParameterValue_Floating64(2.25),
                        rdbms.ParameterValue_Str("text"),
                        rdbms.ParameterValue_Str("varchar"),
                        rdbms.ParameterValue_Binary(b"\x00\xff"),
                        rdbms.ParameterValue_DbNull(),
                    ],
                )
                rows = db.query(f"SELECT * FROM {table} WHERE i4 = $1", [rdbms.ParameterValue_Int32(-4)])
                db.execute(f"DROP TABLE {table}", [])
                return f"{count} {show(rows)}"
        if path == "/pg-session":
            # Reports the session's settings, then leaves a setting changed
            # and a transaction open: a pooled connection must not carry
            # them into the next request.
            with postgres.open(args["address"]) as db:
                rows = db.query("SELECT current_setting('application_name'), current_setting('search_path')", [])
                db.execute("SET application_name = 'leaked'", [])
                db.execute("BEGIN", [])
                db.execute("SET LOCAL search_path = 'leaked'", [])
                return " ".join(v.value for v in rows.rows[0])
        if path == "/pg3":
            table = args["table"]
            with pg3.Connection.open(args["address"]) as db:
                db.execute(f"DROP TABLE IF EXISTS {table}", [])
                db.execute(f"CREATE TABLE {table} (d DATE, t TIME, dt TIMESTAMP, ts TIMESTAMPTZ, n TEXT)", [])
                db.execute(
                    f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5)",
                    [
                        pg3.ParameterValue_Date((2024, 2, 29)),
                        pg3.ParameterValue_Time((13, 45, 30, 123456000)),
                        pg3.ParameterValue_Datetime((2024, 2, 29, 13, 45, 30, 0)),
                        pg3.ParameterValue_Timestamp(1700000000),
                        pg3.ParameterValue_DbNull(),
                    ],
                )
                rows = db.query(f"SELECT * FROM {table}", [])
                db.execute(f"DROP TABLE {table}", [])
                return show(rows)
        if path == "/mysql":
            table = args["table"]
            with mysql.open(args["address"]) as db:
                db.execute(f"DROP TABLE IF EXISTS {table}", [])
                db.execute(
                    f"CREATE TABLE {table} (i1 TINYINT, u2 SMALLINT UNSIGNED, i4 INT, u8 BIGINT UNSIGNED,"
                    " f4 FLOAT, f8 DOUBLE, v VARCHAR(16), bl BLOB, d DECIMAL(5,2), dt DATE, n INT)",
                    [],
                )
                db.execute(
                    f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        rdbms.ParameterValue_Int8(-1),
                        rdbms.ParameterValue_Uint16(65535),
                        rdbms.ParameterValue_Int32(-4),
                        rdbms.ParameterValue_Uint64(18446744073709551615),
                        rdbms.ParameterValue_Floating32(1.5),
                        rdbms.ParameterValue_Floating64(2.25),
                        rdbms.ParameterValue_Str("text"),
                        rdbms.ParameterValue_Binary(b"\x00\xff"),
                        rdbms.ParameterValue_Str("123.45"),
                        rdbms.ParameterValue_Str("2024-02-29"),
                        rdbms.ParameterValue_DbNull(),
                    ],
                )
                rows = db.query(f"SELECT * FROM {table} WHERE i4 = ?", [rdbms.ParameterValue_Int32(-4)])
                db.execute(f"DROP TABLE {table}", [])
                return show(rows)
        if path == "/mqtt":
            with mqtt.open(args["address"], "", "", 30) as conn:
                conn.publish(args["topic"], b"hello from the sdk", mqtt.Qos.AT_LEAST_ONCE)
                return "published"
        if path == "/config":
            return f"{wasi_config_store.get(args['key'])} {wasi_config_store.get('nope')} {wasi_config_store.get_all()}"
        raise ValueError(f"no such test route {path}")
