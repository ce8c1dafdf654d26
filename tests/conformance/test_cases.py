"""The recorded AWS executions that need nothing but the interpreter, and every definition
error, run in-process; see tests/support/conformance.py for the comparison rules.

Cases listed in known_failures.txt are expected to fail (with the reason noted there); every
other case must pass on status and event types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services.context import ServiceContext
from tests.conftest import make_context
from tests.support.conformance import load_cases, run_case
from workers.engine import EngineLoops

# Cases that need nothing but the interpreter, or only Lambda functions (played by the test
# doubles in tests/support/lambdas.py, per shared/conformance/LAMBDAS.md) and SQS queues (their
# consumers played by tests/support/queue_consumers.py), activities (their workers played by
# tests/support/activity_workers.py) and states:startExecution (the child state machines played
# by tests/support/child_machines.py), SNS topics (tests/support/topic_subscribers.py), and every
# definition error.
SUPPORTED_NEEDS = {"lambda", "distributed-map", "sqs", "sns", "activity", "states/startExecution"}
# The account the recorded ARNs and queue URLs use (queues resolve only under the own account).
CASE_ACCOUNT = "111111111111"
CASES = load_cases(
    lambda c: set(c.get("needs") or ()) <= SUPPORTED_NEEDS or c["kind"] == "creation_failure"
)
KNOWN = {
    line.split("#")[0].strip()
    for line in (Path(__file__).parent / "known_failures.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceContext, EngineLoops]]:
    """One SQLite engine for all cases (each case uses its own state machine)."""
    ctx = make_context(f"sqlite:///{tmp_path_factory.mktemp('conf') / 'conformance.db'}")
    ctx.settings.account_id = CASE_ACCOUNT
    yield ctx, EngineLoops(ctx)
    ctx.store.dispose()


def test_cases_are_present() -> None:
    assert len(CASES) >= 600, "the shared conformance cases are missing"


@pytest.mark.parametrize("case", CASES, ids=[c["id"][:150] for c in CASES])
def test_case(engine: tuple[ServiceContext, EngineLoops], case: dict) -> None:
    ctx, loops = engine
    if case["id"] in KNOWN:
        pytest.xfail("known failure, see known_failures.txt")
    outcome = run_case(ctx, loops, case)
    assert outcome.passed, outcome.diff
