"""AWS's limits and pathological inputs end in States errors, quickly, never in a crash."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from engine.errors import ServiceError
from engine.services import executions, state_machines
from workers.engine import EngineLoops

ROLE = "arn:aws:iam::123456789012:role/x"


def run(
    ctx: Any, definition: dict[str, Any], payload: Any = None, raw: str | None = None
) -> dict[str, Any]:
    sm = state_machines.create_state_machine(
        ctx,
        "us-east-1",
        {"name": f"m{time.monotonic_ns()}", "definition": json.dumps(definition), "roleArn": ROLE},
    )["stateMachineArn"]
    arn = executions.start_execution(
        ctx,
        {
            "stateMachineArn": sm,
            "input": raw if raw is not None else json.dumps({} if payload is None else payload),
        },
    )["executionArn"]
    EngineLoops(ctx).run_until_idle()
    return executions.describe_execution(ctx, {"executionArn": arn})


@pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
def test_history_limit_fails_an_endless_loop(ctx: Any) -> None:
    loop = {
        "StartAt": "Spin",
        "States": {
            "Spin": {"Type": "Pass", "Next": "Again"},
            "Again": {
                "Type": "Choice",
                "Default": "Spin",
                "Choices": [{"Variable": "$.never", "IsPresent": True, "Next": "Done"}],
            },
            "Done": {"Type": "Succeed"},
        },
    }
    described = run(ctx, loop)
    assert described["status"] == "FAILED" and described["error"] == "States.Runtime"
    history = executions.get_execution_history(
        ctx, {"executionArn": described["executionArn"], "maxResults": 1, "reverseOrder": True}
    )["events"]
    assert history[0]["id"] == 25_000 and history[0]["type"] == "ExecutionFailed"


def test_state_output_over_256_kib(ctx: Any) -> None:
    big = {
        "StartAt": "Grow",
        "States": {
            "Grow": {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": True}
        },
    }
    described = run(ctx, big, {"s": "x" * 140_000})
    assert described["status"] == "FAILED" and described["error"] == "States.DataLimitExceeded"


def test_pathological_inputs_are_bounded(ctx: Any) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ServiceError):  # nesting beyond what a JSON parser accepts
        run(ctx, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, raw=deep)
    wide = {"k": [{"v": i, "w": [i, {"z": "y" * 20}]} for i in range(4000)]}
    started = time.monotonic()
    scan = run(
        ctx,
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Parameters": {"all.$": "$..*"}, "End": True}},
        },
        wide,
    )
    assert scan["status"] in ("SUCCEEDED", "FAILED")
    matches = run(
        ctx,
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Variable": "$.s",
                            "StringMatches": "*a*a*a*a*a*a*a*a*a*a*a*a*b",
                            "Next": "Y",
                        }
                    ],
                    "Default": "Y",
                },
                "Y": {"Type": "Succeed"},
            },
        },
        {"s": "a" * 5000},
    )
    assert matches["status"] == "SUCCEEDED"
    recursion = run(
        ctx,
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Pass",
                    "Output": "{% ($f := function($n) { $f($n + 1) }; $f(0)) %}",
                    "End": True,
                }
            },
        },
    )
    assert recursion["status"] == "FAILED"
    assert recursion["error"] == "States.QueryEvaluationError"
    assert time.monotonic() - started < 10
