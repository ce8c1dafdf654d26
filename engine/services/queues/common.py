"""What every queue operation shares: who is calling (for URLs and ARNs), finding a queue by
its URL, integer parameters, and the long-poll key a send notifies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from engine.services.context import ServiceContext
from engine.services.queues.errors import (
    InvalidAddress,
    InvalidParameterValue,
    MissingParameter,
    QueueDoesNotExist,
)


@dataclass(frozen=True)
class Caller:
    """Where a request came in: ``base`` (scheme://host:port, from the Host header) builds the
    queue URLs we answer with; ``region`` names new queues' ARNs."""

    base: str
    region: str


def queue_url(caller: Caller, queue: dict[str, Any]) -> str:
    """A queue's URL as seen by this caller."""
    return f"{caller.base}/{queue['account']}/{queue['name']}"


def parse_queue_url(url: Any) -> tuple[str, str]:
    """(account, name) from a queue URL. Only the path counts: clients may use any host
    (ours, ``sqs.<region>.amazonaws.com``, ``queue.amazonaws.com``)."""
    if url is None or url == "":
        raise MissingParameter("The request must contain the parameter QueueUrl.")
    if not isinstance(url, str):
        raise InvalidAddress(f"The address {url} is not valid for this endpoint.")
    path = urlparse(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2:
        raise InvalidAddress(f"The address {url} is not valid for this endpoint.")
    return parts[0], parts[1]


# Every queue operation reads its queue's row; rows are kept for a second (RecentRows), so a
# send, receive or delete costs one statement less. This node's own changes (attributes, tags,
# purge, deletion) drop the row at once; another node's are seen within the second. AWS
# documents far longer for its queues: attribute changes "can take up to 60 seconds" to apply.
def load_queue(ctx: ServiceContext, tx: Any, url: Any) -> dict[str, Any]:
    """The live queue a URL names (QueueDoesNotExist otherwise); cached briefly (above)."""
    account, name = parse_queue_url(url)
    if account != ctx.account:
        raise QueueDoesNotExist("The specified queue does not exist.")
    queue = ctx.queue_cache.get((account, name))
    if queue is None:
        queue = tx.queues.get(account, name)
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        ctx.queue_cache.put((account, name), queue)
    return dict(queue)


def changed_queue(ctx: ServiceContext, tx: Any, queue: dict[str, Any]) -> None:
    """This transaction changes (or deletes) ``queue``'s row: forget the cached copy now and
    again once it commits (a reader may have cached the old row in between)."""
    key = (queue["account"], queue["name"])
    ctx.queue_cache.forget(key)
    tx.on_commit.append(lambda: ctx.queue_cache.forget(key))


def lock_queue(ctx: ServiceContext, tx: Any, url: Any) -> dict[str, Any]:
    """Like load_queue, but holds the queue row's lock (PostgreSQL) until the commit."""
    queue = load_queue(ctx, tx, url)
    locked = tx.queues.lock(queue["id"])
    if locked is None:
        raise QueueDoesNotExist("The specified queue does not exist.")
    return locked


def int_param(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    """An optional integer parameter within [low, high] (InvalidParameterValue otherwise)."""
    value = body.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except ValueError as exc:
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: Must be an integer."
        ) from exc
    if not low <= number <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. "
            f"Reason: Must be between {low} and {high}, if provided."
        )
    return number


def wake_key(queue_id: int) -> str:
    """The long-poll key receivers of a queue wait on (engine.services.tasks.TaskSignals)."""
    return f"sqs:{queue_id}"


def notify(ctx: ServiceContext, queue_ids: set[int]) -> None:
    """Wake receivers long-polling these queues in this process (after the commit)."""
    if not queue_ids:
        return
    from engine.services.tasks import signals

    hub = signals(ctx)
    for queue_id in queue_ids:
        hub.notify(wake_key(queue_id))


def run(ctx: ServiceContext, work: Any) -> Any:
    """Run a transaction; when a unique constraint refused a write because a concurrent
    request committed the same thing first (two CreateQueue or CreateTopic calls racing), run
    it again so it sees the winner's row."""
    try:
        return ctx.store.run(work)
    except Exception as exc:
        # engine.store.repository.Conflict; matched by name so services stay free of the store.
        if type(exc).__name__ != "Conflict":
            raise
        return ctx.store.run(work)


def sequence_text(sequence: int | None) -> str:
    """A SequenceNumber as SQS writes it."""
    # SQS sequence numbers are 20-digit decimal strings; zero padding keeps them sortable.
    return f"{int(sequence or 0):020d}"


Operation = Callable[[Any, Caller, dict[str, Any]], dict[str, Any]]


def checked_operations(
    operations: dict[str, Operation], check: Callable[[dict[str, Any]], None]
) -> dict[str, Operation]:
    """The operations of a query-protocol service (SQS, SNS), each checking its body's
    parameter types with ``check`` first: a wrong JSON type answers the service's own error,
    not a TypeError deep inside."""

    def wrapped(operation: Operation) -> Operation:
        def checked(ctx: Any, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
            check(body)
            return operation(ctx, caller, body)

        checked.__doc__ = operation.__doc__
        return checked

    return {name: wrapped(operation) for name, operation in operations.items()}
