"""Alembic environment: one tree for SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from alembic import context

from engine.store.database import make_engine, normalise_url
from engine.store.tables import metadata

config = context.config


def run_migrations_online() -> None:
    """Run migrations on a live connection."""
    url = normalise_url(config.get_main_option("sqlalchemy.url") or "")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
