# An app on our 2023-style SDK for the registry tests: it answers with a
# component variable and a mounted file, so a run from a registry shows that
# both travelled with the artifact.
from spin_config import config_get
from spin_http import Response


def handle_request(request):
    with open("/static/message.txt") as f:
        message = f.read().strip()
    body = f"py2wasm: {config_get('greeting')} / {message}"
    return Response(200, {"content-type": "text/plain"}, bytes(body, "utf-8"))
