"""Activity use cases: Create, Describe, List, Delete, and GetActivityTask's claim."""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound, ValidationError
from engine.services import arns, constraints
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, listing, page_size


class ActivityDoesNotExist(NotFound):
    """AWS: ActivityDoesNotExist."""

    code = "ActivityDoesNotExist"


def activity_arn(region: str, account: str, name: str) -> str:
    """arn:aws:states:REGION:ACCOUNT:activity:NAME"""
    return f"arn:aws:states:{region}:{account}:activity:{name}"


def create_activity(ctx: ServiceContext, region: str, request: dict[str, Any]) -> dict[str, Any]:
    """CreateActivity: idempotent by name."""
    name = request.get("name")
    if name is None:
        raise ValidationError(
            "1 validation error detected: Value null at 'name' failed to "
            "satisfy constraint: Member must not be null"
        )
    arns.check_name(name)
    arn = activity_arn(region, ctx.account, name)
    tags = constraints.tags(request.get("tags"))
    constraints.tag_count(arn, len(tags))
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        row = tx.tasks.add_activity(arn, name, now)
        tx.tags.put(arn, tags)
        return {"activityArn": arn, "creationDate": row["created_at"]}

    return ctx.store.run(work)


def _get(tx: Any, arn: Any) -> dict[str, Any]:
    if arn is None:
        raise ValidationError(
            "1 validation error detected: Value null at 'activityArn' failed "
            "to satisfy constraint: Member must not be null"
        )
    arns.parse(arn, "activity")
    row = tx.tasks.activity(arn)
    if row is None:
        raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
    return row


def describe_activity(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeActivity."""

    def work(tx: Any) -> dict[str, Any]:
        row = _get(tx, request.get("activityArn"))
        return {"activityArn": row["arn"], "name": row["name"], "creationDate": row["created_at"]}

    return ctx.store.run(work)


def delete_activity(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteActivity (an unknown activity is not an error, as on AWS)."""
    arn = request.get("activityArn")
    if arn is None:
        raise ValidationError("1 validation error detected: Value null at 'activityArn'")
    arns.parse(arn, "activity")

    def work(tx: Any) -> dict[str, Any]:
        tx.tasks.delete_activity(arn)
        tx.tags.drop(arn)
        return {}

    return ctx.store.run(work)


def list_activities(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListActivities, oldest first, paginated."""
    limit = page_size(request.get("maxResults"))
    after = decode_token("act", request.get("nextToken")) or 0

    def work(tx: Any) -> dict[str, Any]:
        rows = tx.tasks.activity_page(after, limit + 1)
        return listing(
            "activities",
            rows,
            limit,
            "act",
            "id",
            lambda r: {"activityArn": r["arn"], "name": r["name"], "creationDate": r["created_at"]},
        )

    return ctx.store.run(work)


def check_activity(ctx: ServiceContext, arn: Any) -> None:
    """Raise unless ``arn`` names an existing activity (GetActivityTask's precondition)."""
    ctx.store.run(lambda tx: _get(tx, arn))


def require_activity(tx: Any, arn: Any) -> dict[str, Any]:
    """The activity ``arn`` names, inside the caller's transaction; raises as
    ``check_activity`` does (a null or malformed ARN, an activity that does not exist)."""
    return _get(tx, arn)
