"""RedriveExecution: a failed or aborted execution goes on from the state that failed or was
stopped, and a Map or Parallel reruns only the iterations and branches that did not succeed.
Also the machine-wide TimeoutSeconds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import codec
from engine.errors import ServiceError
from engine.services import activities, executions, runtime, state_machines, tasks
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
    never = executions.start_execution(ctx, {"stateMachineArn": sm, "input": "[]"})["executionArn"]
    loops.run_until_idle()

    def listed_by(redrive: str) -> list[str]:
        request = {"stateMachineArn": sm, "redriveFilter": redrive}
        return [e["executionArn"] for e in executions.list_executions(ctx, request)["executions"]]

    assert (listed_by("REDRIVEN"), listed_by("NOT_REDRIVEN")) == ([arn], [never])
    with pytest.raises(ServiceError) as err:
        listed_by("SOMETIMES")
    assert err.value.code == "ValidationException"
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
    assert described["redriveStatus"] == "REDRIVABLE"
    # A redrive resumes the state the timeout cut short, with a new TimeoutSeconds window.
    redrive(ctx, arn)
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "RUNNING"
    ctx.clock.advance(4)
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "RUNNING"
    ctx.clock.advance(2)
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "TIMED_OUT"
    types = history(ctx, arn)
    after = types[types.index("ExecutionRedriven") :]
    assert after == [
        "ExecutionRedriven",
        "WaitStateEntered",
        "WaitStateAborted",
        "ExecutionTimedOut",
    ]
    assert_replays(ctx, arn)


def describe(ctx: Any, arn: str) -> dict[str, Any]:
    return executions.describe_execution(ctx, {"executionArn": arn})


def start(ctx: Any, sm: str, payload: Any = None, name: str | None = None) -> str:
    request: dict[str, Any] = {"stateMachineArn": sm, "input": json.dumps(payload or {})}
    if name is not None:
        request["name"] = name
    return str(executions.start_execution(ctx, request)["executionArn"])


def stop(ctx: Any, arn: str, **details: str) -> None:
    executions.stop_execution(ctx, {"executionArn": arn, **details})


def redrive(ctx: Any, arn: str) -> None:
    executions.redrive_execution(ctx, {"executionArn": arn})


def assert_replays(ctx: Any, arn: str) -> None:
    """Replaying the stored resolutions rebuilds the stored history, the abort included."""
    row = ctx.store.run(lambda tx: tx.executions.get(arn))
    stored, live = runtime.rebuild(ctx, row["id"])
    rebuilt = live.interpreter.events
    assert [(e.type, e.id, e.previous_event_id) for e in rebuilt] == [
        (e.type, e.id, e.previous_event_id) for e in stored
    ]
    assert [codec.loads(codec.dumps(e.details)) for e in rebuilt] == [e.details for e in stored]
    assert live.interpreter.status == row["status"]


def not_redrivable(ctx: Any, arn: str) -> str:
    with pytest.raises(ServiceError) as err:
        redrive(ctx, arn)
    assert err.value.code == "ExecutionNotRedrivable"
    return str(err.value.message)


def one_task(activity: str) -> dict[str, Any]:
    return {
        "StartAt": "Prep",
        "States": {
            "Prep": {"Type": "Pass", "Result": {"n": 1}, "Assign": {"seen": 7}, "Next": "Do"},
            "Do": {
                "Type": "Task",
                "Resource": activity,
                "Parameters": {"n.$": "$.n", "seen.$": "$seen"},
                "End": True,
            },
        },
    }


def one_task_running(ctx: Any, name: str) -> tuple[str, str, EngineLoops]:
    """An execution of ``one_task`` decided up to its activity task: (activity, execution
    ARN, engine loops)."""
    activity = activities.create_activity(ctx, "us-east-1", {"name": "work"})["activityArn"]
    arn = start(ctx, create(ctx, name, one_task(activity)))
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    return activity, arn, loops


def claim(ctx: Any, activity: str) -> dict[str, Any]:
    task = tasks.claim_activity_task(ctx, activity, "w")
    assert task is not None
    return task


def test_redrive_an_execution_stopped_during_an_activity_task(ctx: Any) -> None:
    activity, arn, loops = one_task_running(ctx, "stopped")
    first = claim(ctx, activity)
    loops.run_until_idle()
    ctx.clock.advance(5)
    stop(ctx, arn, error="Halt", cause="by test")
    described = describe(ctx, arn)
    assert described["status"] == "ABORTED" and described["redriveStatus"] == "REDRIVABLE"
    assert (described["error"], described["cause"]) == ("Halt", "by test")
    types = history(ctx, arn)
    assert types[-2:] == ["ActivityStarted", "ExecutionAborted"]  # no TaskStateAborted
    assert_replays(ctx, arn)
    loops.run_until_idle()  # nothing to decide; nothing breaks
    with pytest.raises(ServiceError):  # the stopped task can no longer be answered
        tasks.send_task_success(ctx, {"taskToken": first["taskToken"], "output": "1"})

    ctx.clock.advance(5)
    redrive(ctx, arn)
    loops.run_until_idle()
    again = tasks.claim_activity_task(ctx, activity, "w")
    assert again is not None and json.loads(again["input"]) == {"n": 1, "seen": 7}
    assert again["taskToken"] != first["taskToken"]
    tasks.send_task_success(ctx, {"taskToken": again["taskToken"], "output": '"done"'})
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and described["output"] == '"done"'
    assert described["redriveCount"] == 1 and "error" not in described
    types = history(ctx, arn)
    aborted = types.index("ExecutionAborted")
    assert types[aborted:] == [
        "ExecutionAborted",
        "ExecutionRedriven",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert types.count("PassStateEntered") == 1
    events = executions.get_execution_history(ctx, {"executionArn": arn, "maxResults": 1000})
    redriven = events["events"][aborted + 1]
    assert redriven["previousEventId"] == redriven["id"] - 1
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert_replays(ctx, arn)
    assert not_redrivable(ctx, arn) == "Execution is SUCCEEDED and cannot be redriven"


def test_redrive_an_execution_stopped_during_a_wait(ctx: Any) -> None:
    sm = create(
        ctx,
        "sleepy",
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
                "Done": {"Type": "Pass", "Result": "woke", "End": True},
            },
        },
    )
    arn = start(ctx, sm)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    ctx.clock.advance(10)
    stop(ctx, arn)
    described = describe(ctx, arn)
    assert described["status"] == "ABORTED" and "error" not in described
    ctx.clock.advance(100)  # the stopped Wait's timer is gone: nothing fires
    loops.run_until_idle()
    assert history(ctx, arn)[-1] == "ExecutionAborted"
    redrive(ctx, arn)
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "RUNNING"
    ctx.clock.advance(59)
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "RUNNING"  # the Wait starts over at the redrive
    ctx.clock.advance(1)
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and described["output"] == '"woke"'
    types = history(ctx, arn)
    assert types[types.index("ExecutionAborted") :] == [
        "ExecutionAborted",
        "ExecutionRedriven",
        "WaitStateEntered",
        "WaitStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert_replays(ctx, arn)


def test_redrive_a_parent_stopped_while_its_child_runs(ctx: Any) -> None:
    child = create(
        ctx,
        "child",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}},
    )
    sm = create(
        ctx,
        "parent",
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": child, "Input": {"n": 1}},
                    "OutputPath": "$.Output",
                    "End": True,
                }
            },
        },
    )
    arn = start(ctx, sm)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    stop(ctx, arn)
    children = executions.list_executions(ctx, {"stateMachineArn": child})["executions"]
    assert [c["status"] for c in children] == ["ABORTED"]
    # A child stopped with its parent may be redriven too.
    assert describe(ctx, children[0]["executionArn"])["redriveStatus"] == "REDRIVABLE"
    redrive(ctx, arn)
    loops.run_until_idle()
    children = executions.list_executions(ctx, {"stateMachineArn": child})["executions"]
    assert [c["status"] for c in children] == ["RUNNING", "ABORTED"]  # a new child
    ctx.clock.advance(60)
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": 1}
    assert_replays(ctx, arn)


def test_redrive_after_a_stop_during_a_parallel_reruns_only_the_unfinished_branch(
    ctx: Any,
) -> None:
    activity = activities.create_activity(ctx, "us-east-1", {"name": "work"})["activityArn"]

    def branch(name: str) -> dict[str, Any]:
        return {
            "StartAt": name,
            "States": {
                name: {
                    "Type": "Task",
                    "Resource": activity,
                    "Parameters": {"branch": name},
                    "End": True,
                }
            },
        }

    sm = create(
        ctx,
        "both",
        {
            "StartAt": "Both",
            "States": {
                "Both": {"Type": "Parallel", "Branches": [branch("A"), branch("B")], "End": True}
            },
        },
    )
    arn = start(ctx, sm)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    claimed = [tasks.claim_activity_task(ctx, activity, "w") for _ in range(2)]
    by_branch = {json.loads(t["input"])["branch"]: t["taskToken"] for t in claimed if t}
    tasks.send_task_success(ctx, {"taskToken": by_branch["A"], "output": '"a"'})
    loops.run_until_idle()
    stop(ctx, arn)
    types = history(ctx, arn)
    assert types[-1] == "ExecutionAborted" and "ParallelStateAborted" not in types
    assert_replays(ctx, arn)
    redrive(ctx, arn)
    loops.run_until_idle()
    again = tasks.claim_activity_task(ctx, activity, "w")
    assert again is not None and json.loads(again["input"]) == {"branch": "B"}
    assert tasks.claim_activity_task(ctx, activity, "w") is None
    tasks.send_task_success(ctx, {"taskToken": again["taskToken"], "output": '"b"'})
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == ["a", "b"]
    types = history(ctx, arn)
    after = types[types.index("ExecutionRedriven") :]
    assert after.count("TaskStateEntered") == 1 and after.count("ParallelStateEntered") == 1
    assert_replays(ctx, arn)


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


def test_redrive_an_execution_stopped_before_its_first_decision(ctx: Any) -> None:
    sm = create(
        ctx,
        "early",
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": True}},
        },
    )
    arn = start(ctx, sm, {"x": 5})
    stop(ctx, arn)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    assert history(ctx, arn) == ["ExecutionStarted", "ExecutionAborted"]
    assert describe(ctx, arn)["redriveStatus"] == "REDRIVABLE"
    assert_replays(ctx, arn)
    redrive(ctx, arn)
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"got": 5}
    assert history(ctx, arn) == [
        "ExecutionStarted",
        "ExecutionAborted",
        "ExecutionRedriven",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert_replays(ctx, arn)


def test_an_answer_no_decision_applied_is_dropped_by_the_stop(ctx: Any) -> None:
    activity, arn, loops = one_task_running(ctx, "raced")
    task = claim(ctx, activity)
    tasks.send_task_success(ctx, {"taskToken": task["taskToken"], "output": '"early"'})
    stop(ctx, arn)  # before any decision applied the answer: the stop wins
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "ABORTED"
    assert "ActivitySucceeded" not in history(ctx, arn)
    assert_replays(ctx, arn)
    redrive(ctx, arn)
    loops.run_until_idle()
    again = tasks.claim_activity_task(ctx, activity, "w")
    assert again is not None
    tasks.send_task_success(ctx, {"taskToken": again["taskToken"], "output": '"late"'})
    loops.run_until_idle()
    assert describe(ctx, arn)["output"] == '"late"'
    assert_replays(ctx, arn)


def test_stop_right_after_a_redrive_then_redrive_again(ctx: Any) -> None:
    activity, arn, loops = one_task_running(ctx, "twice")
    task = claim(ctx, activity)
    tasks.send_task_failure(ctx, {"taskToken": task["taskToken"], "error": "Flaky"})
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "FAILED"
    redrive(ctx, arn)
    stop(ctx, arn)  # before a decision applied the redrive
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "ABORTED" and described["redriveCount"] == 1
    assert history(ctx, arn)[-3:] == ["ExecutionFailed", "ExecutionRedriven", "ExecutionAborted"]
    assert_replays(ctx, arn)
    redrive(ctx, arn)
    loops.run_until_idle()
    again = tasks.claim_activity_task(ctx, activity, "w")
    assert again is not None and json.loads(again["input"]) == {"n": 1, "seen": 7}
    tasks.send_task_success(ctx, {"taskToken": again["taskToken"], "output": "2"})
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and described["redriveCount"] == 2
    events = executions.get_execution_history(ctx, {"executionArn": arn, "maxResults": 1000})
    counts = [
        e["executionRedrivenEventDetails"]["redriveCount"]
        for e in events["events"]
        if e["type"] == "ExecutionRedriven"
    ]
    assert counts == [1, 2]
    assert_replays(ctx, arn)


def test_an_abort_recorded_without_its_resolution_is_not_redrivable(ctx: Any) -> None:
    """Executions stopped before aborts were recorded for replay are refused, not crashed on."""
    from sqlalchemy import delete, update

    from engine.store.tables import executions as execution_rows
    from engine.store.tables import resolutions

    _, arn, loops = one_task_running(ctx, "legacy")
    stop(ctx, arn)
    row = ctx.store.run(lambda tx: tx.executions.get(arn))

    def forget_the_abort(tx: Any) -> None:  # what an earlier Stepwell left behind
        tx.conn.execute(delete(resolutions).where(resolutions.c.execution_id == row["id"]))
        tx.conn.execute(
            update(execution_rows)
            .where(execution_rows.c.id == row["id"])
            .values(resolution_count=0)
        )

    ctx.store.run(forget_the_abort)
    described = describe(ctx, arn)
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert "earlier version" in described["redriveStatusReason"]
    assert "earlier version" in not_redrivable(ctx, arn)
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "ABORTED"


def test_running_and_express_executions_are_not_redrivable(ctx: Any) -> None:
    sm = create(
        ctx,
        "long",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}},
    )
    arn = start(ctx, sm)
    EngineLoops(ctx).run_until_idle()
    assert describe(ctx, arn)["redriveStatus"] == "NOT_REDRIVABLE"
    assert not_redrivable(ctx, arn) == "Execution is RUNNING and cannot be redriven"
    express = state_machines.create_state_machine(
        ctx,
        "us-east-1",
        {
            "name": "quick",
            "type": "EXPRESS",
            "definition": json.dumps(
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
            ),
            "roleArn": ROLE,
        },
    )["stateMachineArn"]
    fast = start(ctx, express)
    EngineLoops(ctx).run_until_idle()
    stop(ctx, fast)
    assert "EXPRESS" in not_redrivable(ctx, fast)


def claim_by_item(ctx: Any, activity: str) -> dict[Any, dict[str, Any]]:
    """Every task of the activity there is now, by its input (the Map item)."""
    claimed = {}
    while (task := tasks.claim_activity_task(ctx, activity, "w")) is not None:
        claimed[json.loads(task["input"])] = task
    return claimed


def _each(ctx: Any, activity: str, name: str) -> str:
    return create(
        ctx,
        name,
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "Do",
                        "States": {"Do": {"Type": "Task", "Resource": activity, "End": True}},
                    },
                    "End": True,
                }
            },
        },
    )


def each_running(ctx: Any, name: str, items: list[int]) -> tuple[str, str, EngineLoops]:
    """A Map over ``items`` of activity tasks, decided until they wait: (activity, execution
    ARN, engine loops)."""
    activity = activities.create_activity(ctx, "us-east-1", {"name": "work"})["activityArn"]
    arn = start(ctx, _each(ctx, activity, name), items)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    return activity, arn, loops


def test_redrive_after_a_stop_during_a_map_reruns_only_the_unfinished_iterations(
    ctx: Any,
) -> None:
    activity, arn, loops = each_running(ctx, "each", [1, 2, 3])
    claimed = claim_by_item(ctx, activity)
    tasks.send_task_success(ctx, {"taskToken": claimed[2]["taskToken"], "output": "20"})
    loops.run_until_idle()
    stop(ctx, arn)
    assert_replays(ctx, arn)
    redrive(ctx, arn)
    loops.run_until_idle()
    again = claim_by_item(ctx, activity)
    assert sorted(again) == [1, 3]  # the finished iteration keeps its result
    for item, task in again.items():
        tasks.send_task_success(ctx, {"taskToken": task["taskToken"], "output": str(item * 10)})
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [10, 20, 30]
    assert_replays(ctx, arn)


def test_redrive_after_a_failed_iteration_reruns_the_iterations_it_cancelled(ctx: Any) -> None:
    activity, arn, loops = each_running(ctx, "cancelled", [1, 2])
    claimed = claim_by_item(ctx, activity)
    tasks.send_task_failure(ctx, {"taskToken": claimed[2]["taskToken"], "error": "Flaky"})
    loops.run_until_idle()
    assert describe(ctx, arn)["status"] == "FAILED"
    redrive(ctx, arn)
    loops.run_until_idle()
    # Item 1 was still running when item 2 failed: it was cancelled, not done, so it runs again.
    again = claim_by_item(ctx, activity)
    assert sorted(again) == [1, 2]
    for item, task in again.items():
        tasks.send_task_success(ctx, {"taskToken": task["taskToken"], "output": str(item * 9)})
    loops.run_until_idle()
    described = describe(ctx, arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == [9, 18]


def test_a_retry_after_a_redrive_runs_every_iteration_again(ctx: Any) -> None:
    activity = activities.create_activity(ctx, "us-east-1", {"name": "work"})["activityArn"]
    sm = create(
        ctx,
        "retried",
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "Do",
                        "States": {"Do": {"Type": "Task", "Resource": activity, "End": True}},
                    },
                    "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                    "End": True,
                }
            },
        },
    )
    arn = start(ctx, sm, [1, 2, 3])
    loops = EngineLoops(ctx)

    def attempt(expected: list[int]) -> None:
        loops.run_until_idle()
        claimed = [tasks.claim_activity_task(ctx, activity, "w") for _ in range(4)]
        by_item = {json.loads(t["input"]): t["taskToken"] for t in claimed if t}
        assert sorted(by_item) == expected
        # Successes first: a failure cancels the iterations still running.
        for item, token in sorted(by_item.items(), key=lambda pair: pair[0] == 2):
            if item == 2:
                tasks.send_task_failure(ctx, {"taskToken": token, "error": "Flaky"})
            else:
                tasks.send_task_success(ctx, {"taskToken": token, "output": str(item)})
        loops.run_until_idle()
        ctx.clock.advance(2)  # past the Retry interval

    attempt([1, 2, 3])
    attempt([1, 2, 3])  # the retry runs the whole Map again
    assert describe(ctx, arn)["status"] == "FAILED"
    redrive(ctx, arn)
    attempt([2])  # the redrive reruns only the failed iteration...
    attempt([1, 2, 3])  # ...but a Retry after it runs the whole Map again, as any retry does
    assert describe(ctx, arn)["status"] == "FAILED"
    assert_replays(ctx, arn)
