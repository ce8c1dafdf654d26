"""Errors a use case reports to its caller. Each adapter maps them in one table: the AWS wire
uses ``code`` as ``__type``, REST derives the HTTP status from ``kind``, the CLI exits non-zero.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request the engine refuses. ``code`` is AWS's error code for it."""

    code = "ValidationException"
    kind = "invalid"  # invalid | not_found | conflict | limit | internal

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationError(ServiceError):
    """A parameter breaks a constraint of the API."""

    code = "ValidationException"


class InvalidArn(ServiceError):
    """An ARN is malformed."""

    code = "InvalidArn"


class InvalidName(ServiceError):
    """A resource name breaks AWS's naming rules."""

    code = "InvalidName"


class InvalidDefinitionError(ServiceError):
    """A state machine definition is not valid ASL."""

    code = "InvalidDefinition"


class InvalidExecutionInput(ServiceError):
    """Execution input is not JSON or is too large."""

    code = "InvalidExecutionInput"


class InvalidToken(ServiceError):
    """A pagination or task token is malformed."""

    code = "InvalidToken"


class NotFound(ServiceError):
    """The named resource does not exist."""

    kind = "not_found"


class AlreadyExists(ServiceError):
    """The name is taken by a different resource."""

    kind = "conflict"


class LimitExceeded(ServiceError):
    """A quota would be passed."""

    kind = "limit"
