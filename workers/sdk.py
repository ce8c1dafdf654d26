"""The task-worker SDK: run Python functions as Step Functions activities and Lambda functions.

```python
worker = Worker(endpoint="http://127.0.0.1:8080", name="my-worker", concurrency=4)

@worker.activity("resize")            # a name, or a full activity ARN
def resize(event): ...

@worker.function("thumbnail")         # plain and async def handlers both work
async def thumbnail(event): ...

@worker.queue("orders", batch_size=10, visibility_timeout=30)   # an SQS queue consumer
def on_order(message): ...            # see workers/queues.py

worker.run()                          # blocks until SIGTERM / SIGINT
```

The worker talks to a Stepwell server over HTTP only (``/v1/tasks/*``, see
api/http/workers.py). One event loop, in a thread of its own, long-polls for tasks, sends
heartbeats and answers; ``async def`` handlers run on that loop and plain handlers on threads.
At most ``concurrency`` handlers are in flight and the worker polls only when a slot is free, so
it never holds a task it cannot start. Shutdown is graceful: polling stops, in-flight handlers get
``grace`` seconds, and whatever is left is failed with ``Worker.Shutdown`` so that a ``Retry`` on
that error hands it to another worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from workers.handlers import (
    SHUTDOWN_ERROR,
    Handler,
    HandlerFunc,
    Kind,
    Outcome,
    TaskContext,
    activity_answer,
    call_async,
    call_sync,
    decode_event,
    function_answer,
    in_thread,
    shutdown_answer,
)
from workers.queues import QueueConsumer, QueueContext, QueueHandler, QueueMessage
from workers.task_client import Rejected, TaskClient, Unavailable

__all__ = ["SHUTDOWN_ERROR", "QueueContext", "QueueMessage", "TaskContext", "Worker"]

log = logging.getLogger("stepwell.worker")
F = TypeVar("F", bound=HandlerFunc)
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
#: How long answers to the server may still take once the grace period is over.
ANSWER_GRACE_SECONDS = 10.0


@dataclass
class _Running:
    """One task in flight."""

    token: str
    kind: Kind
    resource: str
    handler: Handler
    task: asyncio.Task[None] | None = None
    handler_done: bool = False
    #: The server closed the task (timed out) or the worker failed it at shutdown: the
    #: handler's result is dropped when it arrives.
    given_up: bool = False


class Worker:
    """A task worker: handlers registered by activity or function, served from one server.

    ``endpoint`` defaults to ``$STEPWELL_ENDPOINT`` or http://127.0.0.1:8080. A bare activity
    name is resolved to ``arn:aws:states:{region}:{account}:activity:{name}``; with
    ``create_activities=True`` the activities are created (idempotently) when the worker starts
    and the server's own ARNs are used.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        name: str | None = None,
        concurrency: int = 4,
        *,
        heartbeat_interval: float = 10.0,
        poll_seconds: float = 20.0,
        pollers: int | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        create_activities: bool = False,
        max_backoff: float = 10.0,
        grace: float = 30.0,
    ) -> None:
        self.endpoint = endpoint or os.environ.get("STEPWELL_ENDPOINT") or DEFAULT_ENDPOINT
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.concurrency = concurrency
        self.heartbeat_interval = heartbeat_interval
        self.poll_seconds = poll_seconds
        self.pollers = pollers
        self.region = region
        self.account = account
        self.create_activities = create_activities
        self.max_backoff = max_backoff
        self.grace = grace
        self._activities: dict[str, Handler] = {}
        self._functions: dict[str, Handler] = {}
        self._queues: dict[str, QueueHandler] = {}
        self._consumers: list[QueueConsumer] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._setup_error: Exception | None = None
        self._finished = threading.Event()
        self._stop_requested = threading.Event()
        self._grace_override: float | None = None
        self._hard_stop = False
        self._running: dict[str, _Running] = {}
        self._client: TaskClient | None = None
        self._stop_event: asyncio.Event | None = None
        self._force_event: asyncio.Event | None = None

    # --- registration -------------------------------------------------------------------------
    def activity(self, name_or_arn: str) -> Callable[[F], F]:
        """Register a handler for an activity (a name or a full activity ARN)."""

        def register(func: F) -> F:
            self.add_activity(name_or_arn, func)
            return func

        return register

    def function(self, name: str) -> Callable[[F], F]:
        """Register a handler for a function called as a Lambda function named ``name``."""

        def register(func: F) -> F:
            self.add_function(name, func)
            return func

        return register

    def queue(
        self,
        name_or_url: str,
        batch_size: int = 10,
        visibility_timeout: int = 30,
        *,
        batch: bool = False,
        retry_delay: int | None = None,
        create: bool = False,
    ) -> Callable[[F], F]:
        """Register a consumer of an SQS queue (a name or a queue URL): the handler gets each
        message (a list of up to ``batch_size`` with ``batch=True``); returning deletes them,
        raising leaves them for redelivery (see workers/queues.py)."""

        def register(func: F) -> F:
            self.add_queue(
                name_or_url,
                func,
                batch_size=batch_size,
                visibility_timeout=visibility_timeout,
                batch=batch,
                retry_delay=retry_delay,
                create=create,
            )
            return func

        return register

    def add_queue(self, name_or_url: str, func: HandlerFunc, **options: Any) -> None:
        """Register a queue handler without the decorator (options as for ``queue``)."""
        self._queues[name_or_url] = QueueHandler.wrap(name_or_url, func, **options)

    def add_activity(self, name_or_arn: str, func: HandlerFunc) -> None:
        """Register ``func`` for an activity without the decorator."""
        arn = self.activity_arn(name_or_arn)
        self._activities[arn] = Handler.wrap("activity", arn, func)

    def add_function(self, name: str, func: HandlerFunc) -> None:
        """Register ``func`` for a function without the decorator. A Lambda ARN is accepted
        too; the function name is what the server matches."""
        if name.startswith("arn:"):
            name = name.split(":function:", 1)[-1].split(":", 1)[0]
        self._functions[name] = Handler.wrap("function", name, func)

    def activity_arn(self, name_or_arn: str) -> str:
        """The activity ARN a name stands for (an ARN is returned unchanged)."""
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name_or_arn}"

    @property
    def activities(self) -> list[str]:
        """The activity ARNs this worker serves."""
        return list(self._activities)

    @property
    def functions(self) -> list[str]:
        """The function names this worker serves."""
        return list(self._functions)

    @property
    def queues(self) -> list[str]:
        """The queues (names or URLs, as registered) this worker consumes."""
        return list(self._queues)

    @property
    def in_flight(self) -> int:
        """How many tasks this worker holds right now."""
        return len(self._running)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self, wait: bool = True) -> None:
        """Start the worker's thread. With ``wait`` (the default), return once the worker is
        ready to poll: its activities exist when ``create_activities`` is set (this waits while
        the server is unreachable). Raises what made the setup fail."""
        if self._thread is not None:
            raise RuntimeError("this worker was already started")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not self._activities and not self._functions and not self._queues:
            raise ValueError("register at least one activity, function or queue handler first")
        self._thread = threading.Thread(
            target=self._thread_main, name=f"stepwell-worker-{self.name}", daemon=True
        )
        self._thread.start()
        if wait:
            self._ready.wait()
            if self._setup_error is not None:
                raise self._setup_error

    def stop(self, grace: float | None = None) -> None:
        """Stop polling, give in-flight handlers ``grace`` seconds (default: the worker's
        ``grace``), fail the rest with ``Worker.Shutdown``; blocks until done."""
        self.request_stop(grace)
        if self._thread is not None:
            self._finished.wait()
            self._thread.join(5)

    def request_stop(self, grace: float | None = None) -> None:
        """Ask the worker to stop (safe from any thread and from a signal handler)."""
        if grace is not None:
            self._grace_override = grace
        self._stop_requested.set()
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop is already closed
                pass

    def run(self, grace: float | None = None) -> None:
        """Serve until SIGTERM or SIGINT, then stop gracefully (a second signal: grace 0)."""
        installed: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():

            def on_signal(signum: int, _frame: Any) -> None:
                if self._stop_requested.is_set():
                    log.warning("second signal: failing in-flight tasks now")
                    self._grace_override = 0.0
                    self._force_now()
                else:
                    log.warning("signal %s: stopping (grace %s s)", signum, self._grace(grace))
                self.request_stop(grace)

            for signum in (signal.SIGTERM, signal.SIGINT):
                installed[signum] = signal.signal(signum, on_signal)
        try:
            self.start(wait=False)
            log.info(
                "worker %s serving %d activities, %d functions and %d queues from %s "
                "(concurrency %d)",
                self.name,
                len(self._activities),
                len(self._functions),
                len(self._queues),
                self.endpoint,
                self.concurrency,
            )
            # Wait in short slices so that signal handlers run promptly in the main thread.
            while not self._stop_requested.wait(0.5):
                if self._finished.is_set():
                    break
            self.stop(grace)
            if self._setup_error is not None:
                raise self._setup_error
        finally:
            for number, previous in installed.items():
                signal.signal(number, previous)

    def _grace(self, grace: float | None = None) -> float:
        if self._grace_override is not None:
            return self._grace_override
        return self.grace if grace is None else grace

    def _force_now(self) -> None:
        loop, force = self._loop, self._force_event
        if loop is not None and force is not None:
            try:
                loop.call_soon_threadsafe(force.set)
            except RuntimeError:
                pass

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # never let the thread die silently
            log.exception("worker %s crashed", self.name)
        finally:
            self._ready.set()
            self._finished.set()

    # --- the event loop -----------------------------------------------------------------------
    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._force_event = asyncio.Event()
        # Answers keep retrying through the grace period; only the hard stop ends them.
        self._client = TaskClient(
            self.endpoint, max_backoff=self.max_backoff, stopped=lambda: self._hard_stop
        )
        slots = asyncio.Semaphore(self.concurrency)
        if self._stop_requested.is_set():
            self._stop_event.set()
        pollers: list[asyncio.Task[None]] = []
        stopping = asyncio.create_task(self._stop_event.wait())
        try:
            if self.create_activities and self._activities:
                setup = asyncio.create_task(self._create_activities())
                await asyncio.wait({setup, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not setup.done():
                    setup.cancel()
                    return
                try:
                    setup.result()
                except Exception as exc:
                    log.error("worker %s could not create its activities: %s", self.name, exc)
                    self._setup_error = exc
                    return
            self._ready.set()
            count = self.pollers or min(self.concurrency, 4)
            if self._activities or self._functions:
                pollers = [asyncio.create_task(self._poll_loop(slots)) for _ in range(count)]
            self._consumers = [
                QueueConsumer(
                    self._client,
                    handler,
                    slots,
                    worker_name=self.name,
                    poll_seconds=self.poll_seconds,
                    max_backoff=self.max_backoff,
                    region=self.region,
                )
                for handler in self._queues.values()
            ]
            pollers += [asyncio.create_task(c.run()) for c in self._consumers]
            await stopping
        finally:
            stopping.cancel()
            for poller in pollers:
                poller.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)
            await self._drain()
            await self._client.aclose()

    async def _create_activities(self) -> None:
        assert self._client is not None
        for arn, handler in list(self._activities.items()):
            name = arn.rsplit(":", 1)[-1]
            region = arn.split(":")[3] or self.region
            created = await self._client.create_activity(name, region)
            if created != arn:
                del self._activities[arn]
                self._activities[created] = Handler.wrap("activity", created, handler.func)
            log.info("activity %s ready", created)

    async def _poll_loop(self, slots: asyncio.Semaphore) -> None:
        """Take a free slot, long-poll, hand the task to a handler (which frees the slot)."""
        assert self._client is not None
        while True:
            await slots.acquire()
            try:
                task = await self._client.poll(
                    self.name, self.activities, self.functions, self.poll_seconds
                )
            except asyncio.CancelledError:
                slots.release()
                raise
            except Rejected as exc:
                slots.release()
                log.error("the server refused the poll (%s); retrying", exc)
                await asyncio.sleep(self.max_backoff)
                continue
            except Unavailable:
                slots.release()
                return  # stopping
            if task is None:
                slots.release()
                continue
            self._dispatch(task, slots)

    def _dispatch(self, task: dict[str, Any], slots: asyncio.Semaphore) -> None:
        token, kind, resource = task["taskToken"], task.get("kind", "activity"), task["resource"]
        handler = (self._activities if kind == "activity" else self._functions).get(resource)
        if handler is None:  # cannot happen: we only poll for what we serve
            log.error("no handler for %s %s", kind, resource)
            handler = Handler.wrap(kind, resource, _missing_handler)
        running = _Running(token, kind, resource, handler)
        self._running[token] = running
        running.task = asyncio.create_task(self._serve(running, task.get("input"), slots))

    async def _serve(self, running: _Running, text: str | None, slots: asyncio.Semaphore) -> None:
        """Run one task: heartbeats beside the handler, then the answer."""
        heartbeats = asyncio.create_task(self._heartbeat(running))
        context = TaskContext(running.token, running.kind, running.resource, self.name)
        try:
            try:
                event = decode_event(running.kind, text)
            except ValueError as exc:
                outcome = Outcome.failed(exc)
            else:
                if running.handler.is_async:
                    outcome = await call_async(running.handler, event, context)
                else:
                    outcome = await in_thread(call_sync, running.handler, event, context)
            running.handler_done = True
            heartbeats.cancel()
            if running.given_up:
                log.info("dropping the result of task %s: it was closed", _short(running.token))
                return
            await self._answer(running, outcome, context.request_id)
        finally:
            heartbeats.cancel()
            self._running.pop(running.token, None)
            slots.release()

    async def _answer(self, running: _Running, outcome: Outcome, request_id: str) -> None:
        assert self._client is not None
        if running.kind == "activity":
            route, body = activity_answer(outcome)
        else:
            route, body = "complete", function_answer(outcome, request_id)
        try:
            try:
                taken = await self._client.answer(route, running.token, body)
            except Rejected as exc:
                # e.g. InvalidOutput (too large): fail the task rather than leave it open.
                log.error("answer to task %s refused: %s", _short(running.token), exc)
                failure = {"error": exc.code, "cause": exc.detail}
                route = "failure" if running.kind == "activity" else "complete"
                taken = await self._client.answer(route, running.token, failure)
        except Rejected as exc:
            log.error("task %s could not be answered: %s", _short(running.token), exc)
            return
        except Unavailable:
            log.error("could not answer task %s: the worker stopped", _short(running.token))
            return
        if not taken:
            log.info("task %s was already closed; result dropped", _short(running.token))

    async def _heartbeat(self, running: _Running) -> None:
        """Report the task alive every heartbeat_interval until the handler returns."""
        assert self._client is not None
        while not running.handler_done:
            await asyncio.sleep(self.heartbeat_interval)
            if running.handler_done or running.given_up:
                return
            try:
                alive = await self._client.heartbeat(running.token)
            except Unavailable as exc:
                log.warning("heartbeat for task %s failed: %s", _short(running.token), exc)
                continue
            except Rejected as exc:
                log.warning("heartbeat for task %s refused: %s", _short(running.token), exc)
                continue
            if not alive:
                # The server gave the task up (HeartbeatSeconds/TimeoutSeconds): let the handler
                # finish, drop its result.
                log.warning("task %s timed out on the server", _short(running.token))
                running.given_up = True
                return

    async def _drain(self) -> None:
        """Shutdown: wait ``grace`` for in-flight handlers, then fail the rest."""
        assert self._client is not None and self._force_event is not None
        grace = self._grace()
        pending = {r.task for r in self._running.values() if r.task is not None}
        pending |= {task for consumer in self._consumers for task in consumer.in_flight}
        if pending:
            log.info("waiting up to %s s for %d in-flight tasks", grace, len(pending))
            everything = asyncio.create_task(asyncio.wait(pending))
            force = asyncio.create_task(self._force_event.wait())
            await asyncio.wait({everything, force}, timeout=grace, return_when="FIRST_COMPLETED")
            everything.cancel()  # cancels the waiting only, not the tasks
            force.cancel()
        closing: set[asyncio.Task[Any]] = {
            r.task for r in self._running.values() if r.handler_done and r.task is not None
        }
        for running in [r for r in self._running.values() if not r.handler_done]:
            running.given_up = True
            if running.task is not None and running.handler.is_async:
                running.task.cancel()
            route, body = shutdown_answer(running.kind, grace)
            log.warning("failing task %s with %s", _short(running.token), SHUTDOWN_ERROR)
            closing.add(asyncio.create_task(self._shutdown_answer(running, route, body)))
        for consumer in self._consumers:
            closing |= consumer.settling
            if consumer.in_flight:
                closing.add(asyncio.create_task(consumer.give_up()))
        if closing:
            await asyncio.wait(closing, timeout=ANSWER_GRACE_SECONDS)
        self._hard_stop = True
        self._client.interrupt()
        for task in closing:
            task.cancel()
        await asyncio.gather(*closing, return_exceptions=True)
        # Sync handlers still running on their threads are abandoned (daemon threads).

    async def _shutdown_answer(self, running: _Running, route: str, body: dict[str, Any]) -> None:
        assert self._client is not None
        try:
            await self._client.answer(route, running.token, body)
        except (Rejected, Unavailable) as exc:
            log.error("could not fail task %s at shutdown: %s", _short(running.token), exc)


def _missing_handler(event: Any) -> Any:
    raise LookupError("this worker has no handler for the task")


def _short(token: str) -> str:
    return token[:12] + "…" if len(token) > 12 else token
