"""Run the Alembic tree programmatically (``stepwell db upgrade`` and server start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def config(database_url: str) -> Config:
    """An Alembic Config pointing at this tree and ``database_url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``."""
    command.upgrade(config(database_url), revision)


def check(database_url: str) -> None:
    """Fail if the tables in engine.store.tables differ from the migrations (alembic check)."""
    command.check(config(database_url))
