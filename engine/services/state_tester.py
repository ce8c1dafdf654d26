"""TestState: run one state on an input, without a state machine or an execution.

The state is wrapped in a throw-away machine (its Next targets become Succeed states, so the
state runs exactly as it would in a workflow) and run by the same interpreter, in memory. A
Wait does not wait; a Retry that would run again answers RETRIABLE; a Catch answers
CAUGHT_ERROR. Task states answer from ``mock`` when given; without one, a Task fails, since
TestState here has no credentials to call a real resource.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine import codec
from engine.asl import parser, paths
from engine.asl.context import EvalContext
from engine.asl.interpreter import ExecutionInfo, Interpreter
from engine.errors import InvalidDefinitionError, ValidationError
from engine.services.context import ServiceContext

_LEVELS = ("INFO", "DEBUG", "TRACE")


def _targets(state: dict[str, Any]) -> set[str]:
    names = {state["Next"]} if isinstance(state.get("Next"), str) else set()
    for rule in state.get("Choices", []):
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            names.add(rule["Next"])
    if isinstance(state.get("Default"), str):
        names.add(state["Default"])
    for catcher in state.get("Catch", []):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            names.add(catcher["Next"])
    return names


def _machine(request: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(state name, state, wrapping machine) for the definition TestState was given."""
    text = request.get("definition")
    if not isinstance(text, str):
        raise ValidationError(
            "1 validation error detected: Value null at 'definition' failed "
            "to satisfy constraint: Member must not be null"
        )
    try:
        given = json.loads(text)
    except ValueError as exc:
        raise InvalidDefinitionError(
            f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'"
        ) from exc
    if not isinstance(given, dict):
        raise InvalidDefinitionError(
            "Invalid State Machine Definition: 'the state must be an object'"
        )
    language = "JSONPath"
    name: str
    if "States" in given:
        name = str(request.get("stateName") or given.get("StartAt"))
        state = given.get("States", {}).get(name)
        language = given.get("QueryLanguage", language)
        if not isinstance(state, dict):
            raise ValidationError(f"State '{name}' is not in the definition")
    else:
        name, state = str(request.get("stateName") or "TestState"), given
    states: dict[str, Any] = {name: state}
    for target in _targets(state) - {name}:
        states[target] = {"Type": "Succeed"}
    machine = {"StartAt": name, "QueryLanguage": language, "States": states}
    try:
        parser.parse_definition(json.dumps(machine))
    except parser.InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from exc
    return name, state, machine


def test_state(ctx: ServiceContext, region: str, request: dict[str, Any]) -> dict[str, Any]:
    """TestState."""
    name, state, machine = _machine(request)
    level = request.get("inspectionLevel") or "INFO"
    if level not in _LEVELS:
        raise ValidationError(f"Invalid inspectionLevel: '{level}'")
    input_text = request.get("input") or "{}"
    try:
        value = codec.loads(input_text)
    except ValueError as exc:
        raise ValidationError(f"Invalid input: {exc}") from exc
    now = ctx.clock.now()
    arn = f"arn:aws:states:{region}:{ctx.account}:execution:TestStateMachine:{uuid.uuid4()}"
    info = ExecutionInfo(
        execution_arn=arn,
        name=arn.rsplit(":", 1)[1],
        state_machine_arn=f"arn:aws:states:{region}:{ctx.account}:stateMachine:TestStateMachine",
        state_machine_name="TestStateMachine",
        role_arn=request.get("roleArn") or f"arn:aws:iam::{ctx.account}:role/stepwell",
        start_time=now,
        input=value,
    )
    interpreter = Interpreter(machine, info, lambda _index: now)
    interpreter.start()
    status = _drive(interpreter, request.get("mock"))
    out: dict[str, Any] = {}
    events = interpreter.events
    entered = [e for e in events if e.type.endswith("StateEntered")]
    exited = [e for e in events if e.type.endswith("StateExited")]
    if status == "RETRIABLE" or interpreter.status == "FAILED" and len(entered) < 2:
        out["status"] = "RETRIABLE" if status == "RETRIABLE" else "FAILED"
        if interpreter.status == "FAILED":
            out["error"], out["cause"] = interpreter.error or "", interpreter.cause or ""
        else:
            out["error"], out["cause"] = _last_error(interpreter)
    else:
        details = exited[0].details if exited else {}
        out["output"] = (details or {}).get("output", codec.dumps(interpreter.output))
        out["status"] = "SUCCEEDED"
        if len(entered) > 1:
            out["nextState"] = entered[1].details["name"] if entered[1].details else None
            if _caught(events):
                out["status"] = "CAUGHT_ERROR"
                out["error"], out["cause"] = _last_error(interpreter)
    if level in ("DEBUG", "TRACE"):
        out["inspectionData"] = _inspection(state, value, name, info)
    return out


def _drive(interpreter: Interpreter, mock: Any) -> str:
    """Answer the state's requests: Waits end at once; a Task answers from ``mock``."""
    for _ in range(100):
        pending = interpreter.pending
        if interpreter.status != "RUNNING" or not pending:
            return interpreter.status
        request = pending[0]
        if request.kind == "timer":
            if any(e.type.endswith("Failed") for e in interpreter.events):
                return "RETRIABLE"  # a retry back-off: TestState reports instead of retrying
            interpreter.resolve(request.seq, None)
        else:
            interpreter.resolve(request.seq, _mocked(mock))
    return interpreter.status


def _mocked(mock: Any) -> dict[str, Any]:
    if isinstance(mock, dict) and "result" in mock:
        return {"status": "succeeded", "output": codec.loads(mock["result"])}
    if isinstance(mock, dict) and isinstance(mock.get("errorOutput"), dict):
        failure = mock["errorOutput"]
        return {
            "status": "failed",
            "error": failure.get("error", ""),
            "cause": failure.get("cause", ""),
        }
    return {
        "status": "failed",
        "error": "States.TaskFailed",
        "cause": "TestState cannot call this resource without a mock result.",
    }


def _last_error(interpreter: Interpreter) -> tuple[str, str]:
    for event in reversed(interpreter.events):
        details = event.details or {}
        if "error" in details:
            return str(details.get("error")), str(details.get("cause", ""))
    return interpreter.error or "", interpreter.cause or ""


def _caught(events: list[Any]) -> bool:
    return any(e.type.endswith("Failed") and e.type != "ExecutionFailed" for e in events)


def _inspection(
    state: dict[str, Any], value: Any, name: str, info: ExecutionInfo
) -> dict[str, str]:
    """The JSONPath data-flow steps of the state, each as JSON text (DEBUG inspection)."""
    data: dict[str, str] = {"input": codec.dumps(value)}
    if state.get("QueryLanguage") == "JSONata":
        return data
    ctx = EvalContext(
        name, 2, {"Execution": {"Id": info.execution_arn, "Input": value}, "State": {"Name": name}}
    )
    try:
        after_input = paths.apply_input_path(state.get("InputPath", "$"), value, ctx)
        data["afterInputPath"] = codec.dumps(after_input)
        after_parameters = after_input
        if "Parameters" in state:
            after_parameters = paths.evaluate_payload(state["Parameters"], after_input, ctx)
        data["afterParameters"] = codec.dumps(after_parameters)
        if state.get("Type") == "Pass":
            result = state["Result"] if "Result" in state else after_parameters
            data["result"] = codec.dumps(result)
            data["afterResultSelector"] = codec.dumps(result)
            data["afterResultPath"] = codec.dumps(
                paths.apply_result_path(state.get("ResultPath", "$"), value, result, ctx)
            )
    except Exception:  # the run itself reports the failure; inspection shows what it could
        pass
    return data
