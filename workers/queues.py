"""Queue consumers of the worker SDK (issue #5): ``@worker.queue(...)`` handlers.

```python
@worker.queue("orders", batch_size=10, visibility_timeout=30)
def on_order(message):                   # message.body, message.json(), message.message_id, ...
    ...                                  # return normally: the message is deleted

@worker.queue("events", batch=True)      # the handler gets up to batch_size messages at once
async def on_events(messages): ...
```

A consumer long-polls ReceiveMessage (the SQS JSON protocol, on the server's AWS endpoint) and
runs the handler per message, or per batch with ``batch=True``. While a handler runs, its
messages' visibility is extended (ChangeMessageVisibility every half ``visibility_timeout``), so a
slow handler does not see its message redelivered to someone else. On success the messages are
deleted; when the handler raises they are left for redelivery: visible again after
``retry_delay`` seconds (``None``: when the visibility timeout lapses, as Lambda's SQS event
source does). A batch handler may report partial failures the way Lambda's
``ReportBatchItemFailures`` does: return ``{"batchItemFailures": [{"itemIdentifier": <id>}]}``
and only those messages are redelivered.

Consumers share the worker's concurrency slots with its activity and function pollers: a message
handler (or a batch) takes one slot, and a consumer receives only as many messages as it holds
slots for, so the worker never holds a message it cannot start. At shutdown the handlers get the
worker's grace period; messages still in a handler after it are made visible again at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from workers.handlers import Handler, HandlerFunc, Outcome, call_async, call_sync, in_thread
from workers.task_client import Rejected, TaskClient, Unavailable

log = logging.getLogger("stepwell.worker")

MAX_BATCH = 10
MAX_WAIT_SECONDS = 20
MAX_VISIBILITY = 43_200


@dataclass(frozen=True)
class QueueMessage:
    """One received message, as ReceiveMessage returned it."""

    queue_url: str
    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    message_attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, queue_url: str, raw: dict[str, Any]) -> QueueMessage:
        return cls(
            queue_url=queue_url,
            message_id=raw["MessageId"],
            receipt_handle=raw["ReceiptHandle"],
            body=raw.get("Body", ""),
            md5_of_body=raw.get("MD5OfBody", ""),
            attributes=dict(raw.get("Attributes") or {}),
            message_attributes=dict(raw.get("MessageAttributes") or {}),
        )

    def json(self) -> Any:
        """The body parsed as JSON (ValueError when it is not JSON)."""
        return json.loads(self.body)

    @property
    def receive_count(self) -> int:
        """ApproximateReceiveCount: 1 on the first delivery."""
        return int(self.attributes.get("ApproximateReceiveCount", "1"))


@dataclass(frozen=True)
class QueueContext:
    """A queue handler's optional second argument."""

    queue_url: str
    worker_name: str


@dataclass(frozen=True)
class QueueHandler:
    """A registered queue handler and its consumer settings."""

    queue: str  # a queue name or URL, as registered
    func: HandlerFunc
    batch_size: int = MAX_BATCH
    visibility_timeout: int = 30
    batch: bool = False
    retry_delay: int | None = None
    create: bool = False
    is_async: bool = False
    wants_context: bool = False

    @classmethod
    def wrap(cls, queue: str, func: HandlerFunc, **options: Any) -> QueueHandler:
        """Check the options and inspect ``func`` once (async or not, one or two arguments)."""
        batch_size = int(options.get("batch_size", MAX_BATCH))
        visibility = int(options.get("visibility_timeout", 30))
        retry_delay = options.get("retry_delay")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        if not 1 <= visibility <= MAX_VISIBILITY:
            raise ValueError(f"visibility_timeout must be between 1 and {MAX_VISIBILITY}")
        if retry_delay is not None and not 0 <= int(retry_delay) <= MAX_VISIBILITY:
            raise ValueError(f"retry_delay must be between 0 and {MAX_VISIBILITY}")
        # How a handler is called is decided as for task handlers.
        probe = Handler.wrap("function", queue, func)
        return cls(
            queue=queue,
            func=func,
            batch_size=batch_size,
            visibility_timeout=visibility,
            batch=bool(options.get("batch", False)),
            retry_delay=None if retry_delay is None else int(retry_delay),
            create=bool(options.get("create", False)),
            is_async=probe.is_async,
            wants_context=probe.wants_context,
        )


@dataclass(eq=False)
class _Delivery:
    """Messages handed to one handler call."""

    messages: list[QueueMessage]
    task: asyncio.Task[None] | None = None
    done: bool = False
    given_up: bool = False


class QueueConsumer:
    """Consumes one queue for a worker: receive, run the handler, extend, delete or release."""

    def __init__(
        self,
        client: TaskClient,
        handler: QueueHandler,
        slots: asyncio.Semaphore,
        *,
        worker_name: str,
        poll_seconds: float,
        max_backoff: float,
        region: str,
    ) -> None:
        self.client = client
        self.handler = handler
        self.slots = slots
        self.worker_name = worker_name
        self.wait_seconds = max(0, min(MAX_WAIT_SECONDS, int(poll_seconds)))
        self.max_backoff = max_backoff
        self.region = region
        self.url: str | None = None
        self.deliveries: set[_Delivery] = set()

    @property
    def in_flight(self) -> set[asyncio.Task[None]]:
        """The deliveries not finished yet (a handler running, or its messages settling)."""
        return {d.task for d in self.deliveries if d.task is not None and not d.task.done()}

    @property
    def settling(self) -> set[asyncio.Task[None]]:
        """The deliveries whose handler returned and whose messages are being deleted."""
        return {t for d in self.deliveries if d.done and (t := d.task) is not None and not t.done()}

    async def _sqs(self, operation: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        return await self.client.sqs(operation, body, region=self.region, **options)

    # --- the receive loop ---------------------------------------------------------------------
    async def run(self) -> None:
        """Receive and dispatch until cancelled (the worker is stopping)."""
        try:
            self.url = await self._resolve()
        except Unavailable:
            return
        log.info("consuming queue %s", self.url)
        while True:
            held = await self._take_slots()
            try:
                received = await self._sqs(
                    "ReceiveMessage",
                    {
                        "QueueUrl": self.url,
                        "MaxNumberOfMessages": self.handler.batch_size
                        if self.handler.batch
                        else held,
                        "WaitTimeSeconds": self.wait_seconds,
                        "VisibilityTimeout": self.handler.visibility_timeout,
                        "MessageSystemAttributeNames": ["All"],
                        "MessageAttributeNames": ["All"],
                    },
                    timeout=self.wait_seconds + 15.0,
                )
            except asyncio.CancelledError:
                self._release_slots(held)
                raise
            except Rejected as exc:
                self._release_slots(held)
                log.error("receiving from %s refused (%s); retrying", self.url, exc)
                await asyncio.sleep(self.max_backoff)
                continue
            except Unavailable:
                self._release_slots(held)
                return  # stopping
            messages = [QueueMessage.of(self.url, m) for m in received.get("Messages") or []]
            if not messages:
                self._release_slots(held)
                continue
            if self.handler.batch:
                self._start(messages)
            else:
                self._release_slots(held - len(messages))
                for message in messages:
                    self._start([message])

    async def _resolve(self) -> str:
        """The queue's URL: as given, or by name (GetQueueUrl, or CreateQueue with
        ``create=True``); waits while the queue does not exist."""
        queue = self.handler.queue
        if "://" in queue:
            return queue
        operation = "CreateQueue" if self.handler.create else "GetQueueUrl"
        while True:
            try:
                return str((await self._sqs(operation, {"QueueName": queue}))["QueueUrl"])
            except Rejected as exc:
                log.error("queue %s is not available (%s); retrying", queue, exc)
                await asyncio.sleep(self.max_backoff)

    async def _take_slots(self) -> int:
        """Wait for one free slot, then take the free ones up to the batch size (a batch
        handler call needs one)."""
        await self.slots.acquire()
        held = 1
        wanted = 1 if self.handler.batch else self.handler.batch_size
        while held < wanted and not self.slots.locked():
            await self.slots.acquire()  # free: returns at once
            held += 1
        return held

    def _release_slots(self, count: int) -> None:
        for _ in range(count):
            self.slots.release()

    def _start(self, messages: list[QueueMessage]) -> None:
        delivery = _Delivery(messages)
        self.deliveries.add(delivery)
        delivery.task = asyncio.create_task(self._deliver(delivery))

    # --- one handler call ---------------------------------------------------------------------
    async def _deliver(self, delivery: _Delivery) -> None:
        extender = asyncio.create_task(self._extend(delivery))
        context = QueueContext(self.url or "", self.worker_name)
        event: Any = delivery.messages if self.handler.batch else delivery.messages[0]
        try:
            if self.handler.is_async:
                outcome = await call_async(self.handler, event, context)
            else:
                outcome = await in_thread(call_sync, self.handler, event, context)
            delivery.done = True
            extender.cancel()
            if delivery.given_up:
                return
            failed = self._failures(delivery, outcome)
            settled = [m for m in delivery.messages if m.message_id not in failed]
            await self._delete(settled)
            await self._release([m for m in delivery.messages if m.message_id in failed])
        except Unavailable:
            log.error("could not settle messages of %s: the worker stopped", self.url)
        finally:
            delivery.done = True
            extender.cancel()
            self.deliveries.discard(delivery)
            self.slots.release()

    def _failures(self, delivery: _Delivery, outcome: Outcome) -> set[str]:
        """The ids of the messages to redeliver."""
        ids = {m.message_id for m in delivery.messages}
        if outcome.error is not None:
            log.warning(
                "handler for %s failed on %d message(s): %s: %s",
                self.url,
                len(ids),
                type(outcome.error).__name__,
                outcome.error,
            )
            return ids
        value = outcome.value
        if self.handler.batch and isinstance(value, dict) and "batchItemFailures" in value:
            reported = value.get("batchItemFailures") or []
            return {
                str(item.get("itemIdentifier")) for item in reported if isinstance(item, dict)
            } & ids
        return set()

    async def _extend(self, delivery: _Delivery) -> None:
        """Keep the messages invisible while the handler runs."""
        interval = max(0.5, self.handler.visibility_timeout / 2)
        live = list(delivery.messages)
        while live and not delivery.done:
            await asyncio.sleep(interval)
            if delivery.done or delivery.given_up:
                return
            for message in list(live):
                try:
                    await self._change(message, self.handler.visibility_timeout, retry=False)
                except Unavailable as exc:
                    log.warning("extending visibility on %s failed: %s", self.url, exc)
                except Rejected as exc:
                    # Deleted, or received again by someone else: nothing left to extend.
                    log.warning("message %s can no longer be extended: %s", message.message_id, exc)
                    live.remove(message)

    async def _change(self, message: QueueMessage, seconds: int, *, retry: bool = True) -> None:
        await self._sqs(
            "ChangeMessageVisibility",
            {
                "QueueUrl": message.queue_url,
                "ReceiptHandle": message.receipt_handle,
                "VisibilityTimeout": seconds,
            },
            retry=retry,
        )

    async def _delete(self, messages: list[QueueMessage]) -> None:
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            try:
                if len(chunk) == 1:
                    body = {
                        "QueueUrl": chunk[0].queue_url,
                        "ReceiptHandle": chunk[0].receipt_handle,
                    }
                    await self._sqs("DeleteMessage", body)
                    continue
                entries = [
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)
                ]
                result = await self._sqs(
                    "DeleteMessageBatch", {"QueueUrl": chunk[0].queue_url, "Entries": entries}
                )
                for failure in result.get("Failed") or []:
                    log.warning("delete of a message from %s failed: %s", self.url, failure)
            except Rejected as exc:
                log.error("deleting from %s refused: %s", self.url, exc)

    async def _release(self, messages: list[QueueMessage], delay: int | None = None) -> None:
        """Make failed messages visible again after ``retry_delay`` (or leave them to their
        visibility timeout when it is None)."""
        seconds = self.handler.retry_delay if delay is None else delay
        if seconds is None:
            return
        for message in messages:
            try:
                await self._change(message, seconds)
            except Rejected as exc:
                log.warning("releasing message %s refused: %s", message.message_id, exc)

    # --- shutdown -----------------------------------------------------------------------------
    async def give_up(self) -> None:
        """After the grace period: drop the results of handlers still running and make their
        messages visible at once, for another worker."""
        running = [d for d in self.deliveries if not d.done]
        for delivery in running:
            delivery.given_up = True
            if delivery.task is not None and self.handler.is_async:
                delivery.task.cancel()
        for delivery in running:
            log.warning(
                "releasing %d message(s) of %s: the worker is stopping",
                len(delivery.messages),
                self.url,
            )
            try:
                await self._release(delivery.messages, delay=0)
            except Unavailable:
                return
