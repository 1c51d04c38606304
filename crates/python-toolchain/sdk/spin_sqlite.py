"""SQLite databases kept by Spin for the application.

A component may open only the databases listed in its `sqlite_databases`
manifest entry; `"default"` is the usual one.
"""

from spin_py2wasm.errors import SpinError
from spin_py2wasm_bindings.imports import sqlite
from spin_py2wasm_bindings.types import Err

__all__ = ["Connection", "QueryResult", "SqliteError", "Value", "sqlite_open", "sqlite_open_default"]

Value = int | float | str | bytes | None
"""A SQLite value: INTEGER, REAL, TEXT, BLOB or NULL."""


class SqliteError(SpinError):
    """A database operation failed, e.g. `SqliteError::NoSuchDatabase` or
    `SqliteError::Io('no such table: users')`."""


class QueryResult:
    """The rows a statement produced."""

    def __init__(self, result: sqlite.QueryResult) -> None:
        self._result = result

    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._result.columns)

    def rows(self) -> list[list[Value]]:
        """Each row's values, in column order."""
        return [[_from_wit(value) for value in row.values] for row in self._result.rows]


class Connection:
    """An open database."""

    def __init__(self, connection: sqlite.Connection) -> None:
        self._connection = connection

    def execute(self, query: str, params: list[Value] | None = None) -> QueryResult:
        """Runs one statement; `?` placeholders take `params` in order."""
        arguments = [_to_wit(value) for value in params or []]
        try:
            return QueryResult(self._connection.execute(query, arguments))
        except Err as error:
            raise SqliteError.from_wit(error.value) from None


def sqlite_open(database: str) -> Connection:
    """Opens the database called `database`."""
    try:
        return Connection(sqlite.Connection.open(database))
    except Err as error:
        raise SqliteError.from_wit(error.value) from None


def sqlite_open_default() -> Connection:
    """Opens the database called `"default"`."""
    return sqlite_open("default")


def _to_wit(value: Value) -> sqlite.Value:
    # `bool` is an `int`, and SQLite stores booleans as integers anyway.
    if isinstance(value, int):
        return sqlite.Value_Integer(int(value))
    if isinstance(value, float):
        return sqlite.Value_Real(value)
    if isinstance(value, str):
        return sqlite.Value_Text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return sqlite.Value_Blob(bytes(value))
    if value is None:
        return sqlite.Value_Null()
    raise TypeError(
        f"cannot use {value!r} as a SQLite parameter: expected int, float, str, bytes or None"
    )


def _from_wit(value: sqlite.Value) -> Value:
    if isinstance(value, sqlite.Value_Null):
        return None
    return value.value
