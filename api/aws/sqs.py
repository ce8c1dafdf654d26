"""The SQS wire adapter, both protocols SQS clients speak:

- AWS JSON 1.0 (boto3 since 2023): ``X-Amz-Target: AmazonSQS.<Operation>``; errors carry
  ``__type: com.amazonaws.sqs#<Shape>`` plus ``x-amzn-query-error: <classic code>;Sender`` so
  SDKs report the classic codes (the model is ``awsQueryCompatible``).
- query/XML (older SDKs): a form body ``Action=<Operation>&Version=2012-11-05``, posted to
  ``/`` or to the queue URL itself (``/<account>/<queue>``, whose path then is the QueueUrl).

Both turn a request into the JSON model's shapes and call engine.services.queues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from xml.sax.saxutils import escape

import orjson
from fastapi import APIRouter, Request, Response

from api.aws import protocol
from api.threads import in_thread
from engine.errors import ServiceError
from engine.services import tasks
from engine.services.context import ServiceContext
from engine.services.queues import OPERATIONS, Caller, SqsError, check_types, messages, wake_key

log = logging.getLogger("stepwell.aws.sqs")

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AmazonSQS."
VERSION = "2012-11-05"
XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"
ACTIONS = set(OPERATIONS)
# Other nodes sharing a PostgreSQL database enqueue without waking us: re-check this often.
CROSS_NODE_RECHECK_SECONDS = 1.0


def caller_of(request: Request, region: str) -> Caller:
    """Queue URLs use the host the client used (the Host header), as SQS's do."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return Caller(base=f"{request.url.scheme}://{host}", region=region)


def is_query_request(form: dict[str, str]) -> bool:
    """Whether a query-protocol form is meant for SQS (its Version, or an SQS-only Action)."""
    version = form.get("Version")
    if version is not None:
        return version == VERSION
    return form.get("Action") in ACTIONS


async def call(
    ctx: ServiceContext,
    operation: str,
    caller: Caller,
    body: dict[str, Any],
    request: Request | None = None,
) -> Any:
    """Run an operation; ReceiveMessage long-polls without blocking the event loop (and stops
    when the client of ``request`` has gone)."""
    if operation == "ReceiveMessage":
        check_types(body)
        return await _receive(ctx, caller, body, request)
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise SqsError(f"An invalid action {operation} was encountered.", "InvalidAction")
    return await in_thread(handler, ctx, caller, body)


async def _receive(
    ctx: ServiceContext, caller: Caller, body: dict[str, Any], request: Request | None = None
) -> dict[str, Any]:
    """Long polling (WaitTimeSeconds, up to 20 s): wait on the queue's notify key, woken by a
    send in this process, and re-check the database once a second for other nodes' sends.
    A client that hung up (a consumer shutting down) gets nothing more: messages received for
    it would stay invisible for their whole visibility timeout."""
    queue_id, wait = await in_thread(messages.receive_wait_seconds, ctx, body)
    hub = tasks.signals(ctx)
    deadline = time.monotonic() + wait
    gone = asyncio.Event()
    with hub.listening([wake_key(queue_id)]) as woken:
        watcher = (
            asyncio.create_task(_watch_disconnect(request, gone, woken))
            if request is not None and wait > 0
            else None
        )
        try:
            while True:
                if gone.is_set():
                    return {}
                result = await in_thread(messages.receive_message, ctx, caller, body)
                remaining = deadline - time.monotonic()
                if result.get("Messages") or remaining <= 0:
                    return result
                await hub.until(woken, min(remaining, CROSS_NODE_RECHECK_SECONDS))
        finally:
            if watcher is not None:
                watcher.cancel()


async def _watch_disconnect(request: Request, gone: asyncio.Event, woken: asyncio.Event) -> None:
    """Set ``gone`` (and wake the poll) when the client disconnects, as Starlette's streaming
    responses listen for it; the request body has been read already."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            gone.set()
            woken.set()
            return


# --- AWS JSON 1.0 ---------------------------------------------------------------------------------
async def handle_json(
    ctx: ServiceContext, request: Request, operation: str, region: str, body: bytes
) -> Response:
    """Answer one ``AmazonSQS.<Operation>`` request."""
    try:
        params = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return _json_error("SerializationException", "Request body is not valid JSON", "")
    if not isinstance(params, dict):
        return _json_error("SerializationException", "Request body must be a JSON object", "")
    try:
        result = await call(ctx, operation, caller_of(request, region), params, request)
    except SqsError as err:
        return _json_error(err.code, err.message, err.wire_query_code, protocol.status_of(err))
    except ServiceError as err:
        return _json_error(err.code, err.message, err.code, protocol.status_of(err))
    except (TypeError, KeyError, AttributeError, ValueError) as err:
        log.warning("malformed %s request: %r", operation, err)
        return _json_error("InvalidParameterValue", f"Invalid request: {err}", "")
    return protocol.json_response(result, CONTENT_TYPE)


def internal_failure(message: str) -> Response:
    """A failure of the server itself on the JSON protocol: AWS's common InternalFailure (500,
    retried by SDKs), with the query-compatible header SQS's JSON answers always carry."""
    return _json_error("InternalFailure", message, "InternalFailure", 500)


def _json_error(code: str, message: str, query_code: str, status: int = 400) -> Response:
    sender = "Receiver" if status >= 500 else "Sender"
    return protocol.json_error(
        f"com.amazonaws.sqs#{code}",
        message,
        CONTENT_TYPE,
        status,
        {"x-amzn-query-error": f"{query_code or code};{sender}"},
    )


# --- query / XML ----------------------------------------------------------------------------------
async def handle_query(
    ctx: ServiceContext,
    request: Request,
    form: dict[str, str],
    region: str,
    queue_url: str | None = None,
) -> Response:
    """Answer one query-protocol request (``queue_url`` when posted to a queue's URL)."""
    action = form.get("Action") or ""
    params = form_to_params({k: v for k, v in form.items() if k not in ("Action", "Version")})
    if queue_url and not params.get("QueueUrl"):
        params["QueueUrl"] = queue_url
    try:
        if action not in ACTIONS:
            raise SqsError(f"An invalid action {action} was encountered.", "InvalidAction")
        result = await call(ctx, action, caller_of(request, region), params, request)
    except SqsError as err:
        return protocol.query_error(err.wire_query_code, err.message, protocol.status_of(err))
    except ServiceError as err:
        return protocol.query_error(err.code, err.message, protocol.status_of(err))
    except (TypeError, KeyError, AttributeError, ValueError) as err:
        log.warning("malformed %s request: %r", action, err)
        return protocol.query_error("InvalidParameterValue", f"Invalid request: {err}")
    rid = protocol.request_id()
    inner = "".join(_xml(key, value, action) for key, value in result.items())
    body = (
        f'<{action}Response xmlns="{XMLNS}"><{action}Result>{inner}</{action}Result>'
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{action}Response>"
    )
    return Response(content=body, media_type="text/xml", headers={"x-amzn-RequestId": rid})


# Flattened query-protocol names: a form's singular prefix -> the JSON member it fills.
_LISTS = {
    "AttributeName": "AttributeNames",
    "MessageAttributeName": "MessageAttributeNames",
    "MessageSystemAttributeName": "MessageSystemAttributeNames",
    "TagKey": "TagKeys",
    "AWSAccountId": "AWSAccountIds",
    "ActionName": "Actions",
}
_MAPS = {
    "Attribute": ("Attributes", "Name", "Value"),
    "MessageAttribute": ("MessageAttributes", "Name", "Value"),
    "MessageSystemAttribute": ("MessageSystemAttributes", "Name", "Value"),
    "Tag": ("Tags", "Key", "Value"),
}
_ENTRIES = (
    "SendMessageBatchRequestEntry",
    "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatchRequestEntry",
)


def form_to_params(form: dict[str, str]) -> dict[str, Any]:
    """``Attribute.1.Name=x&Attribute.1.Value=y`` and friends -> the JSON model's shapes."""
    return _normalise(protocol.form_tree(form))


def _as_list(node: Any) -> list[Any]:
    if isinstance(node, dict) and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return [node]


def _normalise(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key in _LISTS:
            out[_LISTS[key]] = _as_list(value)
        elif key in _MAPS:
            target, name_key, value_key = _MAPS[key]
            out[target] = {
                item.get(name_key): item.get(value_key)
                for item in _as_list(value)
                if isinstance(item, dict)
            }
        elif key in _ENTRIES:
            out["Entries"] = [
                _normalise(item) if isinstance(item, dict) else item for item in _as_list(value)
            ]
        elif isinstance(value, dict):
            out[key] = _normalise(value)
        else:
            out[key] = value
    return out


_XML_LIST_ITEMS = {
    "QueueUrls": "QueueUrl",
    "queueUrls": "QueueUrl",
    "Messages": "Message",
    "Results": "ListMessageMoveTasksResultEntry",
    "Failed": "BatchResultErrorEntry",
}
_XML_SUCCESS_ITEMS = {
    "SendMessageBatch": "SendMessageBatchResultEntry",
    "DeleteMessageBatch": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibilityBatchResultEntry",
}
_XML_MAPS = {
    "Attributes": ("Attribute", "Name", "Value"),
    "MessageAttributes": ("MessageAttribute", "Name", "Value"),
    "Tags": ("Tag", "Key", "Value"),
}


def _xml(key: str, value: Any, action: str) -> str:
    """One result member as query-protocol XML (lists and maps are flattened, as SQS's are)."""
    if key in _XML_MAPS and isinstance(value, dict):
        tag, name_tag, value_tag = _XML_MAPS[key]
        return "".join(
            f"<{tag}><{name_tag}>{escape(str(k))}</{name_tag}>{_xml(value_tag, v, action)}</{tag}>"
            for k, v in value.items()
        )
    if isinstance(value, list):
        item = _XML_LIST_ITEMS.get(key) or _XML_SUCCESS_ITEMS.get(action, key)
        return "".join(_xml(item, v, action) for v in value)
    if isinstance(value, dict):
        return f"<{key}>{''.join(_xml(k, v, action) for k, v in value.items())}</{key}>"
    if isinstance(value, bool):
        return f"<{key}>{'true' if value else 'false'}</{key}>"
    return f"<{key}>{escape(str(value))}</{key}>"


def router(ctx: ServiceContext) -> APIRouter:
    """``POST /<account>/<queue>``: the query protocol posted to a queue's URL."""
    routes = APIRouter()

    @routes.post("/{account}/{queue}", include_in_schema=False)
    async def queue_entry(account: str, queue: str, request: Request) -> Response:
        if not (account.isdigit() and len(account) == 12):
            return Response(status_code=404)
        region, _service = protocol.signature_scope(request, ctx.settings.default_region)
        body = await request.body()
        target = request.headers.get("x-amz-target", "")
        if target.startswith(TARGET_PREFIX):
            return await handle_json(ctx, request, target[len(TARGET_PREFIX) :], region, body)
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        form.update({k: v for k, v in request.query_params.items() if k not in form})
        url = f"{caller_of(request, region).base}/{account}/{queue}"
        return await handle_query(ctx, request, form, region, url)

    return routes
