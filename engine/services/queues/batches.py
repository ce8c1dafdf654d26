"""Batch requests: the entry rules every *Batch operation shares, and failed-entry shapes."""

from __future__ import annotations

from typing import Any

from engine.services.queues import contents
from engine.services.queues.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameterValue,
    SqsError,
    TooManyEntriesInBatchRequest,
)

MAX_BATCH = 10


def check_batch(entries: Any, what: str) -> list[dict[str, Any]]:
    """A batch's entries: 1 to 10, each with a distinct, well-formed Id."""
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {what} in the request.")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidParameterValue("Entries must be a list of structures.")
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not contents.BATCH_ID.match(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries


def failure(entry_id: str, err: SqsError) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "SenderFault": err.sender_fault,
        "Code": err.wire_query_code,
        "Message": err.message,
    }
