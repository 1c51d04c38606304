"""Key-value stores kept by Spin for the application.

A component may open only the stores listed in its `key_value_stores`
manifest entry; `"default"` is the one Spin always provides.
"""

from spin_py2wasm.errors import SpinError
from spin_py2wasm_bindings.imports import key_value
from spin_py2wasm_bindings.types import Err

__all__ = ["KeyValueError", "Store", "kv_open", "kv_open_default"]


class KeyValueError(SpinError):
    """A store operation failed, e.g. `KeyValueError::NoSuchStore` or
    `KeyValueError::AccessDenied`."""


class Store:
    """An open key-value store."""

    def __init__(self, store: key_value.Store) -> None:
        self._store = store

    def get(self, key: str) -> bytes | None:
        """The value at `key`, or `None` when there is none."""
        try:
            return self._store.get(key)
        except Err as error:
            raise KeyValueError.from_wit(error.value) from None

    def set(self, key: str, value: bytes) -> None:
        """Stores `value` at `key`, replacing any earlier value."""
        try:
            self._store.set(key, bytes(value))
        except Err as error:
            raise KeyValueError.from_wit(error.value) from None

    def delete(self, key: str) -> None:
        """Removes `key`; removing an absent key is not an error."""
        try:
            self._store.delete(key)
        except Err as error:
            raise KeyValueError.from_wit(error.value) from None

    def exists(self, key: str) -> bool:
        """Whether `key` has a value."""
        try:
            return self._store.exists(key)
        except Err as error:
            raise KeyValueError.from_wit(error.value) from None

    def get_keys(self) -> list[str]:
        """Every key in the store."""
        try:
            return self._store.get_keys()
        except Err as error:
            raise KeyValueError.from_wit(error.value) from None


def kv_open(name: str) -> Store:
    """Opens the store called `name`."""
    try:
        return Store(key_value.Store.open(name))
    except Err as error:
        raise KeyValueError.from_wit(error.value) from None


def kv_open_default() -> Store:
    """Opens the store called `"default"`."""
    return kv_open("default")
