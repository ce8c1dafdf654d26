"""Shared fixtures: engine contexts on SQLite and PostgreSQL (store tests run on both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine import bootstrap
from engine.clock import Clock
from engine.services.context import ServiceContext
from engine.settings import Settings
from tests.support import databases


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database private to this test run."""
    if not databases.postgres_available():
        if databases.require_postgres():
            pytest.fail("PostgreSQL is required (STEPWELL_REQUIRE_POSTGRES=1) but unreachable")
        pytest.skip("PostgreSQL is not reachable")
    url = databases.create_postgres_database()
    yield url
    databases.drop_postgres_database(url)


def make_context(url: str) -> ServiceContext:
    """An engine context on ``url`` with a clock tests move by hand."""
    settings = Settings(database_url=url, allow_reset=True)
    return bootstrap.build(settings, clock=Clock())


@pytest.fixture(params=["sqlite", "postgres"])
def ctx(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceContext]:
    """An engine context; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'stepwell.db'}"
        context = make_context(url)
    else:
        url = request.getfixturevalue("postgres_url")
        context = make_context(url)
        context.store.reset()
    yield context
    context.store.dispose()
