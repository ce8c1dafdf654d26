"""Native REST API for queues under /v1/queues: the same queues the SQS wire protocol serves.

A queue is addressed by its name in the path. Each route calls one ``engine.services.queues``
operation (in the thread pool: they block on SQL); receiving long-polls through the SQS
adapter's own receive (``api.aws.sqs.call``), so both APIs wait and wake the same way. Errors are
RFC 9457 problem documents whose title is the SQS error code (QueueDoesNotExist is a 404,
QueueNameExists a 409, the rest 400).

| method | path                                        | operation                      |
|--------|---------------------------------------------|--------------------------------|
| GET    | /v1/queues?prefix=&maxResults=&nextToken=   | ListQueues                     |
| POST   | /v1/queues                                  | CreateQueue                    |
| GET    | /v1/queues/{name}                           | GetQueueAttributes (All)       |
| DELETE | /v1/queues/{name}                           | DeleteQueue                    |
| POST   | /v1/queues/{name}/purge                     | PurgeQueue                     |
| POST   | /v1/queues/{name}/messages                  | SendMessage                    |
| POST   | /v1/queues/{name}/messages/receive          | ReceiveMessage (long poll)     |
| DELETE | /v1/queues/{name}/messages/{receiptHandle}  | DeleteMessage                  |
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.aws import sqs
from api.http.workers import error_response, json_body, problem
from api.threads import in_thread
from engine import codec
from engine.errors import ServiceError
from engine.services.context import ServiceContext
from engine.services.queues import OPERATIONS, Caller


def _json(value: Any, status: int = 200) -> Response:
    return Response(codec.dumps(value), status_code=status, media_type="application/json")


def _message(raw: dict[str, Any]) -> dict[str, Any]:
    """A received message with the REST API's camelCase keys."""
    out = {
        "messageId": raw["MessageId"],
        "receiptHandle": raw["ReceiptHandle"],
        "body": raw["Body"],
        "md5OfBody": raw["MD5OfBody"],
    }
    if raw.get("Attributes"):
        out["attributes"] = raw["Attributes"]
    if raw.get("MessageAttributes"):
        out["messageAttributes"] = raw["MessageAttributes"]
    return out


def router(ctx: ServiceContext) -> APIRouter:
    """The /v1/queues routes."""
    api = APIRouter(prefix="/v1/queues", tags=["queues"])

    def caller(request: Request) -> Caller:
        return sqs.caller_of(request, ctx.settings.default_region)

    def url_of(name: str) -> str:
        # Only a queue URL's path counts (engine.services.queues.common.parse_queue_url).
        return f"/{ctx.account}/{name}"

    async def run(request: Request, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await in_thread(OPERATIONS[operation], ctx, caller(request), body)
        return result

    def name_of(url: str) -> str:
        return url.rstrip("/").rsplit("/", 1)[-1]

    @api.get("", summary="List queues (by name prefix, paginated)")
    async def list_queues(
        request: Request,
        prefix: str | None = None,
        maxResults: int | None = None,  # noqa: N803 - the AWS parameter name
        nextToken: str | None = None,  # noqa: N803
    ) -> Response:
        body: dict[str, Any] = {"QueueNamePrefix": prefix}
        if maxResults is not None:
            body["MaxResults"] = maxResults
        if nextToken:
            body["NextToken"] = nextToken
        try:
            result = await run(request, "ListQueues", body)
        except ServiceError as err:
            return error_response(err)
        out: dict[str, Any] = {
            "queues": [{"name": name_of(u), "url": u} for u in result.get("QueueUrls", [])]
        }
        if result.get("NextToken"):
            out["nextToken"] = result["NextToken"]
        return _json(out)

    @api.post("", status_code=201, summary="Create a queue (idempotent for equal attributes)")
    async def create_queue(request: Request) -> Response:
        try:
            body = await json_body(request)
            name = body.get("name")
            attributes = body.get("attributes") or {}
            if body.get("fifo"):
                attributes = {**attributes, "FifoQueue": "true"}
            params = {"QueueName": name, "Attributes": attributes, "tags": body.get("tags") or {}}
            result = await run(request, "CreateQueue", params)
        except ServiceError as err:
            return error_response(err)
        return _json({"name": name, "url": result["QueueUrl"]}, 201)

    @api.get("/{name}", summary="A queue's URL and attributes")
    async def get_queue(request: Request, name: str) -> Response:
        try:
            found = await run(request, "GetQueueUrl", {"QueueName": name})
            result = await run(
                request, "GetQueueAttributes", {"QueueUrl": url_of(name), "AttributeNames": ["All"]}
            )
        except ServiceError as err:
            return error_response(err)
        return _json(
            {"name": name, "url": found["QueueUrl"], "attributes": result.get("Attributes", {})}
        )

    @api.delete("/{name}", status_code=204, summary="Delete a queue and its messages")
    async def delete_queue(request: Request, name: str) -> Response:
        try:
            await run(request, "DeleteQueue", {"QueueUrl": url_of(name)})
        except ServiceError as err:
            return error_response(err)
        return Response(status_code=204)

    @api.post("/{name}/purge", status_code=204, summary="Delete every message of a queue")
    async def purge_queue(request: Request, name: str) -> Response:
        try:
            await run(request, "PurgeQueue", {"QueueUrl": url_of(name)})
        except ServiceError as err:
            return error_response(err)
        return Response(status_code=204)

    @api.post("/{name}/messages", status_code=201, summary="Send a message")
    async def send(request: Request, name: str) -> Response:
        try:
            body = await json_body(request)
            if "body" not in body:
                return problem(400, "MissingParameter", "The request must contain 'body'.")
            message = body["body"]
            params: dict[str, Any] = {
                "QueueUrl": url_of(name),
                # A JSON body that is not a string is sent as its JSON text.
                "MessageBody": message if isinstance(message, str) else codec.dumps(message),
            }
            for key, target in (
                ("delaySeconds", "DelaySeconds"),
                ("messageAttributes", "MessageAttributes"),
                ("groupId", "MessageGroupId"),
                ("deduplicationId", "MessageDeduplicationId"),
            ):
                if body.get(key) is not None:
                    params[target] = body[key]
            result = await run(request, "SendMessage", params)
        except ServiceError as err:
            return error_response(err)
        out = {"messageId": result["MessageId"], "md5OfBody": result["MD5OfMessageBody"]}
        if "SequenceNumber" in result:
            out["sequenceNumber"] = result["SequenceNumber"]
        return _json(out, 201)

    @api.post("/{name}/messages/receive", summary="Receive messages (long-polls waitSeconds)")
    async def receive(request: Request, name: str) -> Response:
        try:
            body = await json_body(request)
            params: dict[str, Any] = {
                "QueueUrl": url_of(name),
                "MaxNumberOfMessages": body.get("maxMessages", 1),
                "MessageSystemAttributeNames": ["All"],
                "MessageAttributeNames": ["All"],
            }
            if body.get("waitSeconds") is not None:
                params["WaitTimeSeconds"] = body["waitSeconds"]
            if body.get("visibilityTimeout") is not None:
                params["VisibilityTimeout"] = body["visibilityTimeout"]
            result = await sqs.call(ctx, "ReceiveMessage", caller(request), params, request)
        except ServiceError as err:
            return error_response(err)
        return _json({"messages": [_message(m) for m in result.get("Messages", [])]})

    @api.delete(
        "/{name}/messages/{receipt_handle}", status_code=204, summary="Delete a received message"
    )
    async def delete_message(request: Request, name: str, receipt_handle: str) -> Response:
        try:
            params = {"QueueUrl": url_of(name), "ReceiptHandle": receipt_handle}
            await run(request, "DeleteMessage", params)
        except ServiceError as err:
            return error_response(err)
        return Response(status_code=204)

    return api
