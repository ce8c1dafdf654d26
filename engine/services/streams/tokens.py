"""Opaque tokens: shard iterators and the NextToken of ListShards and ListStreams.

A token is base64 of a small JSON document plus an HMAC, so a client can neither read
meaning into it nor forge one; it names its stream by row id, so a stream deleted and created
again under the same name does not accept the old stream's iterators. Both kinds expire after
five minutes (Kinesis API reference, GetShardIterator and ListShards).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from engine.services.streams.errors import (
    ExpiredIteratorException,
    ExpiredNextTokenException,
    InvalidArgumentException,
)

LIFETIME_SECONDS = 300.0
# Tokens outlive no process in any way that matters (they last five minutes), but a server
# restarted within that time should still accept the ones it gave: the key is fixed per
# installation rather than per process. Forgery protection is about mistakes, not attackers.
_KEY = b"stepwell-kinesis-token"


def _encode(document: dict[str, Any]) -> str:
    payload = json.dumps(document, separators=(",", ":")).encode()
    mac = hmac.new(_KEY, payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + payload).decode()


def _decode(token: Any) -> dict[str, Any] | None:
    if not isinstance(token, str) or not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        return None
    mac, payload = raw[:12], raw[12:]
    if not hmac.compare_digest(mac, hmac.new(_KEY, payload, hashlib.sha256).digest()[:12]):
        return None
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def shard_iterator(stream: dict[str, Any], shard_index: int, position: int, now: float) -> str:
    """An iterator that reads the shard's records after ``position``. It names the stream by
    row id and creation time: SQLite may give a new stream the id of a deleted one."""
    return _encode(
        {
            "k": "it",
            "s": int(stream["id"]),
            "c": float(stream["created_at"]),
            "h": shard_index,
            "p": position,
            "t": now,
        }
    )


def read_iterator(token: Any, now: float) -> tuple[int, float, int, int]:
    """(stream id, stream creation time, shard index, position) of an iterator; InvalidArgumentException if it is
    not one of ours, ExpiredIteratorException if it is older than five minutes."""
    document = _decode(token)
    if document is None or document.get("k") != "it":
        raise InvalidArgumentException(f"Invalid ShardIterator: {token}")
    issued = float(document["t"])
    if now - issued > LIFETIME_SECONDS:
        raise ExpiredIteratorException(
            f"Iterator expired. The iterator was created at time {_ms(issued)} while right now "
            f"it is {_ms(now)} which is further in the future than the tolerated delay of "
            f"{int(LIFETIME_SECONDS * 1000)} milliseconds."
        )
    return int(document["s"]), float(document["c"]), int(document["h"]), int(document["p"])


def next_token(kind: str, scope: Any, after: str, now: float) -> str:
    """A NextToken continuing a listing of ``kind`` over ``scope`` after ``after``."""
    return _encode({"k": kind, "s": scope, "a": after, "t": now})


def read_next_token(kind: str, token: Any, now: float) -> tuple[Any, str]:
    """(scope, after) of a NextToken; InvalidArgumentException if it is not ours,
    ExpiredNextTokenException once it is older than five minutes."""
    document = _decode(token)
    if document is None or document.get("k") != kind:
        raise InvalidArgumentException(f"Invalid NextToken: {token}")
    if now - float(document["t"]) > LIFETIME_SECONDS:
        raise ExpiredNextTokenException(f"The NextToken has expired: {token}")
    return document["s"], str(document["a"])


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
