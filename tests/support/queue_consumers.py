"""A test double for the queue consumers the recorded callback cases ran.

In those tests (LocalStack's test_callback.py, test_heartbeats.py, test_task_service_sqs.py) a
Task sends a message with ``sqs:sendMessage.waitForTaskToken``; the test receives it, takes the
``TaskToken`` from the JSON body and answers it with SendTaskSuccess (a part of the body as the
output), SendTaskFailure (an error and a cause, or neither), or not at all (the task times out).

The double does the same for any case: it provisions the case's queues, drains them, and answers
each token the way the recorded history shows the callback was answered: for the n-th
``TaskSubmitted`` of an SQS task, the event that closed that task says what the consumer sent
(TaskSucceeded: the part of the message body equal to the recorded output; TaskFailed: the
recorded error and cause; TaskTimedOut: nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ServiceError
from engine.services import tasks
from engine.services.context import ServiceContext
from engine.services.queues import admin, messages
from engine.services.queues.common import Caller

CALLER = Caller(base="https://sqs.us-east-1.amazonaws.com", region="us-east-1")
_CLOSING = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")


def provision(ctx: ServiceContext, case: dict[str, Any]) -> list[str]:
    """Create the case's queues (idempotent); returns their URLs."""
    names = (case.get("resources") or {}).get("sqs_queues") or []
    return [admin.create_queue(ctx, CALLER, {"QueueName": n})["QueueUrl"] for n in names]


def recorded_answers(
    events: list[dict[str, Any]], resource_type: str = "sqs"
) -> list[dict[str, Any]]:
    """For each TaskSubmitted of ``resource_type`` tasks in order, the event that closed the
    task (``sns``: a publish whose message reached the consumer through a subscribed queue)."""
    answers = []
    for index, event in enumerate(events):
        details = event.get("taskSubmittedEventDetails") or {}
        if event["type"] != "TaskSubmitted" or details.get("resourceType") != resource_type:
            continue
        for later in events[index + 1 :]:
            if later["type"] in _CLOSING:
                answers.append(later)
                break
    return answers


def parsed(value: Any) -> Any:
    """A JSON text decoded, or the value as it is (a recorded field may hold either)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class QueueConsumer:
    """Receives from ``urls`` and answers the task tokens found in message bodies."""

    ctx: ServiceContext
    urls: list[str]
    answers: list[dict[str, Any]] = field(default_factory=list)

    def serve(self) -> int:
        """Drain the queues once; returns how many messages were consumed."""
        consumed = 0
        for url in self.urls:
            while True:
                received = messages.receive_message(
                    self.ctx, CALLER, {"QueueUrl": url, "MaxNumberOfMessages": 10}
                ).get("Messages", [])
                if not received:
                    break
                for message in received:
                    self._consume(message)
                    messages.delete_message(
                        self.ctx,
                        CALLER,
                        {"QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"]},
                    )
                    consumed += 1
        return consumed

    def _consume(self, message: dict[str, Any]) -> None:
        body = parsed(message["Body"])
        token = body.get("TaskToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not self.answers:
            return  # no token in the message: nobody can answer (the task times out)
        answer = self.answers[0]
        try:
            if answer["type"] == "TaskSucceeded":
                output = self._output(body, answer["taskSucceededEventDetails"].get("output"))
                tasks.send_task_success(
                    self.ctx, {"taskToken": token, "output": json.dumps(output)}
                )
            elif answer["type"] == "TaskFailed":
                details = answer["taskFailedEventDetails"]
                request = {"taskToken": token}
                request.update({k: details[k] for k in ("error", "cause") if k in details})
                tasks.send_task_failure(self.ctx, request)
        except ServiceError:
            return  # a token of an earlier case's message: it is closed already
        self.answers.pop(0)

    @staticmethod
    def _output(body: Any, recorded: Any) -> Any:
        """The part of the body the recorded output equals: the body itself, one field, or
        nothing (an empty object, as test_sns_publish_wait_for_task_token sent)."""
        from tests.support.conformance import difference

        expected = parsed(recorded)
        candidates = [body, *(body.values() if isinstance(body, dict) else ()), {}]
        for candidate in candidates:
            if difference(expected, candidate) is None:
                return candidate
        return body
