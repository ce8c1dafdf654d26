"""TagResource, UntagResource and ListTagsForResource for Step Functions resources."""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound, ValidationError
from engine.services import arns
from engine.services.context import ServiceContext


class ResourceNotFound(NotFound):
    """AWS: ResourceNotFound."""

    code = "ResourceNotFound"


def _check(tx: Any, arn: str) -> None:
    if not isinstance(arn, str):
        raise ValidationError("1 validation error detected: resourceArn must not be null")
    kind = arn.split(":")[5] if arn.count(":") >= 6 else ""
    arns.parse(arn, kind or "stateMachine")
    if kind == "stateMachine" and tx.state_machines.get(arn) is None:
        raise ResourceNotFound(f"Resource not found: '{arn}'")


def tag_resource(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add or replace tags."""
    arn = request.get("resourceArn")
    tags = request.get("tags") or []

    def work(tx: Any) -> dict[str, Any]:
        _check(tx, arn)  # type: ignore[arg-type]
        tx.tags.put(arn, {t["key"]: t.get("value", "") for t in tags})
        return {}

    return ctx.store.run(work)


def untag_resource(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: remove tags by key."""
    arn = request.get("resourceArn")

    def work(tx: Any) -> dict[str, Any]:
        _check(tx, arn)  # type: ignore[arg-type]
        tx.tags.remove(arn, list(request.get("tagKeys") or []))
        return {}

    return ctx.store.run(work)


def list_tags_for_resource(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListTagsForResource."""
    arn = request.get("resourceArn")

    def work(tx: Any) -> dict[str, Any]:
        _check(tx, arn)  # type: ignore[arg-type]
        return {"tags": [{"key": k, "value": v} for k, v in tx.tags.list(arn).items()]}

    return ctx.store.run(work)
