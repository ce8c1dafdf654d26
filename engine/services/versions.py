"""State machine versions: Publish, List, Delete, and what a qualified ARN starts.

A version is an immutable snapshot of a state machine's revision, named by the state
machine's ARN and a number (``...:stateMachine:NAME:3``); numbers rise by one per publish and
are never reused. Publishing is idempotent per revision: the current revision already
published answers with its version. Executions started from a version (or an alias, see
``engine.services.aliases``) run its revision and say so in DescribeExecution.
"""

from __future__ import annotations

import random
from typing import Any

from engine import codec
from engine.errors import AlreadyExists, ValidationError
from engine.services import arns
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, listing, page_size
from engine.services.state_machines import (
    StateMachineDoesNotExist,
    described,
    get_state_machine,
    publish,
    require,
    unqualified,
)


class ConflictException(AlreadyExists):
    """AWS: ConflictException."""

    code = "ConflictException"


def version_arn(arn: Any) -> tuple[str, str]:
    """(state machine ARN, version ARN) of a version ARN, else ValidationException."""
    base, qualifier = arns.split_qualifier(arn)
    if qualifier is None or not qualifier.isdigit():
        raise ValidationError(f"Invalid Arn: 'Not a state machine version ARN: {arn}'")
    return base, str(arn)


def publish_state_machine_version(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """PublishStateMachineVersion: optionally only if the current revision is ``revisionId``."""
    arn = unqualified(require(request, "stateMachineArn"))
    description = described(request, "description")
    expected = request.get("revisionId")
    if expected is not None and not isinstance(expected, str):
        raise ValidationError(
            "1 validation error detected: Value at 'revisionId' failed to satisfy constraint: "
            "Member must be a string"
        )
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        tx.state_machines.lock(arn)
        machine = get_state_machine(tx, arn)
        if expected is not None and expected != machine["revision_uuid"]:
            raise ConflictException(
                f"Failed to publish the State Machine version for revision {expected}. "
                f"The current State Machine revision is {machine['revision_uuid']}."
            )
        return publish(tx, machine, description, now)

    return ctx.store.run(work)


def list_state_machine_versions(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachineVersions: newest first, paginated."""
    arn = unqualified(require(request, "stateMachineArn"))
    limit = page_size(request.get("maxResults"))
    before = decode_token("ver", request.get("nextToken"))

    def work(tx: Any) -> dict[str, Any]:
        rows = tx.versions.page(arn, before, limit + 1)
        return listing(
            "stateMachineVersions",
            rows,
            limit,
            "ver",
            "version",
            lambda r: {"stateMachineVersionArn": r["arn"], "creationDate": r["created_at"]},
        )

    return ctx.store.read(work)


def delete_state_machine_version(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachineVersion: refused while an alias routes to it; running executions
    keep running it; deleting a version that is not there succeeds, as AWS does."""
    base, arn = version_arn(require(request, "stateMachineVersionArn"))

    def work(tx: Any) -> dict[str, Any]:
        tx.state_machines.lock(base)  # no alias may start routing to it meanwhile
        routed = [
            a["arn"]
            for a in tx.versions.aliases(base)
            if any(r["stateMachineVersionArn"] == arn for r in routing_of(a))
        ]
        if routed:
            raise ConflictException(
                "Version to be deleted must not be referenced by an alias. "
                f"Current list of aliases referencing this version: [{', '.join(routed)}]"
            )
        tx.versions.delete(arn)
        return {}

    return ctx.store.run(work)


def routing_of(alias: dict[str, Any]) -> list[dict[str, Any]]:
    """An alias row's routing configuration."""
    routing: list[dict[str, Any]] = codec.loads(alias["routing"])
    return routing


def resolve(tx: Any, arn: str) -> dict[str, Any] | None:
    """The state machine row a StartExecution on ``arn`` runs, or None if there is none:
    the state machine itself, or for a version its revision, or for an alias one of its
    versions chosen by weight. The row names the version and alias it came through."""
    base, qualifier = arns.split_qualifier(arn)
    machine = tx.state_machines.get(base)
    if machine is None or qualifier is None:
        return machine
    alias_arn = None
    if qualifier.isdigit():
        version = tx.versions.get(arn)
    else:
        alias = tx.versions.alias(arn)
        if alias is None:
            return None
        alias_arn = alias["arn"]
        routes = routing_of(alias)
        chosen = random.choices(routes, weights=[r["weight"] for r in routes])[0]
        version = tx.versions.get(chosen["stateMachineVersionArn"])
    if version is None:
        return None
    return {
        **machine,
        "revision_id": version["revision_id"],
        "definition": version["definition"],
        "role_arn": version["role_arn"],
        "version_arn": version["arn"],
        "alias_arn": alias_arn,
    }


def resolve_or_raise(tx: Any, arn: str) -> dict[str, Any]:
    """``resolve``, or StateMachineDoesNotExist."""
    machine = resolve(tx, arn)
    if machine is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    return machine
