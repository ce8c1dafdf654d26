"""Opaque pagination tokens, and the maxResults rules AWS applies."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from engine.errors import InvalidToken, ValidationError

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page_size(value: object, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> int:
    """maxResults: 0 or absent means the default; negative or above the maximum is refused."""
    if value is None or value == 0:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= maximum:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {maximum}"
        )
    return value


def encode_token(kind: str, position: int) -> str:
    """A nextToken naming a position in a listing."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_token(kind: str, token: object) -> int | None:
    """The position a nextToken names; None for no token; InvalidToken if it is not ours."""
    if token is None or token == "":
        return None
    try:
        text = base64.urlsafe_b64decode(str(token).encode()).decode()
        prefix, position = text.split(":", 1)
        if prefix != kind:
            raise ValueError(prefix)
        return int(position)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidToken(f"Invalid Token: '{token}'") from exc


def listing(
    member: str,
    rows: list[dict[str, Any]],
    limit: int,
    kind: str,
    position: str,
    item: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A List* answer from up to ``limit + 1`` rows read: the first ``limit`` shaped by
    ``item`` under ``member``, and a nextToken naming the last one's ``position`` when the
    extra row shows that more follow."""
    out: dict[str, Any] = {member: [item(row) for row in rows[:limit]]}
    if len(rows) > limit:
        out["nextToken"] = encode_token(kind, rows[limit - 1][position])
    return out
