"""Several nodes on one PostgreSQL database hear each other's wake-ups (LISTEN/NOTIFY,
engine.store.notifications): an HTTP node's start wakes another node's decider at once, and a
key notified on one node wakes the waiters of another, instead of both waiting for a poll.

The pollers here are made slow on purpose (a minute): whatever finishes well within that was
woken by the bus. PostgreSQL only: one process owns a SQLite database."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine import bootstrap
from engine.clock import Clock
from engine.services import executions, state_machines, tasks
from engine.services.context import ServiceContext
from engine.settings import Settings
from workers.engine import EngineLoops

ROLE = "arn:aws:iam::123456789012:role/stepwell"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": True}}}
SLOW_POLL = 60.0  # far longer than any wait below
PATIENCE = 15.0


def _node(url: str, name: str) -> ServiceContext:
    settings = Settings(database_url=url, node_id=name, idle_poll_seconds=SLOW_POLL)
    return bootstrap.build(settings, clock=Clock())


@pytest.fixture
def nodes(postgres_url: str) -> Iterator[tuple[ServiceContext, ServiceContext, list[Any]]]:
    """Two nodes of one database, each with its bus started and aware of the other."""
    first = _node(postgres_url, "front")
    first.store.reset()
    second = _node(postgres_url, "decider")
    buses = [bootstrap.connect_nodes(first), bootstrap.connect_nodes(second)]
    try:
        deadline = time.monotonic() + PATIENCE
        while not all(bus.peers() for bus in buses):
            assert time.monotonic() < deadline, "the nodes never heard of each other"
            time.sleep(0.05)
        yield first, second, buses
    finally:
        for bus in buses:
            bus.stop()
        first.store.dispose()
        second.store.dispose()


def test_a_start_on_one_node_wakes_the_decider_of_another(
    nodes: tuple[ServiceContext, ServiceContext, list[Any]],
) -> None:
    front, decider, _ = nodes
    loops = EngineLoops(decider)
    loops.start()
    try:
        machine = state_machines.create_state_machine(
            front, "us-east-1", {"name": "m", "definition": json.dumps(PASS), "roleArn": ROLE}
        )["stateMachineArn"]
        # The decider is idle now, waiting a minute for its next poll.
        time.sleep(0.2)
        arn = executions.start_execution(front, {"stateMachineArn": machine})["executionArn"]
        deadline = time.monotonic() + PATIENCE
        while executions.describe_execution(front, {"executionArn": arn})["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the other node's decider was not woken"
            time.sleep(0.01)
        described = executions.describe_execution(front, {"executionArn": arn})
        assert described["status"] == "SUCCEEDED"
        assert described["output"] == '"done"'
    finally:
        loops.stop()


def test_a_key_notified_on_one_node_wakes_the_waiters_of_another(
    nodes: tuple[ServiceContext, ServiceContext, list[Any]],
) -> None:
    """A send, a scheduled task or an ended execution notifies its key; a long poll on
    another node waiting on that key returns at once instead of at its next re-check."""
    front, other, _ = nodes
    key = "queue:123456789012:orders"

    async def wait() -> float:
        began = time.monotonic()
        await tasks.signals(other).wait([key], SLOW_POLL)
        return time.monotonic() - began

    async def scenario() -> float:
        waiting = asyncio.ensure_future(wait())
        await asyncio.sleep(0.2)  # the waiter is registered
        tasks.signals(front).notify(key)
        return await asyncio.wait_for(waiting, PATIENCE)

    assert asyncio.run(scenario()) < PATIENCE


def test_a_node_alone_sends_no_keys(postgres_url: str) -> None:
    """Without another node heard from, publishing is a no-op on the hot path."""
    alone = _node(postgres_url, "alone")
    bus = bootstrap.connect_nodes(alone)
    try:
        assert bus.peers() == []
        tasks.signals(alone).notify("queue:123456789012:nobody")
        alone.waker.wake()
        assert bus._keys == set()
    finally:
        bus.stop()
        alone.store.dispose()


def test_sqlite_has_no_bus(tmp_path: Any) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'one.db'}")
    ctx = bootstrap.build(settings, clock=Clock())
    try:
        assert bootstrap.connect_nodes(ctx) is None
    finally:
        ctx.store.dispose()
