"""Run the recorded AWS cases (../shared/conformance) in-process and compare at AWS's three
levels: status + output/error/cause, the sequence of event types, every event's details."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ServiceError
from engine.services import executions, state_machines
from engine.services.context import ServiceContext
from tests.support import (
    activity_workers,
    child_machines,
    lambdas,
    queue_consumers,
    topic_subscribers,
)
from workers.engine import EngineLoops

CASES_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"
ROLE_ARN = "arn:aws:iam::123456789012:role/conformance"
ANY = "$ANY"


def load_cases(predicate: Any = None) -> list[dict[str, Any]]:
    """Every case file, optionally filtered."""
    if not CASES_DIR.is_dir():
        return []
    cases = [json.loads(p.read_text()) for p in sorted(CASES_DIR.glob("*.json"))]
    return [c for c in cases if predicate is None or predicate(c)]


def normalise(value: Any) -> Any:
    """JSON text holding an object or array is parsed, recursively (as the recorder did)."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return normalise(json.loads(value))
        except ValueError:
            return value
    return value


def difference(
    expected: Any, actual: Any, path: str = "$", wild: tuple[str, ...] = ()
) -> str | None:
    """None when ``actual`` matches ``expected`` ("$ANY", {"$match": regex}), else where not."""
    if expected == ANY:
        return None
    if isinstance(expected, dict) and set(expected) == {"$match"}:
        texts = (
            [actual]
            if isinstance(actual, str)
            else [json.dumps(actual), json.dumps(actual, separators=(",", ":"))]
        )
        if any(re.fullmatch(expected["$match"], t, re.S) for t in texts):
            return None
        return f"{path}: {actual!r} does not match {expected['$match']}"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected object, got {actual!r}"[:300]
        if set(expected) != set(actual):
            return f"{path}: keys {sorted(expected)} != {sorted(actual)}"
        for key in expected:
            if key in wild:
                continue
            found = difference(expected[key], actual[key], f"{path}.{key}", wild)
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path}: expected {expected!r}, got {actual!r}"[:300]
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = difference(e, a, f"{path}[{index}]", wild)
            if found:
                return found
        return None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return None if expected is actual else f"{path}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return None if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"
    return None if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"[:300]


# The events that close the sublist of a Parallel's branch events in the recorder's
# normalisation (below).
_PARALLEL_ENDS = frozenset(
    {"ParallelStateSucceeded", "ParallelStateAborted", "ParallelStateExited", "ParallelStateFailed"}
)


def recorded_parallel_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` as the recorder normalised the histories of Parallel states, which AWS
    interleaves in no fixed order (LocalStack's SfnNoneRecursiveParallelTransformer).

    The events after a ParallelStateStarted get id [0] and previousEventId 0; at the next
    ParallelStateSucceeded/Aborted/Exited/Failed they are sorted by their JSON text (keys
    sorted). The recorder kept the start of the last sublist after it closed, so the end event
    that follows another one (ParallelStateFailed or ParallelStateSucceeded before
    ParallelStateExited) is dropped, and a nested Parallel loses more: the recorded cases show
    both (id gaps before ParallelStateExited). Cases recorded so carry ids [0].
    """
    events = [dict(e) for e in events]
    start: int | None = None
    sublist: list[dict[str, Any]] = []
    inside = False
    index = 0
    # The recorder replaced slices of the list it walked: the walk goes on by position.
    while index < len(events):
        event = events[index]
        kind = event.get("type")
        if kind in _PARALLEL_ENDS:
            events[start:index] = sorted(
                sublist, key=lambda e: json.dumps(e, sort_keys=True, default=str)
            )
            inside = False
        elif kind == "ParallelStateStarted":
            inside, sublist, start = True, [], index + 1
        elif inside:
            event["id"], event["previousEventId"] = [0], 0
            sublist.append(event)
        index += 1
    return events


@dataclass
class Outcome:
    """How one case went, level by level."""

    status: bool = False
    types: bool = False
    details: bool = False
    diff: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """AWS's pass rule: status and event types both match."""
        return self.status and self.types


def run_case(ctx: ServiceContext, loops: EngineLoops, case: dict[str, Any]) -> Outcome:
    """Create, run (moving the clock through Wait states) and compare one case."""
    out = Outcome()
    expect = normalise(case["expect"])
    wild = tuple(case.get("wildcard_keys") or ())
    name = f"conf-{uuid.uuid4().hex[:16]}"
    try:
        created = state_machines.create_state_machine(
            ctx,
            "us-east-1",
            {"name": name, "definition": json.dumps(case["definition"]), "roleArn": ROLE_ARN},
        )
    except ServiceError as err:
        if case["kind"] != "creation_failure":
            out.diff["status"] = f"creation failed: {err.code}: {err.message}"
            return out
        want = expect["creation_error"]
        out.status = err.code == want["code"]
        out.types = True
        out.details = out.status and err.message == case["expect"]["creation_error"]["message"]
        if not out.details:
            out.diff["details"] = f"got {err.code}: {err.message}"
        return out
    if case["kind"] == "creation_failure":
        out.diff["status"] = "expected a creation failure"
        return out
    functions = case.get("lambda_functions") or {}
    lambdas.announce(ctx, functions)
    # SQS queues are created under the context's account: the cases' queue URLs name account
    # 111111111111, so contexts running them use that account (tests/conformance/test_cases.py).
    consumer = queue_consumers.QueueConsumer(
        ctx,
        queue_consumers.provision(ctx, case),
        queue_consumers.recorded_answers(expect.get("events") or []),
    )
    # Activities (their workers) and the child state machines of states:startExecution tasks,
    # as the recorded tests set them up (tests/support/activity_workers.py, child_machines.py).
    worker = activity_workers.ActivityWorker(
        ctx,
        activity_workers.provision(ctx, case),
        activity_workers.recorded_answers(expect.get("events") or []),
    )
    children = child_machines.ChildMachines(
        ctx, child_machines.plan(ctx, case, expect.get("events") or [])
    )
    children.provision()
    # SNS topics, and the queue consumers of .waitForTaskToken publishes (topic_subscribers).
    subscribers = topic_subscribers.subscriber(ctx, case)
    arn = executions.start_execution(
        ctx,
        {
            "stateMachineArn": created["stateMachineArn"],
            "input": case.get("input") or "{}",
            "name": name,
        },
    )["executionArn"]
    worker.execution_arn = arn
    described = drive(
        ctx, loops, arn, functions, consumer=consumer, others=(worker, children, subscribers)
    )
    diffs = []
    if described["status"] != expect["status"]:
        diffs.append(
            f"status {described['status']} ({described.get('error')}: "
            f"{str(described.get('cause'))[:300]}) != {expect['status']}"
        )
    elif expect["status"] == "SUCCEEDED":
        found = difference(
            expect.get("output"), normalise(described.get("output")), "$.output", wild
        )
        if found:
            diffs.append(found)
    else:
        for key in ("error", "cause"):
            if key in expect:
                found = difference(expect[key], normalise(described.get(key)), f"$.{key}", wild)
                if found:
                    diffs.append(found)
    out.status = not diffs
    if diffs:
        out.diff["status"] = "; ".join(diffs)
    expected_events = expect.get("events")
    if expected_events is None:
        out.types, out.details = True, out.status
        return out
    history = executions.get_execution_history(ctx, {"executionArn": arn, "maxResults": 1000})
    actual = [normalise(e) for e in history["events"]]
    if any(isinstance(e.get("id"), list) for e in expected_events):
        # The recording holds the events of its Parallel states in the recorder's order.
        actual = recorded_parallel_order(actual)
    out.types = [e["type"] for e in expected_events] == [e["type"] for e in actual]
    if not out.types:
        out.diff["types"] = (
            f"expected {[e['type'] for e in expected_events]}, got {[e['type'] for e in actual]}"
        )
    found = difference(expected_events, actual, "$.events", wild)
    out.details = found is None
    if found:
        out.diff["details"] = found
    return out


def drive(
    ctx: ServiceContext,
    loops: EngineLoops,
    arn: str,
    functions: dict[str, str | None] | None = None,
    max_steps: int = 200,
    consumer: queue_consumers.QueueConsumer | None = None,
    others: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """Run an execution to its end, serving its functions, queue consumers and ``others``
    (doubles with a ``serve()`` that returns how much it did), moving the injected clock to
    each next timer or task deadline."""
    from engine.services import runtime, tasks

    for _ in range(max_steps):
        loops.run_until_idle()
        if functions and lambdas.serve(ctx, functions):
            continue
        if consumer is not None and consumer.urls and consumer.serve():
            continue
        if any([double.serve() for double in others]):
            continue
        described = executions.describe_execution(ctx, {"executionArn": arn})
        if described["status"] != "RUNNING":
            return described
        dues = [d for d in (runtime.next_timer_due(ctx), tasks.next_task_deadline(ctx)) if d]
        if not dues:
            return described
        ctx.clock.advance(max(0.0, min(dues) - ctx.clock.now()) + 0.001)
    return executions.describe_execution(ctx, {"executionArn": arn})
