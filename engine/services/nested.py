"""Nested executions: the ``arn:aws:states:::states:startExecution`` integration.

The plain form answers as soon as the child has started; ``.sync`` and ``.sync:2`` answer
when the child ends (AWS's "Run a Job" pattern, with the child's output as a JSON string or as
JSON); ``.waitForTaskToken`` answers when someone sends the token. A child is started in the
parent's decision transaction, and its end answers the parent in the child's final one.
"""

from __future__ import annotations

import uuid
from typing import Any

from engine import codec
from engine.errors import ServiceError
from engine.services import arns, integrations, versions
from engine.services.executions import insert_execution, parse_input
from engine.services.resolutions import resolve as _resolve

_SYNC = ("sync", "sync:2")


def is_start_execution(payload: dict[str, Any]) -> bool:
    """Whether a Task request is states:startExecution (any pattern)."""
    return (
        payload.get("kind") == "service"
        and payload.get("service") == "states"
        and (payload.get("action") == "startExecution")
    )


def _start_failure(exc: _NotStarted) -> dict[str, str]:
    """The error and cause a refused StartExecution fails the Task with."""
    if exc.code in ("StateMachineDoesNotExist", "ExecutionAlreadyExists"):
        failure = _sdk_failure(exc.code, exc.message)
        return {"error": failure["error"], "cause": failure["cause"]}
    return {"error": "StepFunctions.InvalidExecutionInputException", "cause": exc.message}


def _sdk_failure(code: str, message: str) -> dict[str, Any]:
    return {
        "status": "failed",
        "error": f"StepFunctions.{code}Exception",
        "cause": f"{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)",
    }


class _NotStarted(Exception):
    """StartExecution refused: the API error ``code`` (e.g. StateMachineDoesNotExist)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _start(tx: Any, params: dict[str, Any], now: float, parent: tuple[int, int, str] | None) -> str:
    """StartExecution inside the caller's transaction: the new execution's ARN."""
    sm_arn = str(params.get("StateMachineArn"))
    try:
        machine = versions.resolve(tx, sm_arn)
    except ServiceError as exc:  # not a state machine ARN at all
        raise _NotStarted(exc.code, exc.message) from exc
    if machine is None:
        raise _NotStarted("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{sm_arn}'")
    raw = params.get("Input")
    input_text = raw if isinstance(raw, str) else codec.dumps({} if raw is None else raw)
    name = params.get("Name") or str(uuid.uuid4())
    try:
        arns.check_name(name)
        value = parse_input(input_text)
    except ServiceError as exc:  # a bad Name or Input fails the call, as the SDK's would
        raise _NotStarted(exc.code, exc.message) from exc
    arn = arns.execution_arn(machine["arn"], name)
    if insert_execution(tx, machine, arn, name, input_text, value, now, parent=parent) is None:
        raise _NotStarted("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
    return arn


def _started(arn: str, now: float) -> dict[str, Any]:
    """The StartExecution response."""
    return {"ExecutionArn": arn, "StartDate": int(now * 1000)}


def _with_metadata(started: dict[str, Any], now: float) -> dict[str, Any]:
    """The response as the optimized integration records it, with the SDK metadata (the
    Content-Length the recordings show: the compact body's length plus 20)."""
    return integrations.with_json_metadata(started, now, len(codec.dumps(started)) + 20)


def start_child(tx: Any, execution_id: int, request: Any, now: float) -> None:
    """Start the child execution a parent's Task asks for, inside the parent's commit."""
    payload = request.payload
    params = payload.get("parameters") or {}
    pattern = payload.get("pattern") or ""
    parent = (execution_id, request.seq, pattern) if pattern in _SYNC else None
    _resolve(tx, execution_id, request.seq, now, status="started")
    try:
        arn = _start(tx, params, now, parent)
    except _NotStarted as exc:
        _resolve(tx, execution_id, request.seq, now, status="failed", **_start_failure(exc))
        return
    if pattern in _SYNC:
        # The task's $$.Task.Token answers it too: AWS closes a .sync task with whatever
        # SendTaskSuccess / SendTaskFailure sends before the child ends (conformance callback
        # test_sync_with_task_token). The row makes the token known; no worker polls for it.
        tx.tasks.insert(
            {
                "token": payload["token"],
                "execution_id": execution_id,
                "request_seq": request.seq,
                "kind": "child",
                "resource": arn,
                "target": payload["resource"],
                "input": codec.dumps(params),
                "status": "STARTED",
                "created_at": now,
                "started_at": now,
                # TimeoutSeconds bounds the wait for the child like any Task (the reaper
                # closes it with States.Timeout; the child runs on, as on AWS).
                "timeout_at": now + payload["timeout"] if payload.get("timeout") else None,
            }
        )
    response = _with_metadata(_started(arn, now), now)
    if pattern in _SYNC:
        _resolve(tx, execution_id, request.seq, now, status="submitted", output=response)
    elif pattern == "":
        _resolve(tx, execution_id, request.seq, now, status="succeeded", output=response)


# --- arn:aws:states:::aws-sdk:sfn:<operation> --------------------------------------------------
def aws_sdk(tx: Any, call: integrations.Call) -> dict[str, Any]:
    """The AWS SDK integration of Step Functions itself. ``startExecution`` answers with the
    API response (``ExecutionArn``, ``StartDate``; no SDK v1 envelope) and fails with
    ``Sfn.<Code>Exception`` and the SDK v2 cause text, as recorded (conformance aws_sdk
    test_sfn_start_execution; the error form of error_handling_test_aws_sdk)."""
    if call.action != "startExecution":
        raise integrations.IntegrationError(
            "States.Runtime",
            f"Stepwell does not serve the resource 'arn:aws:states:::aws-sdk:sfn:{call.action}' "
            "yet.",
        )
    params = call.parameters if isinstance(call.parameters, dict) else {}
    try:
        arn = _start(tx, params, call.now, None)
    except _NotStarted as exc:
        name = exc.code if exc.code.endswith("Exception") else f"{exc.code}Exception"
        raise integrations.IntegrationError(
            f"Sfn.{name}",
            f"{exc.message} (Service: Sfn, Status Code: 400, Request ID: {uuid.uuid4()})",
        ) from exc
    return _started(arn, call.now)


integrations.register("aws-sdk:sfn", aws_sdk)


# --- arn:aws:states:::states:startExecution.waitForTaskToken -----------------------------------
def start_for_callback(tx: Any, call: integrations.Call) -> dict[str, Any]:
    """``startExecution.waitForTaskToken``: start the child (its input carries the token,
    placed there by the definition from ``$$.Task.Token``) and answer with the StartExecution
    response; the task then waits for SendTaskSuccess/SendTaskFailure on that token. The
    .sync forms and the plain form are started by ``start_child``."""
    if call.action != "startExecution":
        raise integrations.IntegrationError(
            "States.Runtime",
            f"Stepwell does not serve the resource 'arn:aws:states:::states:{call.action}' yet.",
        )
    params = call.parameters if isinstance(call.parameters, dict) else {}
    try:
        arn = _start(tx, params, call.now, None)
    except _NotStarted as exc:
        failure = _start_failure(exc)
        raise integrations.IntegrationError(failure["error"], failure["cause"]) from exc
    return _with_metadata(_started(arn, call.now), call.now)


integrations.register("states", start_for_callback)


def execution_ended(tx: Any, row: dict[str, Any], now: float) -> None:
    """A child ended: answer the parent that waits for it with .sync / .sync:2."""
    parent_id = row.get("parent_id")
    if parent_id is None or row.get("parent_pattern") not in _SYNC:
        return
    task = tx.tasks.for_request(parent_id, row["parent_request_seq"])
    if task is not None and not tx.tasks.finish(task["id"]):
        return  # the parent's task was answered by its token, or has ended with the parent
    json_output = row["parent_pattern"] == "sync:2"
    described: dict[str, Any] = {
        "ExecutionArn": row["arn"],
        "Input": codec.loads(row["input"]) if json_output else row["input"],
        "InputDetails": {"Included": True},
        "Name": row["name"],
        "StartDate": int(row["start_date"] * 1000),
        "StateMachineArn": row["state_machine_arn"],
        "Status": row["status"],
        "StopDate": int(now * 1000),
    }
    if row["status"] == "SUCCEEDED":
        output = row.get("output") or "null"
        described["Output"] = codec.loads(output) if json_output else output
        described["OutputDetails"] = {"Included": True}
        if not json_output:
            described.update(
                RedriveCount=0,
                RedriveStatus="NOT_REDRIVABLE",
                RedriveStatusReason="Execution is SUCCEEDED and cannot be redriven",
            )
        _resolve(
            tx, parent_id, row["parent_request_seq"], now, status="succeeded", output=described
        )
        return
    if row.get("error") is not None:
        described["Error"] = row["error"]
    if row.get("cause") is not None:
        described["Cause"] = row["cause"]
    _resolve(
        tx,
        parent_id,
        row["parent_request_seq"],
        now,
        status="failed",
        error="States.TaskFailed",
        cause=codec.dumps(described),
    )
