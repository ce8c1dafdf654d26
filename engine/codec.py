"""JSON encoding used everywhere a value crosses a boundary (history details, API bodies, SQL).

orjson is several times faster than the standard library on the hot path; it cannot encode
integers beyond 64 bits, which JSON allows, so those fall back to the standard encoder.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON text, as AWS renders inputs and outputs (no spaces, UTF-8 kept)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    """Parse JSON text; raises ValueError on malformed input."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson rejects integers beyond 64 bits and nesting deeper than 1024 levels; the
        # standard parser accepts the first and must not overflow the stack on the second.
        try:
            return json.loads(text)
        except RecursionError as exc:
            raise ValueError("JSON nesting is too deep") from exc
