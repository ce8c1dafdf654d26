"""Queue use cases: create, find, list, delete, attributes, purge, tags, dead-letter sources.
One transaction each (engine.store.queues does the SQL)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues import attributes as attrs
from engine.services.queues.common import (
    Caller,
    changed_queue,
    int_param,
    load_queue,
    lock_queue,
    queue_url,
    run,
)
from engine.services.queues.errors import (
    InvalidParameterValue,
    MissingParameter,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
)

# SQS refuses to reuse a deleted queue's name, and to purge a queue again, for 60 seconds.
RECREATE_DELAY_SECONDS = 60.0
PURGE_INTERVAL_SECONDS = 60.0
MAX_TAGS = 50
LIST_LIMIT = 1000


def queue_arn(region: str, account: str, name: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name>."""
    return f"arn:aws:sqs:{region}:{account}:{name}"


def create_queue(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """CreateQueue: idempotent for identical attributes; QueueNameExists when they differ."""
    name = body.get("QueueName")
    raw = body.get("Attributes") or {}
    fifo = isinstance(raw, dict) and str(raw.get("FifoQueue", "false")).lower() == "true"
    given = attrs.normalise(raw, fifo, creating=True)
    name = attrs.check_queue_name(name, fifo)
    tags = _check_tags(body.get("tags") or body.get("Tags") or {})
    given.pop("FifoQueue", None)
    now = ctx.clock.now()
    account = ctx.account
    arn = queue_arn(caller.region, account, name)

    def work(tx: Any) -> dict[str, Any]:
        existing = tx.queues.get(account, name, include_deleted=True)
        if existing is not None and existing["deleted_at"] is None:
            current = attrs.stored(existing)
            for key, value in given.items():
                if current.get(key) != value:
                    raise QueueNameExists(
                        "A queue already exists with the same name and a different value for "
                        f"attribute {key}"
                    )
            return {"QueueUrl": queue_url(caller, existing)}
        if existing is not None:
            if now - existing["deleted_at"] < RECREATE_DELAY_SECONDS:
                raise QueueDeletedRecently(
                    "You must wait 60 seconds after deleting a queue before you can create "
                    "another queue with the same name."
                )
            changed_queue(ctx, tx, existing)
            tx.queues.drop(existing["id"])
        dlq_arn = _check_redrive(tx, arn, fifo, given)
        row = tx.queues.insert(
            {
                "account": account,
                "name": name,
                "arn": arn,
                "fifo": 1 if fifo else 0,
                "attributes": json.dumps(given),
                "tags": json.dumps(tags),
                "dlq_arn": dlq_arn,
                "sequence": 0,
                "created_at": now,
                "modified_at": now,
            }
        )
        return {"QueueUrl": queue_url(caller, row)}

    return run(ctx, work)


def _check_redrive(tx: Any, arn: str, fifo: bool, given: dict[str, str]) -> str | None:
    """The dead-letter queue ARN of a RedrivePolicy, once its target accepts this queue."""
    policy = given.get("RedrivePolicy")
    if not policy:
        return None
    target = json.loads(policy)["deadLetterTargetArn"]

    def refuse(reason: str) -> InvalidParameterValue:
        return InvalidParameterValue(
            f"Value {policy} for parameter RedrivePolicy is invalid. Reason: {reason}"
        )

    dlq = tx.queues.by_arn(target)
    if dlq is None:
        raise refuse("Dead letter target does not exist.")
    if bool(dlq["fifo"]) != fifo:
        raise refuse("Dead-letter queue must be same type of queue as the source.")
    allow = attrs.stored(dlq).get("RedriveAllowPolicy")
    if allow:
        rule = json.loads(allow)
        permission = rule["redrivePermission"]
        if permission == "denyAll" or (
            permission == "byQueue" and arn not in rule.get("sourceQueueArns", [])
        ):
            raise refuse("Queue is not allowed by the dead-letter queue's RedriveAllowPolicy.")
    return str(target)


def _check_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict):
        raise InvalidParameterValue("Tags must be a map of keys to values.")
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"Too many tags: a queue can have at most {MAX_TAGS}.")
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise InvalidParameterValue(f"Tag key '{key}' must be 1 to 128 characters long.")
        if not isinstance(value, str) or len(value) > 256:
            raise InvalidParameterValue(f"Tag value of '{key}' must be at most 256 characters.")
    return dict(tags)


def get_queue_url(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """GetQueueUrl: the URL of a queue by name (QueueOwnerAWSAccountId must be ours)."""
    name = body.get("QueueName")
    if not name:
        raise MissingParameter("The request must contain the parameter QueueName.")
    owner = body.get("QueueOwnerAWSAccountId") or ctx.account

    def work(tx: Any) -> dict[str, Any]:
        queue = tx.queues.get(owner, name) if owner == ctx.account else None
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return {"QueueUrl": queue_url(caller, queue)}

    return ctx.store.run(work)


def _page_args(body: dict[str, Any]) -> tuple[int | None, str]:
    limit = int_param(body, "MaxResults", 1, LIST_LIMIT)
    token = body.get("NextToken")
    after = ""
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(str(token).encode()))["after"]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidParameterValue("Invalid NextToken value.") from exc
    return limit, str(after)


def _paged(
    rows: list[dict[str, Any]], limit: int | None, caller: Caller, key: str
) -> dict[str, Any]:
    """A page of queue URLs; NextToken only when MaxResults was given (as SQS does)."""
    page = rows[: limit or LIST_LIMIT]
    result: dict[str, Any] = {key: [queue_url(caller, q) for q in page]}
    if limit is not None and len(rows) > limit:
        token = json.dumps({"after": page[-1]["name"]}).encode()
        result["NextToken"] = base64.urlsafe_b64encode(token).decode()
    return result


def list_queues(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """ListQueues: by name prefix, paginated with MaxResults/NextToken."""
    prefix = body.get("QueueNamePrefix") or ""
    limit, after = _page_args(body)
    rows = ctx.store.run(
        lambda tx: tx.queues.page(ctx.account, str(prefix), after, (limit or LIST_LIMIT) + 1)
    )
    return _paged(rows, limit, caller, "QueueUrls")


def list_dead_letter_source_queues(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """ListDeadLetterSourceQueues: queues whose RedrivePolicy names this one."""
    limit, after = _page_args(body)

    def work(tx: Any) -> list[dict[str, Any]]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        return list(tx.queues.dead_letter_sources(queue["arn"], after, (limit or LIST_LIMIT) + 1))

    return _paged(ctx.store.run(work), limit, caller, "queueUrls")


def delete_queue(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteQueue: the queue and its messages go at once."""
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        changed_queue(ctx, tx, queue)
        tx.queues.mark_deleted(queue["id"], now)
        return {}

    return ctx.store.run(work)


def get_queue_attributes(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """GetQueueAttributes: the named attributes, or all of them for ``All``."""
    wanted = attrs.requested_names(body.get("AttributeNames"))
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        queue = load_queue(ctx, tx, body.get("QueueUrl"))
        values = attrs.stored(queue)
        out = {k: v for k, v in values.items() if k in wanted and v != ""}
        if wanted & {
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        }:
            # Retention is enforced lazily: expired messages go before they are counted.
            tx.queues.expire(queue["id"], now - int(values["MessageRetentionPeriod"]))
            visible, in_flight, delayed = tx.queues.counts(queue["id"], now)
            counted = {
                "ApproximateNumberOfMessages": visible,
                "ApproximateNumberOfMessagesNotVisible": in_flight,
                "ApproximateNumberOfMessagesDelayed": delayed,
            }
            out.update({k: str(v) for k, v in counted.items() if k in wanted})
        computed = {
            "CreatedTimestamp": str(int(queue["created_at"])),
            "LastModifiedTimestamp": str(int(queue["modified_at"])),
            "QueueArn": queue["arn"],
        }
        out.update({k: v for k, v in computed.items() if k in wanted})
        return {"Attributes": out} if out else {}

    return ctx.store.run(work)


def set_queue_attributes(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """SetQueueAttributes: change settable attributes (FifoQueue cannot change)."""
    now = ctx.clock.now()
    raw = body.get("Attributes")
    if not raw:
        raise MissingParameter("The request must contain the parameter Attribute.Name.")

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        given = attrs.normalise(raw, bool(queue["fifo"]), creating=False)
        current = json.loads(queue["attributes"])
        for key, value in given.items():
            if value == "":
                current.pop(key, None)
            else:
                current[key] = value
        values: dict[str, Any] = {"attributes": json.dumps(current), "modified_at": now}
        if "RedrivePolicy" in given:
            values["dlq_arn"] = _check_redrive(tx, queue["arn"], bool(queue["fifo"]), given)
        changed_queue(ctx, tx, queue)
        tx.queues.update(queue["id"], **values)
        return {}

    return ctx.store.run(work)


def purge_queue(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """PurgeQueue: delete every message; at most once every 60 seconds."""
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        if queue["purged_at"] is not None and now - queue["purged_at"] < PURGE_INTERVAL_SECONDS:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {queue['name']} is allowed every 60 seconds."
            )
        tx.queues.purge(queue["id"])
        changed_queue(ctx, tx, queue)
        tx.queues.update(queue["id"], purged_at=now)
        return {}

    return ctx.store.run(work)


def tag_queue(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """TagQueue: add or replace tags."""
    new = _check_tags(body.get("Tags") or {})
    if not new:
        raise MissingParameter("The request must contain the parameter Tags.")

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        tags = {**json.loads(queue["tags"]), **new}
        _check_tags(tags)
        changed_queue(ctx, tx, queue)
        tx.queues.update(queue["id"], tags=json.dumps(tags))
        return {}

    return ctx.store.run(work)


def untag_queue(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """UntagQueue: remove tags by key."""
    keys = body.get("TagKeys") or []
    if not keys:
        raise MissingParameter("The request must contain the parameter TagKeys.")

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        tags = {k: v for k, v in json.loads(queue["tags"]).items() if k not in keys}
        changed_queue(ctx, tx, queue)
        tx.queues.update(queue["id"], tags=json.dumps(tags))
        return {}

    return ctx.store.run(work)


def list_queue_tags(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """ListQueueTags."""

    def work(tx: Any) -> dict[str, Any]:
        tags = json.loads(load_queue(ctx, tx, body.get("QueueUrl"))["tags"])
        return {"Tags": tags} if tags else {}

    return ctx.store.run(work)
