"""Native REST API under /v1: state machines and executions as resources.

Each route calls one ``engine.services`` verb in the thread pool (they block on SQL) and
returns its AWS-shaped dict. Errors become RFC 9457 problem documents; the mapping from an
engine error's ``kind`` to an HTTP status is the one table below. Request-validation errors are
caught by the route class itself, so the app needs no extra exception handler.

ARNs go in the path as they are (``/v1/executions/arn:aws:states:...:execution:sm:run``): the
default path converter accepts ``:`` and ARNs never contain ``/``; percent-encoding works too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from api.http import schemas
from api.threads import in_thread
from engine import codec
from engine.errors import ServiceError
from engine.services import executions, state_machines, status_notifications
from engine.services.context import ServiceContext

log = logging.getLogger("stepwell.rest")

PROBLEM_TYPE = "https://stepwell.dev/errors/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# Engine error kind -> HTTP status: the REST adapter's one error table.
STATUS_OF_KIND = {"invalid": 400, "not_found": 404, "conflict": 409, "limit": 429, "internal": 500}

_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PROBLEM_DESCRIPTIONS: dict[int | str, str] = {
    400: "Invalid request: a malformed body or parameter, a bad ARN, definition or input",
    404: "No such resource",
    409: "Conflicts with an existing resource",
    429: "A quota would be passed",
    "default": "Any other error",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that answers these error statuses."""
    # Declaring "default" also keeps FastAPI from documenting a 422 that never happens.
    keys: tuple[int | str, ...] = (*statuses, "default")
    return {
        status: {
            "model": schemas.Problem,
            "description": _PROBLEM_DESCRIPTIONS[status] + " (RFC 9457 problem JSON)",
            "content": _PROBLEM_CONTENT,
        }
        for status in keys
    }


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    """An RFC 9457 problem response whose title is the AWS error code."""
    body = {"type": PROBLEM_TYPE + code, "title": code, "status": status, "detail": detail}
    body.update(extra)
    return Response(codec.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _validation_problem(exc: RequestValidationError) -> Response:
    errors = []
    for error in exc.errors():
        # Keep only JSON-safe members; ``input`` and ``ctx`` may hold arbitrary objects.
        loc = [str(part) for part in error.get("loc", ())]
        errors.append({"loc": loc, "msg": str(error.get("msg", "")), "type": error.get("type")})
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "Invalid request"
    return problem(400, "ValidationException", detail, errors=errors)


class ProblemRoute(APIRoute):
    """A route that answers engine errors and request-validation errors as problem JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler so errors raised while parsing or running become problems."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _validation_problem(exc)
            except ServiceError as exc:
                return problem(STATUS_OF_KIND.get(exc.kind, 400), exc.code, exc.message)
            except executions.ConcurrentChange:
                return problem(409, "ConcurrentModification", "The execution changed; retry.")
            except (TypeError, KeyError, AttributeError, ValueError) as exc:
                # A value of a shape no validator caught: still the caller's error, never a 500.
                log.warning("malformed REST request %s %s: %r", request.method, request.url, exc)
                return problem(400, "ValidationException", f"Invalid request: {exc}")

        return route


def json_response(value: Any, status: int = 200, location: str | None = None) -> Response:
    """A JSON answer, with a Location header for a created resource."""
    headers = {"Location": location} if location else None
    return Response(
        codec.dumps(value), status_code=status, media_type="application/json", headers=headers
    )


def _definition_text(definition: dict[str, Any] | str) -> str:
    return definition if isinstance(definition, str) else codec.dumps(definition)


def _input_text(body: schemas.StartExecution) -> str | None:
    if body.input is None or isinstance(body.input, str):
        return body.input
    return codec.dumps(body.input)


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    """A service request without its absent members."""
    return {k: v for k, v in values.items() if v is not None}


def router(ctx: ServiceContext) -> APIRouter:
    """The /v1 routes over the engine context ``ctx``."""
    api = APIRouter(prefix="/v1", route_class=ProblemRoute)
    region = ctx.settings.default_region
    default_role = f"arn:aws:iam::{ctx.account}:role/stepwell"

    async def call(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        return await in_thread(fn, ctx, *args)

    async def describe_machine(arn: str) -> dict[str, Any]:
        return await call(state_machines.describe_state_machine, {"stateMachineArn": arn})

    async def describe_execution(arn: str) -> dict[str, Any]:
        return await call(executions.describe_execution, {"executionArn": arn})

    # -- state machines -------------------------------------------------------------------------

    @api.post(
        "/state-machines",
        summary="Create a state machine",
        description="Idempotent when every parameter matches an existing state machine; "
        "409 when the name is taken with a different definition, role or type.",
        tags=["state machines"],
        status_code=201,
        response_model=schemas.StateMachine,
        responses=problems(400, 409),
    )
    async def create_state_machine(body: schemas.CreateStateMachine) -> Response:
        request = drop_none(
            {
                "name": body.name,
                "definition": _definition_text(body.definition),
                "roleArn": body.roleArn or default_role,
                "type": body.type,
            }
        )
        created = await in_thread(state_machines.create_state_machine, ctx, region, request)
        arn = created["stateMachineArn"]
        return json_response(
            await describe_machine(arn), 201, f"/v1/state-machines/{quote(arn, ':')}"
        )

    @api.get(
        "/state-machines",
        summary="List state machines",
        description="Oldest first. Pass the returned nextToken to get the next page.",
        tags=["state machines"],
        response_model=schemas.StateMachineList,
        responses=problems(400),
    )
    async def list_state_machines(
        maxResults: int | None = Query(None, description="Page size, 1-1000 (default 100)."),
        nextToken: str | None = Query(None, description="From the previous page."),
    ) -> Response:
        request = drop_none({"maxResults": maxResults, "nextToken": nextToken})
        return json_response(await call(state_machines.list_state_machines, request))

    @api.get(
        "/state-machines/{arn}",
        summary="Describe a state machine",
        tags=["state machines"],
        response_model=schemas.StateMachine,
        responses=problems(400, 404),
    )
    async def get_state_machine(arn: str) -> Response:
        return json_response(await describe_machine(arn))

    @api.patch(
        "/state-machines/{arn}",
        summary="Update a state machine",
        description="A new revision; running executions keep the definition they started with.",
        tags=["state machines"],
        response_model=schemas.StateMachine,
        responses=problems(400, 404),
    )
    async def update_state_machine(arn: str, body: schemas.UpdateStateMachine) -> Response:
        request: dict[str, Any] = {"stateMachineArn": arn, "roleArn": body.roleArn}
        if body.definition is not None:
            request["definition"] = _definition_text(body.definition)
        await call(state_machines.update_state_machine, drop_none(request))
        return json_response(await describe_machine(arn))

    @api.delete(
        "/state-machines/{arn}",
        summary="Delete a state machine",
        description="204 also when it does not exist (deleting is idempotent, as on AWS).",
        tags=["state machines"],
        status_code=204,
        response_class=Response,
        responses=problems(400),
    )
    async def delete_state_machine(arn: str) -> Response:
        await call(state_machines.delete_state_machine, {"stateMachineArn": arn})
        return Response(status_code=204)

    @api.get(
        "/state-machines/{arn}/notifications",
        summary="Get status notifications",
        description="The SNS topics each ended execution of the state machine is published to.",
        tags=["state machines"],
        response_model=schemas.StatusNotifications,
        responses=problems(400, 404),
    )
    async def get_notifications(arn: str) -> Response:
        request = {"stateMachineArn": arn}
        return json_response(await call(status_notifications.get_status_notifications, request))

    @api.put(
        "/state-machines/{arn}/notifications",
        summary="Set status notifications",
        description="Each execution that ends (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) is "
        "published to these SNS topics, in the transaction that ends it, as the 'Step Functions "
        "Execution Status Change' event EventBridge carries on AWS, with the message attributes "
        "status, stateMachineArn and executionArn for subscription filter policies. The list "
        "replaces the previous one.",
        tags=["state machines"],
        response_model=schemas.StatusNotifications,
        responses=problems(400, 404),
    )
    async def put_notifications(arn: str, body: schemas.StatusNotificationsRequest) -> Response:
        request = {"stateMachineArn": arn, "topicArns": body.topicArns}
        return json_response(await call(status_notifications.put_status_notifications, request))

    # -- executions -----------------------------------------------------------------------------

    @api.post(
        "/state-machines/{arn}/executions",
        summary="Start an execution",
        description="Idempotent for a running execution with the same name and input. "
        "``arn`` may name a version (``...:stateMachine:NAME:3``), which runs that version's "
        "definition, or an alias (``...:stateMachine:NAME:prod``), which runs one of the "
        "versions it routes to, chosen by weight; the execution names both.",
        tags=["executions"],
        status_code=201,
        response_model=schemas.Execution,
        responses=problems(400, 404, 409),
    )
    async def start_execution(arn: str, body: schemas.StartExecution | None = None) -> Response:
        body = body or schemas.StartExecution()
        request = drop_none({"stateMachineArn": arn, "name": body.name, "input": _input_text(body)})
        started = await call(executions.start_execution, request)
        execution_arn = started["executionArn"]
        return json_response(
            await describe_execution(execution_arn),
            201,
            f"/v1/executions/{quote(execution_arn, ':')}",
        )

    @api.get(
        "/state-machines/{arn}/executions",
        summary="List the executions of a state machine",
        description="Newest first, optionally only those with one status. Given a version or "
        "alias ARN, only the executions started through it.",
        tags=["executions"],
        response_model=schemas.ExecutionList,
        responses=problems(400, 404),
    )
    async def list_executions(
        arn: str,
        status: str | None = Query(
            None, description="RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE."
        ),
        maxResults: int | None = Query(None, description="Page size, 1-1000 (default 100)."),
        nextToken: str | None = Query(None, description="From the previous page."),
    ) -> Response:
        request = drop_none(
            {
                "stateMachineArn": arn,
                "statusFilter": status,
                "maxResults": maxResults,
                "nextToken": nextToken,
            }
        )
        return json_response(await call(executions.list_executions, request))

    @api.get(
        "/executions/{arn}",
        summary="Describe an execution",
        tags=["executions"],
        response_model=schemas.Execution,
        responses=problems(400, 404),
    )
    async def get_execution(arn: str) -> Response:
        return json_response(await describe_execution(arn))

    @api.post(
        "/executions/{arn}/stop",
        summary="Stop an execution",
        description="Aborts a running execution; a no-op for one that has ended. Answers with "
        "the execution as it is afterwards.",
        tags=["executions"],
        response_model=schemas.Execution,
        responses=problems(400, 404),
    )
    async def stop_execution(arn: str, body: schemas.StopExecution | None = None) -> Response:
        body = body or schemas.StopExecution()
        request = drop_none({"executionArn": arn, "error": body.error, "cause": body.cause})
        await call(executions.stop_execution, request)
        return json_response(await describe_execution(arn))

    @api.get(
        "/executions/{arn}/history",
        summary="Get an execution's history",
        description="Events oldest first (newest first with reverseOrder), in pages.",
        tags=["executions"],
        response_model=schemas.History,
        responses=problems(400, 404),
    )
    async def get_history(
        arn: str,
        maxResults: int | None = Query(None, description="Page size, 1-1000 (default 100)."),
        nextToken: str | None = Query(None, description="From the previous page."),
        reverseOrder: bool = Query(False, description="Newest event first."),
    ) -> Response:
        request = drop_none(
            {
                "executionArn": arn,
                "maxResults": maxResults,
                "nextToken": nextToken,
                "reverseOrder": reverseOrder or None,
            }
        )
        return json_response(await call(executions.get_execution_history, request))

    return api
