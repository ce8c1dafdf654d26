"""The durable runtime's use cases: decide claimed executions, fire due timers.

A decision reads an execution (from the in-memory cache when it is current, else by replaying
its history), runs the interpreter until it waits or ends, and commits the new events, the
execution's new bookkeeping and the timers it needs in ONE transaction that only succeeds if
this node still holds the lease and nobody appended to the history meanwhile.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from engine import codec
from engine.asl import parser
from engine.asl.interpreter import ExecutionInfo
from engine.history import decider, replay
from engine.history.events import HistoryEvent
from engine.services import executions, map_runs, nested, status_notifications, tasks
from engine.services.context import ServiceContext
from engine.services.executions import event_row
from engine.services.handoffs import Handoffs

log = logging.getLogger("stepwell.runtime")


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
    rows = ctx.store.run(
        lambda tx: tx.runtime.claim_rows(owner, now, ctx.settings.lease_seconds, limit)
    )
    return [row["id"] for row in rows]


def _cache(ctx: ServiceContext) -> decider.DeciderCache:
    if ctx.decider_cache is None:
        ctx.decider_cache = decider.DeciderCache()
    return ctx.decider_cache


@dataclass
class _Pending:
    """One execution's decision, computed and waiting for the batch commit."""

    row: dict[str, Any]
    live: decider.LiveExecution
    decision: decider.Decision
    now: float
    # The live interpreter ran past what was recorded (a follow-on decision failed).
    stale: bool = False
    # A follow-on decision advanced the live interpreter inside a transaction: should that
    # transaction not commit, the item cannot be committed again as it is.
    followed: bool = False
    # Pollers of this process waiting for tasks (tasks.dispatch hands new tasks to them).
    handoffs: Handoffs | None = None


def claim_and_decide(ctx: ServiceContext, owner: str, limit: int = 32) -> int:
    """The decider loop's round: lease runnable executions and read what deciding them needs
    in one transaction; run the pure interpreter for each; then one write transaction for all
    decisions (each still conditional on the lease and the event count; a failing batch
    commit falls back to one commit each). Returns how many executions were claimed."""
    cache = _cache(ctx)
    now = ctx.clock.now()

    def work(tx: Any) -> tuple[int, list[tuple[Any, ...]]]:
        tx.runtime.acknowledges_nothing()  # leases only: the decisions commit durably
        rows = tx.runtime.claim_rows(owner, now, ctx.settings.lease_seconds, limit)
        return len(rows), _load(ctx, tx, cache, owner, rows) if rows else []

    claimed, loaded = ctx.store.run(work)
    _decide_loaded(ctx, owner, cache, loaded)
    return int(claimed)


def decide_answer(ctx: ServiceContext, owner: str, record: Any) -> None:
    """Record an answer and decide the execution it moves on, in ONE transaction.

    ``record(tx)`` writes the answer (SendTaskSuccess and the like) and returns its
    execution's id; its errors reach the caller with nothing written. When this node holds the
    execution in memory, the same transaction then leases it, decides it and records the
    decision, instead of committing the answer alone and waking the decider for a round of
    two more. Should deciding fail, or should its commit, the answer is committed alone and
    the decider takes it: the caller's answer is never lost to a failed decision."""
    cache = _cache(ctx)
    now = ctx.clock.now()
    deciding: list[int] = []  # the execution this attempt went on to decide, if any

    def work(tx: Any) -> tuple[list[_Pending], list[list[str] | None]] | None:
        deciding.clear()
        execution_id = record(tx)
        if not cache.holds(execution_id):
            return None
        deciding.append(execution_id)
        rows = tx.runtime.claim_rows(owner, now, ctx.settings.lease_seconds, 1, execution_id)
        if not rows:
            return None
        pending = [_compute(ctx, *loaded) for loaded in _load(ctx, tx, cache, owner, rows)]
        return pending, _commit_all(tx, owner, pending)

    try:
        decided = ctx.store.run(work)
    except Exception:
        if not deciding:
            raise  # the answer itself was refused (or could not be written)
        log.exception("deciding execution %s with its answer failed", deciding[0])
        cache.drop(deciding[0])
        ctx.store.run(record)
        decided = None
    if decided is None:
        ctx.waker.wake()
        return
    for item, outcome in zip(*decided, strict=True):
        _after_commit(ctx, cache, item, outcome)


def _decide_loaded(
    ctx: ServiceContext, owner: str, cache: decider.DeciderCache, loaded: list[tuple[Any, ...]]
) -> None:
    pending: list[_Pending] = []
    for row, live, fresh, stored in loaded:
        try:
            pending.append(_compute(ctx, row, live, fresh, stored))
        except Exception:  # a bug must not wedge the loop; the lease expires and it retries
            cache.drop(row["id"])
            log.exception("decision for execution %s failed", row["id"])
            ctx.store.run(lambda tx, i=row["id"]: tx.runtime.release(i, owner))
    if not pending:
        return
    try:
        outcomes = ctx.store.run(lambda tx: _commit_all(tx, owner, pending))
    except Exception:
        log.exception("batch commit failed; committing one by one")
        outcomes = []
        for item in pending:
            try:
                outcomes.append(ctx.store.run(lambda tx, i=item: _commit_all(tx, owner, [i])[0]))
            except Exception:
                log.exception("decision for execution %s failed", item.row["id"])
                outcomes.append(None)
    for item, outcome in zip(pending, outcomes, strict=True):
        _after_commit(ctx, cache, item, outcome)


def _load(
    ctx: ServiceContext,
    tx: Any,
    cache: decider.DeciderCache,
    owner: str,
    rows: list[dict[str, Any]],
) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for row in rows:
        if row["status"] != "RUNNING" or row["lease_owner"] != owner:
            continue
        execution_id = row["id"]
        live = cache.get(execution_id, row["event_count"])
        if live is not None and live.applied == row["applied_count"]:
            stored = []
            if row["resolution_count"] > live.applied:
                stored = tx.runtime.unapplied(execution_id, live.applied)
            out.append((row, live, None, stored))
            continue
        revision = _revision(ctx, tx, row["revision_id"])
        if row["event_count"] == 1:
            # A new execution: its only event is ExecutionStarted, stamped at its start.
            events = [
                {
                    "event_id": 1,
                    "previous_event_id": 0,
                    "type": "ExecutionStarted",
                    "timestamp": row["start_date"],
                }
            ]
        else:
            events = tx.executions.events(execution_id)
        stored = tx.runtime.resolutions(execution_id, 0) if row["resolution_count"] else []
        out.append((row, None, (revision, events), stored))
    return out


def _revision(ctx: ServiceContext, tx: Any, revision_id: int) -> dict[str, Any]:
    cache: OrderedDict[int, dict[str, Any]] = ctx.revision_cache
    revision = cache.get(revision_id)
    if revision is None:
        revision = tx.state_machines.revision(revision_id)
        cache[revision_id] = revision
        while len(cache) > 256:
            cache.popitem(last=False)
    return revision


def _compute(
    ctx: ServiceContext, row: dict[str, Any], live: Any, fresh: Any, stored: list[Any]
) -> _Pending:
    now = ctx.clock.now()
    if live is None:
        revision, events = fresh
        recorded = [
            HistoryEvent(e["event_id"], e["previous_event_id"], e["type"], e["timestamp"], None)
            for e in events
        ]
        live = decider.start(
            _definition(ctx, revision), _info(row, revision), recorded, ctx.clock.now
        )
    resolutions = _resolutions(stored)
    decision = decider.decide(
        live, row["event_count"], resolutions, row["request_seq"], ctx.clock.now
    )
    return _Pending(row, live, decision, now, handoffs=ctx.handoffs)


def _resolutions(stored: list[dict[str, Any]]) -> list[decider.Resolution]:
    """Stored resolution rows as the decider takes them."""
    return [
        decider.Resolution(r["request_seq"], codec.loads(r["value"]) if r["value"] else None)
        for r in stored
    ]


def _commit_all(tx: Any, owner: str, pending: list[_Pending]) -> list[list[str] | None]:
    """Write a batch of decisions: first every conditional update of an execution row (one
    round trip on PostgreSQL), then what each recorded decision implies, and the history
    events of all of them in one bulk insert at the end."""
    outcomes: dict[int, list[str] | None] = {}
    for item in pending:
        if item.followed:
            # An earlier attempt of this commit (retried, or a batch that failed) advanced
            # its interpreter past the database: give the lease back; it is rebuilt.
            item.stale = True
            tx.runtime.release(item.row["id"], owner)
            outcomes[id(item)] = None
    fresh = [item for item in pending if not item.followed]
    rows = [_row_values(item) for item in fresh]
    recorded = tx.runtime.commit_decisions(
        owner,
        [
            (item.row["id"], item.row["event_count"], values, item.decision.applied)
            for item, values in zip(fresh, rows, strict=True)
        ],
    )
    events: list[dict[str, Any]] = []
    ended: list[tuple[_Pending, dict[str, Any]]] = []
    for item, values, ok in zip(fresh, rows, recorded, strict=True):
        if not ok:
            outcomes[id(item)] = None
            continue
        # The answers dispatch gave here are applied by _follow, which says when some remain.
        keys = [k for k in _apply(tx, item, values, events) if k != tasks.DECIDER_KEY]
        outcomes[id(item)] = keys + _follow(tx, item, events)
        if item.decision.status != "RUNNING":
            ended.append((item, {**item.row, **_row_values(item)}))
    if ended:
        # Their state machines' status notifications, in this same commit (one read for all).
        wake = status_notifications.executions_ended(tx, [row for _item, row in ended])
        first = outcomes[id(ended[0][0])]
        if wake and first is not None:
            first.extend(wake)
    tx.executions.insert_events(events)
    return [outcomes[id(item)] for item in pending]


# At most this many follow-on decisions per execution and commit (a long chain of tasks that
# are all answered inside the transaction); what remains is decided on the next round.
FOLLOW_LIMIT = 32


def _follow(tx: Any, item: _Pending, events: list[dict[str, Any]]) -> list[str]:
    """Apply at once the answers a decision's own dispatch wrote in this transaction (an
    activity found and scheduled, an integration served here, a child execution started, a
    callback opened) and record what they lead to in the same commit: a round of the decider
    (lease, load, decide, commit) fewer per task. The row is locked since the first UPDATE, so
    the answers read back are exactly the ones after the applied ones. Returns more keys to
    notify after the commit (DECIDER_KEY when answers remain for the next round)."""
    row, live = item.row, item.live
    keys: list[str] = []
    step = item.decision
    for _ in range(FOLLOW_LIMIT):
        if step.status != "RUNNING" or not any(r.kind == "task" for r in step.requests):
            return keys
        stored = tx.runtime.unapplied(row["id"], live.applied)
        if not stored:
            return keys
        merged = item.decision
        count = row["event_count"] + len(merged.events)
        item.followed = True
        try:
            step = decider.decide(
                live,
                count,
                _resolutions(stored),
                merged.request_seq,
                live.clock.now,
            )
        except Exception:  # the answers stay stored; the next round rebuilds and retries
            log.exception("follow-on decision for execution %s failed", row["id"])
            item.stale = True
            return [*keys, tasks.DECIDER_KEY]
        item.decision = decider.Decision(
            events=merged.events + step.events,
            requests=merged.requests + step.requests,
            status=step.status,
            output=step.output,
            error=step.error,
            cause=step.cause,
            request_seq=step.request_seq,
            applied=step.applied,
        )
        values = _row_values(item)
        if not tx.runtime.follow_decision(row["id"], count, values, step.applied):
            raise RuntimeError(f"execution {row['id']} changed under its own decision")
        step_keys = _apply(
            tx, _Pending(row, live, step, item.now, handoffs=item.handoffs), values, events
        )
        keys += [k for k in step_keys if k != tasks.DECIDER_KEY]
    return [*keys, tasks.DECIDER_KEY]


def _row_values(item: _Pending) -> dict[str, Any]:
    """The execution row's new values after a decision."""
    row, decision = item.row, item.decision
    values: dict[str, Any] = {
        "event_count": row["event_count"] + len(decision.events),
        "request_seq": decision.request_seq,
    }
    if decision.status != "RUNNING":
        values.update(
            status=decision.status,
            stop_date=_decided_at(item),
            output=codec.dumps(decision.output) if decision.status == "SUCCEEDED" else None,
            error=decision.error,
            cause=decision.cause,
        )
    return values


def _decided_at(item: _Pending) -> float:
    events = item.decision.events
    return events[-1].timestamp if events else item.now


def _apply(
    tx: Any, item: _Pending, values: dict[str, Any], events: list[dict[str, Any]]
) -> list[str]:
    """What a recorded decision implies besides its row: its history events (added to
    ``events``), Map Runs, timers, tasks, children and the parent that waits; the keys of
    the task queues to wake."""
    row, decision = item.row, item.decision
    execution_id = row["id"]
    now = _decided_at(item)
    events.extend({"execution_id": execution_id, **event_row(e)} for e in decision.events)
    map_runs.project(tx, row, decision.events)
    if decision.status != "RUNNING":
        # Only an execution that ever asked for a timer can leave one behind, and only one
        # that ever ran a task can leave tasks or children (each check is a statement).
        issued = item.live.interpreter.scheduler.issued
        kinds = {request.kind for request in issued}
        if "timer" in kinds:
            tx.runtime.drop_timers(execution_id)
        if "task" in kinds:
            tx.tasks.close_for_execution(execution_id)
        if any(nested.is_start_execution(r.payload) for r in issued if r.kind == "task"):
            # Only states:startExecution tasks start children of this execution.
            for child in tx.executions.running_children(execution_id):
                executions.abort(tx, child, now)
        if "map_run" in kinds:  # a Distributed Map ran: end the Map Runs it left running
            tx.map_runs.aborted(execution_id, now)
        nested.execution_ended(tx, {**row, **values}, now)
        return []
    timers = [(r.seq, float(r.payload["due"])) for r in decision.requests if r.kind == "timer"]
    tx.runtime.add_timers(execution_id, timers)
    wake_keys: list[str] = []
    for request in decision.requests:
        if request.kind == "task":
            key = tasks.dispatch(tx, execution_id, request, now, item.handoffs)
            if key is not None:
                wake_keys.append(key)
    return wake_keys


def _after_commit(
    ctx: ServiceContext, cache: decider.DeciderCache, item: _Pending, wake_keys: list[str] | None
) -> None:
    row, decision = item.row, item.decision
    if wake_keys is None:
        cache.drop(row["id"])
        if item.stale:  # its lease was given back: decide it again from the database
            ctx.waker.wake()
        return
    for key in wake_keys:
        tasks.signals(ctx).notify(key)
    # Only an answer that no decision applied yet (DECIDER_KEY) or an ended child's parent
    # gives the decider work; a task handed to workers does not.
    if tasks.DECIDER_KEY in wake_keys or (
        decision.status != "RUNNING" and row.get("parent_id") is not None
    ):
        ctx.waker.wake()
    if decision.status == "RUNNING" and any(_has_deadline(r) for r in decision.requests):
        # Only a new timer or task deadline can move the timer loop's next wake-up earlier.
        ctx.timer_waker.wake()
    if decision.status != "RUNNING":
        cache.drop(row["id"])
        tasks.signals(ctx).notify(f"execution:{row['arn']}")
    elif item.stale:  # its interpreter ran past what was recorded
        cache.drop(row["id"])
    else:
        cache.put(row["id"], row["event_count"] + len(decision.events), item.live)


def _has_deadline(request: Any) -> bool:
    """Whether a request brings a due time: a timer, or a task with TimeoutSeconds or
    HeartbeatSeconds."""
    if request.kind == "timer":
        return True
    payload = request.payload if isinstance(request.payload, dict) else {}
    return request.kind == "task" and bool(payload.get("timeout") or payload.get("heartbeat"))


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
    resolutions = _resolutions(stored)
    live = replay.rebuild(
        _definition(ctx, revision), _info(row, revision), recorded, resolutions, ctx.clock.now()
    )
    return recorded, live


def redrive_request(ctx: ServiceContext, execution_id: int) -> int | None:
    """The request a failed execution waits on to be redriven, found by replaying it; None
    when it cannot be redriven (it did not fail in a state)."""
    _, live = rebuild(ctx, execution_id)
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
