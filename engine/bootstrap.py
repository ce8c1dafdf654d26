"""Wiring: build the engine (store, clock, settings) for a process. The one place that
creates a Store, so api and workers never import engine.store themselves."""

from __future__ import annotations

import uuid
from typing import Any

import engine.asl.states  # noqa: F401 - see build()
from engine.clock import Clock
from engine.services.context import ServiceContext
from engine.settings import Settings
from engine.store.repository import Store


def build(
    settings: Settings | None = None, clock: Clock | None = None, migrate: bool = True
) -> ServiceContext:
    """A ready ServiceContext; upgrades the database schema first unless ``migrate`` is off.

    The state handlers (engine.asl.states) are imported with this module: the interpreter
    loads them lazily (they import it), and the first execution of a new process paid ~30 ms
    for that import (bench/PROFILES.md)."""
    settings = settings or Settings()
    if migrate:
        upgrade(settings.database_url)
    store = Store(settings.database_url)
    return ServiceContext(store=store, clock=clock or Clock(), settings=settings)


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest Alembic revision."""
    from migrations.runner import upgrade as run_upgrade

    run_upgrade(database_url)


def reset(ctx: ServiceContext) -> None:
    """Delete all state (the test-only reset endpoint)."""
    ctx.store.reset()
    if ctx.decider_cache is not None:
        ctx.decider_cache.entries.clear()
    ctx.definition_cache.clear()
    ctx.revision_cache.clear()
    ctx.machine_cache.clear()
    ctx.queue_cache.clear()
    ctx.queue_expiry.clear()
    ctx.stream_purges.clear()


# The timer loop's wake-up key on the bus (the decider's is tasks.DECIDER_KEY).
TIMERS_KEY = "timers"


def connect_nodes(ctx: ServiceContext) -> Any:
    """On PostgreSQL, start passing this node's wake-ups to the other nodes of the database
    and theirs to this one's waiters (engine.store.notifications); returns the bus to stop at
    shutdown, or None on SQLite (one process owns a SQLite database)."""
    from engine.services import tasks
    from engine.store.notifications import NotificationBus

    if not ctx.settings.database_url.startswith("postgresql"):
        return None
    signals = tasks.signals(ctx)

    def deliver(key: str) -> None:
        if key == tasks.DECIDER_KEY:
            ctx.waker.wake_here()
        elif key == TIMERS_KEY:
            ctx.timer_waker.wake_here()
        else:
            signals.notify_here(key)

    # The bus's own name: node ids default to the process id, which other hosts may share.
    bus = NotificationBus(
        ctx.settings.database_url, f"{ctx.settings.node_id}-{uuid.uuid4().hex[:8]}", deliver
    )
    ctx.waker.relay = lambda: bus.publish(tasks.DECIDER_KEY)
    ctx.timer_waker.relay = lambda: bus.publish(TIMERS_KEY)
    signals.relay = bus.publish
    bus.start()
    return bus
