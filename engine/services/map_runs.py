"""Map Run use cases (DescribeMapRun, ListMapRuns, UpdateMapRun) and the projection of
MapRun* history events into Map Run records."""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound, ValidationError
from engine.history.events import EventFields
from engine.services import resolutions
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, encode_token, page_size


class MapRunDoesNotExist(NotFound):
    """AWS: ResourceNotFound for an unknown Map Run."""

    code = "ResourceNotFound"


def project(tx: Any, execution: dict[str, Any], events: list[EventFields]) -> None:
    """Keep Map Run records in step with the MapRun* events a decision commits."""
    for event in events:
        meta = event.meta
        if not meta or "mapRunArn" not in meta:
            continue
        if meta["event"] == "started":
            tx.map_runs.started(
                {
                    "arn": meta["mapRunArn"],
                    "execution_id": execution["id"],
                    "execution_arn": execution["arn"],
                    # The Map Run's own state machine ARN: the parent's plus "/LABEL".
                    "state_machine_arn": meta["mapRunArn"].split(":mapRun:")[0]
                    + ":stateMachine:"
                    + meta["mapRunArn"].split(":mapRun:")[1].rsplit(":", 1)[0],
                    "status": "RUNNING",
                    "start_date": event.timestamp,
                    "max_concurrency": meta["maxConcurrency"],
                    "tolerated_failure_count": meta["toleratedFailureCount"],
                    "tolerated_failure_percentage": meta["toleratedFailurePercentage"],
                    "total": meta["total"],
                    "succeeded": 0,
                    "failed": 0,
                    "aborted": 0,
                }
            )
        else:
            tx.map_runs.ended(
                meta["mapRunArn"],
                {
                    "status": "SUCCEEDED" if meta["event"] == "succeeded" else "FAILED",
                    "stop_date": event.timestamp,
                    "succeeded": meta.get("succeeded", 0),
                    "failed": meta.get("failed", 0),
                    "aborted": meta.get("aborted", 0),
                },
            )


def _counts(row: dict[str, Any]) -> dict[str, int]:
    done = row["succeeded"] + row["failed"] + row["aborted"]
    running = 0 if row["status"] != "RUNNING" else row["total"] - done
    return {
        "pending": 0,
        "running": running,
        "succeeded": row["succeeded"],
        "failed": row["failed"],
        "timedOut": 0,
        "aborted": row["aborted"],
        "total": row["total"],
        "resultsWritten": row["succeeded"] + row["failed"] if row["status"] != "RUNNING" else 0,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }


def _get(tx: Any, arn: Any) -> dict[str, Any]:
    if not isinstance(arn, str) or ":mapRun:" not in arn:
        from engine.errors import InvalidArn

        raise InvalidArn(f"Invalid Arn: '{arn}'")
    row = tx.map_runs.get(arn)
    if row is None:
        raise MapRunDoesNotExist(f"Resource not found: '{arn}'")
    return row


def describe_map_run(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeMapRun."""

    def work(tx: Any) -> dict[str, Any]:
        row = _get(tx, request.get("mapRunArn"))
        out = {
            "mapRunArn": row["arn"],
            "executionArn": row["execution_arn"],
            "status": row["status"],
            "startDate": row["start_date"],
            "maxConcurrency": row["max_concurrency"],
            "toleratedFailurePercentage": row["tolerated_failure_percentage"],
            "toleratedFailureCount": row["tolerated_failure_count"],
            "itemCounts": _counts(row),
            "executionCounts": _counts(row),
            "redriveCount": 0,
        }
        if row["stop_date"] is not None:
            out["stopDate"] = row["stop_date"]
        return out

    return ctx.store.run(work)


def list_map_runs(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListMapRuns of an execution."""
    from engine.services.executions import get_execution

    limit = page_size(request.get("maxResults"))
    after = decode_token("mr", request.get("nextToken")) or 0

    def work(tx: Any) -> dict[str, Any]:
        execution = get_execution(tx, request.get("executionArn"))
        rows = tx.map_runs.page(execution["arn"], after, limit + 1)
        out: dict[str, Any] = {"mapRuns": []}
        for row in rows[:limit]:
            item = {
                "executionArn": row["execution_arn"],
                "mapRunArn": row["arn"],
                "stateMachineArn": row["state_machine_arn"],
                "startDate": row["start_date"],
            }
            if row["stop_date"] is not None:
                item["stopDate"] = row["stop_date"]
            out["mapRuns"].append(item)
        if len(rows) > limit:
            out["nextToken"] = encode_token("mr", rows[limit - 1]["id"])
        return out

    return ctx.store.run(work)


def _limit(request: dict[str, Any], field: str, kind: type, top: float | None = None) -> Any:
    value = request.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"Invalid value for {field}: {value!r}")
    if kind is int and value != int(value):
        raise ValidationError(f"{field} must be an integer")
    if value < 0 or (top is not None and value > top):
        bound = f"between 0 and {top:g}" if top is not None else "at least 0"
        raise ValidationError(f"{field} must be {bound}")
    return kind(value)


def update_map_run(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateMapRun: new limits for a Map Run. A running one applies them at once: they
    reach its Map state as the answer to the request it keeps open for them."""
    from engine.services import runtime

    update = {
        field: value
        for field, value in (
            ("maxConcurrency", _limit(request, "maxConcurrency", int)),
            (
                "toleratedFailurePercentage",
                _limit(request, "toleratedFailurePercentage", float, 100),
            ),
            ("toleratedFailureCount", _limit(request, "toleratedFailureCount", int)),
        )
        if value is not None
    }
    if not update:
        raise ValidationError(
            "At least one of maxConcurrency, toleratedFailurePercentage or "
            "toleratedFailureCount must be specified"
        )
    row = ctx.store.run(lambda tx: _get(tx, request.get("mapRunArn")))
    seq = None
    if row["status"] == "RUNNING":
        _, live = runtime.rebuild(ctx, row["execution_id"])
        seq = next(
            (
                r.seq
                for r in live.interpreter.pending
                if r.kind == "map_run" and r.payload.get("mapRunArn") == row["arn"]
            ),
            None,
        )
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        tx.map_runs.update(
            row["arn"],
            {
                column: update[field]
                for field, column in (
                    ("maxConcurrency", "max_concurrency"),
                    ("toleratedFailurePercentage", "tolerated_failure_percentage"),
                    ("toleratedFailureCount", "tolerated_failure_count"),
                )
                if field in update
            },
        )
        if seq is not None:
            resolutions.resolve(tx, row["execution_id"], seq, now, **update)
        return {}

    result = ctx.store.run(work)
    if seq is not None:
        ctx.waker.wake()
    return result
