"""MySQL and MariaDB, on Spin's `fermyon:spin/mysql@2.0.0`.

The server must be listed in the component's `allowed_outbound_hosts`, e.g.
`"mysql://db.example.com:3306"`. Placeholders are `?`.

    db = mysql_open("mysql://user:password@127.0.0.1/app")
    db.execute("INSERT INTO pets VALUES (?, ?)", ["rex", 3])
    rows = db.query("SELECT name, age FROM pets", []).rows()
"""

from spin_py2wasm import rdbms
from spin_py2wasm.errors import SpinError
from spin_py2wasm.rdbms import Connection, RowSet, Unsupported, Value
from spin_py2wasm_bindings.imports import mysql

__all__ = ["Connection", "MysqlError", "RowSet", "Unsupported", "Value", "mysql_open"]


class MysqlError(SpinError):
    """A MySQL operation failed, e.g.
    `MysqlError::QueryFailed("Table 'app.pets' doesn't exist")`."""


def mysql_open(address: str) -> Connection:
    """Connects to `mysql://user[:password]@host[:port]/database`."""
    return rdbms.open_connection(mysql.Connection.open, address, MysqlError)
