# Official spin-sdk 3.x app for the outbound security tests: each route
# reaches one service at an address given in the query, and answers with
# the result or the error (the error is also printed to stderr, so that the
# component's log file holds what a careless guest would log).
import asyncio
import socket
import sys
from urllib.parse import parse_qs

from spin_sdk import http, mqtt, mysql, postgres, redis
from spin_sdk.http import Request, Response, send, send_async
from spin_sdk.http.poll_loop import PollLoop
from spin_sdk.wit.imports.redis import RedisParameter_Binary, RedisParameter_Int64


def param(word):
    try:
        return RedisParameter_Int64(int(word))
    except ValueError:
        return RedisParameter_Binary(bytes(word, "utf-8"))


def show(value):
    return repr(getattr(value, "value", value))


def open_socket(kind, args):
    """A TCP socket connected to `host`:`port`, or a new UDP socket."""
    if kind == "udp":
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect((args["host"], int(args["port"])))
    except OSError:
        sock.close()
        raise
    return sock


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path, _, query = request.uri.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            body, status = self.dispatch(path, args), 200
        except Exception as e:
            body, status = f"error: {e!r}", 502
            print(body, file=sys.stderr)
        return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))

    def dispatch(self, path, args):
        if path == "/http":
            resp = send(Request("GET", args["url"], {}, None))
            return f"{resp.status} {str(resp.body or b'', 'utf-8')}"
        if path == "/burst":
            # `n` requests at once, on the SDK's wasi:io event loop.
            async def all_at_once():
                requests = [send_async(Request("GET", args["url"], {}, None)) for _ in range(int(args["n"]))]
                return await asyncio.gather(*requests)

            loop = PollLoop()
            asyncio.set_event_loop(loop)
            responses = loop.run_until_complete(all_at_once())
            return " ".join(str(r.status) for r in responses)
        if path == "/redis":
            # `cmds`: commands separated by `|`, words by spaces.
            with redis.open(args["address"]) as conn:
                results = []
                for command in args["cmds"].split("|"):
                    name, *words = command.split(" ")
                    results.append(" ".join(show(v) for v in conn.execute(name, [param(w) for w in words])))
                return " ; ".join(results)
        if path == "/pg":
            with postgres.open(args["address"]) as db:
                return repr(db.query("SELECT 1", []).rows[0].values[0].value)
        if path == "/mysql":
            with mysql.open(args["address"]) as db:
                return repr(db.query("SELECT 1", []).rows[0].values[0].value)
        if path == "/mqtt":
            with mqtt.open(args["address"], "", "", 30) as conn:
                conn.publish("spin-net-test", b"x", mqtt.Qos.AT_MOST_ONCE)
                return "published"
        if path == "/tcp":
            # The official SDK's Python cannot look names up (no `idna`
            # codec), so the socket connects to an address directly.
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as conn:
                conn.settimeout(5)
                conn.connect((args["host"], int(args["port"])))
                conn.sendall(args["send"].encode())
                return repr(conn.recv(1024))
        if path == "/udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as conn:
                conn.settimeout(5)
                conn.sendto(args["send"].encode(), (args["host"], int(args["port"])))
                return repr(conn.recvfrom(1024)[0])
        if path == "/listen":
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as conn:
                conn.listen()
                return "listening"
        if path == "/bind":
            # An explicit bind, of a UDP socket to a port of its choosing.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as conn:
                conn.bind(("0.0.0.0", int(args["port"])))
                return "bound"
        if path == "/sockets":
            # Opens `n` sockets of `kind` (tcp: connected to host:port; udp:
            # created), keeping them all open unless `keep=0`; reports how
            # many opened, and the error that stopped it.
            held, opened = [], 0
            try:
                for _ in range(int(args["n"])):
                    sock = open_socket(args["kind"], args)
                    opened += 1
                    if args.get("keep") == "0":
                        sock.close()
                    else:
                        held.append(sock)
                return f"opened {opened}"
            except OSError as e:
                return f"opened {opened}, then {e!r}"
            finally:
                for sock in held:
                    sock.close()
        if path == "/hold":
            # `order`: kinds to open one after another, keeping each open
            # (`close` closes the newest); each step's outcome is reported.
            # With `end=close`, whatever is still open is closed before the
            # answer; otherwise it stays open until the instance ends.
            opened, outcomes = [], []
            openers = {
                "redis": lambda: redis.open(args["redis"]),
                "pg": lambda: postgres.open(args["pg"]),
                "mysql": lambda: mysql.open(args["mysql"]),
                "mqtt": lambda: mqtt.open(args["mqtt"], "", "", 30),
                "tcp": lambda: open_socket("tcp", args),
            }
            for step in args["order"].split(","):
                if step == "close":
                    opened.pop().__exit__(None, None, None)
                    outcomes.append("closed")
                    continue
                try:
                    opened.append(openers[step]())
                    outcomes.append(f"{step} ok")
                except Exception as e:
                    outcomes.append(f"{step} {e!r}")
            if args.get("end") == "close":
                while opened:
                    opened.pop().__exit__(None, None, None)
            return " | ".join(outcomes)
        raise ValueError(f"no such test route {path}")
