"""Kinesis's errors: ``code`` is the shape name in botocore's ``kinesis/2013-12-02`` model, sent
as the JSON 1.1 ``__type``."""

from __future__ import annotations

from engine.errors import ServiceError


class KinesisError(ServiceError):
    """Any Kinesis error."""

    code = "InvalidArgumentException"


class InvalidArgumentException(KinesisError):
    """A parameter's value is not acceptable (out of range, of another stream, ...)."""

    code = "InvalidArgumentException"


class ValidationException(KinesisError):
    """A parameter breaks a constraint of the model (length, pattern, range)."""

    code = "ValidationException"


class ResourceNotFoundException(KinesisError):
    """The stream or shard is not there."""

    code = "ResourceNotFoundException"
    kind = "not_found"


class ResourceInUseException(KinesisError):
    """The stream exists already, or is not ACTIVE for this change."""

    code = "ResourceInUseException"
    kind = "conflict"


class LimitExceededException(KinesisError):
    """A quota would be passed (shards per account, tags per stream)."""

    code = "LimitExceededException"
    kind = "limit"


class ExpiredIteratorException(KinesisError):
    """A shard iterator older than five minutes."""

    code = "ExpiredIteratorException"


class ExpiredNextTokenException(KinesisError):
    """A ListShards/ListStreams NextToken older than five minutes."""

    code = "ExpiredNextTokenException"


def validation(value: object, member: str, constraint: str) -> ValidationException:
    """The ValidationException text AWS's request validation writes."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )
