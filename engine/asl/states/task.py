"""Task: hands work to a resource outside the interpreter (ASL spec, "Task State").

The interpreter frames the call: it evaluates the parameters, records the scheduling events
AWS records for the kind of resource (Activity*, LambdaFunction* or Task* events), yields
``Await("task")`` and turns each answer into history: "started" (and "submitted") are progress,
after which the fiber keeps waiting on the same request; "succeeded", "failed" and
"timed_out" end the attempt. Who runs the task is decided outside ``engine.asl``.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName, StatesError
from engine.asl.fibers import AwaitMore
from engine.asl.interpreter import Interpreter, Outcome, StateCall, next_of
from engine.asl.jsonvalue import encode
from engine.asl.resources import Resource, classify
from engine.asl.retry import guarded
from engine.asl.states.common import jsonata_field, state_error

# Event type prefixes and what each kind adds to its events.
_PREFIX = {"activity": "Activity", "function": "LambdaFunction", "service": "Task"}


def task_token(execution_arn: str, seq: int) -> str:
    """The token of the task a request creates: derived from the execution and the request
    number, so replay reproduces the same ``$$.Task.Token``."""
    raw = f"{execution_arn}#{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Schedule the task, await its outcome; Retry and Catch apply to its failure."""
    return (yield from guarded(interp, call, lambda: _attempt(interp, call)))


def _region(interp: Interpreter) -> str:
    parts = interp.info.execution_arn.split(":")
    return parts[3] if len(parts) > 3 else "us-east-1"


def _attempt(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    state = call.state
    resource = classify(state["Resource"], _region(interp))
    seq = interp.scheduler.request_seq + 1  # the number the Await below will get
    token = task_token(interp.info.execution_arn, seq)
    if resource.pattern or resource.kind == "activity":
        # $$.Task exists only where a task token is handed out (.waitForTaskToken, .sync, an
        # activity): a plain call's context object has none (recorded AWS histories of Lambda
        # tasks that pass the whole $$).
        call.ctx.context_object = {**call.ctx.context_object, "Task": {"Token": token}}
    if call.jsonata:
        parameters = jsonata_field(call, "Arguments") if "Arguments" in state else None
        if parameters is None:
            parameters = call.input if resource.kind != "service" else {}
        timeout = jsonata_field(call, "TimeoutSeconds") if "TimeoutSeconds" in state else None
        heartbeat = jsonata_field(call, "HeartbeatSeconds") if "HeartbeatSeconds" in state else None
    else:
        value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
        parameters = value
        if "Parameters" in state:
            parameters = paths.evaluate_payload(state["Parameters"], value, call.ctx)
        timeout = _seconds(call, "TimeoutSeconds", value)
        heartbeat = _seconds(call, "HeartbeatSeconds", value)
    if resource.callback and timeout is None:
        timeout = None  # a callback waits until answered (AWS: up to a year)
    scheduled = _scheduled(resource, parameters, timeout, heartbeat)
    if "Credentials" in state and resource.kind != "activity":
        # The role the task would assume (AWS records it on the *Scheduled event; Stepwell
        # runs every task as its own user).
        scheduled["taskCredentials"] = {"roleArn": _role_arn(call, state["Credentials"])}
    # An activity is scheduled only if it exists, which the dispatcher learns: it answers
    # "scheduled" (ActivityScheduled is recorded then, stamped when the task was created) or
    # "rejected" (no activity events at all; the state fails, as AWS records a deleted
    # activity: conformance activities test_activity_task_on_deleted).
    deferred = resource.kind == "activity"
    if not deferred:
        interp.emit(call.fiber, f"{_PREFIX.get(resource.kind, 'Task')}Scheduled", scheduled)
    resolution = yield interp.await_task(
        call,
        {
            "kind": resource.kind,
            "resource": resource.arn,
            "name": resource.name,
            "service": resource.service,
            "action": resource.action,
            "pattern": resource.pattern,
            "parameters": parameters,
            "timeout": timeout,
            "heartbeat": heartbeat,
            "token": token,
            "region": resource.region,
            "account": interp.info.execution_arn.split(":")[4],
        },
    )
    while True:
        status = resolution.get("status")
        if deferred:
            if status == "rejected":
                error = resolution.get("error") or ErrorName.RUNTIME
                raise state_error(call, resolution.get("cause") or "", error)
            deferred = False
            interp.emit(call.fiber, "ActivityScheduled", scheduled, at=resolution.get("at"))
            if status == "scheduled":
                resolution = yield AwaitMore(seq)
                continue
        if status in ("started", "submitted"):
            _progress(interp, call, resource, status, resolution)
            resolution = yield AwaitMore(seq)
            continue
        if status == "succeeded":
            output = resolution.get("output")
            interp.emit(
                call.fiber,
                f"{_PREFIX.get(resource.kind, 'Task')}Succeeded",
                _with_service(
                    resource, {"output": encode(output), "outputDetails": {"truncated": False}}
                ),
            )
            return interp.finish(call, output, next_of(state))
        error = resolution.get("error") or ErrorName.TASK_FAILED
        cause = resolution.get("cause") or ""
        suffix = "TimedOut" if status == "timed_out" else "Failed"
        details: dict[str, Any] = {"error": error}
        if cause or status != "timed_out":
            details["cause"] = cause
        if status == "failed" and resolution.get("error", "") is None:
            # SendTaskFailure without an error: AWS records none (nor a cause not given), and
            # a Catcher sees {"Error": null, "Cause": null} (conformance callback test_sqs_failure_in_
            # wait_for_task_tok_no_error_field).
            error, details = "", {}
            if resolution.get("cause") is not None:
                details["cause"] = cause
        interp.emit(
            call.fiber,
            f"{_PREFIX.get(resource.kind, 'Task')}{suffix}",
            _with_service(resource, details),
        )
        failure = StatesError(error, cause)
        failure.omit_error = "error" not in details
        # A timeout carries no cause: AWS records only the error, on the *TimedOut event and on
        # the ExecutionFailed it leads to (conformance activities test_activity_task_start_timeout,
        # timeouts test_fixed_timeout_service_lambda, test_heartbeat_timeout).
        failure.omit_cause = "cause" not in details
        raise failure


def _role_arn(call: StateCall, credentials: dict[str, Any]) -> Any:
    """The role a Task assumes (recorded only; Stepwell runs everything as its own user)."""
    if call.jsonata:
        return jsonata_field(call, "Credentials").get("RoleArn")
    return paths.evaluate_payload(credentials, call.input, call.ctx, field="Credentials").get(
        "RoleArn"
    )


def _names(resource: Resource) -> dict[str, str]:
    """The ``resourceType`` and ``resource`` a service Task's events record: ``sqs`` and
    ``sendMessage.waitForTaskToken``; for an AWS SDK integration the SDK's service joins the
    type (``aws-sdk:s3`` and ``putObject``), as every recorded aws-sdk history shows."""
    service, action = resource.service, resource.action
    if service == "aws-sdk" and ":" in action:
        sdk_service, action = action.split(":", 1)
        service = f"aws-sdk:{sdk_service}"
    name = action + (f".{resource.pattern}" if resource.pattern else "")
    return {"resourceType": service, "resource": name}


def _scheduled(resource: Resource, parameters: Any, timeout: Any, heartbeat: Any) -> dict[str, Any]:
    if resource.kind == "service":
        details: dict[str, Any] = {
            **_names(resource),
            "region": resource.region,
            "parameters": encode(parameters),
        }
    else:
        details = {
            "resource": resource.arn,
            "input": encode(parameters),
            "inputDetails": {"truncated": False},
        }
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    return details


def _with_service(resource: Resource, details: dict[str, Any]) -> dict[str, Any]:
    if resource.kind != "service":
        return details
    return {**_names(resource), **details}


def _progress(
    interp: Interpreter, call: StateCall, resource: Resource, status: str, res: dict[str, Any]
) -> None:
    if status == "submitted":
        output = res.get("output")
        interp.emit(
            call.fiber,
            "TaskSubmitted",
            _with_service(
                resource, {"output": encode(output), "outputDetails": {"truncated": False}}
            ),
        )
        return
    # A worker's claim records when it took the task ("at"): the event keeps that moment even
    # when the decider writes it later, together with the task's answer.
    at = res.get("at")
    if resource.kind == "activity":
        # A worker that polled without a workerName is recorded without one (AWS omits the
        # field: conformance activities test_activity_task_no_worker_name).
        details = {"workerName": res["worker"]} if res.get("worker") else {}
        interp.emit(call.fiber, "ActivityStarted", details, at=at)
    elif resource.kind == "function":
        interp.emit(call.fiber, "LambdaFunctionStarted", None, at=at)
    else:
        interp.emit(call.fiber, "TaskStarted", _with_service(resource, {}), at=at)


def _seconds(call: StateCall, field: str, value: Any) -> int | None:
    state = call.state
    if field in state:
        return int(state[field])
    path_field = f"{field}Path"
    if path_field in state:
        seconds = paths.read_path(state[path_field], value, call.ctx)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise state_error(
                call,
                f'The {path_field} field refers to value "{seconds}" '
                f"which is not a positive integer.",
            )
        return seconds
    return None
