"""Fixtures for tests that run real server processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import databases


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for a server process: a fresh SQLite file, or a PostgreSQL database
    made for this test alone (required in CI, skipped elsewhere when unreachable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stepwell.db'}"
        return
    if not databases.postgres_available():
        if databases.require_postgres():
            pytest.fail("PostgreSQL required but unreachable")
        pytest.skip("PostgreSQL is not reachable")
    url = databases.create_postgres_database()
    yield url
    databases.drop_postgres_database(url)
