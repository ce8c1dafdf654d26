"""The context object's timestamps ($$.Execution.StartTime, $$.State.EnteredTime) are
formatted without datetime on the hot path; they must match datetime's rounding exactly."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from engine.asl.interpreter import iso_timestamp


def reference(epoch: float) -> str:
    stamp = datetime.fromtimestamp(epoch, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@given(st.floats(min_value=-1e9, max_value=4e9, allow_nan=False))
def test_matches_datetime(epoch: float) -> None:
    assert iso_timestamp(epoch) == reference(epoch)


def test_rounding_at_the_second() -> None:
    assert iso_timestamp(1707313922.123) == "2024-02-07T13:52:02.123Z"
    # 999999.6 microseconds round up into the next second, as datetime rounds them.
    assert iso_timestamp(1.9999996) == "1970-01-01T00:00:02.000Z"
    assert iso_timestamp(-0.0000001) == "1970-01-01T00:00:00.000Z"
