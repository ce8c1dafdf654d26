"""Statements handed to the database driver's own cursor, for the few hot paths where
SQLAlchemy's execution machinery (result metadata, parameter processing, events) costs more
than the statement: a StartExecution's two INSERTs measured ~40 us each through
``exec_driver_sql`` and ~10 us on the cursor (bench/PROFILES.md).

The cursor belongs to the connection of the caller's transaction, so its writes commit or
roll back with everything else. Driver errors come back as SQLAlchemy's own exception types
(``OperationalError``, ``IntegrityError``, ...), so retrying and conflict handling in
``Store`` see them as they would any other statement's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def execute(conn: Connection, sql: str, params: dict[str, Any]) -> Any:
    """Run one statement (named parameters in the driver's style); the first row or None."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def execute_many(conn: Connection, sql: str, rows: Sequence[dict[str, Any]]) -> None:
    """Run one statement for each of ``rows`` (the driver's executemany)."""
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, rows, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def copy_rows(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Stream ``rows`` through PostgreSQL's ``COPY ... FROM STDIN`` (psycopg's copy)."""
    psycopg = conn.connection.driver_connection
    assert psycopg is not None
    try:
        with psycopg.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except conn.dialect.loaded_dbapi.Error as exc:
        # Mapped like the statements above: a refused key is a Conflict, a lock timeout or a
        # dropped connection is retried, as through SQLAlchemy.
        raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from exc
