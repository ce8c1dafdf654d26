"""Test doubles for the Lambda functions the recorded cases call (shared/conformance/LAMBDAS.md):
each handler kind answers the way the deployed Python function did."""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine.services import tasks
from engine.services.context import ServiceContext

SLOW_KINDS = {"wait_60_seconds"}


def _error(message: str, error_type: str, line: int, source: str) -> dict[str, Any]:
    frame = f'  File "/var/task/handler.py", line {line}, in handler\n    {source}\n'
    return {
        "errorType": error_type,
        "error": {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": str(uuid.uuid4()),
            "stackTrace": [frame],
        },
    }


def answer(kind: str, event: Any) -> dict[str, Any] | None:
    """What a function of ``kind`` returns for ``event``: {"payload": text} or an error;
    None for a function that does not answer within the test (it sleeps)."""
    if kind == "id":
        return {"payload": json.dumps(event)}
    if kind == "echo":
        return {"payload": json.dumps({"Return": "HelloWorld"})}
    if kind == "return_bytes_str":
        return {"payload": '"HelloWorld!"'}
    if kind == "large_output_string":
        return {"payload": "a" * (257 * 1024)}
    if kind == "return_decorated_input":
        return {
            "payload": json.dumps(f"input-event-{event if isinstance(event, str) else event!r}")
        }
    if kind == "raise_exception":
        failure = _error(
            "Some exception was raised.",
            "Exception",
            2,
            'raise Exception("Some exception was raised.")',
        )
        return {"error": failure["errorType"], "cause": failure["error"]}
    if kind == "raise_custom_exception":
        failure = _error("", "CustomException", 9, "raise CustomException()")
        return {"error": failure["errorType"], "cause": failure["error"]}
    return None


def announce(ctx: ServiceContext, functions: dict[str, str | None]) -> None:
    """Tell the engine which functions exist (the ones the case deployed)."""
    names = [name for name, kind in functions.items() if kind]
    if names:
        tasks.poll(ctx, "conformance-worker", [], names)
        # Announcing is polling: nothing is scheduled yet, so nothing was claimed.


def serve(ctx: ServiceContext, functions: dict[str, str | None]) -> int:
    """Answer every scheduled task of these functions once; returns how many were answered."""
    names = [name for name, kind in functions.items() if kind]
    answered = 0
    while names:
        task = tasks.poll(ctx, "conformance-worker", [], names)
        if task is None:
            return answered
        result = answer(functions[task["resource"]] or "", json.loads(task["input"]))
        if result is not None:
            tasks.complete_function(ctx, {"taskToken": task["taskToken"], **result})
            answered += 1
    return answered
