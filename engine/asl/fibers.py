"""Cooperative fibers: how one execution runs Parallel branches and Map iterations at once.

Each branch, iteration or the execution's main line is a generator ("fiber") that yields an
operation when it must wait: ``Await`` for something outside the interpreter (a timer, a task
result) or ``Join`` for other fibers. The scheduler is single-threaded and runs ready fibers in
FIFO order, so for the same sequence of resolutions it produces the same events in the same
order. That determinism is what lets the decider rebuild an execution by replaying its recorded
resolutions (the Temporal model) instead of pickling live generators.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from engine.asl.errors import StatesError


@dataclass
class Await:
    """Wait for the outside world. ``kind`` is "timer" or "task"; the payload says what to do."""

    kind: str
    payload: dict[str, Any]


@dataclass
class Join:
    """Wait until every fiber in ``fibers`` ends, or until one of them fails (``fail_fast``).

    With ``any_of`` set, wait until at least one of the fibers has ended. The end of
    ``interrupt``, when given, also ends the wait (a Distributed Map hears UpdateMapRun so).
    """

    fibers: list[Fiber]
    fail_fast: bool = True
    any_of: bool = False
    interrupt: Fiber | None = None


@dataclass
class AwaitMore:
    """Keep waiting on request ``seq`` after a progress report (a task that has started)."""

    seq: int


@dataclass
class Yield:
    """Let other ready fibers run first (AWS interleaves concurrent branches state by state)."""


@dataclass(slots=True)
class Request:
    """Something a fiber waits on from outside; ``seq`` numbers requests in program order."""

    seq: int
    kind: str
    payload: dict[str, Any]


FiberBody = Generator[Any, Any, Any]


def _placeholder() -> FiberBody:
    yield None


_NOT_STARTED: FiberBody = _placeholder()


@dataclass(eq=False)
class Fiber:
    """One line of control: the main line, a Parallel branch or a Map iteration."""

    body: FiberBody
    last_event_id: int = 0
    done: bool = False
    result: Any = None
    error: StatesError | None = None
    waiting_on: Await | Join | None = None
    request_seq: int | None = None
    children: list[Fiber] = field(default_factory=list)
    on_cancel: Callable[[], None] | None = None
    # A silent fiber's events are not part of this execution's history (a Distributed Map
    # iteration runs as a child workflow on AWS, with its own history).
    silent: bool = False
    # The type of the state whose failure ended this fiber when that state recorded no end
    # of its own (a Task's TaskFailed ends the task, not the state): the Parallel or Map
    # tearing the fiber down records it as aborted.
    open_state: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the fiber ended with an error."""
        return self.done and self.error is not None


class Scheduler:
    """Runs fibers until every one of them is waiting on the outside world or done."""

    def __init__(self) -> None:
        self._ready: deque[tuple[Fiber, Any]] = deque()
        # A fiber waiting on a Join is woken by the ends of that Join's fibers: each child
        # lists the (joiner, join) pairs it belongs to, and each waiting join counts the
        # children still running, so an end costs O(1) instead of a scan of every child (a
        # Map of n iterations would otherwise cost O(n^2)).
        self._watchers: dict[Fiber, list[tuple[Fiber, Join]]] = {}
        self._running: dict[int, int] = {}
        self.pending: dict[int, tuple[Fiber, Request]] = {}
        self.request_seq = 0
        self.issued: list[Request] = []
        self.requests: dict[int, Request] = {}

    def spawn(
        self, make_body: Callable[[Fiber], FiberBody], parent: Fiber | None, last_event_id: int
    ) -> Fiber:
        """Create a fiber that starts on the next turn of the scheduler.

        ``make_body`` receives the new fiber, so the body can emit events on its own chain.
        """
        fiber = Fiber(body=_NOT_STARTED, last_event_id=last_event_id)
        fiber.body = make_body(fiber)
        if parent is not None:
            parent.children.append(fiber)
        self._ready.append((fiber, None))
        return fiber

    def resolve(self, seq: int, value: Any) -> bool:
        """Deliver the outcome of request ``seq``; False when nobody waits on it any more."""
        entry = self.pending.pop(seq, None)
        if entry is None:
            return False
        fiber, _ = entry
        fiber.waiting_on = None
        fiber.request_seq = None
        self._ready.append((fiber, value))
        return True

    def run(self) -> None:
        """Advance ready fibers until none is ready."""
        while self._ready:
            fiber, value = self._ready.popleft()
            if fiber.done:
                continue
            self._step(fiber, value)

    def cancel(self, fiber: Fiber) -> None:
        """Stop a fiber and all its descendants; their pending requests are dropped."""
        if fiber.done:
            return
        for child in fiber.children:
            self.cancel(child)
        if fiber.request_seq is not None:
            self.pending.pop(fiber.request_seq, None)
        fiber.done = True
        fiber.waiting_on = None
        if fiber.on_cancel is not None:
            fiber.on_cancel()
        fiber.body.close()
        self._ended(fiber)

    def _step(self, fiber: Fiber, value: Any) -> None:
        while True:
            try:
                op = fiber.body.send(value)
            except StopIteration as stop:
                fiber.done, fiber.result = True, stop.value
                self._ended(fiber)
                return
            except StatesError as err:
                fiber.done, fiber.error = True, err
                self._ended(fiber)
                return
            if isinstance(op, Await):
                self.request_seq += 1
                request = Request(self.request_seq, op.kind, op.payload)
                self.issued.append(request)
                self.requests[request.seq] = request
                self.pending[request.seq] = (fiber, request)
                fiber.waiting_on, fiber.request_seq = op, request.seq
                return
            if isinstance(op, AwaitMore):
                request = self.requests[op.seq]
                self.pending[op.seq] = (fiber, request)
                fiber.waiting_on, fiber.request_seq = None, op.seq
                return
            if isinstance(op, Yield):
                if self._ready:
                    self._ready.append((fiber, None))
                    return
                value = None
                continue
            if isinstance(op, Join):
                if self._join_satisfied(op):
                    value = None
                    continue
                fiber.waiting_on = op
                running = [f for f in op.fibers if not f.done]
                self._running[id(op)] = len(running)
                for child in running:
                    self._watchers.setdefault(child, []).append((fiber, op))
                if op.interrupt is not None:
                    self._watchers.setdefault(op.interrupt, []).append((fiber, op))
                return
            raise TypeError(f"fiber yielded {op!r}")

    @staticmethod
    def _join_satisfied(op: Join) -> bool:
        if op.interrupt is not None and op.interrupt.done:
            return True
        if op.any_of:
            return any(f.done for f in op.fibers) or not op.fibers
        if op.fail_fast and any(f.failed for f in op.fibers):
            return True
        return all(f.done for f in op.fibers)

    def _ended(self, fiber: Fiber) -> None:
        """Wake the fibers whose Join this end satisfies."""
        for joiner, op in self._watchers.pop(fiber, ()):
            if joiner.done or joiner.waiting_on is not op:
                self._running.pop(id(op), None)  # the joiner stopped waiting on this join
                continue
            if fiber is op.interrupt:
                del self._running[id(op)]
                joiner.waiting_on = None
                self._ready.append((joiner, None))
                continue
            self._running[id(op)] -= 1
            if op.any_of or (op.fail_fast and fiber.failed) or not self._running[id(op)]:
                del self._running[id(op)]
                joiner.waiting_on = None
                self._ready.append((joiner, None))
