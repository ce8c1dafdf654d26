"""SQS's errors. ``code`` is the shape name in botocore's JSON model (the wire ``__type``);
``query_code`` is the classic query-protocol code, sent in the JSON protocol's
``x-amzn-query-error`` header and as ``<Code>`` in XML (the codes SDKs report)."""

from __future__ import annotations

from engine.errors import ServiceError


class SqsError(ServiceError):
    """Any SQS error; ``query_code`` defaults to ``code``."""

    code = "InvalidParameterValue"
    query_code = ""
    sender_fault = True

    @property
    def wire_query_code(self) -> str:
        """The query-protocol code for this error."""
        return self.query_code or self.code


class InvalidParameterValue(SqsError):
    """A parameter's value breaks SQS's rules (no modelled shape: a query-protocol code)."""

    code = "InvalidParameterValue"


class MissingParameter(SqsError):
    """A required parameter is absent."""

    code = "MissingParameter"


class InvalidAction(SqsError):
    """The operation is unknown."""

    code = "InvalidAction"


class QueueDoesNotExist(SqsError):
    """The queue is not there (or the URL names another account)."""

    code = "QueueDoesNotExist"
    query_code = "AWS.SimpleQueueService.NonExistentQueue"
    kind = "not_found"


class QueueNameExists(SqsError):
    """A queue of that name exists with different attributes."""

    code = "QueueNameExists"
    query_code = "QueueAlreadyExists"
    kind = "conflict"


class QueueDeletedRecently(SqsError):
    """The name was deleted less than 60 seconds ago."""

    code = "QueueDeletedRecently"
    query_code = "AWS.SimpleQueueService.QueueDeletedRecently"


class InvalidAttributeName(SqsError):
    """An attribute name SQS does not know (or one that cannot be set)."""

    code = "InvalidAttributeName"


class InvalidAttributeValue(SqsError):
    """An attribute value out of range or of the wrong form."""

    code = "InvalidAttributeValue"


class InvalidMessageContents(SqsError):
    """The body holds characters outside the allowed Unicode set."""

    code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(SqsError):
    """A receipt handle we never issued (for this queue)."""

    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(SqsError):
    """ChangeMessageVisibility on a message that is not in flight."""

    code = "MessageNotInflight"
    query_code = "AWS.SimpleQueueService.MessageNotInflight"


class EmptyBatchRequest(SqsError):
    """A batch without entries."""

    code = "EmptyBatchRequest"
    query_code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SqsError):
    """More than 10 entries in a batch."""

    code = "TooManyEntriesInBatchRequest"
    query_code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SqsError):
    """Two batch entries share an Id."""

    code = "BatchEntryIdsNotDistinct"
    query_code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SqsError):
    """A batch entry Id breaks the naming rules."""

    code = "InvalidBatchEntryId"
    query_code = "AWS.SimpleQueueService.InvalidBatchEntryId"


class BatchRequestTooLong(SqsError):
    """The entries of a SendMessageBatch together exceed the maximum message size."""

    code = "BatchRequestTooLong"
    query_code = "AWS.SimpleQueueService.BatchRequestTooLong"


class PurgeQueueInProgress(SqsError):
    """A second PurgeQueue within 60 seconds."""

    code = "PurgeQueueInProgress"
    query_code = "AWS.SimpleQueueService.PurgeQueueInProgress"


class ResourceNotFoundException(SqsError):
    """A message move task's queue or handle is unknown."""

    code = "ResourceNotFoundException"
    kind = "not_found"


class UnsupportedOperation(SqsError):
    """The operation does not apply to this queue or task."""

    code = "UnsupportedOperation"
    query_code = "AWS.SimpleQueueService.UnsupportedOperation"


class InvalidAddress(SqsError):
    """A QueueUrl that is not one of ours."""

    code = "InvalidAddress"


class OverLimit(SqsError):
    """A limit of SQS would be passed (e.g. more than seven actions in one permission)."""

    code = "OverLimit"
    kind = "limit"
