"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database per test run."""

from __future__ import annotations

import os
import uuid

PG_ADMIN_URL = os.environ.get(
    "STEPWELL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> bool:
    """Whether the PostgreSQL server for tests answers."""
    try:
        import psycopg

        with psycopg.connect(_libpq(PG_ADMIN_URL), connect_timeout=2):
            return True
    except Exception:
        return False


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_postgres_database() -> str:
    """Create a database only this test run uses; returns its SQLAlchemy URL."""
    import psycopg

    name = f"stepwell_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_postgres() -> bool:
    """CI sets STEPWELL_REQUIRE_POSTGRES=1: a missing PostgreSQL is then a failure."""
    return os.environ.get("STEPWELL_REQUIRE_POSTGRES") == "1"
