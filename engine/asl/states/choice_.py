"""Choice: picks the next state by the first matching rule (ASL spec, "Choice State")."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from engine.asl import choice, paths
from engine.asl.errors import ErrorName, StatesError
from engine.asl.interpreter import Interpreter, Outcome, StateCall
from engine.asl.states.common import jsonata_assign


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Evaluate Choices in order; the first match's Next wins, else Default, else an error."""
    state = call.state
    if call.jsonata:
        return _run_jsonata(interp, call)
    value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
    target = None
    assign = None
    for rule in state.get("Choices", []):
        if choice.evaluate_rule(rule, value, call.ctx):
            target, assign = rule["Next"], rule.get("Assign")
            break
    if target is None:
        target, assign = state.get("Default"), state.get("Assign")
    if target is None:
        raise _no_match()
    assigned = paths.evaluate_assign(assign, value, call.ctx) if assign is not None else None
    output = paths.apply_output_path(state.get("OutputPath", "$"), value, call.ctx)
    return Outcome(output, target, assigned)
    yield


def _run_jsonata(interp: Interpreter, call: StateCall) -> Outcome:
    from engine.asl import jsonata

    state = call.state
    binding = call.states_binding()
    chosen: dict[str, Any] | None = None
    for index, rule in enumerate(state.get("Choices", [])):
        matched = jsonata.evaluate_field(
            rule["Condition"], f"Choices[{index}].Condition", binding, call.ctx
        )
        if not isinstance(matched, bool):
            raise StatesError(
                ErrorName.QUERY_EVALUATION_ERROR,
                f"An error occurred while executing the state '{call.name}' (entered at the "
                f"event id #{call.entered.id}). The Condition field evaluated to a non-boolean "
                f"value.",
            )
        if matched:
            chosen = rule
            break
    if chosen is None:
        if "Default" not in state:
            raise _no_match()
        chosen = {
            "Next": state["Default"],
            **{k: state[k] for k in ("Assign", "Output") if k in state},
        }
    assigned = jsonata_assign(call, chosen["Assign"]) if "Assign" in chosen else None
    output = call.input
    if "Output" in chosen:
        output = jsonata.evaluate_field(chosen["Output"], "Output", binding, call.ctx)
    return Outcome(output, chosen["Next"], assigned)


def _no_match() -> StatesError:
    return StatesError(ErrorName.NO_CHOICE_MATCHED, "No Matches!")
