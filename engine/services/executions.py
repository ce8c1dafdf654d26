"""Execution use cases: Start, Describe, List, Stop, GetExecutionHistory."""

from __future__ import annotations

import uuid
from typing import Any

from engine import codec
from engine.asl.interpreter import ABORT_REQUEST
from engine.asl.jsonvalue import MAX_PAYLOAD_BYTES
from engine.errors import (
    AlreadyExists,
    InvalidExecutionInput,
    NotFound,
    ServiceError,
    ValidationError,
)
from engine.history.events import TERMINAL_TYPES, EventFields, HistoryEvent
from engine.services import arns, constraints, versions
from engine.services.context import ServiceContext
from engine.services.pagination import decode_token, listing, page_size
from engine.services.state_machines import (
    StateMachineTypeNotSupported,
    get_state_machine,
    included_data,
    machine_for_start,
    require,
)
from engine.services.tags import ResourceNotFound

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


class ExecutionDoesNotExist(NotFound):
    """AWS: ExecutionDoesNotExist."""

    code = "ExecutionDoesNotExist"


class ExecutionAlreadyExists(AlreadyExists):
    """AWS: ExecutionAlreadyExists."""

    code = "ExecutionAlreadyExists"


def parse_input(text: Any) -> Any:
    """Execution input: JSON text of at most 256 KiB."""
    if text is None:
        text = "{}"
    if not isinstance(text, str):
        raise InvalidExecutionInput("Invalid State Machine Execution Input: input must be a string")
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValidationError(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
        )
    try:
        return codec.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from exc


def start_execution(
    ctx: ServiceContext, request: dict[str, Any], sync: bool = False
) -> dict[str, Any]:
    """StartExecution: writes the execution, its ExecutionStarted event and the runnable mark
    in one transaction; idempotent for a running execution with the same name and input.
    ``sync`` (StartSyncExecution) requires an Express state machine."""
    # Concurrent starts share one commit (group commit); each answers only after it.
    result = _answer(ctx.store.run_grouped(_start_work(ctx, request, sync)))
    ctx.waker.wake()
    return result


async def start_execution_async(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """StartExecution from the event loop: checked there, written by the group-commit thread."""
    result = _answer(await ctx.store.submit_grouped(_start_work(ctx, request, False)))
    ctx.waker.wake()
    return result


class _Refused:
    """A start refused before it wrote anything (no such state machine, a name taken by
    another execution). Returned rather than raised inside the unit of work, so the other
    starts of its group still commit together: a unit that raises rolls its whole group back,
    and each of them is then run again alone (engine.store.group_commit)."""

    __slots__ = ("error",)

    def __init__(self, error: ServiceError) -> None:
        self.error = error


def _answer(result: Any) -> dict[str, Any]:
    if isinstance(result, _Refused):
        raise result.error
    return dict(result)


def _start_work(ctx: ServiceContext, request: dict[str, Any], sync: bool) -> Any:
    """Check a start request; the unit of work that writes it."""
    sm_arn = require(request, "stateMachineArn")
    qualified = arns.split_qualifier(sm_arn)[1] is not None
    name = request.get("name")
    if name is None:  # absent: a generated name; an empty one is refused like any bad name
        name = str(uuid.uuid4())
    arns.check_name(name)
    input_text: str = request["input"] if request.get("input") is not None else "{}"
    value = parse_input(input_text)
    now = ctx.clock.now()
    trace_header = request.get("traceHeader")
    if trace_header is not None and (
        not isinstance(trace_header, str) or len(trace_header) > 256 or not trace_header.isascii()
    ):
        raise ValidationError(
            "1 validation error detected: Value at 'traceHeader' failed to satisfy constraint: "
            "Member must be ASCII text of at most 256 characters"
        )

    def work(tx: Any) -> dict[str, Any] | _Refused:
        try:
            return start(tx)
        except ServiceError as err:  # nothing written yet: see _Refused
            return _Refused(err)

    def start(tx: Any) -> dict[str, Any]:
        # A version or an alias: its row changes with every publish and alias update, and an
        # alias chooses a version per start, so it is read each time.
        if qualified:
            machine = versions.resolve_or_raise(tx, sm_arn)
        else:
            machine = machine_for_start(ctx, tx, sm_arn)
        if sync and machine["type"] != "EXPRESS":
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine"
            )
        arn = arns.execution_arn(machine["arn"], name, express=machine["type"] == "EXPRESS")
        if insert_execution(tx, machine, arn, name, input_text, value, now, trace_header):
            return {"executionArn": arn, "startDate": now}
        existing = tx.executions.get(arn)
        if existing["status"] == "RUNNING" and existing["input"] == input_text:
            return {"executionArn": arn, "startDate": existing["start_date"]}
        raise ExecutionAlreadyExists(f"Execution Already Exists: '{arn}'")

    return work


def insert_execution(
    tx: Any,
    machine: dict[str, Any],
    arn: str,
    name: str,
    input_text: str,
    value: Any,
    now: float,
    trace_header: str | None = None,
    parent: tuple[int, int, str] | None = None,
) -> int | None:
    """Write a new execution, its ExecutionStarted event and its runnable mark; None (and
    nothing written) when an execution with this ARN exists."""
    row: dict[str, Any] = {
        "arn": arn,
        "state_machine_arn": machine["arn"],
        "revision_id": machine["revision_id"],
        "name": name,
        "status": "RUNNING",
        "input": input_text,
        "start_date": now,
        "trace_header": trace_header,
        "runnable": 1,
        "event_count": 1,
    }
    if parent is not None:
        row.update(parent_id=parent[0], parent_request_seq=parent[1], parent_pattern=parent[2])
    details = {
        "input": codec.dumps(value),
        "inputDetails": {"truncated": False},
        "roleArn": machine["role_arn"],
    }
    # Started through an alias or a version (engine.services.versions.resolve).
    if machine.get("alias_arn"):
        row["alias_arn"] = details["stateMachineAliasArn"] = machine["alias_arn"]
    if machine.get("version_arn"):
        row["version_arn"] = details["stateMachineVersionArn"] = machine["version_arn"]
    execution_id = tx.executions.insert_new(row)
    if execution_id is None:
        return None
    started = HistoryEvent(1, 0, "ExecutionStarted", now, details)
    tx.executions.append_events(execution_id, [event_row(started)])
    return execution_id


TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def sync_result(ctx: ServiceContext, arn: str) -> dict[str, Any] | None:
    """The StartSyncExecution answer once the execution has ended, else None."""
    described = describe_execution(ctx, {"executionArn": arn})
    if described["status"] not in TERMINAL:
        return None
    out = {k: v for k, v in described.items() if k not in ("redriveCount", "traceHeader")}
    out["billingDetails"] = {
        "billedMemoryUsedInMB": 64,
        "billedDurationInMilliseconds": max(
            100, int((described.get("stopDate", 0) - described["startDate"]) * 1000)
        ),
    }
    if out["status"] == "ABORTED":
        out["status"] = "FAILED"
    return out


def event_row(event: EventFields) -> dict[str, Any]:
    """A history event as a ``history_events`` row."""
    return {
        "event_id": event.id,
        "previous_event_id": event.previous_event_id,
        "type": event.type,
        "timestamp": event.timestamp,
        "details": codec.dumps(event.details) if event.details is not None else None,
    }


def get_execution(tx: Any, arn: Any) -> dict[str, Any]:
    """The execution row or ExecutionDoesNotExist (InvalidArn for a malformed ARN)."""
    if arn is None:
        raise ValidationError(
            "1 validation error detected: Value null at 'executionArn' "
            "failed to satisfy constraint: Member must not be null"
        )
    arns.parse(arn, "execution")
    row = tx.executions.get(arn)
    if row is None:
        raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
    return row


def describe_row(row: dict[str, Any]) -> dict[str, Any]:
    """The DescribeExecution shape of a stored row."""
    out: dict[str, Any] = {
        "executionArn": row["arn"],
        "stateMachineArn": row["state_machine_arn"],
        "name": row["name"],
        "status": row["status"],
        "startDate": row["start_date"],
        "input": row["input"],
        "inputDetails": {"included": True},
        "redriveCount": row.get("redrive_count", 0),
    }
    if row["stop_date"] is not None:
        out["stopDate"] = row["stop_date"]
    if row["status"] == "SUCCEEDED":
        out["output"] = row["output"]
        out["outputDetails"] = {"included": True}
    if row["error"] is not None:
        out["error"] = row["error"]
    if row["cause"] is not None:
        out["cause"] = row["cause"]
    if row.get("trace_header"):
        out["traceHeader"] = row["trace_header"]
    if row.get("redrive_date") is not None:
        out["redriveDate"] = row["redrive_date"]
    _qualifiers(row, out)
    return out


def _qualifiers(row: dict[str, Any], out: dict[str, Any]) -> None:
    """The version and alias an execution was started through, if any."""
    if row.get("version_arn"):
        out["stateMachineVersionArn"] = row["version_arn"]
    if row.get("alias_arn"):
        out["stateMachineAliasArn"] = row["alias_arn"]


def describe_execution(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeExecution; ``includedData=METADATA_ONLY`` leaves out input and output."""
    metadata_only = included_data(request) == "METADATA_ONLY"

    def work(tx: Any) -> dict[str, Any]:
        row = get_execution(tx, request.get("executionArn"))
        out = describe_row(row)
        if metadata_only:
            for key in ("input", "inputDetails", "output", "outputDetails"):
                out.pop(key, None)
        reason = _not_redrivable(tx, row)
        if reason is None:
            out["redriveStatus"] = "REDRIVABLE"
        else:
            out["redriveStatus"] = "NOT_REDRIVABLE"
            if row["status"] != "RUNNING":
                out["redriveStatusReason"] = reason
        return out

    return ctx.store.read(work)


def describe_state_machine_for_execution(
    ctx: ServiceContext, request: dict[str, Any]
) -> dict[str, Any]:
    """DescribeStateMachineForExecution: the definition the execution runs
    (``includedData=METADATA_ONLY`` leaves it out)."""
    metadata_only = included_data(request) == "METADATA_ONLY"

    def work(tx: Any) -> dict[str, Any]:
        row = get_execution(tx, request.get("executionArn"))
        revision = tx.state_machines.revision(row["revision_id"])
        machine = tx.state_machines.get(row["state_machine_arn"])
        out = {
            "stateMachineArn": row["state_machine_arn"],
            "name": row["state_machine_arn"].rsplit(":", 1)[1],
            "definition": revision["definition"],
            "roleArn": revision["role_arn"],
            "updateDate": revision["created_at"],
            "revisionId": revision["revision_uuid"],
            "loggingConfiguration": codec.loads(machine["logging_configuration"])
            if machine
            else {"level": "OFF", "includeExecutionData": False},
            "tracingConfiguration": codec.loads(machine["tracing_configuration"])
            if machine
            else {"enabled": False},
        }
        if metadata_only:
            out.pop("definition")
        return out

    return ctx.store.read(work)


def list_executions(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions: newest first, by status, paginated."""
    sm_arn = request.get("stateMachineArn")
    if sm_arn is None:
        raise ValidationError("Must provide a StateMachine ARN or MapRun ARN")
    arns.parse(sm_arn, "stateMachine")
    status = request.get("statusFilter")
    if status is not None and status not in STATUSES:
        raise ValidationError(
            f"1 validation error detected: Value '{status}' at 'statusFilter' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(STATUSES)}]"
        )
    redrive = request.get("redriveFilter")
    if redrive is not None and redrive not in ("REDRIVEN", "NOT_REDRIVEN"):
        raise ValidationError(
            f"1 validation error detected: Value '{redrive}' at 'redriveFilter' failed to "
            "satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]"
        )
    limit = page_size(request.get("maxResults"))
    before = decode_token("ex", request.get("nextToken"))

    base, qualifier = arns.split_qualifier(sm_arn)

    def work(tx: Any) -> dict[str, Any]:
        get_state_machine(tx, base)
        through: dict[str, str] = {}
        if qualifier is not None:  # executions started through this version or alias
            found = tx.versions.get(sm_arn) if qualifier.isdigit() else tx.versions.alias(sm_arn)
            if found is None:
                raise ResourceNotFound(f"Resource not found: '{sm_arn}'")
            through = {"version_arn" if qualifier.isdigit() else "alias_arn": sm_arn}
        redriven = None if redrive is None else redrive == "REDRIVEN"
        rows = tx.executions.page(base, status, before, limit + 1, redriven=redriven, **through)
        return listing("executions", rows, limit, "ex", "id", _summary)

    return ctx.store.read(work)


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "executionArn": row["arn"],
        "stateMachineArn": row["state_machine_arn"],
        "name": row["name"],
        "status": row["status"],
        "startDate": row["start_date"],
    }
    if row["stop_date"] is not None:
        out["stopDate"] = row["stop_date"]
    if row.get("redrive_count"):
        out["redriveCount"] = row["redrive_count"]
        out["redriveDate"] = row["redrive_date"]
    _qualifiers(row, out)
    return out


def stop_execution(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """StopExecution: ABORTED with an ExecutionAborted event; a no-op once it has ended."""
    error, cause = (
        constraints.text(request, "error", 256),
        constraints.text(request, "cause", 32768),
    )
    now = ctx.clock.now()
    wake: list[str] = []

    def work(tx: Any) -> dict[str, Any]:
        wake.clear()
        row = get_execution(tx, request.get("executionArn"))
        if row["status"] != "RUNNING":
            return {"stopDate": row["stop_date"] or now}
        if not abort(tx, row, now, error, cause, wake):
            raise ConcurrentChange()
        return {"stopDate": now}

    for _ in range(20):
        try:
            stopped = ctx.store.run(work)
        except ConcurrentChange:
            continue
        if wake:  # queues the status notifications reached
            from engine.services.tasks import signals

            for key in wake:
                signals(ctx).notify(key)
        return dict(stopped)
    raise ConcurrentChange()


def abort(
    tx: Any,
    row: dict[str, Any],
    now: float,
    error: str | None = None,
    cause: str | None = None,
    wake: list[str] | None = None,
) -> bool:
    """End a running execution as ABORTED with an ExecutionAborted event, answer its parent,
    and abort its running children. False if its history moved on meanwhile.

    The abort is also recorded as the answer to the interpreter's ``ABORT_REQUEST``, after
    the answers a decision already applied (later ones are dropped: the abort wins), so that
    replay rebuilds the aborted execution, which then waits for RedriveExecution like a
    failed one."""
    from engine.services import nested

    count = row["event_count"]
    details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
    ended_events: list[HistoryEvent] = []
    if _redrive_pending(tx, row):
        # RedriveExecution reopened it and no decision has applied the redrive yet: the
        # redrive happened, and the abort stops it before it reruns anything.
        redriven_at = row.get("redrive_date") or now
        redriven = {"redriveCount": row["redrive_count"]}
        ended_events.append(
            HistoryEvent(count + 1, count, "ExecutionRedriven", redriven_at, redriven)
        )
    last = count + len(ended_events)
    ended_events.append(HistoryEvent(last + 1, last, "ExecutionAborted", now, details))
    ended = tx.executions.set_terminal(
        row["id"],
        count,
        {
            "status": "ABORTED",
            "stop_date": now,
            "error": error,
            "cause": cause,
            "event_count": last + 1,
            "runnable": 0,
            "lease_owner": None,
            "lease_expires": None,
        },
    )
    if not ended:
        return False
    tx.runtime.end_with(row["id"], ABORT_REQUEST, codec.dumps(details), now)
    tx.executions.append_events(row["id"], [event_row(e) for e in ended_events])
    tx.runtime.drop_timers(row["id"])
    tx.tasks.close_for_execution(row["id"])
    tx.map_runs.aborted(row["id"], now)
    from engine.services import status_notifications

    aborted = {**row, "status": "ABORTED", "stop_date": now, "error": error, "cause": cause}
    nested.execution_ended(tx, aborted, now)
    # Status notifications; the queues they reach are woken by the caller after the commit
    # when it passes ``wake`` (else their receivers find the messages on their next re-check).
    keys = status_notifications.executions_ended(tx, [aborted])
    if wake is not None:
        wake.extend(keys)
    for child in tx.executions.running_children(row["id"]):
        abort(tx, child, now, wake=wake)
    return True


def _redrive_pending(tx: Any, row: dict[str, Any]) -> bool:
    """Whether a running execution's history still ends with its previous end: a redrive
    was requested and no decision has applied it yet."""
    if not row.get("redrive_count"):
        return False
    last = tx.executions.events(row["id"], after_id=row["event_count"] - 1, limit=1)
    return bool(last) and last[0]["type"] in TERMINAL_TYPES


class ConcurrentChange(Exception):
    """A decider appended to the history between our read and our write; try again."""


def get_execution_history(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """GetExecutionHistory: pages of events, oldest first unless reverseOrder."""
    limit = page_size(request.get("maxResults"))
    reverse = bool(request.get("reverseOrder"))
    include_data = request.get("includeExecutionData", True) is not False
    position = decode_token("h", request.get("nextToken"))

    def work(tx: Any) -> dict[str, Any]:
        row = get_execution(tx, request.get("executionArn"))
        if reverse:
            rows = tx.executions.events(
                row["id"], before_id=position, limit=limit + 1, reverse=True
            )
        else:
            rows = tx.executions.events(row["id"], after_id=position or 0, limit=limit + 1)
        return listing(
            "events", rows, limit, "h", "event_id", lambda r: history_shape(r, include_data)
        )

    return ctx.store.read(work)


_DATA_FIELDS = ("input", "output")


def history_shape(row: dict[str, Any], include_data: bool = True) -> dict[str, Any]:
    """A stored event as the HistoryEvent wire shape."""
    details = codec.loads(row["details"]) if row["details"] else None
    if details is not None and not include_data:
        details = {k: v for k, v in details.items() if k not in _DATA_FIELDS}
    return HistoryEvent(
        row["event_id"], row["previous_event_id"], row["type"], row["timestamp"], details
    ).to_aws()


class ExecutionNotRedrivable(ServiceError):
    """AWS: ExecutionNotRedrivable."""

    code = "ExecutionNotRedrivable"


def _not_redrivable(tx: Any, row: dict[str, Any]) -> str | None:
    """Why RedriveExecution would refuse the execution, or None if it would not (as far as
    the row tells: a failure outside any state is found by replay)."""
    if ":express:" in row["arn"]:
        return "Execution is of an EXPRESS state machine and cannot be redriven"
    if row["status"] in ("FAILED", "TIMED_OUT"):
        return None
    if row["status"] == "ABORTED":
        if tx.runtime.last_request_answered(row["id"]) == ABORT_REQUEST:
            return None
        return _ABORTED_UNRECORDED
    return f"Execution is {row['status']} and cannot be redriven"


# Executions stopped by an earlier Stepwell recorded only their ExecutionAborted event, not
# where they stopped, so there is nothing to go on from.
_ABORTED_UNRECORDED = (
    "Execution was aborted by an earlier version of Stepwell, which did not record where it "
    "stopped, and cannot be redriven"
)


def redrive_execution(ctx: ServiceContext, request: dict[str, Any]) -> dict[str, Any]:
    """RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution goes on from the state that
    failed or was stopped; Map iterations and Parallel branches that had succeeded keep their
    results (AWS: "RedriveExecution restarts unsuccessful executions of Standard workflows
    ... failed, aborted, or timed out executions")."""
    from engine.services import runtime

    def check(tx: Any) -> dict[str, Any]:
        row = get_execution(tx, request.get("executionArn"))
        reason = _not_redrivable(tx, row)
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        return row

    row = ctx.store.run(check)
    seq = runtime.redrive_request(ctx, row["id"])
    if seq is None:
        raise ExecutionNotRedrivable("Execution cannot be redriven: it did not fail in a state")
    now = ctx.clock.now()

    def work(tx: Any) -> dict[str, Any]:
        current = tx.executions.get_by_id(row["id"])
        if current["status"] != row["status"] or current["event_count"] != row["event_count"]:
            raise ExecutionNotRedrivable("Execution is already being redriven")
        tx.executions.reopen(row["id"], now)
        tx.runtime.resolve(row["id"], seq, None, now)
        return {"redriveDate": now}

    result = ctx.store.run(work)
    ctx.waker.wake()
    return result
