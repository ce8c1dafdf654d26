"""History events, with type names and detail fields identical to AWS's ``HistoryEvent`` shape."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

# Event types whose details field is not simply lowerCamel(type) + "EventDetails".
_STATE_ENTERED = re.compile(r"^[A-Za-z]+StateEntered$")
_STATE_EXITED = re.compile(r"^[A-Za-z]+StateExited$")

# Types that carry no details object at all (AWS omits the field).
_WITHOUT_DETAILS = {
    "ParallelStateStarted",
    "ParallelStateSucceeded",
    "ParallelStateFailed",
    "ParallelStateAborted",
    "MapStateSucceeded",
    "MapStateFailed",
    "MapStateAborted",
    "TaskStateAborted",
    "WaitStateAborted",
    "MapRunSucceeded",
    "MapRunAborted",
}

TERMINAL_TYPES = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}
)


def details_key(event_type: str) -> str | None:
    """The ``*EventDetails`` member of ``HistoryEvent`` that holds this type's details."""
    if event_type in _WITHOUT_DETAILS:
        return None
    if _STATE_ENTERED.match(event_type):
        return "stateEnteredEventDetails"
    if _STATE_EXITED.match(event_type):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


class EventFields(Protocol):
    """What a stored event needs: a HistoryEvent, or the interpreter's own emitted event."""

    id: int
    previous_event_id: int
    type: str
    timestamp: float
    details: dict[str, Any] | None
    meta: dict[str, Any] | None


@dataclass(slots=True)
class HistoryEvent:
    """One event of an execution's history; ``timestamp`` is epoch seconds."""

    id: int
    previous_event_id: int
    type: str
    timestamp: float
    details: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    def to_aws(self) -> dict[str, Any]:
        """The event as the ``GetExecutionHistory`` wire shape (timestamps as epoch seconds)."""
        out: dict[str, Any] = {
            "timestamp": self.timestamp,
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        key = details_key(self.type)
        if key is not None and self.details is not None:
            out[key] = self.details
        return out
