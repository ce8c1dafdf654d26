"""Rebuild an execution from its durable record: recorded events and ordered resolutions.

Used to recover after a crash or a change of node (decider.start + decide do this on the hot
path), by RedriveExecution to find the request a failed execution waits on, and by tests that
prove the interpreter is deterministic: the rebuilt history must equal the stored one.
"""

from __future__ import annotations

from typing import Any

from engine.asl.interpreter import ExecutionInfo
from engine.history import decider
from engine.history.events import HistoryEvent


def rebuild(
    definition: dict[str, Any],
    info: ExecutionInfo,
    recorded: list[HistoryEvent],
    resolutions: list[decider.Resolution],
    now: float,
) -> decider.LiveExecution:
    """The live execution after replaying every resolution in order."""
    live = decider.start(definition, info, recorded, now)
    decider.decide(live, len(recorded), resolutions, 0, now)
    return live
