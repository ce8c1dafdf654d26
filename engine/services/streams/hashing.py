"""The arithmetic of shards, pure: 128-bit hash keys, even hash key ranges, shard ids and
sequence numbers.

Kinesis maps a partition key to a shard by the MD5 of its UTF-8 bytes read as a 128-bit
unsigned integer; each shard owns a contiguous range of hash keys (Kinesis Data Streams
developer guide, "Terminology and concepts").
"""

from __future__ import annotations

import hashlib
import re

MAX_HASH_KEY = 2**128 - 1
SHARD_PREFIX = "shardId-"
_SHARD_ID = re.compile(r"^shardId-(\d{12})$")

# A sequence number is 56 decimal digits, as AWS's are: "49", the shard's index (8 digits)
# and the record's position in its shard (46 digits). Same length everywhere, so numeric and
# string order agree; the shard index in the high digits makes numbers unique across shards
# and puts every child shard's numbers above its parents'.
SEQUENCE_DIGITS = 56
_SEQUENCE_HEAD = "49"
_INDEX_DIGITS = 8
_POSITION_DIGITS = SEQUENCE_DIGITS - len(_SEQUENCE_HEAD) - _INDEX_DIGITS
_SEQUENCE = re.compile(rf"^{_SEQUENCE_HEAD}(\d{{{_INDEX_DIGITS}}})(\d{{{_POSITION_DIGITS}}})$")


def hash_key(partition_key: str) -> int:
    """The 128-bit hash key of a partition key: MD5 of its UTF-8 bytes, big-endian."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def even_ranges(count: int, low: int = 0, high: int = MAX_HASH_KEY) -> list[tuple[int, int]]:
    """``count`` contiguous (start, end) ranges splitting [low, high] as evenly as integers
    allow; together they cover it exactly."""
    size = high - low + 1
    bounds = [low + size * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(count)]


def shard_id(index: int) -> str:
    """shardId-000000000000 for index 0."""
    return f"{SHARD_PREFIX}{index:012d}"


def shard_index(value: object) -> int | None:
    """The index a shard id names, or None if it is not one of ours."""
    match = _SHARD_ID.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def sequence_number(index: int, position: int) -> str:
    """The sequence number of the record at ``position`` of shard ``index`` (position 0 is
    the shard's StartingSequenceNumber, before its first record)."""
    return f"{_SEQUENCE_HEAD}{index:0{_INDEX_DIGITS}d}{position:0{_POSITION_DIGITS}d}"


def parse_sequence_number(value: object) -> tuple[int, int] | None:
    """(shard index, position) of one of our sequence numbers, or None."""
    match = _SEQUENCE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def parse_hash_key(value: object) -> int | None:
    """A HashKey string (decimal, no leading zeros, 0..2^128-1) as an int, or None."""
    if not isinstance(value, str) or not re.fullmatch(r"0|[1-9]\d{0,38}", value):
        return None
    number = int(value)
    return number if number <= MAX_HASH_KEY else None


def owner(shards: list[dict[str, object]], key: int) -> dict[str, object] | None:
    """The shard (row with ``starting_hash_key``/``ending_hash_key``) whose range holds
    ``key``."""
    for shard in shards:
        if int(str(shard["starting_hash_key"])) <= key <= int(str(shard["ending_hash_key"])):
            return shard
    return None
