"""A test double for the child state machines the recorded ``states:startExecution`` cases run.

In those tests (LocalStack's test_callback.py, test_sfn_task_service.py, test_credentials_base.py
...) the test creates a child state machine, then starts the parent with the child's ARN in its
input. The child's definition is not in the recording, but what the parent's Task recorded
says what the child did:

- ``.sync`` / ``.sync:2`` closed by TaskSucceeded with a described execution: the child
  succeeded with its ``Output`` (JSON text for ``.sync``, JSON for ``.sync:2``): here a Pass
  state whose Result is that output;
- closed by TaskFailed with a described execution in the cause: the child failed with its
  ``Error`` and ``Cause`` (either may be absent): here a Fail state with them; a
  ``TIMED_OUT`` child is one whose ``TimeoutSeconds`` ran out;
- closed by an answer that is not a described execution: the parent's task token (passed in
  the child's input) was answered while the child ran: here a child that waits, and the double
  answers the token it finds in the child's input the way the recording shows (SendTaskSuccess
  with the recorded output, SendTaskFailure with the recorded error and cause);
- the plain form (and ``aws-sdk:sfn:startExecution``) records only the start: any child
  does (a Pass);
- closed by ``StateMachineDoesNotExist``: the test never created that machine.

The children are created under the names their ARNs give, in the case's account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ServiceError
from engine.services import executions, state_machines, tasks
from engine.services.context import ServiceContext
from tests.support.queue_consumers import parsed

ROLE_ARN = "arn:aws:iam::123456789012:role/conformance"
_MACHINE_ARN = re.compile(r"^arn:aws:states:([^:]+):(\d+):stateMachine:([^:]+)$")
_CLOSING = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")
# A child that answers through the parent's token waits this long; the token is answered first.
WAIT_SECONDS = 1


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value (JSON text in strings included), depth first."""
    value = parsed(value)
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _tokens(value: Any) -> list[str]:
    """The values of every ``TaskToken`` field in a JSON value."""
    value = parsed(value)
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == "TaskToken" and isinstance(v, str)]
        return found + [t for v in value.values() for t in _tokens(v)]
    if isinstance(value, list):
        return [t for v in value for t in _tokens(v)]
    return []


def _start_pattern(event: dict[str, Any]) -> str | None:
    """The pattern ("", "sync", "sync:2", "waitForTaskToken") of a startExecution
    TaskScheduled, None for any other event."""
    if event["type"] != "TaskScheduled":
        return None
    details = event.get("taskScheduledEventDetails") or {}
    resource = str(details.get("resource", ""))
    if details.get("resourceType") not in ("states", "aws-sdk:sfn"):
        return None
    if resource != "startExecution" and not resource.startswith("startExecution."):
        return None
    return resource.partition(".")[2]


def recorded_starts(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any] | None]]:
    """For each startExecution Task in order: its pattern and the event that closed it."""
    starts = []
    for index, event in enumerate(events):
        pattern = _start_pattern(event)
        if pattern is None:
            continue
        closing = next((e for e in events[index + 1 :] if e["type"] in _CLOSING), None)
        starts.append((pattern, closing))
    return starts


def _described(value: Any) -> dict[str, Any] | None:
    value = parsed(value)
    if isinstance(value, dict) and "ExecutionArn" in value and "Status" in value:
        return value
    return None


@dataclass
class Child:
    """One child state machine the double creates, and the token answer it plays, if any."""

    arn: str
    definition: dict[str, Any] | None  # None: the recording shows the machine did not exist
    answer: dict[str, Any] | None = None  # the recorded event that answered the parent's token


def _child(arn: str, pattern: str, closing: dict[str, Any] | None) -> Child:
    """The child that makes the parent's Task close the way ``closing`` recorded."""
    passing = {"StartAt": "Child", "States": {"Child": {"Type": "Pass", "End": True}}}
    if closing is not None and closing["type"] == "TaskFailed":
        error = str((closing.get("taskFailedEventDetails") or {}).get("error", ""))
        if error.endswith("StateMachineDoesNotExistException"):
            return Child(arn, None)
    if closing is None or pattern == "":
        return Child(arn, passing)
    if closing["type"] == "TaskSucceeded":
        output = (closing.get("taskSucceededEventDetails") or {}).get("output")
        described = _described(output) if pattern.startswith("sync") else None
        if described is None:
            return _answering(arn, closing)
        result = described.get("Output")
        if pattern == "sync":
            result = parsed(result)  # .sync reports the child's output as JSON text
        state = {"Type": "Pass", "Result": result, "End": True}
        return Child(arn, {"StartAt": "Child", "States": {"Child": state}})
    if closing["type"] == "TaskFailed":
        details = closing.get("taskFailedEventDetails") or {}
        described = _described(details.get("cause")) if pattern.startswith("sync") else None
        if described is None:
            return _answering(arn, closing)
        if described.get("Status") == "TIMED_OUT":
            wait = {"Type": "Wait", "Seconds": 2, "End": True}
            return Child(arn, {"TimeoutSeconds": 1, "StartAt": "Child", "States": {"Child": wait}})
        fail: dict[str, Any] = {"Type": "Fail"}
        fail.update({k: described[k] for k in ("Error", "Cause") if k in described})
        return Child(arn, {"StartAt": "Child", "States": {"Child": fail}})
    return Child(arn, passing)


def _answering(arn: str, closing: dict[str, Any]) -> Child:
    wait = {"Type": "Wait", "Seconds": WAIT_SECONDS, "End": True}
    return Child(arn, {"StartAt": "Child", "States": {"Child": wait}}, answer=closing)


def plan(ctx: ServiceContext, case: dict[str, Any], events: list[dict[str, Any]]) -> list[Child]:
    """The children a case's recording implies: the i-th state machine ARN of the case's
    account named in the input (or the definition) plays the i-th startExecution Task."""
    candidates = _strings(case.get("input")) + _strings(json.dumps(case.get("definition")))
    machine_arns: list[str] = []
    for text in candidates:
        match = _MACHINE_ARN.match(text)
        if match and match.group(2) == ctx.account and text not in machine_arns:
            machine_arns.append(text)
    starts = recorded_starts(events)
    if not machine_arns or not starts:
        return []
    if len(machine_arns) == 1:
        pattern, closing = starts[0]
        return [_child(machine_arns[0], pattern, closing)]
    return [
        _child(arn, pattern, closing)
        for arn, (pattern, closing) in zip(machine_arns, starts, strict=False)
    ]


@dataclass
class ChildMachines:
    """Creates a case's children before the parent starts; answers the parent's task tokens
    found in their inputs the way the recording shows."""

    ctx: ServiceContext
    children: list[Child] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)

    def provision(self) -> None:
        """Create every child that the recording shows existed."""
        for child in self.children:
            if child.definition is None:
                continue
            match = _MACHINE_ARN.match(child.arn)
            assert match is not None
            try:
                state_machines.create_state_machine(
                    self.ctx,
                    match.group(1),
                    {
                        "name": match.group(3),
                        "definition": json.dumps(child.definition),
                        "roleArn": ROLE_ARN,
                    },
                )
            except ServiceError as err:
                if err.code != "StateMachineAlreadyExists":
                    raise

    @property
    def answering(self) -> list[Child]:
        """The children through which the parent's task token is answered."""
        return [c for c in self.children if c.answer is not None]

    def serve(self) -> int:
        """Answer the task tokens in the inputs of the running children; returns how many."""
        answered = 0
        for child in self.answering:
            listed = executions.list_executions(
                self.ctx, {"stateMachineArn": child.arn, "maxResults": 100}
            )
            for execution in listed["executions"]:
                described = executions.describe_execution(
                    self.ctx, {"executionArn": execution["executionArn"]}
                )
                for token in _tokens(described.get("input")):
                    if token not in self.answered:
                        self.answered.add(token)
                        answered += self._answer(token, child.answer or {})
        return answered

    def _answer(self, token: str, closing: dict[str, Any]) -> int:
        try:
            if closing["type"] == "TaskSucceeded":
                output = (closing.get("taskSucceededEventDetails") or {}).get("output")
                text = json.dumps(output)
                if isinstance(output, str) and parsed(output) is not output:
                    text = output  # JSON text the recorder kept unparsed
                tasks.send_task_success(self.ctx, {"taskToken": token, "output": text})
            else:
                details = closing.get("taskFailedEventDetails") or {}
                request = {"taskToken": token}
                for key in ("error", "cause"):
                    if key in details:
                        value = details[key]
                        request[key] = value if isinstance(value, str) else json.dumps(value)
                tasks.send_task_failure(self.ctx, request)
        except ServiceError:
            return 0  # the parent's task no longer takes answers
        return 1
