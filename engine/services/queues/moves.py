"""Message move tasks (dead-letter queue redrive): StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask.

Without MaxNumberOfMessagesPerSecond a task moves every message at once and completes in the
same transaction. With a rate it stays RUNNING and moves ``rate x elapsed seconds`` messages
whenever the task is looked at (listed, cancelled, or a new one asked for), measured on the
injected clock, so tests can watch it progress by moving the clock.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues.common import Caller, int_param, notify
from engine.services.queues.errors import (
    InvalidParameterValue,
    MissingParameter,
    ResourceNotFoundException,
    UnsupportedOperation,
)

MAX_RATE = 500
BATCH = 1000


def start_message_move_task(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """StartMessageMoveTask: move a dead-letter queue's messages back to their source queues
    (or to DestinationArn)."""
    source_arn = body.get("SourceArn")
    if not source_arn:
        raise MissingParameter("The request must contain the parameter SourceArn.")
    destination_arn = body.get("DestinationArn") or None
    rate = int_param(body, "MaxNumberOfMessagesPerSecond", 1, MAX_RATE)
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        source = tx.queues.by_arn(source_arn)
        if source is None:
            raise ResourceNotFoundException(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        if not tx.queues.dead_letter_sources(source_arn, "", 1):
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if destination_arn is not None and tx.queues.by_arn(destination_arn) is None:
            raise ResourceNotFoundException(
                "The resource that you specified for the DestinationArn parameter doesn't exist."
            )
        for task in tx.queues.move_tasks(source_arn, 10):
            _advance(tx, task, now, woken)
            if task["status"] == "RUNNING":
                raise UnsupportedOperation(
                    "There is already a task running. Only one active task is allowed for each "
                    "source queue arn at a given time."
                )
        handle = base64.b64encode(
            json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
        ).decode()
        task = {
            "handle": handle,
            "source_arn": source_arn,
            "destination_arn": destination_arn,
            "status": "RUNNING",
            "max_per_second": rate,
            "moved": 0,
            "to_move": tx.queues.count(source["id"]),
            "failure_reason": None,
            "started_at": now,
        }
        tx.queues.add_move_task(task)
        _advance(tx, task, now, woken)
        return {"TaskHandle": handle}

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result


def _advance(tx: Any, task: dict[str, Any], now: float, woken: set[int]) -> None:
    """Move the messages a RUNNING task is due to have moved by ``now``; updates ``task``."""
    if task["status"] != "RUNNING":
        return
    source = tx.queues.by_arn(task["source_arn"])
    if source is None:
        _finish(tx, task, "FAILED", "The source queue no longer exists.")
        return
    budget = BATCH * 1000
    if task["max_per_second"]:
        budget = int(task["max_per_second"] * max(0.0, now - task["started_at"])) - task["moved"]
    targets: dict[str, dict[str, Any] | None] = {}
    while budget > 0:
        batch = tx.queues.oldest(source["id"], min(budget, BATCH))
        if not batch:
            break
        for message in batch:
            arn = task["destination_arn"] or message["source_arn"]
            if arn not in targets:
                targets[arn] = tx.queues.by_arn(arn) if arn else None
            target = targets[arn]
            if target is None:
                _finish(tx, task, "FAILED", f"Destination queue {arn} does not exist.")
                return
            values: dict[str, Any] = {
                "queue_id": target["id"],
                "receive_count": 0,
                "first_received_at": None,
                "receipt": None,
                "visible_at": now,
                "source_arn": None,
            }
            if target["fifo"]:
                values["sequence_number"] = tx.queues.next_sequence(target["id"])
            tx.queues.update_message(message["id"], **values)
            woken.add(target["id"])
            task["moved"] += 1
            budget -= 1
    tx.queues.update_move_task(task["handle"], moved=task["moved"])
    if tx.queues.count(source["id"]) == 0:
        _finish(tx, task, "COMPLETED", None)


def _finish(tx: Any, task: dict[str, Any], status: str, reason: str | None) -> None:
    task.update(status=status, failure_reason=reason)
    tx.queues.update_move_task(
        task["handle"], status=status, failure_reason=reason, moved=task["moved"]
    )


def list_message_move_tasks(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ListMessageMoveTasks: a source queue's most recent tasks (MaxResults 1-10, default 1)."""
    source_arn = body.get("SourceArn")
    if not source_arn:
        raise MissingParameter("The request must contain the parameter SourceArn.")
    limit = int_param(body, "MaxResults", 1, 10) or 1
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        if tx.queues.by_arn(source_arn) is None:
            raise ResourceNotFoundException(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        tasks = tx.queues.move_tasks(source_arn, limit)
        for task in tasks:
            _advance(tx, task, now, woken)
        return {"Results": [_describe(t) for t in tasks]}

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result


def _describe(task: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Status": task["status"],
        "SourceArn": task["source_arn"],
        "ApproximateNumberOfMessagesMoved": task["moved"],
        "ApproximateNumberOfMessagesToMove": task["to_move"],
        "StartedTimestamp": int(task["started_at"] * 1000),
    }
    if task["status"] == "RUNNING":
        out["TaskHandle"] = task["handle"]
    if task["destination_arn"]:
        out["DestinationArn"] = task["destination_arn"]
    if task["max_per_second"]:
        out["MaxNumberOfMessagesPerSecond"] = task["max_per_second"]
    if task["failure_reason"]:
        out["FailureReason"] = task["failure_reason"]
    return out


def cancel_message_move_task(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """CancelMessageMoveTask: stop a RUNNING task; messages already moved stay moved."""
    handle = body.get("TaskHandle")
    if not handle:
        raise MissingParameter("The request must contain the parameter TaskHandle.")
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        task = tx.queues.move_task(handle)
        if task is None:
            raise ResourceNotFoundException("Task does not exist.")
        _advance(tx, task, now, woken)
        if task["status"] != "RUNNING":
            raise UnsupportedOperation("Only active tasks can be cancelled.")
        _finish(tx, task, "CANCELLED", None)
        return {"ApproximateNumberOfMessagesMoved": task["moved"]}

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result
