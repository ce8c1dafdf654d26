"""Pass: passes its input (or a fixed Result) to its output (ASL spec, "Pass State")."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from engine.asl.interpreter import Interpreter, Outcome, StateCall, next_of


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Pass produces Result (JSONPath) or its input, then applies the output data flow."""
    state = call.state
    if call.jsonata:
        return interp.finish(call, call.input, next_of(state))
    if "Result" in state:
        # InputPath and Parameters are still evaluated so that their failures surface.
        interp.effective_input(call)
        result = state["Result"]
    else:
        result = interp.effective_input(call)
    return interp.finish(call, result, next_of(state))
    yield  # a generator, like every handler
