# An app on our 2023-style SDK that exercises key-value, SQLite, Redis and LLMs,
# reporting errors as text so tests can check allowed and denied cases.
from spin_http import Request, Response, http_send
from spin_key_value import kv_open_default
from spin_llm import LLMInferencingParams, generate_embeddings, llm_infer
from spin_redis import redis_execute, redis_get, redis_set
from spin_sqlite import sqlite_open_default


def handle_request(request):
    path, _, query = request.uri.partition("?")
    try:
        body = dispatch(path, query)
        status = 200
    except AssertionError as e:
        body, status = f"{type(e).__name__}: {e}", 502
    return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))


def dispatch(path, query):
    if path == "/self":
        # A relative URL is a request to this application.
        response = http_send(Request("GET", "/kv", [], None))
        return f"{response.status} {response.body!r}"
    if path == "/kv":
        store = kv_open_default()
        store.set("greeting", b"hi")
        missing = store.get("missing")
        return f"{store.get('greeting')!r} {missing!r} {store.exists('greeting')} {store.get_keys()}"
    if path == "/sqlite":
        db = sqlite_open_default()
        db.execute("CREATE TABLE IF NOT EXISTS pets (name TEXT, age INTEGER, weight REAL, photo BLOB)", [])
        db.execute("DELETE FROM pets", [])
        db.execute("INSERT INTO pets VALUES (?, ?, ?, ?)", ["rex", 3, 12.5, b"\x00\x01"])
        result = db.execute("SELECT name, age, weight, photo, NULL AS absent FROM pets", [])
        return f"{result.columns()} {result.rows()}"
    if path == "/redis-denied":
        redis_set("redis://127.0.0.1:6379", "denied", b"x")
        return "unexpectedly allowed"
    if path == "/redis-execute":
        redis_execute("redis://127.0.0.1:6379", "set", [b"exec-key", 42])
        return repr(redis_execute("redis://127.0.0.1:6379", "get", [b"exec-key"]))
    if path == "/llm-infer":
        result = llm_infer("llama2-chat", "tell me a joke")
        return f"{result.text} | {result.usage.prompt_token_count} {result.usage.generated_token_count}"
    if path == "/llm-infer-options":
        options = LLMInferencingParams(max_tokens=5, repeat_penalty=1.5, temperature=0.25, top_k=3, top_p=0.5)
        return llm_infer("llama2-chat", "huge" if "huge" in query else "short", options).text
    if path == "/llm-broken":
        return llm_infer("llama2-chat", "broken").text
    if path == "/llm-embed":
        result = generate_embeddings("all-minilm-l6-v2", ["a", "bcd"])
        return f"{result.embeddings} {result.usage.prompt_token_count}"
    if path == "/llm-denied":
        return llm_infer("codellama-instruct", "hi").text
    raise ValueError(path)
