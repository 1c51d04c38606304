"""What `spin_postgres` and `spin_mysql` share: Python values to and from
the `fermyon:spin/rdbms-types@2.0.0` variants, and the connection wrapper."""

from typing import Any, Callable

from spin_py2wasm.errors import SpinError
from spin_py2wasm_bindings.imports import rdbms_types as wit
from spin_py2wasm_bindings.types import Err

Value = bool | int | float | str | bytes | None
"""A column or parameter value. Integers go to the database as 64-bit
(unsigned when they need to be); the host narrows them to the column's type."""


class Unsupported:
    """A value of a column type the interface cannot carry (e.g. a JSON or
    date column read through the 2.0 interface)."""

    def __repr__(self) -> str:
        return "Unsupported()"


class RowSet:
    """The rows a query returned."""

    def __init__(self, rows: wit.RowSet) -> None:
        self._rows = rows

    def columns(self) -> list[str]:
        """The column names, in order."""
        return [column.name for column in self._rows.columns]

    def column_types(self) -> list[str]:
        """Each column's type as the host named it, e.g. `INT32` or `STR`."""
        return [column.data_type.name for column in self._rows.columns]

    def rows(self) -> list[list[Value | Unsupported]]:
        """Each row's values, in column order."""
        return [[from_wit(value) for value in row] for row in self._rows.rows]


class Connection:
    """An open database connection; `execute` returns what the interface
    returns (rows touched for PostgreSQL, nothing for MySQL)."""

    def __init__(self, connection: Any, error: type[SpinError]) -> None:
        self._connection = connection
        self._error = error

    def query(self, statement: str, params: list[Value] | None = None) -> RowSet:
        """Runs a statement that returns rows."""
        return RowSet(self._call(self._connection.query, statement, params))

    def execute(self, statement: str, params: list[Value] | None = None) -> Any:
        """Runs a statement for its effect."""
        return self._call(self._connection.execute, statement, params)

    def _call(self, method: Callable[..., Any], statement: str, params: list[Value] | None) -> Any:
        arguments = [to_wit(value) for value in params or []]
        try:
            return method(statement, arguments)
        except Err as error:
            raise self._error.from_wit(error.value) from None


def open_connection(opener: Callable[[str], Any], address: str, error: type[SpinError]) -> Connection:
    """Opens a connection with `opener`, raising `error` when it fails."""
    try:
        return Connection(opener(address), error)
    except Err as failure:
        raise error.from_wit(failure.value) from None


def to_wit(value: Value) -> wit.ParameterValue:
    # `bool` first: it is also an `int`.
    if isinstance(value, bool):
        return wit.ParameterValue_Boolean(value)
    if isinstance(value, int):
        if value > 2**63 - 1:
            return wit.ParameterValue_Uint64(value)
        return wit.ParameterValue_Int64(value)
    if isinstance(value, float):
        return wit.ParameterValue_Floating64(value)
    if isinstance(value, str):
        return wit.ParameterValue_Str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return wit.ParameterValue_Binary(bytes(value))
    if value is None:
        return wit.ParameterValue_DbNull()
    raise TypeError(
        f"cannot use {value!r} as a database parameter: expected bool, int, float, str, bytes or None"
    )


def from_wit(value: Any) -> Value | Unsupported:
    if isinstance(value, wit.DbValue_DbNull):
        return None
    if isinstance(value, wit.DbValue_Unsupported):
        return Unsupported()
    return value.value
