# A test app written against the official spin-sdk 3.x: it reflects what the
# host hands it, so tests can check routing, headers, bodies and variables.
import json
import os

from spin_sdk import http, llm, variables
from spin_sdk.http import Request, Response
from spin_sdk.wit.imports.types import Fields, OutgoingBody, OutgoingResponse, ResponseOutparam
from spin_sdk.wit.types import Ok


# Counts the requests this instance served: always 1 with a fresh instance
# per request, more with instance reuse.
served = 0


class IncomingHandler(http.IncomingHandler):
    def handle(self, request, response_out):
        if request.path_with_query() == "/fail-midway":
            # The low-level API: the head and part of the body go out, then
            # the guest fails (an exception here traps the instance).
            response = OutgoingResponse(Fields.from_list([("content-type", b"text/plain")]))
            body = response.body()
            ResponseOutparam.set(response_out, Ok(response))
            stream = body.write()
            stream.blocking_write_and_flush(b"part one\n")
            raise RuntimeError("failing mid-stream on purpose")
        if request.path_with_query() == "/fail-after-finish":
            # The whole body (16 MiB, more than the sockets buffer) is written
            # and finished, then the guest fails in work after responding.
            response = OutgoingResponse(Fields.from_list([("content-type", b"application/octet-stream")]))
            body = response.body()
            ResponseOutparam.set(response_out, Ok(response))
            stream = body.write()
            chunk = b"x" * 4096
            for _ in range(4096):
                stream.blocking_write_and_flush(chunk)
            stream.__exit__(None, None, None)
            OutgoingBody.finish(body, None)
            # Exits at once (an exception's traceback takes a while).
            os._exit(1)
        return super().handle(request, response_out)

    def handle_request(self, request: Request) -> Response:
        path = request.uri.split("?", 1)[0]
        if path.startswith("/echo"):
            headers = {"content-type": "application/octet-stream", "x-method": request.method, "x-uri": request.uri}
            return Response(200, headers, request.body)
        if path.startswith("/env/"):
            value = os.environ.get(path[len("/env/"):], "<unset>")
            return Response(200, {"content-type": "text/plain"}, bytes(value, "utf-8"))
        if path.startswith("/variable/"):
            name = path[len("/variable/"):]
            return Response(200, {"content-type": "text/plain"}, bytes(variables.get(name), "utf-8"))
        if path.startswith("/file/"):
            try:
                with open(path[len("/file"):], "rb") as f:
                    return Response(200, {"content-type": "text/plain"}, f.read())
            except OSError as e:
                return Response(404, {"content-type": "text/plain"}, bytes(repr(e), "utf-8"))
        if path == "/counter":
            global served
            served += 1
            return Response(200, {"content-type": "text/plain"}, bytes(str(served), "utf-8"))
        if path.startswith("/status/"):
            # Any status the guest picks, even one HTTP cannot end a request with.
            return Response(int(path[len("/status/"):]), {"content-type": "text/plain"}, b"status")
        if path == "/boom":
            raise ValueError("boom from Python")
        if path == "/spin-forever":
            # Said first, so a test knows the request is in the guest.
            print("spinning forever", flush=True)
            while True:
                pass
        if path == "/llm":
            return Response(200, {}, bytes(llm.infer("llama2-chat", "hi").text, "utf-8"))
        if path == "/allocate":
            hog = []
            while True:
                hog.append(bytearray(16 << 20))
        body = json.dumps({"method": request.method, "uri": request.uri, "headers": dict(request.headers)})
        return Response(200, {"content-type": "application/json"}, bytes(body, "utf-8"))
