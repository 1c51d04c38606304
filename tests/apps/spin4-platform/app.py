# A test app written against the official spin-sdk 4.x/5.x (wasi:http 0.3,
# Spin 4's interfaces). Each route exercises one interface and answers
# with what it saw, so the tests can check it end to end.
import inspect
import json
import time

from componentize_py_types import Err
from spin_sdk import http, key_value, llm, mqtt, mysql, postgres, redis, variables
from spin_sdk.wit.imports import spin_postgres_postgres_4_2_0 as pg42
from spin_sdk.wit.imports.spin_postgres_postgres_4_2_0 import ParameterValue_Int32, ParameterValue_Str
from spin_sdk.wit.imports.spin_redis_redis_3_0_0 import RedisParameter_Binary
from spin_sdk.wit.imports import wasi_keyvalue_atomics_0_2_0_draft2 as kv_atomics
from spin_sdk.wit.imports import wasi_keyvalue_batch_0_2_0_draft2 as kv_batch
from spin_sdk.wit.imports import wasi_keyvalue_store_0_2_0_draft2 as kv_store
from spin_sdk.http import Request, Response, send
from spin_sdk.mqtt import Qos
from spin_sdk.sqlite import Connection, Value_Integer, Value_Text
from spin_sdk.util import collect

from spin_sdk import wit

try:
    from spin_sdk.wit.imports.wasi_clocks_monotonic_clock_0_3_0 import wait_for
    from spin_sdk.wit.imports import wasi_sockets_types_0_3_0 as sockets
    from spin_sdk.wit.imports.wasi_http_types_0_3_0 import Fields
except ImportError:  # spin-sdk 4.0: WASI 0.3.0-rc-2026-03-15 only
    from spin_sdk.wit.imports.wasi_clocks_monotonic_clock_0_3_0_rc_2026_03_15 import wait_for
    from spin_sdk.wit.imports import wasi_sockets_types_0_3_0_rc_2026_03_15 as sockets
    from spin_sdk.wit.imports.wasi_http_types_0_3_0_rc_2026_03_15 import Fields

# Counts the requests this instance served: more than 1 when the host
# reuses instances (the default for wasi:http 0.3 components).
served = 0


def text(status: int, body: str) -> Response:
    return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))


def error_name(e: Exception) -> str:
    value = e.value if isinstance(e, Err) else e
    return type(value).__name__ + (f"({value.value})" if hasattr(value, "value") else "")


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        global served
        served += 1
        path, _, query = request.uri.partition("?")
        # Routes are the last path segment, whatever the trigger's prefix.
        path = "/" + path.rsplit("/", 1)[-1]
        if path == "/hello":
            return text(200, "hello from spin-sdk")
        if path == "/served":
            return text(200, str(served))
        if path == "/echo":
            return Response(200, {"content-type": "application/octet-stream"}, request.body)
        if path == "/kv":
            with await key_value.open_default() as store:
                await store.set("k-" + query, bytes("v-" + query, "utf-8"))
                got = await store.get("k-" + query)
                exists = await store.exists("k-" + query)
                keys = await collect(await store.get_keys())
                await store.delete("k-" + query)
                gone = await store.exists("k-" + query)
            return text(200, json.dumps({
                "got": got.decode(), "exists": exists, "keys": sorted(keys), "gone": not gone,
            }))
        if path == "/wasi-kv":
            # wasi:keyvalue on the same `default` store as spin:key-value.
            with kv_store.open("default") as bucket:
                counter = "count-" + query
                first = kv_atomics.increment(bucket, counter, 5)
                second = kv_atomics.increment(bucket, counter, -2)
                cas = kv_atomics.Cas.new(bucket, "cas-" + query)
                before = cas.current()
                kv_atomics.swap(cas, b"swapped")
                stale = kv_atomics.Cas.new(bucket, "cas-" + query)
                bucket.set("cas-" + query, b"changed meanwhile")
                try:
                    kv_atomics.swap(stale, b"lost")
                    lost = "swapped anyway"
                except Exception as e:
                    lost = error_name(e).split("(")[0]
                kv_batch.set_many(bucket, [("b1-" + query, b"one"), ("b2-" + query, b"two")])
                many = kv_batch.get_many(bucket, ["b1-" + query, "b2-" + query, "none-" + query])
                listed = bucket.list_keys(None)
                kv_batch.delete_many(bucket, ["b1-" + query, "b2-" + query, counter, "cas-" + query])
                remaining = bucket.exists("b1-" + query)
            with await key_value.open_default() as store:
                seen_by_spin_kv = await store.exists("b1-" + query)
            return text(200, json.dumps({
                "increments": [first, second], "cas_before": before, "lost": lost,
                "many": [[k, v.decode() if v else None] for k, v in many],
                "listed": sorted(k for k in listed.keys if k.endswith(query)),
                "remaining": remaining, "spin_kv_sees_delete": not seen_by_spin_kv,
            }))
        if path == "/llm":
            # fermyon:spin/llm@2.0.0, which Spin 4 still serves.
            try:
                inferred = llm.infer_with_options(
                    query, "hello", llm.InferencingParams(max_tokens=3, temperature=0.5))
                embedded = llm.generate_embeddings(query, ["ab"])
            except Exception as e:
                return text(502, error_name(e))
            return text(200, json.dumps({
                "text": inferred.text, "generated": inferred.usage.generated_token_count,
                "embeddings": embedded.embeddings,
            }))
        if path == "/kv-denied":
            try:
                await key_value.open("not-granted")
            except Exception as e:
                return text(403, error_name(e))
            return text(200, "opened")
        if path == "/variable":
            try:
                return text(200, await variables.get(query))
            except Exception as e:
                return text(404, error_name(e))
        if path == "/sqlite":
            with await Connection.open_default() as db:
                _, rows, done = await db.execute(
                    "CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", [])
                await collect((rows, done))
                _, rows, done = await db.execute("INSERT INTO pets (name) VALUES (?)", [Value_Text(query)])
                await collect((rows, done))
                rowid = await db.last_insert_rowid()
                changes = await db.changes()
                columns, rows, done = await db.execute(
                    "SELECT id, name FROM pets WHERE id = ?", [Value_Integer(rowid)])
                found = await collect((rows, done))
            return text(200, json.dumps({
                "rowid": rowid, "changes": changes, "columns": columns,
                "rows": [[v.value for v in row.values] for row in found],
            }))
        if path == "/redis":
            with await redis.open("redis://127.0.0.1:6379") as conn:
                await conn.set("spin4-" + query, b"hello")
                got = await conn.get("spin4-" + query)
                count = await conn.incr("spin4-count-" + query)
                echoed = await conn.execute("ECHO", [RedisParameter_Binary(b"echoed")])
                deleted = await conn.del_(["spin4-" + query, "spin4-count-" + query])
            return text(200, json.dumps({
                "got": got.decode(), "count": count, "echo": echoed[0].value.decode(), "deleted": deleted,
            }))
        if path == "/many-fields":
            # Holds `query` HTTP fields at once: WASI resources the host
            # keeps for the instance.
            held = [Fields() for _ in range(int(query))]
            return text(200, str(len(held)))
        if path == "/hold-open":
            # Opens one more store or connection of the kind `query` names,
            # keeping every one, until an open fails: how many opened and
            # the error; then closes one and opens again (`reopened`). All
            # are closed before the answer.
            held = []
            try:
                while len(held) < 50:
                    held.append(await open_one(query))
                return text(200, f"{len(held)} opened")
            except Exception as e:
                failed = f"{len(held)} {error_name(e)}"
                if held:
                    held.pop().__exit__(None, None, None)
                    held.append(await open_one(query))
                    failed += " reopened"
                return text(200, failed)
            finally:
                for each in held:
                    each.__exit__(None, None, None)
        if path == "/redis-denied":
            try:
                await redis.open("redis://127.0.0.1:6380")
            except Exception as e:
                return text(403, error_name(e))
            return text(200, "opened")
        if path == "/postgres":
            # A libpq key=value string, as the SDK's own example writes it.
            address = "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
            with await postgres.Connection.open(address) as db:
                table = "spin4_" + query
                await db.execute(f"CREATE TABLE IF NOT EXISTS {table} (id INT, name TEXT)", [])
                inserted = await db.execute(
                    f"INSERT INTO {table} VALUES ($1, $2)",
                    [ParameterValue_Int32(7), ParameterValue_Str("seven")])
                columns, rows, done = await db.query(f"SELECT id, name FROM {table}", [])
                found = await collect((rows, done))
                await db.execute(f"DROP TABLE {table}", [])
            return text(200, json.dumps({
                "inserted": inserted, "columns": [c.name for c in columns],
                "rows": [[v.value for v in row] for row in found],
            }))
        if path == "/postgres-ca":
            # spin:postgres@4.2.0's connection builder, given the request
            # body as its CA root: is the session it opens encrypted?
            builder = pg42.ConnectionBuilder(request.headers["x-address"])
            builder.set_ca_root(request.body.decode())
            try:
                conn = await builder.build_async()
            except Exception as e:
                return text(502, str(e.value.value) if isinstance(e, Err) else repr(e))
            with postgres.Connection(conn) as db:
                _, rows, done = await db.query(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [])
                found = await collect((rows, done))
            return text(200, json.dumps([[v.value for v in row] for row in found]))
        if path == "/postgres-huge":
            # About 200 MB of rows: more than an instance may hold; or
            # (`?row`) one row of 2 MB.
            address = "postgres://postgres@127.0.0.1:5432/test"
            statement = ("SELECT repeat('x', 2000000)" if query == "row"
                         else "SELECT repeat('x', 1000000) FROM generate_series(1, 200)")
            with await postgres.Connection.open(address) as db:
                try:
                    _, rows, done = await db.query(statement, [])
                    await collect((rows, done))
                except Exception as e:
                    return text(413, str(e.value.value.value) if isinstance(e, Err) else repr(e))
            return text(200, "the whole result arrived")
        if path == "/mysql-huge":
            # About 200 MB of rows: more than an instance may hold; or
            # (`?row`) one row of 2 MB.
            statement = ("SELECT REPEAT('x', 2000000)" if query == "row"
                         else "SELECT REPEAT('x', 1000000) FROM seq_1_to_200")
            with await mysql.open("mysql://root:@127.0.0.1:3306/test") as conn:
                try:
                    _, rows, done = await conn.query(statement, [])
                    await collect((rows, done))
                except Exception as e:
                    return text(413, str(e.value.value) if isinstance(e, Err) else repr(e))
            return text(200, "the whole result arrived")
        if path == "/postgres-denied":
            try:
                await postgres.Connection.open("host=127.0.0.1 port=5433 user=postgres dbname=test")
            except Exception as e:
                return text(403, error_name(e))
            return text(200, "opened")
        if path == "/mysql":
            # spin-sdk 4.0's mysql module is the 2.0 interface (blocking);
            # 5.0's is `spin:mysql@3.0.0` (async, rows as a stream).
            opened = mysql.open("mysql://root:@127.0.0.1:3306/test")
            conn = await opened if inspect.isawaitable(opened) else opened
            with conn:
                result = conn.query("SELECT 40 + 2 AS answer", [])
                if inspect.isawaitable(result):
                    columns, rows, done = await result
                    values = [[v.value for v in row] for row in await collect((rows, done))]
                    names = [c.name for c in columns]
                else:
                    values = [[v.value for v in row] for row in result.rows]
                    names = [c.name for c in result.columns]
            return text(200, json.dumps({"columns": names, "rows": values}))
        if path == "/mqtt":
            with await mqtt.open("mqtt://127.0.0.1:1883", "", "", 30) as conn:
                await conn.publish(query, b"from spin-sdk", Qos.AT_LEAST_ONCE)
            return text(200, "published")
        if path == "/outbound":
            url = request.headers["x-url"]
            try:
                response = await send(Request("GET", url, {}, None))
            except Exception as e:
                return text(502, error_name(e))
            return text(200, f"{response.status} {response.body.decode()}")
        if path == "/chain":
            # Calls the URL it was given (itself, through service chaining)
            # with the same header: one "hop" per answer that got through.
            url = request.headers["x-url"]
            try:
                response = await send(Request("GET", url, {"x-url": url}, None))
            except Exception as e:
                return text(200, error_name(e))
            return text(response.status, "hop " + response.body.decode())
        if path == "/sleep":
            # A blocking call: the whole instance waits in the host.
            print("sleeping", flush=True)
            time.sleep(float(query))
            return text(200, "slept")
        if path == "/long-line":
            # One line longer than the 8 KiB a log stream takes at a time by
            # default (CPython's stdout here is unbuffered: a short write
            # loses the rest of the line).
            print("long " + "x" * int(query) + " end", flush=True)
            return text(200, "printed")
        if path == "/busy":
            # A busy loop for `query` seconds, never waiting.
            end = time.monotonic() + float(query)
            while time.monotonic() < end:
                pass
            return text(200, "done")
        if path == "/ticks":
            # Works until done, printing a tick every 100 ms: an async wait
            # (the instance may serve other requests meanwhile).
            number = served  # this request's number in its instance
            label, _, count = query.partition(",")
            for i in range(int(count)):
                print(f"tick {label} {i}", flush=True)
                await wait_for(100_000_000)
            return text(200, f"{label} ticked {count} as request {number}")
        if path == "/wrong-length":
            # A `content-length` the body does not match (the SDK keeps the
            # header a handler sets).
            return Response(200, {"content-type": "text/plain", "content-length": query}, b"short")
        if path == "/abort":
            # A crash, not an exception: C's abort() traps the instance.
            import os
            os.abort()
        if path == "/fail":
            raise ValueError("failing on purpose")
        if path == "/socket-streams":
            return text(200, await socket_streams(query))
        return text(404, "no such route")


async def open_one(kind: str):
    """One store or connection of `kind`, as `/hold-open` opens them."""
    if kind == "kv":
        return await key_value.open_default()
    if kind == "sqlite":
        return await Connection.open_default()
    if kind == "redis":
        return await redis.open("redis://127.0.0.1:6379")
    if kind == "postgres":
        return await postgres.Connection.open(
            "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable")
    if kind == "mysql":
        opened = mysql.open("mysql://root:@127.0.0.1:3306/test")
        return await opened if inspect.isawaitable(opened) else opened
    if kind == "mqtt":
        return await mqtt.open("mqtt://127.0.0.1:1883", "", "", 30)
    raise ValueError(kind)


async def socket_streams(query: str) -> str:
    """Connects `n` wasi:sockets 0.3 TCP sockets to 127.0.0.1:`port`, takes
    each one's `receive` (or `send`) stream and drops the socket, keeping
    the stream, which keeps the connection open, and its `done` future
    (or drops it at once). Then drops the streams, waits for their ends
    (or 50 ms), and opens one more socket. Query:
    `port,n,receive|send,keep|drop`."""
    port, n, which, done_kept = query.split(",")
    address = sockets.IpSocketAddress_Ipv4(sockets.Ipv4SocketAddress(int(port), (127, 0, 0, 1)))
    kept = []
    said = f"opened {n}"
    for i in range(int(n)):
        try:
            socket = sockets.TcpSocket.create(sockets.IpAddressFamily.IPV4)
        except Err as e:
            said = f"opened {i}, then {error_name(e)}"
            break
        await socket.connect(address)
        if which == "send":
            writer, reader = wit.byte_stream()
            stream, done = writer, socket.send(reader)
        else:
            stream, done = socket.receive()
        if done_kept == "drop":
            done.__exit__(None, None, None)
            done = None
        kept.append((stream, done))
        socket.__exit__(None, None, None)
    for stream, done in kept:
        stream.__exit__(None, None, None)
        if done is not None:
            said += f"; {type(await done.read()).__name__}"
    if done_kept == "drop":
        await wait_for(50_000_000)
    try:
        sockets.TcpSocket.create(sockets.IpAddressFamily.IPV4).__exit__(None, None, None)
        return said + "; then one more"
    except Err as e:
        return said + f"; then {error_name(e)}"
