"""State machine aliases: Create, Describe, Update, Delete, List.

An alias (``...:stateMachine:NAME:prod``) routes StartExecution to one version, or splits it
between two versions of the same state machine by weight (percentages summing to 100), so a
caller keeps one ARN while the versions behind it change.
"""

from __future__ import annotations

import re
from typing import Any

from engine import codec
from engine.errors import InvalidName, ValidationError
from engine.services import arns
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, listing, page_size
from engine.services.state_machines import (
    ServiceQuotaExceeded,
    described,
    get_state_machine,
    require,
)
from engine.services.tags import ResourceNotFound
from engine.services.versions import ConflictException, routing_of, version_arn

# AWS quota: aliases per state machine.
MAX_ALIASES = 100
# botocore's CharacterRestrictedName: at least one non-digit, so no alias looks like a version.
_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]{1,80}$")


def _routing(value: Any) -> tuple[str, list[dict[str, Any]]]:
    """(state machine ARN, routing) of a routingConfiguration, checked as AWS does."""
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        raise ValidationError(
            "1 validation error detected: Value at 'routingConfiguration' failed to satisfy "
            "constraint: Member must have length between 1 and 2"
        )
    routes: list[dict[str, Any]] = []
    machines: set[str] = set()
    for item in value:
        if not isinstance(item, dict):
            raise ValidationError("Invalid routingConfiguration: each item must be an object")
        base, arn = version_arn(item.get("stateMachineVersionArn"))
        weight = item.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValidationError(
                "1 validation error detected: Value at 'routingConfiguration.member.weight' "
                "failed to satisfy constraint: Member must have value between 0 and 100"
            )
        machines.add(base)
        routes.append({"stateMachineVersionArn": arn, "weight": weight})
    if len(machines) > 1:
        raise ValidationError(
            "Routing configuration must contain versions of the same state machine"
        )
    if len({r["stateMachineVersionArn"] for r in routes}) < len(routes):
        raise ValidationError("Routing configuration must contain distinct state machine versions")
    if sum(r["weight"] for r in routes) != 100:
        raise ValidationError("Sum of routing configuration weights must be equal to 100")
    return machines.pop(), routes


def _versions_exist(tx: Any, routes: list[dict[str, Any]]) -> None:
    for route in routes:
        if tx.versions.get(route["stateMachineVersionArn"]) is None:
            raise ResourceNotFound(f"Resource not found: '{route['stateMachineVersionArn']}'")


def _alias_arn(arn: Any) -> str:
    base, qualifier = arns.split_qualifier(arn)
    if qualifier is None or qualifier.isdigit():
        raise ValidationError(f"Invalid Arn: 'Not a state machine alias ARN: {arn}'")
    return str(arn)


def _get(tx: Any, arn: str) -> dict[str, Any]:
    alias = tx.versions.alias(arn)
    if alias is None:
        raise ResourceNotFound(f"Resource not found: '{arn}'")
    return alias


def create_state_machine_alias(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """CreateStateMachineAlias: idempotent for the same description and routing."""
    name = require(request, "name")
    if not isinstance(name, str) or not _ALIAS_NAME.fullmatch(name):
        raise InvalidName(f"Invalid Name: '{name}'")
    description = described(request, "description")
    machine_arn, routes = _routing(require(request, "routingConfiguration"))
    arn = f"{machine_arn}:{name}"
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        tx.state_machines.lock(machine_arn)  # one alias change at a time
        get_state_machine(tx, machine_arn)
        existing = tx.versions.alias(arn)
        if existing is not None:
            if existing["description"] == description and routing_of(existing) == routes:
                return {"stateMachineAliasArn": arn, "creationDate": existing["created_at"]}
            raise ConflictException(
                f"Failed to create alias because an alias with the same name and a "
                f"different routing configuration already exists: '{arn}'"
            )
        _versions_exist(tx, routes)
        if len(tx.versions.aliases(machine_arn)) >= MAX_ALIASES:
            raise ServiceQuotaExceeded(
                f"Maximum number of aliases ({MAX_ALIASES}) reached for '{machine_arn}'"
            )
        tx.versions.insert_alias(
            {
                "arn": arn,
                "state_machine_arn": machine_arn,
                "name": name,
                "description": description,
                "routing": codec.dumps(routes),
                "created_at": now,
                "updated_at": now,
            }
        )
        return {"stateMachineAliasArn": arn, "creationDate": now}

    return ctx.store.run(work)


def describe_state_machine_alias(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachineAlias."""
    arn = _alias_arn(require(request, "stateMachineAliasArn"))

    def work(tx: Any) -> dict[str, Any]:
        alias = _get(tx, arn)
        out: dict[str, Any] = {
            "stateMachineAliasArn": alias["arn"],
            "name": alias["name"],
            "routingConfiguration": routing_of(alias),
            "creationDate": alias["created_at"],
            "updateDate": alias["updated_at"],
        }
        if alias["description"] is not None:
            out["description"] = alias["description"]
        return out

    return ctx.store.read(work)


def update_state_machine_alias(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateStateMachineAlias: a new description, routing, or both."""
    arn = _alias_arn(require(request, "stateMachineAliasArn"))
    if request.get("description") is None and request.get("routingConfiguration") is None:
        raise ValidationError(
            "Either the description or the routingConfiguration must be specified"
        )
    description = described(request, "description")
    routes = None
    if request.get("routingConfiguration") is not None:
        machine_arn, routes = _routing(request["routingConfiguration"])
        if machine_arn != arns.split_qualifier(arn)[0]:
            raise ValidationError(
                "Routing configuration must contain versions of the alias's state machine"
            )
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        tx.state_machines.lock(arns.split_qualifier(arn)[0])
        _get(tx, arn)
        values: dict[str, Any] = {"updated_at": now}
        if description is not None:
            values["description"] = description
        if routes is not None:
            _versions_exist(tx, routes)
            values["routing"] = codec.dumps(routes)
        tx.versions.update_alias(arn, **values)
        return {"updateDate": now}

    return ctx.store.run(work)


def delete_state_machine_alias(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachineAlias: its versions stay."""
    arn = _alias_arn(require(request, "stateMachineAliasArn"))

    def work(tx: Any) -> dict[str, Any]:
        _get(tx, arn)
        tx.versions.delete_alias(arn)
        return {}

    return ctx.store.run(work)


def list_state_machine_aliases(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachineAliases: newest first, paginated; of a state machine, or given a
    version ARN, the aliases that route to that version."""
    given = require(request, "stateMachineArn")
    machine_arn, qualifier = arns.split_qualifier(given)
    if qualifier is not None and not qualifier.isdigit():
        raise ValidationError(f"Invalid Arn: 'Alias ARN not allowed here: {given}'")
    limit = page_size(request.get("maxResults"))
    before = decode_token("alias", request.get("nextToken"))

    def work(tx: Any) -> dict[str, Any]:
        get_state_machine(tx, machine_arn)
        rows = [
            a
            for a in tx.versions.aliases(machine_arn)
            if (before is None or a["id"] < before)
            and (
                qualifier is None
                or any(r["stateMachineVersionArn"] == given for r in routing_of(a))
            )
        ]
        return listing(
            "stateMachineAliases",
            rows,
            limit,
            "alias",
            "id",
            lambda a: {"stateMachineAliasArn": a["arn"], "creationDate": a["created_at"]},
        )

    return ctx.store.read(work)
