"""A test double for the activity workers the recorded activity cases ran.

In those tests (LocalStack's test_activities.py) the test creates the activities, starts the
execution and runs a worker: GetActivityTask (with a worker name, or none), then SendTaskSuccess
with an output, SendTaskFailure with an error and a cause, or nothing at all (the task times
out). One test deletes its activity before it starts the execution.

The double does the same for any case: it provisions the case's activities under the case's
account and answers the n-th ``ActivityScheduled`` of the execution the way the recorded history
shows the n-th one was answered: the ``ActivityStarted`` after it carries the worker name the
worker polled with (no event: the worker never took the task), and the event that closed it
says what the worker sent (ActivitySucceeded: the recorded output; ActivityFailed: the recorded
error and cause; ActivityTimedOut: nothing, the clock moves past the timeout). An activity whose
Task state was entered but never scheduled (the next recorded event is not ActivityScheduled)
was deleted before the start: the double deletes it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ServiceError
from engine.services import activities, executions, tasks
from engine.services.context import ServiceContext

REGION = "us-east-1"
_CLOSING = ("ActivitySucceeded", "ActivityFailed", "ActivityTimedOut", "ActivityScheduleFailed")


@dataclass
class Answer:
    """How the worker handled one scheduled activity task."""

    started: bool
    worker: str  # the workerName it polled with ("" when it gave none)
    closing: dict[str, Any] | None


def _task_states(definition: Any) -> dict[str, str]:
    """Every state name (nested in Parallel branches and Maps too) -> its Resource."""
    found: dict[str, str] = {}
    if isinstance(definition, dict):
        for name, state in (definition.get("States") or {}).items():
            if isinstance(state, dict) and isinstance(state.get("Resource"), str):
                found[name] = state["Resource"]
        for value in definition.values():
            if isinstance(value, dict | list):
                found.update(_task_states(value))
    elif isinstance(definition, list):
        for value in definition:
            found.update(_task_states(value))
    return found


def deleted_activities(case: dict[str, Any]) -> set[str]:
    """ARNs of activities whose Task state was entered but never scheduled in the recording."""
    resources = _task_states(case.get("definition"))
    events = (case.get("expect") or {}).get("events") or []
    deleted = set()
    for event, following in zip(events, events[1:], strict=False):
        if event["type"] != "TaskStateEntered":
            continue
        resource = resources.get((event.get("stateEnteredEventDetails") or {}).get("name", ""))
        if resource and ":activity:" in resource and following["type"] != "ActivityScheduled":
            deleted.add(resource)
    return deleted


def provision(ctx: ServiceContext, case: dict[str, Any]) -> list[str]:
    """Create the case's activities (idempotent), delete the ones the recording shows deleted;
    returns the ARNs of the activities that remain."""
    names = (case.get("resources") or {}).get("activities") or []
    arns = [
        activities.create_activity(ctx, REGION, {"name": name})["activityArn"] for name in names
    ]
    gone = deleted_activities(case)
    for arn in arns:
        if arn in gone:
            activities.delete_activity(ctx, {"activityArn": arn})
    return [arn for arn in arns if arn not in gone]


def recorded_answers(events: list[dict[str, Any]]) -> list[Answer]:
    """For each ActivityScheduled in order: whether and as whom it was taken, how it closed.
    Events are linked by ``previousEventId`` (Started follows Scheduled, the closing event
    follows Started, or Scheduled when nobody took the task)."""
    answers = []
    for index, event in enumerate(events):
        if event["type"] != "ActivityScheduled":
            continue
        answer = Answer(started=False, worker="", closing=None)
        last = event["id"]
        for later in events[index + 1 :]:
            if later.get("previousEventId") != last:
                continue
            if later["type"] == "ActivityStarted":
                details = later.get("activityStartedEventDetails") or {}
                answer.started, answer.worker = True, details.get("workerName") or ""
                last = later["id"]
            elif later["type"] in _CLOSING:
                answer.closing = later
                break
        answers.append(answer)
    return answers


def _output(value: Any) -> str:
    """The recorded output as JSON text (text the recorder kept unparsed is JSON already)."""
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except ValueError:
            pass
    return json.dumps(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class ActivityWorker:
    """Polls the case's activities and answers each task as the recording shows."""

    ctx: ServiceContext
    arns: list[str]
    answers: list[Answer] = field(default_factory=list)
    execution_arn: str | None = None
    handled: int = 0

    def serve(self) -> int:
        """Take and answer every task that is ready; returns how many were taken."""
        taken = 0
        while self.handled < len(self.answers):
            answer = self.answers[self.handled]
            if not answer.started:
                # Nobody took this task: it must close on its own (a timeout) before the next
                # one may be taken, or the oldest-first claim would hand out this one.
                if self._closed() <= self.handled:
                    return taken
                self.handled += 1
                continue
            task = self._claim(answer.worker)
            if task is None:
                return taken
            self.handled += 1
            taken += 1
            self._answer(task["taskToken"], answer.closing)
        return taken

    def _claim(self, worker: str) -> dict[str, Any] | None:
        for arn in self.arns:
            task = tasks.claim_activity_task(self.ctx, arn, worker)
            if task:
                return task
        return None

    def _answer(self, token: str, closing: dict[str, Any] | None) -> None:
        if closing is None:
            return
        try:
            if closing["type"] == "ActivitySucceeded":
                details = closing.get("activitySucceededEventDetails") or {}
                tasks.send_task_success(
                    self.ctx, {"taskToken": token, "output": _output(details.get("output"))}
                )
            elif closing["type"] == "ActivityFailed":
                details = closing.get("activityFailedEventDetails") or {}
                request = {"taskToken": token}
                request.update({k: _text(details[k]) for k in ("error", "cause") if k in details})
                tasks.send_task_failure(self.ctx, request)
            # ActivityTimedOut: the worker never answered; the clock moves past the timeout.
        except ServiceError:
            return  # the task closed meanwhile (timed out): the answer comes too late

    def _closed(self) -> int:
        """How many of the execution's activity tasks have closed so far."""
        if self.execution_arn is None:
            return 0
        history = executions.get_execution_history(
            self.ctx, {"executionArn": self.execution_arn, "maxResults": 1000}
        )
        return sum(1 for e in history["events"] if e["type"] in _CLOSING)
