"""Map Run use cases (DescribeMapRun, ListMapRuns, UpdateMapRun) and the projection of
MapRun* history events into Map Run records."""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound, ValidationError
from engine.history.events import HistoryEvent
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, encode_token, page_size


class MapRunDoesNotExist(NotFound):
    """AWS: ResourceNotFound for an unknown Map Run."""

    code = "ResourceNotFound"


def project(tx: Any, execution: dict[str, Any], events: list[HistoryEvent]) -> None:
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


def update_map_run(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateMapRun: records new limits on the Map Run."""
    values: dict[str, Any] = {}
    if request.get("maxConcurrency") is not None:
        values["max_concurrency"] = int(request["maxConcurrency"])
    if request.get("toleratedFailurePercentage") is not None:
        pct = float(request["toleratedFailurePercentage"])
        if not 0 <= pct <= 100:
            raise ValidationError("toleratedFailurePercentage must be between 0 and 100")
        values["tolerated_failure_percentage"] = pct
    if request.get("toleratedFailureCount") is not None:
        values["tolerated_failure_count"] = int(request["toleratedFailureCount"])
    if not values:
        raise ValidationError(
            "At least one of maxConcurrency, toleratedFailurePercentage or "
            "toleratedFailureCount must be specified"
        )

    def work(tx: Any) -> dict[str, Any]:
        row = _get(tx, request.get("mapRunArn"))
        tx.map_runs.update(row["arn"], values)
        return {}

    return ctx.store.run(work)
