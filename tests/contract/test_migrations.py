"""One Alembic tree for both databases: it upgrades a fresh database and matches the tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from engine.store.database import normalise_url
from engine.store.tables import metadata
from migrations.runner import check, upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.db'}"
    from tests.support import databases

    url = request.getfixturevalue("postgres_url")
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    assert databases  # the session fixture made this database for this run only
    return url


def test_upgrade_creates_every_table_and_check_is_clean(fresh_url: str) -> None:
    upgrade(fresh_url)
    engine = create_engine(normalise_url(fresh_url))
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables
    check(fresh_url)  # raises if the models and the migrations disagree


def test_upgrade_is_idempotent(fresh_url: str) -> None:
    upgrade(fresh_url)
    upgrade(fresh_url)
    check(fresh_url)
