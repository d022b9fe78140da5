"""Fast inserts: PostgreSQL COPY, or SQLAlchemy Core executemany (SQLite).

Rows are dicts keyed by column name; a missing column takes the model's scalar default (so
``version`` is 1, text fields are ""), otherwise NULL. Ids are given by the caller, and the
PostgreSQL sequences are moved past them afterwards (``reset_sequences``).
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import sql
from sqlalchemy import Connection, Table, func, select, text

CHUNK = 5000


def _defaults(table: Table) -> dict:
    return {
        column.name: column.default.arg
        for column in table.columns
        if column.default is not None and column.default.is_scalar
    }


def insert_rows(conn: Connection, table: Table, rows: Iterable[dict]) -> int:
    names = [column.name for column in table.columns]
    defaults = _defaults(table)
    tuples = (tuple(row.get(name, defaults.get(name)) for name in names) for row in rows)
    if conn.dialect.name == "postgresql":
        return _copy(conn, table, names, tuples)
    count = 0
    chunk: list[dict] = []
    statement = table.insert()
    for values in tuples:
        chunk.append(dict(zip(names, values, strict=True)))
        if len(chunk) == CHUNK:
            conn.execute(statement, chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        conn.execute(statement, chunk)
        count += len(chunk)
    return count


def _copy(conn: Connection, table: Table, names: list[str], tuples) -> int:
    driver = conn.connection.driver_connection  # psycopg, inside the same transaction
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    count = 0
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for values in tuples:
            copy.write_row(values)
            count += 1
    return count


def reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """After explicit ids, let the next INSERT of the application get a fresh id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        top = conn.scalar(select(func.max(table.c.id)))
        if top:
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                {"t": table.name, "v": top},
            )
