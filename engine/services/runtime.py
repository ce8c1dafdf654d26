"""The durable runtime's use cases: decide claimed executions, fire due timers.

A decision reads an execution (from the in-memory cache when it is current, else by replaying
its history), runs the interpreter until it waits or ends, and commits the new events, the
execution's new bookkeeping and the timers it needs in ONE transaction that only succeeds if
this node still holds the lease and nobody appended to the history meanwhile.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from engine import codec
from engine.asl import parser
from engine.asl.interpreter import ExecutionInfo
from engine.history import decider, replay
from engine.history.events import HistoryEvent
from engine.services import executions, map_runs, nested, tasks
from engine.services.context import ServiceContext
from engine.services.executions import event_row

log = logging.getLogger("stepwell.runtime")


class VoidDecision(Exception):
    """The lease was lost or the history moved on; the decision is discarded."""


def _definition(ctx: ServiceContext, revision: dict[str, Any]) -> dict[str, Any]:
    # Parsed definitions are cached per context: revision ids are only unique per database.
    cache: OrderedDict[int, dict[str, Any]] = ctx.definition_cache
    parsed = cache.get(revision["id"])
    if parsed is None:
        parsed = parser.parse_definition(revision["definition"])
        cache[revision["id"]] = parsed
        while len(cache) > 256:
            cache.popitem(last=False)
    return parsed


def claim(ctx: ServiceContext, owner: str, limit: int = 32) -> list[int]:
    """Lease runnable executions for this node."""
    now = ctx.clock.now()
    return ctx.store.run(lambda tx: tx.runtime.claim(owner, now, ctx.settings.lease_seconds, limit))


def _cache(ctx: ServiceContext) -> decider.DeciderCache:
    if ctx.decider_cache is None:
        ctx.decider_cache = decider.DeciderCache()
    return ctx.decider_cache


def decide_one(ctx: ServiceContext, owner: str, execution_id: int) -> None:
    """Advance one leased execution and commit the result."""
    cache = _cache(ctx)
    try:
        _decide(ctx, cache, owner, execution_id)
    except VoidDecision:
        cache.drop(execution_id)
    except Exception:  # a bug must not wedge the loop; the lease expires and it is retried
        cache.drop(execution_id)
        log.exception("decision for execution %s failed", execution_id)
        ctx.store.run(lambda tx: tx.runtime.release(execution_id, owner))
        raise


def _decide(
    ctx: ServiceContext, cache: decider.DeciderCache, owner: str, execution_id: int
) -> None:
    now = ctx.clock.now()

    def load(tx: Any) -> tuple[dict[str, Any], decider.LiveExecution | None, Any, list[Any]]:
        row = tx.executions.get_by_id(execution_id)
        if row is None or row["status"] != "RUNNING" or row["lease_owner"] != owner:
            return row, None, None, []
        live = cache.get(execution_id, row["event_count"])
        if live is not None and live.applied == row["applied_count"]:
            return row, live, None, tx.runtime.resolutions(execution_id, live.applied)
        revision = tx.state_machines.revision(row["revision_id"])
        events = tx.executions.events(execution_id)
        return row, None, (revision, events), tx.runtime.resolutions(execution_id, 0)

    row, live, fresh, stored = ctx.store.run(load)
    if row is None or row["status"] != "RUNNING" or row["lease_owner"] != owner:
        return
    if live is None:
        revision, events = fresh
        recorded = [
            HistoryEvent(e["event_id"], e["previous_event_id"], e["type"], e["timestamp"], None)
            for e in events
        ]
        info = _info(row, revision)
        live = decider.start(_definition(ctx, revision), info, recorded, now)
    resolutions = [
        decider.Resolution(r["request_seq"], codec.loads(r["value"]) if r["value"] else None)
        for r in stored
    ]
    decision = decider.decide(live, row["event_count"], resolutions, row["request_seq"], now)
    new_count = row["event_count"] + len(decision.events)

    wake_keys: list[str] = []

    def commit(tx: Any) -> None:
        wake_keys.clear()
        values: dict[str, Any] = {"event_count": new_count, "request_seq": decision.request_seq}
        if decision.status != "RUNNING":
            values.update(
                status=decision.status,
                stop_date=now,
                output=codec.dumps(decision.output) if decision.status == "SUCCEEDED" else None,
                error=decision.error,
                cause=decision.cause,
            )
        if not tx.runtime.commit_decision(
            execution_id, owner, row["event_count"], values, decision.applied
        ):
            raise VoidDecision()
        tx.executions.append_events(execution_id, [event_row(e) for e in decision.events])
        map_runs.project(tx, row, decision.events)
        if decision.status != "RUNNING":
            tx.runtime.drop_timers(execution_id)
            tx.tasks.close_for_execution(execution_id)
            ended = {**row, **values}
            nested.execution_ended(tx, ended, now)
            for child in tx.executions.running_children(execution_id):
                executions.abort(tx, child, now)
            return
        timers = [(r.seq, float(r.payload["due"])) for r in decision.requests if r.kind == "timer"]
        tx.runtime.add_timers(execution_id, timers)
        for request in decision.requests:
            if request.kind == "task":
                key = tasks.dispatch(tx, execution_id, request, now)
                if key is not None:
                    wake_keys.append(key)

    ctx.store.run(commit)
    for key in wake_keys:
        tasks.signals(ctx).notify(key)
    if wake_keys or (decision.status != "RUNNING" and row.get("parent_id") is not None):
        ctx.waker.wake()
    if decision.status != "RUNNING":
        tasks.signals(ctx).notify(f"execution:{row['arn']}")
    if decision.status == "RUNNING":
        cache.put(execution_id, new_count, live)
    else:
        cache.drop(execution_id)


def fire_due_timers(ctx: ServiceContext, limit: int = 500) -> int:
    """Turn due timers into resolutions; returns how many fired."""
    now = ctx.clock.now()

    def work(tx: Any) -> int:
        due = tx.runtime.due_timers(now, limit)
        for timer in due:
            tx.runtime.resolve(timer["execution_id"], timer["request_seq"], None, now)
            tx.runtime.delete_timer(timer["id"])
        return len(due)

    fired = ctx.store.run(work)
    if fired:
        ctx.waker.wake()
    return fired


def next_timer_due(ctx: ServiceContext) -> float | None:
    """Epoch seconds of the earliest timer, if any."""
    return ctx.store.run(lambda tx: tx.runtime.next_timer_due())


def rebuild(ctx: ServiceContext, execution_id: int) -> tuple[list[HistoryEvent], Any]:
    """(stored events, rebuilt live execution) of an execution, for recovery checks."""

    def load(tx: Any) -> tuple[Any, ...]:
        row = tx.executions.get_by_id(execution_id)
        revision = tx.state_machines.revision(row["revision_id"])
        return (
            row,
            revision,
            tx.executions.events(execution_id),
            tx.runtime.resolutions(execution_id, 0),
        )

    row, revision, events, stored = ctx.store.run(load)
    recorded = [
        HistoryEvent(
            e["event_id"],
            e["previous_event_id"],
            e["type"],
            e["timestamp"],
            codec.loads(e["details"]) if e["details"] else None,
        )
        for e in events
    ]
    resolutions = [
        decider.Resolution(r["request_seq"], codec.loads(r["value"]) if r["value"] else None)
        for r in stored
    ]
    live = replay.rebuild(
        _definition(ctx, revision), _info(row, revision), recorded, resolutions, ctx.clock.now()
    )
    return recorded, live


def redrive_request(ctx: ServiceContext, execution_id: int) -> int | None:
    """The request a failed execution waits on to be redriven, found by replaying it; None
    when it cannot be redriven (it did not fail in a state)."""

    def load(tx: Any) -> tuple[Any, ...]:
        row = tx.executions.get_by_id(execution_id)
        revision = tx.state_machines.revision(row["revision_id"])
        return (
            row,
            revision,
            tx.executions.events(execution_id),
            tx.runtime.resolutions(execution_id, 0),
        )

    row, revision, events, stored = ctx.store.run(load)
    info = _info(row, revision)
    recorded = [
        HistoryEvent(e["event_id"], e["previous_event_id"], e["type"], e["timestamp"], None)
        for e in events
    ]
    resolutions = [
        decider.Resolution(r["request_seq"], codec.loads(r["value"]) if r["value"] else None)
        for r in stored
    ]
    live = replay.rebuild(_definition(ctx, revision), info, recorded, resolutions, ctx.clock.now())
    waiting = [r for r in live.interpreter.pending if r.kind == "redrive"]
    return waiting[0].seq if waiting else None


def _info(row: dict[str, Any], revision: dict[str, Any]) -> ExecutionInfo:
    return ExecutionInfo(
        execution_arn=row["arn"],
        name=row["name"],
        state_machine_arn=row["state_machine_arn"],
        state_machine_name=row["state_machine_arn"].rsplit(":", 1)[1],
        role_arn=revision["role_arn"],
        start_time=row["start_date"],
        input=codec.loads(row["input"]),
    )
