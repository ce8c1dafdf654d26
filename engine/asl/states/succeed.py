"""Succeed: ends the program successfully (ASL spec, "Succeed State")."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from engine.asl import paths
from engine.asl.interpreter import Interpreter, Outcome, StateCall


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Succeed passes its (InputPath/OutputPath filtered) input on and ends the program."""
    state = call.state
    if call.jsonata:
        return interp.finish(call, call.input, None)
    value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
    value = paths.apply_output_path(state.get("OutputPath", "$"), value, call.ctx)
    return Outcome(value, None)
    yield
