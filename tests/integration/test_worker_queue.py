"""Queue consumers of the worker SDK (``@worker.queue``) against a real server in a thread, on
SQLite and PostgreSQL: delete on success, redelivery on failure, visibility extended while a
handler runs, batches with partial failures, the concurrency bound, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.server import sfn_client
from workers.sdk import QueueContext, QueueMessage, Worker

ROLE = "arn:aws:iam::123456789012:role/test"


def serve(workers: list[Worker], worker: Worker) -> Worker:
    worker.start()
    workers.append(worker)
    return worker


def until(check: Callable[[], bool], timeout: float = 8.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(found[names[0]]), int(found[names[1]])


def test_messages_are_handled_and_deleted(endpoint: str, sqs: Any, workers: list[Worker]) -> None:
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    seen: list[int] = []
    contexts: list[QueueContext] = []
    worker = Worker(endpoint=endpoint, name="qw", poll_seconds=1, concurrency=3)

    @worker.queue("jobs", batch_size=10, visibility_timeout=30)
    def handle(message: QueueMessage, context: QueueContext) -> None:
        seen.append(message.json()["n"])
        contexts.append(context)

    assert worker.queues == ["jobs"]
    serve(workers, worker)
    assert until(lambda: sorted(seen) == [0, 1, 2, 3, 4]), seen
    assert until(lambda: counts(sqs, url) == (0, 0))
    assert contexts[0].queue_url == url and contexts[0].worker_name == "qw"


def test_a_failed_message_is_redelivered(endpoint: str, sqs: Any, workers: list[Worker]) -> None:
    url = sqs.create_queue(QueueName="flaky")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="boom once")
    attempts: list[int] = []
    worker = Worker(endpoint=endpoint, poll_seconds=1)

    @worker.queue(url, retry_delay=0)  # a queue URL works as well as a name
    async def handle(message: QueueMessage) -> None:
        attempts.append(message.receive_count)
        if message.receive_count == 1:
            raise RuntimeError("transient")

    serve(workers, worker)
    assert until(lambda: attempts == [1, 2]), attempts
    assert until(lambda: counts(sqs, url) == (0, 0))


def test_visibility_is_extended_while_the_handler_runs(
    endpoint: str, sqs: Any, workers: list[Worker]
) -> None:
    url = sqs.create_queue(QueueName="slow")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="take your time")
    calls: list[str] = []
    release = threading.Event()
    worker = Worker(endpoint=endpoint, poll_seconds=1)

    @worker.queue("slow", visibility_timeout=1)
    def handle(message: QueueMessage) -> None:
        calls.append(message.body)
        release.wait(10)

    serve(workers, worker)
    assert until(lambda: calls == ["take your time"])
    time.sleep(1.6)  # well past the one-second visibility timeout
    # Still in flight: nobody else can receive it.
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    assert counts(sqs, url) == (0, 1)
    release.set()
    assert until(lambda: counts(sqs, url) == (0, 0))
    assert calls == ["take your time"]


def test_batch_handler_with_partial_failure(endpoint: str, sqs: Any, workers: list[Worker]) -> None:
    url = sqs.create_queue(QueueName="batch")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)],
    )
    batches: list[list[str]] = []
    worker = Worker(endpoint=endpoint, poll_seconds=1, concurrency=1)

    @worker.queue("batch", batch_size=10, batch=True, retry_delay=0)
    def handle(messages: list[QueueMessage]) -> dict[str, Any]:
        batches.append(sorted(m.body for m in messages))
        failed = [m for m in messages if m.body == "m1" and m.receive_count == 1]
        return {"batchItemFailures": [{"itemIdentifier": m.message_id} for m in failed]}

    serve(workers, worker)
    assert until(lambda: sum(len(b) for b in batches) == 4), batches
    assert sorted(b for batch in batches for b in batch) == ["m0", "m1", "m1", "m2"]
    assert until(lambda: counts(sqs, url) == (0, 0))


def test_concurrency_is_bounded(endpoint: str, sqs: Any, workers: list[Worker]) -> None:
    url = sqs.create_queue(QueueName="busy")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": str(n)} for n in range(6)]
    )
    running, peak, done = [0], [0], []
    lock = threading.Lock()
    worker = Worker(endpoint=endpoint, poll_seconds=1, concurrency=2)

    @worker.queue("busy")
    async def handle(message: QueueMessage) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.15)
        with lock:
            running[0] -= 1
        done.append(message.body)

    serve(workers, worker)
    assert until(lambda: len(done) == 6), done
    assert peak[0] == 2


def test_shutdown_releases_unfinished_messages(
    endpoint: str, sqs: Any, workers: list[Worker]
) -> None:
    url = sqs.create_queue(QueueName="stuck")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="never finishes")
    started = threading.Event()
    worker = Worker(endpoint=endpoint, poll_seconds=1)

    @worker.queue("stuck", visibility_timeout=300)
    async def handle(message: QueueMessage) -> None:
        started.set()
        await asyncio.sleep(60)

    worker.start()
    assert started.wait(8)
    worker.stop(grace=0.2)
    # Visible again at once, not after the 300-second visibility timeout.
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert got[0]["Body"] == "never finishes"


def test_a_state_machine_callback_answered_by_a_queue_consumer(
    endpoint: str, sqs: Any, workers: list[Worker]
) -> None:
    sfn = sfn_client(endpoint)
    worker = Worker(endpoint=endpoint, poll_seconds=1)

    @worker.queue("approvals", create=True)
    def approve(message: QueueMessage) -> None:
        request = message.json()
        sfn.send_task_success(
            taskToken=request["token"], output=json.dumps({"approved": request["amount"] < 100})
        )

    serve(workers, worker)
    # create=True: the worker creates the queue (idempotently) when it starts.
    assert until(lambda: bool(sqs.list_queues(QueueNamePrefix="approvals").get("QueueUrls")))
    url = sqs.get_queue_url(QueueName="approvals")["QueueUrl"]
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": url,
                    "MessageBody": {"token.$": "$$.Task.Token", "amount.$": "$.amount"},
                },
                "End": True,
            }
        },
    }
    sm = sfn.create_state_machine(name="ask", definition=json.dumps(definition), roleArn=ROLE)
    arn = sfn.start_execution(
        stateMachineArn=sm["stateMachineArn"], input=json.dumps({"amount": 42})
    )["executionArn"]
    assert until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"approved": True}
    assert until(lambda: counts(sqs, url) == (0, 0))


def test_queue_handler_options_are_checked() -> None:
    worker = Worker(endpoint="http://127.0.0.1:1")
    with pytest.raises(ValueError):
        worker.add_queue("q", lambda m: None, batch_size=11)
    with pytest.raises(ValueError):
        worker.add_queue("q", lambda m: None, visibility_timeout=0)
