# The benchmark's Python reference: the same response as every other case, as
# a bare ASGI app under uvicorn, with no isolation. The harness serves it twice:
# on h11 + asyncio (plain `pip install uvicorn`) and on uvloop + httptools.
BODY = b"Hello from the Python SDK"
HEADERS = [(b"content-type", b"text/plain")]


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
