"""Status notifications: a state machine names SNS topics, and each of its executions that ends
(SUCCEEDED, FAILED, TIMED_OUT or ABORTED) is published to them.

On AWS the same need is met by an EventBridge rule on Step Functions' "Execution Status Change"
events with an SNS target; the message published here is that event, so code written for it
reads these unchanged:

    {"version": "0", "id": ..., "detail-type": "Step Functions Execution Status Change",
     "source": "aws.states", "account": ..., "time": ..., "region": ..., "resources": [ARN],
     "detail": {"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate",
                "input", "output", "inputDetails", "outputDetails", "error", "cause"}}

The message carries the attributes ``status``, ``stateMachineArn`` and ``executionArn``, so a
subscription's filter policy can pick, say, only failures ({"status": ["FAILED", "TIMED_OUT"]}).

The publish happens in the transaction that ends the execution (the decision, or StopExecution)
through the topic service's own Publish, so an ended execution is announced exactly once and
its messages reach the subscribed queues durably or not at all. A topic deleted since it was
named is skipped (the execution still ends).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from engine import codec
from engine.errors import ServiceError, ValidationError
from engine.services import arns
from engine.services.bound import bound_context
from engine.services.context import ServiceContext
from engine.services.state_machines import get_state_machine, require
from engine.services.topics import OPERATIONS as TOPIC_OPERATIONS
from engine.services.topics.common import Caller, load_topic, parse_topic_arn

log = logging.getLogger("stepwell.notifications")

DETAIL_TYPE = "Step Functions Execution Status Change"
# Topics one state machine may name: each ended execution is one publish per topic, inside the
# transaction that ends it.
MAX_TOPICS = 10


def put_status_notifications(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """Name the topics a state machine's ended executions are published to (all of them:
    the list replaces the previous one; an empty list stops the notifications)."""
    arn = require(request, "stateMachineArn")
    arns.parse(arn, "stateMachine")
    topics = request.get("topicArns")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ValidationError("topicArns must be a list of SNS topic ARNs")
    if len(topics) > MAX_TOPICS:
        raise ValidationError(f"A state machine notifies at most {MAX_TOPICS} topics")
    topics = list(dict.fromkeys(topics))  # once each, in the order given
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        get_state_machine(tx, arn)
        for topic in topics:
            # The topic must exist and be this account's, as for a Publish to it.
            load_topic(ctx, tx, topic, "Publish")
        tx.status_notifications.replace(arn, topics, now)
        tx.on_commit.append(tx.status_notifications.forget_cached)
        return {"stateMachineArn": arn, "topicArns": topics}

    return dict(ctx.store.run(work))


def get_status_notifications(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """The topics a state machine's ended executions are published to."""
    arn = require(request, "stateMachineArn")
    arns.parse(arn, "stateMachine")

    def work(tx: Any) -> dict[str, Any]:
        get_state_machine(tx, arn)
        topics = tx.status_notifications.for_machines([arn], cached=False).get(arn, [])
        return {"stateMachineArn": arn, "topicArns": topics}

    return dict(ctx.store.read(work))


def executions_ended(tx: Any, rows: list[dict[str, Any]]) -> list[str]:
    """Publish the status change of each of these just-ended executions (execution rows with
    their final status, output, error, cause and stop_date) to its state machine's topics, in
    the caller's transaction. Returns the long-poll keys of the queues delivered to, to notify
    once that transaction has committed."""
    if not rows:
        return []
    by_machine = tx.status_notifications.for_machines(row["state_machine_arn"] for row in rows)
    wake: list[str] = []
    for row in rows:
        for topic in by_machine.get(row["state_machine_arn"], ()):
            _publish(tx, row, topic, wake)
    return wake


def _publish(tx: Any, row: dict[str, Any], topic: str, wake: list[str]) -> None:
    region, account, _name = parse_topic_arn(topic)
    now = float(row.get("stop_date") or row["start_date"])
    event = status_change_event(row, now)
    body: dict[str, Any] = {
        "TopicArn": topic,
        "Message": codec.dumps(event),
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value}
            for name, value in (
                ("status", row["status"]),
                ("stateMachineArn", row["state_machine_arn"]),
                ("executionArn", row["arn"]),
            )
        },
    }
    if topic.endswith(".fifo"):
        # One group per state machine keeps its executions' announcements in order; the
        # deduplication id names this ending, so a redriven execution's next end is new.
        body["MessageGroupId"] = row["state_machine_arn"].rsplit(":", 1)[-1][:128]
        ending = f"{row['arn']}|{row['status']}|{now}"
        body["MessageDeduplicationId"] = hashlib.sha256(ending.encode()).hexdigest()
    ctx = bound_context(tx, now, account, region, wake)
    caller = Caller(base=f"https://sns.{region}.amazonaws.com", region=region)
    try:
        TOPIC_OPERATIONS["Publish"](ctx, caller, body)
    except ServiceError as err:  # refused before writing anything (the topic is gone)
        log.warning("status notification of %s to %s refused: %s", row["arn"], topic, err)
    except Exception:
        if _from_the_database():
            raise  # the transaction itself failed: it is retried whole, with this publish
        # A fault of the publish must not keep the execution from ending: the decision
        # would be retried, and fail again, on every round.
        log.exception("status notification of %s to %s failed", row["arn"], topic)


def _from_the_database() -> bool:
    """Whether the exception being handled came from the database driver or SQLAlchemy
    (matched by module, so services stay free of the store)."""
    import sys

    exc = sys.exc_info()[1]
    module = type(exc).__module__ if exc is not None else ""
    return module.split(".", 1)[0] in ("sqlalchemy", "psycopg", "sqlite3")


def status_change_event(row: dict[str, Any], now: float) -> dict[str, Any]:
    """The "Step Functions Execution Status Change" event of an ended execution."""
    _region, account, _rest = arns.parse(row["state_machine_arn"], "stateMachine")
    region = row["arn"].split(":")[3]
    succeeded = row["status"] == "SUCCEEDED"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "account": account,
        "time": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [row["arn"]],
        "detail": {
            "executionArn": row["arn"],
            "stateMachineArn": row["state_machine_arn"],
            "name": row["name"],
            "status": row["status"],
            "startDate": int(float(row["start_date"]) * 1000),
            "stopDate": int(now * 1000),
            "input": row["input"],
            "output": row.get("output") if succeeded else None,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if succeeded else None,
            "error": row.get("error"),
            "cause": row.get("cause"),
        },
    }
