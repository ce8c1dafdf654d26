"""Task use cases: dispatching a Task state's work, workers claiming it, answers by token.

A task's outcome reaches its execution as a *resolution* (see engine.history.decider), written
in the same transaction that closes the task, so an answer is applied exactly once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from typing import Any

from engine import codec
from engine.errors import NotFound, ServiceError, ValidationError
from engine.services import constraints, integrations
from engine.services.activities import require_activity
from engine.services.context import ServiceContext
from engine.services.handoffs import Handoffs, Waiter
from engine.services.resolutions import resolve as _resolve
from engine.services.resolutions import resolve_all

MAX_OUTPUT_BYTES = 262_144


class TaskDoesNotExist(NotFound):
    """AWS: TaskDoesNotExist."""

    code = "TaskDoesNotExist"
    kind = "invalid"


class TaskTimedOut(ServiceError):
    """AWS: TaskTimedOut (the task was already closed)."""

    code = "TaskTimedOut"


class InvalidTaskToken(ServiceError):
    """AWS: InvalidToken."""

    code = "InvalidToken"


class InvalidOutput(ServiceError):
    """AWS: InvalidOutput."""

    code = "InvalidOutput"


class TaskSignals:
    """Wakes long-polling workers as soon as a task for them is scheduled.

    Async waiters on the HTTP event loop and the thread that commits a task meet here;
    ``notify`` is safe to call from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        # Passes keys on to the other nodes of a shared database (engine.bootstrap).
        self.relay: Callable[[str], None] | None = None

    def notify(self, key: str) -> None:
        """Wake every waiter on ``key``, here and on the other nodes."""
        self.notify_here(key)
        if self.relay is not None:
            self.relay(key)

    def notify_here(self, key: str) -> None:
        """Wake this process's waiters on ``key`` (a key that came from another node)."""
        with self._lock:
            waiters = list(self._waiters.get(key, ()))
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, keys: list[str], timeout: float) -> None:
        """Wait until one of ``keys`` is notified or ``timeout`` passes."""
        with self.listening(keys) as event:
            await self.until(event, timeout)

    @contextmanager
    def listening(self, keys: list[str]) -> Iterator[asyncio.Event]:
        """Register interest in ``keys`` *before* checking for work, so that a notification
        arriving between the check and the wait is not lost."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            for key in keys:
                self._waiters.setdefault(key, set()).add(entry)
        try:
            yield event
        finally:
            with self._lock:
                for key in keys:
                    self._waiters.get(key, set()).discard(entry)

    @staticmethod
    async def until(event: asyncio.Event, timeout: float) -> None:
        """Wait for ``event`` at most ``timeout`` seconds, then clear it."""
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        event.clear()


def signals(ctx: ServiceContext) -> TaskSignals:
    """The context's TaskSignals (created on first use)."""
    if ctx.task_signals is None:
        ctx.task_signals = TaskSignals()
    return ctx.task_signals


# --- dispatch (inside the decider's commit) --------------------------------------------------
# The key dispatch returns when it answered the request in the decision's own transaction:
# the execution is runnable again as soon as that commits, and (as with every key dispatch
# returns) the decider is woken after the commit instead of finding out on its idle poll.
DECIDER_KEY = "decider"


def dispatch(
    tx: Any, execution_id: int, request: Any, now: float, handoffs: Handoffs | None = None
) -> str | None:
    """Create the task row a Task state's request needs, or answer it at once when no one
    can serve it. Returns the key to notify once the transaction commits: a long-poll key
    when a worker can now take the task (or a queue now holds a message), ``DECIDER_KEY``
    when the request was answered here and the execution is runnable again. ``handoffs``:
    pollers of this process waiting for activity tasks, given a new task directly."""
    payload = request.payload
    kind, token = payload["kind"], payload["token"]
    timeout, heartbeat = payload.get("timeout"), payload.get("heartbeat")
    row = {
        "token": token,
        "execution_id": execution_id,
        "request_seq": request.seq,
        "input": codec.dumps(payload.get("parameters")),
        "status": "SCHEDULED",
        "created_at": now,
        "timeout_at": now + timeout if timeout else None,
        "heartbeat_seconds": heartbeat,
    }
    if kind == "activity":
        # The interpreter records ActivityScheduled only once this says the activity exists
        # (stamped now, when the task row is made); AWS fails the state at once otherwise.
        if tx.tasks.activity(payload["resource"]) is None:
            _resolve(
                tx,
                execution_id,
                request.seq,
                now,
                status="rejected",
                error="States.Runtime",
                cause=f"The activity {payload['resource']} does not exist.",
            )
            return DECIDER_KEY
        key = f"activity:{payload['resource']}"
        waiter = handoffs.take(key) if handoffs is not None else None
        if waiter is None:
            tx.tasks.insert({**row, "kind": "activity", "resource": payload["resource"]})
            _resolve(tx, execution_id, request.seq, now, status="scheduled", at=now)
            return key
        _hand_over(
            tx,
            waiter,
            {**row, "kind": "activity", "resource": payload["resource"]},
            now,
            scheduled=True,
        )
        return DECIDER_KEY
    from engine.services import nested

    if nested.is_start_execution(payload) and payload.get("pattern") != "waitForTaskToken":
        nested.start_child(tx, execution_id, request, now)
        return DECIDER_KEY
    function = _function_call(payload)
    if function is not None:
        name, task_input, mode = function
        if not tx.tasks.function_known(name):
            region = payload.get("region") or "us-east-1"
            if mode == "invoke":
                _resolve(tx, execution_id, request.seq, now, status="started")
            _resolve(
                tx,
                execution_id,
                request.seq,
                now,
                status="failed",
                error="Lambda.ResourceNotFoundException",
                cause=f"Function not found: arn:aws:lambda:{region}:{payload.get('account')}"
                f":function:{name}:$LATEST (Service: AWSLambda; Status Code: 404; Error "
                f"Code: ResourceNotFoundException; Request ID: {uuid.uuid4()}; Proxy: null)",
            )
            return DECIDER_KEY
        task = {
            **row,
            "kind": mode,
            "resource": name,
            "target": payload["resource"],
            "input": codec.dumps(task_input),
        }
        key = f"function:{name}"
        waiter = handoffs.take(key) if handoffs is not None else None
        if waiter is None:
            tx.tasks.insert(task)
            return key
        _hand_over(tx, waiter, task, now)
        return DECIDER_KEY
    if payload["kind"] == "service":
        served = _call_integration(tx, execution_id, request, row, now)
        if served:
            return served if isinstance(served, str) else DECIDER_KEY
    if payload.get("pattern") == "waitForTaskToken":
        # A callback: the integration is not called by us; whoever holds the token answers.
        tx.tasks.insert(
            {
                **row,
                "kind": "callback",
                "resource": payload["resource"],
                "status": "STARTED",
                "started_at": now,
                "heartbeat_at": now + heartbeat if heartbeat else None,
            }
        )
        _resolve(tx, execution_id, request.seq, now, status="started")
        return DECIDER_KEY
    _resolve(
        tx,
        execution_id,
        request.seq,
        now,
        status="failed",
        error="States.Runtime",
        cause=f"Stepwell does not serve the resource '{payload['resource']}' yet.",
    )
    return DECIDER_KEY


def _hand_over(
    tx: Any, waiter: Waiter, task: dict[str, Any], now: float, scheduled: bool = False
) -> None:
    """Write ``task`` as taken by a waiting poller of this process and record that it started
    (after it was scheduled, for an activity); the poller gets it once the transaction
    commits (engine.services.handoffs)."""
    heartbeat = task.get("heartbeat_seconds")
    tx.tasks.insert(
        {
            **task,
            "status": "STARTED",
            "worker_name": waiter.worker,
            "started_at": now,
            "heartbeat_at": now + heartbeat if heartbeat else None,
        }
    )
    seq = task["request_seq"]
    started = {"status": "started", "worker": waiter.worker, "at": now}
    answers = [(seq, {"status": "scheduled", "at": now})] if scheduled else []
    resolve_all(tx, task["execution_id"], [*answers, (seq, started)], now)
    handed = _for_worker(task)
    tx.on_commit.append(lambda: Handoffs.deliver(waiter, handed))
    tx.on_rollback.append(lambda: Handoffs.deliver(waiter, None))


def _call_integration(
    tx: Any, execution_id: int, request: Any, row: dict[str, Any], now: float
) -> bool | str:
    """Run a Stepwell-served integration in the decision's transaction; False if none serves
    the Resource. A ``.waitForTaskToken`` call then waits for its token like a callback.
    Returns the long-poll key the call made ready (a queue it sent to), if any."""
    integrations.load_all()
    payload = request.payload
    found = integrations.handler_for(payload.get("service", ""), payload.get("action", ""))
    if found is None:
        return False
    handler, action = found
    call = integrations.Call(
        service=payload.get("service", ""),
        action=action,
        parameters=payload.get("parameters"),
        region=payload.get("region") or "us-east-1",
        account=str(payload.get("account")),
        token=payload["token"],
        now=now,
    )
    _resolve(tx, execution_id, request.seq, now, status="started")
    try:
        output = handler(tx, call)
    except integrations.IntegrationError as exc:
        _resolve(
            tx, execution_id, request.seq, now, status="failed", error=exc.error, cause=exc.cause
        )
        return True
    if payload.get("pattern") == "waitForTaskToken":
        heartbeat = payload.get("heartbeat")
        tx.tasks.insert(
            {
                **row,
                "kind": "callback",
                "resource": payload["resource"],
                "status": "STARTED",
                "started_at": now,
                "heartbeat_at": now + heartbeat if heartbeat else None,
            }
        )
        _resolve(tx, execution_id, request.seq, now, status="submitted", output=output)
    else:
        _resolve(tx, execution_id, request.seq, now, status="succeeded", output=output)
    return call.wake_keys[0] if call.wake_keys else True


def _function_call(payload: dict[str, Any]) -> tuple[str, Any, str] | None:
    """(function name, event, mode) when the task invokes a function served by workers:
    mode "function" for a plain Lambda ARN, "invoke" for arn:aws:states:::lambda:invoke."""
    if payload["kind"] == "function":
        return payload["name"], payload.get("parameters"), "function"
    if (
        payload["kind"] == "service"
        and payload.get("service") == "lambda"
        and payload.get("action") == "invoke"
        and payload.get("pattern") == ""
    ):
        params = payload.get("parameters") or {}
        name = str(params.get("FunctionName", ""))
        if name.startswith("arn:"):
            name = name.split(":function:", 1)[-1]
        name = name.split(":", 1)[0]
        event = params.get("Payload")
        if isinstance(event, str):
            # A string Payload is the request body itself (JSON text), as the Lambda API has it.
            try:
                event = codec.loads(event)
            except ValueError:
                pass
        return name, {} if event is None else event, "invoke"
    return None


# --- workers ----------------------------------------------------------------------------------
# A worker taking a task is progress, not an answer: nothing in the execution waits on it.
# The claim records it as a "started" resolution stamped with the claim's time ("at") and does
# not wake the decider: the ActivityStarted (LambdaFunctionStarted, TaskStarted) event is
# written on the decider's next round, with the task's answer when that comes first (the
# common case: one decision instead of two competing with the answer for the writer), else on
# its idle poll, at most ``Settings.idle_poll_seconds`` later. The event keeps the claim's time,
# read once the task row is found (so after the ActivityScheduled that made it).
def _started(ctx: ServiceContext, tx: Any, task: dict[str, Any], worker: str, now: float) -> None:
    at = max(now, ctx.clock.now())
    _resolve(
        tx,
        task["execution_id"],
        task["request_seq"],
        now,
        status="started",
        worker=worker,
        at=at,
    )


def claim_activity_task(
    ctx: ServiceContext, activity_arn: str, worker: str
) -> dict[str, Any] | None:
    """Give the oldest scheduled task of an activity to a worker (records ActivityStarted)."""
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any] | None:
        # Checked in the claiming transaction: a long poll needs no transaction of its own
        # to validate the ARN first.
        require_activity(tx, activity_arn)
        task = tx.tasks.claim("activity", [activity_arn], worker, now)
        if task is None:
            return None
        _started(ctx, tx, task, worker, now)
        return task

    task = ctx.store.run(work)
    if task is None:
        return None
    _heartbeat_clock_started(ctx, task)
    return {"taskToken": task["token"], "input": task["input"]}


def _heartbeat_clock_started(ctx: ServiceContext, task: dict[str, Any]) -> None:
    """After a claim commits: a task with HeartbeatSeconds now has a deadline the timer loop
    must learn (waking it needlessly is harmless: it re-reads the earliest due time)."""
    if task.get("heartbeat_at") is not None:
        ctx.timer_waker.wake()


def poll(
    ctx: ServiceContext, worker: str, activity_arns: list[str], function_names: list[str]
) -> dict[str, Any] | None:
    """A worker asks for one task of its activities or functions (announcing the functions)."""
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any] | None:
        if function_names:
            tx.tasks.announce_functions(function_names, now)
        for kind, resources in (
            ("activity", activity_arns),
            ("function", function_names),
            ("invoke", function_names),
        ):
            if not resources:
                continue
            task = tx.tasks.claim(kind, resources, worker, now)
            if task is not None:
                _started(ctx, tx, task, worker, now)
                return task
        return None

    task = ctx.store.run(work)
    if task is None:
        return None
    _heartbeat_clock_started(ctx, task)
    return _for_worker(task)


def _for_worker(task: dict[str, Any]) -> dict[str, Any]:
    """A task as a worker's poll returns it (function and lambda:invoke tasks alike)."""
    return {
        "taskToken": task["token"],
        "input": task["input"],
        "kind": "activity" if task["kind"] == "activity" else "function",
        "resource": task["resource"],
    }


def complete_function(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """A function worker's answer: the raw response body (``payload``) or an error
    (``error`` = the exception type, ``cause`` = the error document)."""
    now = ctx.clock.now()
    token = request.get("taskToken")

    def work(tx: Any) -> dict[str, Any]:
        task = _open_task(tx, token)
        if not tx.tasks.finish(task["id"]):
            raise TaskTimedOut("Task Timed Out")
        value = _function_outcome(tx, task, request)
        _resolve(tx, task["execution_id"], task["request_seq"], now, **value)
        return task["execution_id"]

    answer(ctx, work)
    return {}


def answer(ctx: ServiceContext, record: Any) -> None:
    """Commit an answer (``record(tx)`` writes it, returns its execution's id): with the
    engine loops in this process, decided in the same transaction; else the decider wakes."""
    if ctx.decide_answer is not None:
        ctx.decide_answer(record)
        return
    ctx.store.run(record)
    ctx.waker.wake()


def _function_outcome(tx: Any, task: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    invoke = task["kind"] == "invoke"
    if "error" in request and request["error"] is not None:
        cause = request.get("cause")
        if not isinstance(cause, str):
            # Step Functions shows the error document compactly for lambda:invoke and as the
            # Python runtime encoded it for a plain function ARN (conformance/LAMBDAS.md).
            cause = codec.dumps(cause) if invoke else json.dumps(cause)
        return {"status": "failed", "error": str(request["error"]), "cause": cause}
    body = request.get("payload")
    body = "null" if body is None else str(body)
    size = len(body.encode())
    if size > MAX_OUTPUT_BYTES:
        subject = "lambda" if invoke else task["target"]
        return {
            "status": "failed",
            "error": "States.DataLimitExceeded",
            "cause": f"The state/task '{subject}' returned a result with a size exceeding "
            "the maximum number of bytes service limit.",
        }
    try:
        payload = codec.loads(body)
    except ValueError:
        payload = body
    if not invoke:
        return {"status": "succeeded", "output": payload}
    request_id = str(uuid.uuid4())
    headers = {
        "Connection": "keep-alive",
        "Content-Length": str(size),
        "Content-Type": "application/json",
        "Date": formatdate(usegmt=True),
        "X-Amzn-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    return {
        "status": "succeeded",
        "output": {
            "ExecutedVersion": "$LATEST",
            "Payload": payload,
            **integrations.sdk_http_metadata(headers, request_id),
            "StatusCode": 200,
        },
    }


def _open_task(tx: Any, token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or not 1 <= len(token) <= 2048:
        raise InvalidTaskToken("Invalid token")
    task = tx.tasks.by_token(token)
    if task is None:
        raise TaskDoesNotExist("Task does not exist anymore")
    if task["status"] == "DONE":
        raise TaskTimedOut("Task Timed Out")
    return task


def send_task_success(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """SendTaskSuccess: the task's output becomes the Task state's result."""
    output = request.get("output")
    if not isinstance(output, str):
        raise ValidationError(
            "1 validation error detected: Value null at 'output' failed to "
            "satisfy constraint: Member must not be null"
        )
    if len(output.encode()) > MAX_OUTPUT_BYTES:
        raise InvalidOutput("Output exceeds the maximum size of 262144 bytes")
    try:
        value = codec.loads(output)
    except ValueError as exc:
        raise InvalidOutput(f"Invalid Output: '{output}'") from exc
    return _answer(ctx, request.get("taskToken"), status="succeeded", output=value)


def send_task_failure(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """SendTaskFailure: the Task state fails with this error and cause."""
    return _answer(
        ctx,
        request.get("taskToken"),
        status="failed",
        # Absent stays absent (null): AWS records a failure without error or cause then.
        error=constraints.text(request, "error", 256),
        cause=constraints.text(request, "cause", 32768),
    )


def _answer(ctx: ServiceContext, token: Any, **value: Any) -> dict[str, Any]:
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        task = _open_task(tx, token)
        if not tx.tasks.finish(task["id"]):
            raise TaskTimedOut("Task Timed Out")
        answers = [(task["request_seq"], value)]
        if task["kind"] == "activity" and task["status"] == "SCHEDULED":
            # Answered before any worker claimed it: it was started, then answered.
            answers.insert(0, (task["request_seq"], {"status": "started", "worker": ""}))
        resolve_all(tx, task["execution_id"], answers, now)
        return task["execution_id"]

    answer(ctx, work)
    return {}


def send_task_heartbeat(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """SendTaskHeartbeat: the task is alive; its heartbeat deadline moves forward."""
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        task = _open_task(tx, request.get("taskToken"))
        tx.tasks.heartbeat(task["id"], now, task["heartbeat_seconds"])
        return {}

    return ctx.store.run(work)


def reap_overdue(ctx: ServiceContext, limit: int = 200) -> int:
    """Close tasks past their TimeoutSeconds or HeartbeatSeconds with States.Timeout or
    States.HeartbeatTimeout; returns how many."""
    now = ctx.clock.now()

    def work(tx: Any) -> int:
        overdue = tx.tasks.overdue(now, limit)
        for task in overdue:
            if not tx.tasks.finish(task["id"]):
                continue
            heartbeat = (
                task["heartbeat_at"] is not None
                and task["heartbeat_at"] <= now
                and (task["timeout_at"] is None or task["heartbeat_at"] < task["timeout_at"])
            )
            # A callback (.waitForTaskToken) whose heartbeat lapses fails with States.Timeout,
            # as the recorded AWS histories show (conformance timeouts_test_heartbeats_*);
            # activities report States.HeartbeatTimeout.
            if task["kind"] == "callback":
                heartbeat = False
            error = "States.HeartbeatTimeout" if heartbeat else "States.Timeout"
            _resolve(
                tx,
                task["execution_id"],
                task["request_seq"],
                now,
                status="timed_out",
                error=error,
                cause="",
            )
        return len(overdue)

    reaped = ctx.store.run(work)
    if reaped:
        ctx.waker.wake()
    return reaped


def next_task_deadline(ctx: ServiceContext) -> float | None:
    """The earliest open task deadline."""
    return ctx.store.run(lambda tx: tx.tasks.next_deadline())


def next_due(ctx: ServiceContext) -> float | None:
    """The earliest moment the timer loop has work: a durable timer falls due or an open
    task's deadline passes (one read instead of two)."""

    def work(tx: Any) -> float | None:
        dues = [d for d in (tx.runtime.next_timer_due(), tx.tasks.next_deadline()) if d is not None]
        return min(dues) if dues else None

    return ctx.store.run(work)
