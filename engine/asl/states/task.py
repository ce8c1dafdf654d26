"""Task: hands work to a resource outside the interpreter (ASL spec, "Task State").

The interpreter only frames the call: it evaluates the parameters, records the scheduling
events, yields ``Await("task")`` and turns the resolution into success or a States error. Who
runs the task (an activity worker, a function worker, a service integration) is decided
outside ``engine.asl``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName, StatesError
from engine.asl.interpreter import Interpreter, Outcome, StateCall, next_of
from engine.asl.retry import guarded
from engine.asl.states.common import jsonata_field, state_error

DEFAULT_TIMEOUT_SECONDS = 99_999_999


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Schedule the task, await its outcome; Retry and Catch apply to its failure."""
    return (yield from guarded(interp, call, lambda: _attempt(interp, call)))


def _attempt(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    state = call.state
    if call.jsonata:
        parameters = jsonata_field(call, "Arguments") if "Arguments" in state else None
        timeout = jsonata_field(call, "TimeoutSeconds") if "TimeoutSeconds" in state else None
        heartbeat = jsonata_field(call, "HeartbeatSeconds") if "HeartbeatSeconds" in state else None
    else:
        value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
        parameters = value
        if "Parameters" in state:
            parameters = paths.evaluate_payload(state["Parameters"], value, call.ctx)
        timeout = _seconds(call, "TimeoutSeconds", value)
        heartbeat = _seconds(call, "HeartbeatSeconds", value)
    resolution = yield interp.await_task(
        call,
        {
            "resource": state["Resource"],
            "parameters": parameters,
            "timeout": timeout,
            "heartbeat": heartbeat,
        },
    )
    if resolution.get("status") != "succeeded":
        raise StatesError(
            resolution.get("error") or ErrorName.TASK_FAILED, resolution.get("cause") or ""
        )
    return interp.finish(call, resolution.get("output"), next_of(state))


def _seconds(call: StateCall, field: str, value: Any) -> int | None:
    state = call.state
    if field in state:
        return int(state[field])
    path_field = f"{field}Path"
    if path_field in state:
        seconds = paths.read_path(state[path_field], value, call.ctx)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise state_error(
                call,
                f'The {path_field} field refers to value "{seconds}" '
                f"which is not a positive integer.",
            )
        return seconds
    return None
