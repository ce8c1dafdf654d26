"""State machine use cases: Create, Describe, Update, Delete, List, Validate, tags."""

from __future__ import annotations

import uuid
from typing import Any

from engine import codec
from engine.asl import parser
from engine.errors import (
    AlreadyExists,
    InvalidArn,
    InvalidDefinitionError,
    LimitExceeded,
    NotFound,
    ValidationError,
)
from engine.services import arns, constraints
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, listing, page_size

_DEFAULT_LOGGING = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING = {"enabled": False}
MAX_DEFINITION_BYTES = 1_048_576
# AWS quota: versions per state machine.
MAX_VERSIONS = 1000


class StateMachineDoesNotExist(NotFound):
    """AWS: StateMachineDoesNotExist."""

    code = "StateMachineDoesNotExist"


class StateMachineAlreadyExists(AlreadyExists):
    """AWS: StateMachineAlreadyExists."""

    code = "StateMachineAlreadyExists"


class ServiceQuotaExceeded(LimitExceeded):
    """AWS: ServiceQuotaExceededException."""

    code = "ServiceQuotaExceededException"


class StateMachineTypeNotSupported(ValidationError):
    """AWS: StateMachineTypeNotSupported."""

    code = "StateMachineTypeNotSupported"


def check_definition(definition: Any) -> dict[str, Any]:
    """Parse and validate ASL, mapping problems to InvalidDefinition."""
    if not isinstance(definition, str):
        raise ValidationError("1 validation error detected: definition must be a string")
    if len(definition.encode()) > MAX_DEFINITION_BYTES:
        raise ValidationError(
            "1 validation error detected: Value at 'definition' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_DEFINITION_BYTES}"
        )
    try:
        return parser.parse_definition(definition)
    except parser.InvalidDefinition as exc:
        raise InvalidDefinitionError(exc.message) from exc


# A request member that must be present, else AWS's "Value null ..." ValidationException.
require = constraints.required


def unqualified(arn: Any) -> str:
    """A state machine ARN that must name neither a version nor an alias."""
    base, qualifier = arns.split_qualifier(arn)
    if qualifier is not None:
        raise ValidationError(f"Invalid Arn: 'Qualified state machine ARN not allowed: {arn}'")
    return base


def described(request: dict[str, Any], field: str) -> str | None:
    """An optional description member: text of at most 256 characters."""
    return constraints.text(request, field, 256)


def version_description(request: dict[str, Any]) -> str | None:
    """``versionDescription`` of Create/UpdateStateMachine: only with ``publish``."""
    if request.get("publish") is not None and not isinstance(request["publish"], bool):
        raise ValidationError(
            "1 validation error detected: Value at 'publish' failed to satisfy constraint: "
            "Member must be a boolean"
        )
    if request.get("versionDescription") is not None and not request.get("publish"):
        raise ValidationError("Version description can only be set when publish is true")
    return described(request, "versionDescription")


def publish(
    tx: Any, machine: dict[str, Any], description: str | None, now: float
) -> dict[str, Any]:
    """Publish a state machine's current revision (``machine``: its ``arn`` and
    ``revision_id``) as a version: the existing version of that revision, else a new one with
    the next number (engine.services.versions). Callers hold the state machine's row lock
    (``tx.state_machines.lock``) or have just created it."""
    existing = tx.versions.of_revision(machine["revision_id"])
    if existing is not None:
        return {"stateMachineVersionArn": existing["arn"], "creationDate": existing["created_at"]}
    if tx.versions.count(machine["arn"]) >= MAX_VERSIONS:
        raise ServiceQuotaExceeded(
            f"Maximum number of versions ({MAX_VERSIONS}) reached for '{machine['arn']}'"
        )
    number = tx.versions.next_number(machine["arn"])
    arn = f"{machine['arn']}:{number}"
    tx.versions.insert(
        {
            "arn": arn,
            "state_machine_arn": machine["arn"],
            "version": number,
            "revision_id": machine["revision_id"],
            "description": description,
            "created_at": now,
        }
    )
    return {"stateMachineVersionArn": arn, "creationDate": now}


def _answer(
    tx: Any,
    request: dict[str, Any],
    out: dict[str, Any],
    machine: dict[str, Any],
    description: str | None,
    now: float,
) -> dict[str, Any]:
    """Create/UpdateStateMachine's answer ``out``, with the version it published if asked."""
    if request.get("publish"):
        out["stateMachineVersionArn"] = publish(tx, machine, description, now)[
            "stateMachineVersionArn"
        ]
    return out


def create_state_machine(
    ctx: ServiceContext, region: str, request: dict[str, Any]
) -> dict[str, Any]:
    """CreateStateMachine: idempotent when every parameter matches the existing one."""
    name = require(request, "name")
    arns.check_name(name)
    definition = require(request, "definition")
    role_arn = constraints.role_arn(require(request, "roleArn"))
    check_definition(definition)
    sm_type = constraints.choice(request, "type", ("STANDARD", "EXPRESS")) or "STANDARD"
    arn = arns.state_machine_arn(region, ctx.account, name)
    now = ctx.clock.now()
    logging = constraints.logging_configuration(request.get("loggingConfiguration"))
    logging = logging or _DEFAULT_LOGGING
    tracing = constraints.tracing_configuration(request.get("tracingConfiguration"))
    tracing = tracing or _DEFAULT_TRACING
    tags = constraints.tags(request.get("tags"))
    constraints.tag_count(arn, len(tags))
    description = version_description(request)

    def work(tx: Any) -> dict[str, Any]:
        existing = tx.state_machines.get(arn)
        if existing is not None:
            # AWS: the idempotency check is based on the name, definition, type, logging and
            # tracing configuration; "if a following request has a different roleArn or
            # tags, Step Functions will ignore these differences" (and keeps the old ones).
            current = describe_row(existing)
            same = (
                existing["definition"] == definition
                and existing["type"] == sm_type
                and current["loggingConfiguration"] == logging
                and current["tracingConfiguration"] == tracing
            )
            if not same:
                raise StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
            out = {"stateMachineArn": arn, "creationDate": existing["created_at"]}
            return _answer(tx, request, out, existing, description, now)
        revision = tx.state_machines.add_revision(arn, str(uuid.uuid4()), definition, role_arn, now)
        tx.state_machines.insert(
            {
                "arn": arn,
                "name": name,
                "type": sm_type,
                "role_arn": role_arn,
                "status": "ACTIVE",
                "created_at": now,
                "revision_id": revision,
                "description": request.get("versionDescription"),
                "logging_configuration": codec.dumps(logging),
                "tracing_configuration": codec.dumps(tracing),
            }
        )
        tx.tags.put(arn, tags)
        out = {"stateMachineArn": arn, "creationDate": now}
        return _answer(tx, request, out, {"arn": arn, "revision_id": revision}, description, now)

    return ctx.store.run(work)


# StartExecution needs the state machine's row on every call, and the row changes only through
# UpdateStateMachine and DeleteStateMachine, which drop it from this node's cache at once. Another
# node's change is seen within a second (RecentRows): AWS documents the same for UpdateStateMachine
# ("executions started immediately after calling UpdateStateMachine may use the previous state
# machine definition and roleArn").
def machine_for_start(ctx: ServiceContext, tx: Any, arn: str) -> dict[str, Any]:
    """The state machine row a new execution runs on (cached briefly, see above)."""
    row = ctx.machine_cache.get(arn)
    if row is None:
        row = get_state_machine(tx, arn)
        ctx.machine_cache.put(arn, row)
    return row


def get_state_machine(tx: Any, arn: str) -> dict[str, Any]:
    """The state machine row or StateMachineDoesNotExist."""
    row = tx.state_machines.get(arn)
    if row is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    return row


def describe_row(row: dict[str, Any]) -> dict[str, Any]:
    """The DescribeStateMachine shape of a stored row."""
    out = {
        "stateMachineArn": row["arn"],
        "name": row["name"],
        "status": row["status"],
        "definition": row["definition"],
        "roleArn": row["role_arn"],
        "type": row["type"],
        "creationDate": row["created_at"],
        "loggingConfiguration": codec.loads(row["logging_configuration"] or "{}")
        or _DEFAULT_LOGGING,
        "tracingConfiguration": codec.loads(row["tracing_configuration"] or "{}")
        or _DEFAULT_TRACING,
    }
    if row.get("updated_at"):
        out["revisionId"] = row["revision_uuid"]
    return out


def included_data(request: dict[str, Any]) -> str:
    """``includedData`` of Describe* calls: ALL_DATA (the default) or METADATA_ONLY."""
    return constraints.choice(request, "includedData", ("ALL_DATA", "METADATA_ONLY")) or "ALL_DATA"


def describe_state_machine(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachine, of the state machine or of one of its versions;
    ``includedData=METADATA_ONLY`` leaves out the definition."""
    arn = require(request, "stateMachineArn")
    base, qualifier = arns.split_qualifier(arn)
    metadata_only = included_data(request) == "METADATA_ONLY"
    described = _describe(ctx, arn, base, qualifier)
    if metadata_only:
        described.pop("definition", None)
    return described


def _describe(ctx: ServiceContext, arn: str, base: str, qualifier: str | None) -> dict[str, Any]:
    if qualifier is None:
        return ctx.store.read(lambda tx: describe_row(get_state_machine(tx, arn)))
    if not qualifier.isdigit():
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'")

    def work(tx: Any) -> dict[str, Any]:
        machine, version = tx.state_machines.get(base), tx.versions.get(arn)
        if machine is None or version is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        out = describe_row({**machine, **version, "arn": arn, "updated_at": None})
        out["revisionId"] = version["revision_uuid"]
        if version["description"] is not None:
            out["description"] = version["description"]
        return out

    return ctx.store.read(work)


def update_state_machine(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateStateMachine: a new revision; running executions keep their definition."""
    arn = unqualified(require(request, "stateMachineArn"))
    definition = request.get("definition")
    role_arn = request.get("roleArn")
    logging = constraints.logging_configuration(request.get("loggingConfiguration"))
    tracing = constraints.tracing_configuration(request.get("tracingConfiguration"))
    if definition is None and role_arn is None and logging is None and tracing is None:
        raise constraints.MissingRequiredParameter(
            "Either the definition, the roleArn, the loggingConfiguration or the "
            "tracingConfiguration must be specified"
        )
    if role_arn is not None:
        constraints.role_arn(role_arn)
    if definition is not None:
        check_definition(definition)
    description = version_description(request)
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        row = get_state_machine(tx, arn)
        revision_uuid = str(uuid.uuid4())
        revision = tx.state_machines.add_revision(
            arn,
            revision_uuid,
            definition if definition is not None else row["definition"],
            role_arn or row["role_arn"],
            now,
        )
        values: dict[str, Any] = {"revision_id": revision, "updated_at": now}
        if role_arn:
            values["role_arn"] = role_arn
        if logging is not None:
            values["logging_configuration"] = codec.dumps(logging)
        if tracing is not None:
            values["tracing_configuration"] = codec.dumps(tracing)
        tx.state_machines.update(arn, **values)
        out = {"updateDate": now, "revisionId": revision_uuid}
        return _answer(tx, request, out, {"arn": arn, "revision_id": revision}, description, now)

    result = ctx.store.run(work)
    ctx.machine_cache.forget(arn)
    return result


def delete_state_machine(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachine, with its versions and aliases; succeeds for an unknown ARN too, as
    AWS does."""
    arn = unqualified(require(request, "stateMachineArn"))

    def work(tx: Any) -> dict[str, Any]:
        tx.state_machines.delete(arn)
        tx.versions.drop_all(arn)
        tx.tags.drop(arn)
        tx.status_notifications.drop_machine(arn)
        return {}

    result = ctx.store.run(work)
    ctx.machine_cache.forget(arn)
    return result


def list_state_machines(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachines, oldest first, paginated."""
    limit = page_size(request.get("maxResults"))
    after = decode_token("sm", request.get("nextToken")) or 0

    def work(tx: Any) -> dict[str, Any]:
        rows = tx.state_machines.page(after, limit + 1)
        return listing(
            "stateMachines",
            rows,
            limit,
            "sm",
            "id",
            lambda r: {
                "stateMachineArn": r["arn"],
                "name": r["name"],
                "type": r["type"],
                "creationDate": r["created_at"],
            },
        )

    return ctx.store.read(work)


def validate_state_machine_definition(request: dict[str, Any]) -> dict[str, Any]:
    """ValidateStateMachineDefinition: diagnostics instead of an error."""
    definition = require(request, "definition")
    if not isinstance(definition, str) or len(definition.encode()) > MAX_DEFINITION_BYTES:
        raise constraints.invalid(
            "definition", f"Member must have length less than or equal to {MAX_DEFINITION_BYTES}"
        )
    constraints.choice(request, "type", ("STANDARD", "EXPRESS"))
    # AWS: severity is the minimum level returned, ERROR by default (warnings left out);
    # maxResults 0 or absent means 100, and ``truncated`` says whether more were found.
    severity = constraints.choice(request, "severity", ("ERROR", "WARNING")) or "ERROR"
    limit = constraints.number(request, "maxResults", 0, 100) or 100
    found = parser.validate_definition(definition)
    errors = [d for d in found if d.severity == "ERROR"]
    shown = found if severity == "WARNING" else errors
    diagnostics = shown[:limit]
    return {
        "result": "FAIL" if errors else "OK",
        "diagnostics": [
            {
                k: v
                for k, v in {
                    "severity": d.severity,
                    "code": d.code,
                    "message": d.message,
                    "location": d.location,
                }.items()
                if v is not None
            }
            for d in diagnostics
        ],
        "truncated": len(shown) > limit,
    }
