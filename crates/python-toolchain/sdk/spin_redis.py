"""Outbound Redis: each function takes the server's address first
(`redis://host:port`), which must be allowed by the component's manifest.

One connection per address is opened on first use and reused until the
request ends.
"""

from collections.abc import Callable
from typing import TypeVar

from spin_py2wasm import request_scope
from spin_py2wasm.errors import SpinError, describe_variant
from spin_py2wasm_bindings.imports import redis
from spin_py2wasm_bindings.types import Err

__all__ = [
    "RedisError",
    "redis_del",
    "redis_execute",
    "redis_get",
    "redis_incr",
    "redis_publish",
    "redis_sadd",
    "redis_set",
    "redis_smembers",
    "redis_srem",
]

T = TypeVar("T")


class RedisError(SpinError):
    """A Redis command failed. The text starts as Spin 1's did,
    `Error executing Redis get command`, followed by the cause."""


def _run(address: str, command: str, call: Callable[[redis.Connection], T]) -> T:
    connections = request_scope.cache("spin_redis")
    try:
        connection = connections.get(address)
        if connection is None:
            connection = connections[address] = redis.Connection.open(address)
        return call(connection)
    except Err as error:
        variant, detail = describe_variant(error.value)
        cause = f"RedisError::{variant}" + (f"({detail!r})" if detail is not None else "")
        raise RedisError(f"Error executing Redis {command} command: {cause}", variant, detail) from None


def redis_get(address: str, key: str) -> bytes:
    """The value at `key`; empty when the key is absent (as in Spin 1)."""
    value = _run(address, "get", lambda c: c.get(key))
    return b"" if value is None else value


def redis_set(address: str, key: str, value: bytes) -> None:
    """Stores `value` at `key`."""
    _run(address, "set", lambda c: c.set(key, bytes(value)))


def redis_del(address: str, keys: list[str]) -> int:
    """Removes `keys`; returns how many existed."""
    return _run(address, "del", lambda c: c.del_(list(keys)))


def redis_incr(address: str, key: str) -> int:
    """Adds one to the integer at `key` and returns the new value."""
    return _run(address, "incr", lambda c: c.incr(key))


def redis_sadd(address: str, key: str, values: list[str]) -> int:
    """Adds `values` to the set at `key`; returns how many were new."""
    return _run(address, "sadd", lambda c: c.sadd(key, list(values)))


def redis_srem(address: str, key: str, values: list[str]) -> int:
    """Removes `values` from the set at `key`; returns how many were there."""
    return _run(address, "srem", lambda c: c.srem(key, list(values)))


def redis_smembers(address: str, key: str) -> list[str]:
    """The members of the set at `key`."""
    return _run(address, "smembers", lambda c: c.smembers(key))


def redis_publish(address: str, channel: str, payload: bytes) -> None:
    """Publishes `payload` on `channel`."""
    _run(address, "publish", lambda c: c.publish(channel, bytes(payload)))


def redis_execute(address: str, command: str, args: list[int | bytes]) -> list[int | bytes | str | None]:
    """Runs any Redis command; arguments are integers or bytes, and reply
    values come back as int, bytes, str (status replies) or None (nil)."""
    arguments = [_parameter(arg) for arg in args]
    results = _run(address, command, lambda c: c.execute(command, arguments))
    return [None if isinstance(result, redis.RedisResult_Nil) else result.value for result in results]


def _parameter(arg: int | bytes) -> redis.RedisParameter:
    if isinstance(arg, int) and not isinstance(arg, bool):
        return redis.RedisParameter_Int64(arg)
    if isinstance(arg, (bytes, bytearray, memoryview)):
        return redis.RedisParameter_Binary(bytes(arg))
    raise TypeError(f"cannot use {arg!r} as a Redis argument: expected int or bytes")
