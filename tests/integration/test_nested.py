"""Nested executions through states:startExecution, in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from engine.services import executions, state_machines
from workers.engine import EngineLoops

ROLE = "arn:aws:iam::123456789012:role/test"


def create(ctx: Any, name: str, definition: dict[str, Any]) -> str:
    return state_machines.create_state_machine(
        ctx, "us-east-1", {"name": name, "definition": json.dumps(definition), "roleArn": ROLE}
    )["stateMachineArn"]


def run(ctx: Any, sm: str, payload: Any, name: str = "parent") -> tuple[dict[str, Any], list[str]]:
    arn = executions.start_execution(
        ctx, {"stateMachineArn": sm, "input": json.dumps(payload), "name": name}
    )["executionArn"]
    EngineLoops(ctx).run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": arn})
    history = executions.get_execution_history(ctx, {"executionArn": arn, "maxResults": 1000})
    return described, [e["type"] for e in history["events"]]


def parent(resource: str) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": resource,
                "End": True,
                "Parameters": {
                    "StateMachineArn.$": "$.child",
                    "Input": {"n.$": "$.n"},
                    "Name.$": "$.name",
                },
            }
        },
    }


def test_sync2_returns_the_child_output_as_json(ctx: Any) -> None:
    child = create(
        ctx,
        "child",
        {
            "StartAt": "Double",
            "States": {
                "Double": {
                    "Type": "Pass",
                    "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                    "End": True,
                }
            },
        },
    )
    sm = create(ctx, "parent", parent("arn:aws:states:::states:startExecution.sync:2"))
    described, types = run(ctx, sm, {"child": child, "n": 21, "name": "kid"})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["Output"] == {"doubled": 42} and output["Status"] == "SUCCEEDED"
    assert output["ExecutionArn"].endswith(":execution:child:kid")
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_sync_failure_and_fire_and_forget(ctx: Any) -> None:
    failing = create(
        ctx,
        "failing",
        {
            "StartAt": "F",
            "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "child broke"}},
        },
    )
    sm = create(ctx, "sync", parent("arn:aws:states:::states:startExecution.sync"))
    described, _ = run(ctx, sm, {"child": failing, "n": 1, "name": "k1"})
    assert described["status"] == "FAILED" and described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert cause["Error"] == "Oops" and cause["Status"] == "FAILED"

    plain = create(ctx, "plain", parent("arn:aws:states:::states:startExecution"))
    described, types = run(ctx, plain, {"child": failing, "n": 1, "name": "k2"}, name="p2")
    assert described["status"] == "SUCCEEDED"  # it does not wait for the child
    assert "TaskSubmitted" not in types


def test_a_child_failing_without_a_cause_is_reported_without_one(ctx: Any) -> None:
    # AWS leaves out what a Fail state leaves out: in the child's ExecutionFailed, in its
    # DescribeExecution, and in the description a .sync parent fails with.
    silent = create(
        ctx, "silent", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Quiet"}}}
    )
    sm = create(ctx, "quiet", parent("arn:aws:states:::states:startExecution.sync"))
    described, _ = run(ctx, sm, {"child": silent, "n": 1, "name": "q"})
    assert described["status"] == "FAILED" and described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert cause["Error"] == "Quiet" and "Cause" not in cause
    child_arn = silent.replace("stateMachine", "execution") + ":q"
    child = executions.describe_execution(ctx, {"executionArn": child_arn})
    assert child["status"] == "FAILED" and child["error"] == "Quiet" and "cause" not in child
    events = executions.get_execution_history(ctx, {"executionArn": child_arn})["events"]
    assert events[-1]["executionFailedEventDetails"] == {"error": "Quiet"}

    empty = create(ctx, "empty", {"StartAt": "F", "States": {"F": {"Type": "Fail"}}})
    described, _ = run(ctx, sm, {"child": empty, "n": 1, "name": "e"}, name="p-empty")
    cause = json.loads(described["cause"])
    assert "Error" not in cause and "Cause" not in cause
    child = executions.describe_execution(
        ctx, {"executionArn": empty.replace("stateMachine", "execution") + ":e"}
    )
    assert child["status"] == "FAILED" and "error" not in child and "cause" not in child


def test_missing_state_machine_fails_with_sdk_error(ctx: Any) -> None:
    sm = create(ctx, "missing", parent("arn:aws:states:::states:startExecution"))
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
    described, _ = run(ctx, sm, {"child": missing, "n": 1, "name": "x"})
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert described["cause"].startswith(f"State Machine Does Not Exist: '{missing}'")


def test_stopping_a_parent_stops_its_children(ctx: Any) -> None:
    sleeper = create(
        ctx,
        "sleeper",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}},
    )
    sm = create(ctx, "waiting", parent("arn:aws:states:::states:startExecution.sync:2"))
    described, _ = run(ctx, sm, {"child": sleeper, "n": 1, "name": "long"})
    assert described["status"] == "RUNNING"
    executions.stop_execution(ctx, {"executionArn": described["executionArn"]})
    child = executions.describe_execution(
        ctx, {"executionArn": sleeper.replace("stateMachine", "execution") + ":long"}
    )
    assert child["status"] == "ABORTED"


def test_the_start_response_carries_the_sdk_http_headers(ctx: Any) -> None:
    from email.utils import formatdate

    child = create(ctx, "quick", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    sm = create(ctx, "starter", parent("arn:aws:states:::states:startExecution"))
    described, _ = run(ctx, sm, {"child": child, "n": 1, "name": "h"})
    output = json.loads(described["output"])
    headers = output["SdkHttpMetadata"]["HttpHeaders"]
    # The Date header is the moment of the call, on the engine's (injected) clock.
    assert headers["Date"] == formatdate(output["StartDate"] / 1000, usegmt=True)
    assert set(headers) == {
        "connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "x-amzn-RequestId",
    }
    assert output["SdkHttpMetadata"]["AllHttpHeaders"] == {k: [v] for k, v in headers.items()}
    assert output["SdkResponseMetadata"]["RequestId"] == headers["x-amzn-RequestId"]


def _token_parent(resource: str) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": resource,
                "End": True,
                "Parameters": {
                    "StateMachineArn.$": "$.child",
                    "Input": {"TaskToken.$": "$$.Task.Token"},
                    "Name.$": "$.name",
                },
            }
        },
    }


def test_a_sync_task_is_answered_by_its_task_token(ctx: Any) -> None:
    import pytest

    from engine.services import tasks

    waiting = create(
        ctx,
        "waiting-child",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}},
    )
    for pattern in ("sync", "sync:2"):
        sm = create(
            ctx,
            f"tok-{pattern[-1]}",
            _token_parent(f"arn:aws:states:::states:startExecution.{pattern}"),
        )
        described, _ = run(
            ctx, sm, {"child": waiting, "name": f"t-{pattern[-1]}"}, name=f"p-{pattern[-1]}"
        )
        assert described["status"] == "RUNNING"
        child_arn = waiting.replace("stateMachine", "execution") + f":t-{pattern[-1]}"
        child = executions.describe_execution(ctx, {"executionArn": child_arn})
        token = json.loads(child["input"])["TaskToken"]
        tasks.send_task_heartbeat(ctx, {"taskToken": token})
        tasks.send_task_success(ctx, {"taskToken": token, "output": '"early"'})
        EngineLoops(ctx).run_until_idle()
        parent_arn = described["executionArn"]
        described = executions.describe_execution(ctx, {"executionArn": parent_arn})
        assert described["status"] == "SUCCEEDED" and described["output"] == '"early"'
        history = executions.get_execution_history(ctx, {"executionArn": parent_arn})["events"]
        assert [e["type"] for e in history][3:6] == [
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
        ]
        with pytest.raises(tasks.TaskTimedOut):
            tasks.send_task_success(ctx, {"taskToken": token, "output": "{}"})

    sm = create(ctx, "tok-fail", _token_parent("arn:aws:states:::states:startExecution.sync"))
    described, _ = run(ctx, sm, {"child": waiting, "name": "t-f"}, name="p-f")
    child = executions.describe_execution(
        ctx, {"executionArn": waiting.replace("stateMachine", "execution") + ":t-f"}
    )
    token = json.loads(child["input"])["TaskToken"]
    tasks.send_task_failure(ctx, {"taskToken": token, "error": "Nope", "cause": "said no"})
    EngineLoops(ctx).run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": described["executionArn"]})
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Nope", "said no")


def test_a_sync_task_answered_by_its_child_no_longer_takes_its_token(ctx: Any) -> None:
    import pytest

    from engine.services import tasks

    quick = create(
        ctx, "quick-child", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    sm = create(ctx, "tok-late", _token_parent("arn:aws:states:::states:startExecution.sync:2"))
    described, _ = run(ctx, sm, {"child": quick, "name": "q"})
    assert described["status"] == "SUCCEEDED"
    child = executions.describe_execution(
        ctx, {"executionArn": quick.replace("stateMachine", "execution") + ":q"}
    )
    token = json.loads(child["input"])["TaskToken"]
    with pytest.raises(tasks.TaskTimedOut):
        tasks.send_task_success(ctx, {"taskToken": token, "output": "{}"})


def test_the_aws_sdk_start_execution(ctx: Any) -> None:
    child = create(
        ctx, "sdk-child", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    sm = create(ctx, "sdk", parent("arn:aws:states:::aws-sdk:sfn:startExecution"))
    described, types = run(ctx, sm, {"child": child, "n": 1, "name": "s"})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    # The SDK's response itself: no SdkHttpMetadata envelope.
    assert set(output) == {"ExecutionArn", "StartDate"}
    assert output["ExecutionArn"] == child.replace("stateMachine", "execution") + ":s"
    child_run = executions.describe_execution(ctx, {"executionArn": output["ExecutionArn"]})
    assert json.loads(child_run["input"]) == {"n": 1}
    history = executions.get_execution_history(ctx, {"executionArn": described["executionArn"]})
    scheduled = history["events"][2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("aws-sdk:sfn", "startExecution")
    assert types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]

    # The same name again: the SDK's ExecutionAlreadyExists, as Sfn.<Code>Exception.
    described, _ = run(ctx, sm, {"child": child, "n": 2, "name": "s"}, name="again")
    assert described["status"] == "FAILED"
    assert described["error"] == "Sfn.ExecutionAlreadyExistsException"
    assert described["cause"].startswith(
        f"Execution Already Exists: '{output['ExecutionArn']}' (Service: Sfn, Status Code: 400, "
        "Request ID: "
    )
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nope"
    described, _ = run(ctx, sm, {"child": missing, "n": 1, "name": "m"}, name="missing")
    assert described["error"] == "Sfn.StateMachineDoesNotExistException"
    assert described["cause"].startswith(f"State Machine Does Not Exist: '{missing}' (Service: Sfn")


def test_wait_for_task_token_starts_the_child_and_waits_for_its_token(ctx: Any) -> None:
    from engine.services import tasks

    child = create(
        ctx, "token-child", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    sm = create(
        ctx,
        "token-parent",
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                    "Parameters": {
                        "StateMachineArn": child,
                        "Name": "called-back",
                        "Input": {"token.$": "$$.Task.Token", "n.$": "$.n"},
                    },
                    "End": True,
                }
            },
        },
    )
    described, types = run(ctx, sm, {"n": 3})
    assert described["status"] == "RUNNING"
    assert types[-2:] == ["TaskStarted", "TaskSubmitted"]
    child_arn = child.replace(":stateMachine:", ":execution:") + ":called-back"
    started = executions.describe_execution(ctx, {"executionArn": child_arn})
    token = json.loads(started["input"])["token"]
    assert json.loads(started["input"])["n"] == 3
    tasks.send_task_success(ctx, {"taskToken": token, "output": '{"answered": true}'})
    EngineLoops(ctx).run_until_idle()
    parent_arn = sm.replace(":stateMachine:", ":execution:") + ":parent"
    ended = executions.describe_execution(ctx, {"executionArn": parent_arn})
    assert ended["status"] == "SUCCEEDED" and json.loads(ended["output"]) == {"answered": True}
    history = executions.get_execution_history(ctx, {"executionArn": parent_arn})
    submitted = [e for e in history["events"] if e["type"] == "TaskSubmitted"]
    assert json.loads(submitted[0]["taskSubmittedEventDetails"]["output"])["ExecutionArn"] == (
        child_arn
    )


def test_wait_for_task_token_fails_when_the_child_machine_is_missing(ctx: Any) -> None:
    sm = create(
        ctx,
        "token-orphan",
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                    "Parameters": {
                        "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:gone",
                        "Input": {"token.$": "$$.Task.Token"},
                    },
                    "End": True,
                }
            },
        },
    )
    described, types = run(ctx, sm, {})
    assert described["status"] == "FAILED"
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert "TaskFailed" in types


def test_sync_task_times_out_by_its_timeout_seconds(ctx: Any) -> None:
    child = create(
        ctx,
        "slow-child",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}},
    )
    definition = parent("arn:aws:states:::states:startExecution.sync:2")
    definition["States"]["Call"]["TimeoutSeconds"] = 5
    sm = create(ctx, "impatient", definition)
    described, _ = run(ctx, sm, {"child": child, "n": 1, "name": "slow"})
    assert described["status"] == "RUNNING"
    ctx.clock.advance(6)
    EngineLoops(ctx).run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": described["executionArn"]})
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"
