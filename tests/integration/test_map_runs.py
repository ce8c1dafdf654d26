"""Distributed Map runs: MapRun* events, DescribeMapRun, ListMapRuns, UpdateMapRun via boto3."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import sfn_client, thread_server

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "Label": "Fan",
            "MaxConcurrency": 2,
            "ToleratedFailureCount": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 3, "Next": "Bad"}],
                        "Default": "Good",
                    },
                    "Bad": {"Type": "Fail", "Error": "Three"},
                    "Good": {"Type": "Pass", "End": True},
                },
            },
            "End": True,
        }
    },
}


def test_distributed_map_records_a_map_run(ctx: Any) -> None:
    with thread_server(ctx) as url:
        sfn = sfn_client(url)
        sm = sfn.create_state_machine(
            name="fan",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/x",
        )
        ex = sfn.start_execution(stateMachineArn=sm["stateMachineArn"], input="[1, 2, 3, 4]")
        arn = ex["executionArn"]
        deadline = time.time() + 10
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            assert time.time() < deadline
            time.sleep(0.02)
        described = sfn.describe_execution(executionArn=arn)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == [1, 2, None, 4]
        types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
        assert types == [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded",
        ]
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        assert len(runs) == 1 and "/Fan:" in runs[0]["mapRunArn"]
        run = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
        assert run["status"] == "SUCCEEDED" and run["maxConcurrency"] == 2
        assert run["itemCounts"]["total"] == 4 and run["itemCounts"]["failed"] == 1
        assert run["itemCounts"]["succeeded"] == 3 and run["toleratedFailureCount"] == 1
        sfn.update_map_run(mapRunArn=runs[0]["mapRunArn"], maxConcurrency=5)
        assert sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["maxConcurrency"] == 5
        with pytest.raises(ClientError) as err:
            sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"] + "x")
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"


def _activity_fan(ctx: Any, activity: str, **limits: Any) -> str:
    from engine.services import state_machines

    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                **limits,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Do",
                    "States": {"Do": {"Type": "Task", "Resource": activity, "End": True}},
                },
                "End": True,
            }
        },
    }
    return state_machines.create_state_machine(
        ctx,
        "us-east-1",
        {
            "name": "fan-activity",
            "definition": json.dumps(definition),
            "roleArn": "arn:aws:iam::123456789012:role/x",
        },
    )["stateMachineArn"]


def _claim_all(ctx: Any, activity: str) -> list[dict[str, Any]]:
    from engine.services import tasks

    claimed = []
    while (task := tasks.claim_activity_task(ctx, activity, "w")) is not None:
        claimed.append(task)
    return claimed


def _running_fan(ctx: Any, items: list[int], **limits: Any) -> tuple[str, str, Any, str]:
    """A Distributed Map over ``items`` whose iterations wait on an activity, started and
    decided: (activity ARN, execution ARN, engine loops, Map Run ARN)."""
    from engine.services import activities, executions, map_runs
    from workers.engine import EngineLoops

    activity = activities.create_activity(ctx, "us-east-1", {"name": "fan"})["activityArn"]
    sm = _activity_fan(ctx, activity, **limits)
    arn = executions.start_execution(ctx, {"stateMachineArn": sm, "input": json.dumps(items)})[
        "executionArn"
    ]
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    run_arn = map_runs.list_map_runs(ctx, {"executionArn": arn})["mapRuns"][0]["mapRunArn"]
    return activity, arn, loops, run_arn


def test_update_map_run_raises_the_concurrency_of_a_running_map(ctx: Any) -> None:
    from engine.services import executions, map_runs, tasks

    activity, arn, loops, run_arn = _running_fan(ctx, [1, 2, 3, 4, 5], MaxConcurrency=1)
    first = _claim_all(ctx, activity)
    assert len(first) == 1  # MaxConcurrency 1: one iteration at a time
    map_runs.update_map_run(ctx, {"mapRunArn": run_arn, "maxConcurrency": 3})
    loops.run_until_idle()
    # The update reaches the running map: two more iterations start beside the first.
    more = _claim_all(ctx, activity)
    assert len(more) == 2
    assert map_runs.describe_map_run(ctx, {"mapRunArn": run_arn})["maxConcurrency"] == 3
    answered = 0
    outstanding = first + more
    while outstanding:
        for task in outstanding:
            tasks.send_task_success(ctx, {"taskToken": task["taskToken"], "output": task["input"]})
            answered += 1
        loops.run_until_idle()
        outstanding = _claim_all(ctx, activity)
        assert len(outstanding) <= 3
    assert answered == 5
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2, 3, 4, 5]
    assert map_runs.describe_map_run(ctx, {"mapRunArn": run_arn})["status"] == "SUCCEEDED"


def test_update_map_run_tolerates_more_failures_of_a_running_map(ctx: Any) -> None:
    from engine.services import executions, map_runs, runtime, tasks

    activity, arn, loops, run_arn = _running_fan(ctx, [1, 2, 3, 4], MaxConcurrency=4)
    claimed = _claim_all(ctx, activity)
    assert len(claimed) == 4
    # Without the update the first failure would fail the run (no tolerance defined).
    map_runs.update_map_run(ctx, {"mapRunArn": run_arn, "toleratedFailureCount": 2})
    loops.run_until_idle()
    for task in claimed[:2]:
        tasks.send_task_failure(ctx, {"taskToken": task["taskToken"], "error": "Bad"})
    loops.run_until_idle()
    assert executions.describe_execution(ctx, {"executionArn": arn})["status"] == "RUNNING"
    # Lowering it again below the failures already seen fails the run at once.
    map_runs.update_map_run(ctx, {"mapRunArn": run_arn, "toleratedFailureCount": 1})
    loops.run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    run = map_runs.describe_map_run(ctx, {"mapRunArn": run_arn})
    assert run["status"] == "FAILED" and run["toleratedFailureCount"] == 1
    assert run["itemCounts"]["failed"] == 2
    # Replaying the stored answers rebuilds the same history.
    recorded, live = runtime.rebuild(ctx, executions_id(ctx, arn))
    assert [e.type for e in live.interpreter.events] == [e.type for e in recorded]


def executions_id(ctx: Any, arn: str) -> int:
    return int(ctx.store.run(lambda tx: tx.executions.get(arn))["id"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("maxConcurrency", -1),
        ("maxConcurrency", "5"),
        ("toleratedFailurePercentage", 101),
        ("toleratedFailureCount", 1.5),
        ("toleratedFailureCount", True),
    ],
)
def test_update_map_run_rejects_bad_limits(ctx: Any, field: str, value: Any) -> None:
    from engine.errors import ValidationError
    from engine.services import map_runs

    with pytest.raises(ValidationError):
        map_runs.update_map_run(ctx, {"mapRunArn": "arn:aws:states:x:1:mapRun:a/b:c", field: value})


def test_a_stopped_execution_aborts_its_running_map_run(ctx: Any) -> None:
    from engine.services import executions, map_runs

    _, arn, _, run_arn = _running_fan(ctx, [1, 2, 3], MaxConcurrency=1)
    assert map_runs.describe_map_run(ctx, {"mapRunArn": run_arn})["status"] == "RUNNING"
    executions.stop_execution(ctx, {"executionArn": arn})
    run = map_runs.describe_map_run(ctx, {"mapRunArn": run_arn})
    assert run["status"] == "ABORTED" and "stopDate" in run
    assert run["itemCounts"]["aborted"] == 3 and run["itemCounts"]["running"] == 0
    listed = map_runs.list_map_runs(ctx, {"executionArn": arn})["mapRuns"]
    assert "stopDate" in listed[0]
