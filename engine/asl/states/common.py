"""Helpers the state handlers share: AWS's error cause format and JSONata field evaluation."""

from __future__ import annotations

from typing import Any

from engine.asl.errors import ErrorName, StatesError
from engine.asl.interpreter import StateCall


def state_error(call: StateCall, message: str, error: str = ErrorName.RUNTIME) -> StatesError:
    """An error whose cause carries AWS's prefix naming the state and its entered event."""
    return StatesError(
        error,
        f"An error occurred while executing the state '{call.name}' "
        f"(entered at the event id #{call.entered.id}). {message}",
    )


def jsonata_field(call: StateCall, field: str, **binding: Any) -> Any:
    """Evaluate a JSONata-mode field of the state (its raw value when it holds no expression)."""
    from engine.asl import jsonata

    return jsonata.evaluate_field(
        call.state[field], field, call.states_binding(**binding), call.ctx
    )


def jsonata_assign(call: StateCall, template: dict[str, Any], **binding: Any) -> dict[str, Any]:
    """Evaluate a JSONata-mode Assign block."""
    from engine.asl import jsonata

    return jsonata.evaluate_assign(template, call.states_binding(**binding), call.ctx)
