"""Read the component's configuration (its `config` table in a version 1
manifest, `variables` in version 2)."""

from spin_py2wasm.errors import SpinError
from spin_py2wasm_bindings.imports import variables
from spin_py2wasm_bindings.types import Err

__all__ = ["ConfigError", "config_get"]


class ConfigError(SpinError):
    """A configuration value could not be read, e.g.
    `ConfigError::Undefined('no variable named "x"')`."""


def config_get(key: str) -> str:
    """The value of the configuration key `key`."""
    try:
        return variables.get(key)
    except Err as error:
        raise ConfigError.from_wit(error.value) from None
