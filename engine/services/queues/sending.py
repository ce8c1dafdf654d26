"""Sending: SendMessage and SendMessageBatch. Each is one transaction and answers only after
its commit; FIFO sends take the queue's next sequence number and honour the five-minute
deduplication window (which outlives the message)."""

from __future__ import annotations

import hashlib
import json
import uuid
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
    BatchRequestTooLong,
    InvalidParameterValue,
    MissingParameter,
    SqsError,
)

# FIFO: a deduplication id suppresses repeats for five minutes, even after the delete.
DEDUP_WINDOW_SECONDS = 300.0


def send_message(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """SendMessage."""
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        queue = _queue_for_send(ctx, tx, body.get("QueueUrl"))
        result = _enqueue(tx, queue, _prepare(queue, body), now)
        woken.add(queue["id"])
        return result

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result


def send_message_batch(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """SendMessageBatch: up to 10 entries in one transaction; bad entries fail alone."""
    entries = check_batch(body.get("Entries"), "SendMessageBatchRequestEntry")
    now = ctx.clock.now()
    woken: set[int] = set()

    def work(tx: Any) -> dict[str, Any]:
        queue = _queue_for_send(ctx, tx, body.get("QueueUrl"))
        limit = attrs.integer(queue, "MaximumMessageSize")
        total = sum(_rough_size(e) for e in entries)
        if total > limit:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {limit} bytes. You have sent {total} bytes."
            )
        successful, failed = [], []
        for entry in entries:
            try:
                result = _enqueue(tx, queue, _prepare(queue, entry), now)
            except SqsError as err:
                failed.append(failure(entry["Id"], err))
                continue
            successful.append({"Id": entry["Id"], **result})
            woken.add(queue["id"])
        return {"Successful": successful, "Failed": failed}

    result = ctx.store.run(work)
    notify(ctx, woken)
    return result


def _queue_for_send(ctx: ServiceContext, tx: Any, url: Any) -> dict[str, Any]:
    # FIFO sends take the queue row's lock first: sequence numbers and the deduplication
    # check-then-insert must not interleave with another send.
    queue = load_queue(ctx, tx, url)
    return lock_queue(ctx, tx, url) if queue["fifo"] else queue


def _rough_size(entry: dict[str, Any]) -> int:
    try:
        return contents.size_of(
            str(entry.get("MessageBody") or ""),
            contents.check_attributes(entry.get("MessageAttributes")),
        )
    except SqsError:
        return len(str(entry.get("MessageBody") or "").encode())


def _prepare(queue: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Validate one message for this queue; returns the values _enqueue stores."""
    body = contents.check_body(entry.get("MessageBody"))
    attributes = contents.check_attributes(entry.get("MessageAttributes"))
    system = contents.check_attributes(entry.get("MessageSystemAttributes"), system=True)
    limit = attrs.integer(queue, "MaximumMessageSize")
    if contents.size_of(body, attributes) > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than "
            f"{limit} bytes."
        )
    delay = int_param(entry, "DelaySeconds", 0, 900)
    group = entry.get("MessageGroupId")
    dedup = entry.get("MessageDeduplicationId")
    values = attrs.stored(queue)
    if queue["fifo"]:
        if delay:
            raise InvalidParameterValue(
                f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request "
                "include parameter that is not valid for this queue type."
            )
        if not group:
            raise MissingParameter("The request must contain the parameter MessageGroupId.")
        contents.check_token("MessageGroupId", group)
        if dedup is None or dedup == "":
            if values["ContentBasedDeduplication"] != "true":
                raise InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
            dedup = hashlib.sha256(body.encode()).hexdigest()
        contents.check_token("MessageDeduplicationId", dedup)
    else:
        if dedup is not None:
            raise InvalidParameterValue(
                f"Value {dedup} for parameter MessageDeduplicationId is invalid. Reason: The "
                "request include parameter that is not valid for this queue type."
            )
        if group is not None:
            # Standard queues accept a MessageGroupId (fair queues) and report it back.
            contents.check_token("MessageGroupId", group)
    if delay is None:
        delay = int(values["DelaySeconds"])
    return {
        "body": body,
        "attributes": attributes,
        "system": system,
        "delay": delay,
        "group": group,
        "dedup": dedup,
    }


def _enqueue(tx: Any, queue: dict[str, Any], msg: dict[str, Any], now: float) -> dict[str, Any]:
    """Store one validated message (or, for a FIFO duplicate, answer as the first one did)."""
    digests: dict[str, Any] = {"MD5OfMessageBody": contents.md5_hex(msg["body"])}
    if msg["attributes"]:
        digests["MD5OfMessageAttributes"] = contents.md5_of_attributes(msg["attributes"])
    if msg["system"]:
        digests["MD5OfMessageSystemAttributes"] = contents.md5_of_attributes(msg["system"])
    sequence = None
    message_id = str(uuid.uuid4())
    if queue["fifo"]:
        key = msg["dedup"]
        if attrs.stored(queue)["DeduplicationScope"] == "messageGroup":
            key = f"{len(msg['group'])}:{msg['group']}:{key}"
        tx.queues.dedup_expire(queue["id"], now)
        seen = tx.queues.dedup_find(queue["id"], key, now)
        if seen is not None:
            return {
                "MessageId": seen["message_id"],
                **digests,
                "SequenceNumber": sequence_text(seen["sequence_number"]),
            }
        sequence = tx.queues.next_sequence(queue["id"])
        tx.queues.dedup_remember(queue["id"], key, message_id, sequence, now + DEDUP_WINDOW_SECONDS)
    tx.queues.add_message(
        {
            "queue_id": queue["id"],
            "message_id": message_id,
            "body": msg["body"],
            "attributes": json.dumps(msg["attributes"]) if msg["attributes"] else None,
            "system_attributes": json.dumps(msg["system"]) if msg["system"] else None,
            "sent_at": now,
            "visible_at": now + msg["delay"],
            "receive_count": 0,
            "group_id": msg["group"],
            "dedup_id": msg["dedup"],
            "sequence_number": sequence,
        }
    )
    result = {"MessageId": message_id, **digests}
    if sequence is not None:
        result["SequenceNumber"] = sequence_text(sequence)
    return result
