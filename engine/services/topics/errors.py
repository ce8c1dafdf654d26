"""SNS's errors. ``code`` is the error code of botocore's ``sns/2010-03-31`` model (the query
protocol's ``<Code>``), ``status`` the HTTP status the model gives it; the messages are
AWS's own wording (``Invalid parameter: ...``)."""

from __future__ import annotations

from engine.errors import ServiceError


class SnsError(ServiceError):
    """Any SNS error."""

    code = "InvalidParameter"
    status = 400
    sender_fault = True


class InvalidParameter(SnsError):
    """A parameter breaks SNS's rules (InvalidParameterException)."""

    code = "InvalidParameter"


class InvalidParameterValue(SnsError):
    """A message attribute breaks SNS's rules (InvalidParameterValueException; the model's
    code for it is ParameterValueInvalid)."""

    code = "ParameterValueInvalid"


class NotFound(SnsError):
    """The topic or subscription does not exist."""

    code = "NotFound"
    status = 404
    kind = "not_found"


class ResourceNotFound(SnsError):
    """A tagging call names a resource that does not exist."""

    code = "ResourceNotFound"
    status = 404
    kind = "not_found"


class AuthorizationError(SnsError):
    """The caller may not act on this resource (another account's topic)."""

    code = "AuthorizationError"
    status = 403


class InvalidAction(SnsError):
    """The operation is unknown (or not served by this server)."""

    code = "InvalidAction"


class TagLimitExceeded(SnsError):
    """More than 50 tags on one resource."""

    code = "TagLimitExceeded"
    kind = "limit"


class EmptyBatchRequest(SnsError):
    """A PublishBatch without entries."""

    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SnsError):
    """More than 10 entries in a PublishBatch."""

    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SnsError):
    """Two PublishBatch entries share an Id."""

    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SnsError):
    """A PublishBatch entry Id breaks the naming rules."""

    code = "InvalidBatchEntryId"


class BatchRequestTooLong(SnsError):
    """The entries of a PublishBatch together exceed the maximum message size."""

    code = "BatchRequestTooLong"


def invalid(what: str, reason: str | None = None) -> InvalidParameter:
    """SNS's ``Invalid parameter: <what>[ Reason: <reason>]``."""
    text = f"Invalid parameter: {what}"
    if reason:
        text += f" Reason: {reason}"
    return InvalidParameter(text)
