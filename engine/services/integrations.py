"""Optimized service integrations: Task states that call a Stepwell service directly
(``arn:aws:states:::sqs:sendMessage``, ``arn:aws:states:::aws-sdk:sqs:<operation>``, ...).

A service registers a handler per integration name; the handler runs inside the decision's
transaction, so the call and the history that records it commit together. It returns the
integration's output (the shape AWS returns) or raises ``IntegrationError`` with the error
name Step Functions records (e.g. ``SQS.QueueDoesNotExistException``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from engine import codec


class IntegrationError(Exception):
    """A failed integration call: ``error`` and ``cause`` as the Task's failure."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass(frozen=True)
class Call:
    """One integration call: the service and action of the Resource, the evaluated
    parameters, the region and account of the execution, and the task token."""

    service: str
    action: str
    parameters: Any
    region: str
    account: str
    token: str
    now: float
    # Long-poll keys (TaskSignals) the call made ready, notified once the decision commits.
    wake_keys: list[str] = field(default_factory=list)


Handler = Callable[[Any, Call], Any]
_HANDLERS: dict[str, Handler] = {}


def register(service: str, handler: Handler) -> None:
    """Serve Task resources ``arn:aws:states:::<service>:<action>`` with ``handler(tx, call)``.
    For ``aws-sdk`` integrations register ``aws-sdk:<service>`` (action = the operation)."""
    _HANDLERS[service] = handler


def handler_for(service: str, action: str) -> tuple[Handler, str] | None:
    """(handler, action) for a Resource's service and action, if a service serves it."""
    if service == "aws-sdk" and ":" in action:
        sdk_service, operation = action.split(":", 1)
        found = _HANDLERS.get(f"aws-sdk:{sdk_service}")
        return (found, operation) if found else None
    found = _HANDLERS.get(service)
    return (found, action) if found else None


def load_all() -> None:
    """Import the modules that register integrations (kept lazy to avoid import cycles)."""
    import importlib

    for module in (
        "engine.services.queues.integration",
        "engine.services.topics.integration",
        "engine.services.nested",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def sdk_http_metadata(headers: dict[str, str], request_id: str) -> dict[str, Any]:
    """The SDK metadata Step Functions records beside an optimized integration's response:
    the HTTP headers (as lists and as values), the status, and the request id."""
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def with_json_metadata(
    result: dict[str, Any], now: float, body_length: int | None = None
) -> dict[str, Any]:
    """``result`` with the metadata of the AWS JSON 1.0 response that carried it (its
    Content-Length is that of the compact JSON body unless given; the Date is ``now``)."""
    request_id = str(uuid.uuid4())
    length = len(codec.dumps(result).encode()) if body_length is None else body_length
    headers = {
        "connection": "keep-alive",
        "Content-Length": str(length),
        "Content-Type": "application/x-amz-json-1.0",
        "Date": formatdate(now, usegmt=True),
        "x-amzn-RequestId": request_id,
    }
    return {**result, **sdk_http_metadata(headers, request_id)}


def sdk_operation(service: str, action: str, operations: Any) -> str:
    """The operation an ``arn:aws:states:::aws-sdk:SERVICE:action`` resource names (its
    camelCase action capitalised), or the States.Runtime failure AWS records for one the
    service does not have."""
    operation = action[:1].upper() + action[1:]
    if operation not in operations:
        raise IntegrationError(
            "States.Runtime",
            f"The resource provided arn:aws:states:::aws-sdk:{service}:{action} is not "
            "recognized. The value is not a valid resource ARN, or the resource is not "
            "available in this region.",
        )
    return operation
