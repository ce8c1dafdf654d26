"""Publishing: Publish and PublishBatch. Each is one transaction that also writes the message
into every matching subscribed queue (engine.services.topics.delivery); it answers after the
commit, then wakes the queues' long-polling receivers."""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine.services.context import ServiceContext
from engine.services.topics.common import (
    MAX_MESSAGE_BYTES,
    Caller,
    load_topic,
    parse_topic_arn,
    sequence_text,
)
from engine.services.topics.delivery import deliver_all
from engine.services.topics.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    SnsError,
    TooManyEntriesInBatchRequest,
    invalid,
)
from engine.services.topics.messages import check_attributes, check_message, size_of

# FIFO topics: a deduplication id suppresses repeats for five minutes.
DEDUP_WINDOW_SECONDS = 300.0
MAX_BATCH = 10


def _target(body: dict[str, Any]) -> str:
    """The topic a Publish addresses (TopicArn, or TargetArn naming a topic)."""
    topic, target, phone = body.get("TopicArn"), body.get("TargetArn"), body.get("PhoneNumber")
    given = [v for v in (topic, target, phone) if v not in (None, "")]
    if not given:
        raise invalid("TopicArn or TargetArn", "No endpoint found for the target arn specified")
    if len(given) > 1:
        raise invalid(
            "TopicArn or TargetArn or PhoneNumber",
            "Only one of TopicArn, TargetArn or PhoneNumber may be specified",
        )
    if phone not in (None, ""):
        raise invalid("PhoneNumber", "SMS is not supported by this server (Stepwell)")
    if target not in (None, ""):
        try:
            parse_topic_arn(target, "TargetArn")
        except SnsError as exc:
            # Platform endpoints (mobile push) are out of scope: only topic ARNs are targets.
            raise invalid("TargetArn", "No endpoint found for the target arn specified") from exc
        return str(target)
    return str(topic)


def notify(ctx: ServiceContext, keys: list[str]) -> None:
    """Wake receivers long-polling the queues delivered to (after the commit)."""
    if not keys:
        return
    from engine.services.tasks import signals

    hub = signals(ctx)
    for key in keys:
        hub.notify(key)


def _publish_one(
    ctx: ServiceContext,
    tx: Any,
    caller: Caller,
    topic: dict[str, Any],
    entry: dict[str, Any],
    now: float,
    wake: list[str],
) -> dict[str, Any]:
    message = check_message(topic, entry)
    message_id = str(uuid.uuid4())
    if not topic["fifo"]:
        deliver_all(ctx, tx, caller, topic, message, message_id, None, now, wake)
        return {"MessageId": message_id}
    key = str(message.dedup)
    if stored_scope(topic) == "MessageGroup":
        key = f"{len(str(message.group))}:{message.group}:{key}"
    tx.topics.dedup_expire(topic["id"], now)
    seen = tx.topics.dedup_find(topic["id"], key, now)
    if seen is not None:
        # Accepted, not delivered again (SNS FIFO deduplication).
        return {
            "MessageId": seen["message_id"],
            "SequenceNumber": sequence_text(seen["sequence_number"]),
        }
    sequence = tx.topics.next_sequence(topic["id"])
    tx.topics.dedup_remember(topic["id"], key, message_id, sequence, now + DEDUP_WINDOW_SECONDS)
    text = sequence_text(sequence)
    deliver_all(ctx, tx, caller, topic, message, message_id, text, now, wake)
    return {"MessageId": message_id, "SequenceNumber": text}


def stored_scope(topic: dict[str, Any]) -> str:
    """A FIFO topic's deduplication scope (FifoThroughputScope: Topic or MessageGroup)."""
    return str(json.loads(topic["attributes"] or "{}").get("FifoThroughputScope", "Topic"))


def _load(ctx: ServiceContext, tx: Any, arn: str, action: str) -> dict[str, Any]:
    topic = load_topic(ctx, tx, arn, action)
    # FIFO publishes take the topic row's lock: sequence numbers and the deduplication
    # check-then-insert must not interleave with another publish.
    return load_topic(ctx, tx, arn, action, lock=True) if topic["fifo"] else topic


def publish(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """Publish."""
    arn = _target(body)
    now = ctx.clock.now()
    wake: list[str] = []

    def work(tx: Any) -> dict[str, Any]:
        wake.clear()  # a retried transaction starts over
        topic = _load(ctx, tx, arn, "Publish")
        return _publish_one(ctx, tx, caller, topic, body, now, wake)

    result = ctx.store.run(work)
    notify(ctx, wake)
    return result  # type: ignore[no-any-return]


def _check_batch(entries: Any) -> list[dict[str, Any]]:
    if not entries:
        raise EmptyBatchRequest("The batch request doesn't contain any entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise invalid("PublishBatchRequestEntries", "must be a list of structures")
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"The batch request contains more entries than permissible (more than {MAX_BATCH})"
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id")
        if (
            not isinstance(entry_id, str)
            or not 1 <= len(entry_id) <= 80
            or not all(c.isascii() and (c.isalnum() or c in "-_") for c in entry_id)
        ):
            raise InvalidBatchEntryId(
                "The Id of a batch entry in a batch request doesn't abide by the specification."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(
                "Two or more batch entries in the request have the same Id."
            )
        seen.add(entry_id)
    return entries


def publish_batch(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """PublishBatch: up to 10 messages in one transaction; bad entries fail alone."""
    arn = body.get("TopicArn")
    parse_topic_arn(arn)
    entries = _check_batch(body.get("PublishBatchRequestEntries"))
    total = 0
    for entry in entries:
        text = entry.get("Message")
        total += len(text.encode()) if isinstance(text, str) else 0
        try:
            total += size_of("", check_attributes(entry.get("MessageAttributes")))
        except SnsError:
            pass  # that entry fails on its own below
    if total > MAX_MESSAGE_BYTES:
        raise BatchRequestTooLong(
            "The length of all the messages put together is more than the limit."
        )
    now = ctx.clock.now()
    wake: list[str] = []

    def work(tx: Any) -> dict[str, Any]:
        wake.clear()
        topic = _load(ctx, tx, str(arn), "Publish")
        successful, failed = [], []
        for entry in entries:
            try:
                result = _publish_one(ctx, tx, caller, topic, entry, now, wake)
            except SnsError as err:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "Code": err.code,
                        "Message": err.message,
                        "SenderFault": err.sender_fault,
                    }
                )
                continue
            successful.append({"Id": entry["Id"], **result})
        return {"Successful": successful, "Failed": failed}

    result = ctx.store.run(work)
    notify(ctx, wake)
    return result  # type: ignore[no-any-return]
