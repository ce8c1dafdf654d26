"""RedriveExecution: a failed execution goes on from the failed state, and a Map reruns only
the iterations that failed. Also the machine-wide TimeoutSeconds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import ServiceError
from engine.services import activities, executions, state_machines, tasks
from workers.engine import EngineLoops

ROLE = "arn:aws:iam::123456789012:role/x"


def create(ctx: Any, name: str, definition: dict[str, Any]) -> str:
    return state_machines.create_state_machine(
        ctx, "us-east-1", {"name": name, "definition": json.dumps(definition), "roleArn": ROLE}
    )["stateMachineArn"]


def history(ctx: Any, arn: str) -> list[str]:
    events = executions.get_execution_history(ctx, {"executionArn": arn, "maxResults": 1000})
    return [e["type"] for e in events["events"]]


def test_redrive_reruns_only_failed_iterations(ctx: Any) -> None:
    activity = activities.create_activity(ctx, "us-east-1", {"name": "work"})["activityArn"]
    sm = create(
        ctx,
        "redrive",
        {
            "StartAt": "Prep",
            "States": {
                "Prep": {"Type": "Pass", "Next": "Each"},
                "Each": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "Do",
                        "States": {"Do": {"Type": "Task", "Resource": activity, "End": True}},
                    },
                    "End": True,
                },
            },
        },
    )
    arn = executions.start_execution(ctx, {"stateMachineArn": sm, "input": "[1, 2, 3]"})[
        "executionArn"
    ]
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    claimed = [tasks.claim_activity_task(ctx, activity, "w") for _ in range(3)]
    by_item = {json.loads(t["input"]): t["taskToken"] for t in claimed if t is not None}
    assert sorted(by_item) == [1, 2, 3]
    for item in (1, 3):
        tasks.send_task_success(ctx, {"taskToken": by_item[item], "output": str(item * 10)})
    loops.run_until_idle()
    tasks.send_task_failure(ctx, {"taskToken": by_item[2], "error": "Flaky"})
    loops.run_until_idle()
    assert executions.describe_execution(ctx, {"executionArn": arn})["status"] == "FAILED"
    executions.redrive_execution(ctx, {"executionArn": arn})
    loops.run_until_idle()
    retry = tasks.claim_activity_task(ctx, activity, "w")
    assert retry is not None and json.loads(retry["input"]) == 2  # only the failed iteration
    assert tasks.claim_activity_task(ctx, activity, "w") is None
    tasks.send_task_success(ctx, {"taskToken": retry["taskToken"], "output": "20"})
    loops.run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == [10, 20, 30]
    assert described["redriveCount"] == 1
    assert described["startDate"] <= described["redriveDate"] <= described["stopDate"]
    listed = executions.list_executions(ctx, {"stateMachineArn": described["stateMachineArn"]})
    assert [(e["redriveCount"], e["redriveDate"]) for e in listed["executions"]] == [
        (1, described["redriveDate"])
    ]
    types = history(ctx, arn)
    assert types.count("ExecutionFailed") == 1 and types.count("ExecutionRedriven") == 1
    assert types[-1] == "ExecutionSucceeded" and types.count("PassStateEntered") == 1
    with pytest.raises(ServiceError) as err:
        executions.redrive_execution(ctx, {"executionArn": arn})
    assert err.value.code == "ExecutionNotRedrivable"


def test_machine_timeout(ctx: Any) -> None:
    sm = create(
        ctx,
        "slow",
        {
            "TimeoutSeconds": 5,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
        },
    )
    arn = executions.start_execution(ctx, {"stateMachineArn": sm})["executionArn"]
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    ctx.clock.advance(6)
    loops.run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "TIMED_OUT" and described["error"] == "States.Timeout"
    assert history(ctx, arn)[-2:] == ["WaitStateAborted", "ExecutionTimedOut"]


def describe(ctx: Any, arn: str) -> dict[str, Any]:
    return executions.describe_execution(ctx, {"executionArn": arn})


def start(ctx: Any, sm: str, payload: Any = None, name: str | None = None) -> str:
    request: dict[str, Any] = {"stateMachineArn": sm, "input": json.dumps(payload or {})}
    if name is not None:
        request["name"] = name
    return str(executions.start_execution(ctx, request)["executionArn"])


def redrive(ctx: Any, arn: str) -> None:
    executions.redrive_execution(ctx, {"executionArn": arn})


def test_redrive_after_a_failed_branch_reruns_the_branch_it_cancelled(ctx: Any) -> None:
    activity = activities.create_activity(ctx, "us-east-1", {"name": "work"})["activityArn"]
    sm = create(
        ctx,
        "failing",
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "Wait",
                            "States": {"Wait": {"Type": "Task", "Resource": activity, "End": True}},
                        },
                        {
                            "StartAt": "Boom",
                            "States": {"Boom": {"Type": "Task", "Resource": activity, "End": True}},
                        },
                    ],
                    "End": True,
                }
            },
        },
    )
    arn = start(ctx, sm)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    claimed = [tasks.claim_activity_task(ctx, activity, "w") for _ in range(2)]
    assert all(claimed)
    tasks.send_task_failure(ctx, {"taskToken": claimed[1]["taskToken"], "error": "Boom"})
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "FAILED"
    redrive(ctx, arn)
    loops.run_until_idle()
    # Both branches run again: the first was cancelled, it had not succeeded.
    again = [tasks.claim_activity_task(ctx, activity, "w") for _ in range(2)]
    assert all(again)
    for task in again:
        tasks.send_task_success(ctx, {"taskToken": task["taskToken"], "output": "1"})
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == [1, 1]
