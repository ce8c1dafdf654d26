"""Wait: delays the program by Seconds or until a Timestamp (ASL spec, "Wait State").

The wait is a durable timer: the fiber yields an ``Await("timer")`` whose due time is computed
from the WaitStateEntered event's timestamp, so replay computes the same due time.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from datetime import datetime
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName
from engine.asl.interpreter import Interpreter, Outcome, StateCall, next_of
from engine.asl.states.common import jsonata_field, state_error

# RFC 3339 / ISO-8601 extended offset date-time, as AWS requires for Timestamp fields.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
# AWS caps a Wait at the maximum execution duration of a Standard workflow: one year.
_MAX_WAIT_SECONDS = 31_536_000


def parse_timestamp(text: Any) -> float | None:
    """Epoch seconds of an ISO-8601 extended offset date-time, or None if it is not one."""
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    normal = text.replace("Z", "+00:00")
    if match.group(7):
        # Python accepts at most 6 fractional digits.
        frac = match.group(7)[:7]
        normal = normal.replace(match.group(7), frac)
    try:
        return datetime.fromisoformat(normal).timestamp()
    except ValueError:
        return None


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Sleep until the due time, then pass the input on."""
    state = call.state
    start = call.entered.timestamp
    if call.jsonata:
        if "Seconds" in state:
            seconds = jsonata_field(call, "Seconds")
            due = start + _seconds(call, seconds, "Seconds", jsonata=True)
        else:
            stamp = jsonata_field(call, "Timestamp")
            due = _timestamp(call, stamp, "Timestamp", jsonata=True)
    else:
        value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
        if "Seconds" in state:
            due = start + state["Seconds"]
        elif "SecondsPath" in state:
            path = state["SecondsPath"]
            seconds = paths.read_path(path, value, call.ctx)
            if isinstance(seconds, bool) or not isinstance(seconds, int):
                raise state_error(
                    call,
                    f"The SecondsPath parameter cannot be parsed as a long "
                    f"value: {path} == {_shown(seconds)}",
                )
            if seconds < 0:
                raise state_error(
                    call,
                    f"The SecondsPath parameter references a negative value: {path} == {seconds}",
                )
            due = start + min(seconds, _MAX_WAIT_SECONDS)
        elif "Timestamp" in state:
            due = _timestamp(call, state["Timestamp"], "Timestamp", jsonata=False)
        else:
            path = state["TimestampPath"]
            stamp = paths.read_path(path, value, call.ctx)
            parsed = parse_timestamp(stamp)
            if parsed is None:
                raise state_error(
                    call,
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                    f"offset date-time format string: {path} == {_shown(stamp)}",
                )
            due = parsed
    if due > start:
        yield interp.wait_until(due)
    if call.jsonata:
        return interp.finish(call, call.input, next_of(state))
    value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
    return Outcome(
        paths.apply_output_path(state.get("OutputPath", "$"), value, call.ctx),
        next_of(state),
        paths.evaluate_assign(state["Assign"], value, call.ctx) if "Assign" in state else None,
    )


def _shown(value: Any) -> str:
    from engine.asl.jsonvalue import encode

    return value if isinstance(value, str) else encode(value)


def _seconds(call: StateCall, seconds: Any, field: str, jsonata: bool) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        if jsonata:
            raise state_error(
                call,
                f"The {field} field must evaluate to a non-negative integer: {seconds}",
                ErrorName.QUERY_EVALUATION_ERROR,
            )
        raise state_error(call, f"Invalid {field} value: {seconds}")
    return float(min(seconds, _MAX_WAIT_SECONDS))


def _timestamp(call: StateCall, stamp: Any, field: str, jsonata: bool) -> float:
    due = parse_timestamp(stamp)
    if due is None:
        message = (
            f"The {field.removesuffix('Path')} field cannot be parsed as an ISO-8601 extended "
            f"offset date-time format string: {stamp}"
        )
        error = ErrorName.QUERY_EVALUATION_ERROR if jsonata else ErrorName.RUNTIME
        failure = state_error(call, message, error)
        failure.location = field  # type: ignore[attr-defined]
        raise failure
    return due
