"""Activities over the wire with boto3: workers long-poll, answer by token, time out."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.server import sqs_client

ROLE = "arn:aws:iam::123456789012:role/test"


def machine(sfn: Any, name: str, state: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    definition = {"StartAt": "Work", "States": {"Work": state, **(extra or {})}}
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]


def finish(sfn: Any, arn: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    return described


def types(sfn: Any, arn: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]


def test_activity_round_trip_and_long_poll(sfn: Any) -> None:
    activity = sfn.create_activity(name="greeter")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["name"] == "greeter"
    assert [a["name"] for a in sfn.list_activities()["activities"]] == ["greeter"]
    sm = machine(sfn, "act", {"Type": "Task", "Resource": activity, "End": True})
    got: dict[str, Any] = {}
    poller = threading.Thread(
        target=lambda: got.update(sfn.get_activity_task(activityArn=activity, workerName="w1"))
    )
    poller.start()  # waiting before the task exists: it must be woken, not time out
    time.sleep(0.2)
    ex = sfn.start_execution(stateMachineArn=sm, input='{"who": "world"}')["executionArn"]
    poller.join(30)
    assert json.loads(got["input"]) == {"who": "world"}
    sfn.send_task_heartbeat(taskToken=got["taskToken"])
    sfn.send_task_success(taskToken=got["taskToken"], output='{"hello": "world"}')
    described = finish(sfn, ex)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"hello": "world"}
    history = sfn.get_execution_history(executionArn=ex)["events"]
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert history[3]["activityStartedEventDetails"]["workerName"] == "w1"
    with pytest.raises(ClientError) as err:
        sfn.send_task_success(taskToken=got["taskToken"], output="{}")
    assert err.value.response["Error"]["Code"] == "TaskTimedOut"


def test_activity_started_is_recorded_unanswered_and_keeps_the_claim_time(
    sfn: Any, endpoint: str
) -> None:
    activity = sfn.create_activity(name="slow")["activityArn"]
    sm = machine(sfn, "slow", {"Type": "Task", "Resource": activity, "End": True})
    ex = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w1")
    # A claim does not wake the decider (nothing waits on it), yet ActivityStarted reaches the
    # history without an answer, on the decider's idle poll.
    deadline = time.time() + 10
    while "ActivityStarted" not in types(sfn, ex) and time.time() < deadline:
        time.sleep(0.05)
    assert "ActivityStarted" in types(sfn, ex)
    httpx.post(f"{endpoint}/_stepwell/clock", json={"advance": 100})
    sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert finish(sfn, ex)["status"] == "SUCCEEDED"
    stamps = {
        e["type"]: e["timestamp"].timestamp()
        for e in sfn.get_execution_history(executionArn=ex)["events"]
    }
    # The event carries when the worker took the task, not when the decider wrote it.
    assert stamps["ActivitySucceeded"] - stamps["ActivityStarted"] >= 99
    assert stamps["ActivityStarted"] >= stamps["ActivityScheduled"]


def test_failure_is_caught(sfn: Any) -> None:
    activity = sfn.create_activity(name="flaky")["activityArn"]
    sm = machine(
        sfn,
        "catching",
        {
            "Type": "Task",
            "Resource": activity,
            "End": True,
            "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Handled"}],
        },
        {"Handled": {"Type": "Pass", "End": True}},
    )
    ex = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w")
    sfn.send_task_failure(taskToken=task["taskToken"], error="Boom", cause="it broke")
    described = finish(sfn, ex)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"err": {"Error": "Boom", "Cause": "it broke"}}
    assert "ActivityFailed" in types(sfn, ex)


def test_heartbeat_timeout_then_retry_on_another_worker(sfn: Any, endpoint: str) -> None:
    activity = sfn.create_activity(name="slow")["activityArn"]
    sm = machine(
        sfn,
        "hb",
        {
            "Type": "Task",
            "Resource": activity,
            "HeartbeatSeconds": 10,
            "End": True,
            "Retry": [
                {"ErrorEquals": ["States.HeartbeatTimeout"], "IntervalSeconds": 1, "MaxAttempts": 1}
            ],
        },
    )
    ex = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    lost = sfn.get_activity_task(activityArn=activity, workerName="dies")
    assert lost["taskToken"]
    httpx.post(f"{endpoint}/_stepwell/clock", json={"advance": 11})  # no heartbeat came
    deadline = time.time() + 10
    while "ActivityTimedOut" not in types(sfn, ex) and time.time() < deadline:
        time.sleep(0.05)
    httpx.post(f"{endpoint}/_stepwell/clock", json={"advance": 2})  # the retry back-off
    second = sfn.get_activity_task(activityArn=activity, workerName="survivor")
    sfn.send_task_success(taskToken=second["taskToken"], output='"done"')
    described = finish(sfn, ex)
    assert described["status"] == "SUCCEEDED" and described["output"] == '"done"'
    history = types(sfn, ex)
    assert history.count("ActivityScheduled") == 2 and history.count("ActivityTimedOut") == 1
    with pytest.raises(ClientError) as err:
        sfn.send_task_success(taskToken=lost["taskToken"], output="{}")
    assert err.value.response["Error"]["Code"] == "TaskTimedOut"


def test_bad_tokens_and_unknown_activity(sfn: Any, endpoint: str) -> None:
    with pytest.raises(ClientError) as err:
        sfn.send_task_success(taskToken="nope", output="{}")
    assert err.value.response["Error"]["Code"] == "TaskDoesNotExist"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    raw = httpx.post(
        endpoint,
        json={"taskToken": 12, "output": "{}"},
        headers={
            "X-Amz-Target": "AWSStepFunctions.SendTaskSuccess",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert raw.status_code == 400 and raw.json()["__type"] == "InvalidToken"
    missing = "arn:aws:states:us-east-1:123456789012:activity:missing"
    with pytest.raises(ClientError) as err:
        sfn.get_activity_task(activityArn=missing)
    assert err.value.response["Error"]["Code"] == "ActivityDoesNotExist"
    activity = sfn.create_activity(name="x")["activityArn"]
    sfn.delete_activity(activityArn=activity)
    assert sfn.list_activities()["activities"] == []


def test_wait_for_task_token_callback(sfn: Any, endpoint: str) -> None:
    sqs = sqs_client(endpoint)
    queue = sqs.create_queue(QueueName="callbacks")["QueueUrl"]
    sm = machine(
        sfn,
        "cb",
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": queue,
                "MessageBody": {"token.$": "$$.Task.Token"},
            },
            "End": True,
        },
    )
    ex = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10).get("Messages", [])
    assert received
    token = json.loads(received[0]["Body"])["token"]
    sfn.send_task_success(taskToken=token, output='{"answer": 42}')
    described = finish(sfn, ex)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"answer": 42}


def test_activity_scheduled_without_a_worker_and_started_without_a_worker_name(
    sfn: Any, ctx: Any
) -> None:
    activity = sfn.create_activity(name="idle")["activityArn"]
    sm = machine(sfn, "idle", {"Type": "Task", "Resource": activity, "End": True})
    ex = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    # ActivityScheduled is recorded once the task exists, before any worker asks for it.
    deadline = time.time() + 10
    while "ActivityScheduled" not in types(sfn, ex) and time.time() < deadline:
        time.sleep(0.02)
    assert types(sfn, ex) == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled"]
    task = sfn.get_activity_task(activityArn=activity)  # no workerName
    sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert finish(sfn, ex)["status"] == "SUCCEEDED"
    started = [
        e
        for e in sfn.get_execution_history(executionArn=ex)["events"]
        if e["type"] == "ActivityStarted"
    ]
    # AWS leaves workerName out when the worker gave none.
    assert started and "workerName" not in started[0].get("activityStartedEventDetails", {})
    # Replaying the stored answers rebuilds the stored history (ActivityScheduled included).
    from engine.services import runtime

    row = ctx.store.run(lambda tx: tx.executions.get(ex))
    stored, live = runtime.rebuild(ctx, row["id"])
    assert [(e.type, e.id, e.previous_event_id) for e in live.interpreter.events] == [
        (e.type, e.id, e.previous_event_id) for e in stored
    ]


def test_a_deleted_activity_fails_the_state_before_scheduling(sfn: Any) -> None:
    activity = sfn.create_activity(name="gone")["activityArn"]
    sm = machine(
        sfn,
        "gone",
        {
            "Type": "Task",
            "Resource": activity,
            "End": True,
            # States.Runtime is terminal: States.ALL does not catch it.
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
        },
        {"Handled": {"Type": "Pass", "End": True}},
    )
    sfn.delete_activity(activityArn=activity)
    ex = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    described = finish(sfn, ex)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"] == (
        "An error occurred while executing the state 'Work' (entered at the event id #2). "
        f"The activity {activity} does not exist."
    )
    assert types(sfn, ex) == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]


def test_a_timed_out_activity_fails_the_execution_without_a_cause(ctx: Any) -> None:
    # AWS records a Task timeout with its error only: on ActivityTimedOut, on ExecutionFailed
    # and in DescribeExecution (no "cause": "").
    from engine.services import activities, executions, state_machines, tasks
    from workers.engine import EngineLoops

    activity = activities.create_activity(ctx, "us-east-1", {"name": "late"})["activityArn"]
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 5, "End": True}
        },
    }
    sm = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "late", "definition": json.dumps(definition), "roleArn": ROLE}
    )["stateMachineArn"]
    ex = executions.start_execution(ctx, {"stateMachineArn": sm})["executionArn"]
    loops = EngineLoops(ctx)
    loops.run_until_idle()
    ctx.clock.advance(6)
    tasks.reap_overdue(ctx)
    loops.run_until_idle()
    described = executions.describe_execution(ctx, {"executionArn": ex})
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"
    assert "cause" not in described
    events = executions.get_execution_history(ctx, {"executionArn": ex})["events"]
    assert [e["type"] for e in events][-2:] == ["ActivityTimedOut", "ExecutionFailed"]
    assert events[-2]["activityTimedOutEventDetails"] == {"error": "States.Timeout"}
    assert events[-1]["executionFailedEventDetails"] == {"error": "States.Timeout"}


def test_a_waiting_poller_is_handed_the_task_by_the_decision(ctx: Any, sfn: Any) -> None:

    activity = sfn.create_activity(name="handed")["activityArn"]
    sm = machine(sfn, "handed", {"Type": "Task", "Resource": activity, "End": True})
    got: list[dict[str, Any]] = []

    def poll(worker: str) -> None:
        got.append(sfn.get_activity_task(activityArn=activity, workerName=worker))

    pollers = [threading.Thread(target=poll, args=(f"w{i}",)) for i in range(2)]
    for poller in pollers:
        poller.start()
    deadline = time.time() + 10
    while ctx.handoffs.waiting(f"activity:{activity}") < 2:
        assert time.time() < deadline, "the pollers never started waiting"
        time.sleep(0.01)
    arns = [
        sfn.start_execution(stateMachineArn=sm, input=json.dumps({"n": n}))["executionArn"]
        for n in range(2)
    ]
    for poller in pollers:
        poller.join(30)
    # Each waiting poller got one of the tasks, and the decision that scheduled a task also
    # recorded who took it: the history says so before any answer.
    assert sorted(json.loads(task["input"])["n"] for task in got) == [0, 1]
    assert ctx.handoffs.waiting(f"activity:{activity}") == 0
    workers = set()
    for arn in arns:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        assert [e["type"] for e in events][-2:] == ["ActivityScheduled", "ActivityStarted"]
        workers.add(events[-1]["activityStartedEventDetails"]["workerName"])
    assert workers == {"w0", "w1"}
    for task in got:
        sfn.send_task_success(taskToken=task["taskToken"], output=task["input"])
    for n, arn in enumerate(arns):
        described = finish(sfn, arn)
        assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": n}
