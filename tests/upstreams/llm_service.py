"""A real model service on loopback for the LLM tests, speaking Spin's
protocol (`POST /infer`, `POST /embed`) and OpenAI's (`POST
/v1/chat/completions`, `POST /v1/embeddings`).

Usage: llm_service.py TOKEN. Prints its port, then serves HTTP/1.1. A request
without `Authorization: bearer TOKEN` gets a 401 in OpenAI's error shape.
An inference answers with what it was sent (model, prompt and options), so
the tests see every field arrive; the prompt `huge` gets a 130 MiB answer and
`broken` a 500 in plain text. An embedding is `[len(text), i]` for the i-th
text.
"""

import http.server
import json
import sys

TOKEN = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.headers.get("authorization", "").lower() != f"bearer {TOKEN}".lower():
            return self.answer(401, {"error": {"message": "invalid token", "type": "auth"}})
        if self.path == "/infer":
            prompt = request["prompt"]
            if prompt == "broken":
                return self.answer_text(500, "the model fell over")
            if prompt == "huge":
                return self.answer_huge()
            text = f"spin {request['model']}: {prompt} {json.dumps(request['options'], sort_keys=True)}"
            return self.answer(200, {"text": text, "usage": {"promptTokenCount": len(prompt.split()), "generatedTokenCount": 7}})
        if self.path == "/embed":
            embeddings = [[float(len(t)), float(i)] for i, t in enumerate(request["input"])]
            return self.answer(200, {"embeddings": embeddings, "usage": {"promptTokenCount": len(request["input"])}})
        if self.path == "/v1/chat/completions":
            (message,) = request["messages"]
            options = {k: v for k, v in request.items() if k not in ("messages", "model")}
            text = f"openai {request['model']}: {message['role']} {message['content']} {json.dumps(options, sort_keys=True)}"
            return self.answer(200, {
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
            })
        if self.path == "/v1/embeddings":
            data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), float(i)]} for i, t in enumerate(request["input"])]
            return self.answer(200, {"object": "list", "data": data, "usage": {"prompt_tokens": 3, "total_tokens": 3}})
        self.answer_text(404, f"no {self.path} here")

    def answer_huge(self):
        """A 130 MiB inference, written a MiB at a time."""
        head = b'{"text": "'
        tail = b'", "usage": {"promptTokenCount": 1, "generatedTokenCount": 1}}'
        mib = 1 << 20
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(head) + 130 * mib + len(tail)))
        self.end_headers()
        try:
            self.wfile.write(head)
            chunk = b"x" * mib
            for _ in range(130):
                self.wfile.write(chunk)
            self.wfile.write(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the host stopped reading at its cap

    def answer(self, status, value):
        self.answer_text(status, json.dumps(value), "application/json")

    def answer_text(self, status, text, kind="text/plain"):
        body = text.encode()
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a client that stopped reading (the host's cap)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
