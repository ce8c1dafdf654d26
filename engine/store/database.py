"""Engines for SQLite (WAL, busy timeout, immediate transactions) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event

from engine.store import driver

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_SYNCHRONOUS = os.environ.get("STEPWELL_SQLITE_SYNCHRONOUS", "NORMAL").upper()


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them through psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An Engine configured for durable, concurrent use of ``url``."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=8,
        )
        _configure_sqlite(engine)
        return engine
    # No pool_pre_ping: it costs a round trip at the start of every transaction. A connection
    # the server dropped fails its first statement instead; SQLAlchemy then discards the pool's
    # older connections and Store.run retries the whole transaction on a fresh one (nothing of
    # the failed attempt was committed), which is how the pessimistic ping would have ended too.
    return create_engine(url, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (below) instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the writer. With synchronous=NORMAL a committed
        # transaction survives a process crash (kill -9); FULL adds survival of power loss.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock up front: no deadlock-prone lock upgrades.
        # Read-only work (Store.read) begins deferred and never asks for it.
        # On the driver's cursor: every transaction begins here, and SQLAlchemy's statement
        # machinery cost more than the BEGIN itself. A locked database still surfaces as
        # SQLAlchemy's OperationalError, which Store.run retries.
        read_only = connection.get_execution_options().get("stepwell_read_only")
        driver.execute(connection, "BEGIN" if read_only else "BEGIN IMMEDIATE", {})
