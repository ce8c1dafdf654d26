"""The recorded SNS cases (needs: ["sns"]) with the request ids wildcarded.

Ten of them are known failures in test_cases.py only because the recording replaced the
request ids of the SDK metadata with placeholders (``"x-amzn-RequestId": "x-amzn-RequestId"``,
``"RequestId": "RequestId"``) where AWS returns fresh UUIDs. With those two keys wildcarded
every SNS case must match at all three levels: status and output, event types, event details.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.services.context import ServiceContext
from tests.conftest import make_context
from tests.support.conformance import load_cases, run_case
from workers.engine import EngineLoops

CASES = load_cases(lambda c: "sns" in (c.get("needs") or ()))
PLACEHOLDERS = ["x-amzn-RequestId", "RequestId"]


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceContext, EngineLoops]]:
    """One SQLite engine under the recorded cases' account."""
    ctx = make_context(f"sqlite:///{tmp_path_factory.mktemp('sns') / 'conformance.db'}")
    ctx.settings.account_id = "111111111111"
    yield ctx, EngineLoops(ctx)
    ctx.store.dispose()


def test_sns_cases_are_present() -> None:
    assert len(CASES) == 12


@pytest.mark.parametrize("case", CASES, ids=[c["id"][:150] for c in CASES])
def test_sns_case(engine: tuple[ServiceContext, EngineLoops], case: dict) -> None:
    ctx, loops = engine
    wild = [*(case.get("wildcard_keys") or []), *PLACEHOLDERS]
    outcome = run_case(ctx, loops, {**case, "wildcard_keys": wild})
    assert outcome.passed and outcome.details, outcome.diff
