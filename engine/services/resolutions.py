"""Answering an execution's request: the one way the outside world reaches an execution."""

from __future__ import annotations

from typing import Any

from engine import codec


def resolve(tx: Any, execution_id: int, seq: int, now: float, **value: Any) -> None:
    """Append the answer ``value`` to request ``seq`` and mark the execution runnable."""
    tx.runtime.resolve(execution_id, seq, codec.dumps(value), now)


def resolve_all(
    tx: Any, execution_id: int, answers: list[tuple[int, dict[str, Any]]], now: float
) -> None:
    """Append several answers (request seq, value) at once, in order."""
    tx.runtime.resolve_all(execution_id, [(seq, codec.dumps(value)) for seq, value in answers], now)
