"""StartExecution caches the state machine it starts briefly; on this node an update or a
delete is seen by the very next start. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import ServiceError
from engine.services import executions, state_machines
from workers.engine import EngineLoops

ROLE = "arn:aws:iam::123456789012:role/stepwell"


def _returning(value: str) -> str:
    return json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": True}}}
    )


def _output(ctx: Any, machine: str, name: str) -> Any:
    arn = executions.start_execution(ctx, {"stateMachineArn": machine, "name": name})[
        "executionArn"
    ]
    EngineLoops(ctx).run_until_idle()
    return json.loads(executions.describe_execution(ctx, {"executionArn": arn})["output"])


def test_update_and_delete_are_seen_by_the_next_start(ctx: Any) -> None:
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "cached", "definition": _returning("first"), "roleArn": ROLE}
    )["stateMachineArn"]
    assert _output(ctx, machine, "a") == "first"
    state_machines.update_state_machine(
        ctx, {"stateMachineArn": machine, "definition": _returning("second")}
    )
    assert _output(ctx, machine, "b") == "second"
    state_machines.delete_state_machine(ctx, {"stateMachineArn": machine})
    with pytest.raises(ServiceError) as err:
        executions.start_execution(ctx, {"stateMachineArn": machine, "name": "c"})
    assert err.value.code == "StateMachineDoesNotExist"
