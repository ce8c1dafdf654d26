"""JSON values as ASL sees them: their text in history and their size against AWS's limit."""

from __future__ import annotations

from typing import Any

from engine import codec

# AWS: "the maximum input or output size for a task, state, or execution is 256 KiB of data as
# a UTF-8 encoded string" (Step Functions service quotas).
MAX_PAYLOAD_BYTES = 262_144


def encode(value: Any) -> str:
    """The compact JSON text AWS records in history details."""
    return codec.dumps(value)


def payload_size(value: Any) -> int:
    """UTF-8 size of the value's JSON text."""
    return len(codec.dumps(value).encode())
