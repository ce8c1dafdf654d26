"""The recorded AWS executions that need nothing but the interpreter, and every definition
error, run in-process; see tests/support/conformance.py for the comparison rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.services.context import ServiceContext
from tests.conftest import make_context
from tests.support.conformance import load_cases, run_case
from workers.engine import EngineLoops

CASES = load_cases(lambda c: not c.get("needs") or c["kind"] == "creation_failure")


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceContext, EngineLoops]]:
    """One SQLite engine for all cases (each case uses its own state machine)."""
    ctx = make_context(f"sqlite:///{tmp_path_factory.mktemp('conf') / 'conformance.db'}")
    yield ctx, EngineLoops(ctx)
    ctx.store.dispose()


@pytest.mark.parametrize("case", CASES, ids=[c["id"][:150] for c in CASES])
def test_case(engine: tuple[ServiceContext, EngineLoops], case: dict) -> None:
    ctx, loops = engine
    outcome = run_case(ctx, loops, case)
    assert outcome.passed, outcome.diff
