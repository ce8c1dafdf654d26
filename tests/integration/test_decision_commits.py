"""A batch of decisions is recorded per execution: each conditional update stands or falls on
its own lease and event count (on PostgreSQL they travel in one pipeline). SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import ServiceError
from engine.services import executions, runtime, state_machines
from engine.services.context import ServiceContext

ROLE = "arn:aws:iam::123456789012:role/stepwell"
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}


def _started(ctx: ServiceContext, count: int) -> list[str]:
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "batch", "definition": json.dumps(WAIT), "roleArn": ROLE}
    )["stateMachineArn"]
    return [
        executions.start_execution(ctx, {"stateMachineArn": machine, "name": f"e{i}"})[
            "executionArn"
        ]
        for i in range(count)
    ]


def test_each_decision_in_a_batch_stands_on_its_own(ctx: ServiceContext) -> None:
    arns = _started(ctx, 4)
    ids = runtime.claim(ctx, "node-a")
    assert len(ids) == 4
    values = {"event_count": 1, "request_seq": 0}
    batch = [
        (ids[0], 1, values, 0),
        (ids[1], 7, values, 0),  # decided at a history length it no longer has: void
        (
            ids[2],
            1,
            {
                **values,
                "status": "SUCCEEDED",
                "stop_date": 1.0,
                "output": "{}",
                "error": None,
                "cause": None,
            },
            0,
        ),
        (ids[3], 1, values, 0),
    ]

    def commit(tx: Any) -> list[bool]:
        return list(tx.runtime.commit_decisions("node-b", batch[3:]))  # not the lease holder

    assert ctx.store.run(commit) == [False]
    recorded = ctx.store.run(lambda tx: tx.runtime.commit_decisions("node-a", batch[:3]))
    assert recorded == [True, False, True]
    described = {
        arn: executions.describe_execution(ctx, {"executionArn": arn})["status"] for arn in arns
    }
    assert list(described.values()) == ["RUNNING", "RUNNING", "SUCCEEDED", "RUNNING"]
    # The void decision left its lease in place; the recorded ones gave theirs back.
    leased = ctx.store.run(lambda tx: [tx.executions.get_by_id(i)["lease_owner"] for i in ids])
    assert leased == [None, "node-a", None, "node-a"]


def _started_one(ctx: ServiceContext, name: str, definition: dict[str, Any]) -> str:
    """Create a state machine and start one execution of it; the execution's ARN."""
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": name, "definition": json.dumps(definition), "roleArn": ROLE}
    )["stateMachineArn"]
    return str(executions.start_execution(ctx, {"stateMachineArn": machine})["executionArn"])


def _history(ctx: ServiceContext, arn: str) -> list[str]:
    page = executions.get_execution_history(ctx, {"executionArn": arn, "maxResults": 1000})
    return [e["type"] for e in page["events"]]


def _runnable(ctx: ServiceContext, arn: str) -> int:
    return int(ctx.store.run(lambda tx: tx.executions.get(arn))["runnable"])


def test_an_activity_is_scheduled_in_the_commit_that_enters_its_task(
    ctx: ServiceContext,
) -> None:
    from engine.services import activities

    activity = activities.create_activity(ctx, "us-east-1", {"name": "a"})["activityArn"]
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = _started_one(ctx, "act", definition)
    assert runtime.claim_and_decide(ctx, "node-a") == 1
    # One round: the task is offered to workers and ActivityScheduled recorded with it, and
    # nothing is left for another round of the decider.
    assert _history(ctx, arn) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
    ]
    assert _runnable(ctx, arn) == 0
    assert runtime.claim_and_decide(ctx, "node-a") == 0


def test_tasks_answered_inside_the_commit_run_on_in_the_same_round(ctx: ServiceContext) -> None:
    def send(following: str | None) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/missing",
                "MessageBody": "x",
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": following or "Done"}],
            "Next": following or "Done",
        }
        return state

    definition = {
        "StartAt": "S1",
        "States": {
            "S1": send("S2"),
            "S2": send("S3"),
            "S3": send(None),
            "Done": {"Type": "Succeed"},
        },
    }
    arn = _started_one(ctx, "sends", definition)
    assert runtime.claim_and_decide(ctx, "node-a") == 1
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "SUCCEEDED"
    types = _history(ctx, arn)
    assert types.count("TaskFailed") == 3 and types[-1] == "ExecutionSucceeded"
    # The stored answers replay to the same history.
    recorded, live = runtime.rebuild(
        ctx, int(ctx.store.run(lambda tx: tx.executions.get(arn))["id"])
    )
    assert [e.type for e in live.interpreter.events] == [e.type for e in recorded]


def _waiting_on_an_activity(ctx: ServiceContext) -> tuple[str, str, Any]:
    from functools import partial

    from engine.services import activities, tasks
    from workers.engine import EngineLoops

    activity = activities.create_activity(ctx, "us-east-1", {"name": "inline"})["activityArn"]
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": activity, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    arn = _started_one(ctx, "inline", definition)
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    # What EngineLoops.start sets: answers are decided in the thread that receives them.
    ctx.decide_answer = partial(runtime.decide_answer, ctx, loops.owner)
    task = tasks.claim_activity_task(ctx, activity, "w")
    assert task is not None
    return arn, task["taskToken"], loops


def test_an_answer_is_decided_before_send_task_success_returns(ctx: ServiceContext) -> None:
    from engine.services import tasks

    arn, token, _ = _waiting_on_an_activity(ctx)
    tasks.send_task_success(ctx, {"taskToken": token, "output": '{"done": true}'})
    # No decider round ran: the answering call itself moved the execution on.
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"done": True}
    types = _history(ctx, arn)
    assert types.count("ActivityStarted") == 1 and types[-1] == "ExecutionSucceeded"


def test_an_answer_for_an_execution_not_in_memory_goes_to_the_decider(
    ctx: ServiceContext,
) -> None:
    from engine.services import tasks

    arn, token, loops = _waiting_on_an_activity(ctx)
    runtime._cache(ctx).entries.clear()  # as after a restart, or on another node
    tasks.send_task_success(ctx, {"taskToken": token, "output": "1"})
    assert executions.describe_execution(ctx, {"executionArn": arn})["status"] == "RUNNING"
    loops.run_until_idle()
    assert executions.describe_execution(ctx, {"executionArn": arn})["status"] == "SUCCEEDED"


def test_an_answer_whose_decision_fails_is_still_recorded(
    ctx: ServiceContext, monkeypatch: Any
) -> None:
    from engine.services import tasks

    arn, token, loops = _waiting_on_an_activity(ctx)
    real = runtime._commit_all
    failures = iter([True])

    def failing(tx: Any, owner: str, pending: Any) -> Any:
        if next(failures, False):
            raise RuntimeError("the database went away")
        return real(tx, owner, pending)

    monkeypatch.setattr(runtime, "_commit_all", failing)
    tasks.send_task_success(ctx, {"taskToken": token, "output": '{"kept": 1}'})
    # The decision in the answer's transaction failed: the answer was committed alone ...
    assert executions.describe_execution(ctx, {"executionArn": arn})["status"] == "RUNNING"
    with pytest.raises(ServiceError, match="Task Timed Out"):
        tasks.send_task_success(ctx, {"taskToken": token, "output": "2"})
    # ... and the decider moves the execution on with it.
    loops.run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": arn})
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"kept": 1}


def test_a_refused_answer_writes_nothing(ctx: ServiceContext) -> None:
    from engine.services import tasks

    arn, token, loops = _waiting_on_an_activity(ctx)
    with pytest.raises(ServiceError, match="Invalid token"):
        tasks.send_task_success(ctx, {"taskToken": "", "output": "1"})
    with pytest.raises(ServiceError, match="does not exist"):
        tasks.send_task_success(ctx, {"taskToken": token + "x", "output": "1"})
    loops.run_until_idle()
    assert executions.describe_execution(ctx, {"executionArn": arn})["status"] == "RUNNING"
    assert _history(ctx, arn)[-1] == "ActivityStarted"


def test_a_commit_that_fails_after_a_follow_on_decision_leaves_no_trace(
    ctx: ServiceContext, monkeypatch: Any
) -> None:
    from engine.services import activities
    from engine.store.executions import ExecutionRepository

    activity = activities.create_activity(ctx, "us-east-1", {"name": "flaky"})["activityArn"]
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = _started_one(ctx, "flaky", definition)
    real = ExecutionRepository.insert_events
    failures = iter([True])  # the first commit fails once

    def failing(self: Any, rows: list[dict[str, Any]]) -> None:
        if next(failures, False):
            raise RuntimeError("the database went away")
        real(self, rows)

    monkeypatch.setattr(ExecutionRepository, "insert_events", failing)
    runtime.claim_and_decide(ctx, "node-a")  # its interpreter ran ahead, nothing committed
    assert _history(ctx, arn) == ["ExecutionStarted"]
    for _ in range(3):
        runtime.claim_and_decide(ctx, "node-a")  # rebuilt from the database, decided again
    assert _history(ctx, arn) == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled"]
    row = ctx.store.run(lambda tx: tx.executions.get(arn))
    recorded, live = runtime.rebuild(ctx, int(row["id"]))
    assert [e.type for e in live.interpreter.events] == [e.type for e in recorded]
