"""Determinism: replaying an execution's stored resolutions rebuilds its stored history
exactly (types, ids, links, details), for recorded cases with waits, maps, parallels, retries
and tasks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine import codec
from engine.services import executions, runtime
from engine.services.context import ServiceContext
from tests.conftest import make_context
from tests.support.conformance import load_cases, run_case
from workers.engine import EngineLoops

INTERESTING = ("Wait", "Map", "Parallel", "Retry", "Task", "Catch")
CASES = [
    c
    for c in load_cases(lambda c: c["kind"] == "execution" and set(c["needs"]) <= {"lambda"})
    if any(f'"{word}"' in codec.dumps(c["definition"]) for word in INTERESTING)
]


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceContext, EngineLoops]]:
    ctx = make_context(f"sqlite:///{tmp_path_factory.mktemp('replay') / 'replay.db'}")
    yield ctx, EngineLoops(ctx)
    ctx.store.dispose()


def test_there_are_cases_to_replay() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c["id"][:120] for c in CASES])
def test_replay_rebuilds_the_stored_history(
    engine: tuple[ServiceContext, EngineLoops], case: dict
) -> None:
    ctx, loops = engine
    run_case(ctx, loops, case)
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:{_last_machine(ctx)}"
    listed = ctx.store.run(lambda tx: tx.executions.page(machine, None, None, 1))
    execution_id = listed[0]["id"]
    stored, live = runtime.rebuild(ctx, execution_id)
    rebuilt = live.interpreter.events
    assert [e.type for e in rebuilt] == [e.type for e in stored]
    assert [(e.id, e.previous_event_id) for e in rebuilt] == [
        (e.id, e.previous_event_id) for e in stored
    ]
    assert [codec.loads(codec.dumps(e.details)) for e in rebuilt] == [e.details for e in stored]
    status = executions.describe_execution(ctx, {"executionArn": listed[0]["arn"]})["status"]
    assert live.interpreter.status == status or status == "ABORTED"


def _last_machine(ctx: ServiceContext) -> str:
    rows = ctx.store.run(lambda tx: tx.state_machines.page(0, 100_000))
    return rows[-1]["name"]
