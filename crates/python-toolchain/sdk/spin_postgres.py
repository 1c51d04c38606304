"""PostgreSQL, on Spin's `fermyon:spin/postgres@2.0.0`.

The server must be listed in the component's `allowed_outbound_hosts`, e.g.
`"postgres://db.example.com:5432"`. Placeholders are `$1`, `$2`, ….

    db = pg_open("postgres://user:password@127.0.0.1/app")
    db.execute("INSERT INTO pets VALUES ($1, $2)", ["rex", 3])
    rows = db.query("SELECT name, age FROM pets", []).rows()
"""

from spin_py2wasm import rdbms
from spin_py2wasm.errors import SpinError
from spin_py2wasm.rdbms import Connection, RowSet, Unsupported, Value
from spin_py2wasm_bindings.imports import postgres

__all__ = ["Connection", "PostgresError", "RowSet", "Unsupported", "Value", "pg_open"]


class PostgresError(SpinError):
    """A PostgreSQL operation failed, e.g.
    `PostgresError::QueryFailed('ERROR: relation "pets" does not exist')`."""


def pg_open(address: str) -> Connection:
    """Connects to `postgres://user[:password]@host[:port]/database`;
    `execute` returns the number of rows touched."""
    return rdbms.open_connection(postgres.Connection.open, address, PostgresError)
