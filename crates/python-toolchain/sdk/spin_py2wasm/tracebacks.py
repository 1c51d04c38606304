"""Readable tracebacks for errors raised while serving a request.

componentize-py mounts each python-path directory at a numbered guest path
(`/0`, `/1`, ...) while it imports the app, and none of them exists once the
component runs (except under `spin watch`, which mounts the app's sources
there: see `dev.py`). So the source lines are cached at build time, and file names
are shown relative to the app (`app.py`, `site-packages/humanize/...`).
"""

import linecache
import sys
import traceback

from spin_py2wasm.errors import SpinError

# Frames of the SDK's request plumbing, which say nothing about the app.
_GLUE_SUFFIXES = ("spin_py2wasm/handler.py", "spin_py2wasm/dev.py", "/importlib/__init__.py")

# The import machinery's own frames, which `spin watch`'s interpreter shows
# above an app that fails to import.
_GLUE_PREFIXES = ("<frozen importlib",)

_mounts: dict[str, str] = {}


def register_sources(mounts: dict[str, str]) -> None:
    """Remembers how guest mount prefixes (e.g. `/2/`) should be displayed,
    and caches the source of every loaded module under one of them.

    Entries without a modification time are the kind `linecache` keeps for
    sources that have no file on disk, which is the case at run time.
    """
    _mounts.update(mounts)
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str) or not any(filename.startswith(prefix) for prefix in _mounts):
            continue
        lines = linecache.getlines(filename)
        if lines:
            linecache.cache[filename] = (sum(len(line) for line in lines), None, lines, filename)


def render(error: BaseException) -> str:
    """The traceback of `error` without SDK plumbing frames and with display
    file names. Host errors end with `AssertionError: <name>`, the line Spin 1
    users saw (and search for), e.g.
    `AssertionError: HttpError::DestinationNotAllowed`."""
    report = traceback.TracebackException.from_exception(error)
    part: traceback.TracebackException | None = report
    while part is not None:
        frames = [
            frame
            for frame in part.stack
            if not frame.filename.endswith(_GLUE_SUFFIXES) and not frame.filename.startswith(_GLUE_PREFIXES)
        ]
        for frame in frames:
            frame.filename = _display_name(frame.filename)
        part.stack = traceback.StackSummary.from_list(frames)
        # A syntax error names its file apart from the frames.
        if isinstance(getattr(part, "filename", None), str):
            part.filename = _display_name(part.filename)
        part = part.__cause__ or part.__context__
    lines = list(report.format())
    if isinstance(error, SpinError):
        lines[-1] = f"AssertionError: {error}\n"
    return "".join(lines)


def _display_name(filename: str) -> str:
    for prefix, shown in _mounts.items():
        if filename.startswith(prefix):
            return shown + filename[len(prefix) :]
    return filename
