"""State that lives for exactly one request.

Spin normally instantiates a component afresh for each request, but nothing in
the component model promises that, and host resources (such as a Redis
connection) must not outlive the request that opened them. The HTTP glue
clears this state before and after each call to `handle_request`.
"""

from typing import Any

_caches: dict[str, dict[Any, Any]] = {}


def cache(name: str) -> dict[Any, Any]:
    """A dictionary, shared by everyone asking for `name`, that is emptied
    when the current request ends."""
    return _caches.setdefault(name, {})


def clear() -> None:
    """Forgets all per-request state, releasing any host resources held in it."""
    for entries in _caches.values():
        for value in entries.values():
            exit_resource = getattr(value, "__exit__", None)
            if exit_resource is not None:
                exit_resource(None, None, None)
        entries.clear()
