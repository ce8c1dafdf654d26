"""Tags of streams: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream and their
ARN-addressed twins TagResource, UntagResource, ListTagsForResource. They live in the shared
``tags`` table under the stream's ARN."""

from __future__ import annotations

from typing import Any

from engine.services.context import ServiceContext
from engine.services.streams.common import int_param, load_stream, lock_stream, string_param
from engine.services.streams.errors import InvalidArgumentException, validation

# Kinesis Data Streams developer guide, "Tag your streams": 50 tags per stream.
MAX_TAGS = 50


def tag_map(value: Any, required: bool = True) -> dict[str, str]:
    """A TagMap checked as the model constrains it (keys 1-128, values 0-256 characters)."""
    if value is None:
        if required:
            raise validation(None, "tags", "Member must not be null")
        return {}
    if not isinstance(value, dict) or (required and not value):
        raise validation(value, "tags", "Member must have length greater than or equal to 1")
    for key, text in value.items():
        if not 1 <= len(key) <= 128:
            raise validation(key, "tags", "Map keys must have length between 1 and 128")
        if not isinstance(text, str) or len(text) > 256:
            raise validation(text, "tags", "Map values must have length less than or equal to 256")
    return {str(k): str(v) for k, v in value.items()}


def _keys(body: dict[str, Any]) -> list[str]:
    keys = body.get("TagKeys")
    if not isinstance(keys, list) or not keys:
        raise validation(keys, "tagKeys", "Member must have length greater than or equal to 1")
    if len(keys) > 50:
        raise validation(keys, "tagKeys", "Member must have length less than or equal to 50")
    if not all(isinstance(k, str) and 1 <= len(k) <= 128 for k in keys):
        raise validation(keys, "tagKeys", "Member must have length between 1 and 128")
    return [str(k) for k in keys]


def _add(ctx: ServiceContext, body: dict[str, Any]) -> dict[str, Any]:
    tags = tag_map(body.get("Tags"))

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        total = set(tx.tags.list(stream["arn"])) | set(tags)
        if len(total) > MAX_TAGS:
            raise InvalidArgumentException(
                f"Failed to add tags to stream {stream['name']} under account {ctx.account} "
                f"because a given stream cannot have more than {MAX_TAGS} tags."
            )
        tx.tags.put(stream["arn"], tags)

    ctx.store.run(work)
    return {}


def _remove(ctx: ServiceContext, body: dict[str, Any]) -> dict[str, Any]:
    keys = _keys(body)

    def work(tx: Any) -> None:
        stream = lock_stream(ctx, tx, body)
        tx.tags.remove(stream["arn"], keys)

    ctx.store.run(work)
    return {}


def _tags_of(ctx: ServiceContext, body: dict[str, Any]) -> dict[str, str]:
    def work(tx: Any) -> dict[str, str]:
        stream = load_stream(ctx, tx, body)
        result: dict[str, str] = tx.tags.list(stream["arn"])
        return result

    found: dict[str, str] = ctx.store.read(work)
    return found


def add_tags_to_stream(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """AddTagsToStream: add or overwrite tags (50 per stream)."""
    return _add(ctx, body)


def remove_tags_from_stream(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """RemoveTagsFromStream: keys that are not there are ignored."""
    return _remove(ctx, body)


def list_tags_for_stream(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """ListTagsForStream: tags by key after ExclusiveStartTagKey, Limit (default 50) a page."""
    limit = int_param(body, "Limit", "limit", 1, 50) or 50
    start = string_param(body, "ExclusiveStartTagKey", "exclusiveStartTagKey")
    tags = sorted((k, v) for k, v in _tags_of(ctx, body).items() if start is None or k > start)
    return {
        "Tags": [{"Key": k, "Value": v} for k, v in tags[:limit]],
        "HasMoreTags": len(tags) > limit,
    }


def _by_arn(body: dict[str, Any]) -> dict[str, Any]:
    """A request naming its stream by ResourceARN, as the stream operations name it."""
    arn = string_param(body, "ResourceARN", "resourceARN", required=True)
    return {"StreamARN": arn}


def tag_resource(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """TagResource (streams only)."""
    return _add(ctx, {**_by_arn(body), "Tags": body.get("Tags")})


def untag_resource(ctx: ServiceContext, region: str, body: dict[str, Any]) -> dict[str, Any]:
    """UntagResource (streams only)."""
    return _remove(ctx, {**_by_arn(body), "TagKeys": body.get("TagKeys")})


def list_tags_for_resource(
    ctx: ServiceContext, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """ListTagsForResource (streams only)."""
    tags = _tags_of(ctx, _by_arn(body))
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
