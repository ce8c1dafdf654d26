"""sqs: the SQS API (``boto3.client("sqs", endpoint_url=...)``, AWS JSON 1.0) on standard
queues, each phase on a fresh queue. All times are time.perf_counter.

- ``send_msgs_per_s``: single SendMessage calls from 4 threads, 2,000 messages (500 under
  --quick), over first call -> last answer.
- ``send_batch_msgs_per_s``: SendMessageBatch of 10 from 4 threads, 10,000 messages (2,000
  under --quick), over first call -> last answer. These fill the next phase's queue.
- ``receive_delete_msgs_per_s``: 4 consumer threads drain those messages with ReceiveMessage
  (MaxNumberOfMessages=10, WaitTimeSeconds=1) + DeleteMessageBatch; messages deleted over
  first receive call -> the answer of the DeleteMessageBatch that deleted the last one.
  ``drain_duplicates``: messages received more than once (should be 0: the 30 s visibility
  timeout outlasts the drain); ``drain_complete``: every message deleted.
- ``wake_p50_ms`` / ``wake_p99_ms``: long-poll wake-up. A receiver waits (WaitTimeSeconds=10)
  on an empty queue; 0.25 s later a sender sends one message; latency = the send call's
  return -> the receive call's return, 50 trials (20 under --quick). It can be slightly
  negative when the server answers the waiting receive before the send's own response reaches
  its caller. ``wake_from_send_call_p50_ms``: the same from the send call's start;
  ``wake_misses``: trials whose receive came back empty.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from typing import Any

from bench.common import (
    HIGHER,
    LOWER,
    BenchTimeout,
    RunContext,
    Target,
    Workload,
    aws_client,
    percentile,
)

THREADS = 4
BATCH = 10
BODY = '{"order": "o-1001", "customer": "Ada", "items": [{"sku": "A-1", "qty": 2}], "pad": "%s"}'
# Time budgets (full, --quick) per phase: a phase that has not done its count by then stops and
# reports the rate of what it did, flagged ``*_budget_hit``. moto needs them: its cost per
# message grows with the queue's depth (it scans the queue), so 10,000 messages would take it
# hours; its rates under a budget come from a shallower queue than Stepwell's.
SEND_BUDGET_S = {False: 20.0, True: 10.0}
DRAIN_BUDGET_S = {False: 40.0, True: 15.0}
WAKE_WAIT_S = 10
SETTLE_S = 0.25  # time for the receive to be parked in its long poll before the send


def sqs_client(endpoint: str) -> Any:
    """A boto3 SQS client (thread-safe, one pooled connection per thread)."""
    return aws_client("sqs", endpoint, connect_timeout=5, read_timeout=WAKE_WAIT_S + 20)


def new_queue(client: Any, prefix: str) -> str:
    """A fresh standard queue; returns its URL."""
    return str(client.create_queue(QueueName=f"bench-{prefix}-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def body(i: int) -> str:
    """A small JSON message body (about 120 bytes)."""
    return BODY % f"{i:08d}"


def _timed_threads(worker: Any) -> tuple[float, float]:
    """Run ``worker(i, barrier)`` on THREADS threads started together; (first call, last end).

    Each worker calls ``barrier.wait()`` before its first request and returns when done."""
    barrier = threading.Barrier(THREADS + 1)
    ends: list[float] = []
    errors: list[BaseException] = []

    def body_(i: int) -> None:
        try:
            worker(i, barrier)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
            barrier.abort()
        ends.append(time.perf_counter())

    threads = [threading.Thread(target=body_, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return began, max(ends)


def send_single(client: Any, url: str, total: int, budget: float) -> tuple[int, float]:
    """SendMessage one at a time from THREADS threads: (messages sent, messages per second)."""
    counter = itertools.count()
    sent = [0] * THREADS

    def worker(t: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        stop_at = time.perf_counter() + budget
        while (i := next(counter)) < total and time.perf_counter() < stop_at:
            client.send_message(QueueUrl=url, MessageBody=body(i))
            sent[t] += 1

    began, ended = _timed_threads(worker)
    return sum(sent), sum(sent) / (ended - began)


def send_batches(client: Any, url: str, total: int, budget: float) -> tuple[int, float]:
    """SendMessageBatch of BATCH from THREADS threads: (messages sent, messages per second)."""
    counter = itertools.count()
    batches = total // BATCH
    sent = [0] * THREADS

    def worker(t: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        stop_at = time.perf_counter() + budget
        while (b := next(counter)) < batches and time.perf_counter() < stop_at:
            entries = [{"Id": str(k), "MessageBody": body(b * BATCH + k)} for k in range(BATCH)]
            response = client.send_message_batch(QueueUrl=url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"SendMessageBatch failed entries: {response['Failed'][:2]}")
            sent[t] += BATCH

    began, ended = _timed_threads(worker)
    return sum(sent), sum(sent) / (ended - began)


def drain(client: Any, url: str, total: int, budget: float) -> dict[str, Any]:
    """Receive + DeleteMessageBatch from THREADS consumers until ``total`` are deleted (or the
    budget is spent)."""
    lock = threading.Lock()
    seen: set[str] = set()
    state = {"deleted": 0, "received": 0, "duplicates": 0, "delete_failed": 0, "last": 0.0}

    def worker(_: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        stop_at = time.perf_counter() + budget
        empty = 0
        while state["deleted"] < total and time.perf_counter() < stop_at:
            response = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=1
            )
            messages = response.get("Messages") or []
            if not messages:
                empty += 1
                if empty >= 3:  # three empty one-second polls: nothing more is coming
                    return
                continue
            empty = 0
            entries = [
                {"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(messages)
            ]
            result = client.delete_message_batch(QueueUrl=url, Entries=entries)
            answered = time.perf_counter()
            with lock:
                state["received"] += len(messages)
                for message in messages:
                    if message["MessageId"] in seen:
                        state["duplicates"] += 1
                    seen.add(message["MessageId"])
                state["deleted"] += len(result.get("Successful") or [])
                state["delete_failed"] += len(result.get("Failed") or [])
                state["last"] = max(state["last"], answered)

    began, ended = _timed_threads(worker)
    distinct = len(seen)
    return {
        "drain_budget_hit": distinct < total and ended - began >= budget,
        "drained_messages": distinct,
        "receive_delete_msgs_per_s": distinct / (state["last"] - began) if distinct else None,
        "drain_received": state["received"],
        "drain_duplicates": state["duplicates"],
        "drain_delete_failed": state["delete_failed"],
        "drain_complete": distinct == total and state["deleted"] >= total,
    }


def wake_latency(client: Any, url: str, trials: int) -> dict[str, Any]:
    """Long-poll wake-up: send while a receive waits; the send's return -> the receive's return."""
    from_return: list[float] = []
    from_call: list[float] = []
    misses = 0

    def receive(got: dict[str, Any]) -> None:
        try:
            response = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=WAKE_WAIT_S
            )
            got["at"] = time.perf_counter()
            got["messages"] = response.get("Messages") or []
        except Exception as exc:  # noqa: BLE001 - reported below
            got["error"] = exc

    for i in range(trials):
        got: dict[str, Any] = {}
        receiver = threading.Thread(target=receive, args=(got,), daemon=True)
        receiver.start()
        time.sleep(SETTLE_S)
        called = time.perf_counter()
        client.send_message(QueueUrl=url, MessageBody=body(i))
        returned = time.perf_counter()
        receiver.join(WAKE_WAIT_S + 25)
        if receiver.is_alive():
            raise BenchTimeout(WAKE_WAIT_S + 25, "for a long-polling ReceiveMessage to return")
        if "error" in got:
            raise got["error"]
        if not got["messages"]:
            misses += 1
            # the message is still there: take it so the next trial starts on an empty queue
            left = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in left.get("Messages") or []:
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            continue
        from_return.append((got["at"] - returned) * 1000.0)
        from_call.append((got["at"] - called) * 1000.0)
        client.delete_message(QueueUrl=url, ReceiptHandle=got["messages"][0]["ReceiptHandle"])
    return {
        "wake_trials": trials,
        "wake_misses": misses,
        "wake_p50_ms": percentile(from_return, 50),
        "wake_p99_ms": percentile(from_return, 99),
        "wake_min_ms": min(from_return) if from_return else None,
        "wake_from_send_call_p50_ms": percentile(from_call, 50),
        "wake_from_send_call_p99_ms": percentile(from_call, 99),
    }


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """The four SQS phases against ``target``."""
    client = sqs_client(target.endpoint)
    singles = ctx.count(2000, 500)
    batched = ctx.count(10_000, 2_000)
    trials = ctx.count(50, 20)
    send_budget = SEND_BUDGET_S[ctx.quick]
    warm = new_queue(client, "warm")  # open pooled connections
    send_batches(client, warm, THREADS * BATCH * 2, send_budget)
    sent, rate = send_single(client, new_queue(client, "send"), singles, send_budget)
    figures: dict[str, Any] = {
        "threads": THREADS,
        "send_messages": sent,
        "send_budget_hit": sent < singles,
        "send_msgs_per_s": rate,
    }
    drained = new_queue(client, "batch")
    sent, rate = send_batches(client, drained, batched, send_budget)
    figures["batch_messages"] = sent
    figures["send_batch_budget_hit"] = sent < batched
    figures["send_batch_msgs_per_s"] = rate
    figures.update(drain(client, drained, sent, DRAIN_BUDGET_S[ctx.quick]))
    figures.update(wake_latency(client, new_queue(client, "wake"), trials))
    return figures


WORKLOAD = Workload(
    name="sqs",
    description="SQS send, batch send, receive + delete drain, long-poll wake-up latency",
    run=measure,
    compared={
        "send_msgs_per_s": HIGHER,
        "send_batch_msgs_per_s": HIGHER,
        "receive_delete_msgs_per_s": HIGHER,
        "wake_p50_ms": LOWER,
        "wake_p99_ms": LOWER,
    },
    headline=(
        "send_msgs_per_s",
        "send_batch_msgs_per_s",
        "receive_delete_msgs_per_s",
        "wake_p50_ms",
        "wake_p99_ms",
    ),
)
