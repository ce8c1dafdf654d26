"""Test doubles for the SNS side of the recorded cases (needs: ["sns"]).

The recorded tests (LocalStack's test_sns_task_service.py, test_callback.py) created each
topic named under ``resources.sns_topics`` before starting the execution; the one that expects
``SNS.NotFoundException`` (test_publish_base_error_topic_arn) deleted its topic again first.
For ``sns:publish.waitForTaskToken`` the test subscribed a queue to the topic, received the
published message and answered the ``TaskToken`` inside it: here a queue subscribed with raw
delivery is drained by tests/support/queue_consumers.py's consumer, answering the way the
recorded history shows.
"""

from __future__ import annotations

from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues import admin as queue_admin
from engine.services.topics import OPERATIONS
from engine.services.topics.common import Caller
from tests.support import queue_consumers

CALLER = Caller(base="https://sns.us-east-1.amazonaws.com", region="us-east-1")


def _deleted_before_start(case: dict[str, Any]) -> bool:
    return (case.get("expect") or {}).get("error") == "SNS.NotFoundException"


def provision(ctx: ServiceContext, case: dict[str, Any]) -> list[str]:
    """Create the case's topics, each with a raw-delivery queue subscribed (idempotent);
    returns the queues' URLs."""
    urls = []
    for name in (case.get("resources") or {}).get("sns_topics") or []:
        arn = OPERATIONS["CreateTopic"](ctx, CALLER, {"Name": name})["TopicArn"]
        if _deleted_before_start(case):
            OPERATIONS["DeleteTopic"](ctx, CALLER, {"TopicArn": arn})
            continue
        queue = f"{name}-subscriber"
        url = queue_admin.create_queue(ctx, queue_consumers.CALLER, {"QueueName": queue})
        queue_arn = f"arn:aws:sqs:us-east-1:{ctx.account}:{queue}"
        OPERATIONS["Subscribe"](
            ctx,
            CALLER,
            {
                "TopicArn": arn,
                "Protocol": "sqs",
                "Endpoint": queue_arn,
                "Attributes": {"RawMessageDelivery": "true"},
            },
        )
        urls.append(url["QueueUrl"])
    return urls


def subscriber(ctx: ServiceContext, case: dict[str, Any]) -> queue_consumers.QueueConsumer:
    """The consumer of the topics' subscribed queues, answering task tokens as recorded."""
    events = (case.get("expect") or {}).get("events") or []
    return queue_consumers.QueueConsumer(
        ctx, provision(ctx, case), queue_consumers.recorded_answers(events, "sns")
    )
