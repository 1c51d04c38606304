"""The edit loop's interpreter: an app whose sources are read when it runs.

A normal `spin py2wasm` build imports the app while componentize-py
pre-initialises the component, so its code lives in the snapshot and every
edit costs a componentize-py run plus a compile of the new component. For
`spin watch`, the build instead snapshots the interpreter and the SDK only
(once per set of dependencies). The host mounts a copy of the app's sources
at the python-path index they had at build time (`/2`, ...), and the
standard library at `/python`, read-only; each instance imports the app from
there. An edit then needs neither componentize-py nor a compile.

An instance starts from the snapshot, as in a normal build, so the app's
module-level code runs once per instance instead of once at build time.
"""

import importlib
import os
import shutil
import sys

from spin_py2wasm import handler, tracebacks
from spin_py2wasm.wasi_http import to_fields, write_body
from spin_py2wasm_bindings.imports import types as http
from spin_py2wasm_bindings.types import Ok

# Imported now so that their bindings are in the snapshot whatever the app
# imports later.
import spin_config  # noqa: F401
import spin_http  # noqa: F401
import spin_key_value  # noqa: F401
import spin_llm  # noqa: F401
import spin_mqtt  # noqa: F401
import spin_mysql  # noqa: F401
import spin_postgres  # noqa: F401
import spin_redis  # noqa: F401
import spin_sqlite  # noqa: F401

# Modules most apps import, compiled into the snapshot so that a request
# does not compile them from the mounted standard library.
for _name in ("base64", "datetime", "decimal", "hashlib", "json", "random", "re", "time", "urllib.parse", "uuid"):
    try:
        importlib.import_module(_name)
    except ImportError:
        pass

# The header the host sends with its start-up request: import the app and
# answer 204 (or 500 with the traceback on stderr) without calling it.
PROBE_HEADER = "spin-py2wasm-dev-probe"

# Left out of the exported standard library: tests, GUIs and installers no
# component can use.
_STDLIB_SKIPPED = ("__pycache__", "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages")


def export_stdlib(target: str) -> None:
    """Copies the interpreter's standard library (mounted at `/python` while
    componentize-py builds) to `target`, a directory the host mounts back at
    `/python` when the component runs, so that an edit may import a module
    the snapshot does not hold. Done once per toolchain: a finished copy
    holds `.complete`."""
    if os.path.exists(os.path.join(target, ".complete")):
        return
    _copy_tree(os.path.dirname(shutil.__file__), target)
    with open(os.path.join(target, ".complete"), "w"):
        pass


def _copy_tree(source: str, target: str) -> None:
    """Copies files only: WASI here cannot set times or modes, which
    `shutil.copytree` insists on, nor create `target`'s mount root."""
    if not os.path.isdir(target):
        os.mkdir(target)
    for entry in os.scandir(source):
        if entry.name in _STDLIB_SKIPPED:
            continue
        if entry.is_dir():
            _copy_tree(entry.path, f"{target}/{entry.name}")
        elif entry.is_file():
            shutil.copyfile(entry.path, f"{target}/{entry.name}")


def incoming_handler_for(module_name: str, mounts: dict[str, str], build_only: list[str]) -> type:
    """Returns the class componentize-py exports as
    `wasi:http/incoming-handler`: each request imports `module_name` from
    the mounted sources and serves it with its `handle_request`.

    `build_only` are python-path entries that exist only while the component
    is built; they are dropped from `sys.path`."""
    tracebacks.register_sources(mounts)
    for entry in build_only:
        while entry in sys.path:
            sys.path.remove(entry)
    # The mounts are read-only: don't try to write `__pycache__` into them.
    sys.dont_write_bytecode = True

    class IncomingHandler:
        """Imports the app, then serves the request with it."""

        def handle(self, request: http.IncomingRequest, response_out: http.ResponseOutparam) -> None:
            with request.headers() as fields:
                probe = any(name.lower() == PROBE_HEADER for name, _ in fields.entries())
            try:
                importlib.invalidate_caches()
                module = importlib.import_module(module_name)
                app_handler = getattr(module, "handle_request", None)
                if app_handler is None or not callable(app_handler):
                    raise AttributeError(
                        f"module `{module_name}` defines no `handle_request` function; add "
                        "`def handle_request(request):` returning a `spin_http.Response`"
                    )
            except BaseException as error:  # noqa: BLE001 - a broken edit is a 500, not a trap
                sys.stderr.write(tracebacks.render(error))
                sys.stderr.flush()
                _answer(response_out, 500)
                return
            if probe:
                _answer(response_out, 204)
                return
            handler.serve(app_handler, request, response_out)

    return IncomingHandler


def _answer(response_out: http.ResponseOutparam, status: int) -> None:
    response = http.OutgoingResponse(to_fields([("content-length", "0")]))
    response.set_status_code(status)
    body = response.body()
    http.ResponseOutparam.set(response_out, Ok(response))
    write_body(body, b"")
