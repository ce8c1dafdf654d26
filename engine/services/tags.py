"""TagResource, UntagResource and ListTagsForResource for Step Functions resources."""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound, ValidationError
from engine.services import arns, constraints
from engine.services.context import ServiceContext


class ResourceNotFound(NotFound):
    """AWS: ResourceNotFound."""

    code = "ResourceNotFound"


def _check(tx: Any, arn: str) -> None:
    if not isinstance(arn, str):
        raise ValidationError("1 validation error detected: resourceArn must not be null")
    kind = arn.split(":")[5] if arn.count(":") >= 6 else ""
    arns.parse(arn, kind or "stateMachine")
    # Tags belong to state machines (and their versions' aliases) and activities.
    missing = (kind == "stateMachine" and tx.state_machines.get(arn) is None) or (
        kind == "activity" and tx.tasks.activity(arn) is None
    )
    if missing:
        raise ResourceNotFound(f"Resource not found: '{arn}'")


def tag_resource(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add or replace tags; at most 50 per resource (TooManyTags)."""
    arn = request.get("resourceArn")
    tags = constraints.tags(constraints.required(request, "tags"))

    def work(tx: Any) -> dict[str, Any]:
        _check(tx, arn)  # type: ignore[arg-type]
        constraints.tag_count(str(arn), len({**tx.tags.list(arn), **tags}))
        tx.tags.put(arn, tags)
        return {}

    return ctx.store.run(work)


def untag_resource(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: remove tags by key."""
    arn = request.get("resourceArn")
    keys = constraints.required(request, "tagKeys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise constraints.invalid("tagKeys", "Member must be a list of strings")

    def work(tx: Any) -> dict[str, Any]:
        _check(tx, arn)  # type: ignore[arg-type]
        tx.tags.remove(arn, keys)
        return {}

    return ctx.store.run(work)


def list_tags_for_resource(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListTagsForResource."""
    arn = request.get("resourceArn")

    def work(tx: Any) -> dict[str, Any]:
        _check(tx, arn)  # type: ignore[arg-type]
        return {"tags": [{"key": k, "value": v} for k, v in tx.tags.list(arn).items()]}

    return ctx.store.run(work)
