"""REST endpoints task workers use: long-poll for activity and function tasks, answer them.

The worker SDK (workers/sdk.py) speaks this; activity answers are also accepted on the AWS wire
(SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from api.threads import in_thread
from engine import codec
from engine.errors import ServiceError
from engine.services import tasks
from engine.services.context import ServiceContext

MAX_POLL_SECONDS = 60.0
CROSS_NODE_RECHECK_SECONDS = 1.0
_STATUS = {"not_found": 404, "conflict": 409, "limit": 429}


def problem(status: int, code: str, detail: str) -> Response:
    """An RFC 9457 problem response."""
    body = {
        "type": f"https://stepwell.dev/errors/{code}",
        "title": code,
        "status": status,
        "detail": detail,
    }
    return Response(orjson.dumps(body), status_code=status, media_type="application/problem+json")


def error_response(err: ServiceError) -> Response:
    """The problem response for an engine error."""
    return problem(_STATUS.get(err.kind, 400), err.code, err.message)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body (``{}`` when empty); InvalidRequest otherwise."""
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ServiceError("The request body is not valid JSON.", "InvalidRequest") from exc
    if not isinstance(body, dict):
        raise ServiceError("The request body must be a JSON object.", "InvalidRequest")
    return body


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ServiceError(f"'{key}' must be a list of strings.", "InvalidRequest")
    return value


def router(ctx: ServiceContext) -> APIRouter:
    """The /v1/tasks routes."""
    api = APIRouter(prefix="/v1/tasks", tags=["task workers"])

    @api.post("/poll", summary="Wait for a task of these activities or functions")
    async def poll(request: Request) -> Response:
        try:
            body = await json_body(request)
            worker = str(body.get("workerName") or "")
            activities, functions = _strings(body, "activities"), _strings(body, "functions")
            wait = float(body.get("waitSeconds", 20))
            if not 0 <= wait <= MAX_POLL_SECONDS:
                raise ServiceError("waitSeconds must be between 0 and 60.", "InvalidRequest")
            keys = [f"activity:{a}" for a in activities] + [f"function:{f}" for f in functions]
            deadline = time.monotonic() + wait
            signals = tasks.signals(ctx)
            with signals.listening(keys) as woken:
                while True:
                    if await request.is_disconnected():
                        # Nobody would receive a task claimed now; leave it for a live poll.
                        return Response(status_code=204)
                    task = await in_thread(tasks.poll, ctx, worker, activities, functions)
                    if task is not None:
                        return Response(orjson.dumps(task), media_type="application/json")
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not keys:
                        return Response(status_code=204)
                    handed = await ctx.handoffs.next_task(
                        keys, worker, woken, min(remaining, CROSS_NODE_RECHECK_SECONDS)
                    )
                    if handed is not None:
                        return Response(orjson.dumps(handed), media_type="application/json")
        except ServiceError as err:
            return error_response(err)
        except (TypeError, ValueError) as err:
            return problem(400, "InvalidRequest", str(err))

    async def answer(request: Request, action: Any) -> Response:
        try:
            body = await json_body(request)
            await in_thread(action, body)
        except ServiceError as err:
            return error_response(err)
        return Response(status_code=204)

    @api.post("/complete", status_code=204, summary="Answer a function task (body or error)")
    async def complete(request: Request) -> Response:
        return await answer(request, lambda body: tasks.complete_function(ctx, body))

    @api.post("/success", status_code=204, summary="Answer a task with its output")
    async def success(request: Request) -> Response:
        def act(body: dict[str, Any]) -> None:
            output = body.get("output")
            tasks.send_task_success(
                ctx, {"taskToken": body.get("taskToken"), "output": codec.dumps(output)}
            )

        return await answer(request, act)

    @api.post("/failure", status_code=204, summary="Fail a task with an error and cause")
    async def failure(request: Request) -> Response:
        return await answer(request, lambda body: tasks.send_task_failure(ctx, body))

    @api.post("/heartbeat", status_code=204, summary="Report that a task is still alive")
    async def heartbeat(request: Request) -> Response:
        return await answer(request, lambda body: tasks.send_task_heartbeat(ctx, body))

    return api
