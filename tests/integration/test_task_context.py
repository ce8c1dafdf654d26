"""What a Task state records about itself: the role of its Credentials on the *Scheduled event
(taskCredentials), and a context object with ``$$.Task`` only where a task token is handed
out. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from engine.services import executions, runtime, state_machines
from engine.services.context import ServiceContext

ROLE = "arn:aws:iam::123456789012:role/stepwell"
OTHER_ROLE = "arn:aws:iam::210987654321:role/cross-account"
MISSING_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/missing"


def _scheduled(ctx: ServiceContext, state: dict[str, Any], value: Any) -> dict[str, Any]:
    """Run a one-Task machine until it waits or ends; the TaskScheduled event's details."""
    definition = {"StartAt": "T", "States": {"T": {**state, "End": True}}}
    machine = state_machines.create_state_machine(
        ctx,
        "us-east-1",
        {
            "name": f"m{abs(hash(json.dumps(state)))}",
            "definition": json.dumps(definition),
            "roleArn": ROLE,
        },
    )["stateMachineArn"]
    arn = executions.start_execution(ctx, {"stateMachineArn": machine, "input": json.dumps(value)})[
        "executionArn"
    ]
    runtime.claim_and_decide(ctx, "node")
    events = executions.get_execution_history(ctx, {"executionArn": arn})["events"]
    return next(e["taskScheduledEventDetails"] for e in events if e["type"] == "TaskScheduled")


def test_credentials_are_recorded_on_the_scheduled_event(ctx: ServiceContext) -> None:
    details = _scheduled(
        ctx,
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": MISSING_QUEUE, "MessageBody": "x"},
            "Credentials": {"RoleArn.$": "$.role"},
        },
        {"role": OTHER_ROLE},
    )
    assert details["taskCredentials"] == {"roleArn": OTHER_ROLE}


def test_only_a_task_that_hands_out_a_token_has_task_in_its_context(ctx: ServiceContext) -> None:
    def context_of(resource: str) -> dict[str, Any]:
        details = _scheduled(
            ctx,
            {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"QueueUrl": MISSING_QUEUE, "MessageBody": {"context.$": "$$"}},
            },
            {},
        )
        assert "taskCredentials" not in details
        return dict(json.loads(details["parameters"])["MessageBody"]["context"])

    assert "Task" not in context_of("arn:aws:states:::sqs:sendMessage")
    assert set(context_of("arn:aws:states:::sqs:sendMessage.waitForTaskToken")["Task"]) == {"Token"}
