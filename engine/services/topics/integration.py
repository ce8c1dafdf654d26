"""Task states that call SNS.

- ``arn:aws:states:::sns:publish`` (and ``.waitForTaskToken``): the optimized integration.
  Its output is what Step Functions records for it: the Publish response plus the Java SDK v1
  envelope (``SdkHttpMetadata``, ``SdkResponseMetadata``) of SNS's XML answer; its errors are
  ``SNS.<Shape>`` / ``SNS.AmazonSNSException`` with the SDK v1 cause text
  (``Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound; ...)``).
- ``arn:aws:states:::aws-sdk:sns:<operation>``: every topic operation by its camelCase name;
  the output is the API response itself and errors are ``Sns.<Shape>`` / ``Sns.SnsException``
  with the SDK v2 cause text.

Both run the topic service's own operations inside the decision's transaction through a
bound context (engine.services.bound): the publish, its delivery to subscribed queues and the
history that records it commit together, and the queues' receivers are woken after that.
"""

from __future__ import annotations

import uuid
from email.utils import formatdate
from typing import Any

from engine import codec
from engine.errors import ServiceError
from engine.services import integrations
from engine.services.bound import bound_context
from engine.services.integrations import Call, IntegrationError
from engine.services.topics import OPERATIONS
from engine.services.topics.common import Caller

# botocore's sns/2010-03-31 error codes -> the shapes (SDK exception classes) that carry them.
MODELED_ERRORS = {
    "AuthorizationError": "AuthorizationErrorException",
    "BatchEntryIdsNotDistinct": "BatchEntryIdsNotDistinctException",
    "BatchRequestTooLong": "BatchRequestTooLongException",
    "EmptyBatchRequest": "EmptyBatchRequestException",
    "InvalidBatchEntryId": "InvalidBatchEntryIdException",
    "InvalidParameter": "InvalidParameterException",
    "ParameterValueInvalid": "InvalidParameterValueException",
    "InvalidSecurity": "InvalidSecurityException",
    "NotFound": "NotFoundException",
    "ResourceNotFound": "ResourceNotFoundException",
    "TagLimitExceeded": "TagLimitExceededException",
    "TagPolicy": "TagPolicyException",
    "TooManyEntriesInBatchRequest": "TooManyEntriesInBatchRequestException",
    "InternalError": "InternalErrorException",
}
# The parameters of the optimized publish (Step Functions' "Call Amazon SNS" page).
PUBLISH_PARAMETERS = (
    "Message",
    "MessageAttributes",
    "MessageDeduplicationId",
    "MessageGroupId",
    "MessageStructure",
    "PhoneNumber",
    "Subject",
    "TargetArn",
    "TopicArn",
)


def _run(tx: Any, call: Call, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    ctx = bound_context(tx, call.now, call.account, call.region, call.wake_keys)
    caller = Caller(base=f"https://sns.{call.region}.amazonaws.com", region=call.region)
    return OPERATIONS[operation](ctx, caller, body)


def publish_xml(result: dict[str, Any], request_id: str) -> str:
    """SNS's XML answer to Publish as AWS writes it (its length is the Content-Length
    Step Functions records: 294 bytes for a standard topic)."""
    members = "".join(f"    <{k}>{v}</{k}>\n" for k, v in result.items())
    return (
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">\n'
        f"  <PublishResult>\n{members}  </PublishResult>\n"
        f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n</PublishResponse>\n"
    )


# --- arn:aws:states:::sns:publish ------------------------------------------------------------
def optimized(tx: Any, call: Call) -> dict[str, Any]:
    """The optimized SNS integration: publish only, as in AWS."""
    action = call.action.split(".", 1)[0]
    if action != "publish":
        raise IntegrationError(
            "States.Runtime",
            f"The resource 'arn:aws:states:::sns:{call.action}' is not supported; "
            "the optimized SNS integration serves publish.",
        )
    params = call.parameters if isinstance(call.parameters, dict) else {}
    body = {k: params[k] for k in PUBLISH_PARAMETERS if k in params}
    message = body.get("Message")
    if message is not None and not isinstance(message, str):
        # Step Functions sends a JSON Message as its compact JSON text.
        body["Message"] = codec.dumps(message)
    try:
        result = _run(tx, call, "Publish", body)
    except ServiceError as err:
        raise _v1_error(err) from err
    request_id = str(uuid.uuid4())
    headers = {
        "connection": "keep-alive",
        "Content-Length": str(len(publish_xml(result, request_id).encode())),
        "Content-Type": "text/xml",
        "Date": formatdate(call.now, usegmt=True),
        "x-amzn-RequestId": request_id,
    }
    return {**result, **integrations.sdk_http_metadata(headers, request_id)}


def _status(err: ServiceError) -> int:
    return int(getattr(err, "status", 500 if err.kind == "internal" else 400))


def _v1_error(err: ServiceError) -> IntegrationError:
    """An SNS error as the Java SDK v1 (which the optimized integration uses) reports it."""
    name = MODELED_ERRORS.get(err.code, "AmazonSNSException")
    return IntegrationError(
        f"SNS.{name}",
        f"{err.message} (Service: AmazonSNS; Status Code: {_status(err)}; Error Code: "
        f"{err.code}; Request ID: {uuid.uuid4()}; Proxy: null)",
    )


# --- arn:aws:states:::aws-sdk:sns:<operation> --------------------------------------------------
def aws_sdk(tx: Any, call: Call) -> dict[str, Any]:
    """Any topic operation by its camelCase name; the output is the API response."""
    operation = integrations.sdk_operation("sns", call.action, OPERATIONS)
    params = call.parameters if isinstance(call.parameters, dict) else {}
    try:
        return _run(tx, call, operation, dict(params))
    except ServiceError as err:
        name = MODELED_ERRORS.get(err.code, "SnsException")
        raise IntegrationError(
            f"Sns.{name}",
            f"{err.message} (Service: Sns, Status Code: {_status(err)}, "
            f"Request ID: {uuid.uuid4()})",
        ) from err


integrations.register("sns", optimized)
integrations.register("aws-sdk:sns", aws_sdk)
