"""Receiving and settling messages: ReceiveMessage, DeleteMessage(Batch) and
ChangeMessageVisibility(Batch).

Each call is one transaction. Retention is enforced lazily (expired messages are deleted when a
receive or a count looks at the queue), and every time comes from ``ctx.clock`` so tests move
the clock instead of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues import attributes as attrs
from engine.services.queues import contents
from engine.services.queues.batches import check_batch, failure
from engine.services.queues.common import (
    Caller,
    int_param,
    load_queue,
    lock_queue,
    notify,
    sequence_text,
)
from engine.services.queues.errors import (
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    ReceiptHandleIsInvalid,
    SqsError,
)

MAX_RECEIVE = 10
MAX_VISIBILITY = 43_200
SYSTEM_ATTRIBUTES = {
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
}


# --- receive ------------------------------------------------------------------------------------
def receive_wait_seconds(ctx: ServiceContext, body: dict[str, Any]) -> tuple[int, float]:
    """(queue id, seconds to long-poll): WaitTimeSeconds, else the queue's
    ReceiveMessageWaitTimeSeconds. Validates the queue and the parameter."""
    wait = int_param(body, "WaitTimeSeconds", 0, 20)

    def work(tx: Any) -> tuple[int, float]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        seconds = (
            wait if wait is not None else attrs.integer(queue, "ReceiveMessageWaitTimeSeconds")
        )
        return int(queue["id"]), float(seconds)

    return ctx.store.run(work)


def receive_message(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage, one attempt without waiting (the adapter long-polls around it).

    Each returned message gets a new receipt handle and becomes invisible for the visibility
    timeout. A message whose receive would exceed the RedrivePolicy's maxReceiveCount moves
    to the dead-letter queue instead. FIFO queues hand out a group's messages in order and
    none of a group while one of its messages is in flight."""
    count = int_param(body, "MaxNumberOfMessages", 1, MAX_RECEIVE) or 1
    override = int_param(body, "VisibilityTimeout", 0, MAX_VISIBILITY)
    int_param(body, "WaitTimeSeconds", 0, 20)
    system_names = set(_names(body.get("AttributeNames")))
    system_names |= set(_names(body.get("MessageSystemAttributeNames")))
    if "All" in system_names:
        system_names = set(SYSTEM_ATTRIBUTES)
    attribute_names = _names(body.get("MessageAttributeNames"))
    attempt = _attempt_id(body.get("ReceiveRequestAttemptId"))
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> list[dict[str, Any]]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        if queue["fifo"]:
            queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        values = attrs.stored(queue)
        timeout = override if override is not None else int(values["VisibilityTimeout"])
        if queue["fifo"] and attempt:
            repeated = _repeat_attempt(tx, queue, attempt, now, timeout)
            if repeated:
                return [_render(ctx, queue, m, system_names, attribute_names) for m in repeated]
        cutoff = now - int(values["MessageRetentionPeriod"])
        if queue["fifo"] or _expiry_due(ctx, queue["id"], now):
            tx.queues.expire(queue["id"], cutoff)
        redrive = json.loads(values["RedrivePolicy"]) if values.get("RedrivePolicy") else None
        dlq = tx.queues.by_arn(redrive["deadLetterTargetArn"]) if redrive else None
        if queue["fifo"]:
            candidates = _fifo_candidates(tx.queues.fifo_window(queue["id"], now), now)
        else:
            # Ask for extra rows: some may be moved to the dead-letter queue instead.
            candidates = tx.queues.visible(
                queue["id"], now, count * 2 if dlq else count, sent_after=cutoff
            )
        taken: list[dict[str, Any]] = []
        for message in candidates:
            if len(taken) == count:
                break
            if (
                dlq is not None
                and redrive
                and message["receive_count"] >= redrive["maxReceiveCount"]
            ):
                _move(tx, message, queue, dlq, now)
                woken.add(dlq["id"])
                continue
            nonce = uuid.uuid4().hex
            tx.queues.mark_received(message["id"], nonce, now + timeout, now)
            message.update(
                receive_count=message["receive_count"] + 1,
                first_received_at=message["first_received_at"] or now,
                receipt=nonce,
                visible_at=now + timeout,
            )
            taken.append(message)
        if queue["fifo"] and attempt and taken:
            _remember_attempt(tx, queue, attempt, now, taken)
        return [_render(ctx, queue, m, system_names, attribute_names) for m in taken]

    messages = ctx.store.run(work)
    notify(ctx, woken)
    return {"Messages": messages} if messages else {}


# AWS: "You can use ReceiveRequestAttemptId only for 5 minutes after a ReceiveMessage action."
ATTEMPT_SECONDS = 300
_ATTEMPT_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)


def _attempt_id(value: Any) -> str | None:
    """ReceiveRequestAttemptId: up to 128 letters, digits and punctuation."""
    if value is None or value == "":
        return None
    if len(value) > 128 or not set(value) <= _ATTEMPT_CHARACTERS:
        raise InvalidParameterValue(
            f"Value {value} for parameter ReceiveRequestAttemptId is invalid. Reason: It can "
            "only contain alphanumeric characters and punctuation, up to 128 characters."
        )
    return str(value)


def _repeat_attempt(
    tx: Any, queue: dict[str, Any], attempt: str, now: float, timeout: int
) -> list[dict[str, Any]] | None:
    """The messages a FIFO receive attempt returned, with the same receipt handles, if it was
    made in the last five minutes and none of them was deleted, received again or had its
    visibility changed since; else None (the receive runs afresh). As in SQS, the repeat
    starts their visibility timeout again (nobody else may take them meanwhile)."""
    recorded = tx.queues.receive_attempt(queue["id"], attempt, now - ATTEMPT_SECONDS)
    if recorded is None:
        return None
    handed = json.loads(recorded)
    stored = tx.queues.messages_by_id([row_id for row_id, _, _ in handed])
    again: list[dict[str, Any]] = []
    for row_id, receipt, visible_at in handed:
        message = stored.get(row_id)
        if message is None or message["receipt"] != receipt or message["visible_at"] != visible_at:
            return None
        again.append(message)
    for message in again:
        message["visible_at"] = now + timeout
        tx.queues.update_message(message["id"], visible_at=message["visible_at"])
    _remember_attempt(tx, queue, attempt, now, again)
    return again


def _remember_attempt(
    tx: Any, queue: dict[str, Any], attempt: str, now: float, handed: list[dict[str, Any]]
) -> None:
    """Record which messages (row, receipt, visible until) a FIFO receive attempt handed out."""
    rows = [[m["id"], m["receipt"], m["visible_at"]] for m in handed]
    tx.queues.remember_attempt(queue["id"], attempt, now, json.dumps(rows), now - ATTEMPT_SECONDS)


# A standard queue's receive leaves out messages past their retention period; deleting them
# is housekeeping, done at most this often (by the clock) per queue and node, so that most
# receives cost one statement less. GetQueueAttributes' counts always delete first.
EXPIRY_INTERVAL_SECONDS = 1.0


def _expiry_due(ctx: ServiceContext, queue_id: int, now: float) -> bool:
    last = ctx.queue_expiry.get(queue_id)
    if last is not None and 0 <= now - last < EXPIRY_INTERVAL_SECONDS:
        return False
    ctx.queue_expiry[queue_id] = now
    return True


def _names(value: Any) -> list[str]:
    if not value:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _fifo_candidates(window: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """From a FIFO queue's live messages (oldest first, busy groups already left out), each
    group's leading run of visible messages, group after group in order of their heads."""
    groups: dict[str, list[dict[str, Any]]] = {}
    stopped: set[str] = set()
    for message in window:
        group = message["group_id"]
        if group in stopped:
            continue
        if message["visible_at"] > now:
            # A delayed message holds back the rest of its group.
            stopped.add(group)
            continue
        groups.setdefault(group, []).append(message)
    return [m for run in groups.values() for m in run]


def _move(
    tx: Any, message: dict[str, Any], source: dict[str, Any], target: dict[str, Any], now: float
) -> None:
    """Hand a message to another queue (dead-letter redrive or a move task), as if new there;
    its SentTimestamp stays, so retention still counts from the original send."""
    values: dict[str, Any] = {
        "queue_id": target["id"],
        "receive_count": 0,
        "first_received_at": None,
        "receipt": None,
        "visible_at": now,
        "source_arn": source["arn"] if message["source_arn"] is None else message["source_arn"],
    }
    if target["fifo"]:
        values["sequence_number"] = tx.queues.next_sequence(target["id"])
    tx.queues.update_message(message["id"], **values)


def _render(
    ctx: ServiceContext,
    queue: dict[str, Any],
    message: dict[str, Any],
    system_names: set[str],
    attribute_names: list[str],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MessageId": message["message_id"],
        "ReceiptHandle": encode_receipt(queue["id"], message["id"], message["receipt"]),
        "MD5OfBody": contents.md5_hex(message["body"]),
        "Body": message["body"],
    }
    system = {
        "SenderId": ctx.account,
        "SentTimestamp": str(int(message["sent_at"] * 1000)),
        "ApproximateReceiveCount": str(message["receive_count"]),
        "ApproximateFirstReceiveTimestamp": str(int(message["first_received_at"] * 1000)),
    }
    if message["sequence_number"] is not None:
        system["SequenceNumber"] = sequence_text(message["sequence_number"])
    if message["group_id"] is not None:
        system["MessageGroupId"] = message["group_id"]
    if message["dedup_id"] is not None:
        system["MessageDeduplicationId"] = message["dedup_id"]
    if message["source_arn"] is not None:
        system["DeadLetterQueueSourceArn"] = message["source_arn"]
    if message["system_attributes"]:
        trace = json.loads(message["system_attributes"]).get("AWSTraceHeader")
        if trace:
            system["AWSTraceHeader"] = trace["StringValue"]
    chosen = {k: v for k, v in system.items() if k in system_names}
    if chosen:
        out["Attributes"] = chosen
    stored = json.loads(message["attributes"]) if message["attributes"] else {}
    selected = contents.select_attributes(stored, attribute_names)
    if selected:
        out["MessageAttributes"] = selected
        out["MD5OfMessageAttributes"] = contents.md5_of_attributes(selected)
    return out


# --- receipt handles ----------------------------------------------------------------------------
def encode_receipt(queue_id: int, row_id: int, nonce: str) -> str:
    """A receipt handle: which queue, which message, which receive."""
    return base64.urlsafe_b64encode(f"sw1:{queue_id}:{row_id}:{nonce}".encode()).decode()


def decode_receipt(handle: Any, queue: dict[str, Any]) -> tuple[int, str]:
    """(message row id, receive nonce) of a handle issued for this queue."""
    if handle is None or handle == "":
        raise MissingParameter("The request must contain the parameter ReceiptHandle.")
    try:
        text = base64.urlsafe_b64decode(str(handle).encode()).decode()
        tag, queue_id, row_id, nonce = text.split(":")
        if tag != "sw1" or int(queue_id) != queue["id"]:
            raise ValueError(tag)
        return int(row_id), nonce
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        ) from exc


# --- delete and visibility ----------------------------------------------------------------------
def _delete_one(tx: Any, queue: dict[str, Any], handle: Any, now: float) -> None:
    row_id, nonce = decode_receipt(handle, queue)
    message = tx.queues.message(row_id)
    # Already deleted, or received again since (an older handle): succeed without deleting.
    if message is None or message["queue_id"] != queue["id"] or message["receipt"] != nonce:
        return
    tx.queues.delete_message(row_id)


def _change_one(
    tx: Any, queue: dict[str, Any], handle: Any, timeout: Any, now: float, woken: set[int]
) -> None:
    seconds = int_param({"VisibilityTimeout": timeout}, "VisibilityTimeout", 0, MAX_VISIBILITY)
    if seconds is None:
        raise MissingParameter("The request must contain the parameter VisibilityTimeout.")
    row_id, nonce = decode_receipt(handle, queue)
    message = tx.queues.message(row_id)
    if message is None or message["queue_id"] != queue["id"] or message["receipt"] != nonce:
        raise InvalidParameterValue(
            f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
            "exist or is not available for visibility timeout change."
        )
    if message["visible_at"] <= now:
        raise MessageNotInflight("Message is not in flight.")
    tx.queues.update_message(row_id, visible_at=now + seconds)
    if seconds == 0:
        woken.add(queue["id"])


def delete_message(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteMessage: only the newest receipt handle deletes; an older one is a no-op."""
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        _delete_one(tx, queue, body.get("ReceiptHandle"), now)
        return {}

    return ctx.store.run(work)


def change_message_visibility(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ChangeMessageVisibility: restart an in-flight message's timeout (0 releases it)."""
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        _change_one(tx, queue, body.get("ReceiptHandle"), body.get("VisibilityTimeout"), now, woken)
        return {}

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result


def delete_message_batch(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """DeleteMessageBatch."""
    now = ctx.clock.now()
    return _batch(
        ctx,
        body,
        "DeleteMessageBatchRequestEntry",
        lambda tx, queue, entry, woken: _delete_one(tx, queue, entry.get("ReceiptHandle"), now),
    )


def change_message_visibility_batch(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ChangeMessageVisibilityBatch."""
    now = ctx.clock.now()
    return _batch(
        ctx,
        body,
        "ChangeMessageVisibilityBatchRequestEntry",
        lambda tx, queue, entry, woken: _change_one(
            tx, queue, entry.get("ReceiptHandle"), entry.get("VisibilityTimeout"), now, woken
        ),
    )


def _batch(
    ctx: ServiceContext,
    body: dict[str, Any],
    what: str,
    apply: Callable[[Any, dict[str, Any], dict[str, Any], set[int]], None],
) -> dict[str, Any]:
    entries = check_batch(body.get("Entries"), what)
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        successful, failed = [], []
        for entry in entries:
            try:
                apply(tx, queue, entry, woken)
            except SqsError as err:
                failed.append(failure(entry["Id"], err))
                continue
            successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result
