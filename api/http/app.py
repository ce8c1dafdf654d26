"""The FastAPI application: the AWS wire protocols on ``POST /``, REST under ``/v1``,
and test-only controls under ``/_stepwell``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import FastAPI, Request, Response

from api.aws import kinesis, protocol, sns, sqs, states, sts
from api.threads import in_thread
from engine import bootstrap
from engine.errors import ServiceError
from engine.services.context import ServiceContext

log = logging.getLogger("stepwell.http")


def create_app(ctx: ServiceContext, loops: Any = None) -> StepwellApp:
    """Build the application over an engine context (and its loops, to wake timers)."""
    app = StepwellApp(
        title="Stepwell",
        description="AWS Step Functions you run yourself. The AWS wire protocols are served on "
        "POST / (use boto3 with endpoint_url=...); the native REST API is under /v1.",
        version="0.1.0",
    )
    app.state.ctx = ctx
    app.state.loops = loops

    async def aws_entry(request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        body = await request.body()
        region, service = protocol.signature_scope(request, ctx.settings.default_region)
        adapter = _json_adapter(target)
        if adapter is not None:
            operation = target[len(adapter.TARGET_PREFIX) :]
            return await _json_call(ctx, adapter, operation, region, body)
        if target.startswith(sqs.TARGET_PREFIX):
            operation = target[len(sqs.TARGET_PREFIX) :]
            return await sqs.handle_json(ctx, request, operation, region, body)
        content_type = request.headers.get("content-type", "")
        if "x-www-form-urlencoded" in content_type or not target:
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            action = form.get("Action")
            if action in sts.ACTIONS:
                return sts.handle(ctx, action, form)
            if sns.is_query_request(form, service):
                return await sns.handle_query(ctx, request, body, region)
            if sqs.is_query_request(form):
                return await sqs.handle_query(ctx, request, form, region)
            return protocol.query_error("InvalidAction", f"Unknown action: {action}")
        return protocol.json_error(
            "UnknownOperationException", f"Unknown target: {target}", states.CONTENT_TYPE
        )

    app.aws_entry = aws_entry

    @app.get("/_stepwell/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_stepwell/ping", include_in_schema=False)
    async def ping() -> Response:
        # An empty handler: the ceiling the HTTP stack allows (bench/).
        return Response(content=b"{}", media_type="application/json")

    @app.post("/_stepwell/reset", include_in_schema=False)
    async def reset() -> Response:
        if not ctx.settings.allow_reset:
            return _problem(
                403,
                "ResetDisabled",
                "Reset is disabled; start the server with STEPWELL_ALLOW_RESET=1 to enable it.",
            )
        await in_thread(bootstrap.reset, ctx)
        return Response(status_code=204)

    @app.post("/_stepwell/clock", include_in_schema=False)
    async def clock(request: Request) -> Response:
        if not ctx.settings.allow_reset:
            return _problem(
                403,
                "ClockDisabled",
                "Clock control is disabled; start the server "
                "with STEPWELL_ALLOW_RESET=1 to enable it.",
            )
        try:
            payload = orjson.loads(await request.body() or b"{}")
            seconds = float(payload.get("advance", 0))
        except (ValueError, TypeError, AttributeError):
            return _problem(400, "InvalidRequest", 'Body must be {"advance": seconds}.')
        offset = ctx.clock.advance(seconds)
        if loops is not None:
            loops.wake_timers()
        return Response(
            content=orjson.dumps({"offset": offset, "now": ctx.clock.now()}),
            media_type="application/json",
        )

    from api.http import queues, rest, versions, workers

    app.include_router(rest.router(ctx))
    app.include_router(versions.router(ctx))
    app.include_router(workers.router(ctx))
    app.include_router(queues.router(ctx))
    # Last: its /{account}/{queue} pattern must not shadow the routes above.
    app.include_router(sqs.router(ctx))
    return app


async def _json_call(
    ctx: ServiceContext, adapter: Any, operation: str, region: str, body: bytes
) -> Response:
    try:
        params = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return protocol.json_error(
            "SerializationException", "Request body is not valid JSON", adapter.CONTENT_TYPE
        )
    try:
        if not isinstance(params, dict):
            raise ServiceError("Request body must be a JSON object", "SerializationException")
        special = getattr(adapter, "ASYNC_OPERATIONS", {}).get(operation)
        if special is not None:
            result = await special(ctx, params)
        else:
            result = await in_thread(adapter.dispatch, ctx, operation, region, params)
    except ServiceError as err:
        return protocol.json_error(
            err.code, err.message, adapter.CONTENT_TYPE, protocol.status_of(err)
        )
    except (TypeError, KeyError, AttributeError, ValueError) as err:
        # A parameter of the wrong shape that no validator caught: still the caller's error.
        log.warning("malformed %s request: %r", operation, err)
        return protocol.json_error(
            "ValidationException", f"Invalid request: {err}", adapter.CONTENT_TYPE
        )
    return protocol.json_response(result, adapter.CONTENT_TYPE)


class StepwellApp(FastAPI):
    """The FastAPI application, with ``POST /`` handed straight to the AWS wire adapters.

    Every AWS call is ``POST /`` told apart by a header or a form field, so Starlette's
    middleware stack, route matching, FastAPI's request handling and its exception middleware
    do nothing for it but cost (some 30-40 us of server CPU per call here, bench/PROFILES.md).
    The adapters answer every caller's error in the protocol's own shape; a failure of the
    server itself (a database down past the retries, a bug) is answered as AWS does,
    ``InternalFailure`` with status 500, which SDKs retry, instead of a plain-text page."""

    aws_entry: Callable[[Request], Awaitable[Response]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            self.aws_entry is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/"
        ):
            request = Request(scope, receive)
            try:
                response = await self.aws_entry(request)
            except Exception:
                log.exception("AWS call failed inside the server")
                response = _internal_failure(request)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _internal_failure(request: Request) -> Response:
    message = "The request processing has failed because of an unknown error."
    target = request.headers.get("x-amz-target", "")
    if target.startswith(sqs.TARGET_PREFIX):
        return sqs.internal_failure(message)
    if target:  # a JSON protocol, in its own content type (Step Functions' for an unknown one)
        content_type = (_json_adapter(target) or states).CONTENT_TYPE
        return protocol.json_error("InternalFailure", message, content_type, 500)
    return protocol.query_error("InternalFailure", message, 500, sender="Receiver")


# The JSON protocols whose operations all go through _json_call, by X-Amz-Target prefix (SQS's
# JSON protocol has its own handler for long polls and its query-compatible errors).
_JSON_ADAPTERS = (states, kinesis)


def _json_adapter(target: str) -> Any:
    """The adapter of a JSON protocol target, or None."""
    for adapter in _JSON_ADAPTERS:
        if target.startswith(adapter.TARGET_PREFIX):
            return adapter
    return None


def _problem(status: int, title: str, detail: str) -> Response:
    return Response(
        content=orjson.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail}
        ),
        status_code=status,
        media_type="application/problem+json",
    )
