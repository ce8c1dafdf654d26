"""decide(): where ASL meets durable history.

An execution's durable state is (1) its recorded history events and (2) the ordered list of
*resolutions*: what the outside world answered to the requests the interpreter made (a timer
fired, a task succeeded). The interpreter is deterministic, so replaying the resolutions in
order rebuilds the live execution exactly, and new events are whatever it emits past the
recorded ones. A decider keeps recently used interpreters in memory (``DeciderCache``) so the
hot path resumes them without replay; replay happens after a restart or a node change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from engine.asl.fibers import Request
from engine.asl.interpreter import ExecutionInfo, Interpreter
from engine.history.events import EventFields, HistoryEvent


class ReplayMismatch(Exception):
    """Replay produced a different history than the one recorded (a bug, never expected)."""


@dataclass(slots=True)
class Resolution:
    """The outside world's answer to request ``request_seq``."""

    request_seq: int
    value: Any


class EventClock:
    """Timestamps for events: recorded ones keep theirs, new ones read ``now`` (a fixed time
    or a clock function, so that each new event gets the moment it was made)."""

    def __init__(self, recorded: list[float], now: float | Callable[[], float]) -> None:
        self.recorded = recorded
        self.now = now

    def __call__(self, index: int) -> float:
        if index < len(self.recorded):
            return self.recorded[index]
        return self.now() if callable(self.now) else self.now


@dataclass
class Decision:
    """What one decision adds: new events, new requests, and the execution's status."""

    # The interpreter's own events (HistoryEvent's fields), written as they are.
    events: list[EventFields]
    requests: list[Request]
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    request_seq: int = 0
    applied: int = 0


@dataclass
class LiveExecution:
    """An interpreter kept between decisions, with how much of the durable state it has seen."""

    interpreter: Interpreter
    clock: EventClock
    applied: int = 0
    issued_seen: int = 0


def start(
    definition: dict[str, Any],
    info: ExecutionInfo,
    recorded: list[HistoryEvent],
    now: float | Callable[[], float],
) -> LiveExecution:
    """Build a live execution from its first events (replaying if some are recorded)."""
    clock = EventClock([e.timestamp for e in recorded], now)
    interpreter = Interpreter(definition, info, clock)
    # An execution stopped before its first decision ran no state: ExecutionAborted follows
    # ExecutionStarted, and replay must not run the states the recorded history never saw.
    interpreter.start(held=len(recorded) > 1 and recorded[1].type == "ExecutionAborted")
    return LiveExecution(interpreter, clock)


def decide(
    live: LiveExecution,
    recorded_count: int,
    new_resolutions: list[Resolution],
    known_request_seq: int,
    now: float | Callable[[], float],
) -> Decision:
    """Apply resolutions ``live`` has not seen yet, in order, and report what is new past
    ``recorded_count`` events and ``known_request_seq`` requests."""
    live.clock.now = now
    interpreter = live.interpreter
    for resolution in new_resolutions:
        interpreter.resolve(resolution.request_seq, resolution.value)
    live.applied += len(new_resolutions)
    # A fresh list of the interpreter's own events, never changed once emitted: no copies.
    new = cast(list[EventFields], interpreter.events[recorded_count:])
    requests = [r for r in interpreter.scheduler.issued if r.seq > known_request_seq]
    pending = set(interpreter.scheduler.pending)
    return Decision(
        events=new,
        requests=[r for r in requests if r.seq in pending],
        status=interpreter.status,
        output=interpreter.output,
        error=interpreter.error,
        cause=interpreter.cause,
        request_seq=interpreter.scheduler.request_seq,
        applied=live.applied,
    )


def verify_replay(live: LiveExecution, recorded: list[HistoryEvent]) -> None:
    """Check that replay reproduced the recorded event types (determinism guard)."""
    produced = live.interpreter.events
    for stored, replayed in zip(recorded, produced, strict=False):
        if stored.type != replayed.type:
            raise ReplayMismatch(
                f"event {stored.id}: recorded {stored.type}, replayed {replayed.type}"
            )


@dataclass
class DeciderCache:
    """Live executions kept in memory between decisions, least recently used evicted. The
    decider thread and threads deciding an answer at once share it (one lock)."""

    capacity: int = 2000
    entries: OrderedDict[int, tuple[int, LiveExecution]] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, execution_id: int, event_count: int) -> LiveExecution | None:
        """The live execution if it is exactly at ``event_count`` events."""
        with self.lock:
            entry = self.entries.get(execution_id)
            if entry is None or entry[0] != event_count:
                return None
            self.entries.move_to_end(execution_id)
            return entry[1]

    def holds(self, execution_id: int) -> bool:
        """Whether some live state of the execution is kept."""
        with self.lock:
            return execution_id in self.entries

    def put(self, execution_id: int, event_count: int, live: LiveExecution) -> None:
        """Remember a live execution at ``event_count`` events."""
        with self.lock:
            self.entries[execution_id] = (event_count, live)
            self.entries.move_to_end(execution_id)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)

    def drop(self, execution_id: int) -> None:
        """Forget an execution (it ended, or a decision was void)."""
        with self.lock:
            self.entries.pop(execution_id, None)
