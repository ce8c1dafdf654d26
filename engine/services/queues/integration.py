"""Task states that call SQS (GitHub issue #5).

- ``arn:aws:states:::sqs:sendMessage`` (and ``.waitForTaskToken``): the optimized integration.
  Its output is what Step Functions records for it: the SendMessage response plus the Java
  SDK v1 envelope (``SdkHttpMetadata``, ``SdkResponseMetadata``); its errors are
  ``SQS.<Shape>Exception`` / ``SQS.AmazonSQSException`` with the SDK v1 cause text.
- ``arn:aws:states:::aws-sdk:sqs:<operation>``: every queue operation by its camelCase name;
  the output is the API response itself and errors are ``Sqs.<Shape>Exception`` /
  ``Sqs.SqsException`` with the SDK v2 cause text (see the recorded ``error_handling_test_aws_sdk``
  cases for the pattern other services show).

Both run the queue service's own operations (``engine.services.queues.OPERATIONS``) inside the
decision's transaction, through a context bound to it, so the send and the history that records
it commit together. Queue URLs are resolved exactly as the SQS API resolves them (only the path
counts; the account must be this server's).
"""

from __future__ import annotations

import uuid
from typing import Any

from engine import codec
from engine.errors import ServiceError
from engine.services import integrations
from engine.services.bound import bound_context
from engine.services.context import ServiceContext
from engine.services.integrations import Call, IntegrationError
from engine.services.queues import OPERATIONS
from engine.services.queues.common import Caller
from engine.services.queues.errors import InvalidAddress, SqsError

# The error shapes botocore's sqs/2012-11-05 model declares: the SDKs turn exactly these into
# their own exception classes; every other code surfaces as the service's base exception.
MODELED_ERRORS = frozenset(
    {
        "BatchEntryIdsNotDistinct",
        "BatchRequestTooLong",
        "EmptyBatchRequest",
        "InvalidAddress",
        "InvalidAttributeName",
        "InvalidAttributeValue",
        "InvalidBatchEntryId",
        "InvalidIdFormat",
        "InvalidMessageContents",
        "InvalidSecurity",
        "KmsAccessDenied",
        "KmsDisabled",
        "KmsInvalidKeyUsage",
        "KmsInvalidState",
        "KmsNotFound",
        "KmsOptInRequired",
        "KmsThrottled",
        "MessageNotInflight",
        "OverLimit",
        "PurgeQueueInProgress",
        "QueueDeletedRecently",
        "QueueDoesNotExist",
        "QueueNameExists",
        "ReceiptHandleIsInvalid",
        "RequestThrottled",
        "ResourceNotFoundException",
        "TooManyEntriesInBatchRequest",
        "UnsupportedOperation",
    }
)
# The parameters of the optimized sendMessage (Step Functions' "Call Amazon SQS" page).
SEND_PARAMETERS = (
    "QueueUrl",
    "MessageBody",
    "DelaySeconds",
    "MessageAttributes",
    "MessageSystemAttributes",
    "MessageGroupId",
    "MessageDeduplicationId",
)


def _bound_context(tx: Any, call: Call) -> tuple[ServiceContext, Caller]:
    """A ServiceContext whose store, clock and account are the decision's."""
    ctx = bound_context(tx, call.now, call.account, call.region, call.wake_keys)
    # Queue URLs in answers look like AWS's; only their path matters when they come back.
    return ctx, Caller(base=f"https://sqs.{call.region}.amazonaws.com", region=call.region)


def _run(tx: Any, call: Call, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    ctx, caller = _bound_context(tx, call)
    return OPERATIONS[operation](ctx, caller, body)


# --- arn:aws:states:::sqs:sendMessage ---------------------------------------------------------
def optimized(tx: Any, call: Call) -> dict[str, Any]:
    """The optimized SQS integration: sendMessage only, as in AWS."""
    action = call.action.split(".", 1)[0]
    if action != "sendMessage":
        raise IntegrationError(
            "States.Runtime",
            f"The resource 'arn:aws:states:::sqs:{call.action}' is not supported; "
            "the optimized SQS integration serves sendMessage.",
        )
    params = call.parameters if isinstance(call.parameters, dict) else {}
    body = {k: params[k] for k in SEND_PARAMETERS if k in params}
    message = body.get("MessageBody")
    if message is not None and not isinstance(message, str):
        # Step Functions sends a JSON MessageBody as its compact JSON text.
        body["MessageBody"] = codec.dumps(message)
    try:
        result = _run(tx, call, "SendMessage", body)
    except InvalidAddress as err:
        raise _unreachable(params.get("QueueUrl")) from err
    except ServiceError as err:
        raise _v1_error(err) from err
    return integrations.with_json_metadata(result, call.now)


def _unreachable(url: Any) -> IntegrationError:
    """A QueueUrl that names no SQS endpoint: the SDK fails before any request is answered."""
    text = str(url)
    host = text.split("://", 1)[-1].split("/", 1)[0] or text
    return IntegrationError(
        "SQS.SdkClientException",
        f"Unable to execute HTTP request: {host}: Name or service not known",
    )


def _v1_error(err: ServiceError) -> IntegrationError:
    """An SQS error as the Java SDK v1 (which the optimized integration uses) reports it."""
    code = err.code
    query_code = err.wire_query_code if isinstance(err, SqsError) else code
    name = _exception_name(code) if code in MODELED_ERRORS else "AmazonSQSException"
    status = 400 if getattr(err, "sender_fault", True) else 500
    return IntegrationError(
        f"SQS.{name}",
        f"{err.message} (Service: AmazonSQS; Status Code: {status}; Error Code: {query_code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)",
    )


def _exception_name(code: str) -> str:
    """The SDKs' class name for a modelled error shape (QueueDoesNotExist ->
    QueueDoesNotExistException; ResourceNotFoundException stays as it is)."""
    return code if code.endswith("Exception") else f"{code}Exception"


# --- arn:aws:states:::aws-sdk:sqs:<operation> --------------------------------------------------
def aws_sdk(tx: Any, call: Call) -> dict[str, Any]:
    """Any queue operation by its camelCase name; the output is the API response.

    ``receiveMessage`` answers at once: a long poll would hold the decision's transaction."""
    operation = integrations.sdk_operation("sqs", call.action, OPERATIONS)
    params = call.parameters if isinstance(call.parameters, dict) else {}
    body = dict(params)
    if operation == "ReceiveMessage":
        body.pop("WaitTimeSeconds", None)
    try:
        result = _run(tx, call, operation, body)
    except ServiceError as err:
        raise _v2_error(err) from err
    # The model spells one member in lower camel case (ListDeadLetterSourceQueues'
    # queueUrls); Step Functions renders every response member in PascalCase.
    return {key[:1].upper() + key[1:]: value for key, value in result.items()}


def _v2_error(err: ServiceError) -> IntegrationError:
    """An SQS error as the AWS SDK integration (Java SDK v2) reports it."""
    name = _exception_name(err.code) if err.code in MODELED_ERRORS else "SqsException"
    status = 400 if getattr(err, "sender_fault", True) else 500
    return IntegrationError(
        f"Sqs.{name}",
        f"{err.message} (Service: Sqs, Status Code: {status}, Request ID: {uuid.uuid4()})",
    )


integrations.register("sqs", optimized)
integrations.register("aws-sdk:sqs", aws_sdk)
