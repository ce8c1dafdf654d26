"""Task handlers of the worker SDK: how a handler is called and how its outcome is reported.

Function handlers answer the way the AWS Lambda Python runtime does (see
``shared/conformance/LAMBDAS.md``): the result is encoded with ``json.dumps`` defaults, ``bytes``
pass through unchanged, and an exception becomes an error document with the keys
``errorMessage``, ``errorType``, ``requestId`` and ``stackTrace``, in that order. Activity
handlers answer like SendTaskSuccess / SendTaskFailure: the result as a JSON value, or the
exception's class name and message.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol

Kind = Literal["activity", "function"]
HandlerFunc = Callable[..., Any]

#: The error a worker reports for tasks it could not finish before shutting down. Retry on it.
SHUTDOWN_ERROR = "Worker.Shutdown"


@dataclass(frozen=True)
class TaskContext:
    """What a handler may want to know about the task it runs (its optional second argument)."""

    task_token: str
    kind: Kind
    resource: str
    worker_name: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Handler:
    """A registered handler: an activity (by ARN) or a function (by name)."""

    kind: Kind
    resource: str
    func: HandlerFunc
    is_async: bool
    wants_context: bool

    @classmethod
    def wrap(cls, kind: Kind, resource: str, func: HandlerFunc) -> Handler:
        """Inspect ``func`` once: async or not, and whether it takes ``(event, context)``."""
        is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
            getattr(func, "__call__", None)  # noqa: B004 - callable objects with async __call__
        )
        return cls(kind, resource, func, is_async, _accepts_two_arguments(func))


def _accepts_two_arguments(func: HandlerFunc) -> bool:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2 or any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params)


@dataclass(frozen=True)
class Outcome:
    """A handler's result, or the exception it raised (with the handler's own frames only)."""

    value: Any = None
    error: BaseException | None = None
    frames: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, exc: BaseException) -> Outcome:
        """The outcome for ``exc`` caught in the frame that called the handler.

        The first traceback frame is the SDK's own call site; the Lambda runtime likewise shows
        only the handler's frames, so it is dropped.
        """
        tb: TracebackType | None = exc.__traceback__
        tb = tb.tb_next if tb is not None else None
        return cls(error=exc, frames=traceback.format_list(traceback.extract_tb(tb)))


class Invocable(Protocol):
    """What calling a handler needs: a task handler or a queue handler."""

    @property
    def func(self) -> HandlerFunc: ...

    @property
    def wants_context(self) -> bool: ...


def call_sync(handler: Invocable, event: Any, context: Any) -> Outcome:
    """Run a plain handler (in a worker thread)."""
    try:
        if handler.wants_context:
            return Outcome(value=handler.func(event, context))
        return Outcome(value=handler.func(event))
    except Exception as exc:
        return Outcome.failed(exc)


async def call_async(handler: Invocable, event: Any, context: Any) -> Outcome:
    """Run an ``async def`` handler on the worker's event loop."""
    try:
        if handler.wants_context:
            return Outcome(value=await handler.func(event, context))
        return Outcome(value=await handler.func(event))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return Outcome.failed(exc)


def decode_event(kind: Kind, text: str | None) -> Any:
    """The handler's event: the task input decoded from JSON (``{}`` for a function called
    without a payload, as Lambda does)."""
    if text is None or text == "":
        return {} if kind == "function" else None
    return json.loads(text)


def error_document(outcome: Outcome, request_id: str) -> dict[str, Any]:
    """The Lambda runtime's error document for a failed function handler (keys in AWS order)."""
    exc = outcome.error
    assert exc is not None
    name = type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": name,
        "requestId": request_id,
        "stackTrace": outcome.frames,
    }


def function_answer(outcome: Outcome, request_id: str) -> dict[str, Any]:
    """The body of POST /v1/tasks/complete (without the token) for a function outcome."""
    if outcome.error is not None:
        doc = error_document(outcome, request_id)
        return {"error": doc["errorType"], "cause": doc}
    value = outcome.value
    if isinstance(value, bytes | bytearray):
        return {"payload": bytes(value).decode("utf-8", errors="replace")}
    try:
        return {"payload": json.dumps(value)}
    except (TypeError, ValueError) as exc:
        # What the Lambda runtime reports for a result it cannot encode.
        return {
            "error": "Runtime.MarshalError",
            "cause": {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            },
        }


def activity_answer(outcome: Outcome) -> tuple[str, dict[str, Any]]:
    """(route, body without the token) for an activity outcome: /success or /failure."""
    if outcome.error is not None:
        return "failure", {"error": type(outcome.error).__name__, "cause": str(outcome.error)}
    try:
        # Validate here so that an unencodable result fails the task instead of the request.
        json.dumps(outcome.value)
    except (TypeError, ValueError) as exc:
        return "failure", {"error": type(exc).__name__, "cause": str(exc)}
    return "success", {"output": outcome.value}


def shutdown_answer(kind: Kind, grace: float) -> tuple[str, dict[str, Any]]:
    """(route, body without the token) failing a task the worker gave up on at shutdown."""
    cause = f"The worker shut down before the task finished (grace period {grace:g} s)."
    if kind == "activity":
        return "failure", {"error": SHUTDOWN_ERROR, "cause": cause}
    return "complete", {"error": SHUTDOWN_ERROR, "cause": cause}


def in_thread(func: Callable[..., Outcome], *args: Any) -> asyncio.Future[Outcome]:
    """Run ``func`` on a daemon thread of its own; a handler stuck past shutdown does not keep
    the process alive (a ThreadPoolExecutor's threads would)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Outcome] = loop.create_future()

    def settle(result: Outcome | None, exc: BaseException | None) -> None:
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result, exc = func(*args), None
        except BaseException as error:  # call_sync catches Exception; this is the rest
            result, exc = None, error
        try:
            loop.call_soon_threadsafe(settle, result, exc)
        except RuntimeError:  # the worker's loop is gone: nobody waits for this result
            pass

    threading.Thread(target=target, name="stepwell-handler", daemon=True).start()
    return future
