"""Fail: ends the program with an error and a cause (ASL spec, "Fail State")."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName, StatesError
from engine.asl.interpreter import Interpreter, Outcome, StateCall
from engine.asl.jsonvalue import encode
from engine.asl.states.common import jsonata_field, state_error


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Raise the state's Error/Cause (or ErrorPath/CausePath) as the program's failure."""
    state = call.state
    error: Any = None
    cause: Any = None
    if call.jsonata:
        if "Error" in state:
            error = jsonata_field(call, "Error")
        if "Cause" in state:
            cause = jsonata_field(call, "Cause")
    else:
        error = state.get("Error")
        cause = state.get("Cause")
        if "ErrorPath" in state:
            error = _path_text(state["ErrorPath"], "ErrorPath", call)
        if "CausePath" in state:
            cause = _path_text(state["CausePath"], "CausePath", call)
    failure = StatesError(error if error is not None else "", cause if cause is not None else "")
    failure.omit_error = error is None
    failure.omit_cause = cause is None
    raise failure
    yield


def _path_text(path: str, field: str, call: StateCall) -> Any:
    from engine.asl import intrinsics

    if intrinsics.is_intrinsic(path):
        return intrinsics.evaluate_intrinsic(path, call.input, call.ctx)
    try:
        return paths.read_path(path, call.input, call.ctx)
    except StatesError as err:
        if err.error != ErrorName.RUNTIME:
            raise
        raise state_error(
            call,
            f"The JSONPath '{path}' specified for the field '{field}' could not be found in "
            f"the input '{encode(call.input)}'",
        ) from None
