"""activity: the activity round trip. One state machine, ``Work`` (a Task on an activity made
with CreateActivity) then ``Done`` (Succeed); 200 executions (50 under --quick) are started one
after another, each once the previous one has ended. A worker thread long-polls
GetActivityTask (its own boto3 client, read timeout 70 s > the 60 s poll) and answers
SendTaskSuccess at once with the task's input.

Figures (milliseconds):

- ``scheduled_to_exit_p50_ms`` / ``_p99_ms``: in each execution's history, the ActivityScheduled
  event's timestamp to the TaskStateExited event's timestamp (both the server's own clock):
  handing the task out, the worker's answer, and moving on to the next state.
- ``scheduled_to_started_p50_ms``: ActivityScheduled -> ActivityStarted (the task reaching a
  worker that was already waiting).
- ``round_trip_p50_ms`` / ``_p99_ms``: the client's StartExecution call until DescribeExecution
  (polled every 2 ms) shows SUCCEEDED (time.perf_counter).

Five executions first warm up connections and caches (and find out whether the target can run
activities at all). If it cannot (moto 5 has no GetActivityTask, and its executions fail the
Task), the figures say so in ``unsupported`` with the reason instead of waiting: every wait
here is bounded.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import orjson

from bench.common import (
    LOWER,
    TERMINAL,
    BenchTimeout,
    RunContext,
    Target,
    Workload,
    aws_client,
    create_state_machine,
    epoch,
    percentile,
)

WARM_UP = 5
POLL_S = 0.002
EXECUTION_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 70.0  # GetActivityTask holds the connection for up to 60 s


def definition(activity_arn: str) -> dict[str, Any]:
    """The activity Task, then the next state."""
    return {
        "Comment": "bench activity",
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": activity_arn, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def worker_client(endpoint: str) -> Any:
    """A Step Functions client whose read timeout outlasts GetActivityTask's 60 s long poll."""
    return aws_client("stepfunctions", endpoint, connect_timeout=5, read_timeout=READ_TIMEOUT_S)


class ActivityWorker:
    """Polls one activity on a thread and answers every task at once (SendTaskSuccess with the
    task's input); stops after a task whose input is ``{"stop": true}``, or at its first error
    (kept in ``error``)."""

    def __init__(self, endpoint: str, activity_arn: str) -> None:
        self.client = worker_client(endpoint)
        self.activity_arn = activity_arn
        self.error: str | None = None
        self.answered = 0
        self._changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="bench-activity", daemon=True)

    def start(self) -> ActivityWorker:
        self.thread.start()
        return self

    def alive(self) -> bool:
        return self.thread.is_alive()

    def _run(self) -> None:
        try:
            while True:
                task = self.client.get_activity_task(
                    activityArn=self.activity_arn, workerName="bench-worker"
                )
                token = task.get("taskToken")
                if not token:
                    continue  # the long poll ended empty: poll again
                text = task.get("input") or "{}"
                self.client.send_task_success(taskToken=token, output=text)
                with self._changed:
                    self.answered += 1
                    self._changed.notify_all()
                if orjson.loads(text) == {"stop": True}:
                    return
        except Exception as exc:  # reported by the workload, which stops waiting at once
            text = " ".join(f"{type(exc).__name__}: {exc}".split())
            self.error = text.split(": <", 1)[0][:300]  # not an HTML error page's markup
        finally:
            with self._changed:
                self._changed.notify_all()

    def wait_answered(self, count: int, timeout: float) -> None:
        """Until ``count`` tasks are answered, the worker stops, or ``timeout`` passes."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.answered >= count or not self.thread.is_alive(), timeout
            )


def _run_one(
    client: Any, arn: str, name: str, text: str, worker: ActivityWorker
) -> tuple[str, dict[str, Any], float | None]:
    """Start one execution and poll until it ends: (its ARN, its description, seconds), with
    seconds None when the worker failed first (the task would never be answered)."""
    began = time.perf_counter()
    answered = worker.answered
    execution_arn = client.start_execution(stateMachineArn=arn, name=name, input=text)[
        "executionArn"
    ]
    # Poll only once the worker has answered: polling all along would load the server whose
    # round trip is being measured (every 2 ms, a third of its one core) and slow it down.
    worker.wait_answered(answered + 1, EXECUTION_TIMEOUT_S)
    while True:
        description = client.describe_execution(executionArn=execution_arn)
        seen = time.perf_counter()
        if description["status"] in TERMINAL:
            return execution_arn, description, seen - began
        if seen - began > EXECUTION_TIMEOUT_S:
            raise BenchTimeout(EXECUTION_TIMEOUT_S, f"for {execution_arn}")
        if not worker.alive():
            # the worker failed: the task will never be answered
            return execution_arn, description, None
        time.sleep(POLL_S)


def _history_gaps(client: Any, execution_arn: str) -> tuple[float | None, float | None]:
    """(ActivityScheduled -> TaskStateExited, ActivityScheduled -> ActivityStarted) in ms."""
    events = client.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    stamps: dict[str, float | None] = {}
    for event in events:
        stamps.setdefault(event["type"], epoch(event.get("timestamp")))
    scheduled = stamps.get("ActivityScheduled")
    exited, started = stamps.get("TaskStateExited"), stamps.get("ActivityStarted")
    if scheduled is None:
        return None, None
    return (
        (exited - scheduled) * 1000.0 if exited is not None else None,
        (started - scheduled) * 1000.0 if started is not None else None,
    )


def _unsupported(target: Target, worker: ActivityWorker, description: dict[str, Any]) -> str:
    """Why the target could not run an activity, from what the worker and execution saw."""
    parts = []
    if worker.error:
        parts.append(f"GetActivityTask/SendTaskSuccess failed: {worker.error[:160]}")
        log = target.server.log_tail(60).splitlines()
        cause = [line.strip() for line in log if "Error:" in line or "Exception:" in line]
        if cause:
            parts.append(f"server log: {cause[-1][:160]}")
    if description.get("status") != "SUCCEEDED":
        error = description.get("error") or ""
        cause_text = " ".join(str(description.get("cause") or "").split())[:200]
        parts.append(f"execution {description.get('status')}: {error} {cause_text}".strip())
    return "; ".join(parts)


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """Run the sequential activity round trips once against ``target``."""
    client = target.client()
    total = ctx.count(200, 50)
    name = f"bench-activity-{uuid.uuid4().hex[:8]}"
    activity_arn = client.create_activity(name=name)["activityArn"]
    arn = create_state_machine(client, "activity", definition(activity_arn))
    worker = ActivityWorker(target.endpoint, activity_arn).start()
    text = orjson.dumps({"job": "resize", "size": 128}).decode()
    try:
        for i in range(WARM_UP):
            _, description, seconds = _run_one(client, arn, f"w{i:02d}", text, worker)
            if seconds is None or description["status"] != "SUCCEEDED":
                worker.thread.join(5.0)  # let a failing poll report its error (bounded)
                return {
                    "executions": 0,
                    "supported": False,
                    "unsupported": _unsupported(target, worker, description),
                }
        runs: list[tuple[str, float]] = []
        for i in range(total):
            execution_arn, description, seconds = _run_one(client, arn, f"e{i:04d}", text, worker)
            if seconds is None:
                raise RuntimeError(f"the activity worker stopped: {worker.error}")
            if description["status"] != "SUCCEEDED":
                raise RuntimeError(f"{execution_arn} ended {description['status']}")
            runs.append((execution_arn, seconds * 1000.0))
    finally:
        _stop(client, arn, worker)
    exits: list[float] = []
    starts: list[float] = []
    for execution_arn, _ in runs:
        to_exit, to_start = _history_gaps(client, execution_arn)
        if to_exit is not None:
            exits.append(to_exit)
        if to_start is not None:
            starts.append(to_start)
    trips = [ms for _, ms in runs]
    return {
        "executions": total,
        "supported": True,
        "with_history": len(exits),
        "scheduled_to_exit_p50_ms": percentile(exits, 50),
        "scheduled_to_exit_p99_ms": percentile(exits, 99),
        "scheduled_to_started_p50_ms": percentile(starts, 50),
        "scheduled_to_started_p99_ms": percentile(starts, 99),
        "round_trip_p50_ms": percentile(trips, 50),
        "round_trip_p99_ms": percentile(trips, 99),
        "round_trip_mean_ms": sum(trips) / len(trips) if trips else None,
    }


def _stop(client: Any, arn: str, worker: ActivityWorker) -> None:
    """End the worker's long poll with one last task, ``{"stop": true}``; bounded."""
    if not worker.alive():
        return
    try:
        client.start_execution(stateMachineArn=arn, name="stop", input='{"stop": true}')
    except Exception:  # noqa: BLE001 - the worker is a daemon thread; it will not block exit
        return
    worker.thread.join(10.0)


WORKLOAD = Workload(
    name="activity",
    description="200 sequential executions of one activity Task answered by a long-polling worker",
    run=measure,
    compared={
        "scheduled_to_exit_p50_ms": LOWER,
        "scheduled_to_exit_p99_ms": LOWER,
        "round_trip_p50_ms": LOWER,
        "round_trip_p99_ms": LOWER,
    },
    headline=(
        "scheduled_to_exit_p50_ms",
        "scheduled_to_exit_p99_ms",
        "round_trip_p50_ms",
        "round_trip_p99_ms",
    ),
)
