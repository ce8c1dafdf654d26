"""ASL runtime errors as values, the predefined ``States.*`` names, and ``ErrorEquals`` matching.

The names come from the ASL specification (https://states-language.net/#appendix-a-predefined-error-codes)
and the AWS Step Functions error handling guide.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorName(StrEnum):
    """The predefined error names a state machine can raise or match."""

    ALL = "States.ALL"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    TIMEOUT = "States.Timeout"
    TASK_FAILED = "States.TaskFailed"
    PERMISSIONS = "States.Permissions"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
    BRANCH_FAILED = "States.BranchFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    RUNTIME = "States.Runtime"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"


class StatesError(Exception):
    """An ASL failure: ``error`` is the name ``ErrorEquals`` matches, ``cause`` the human text.

    Raised inside the pure interpreter and caught at the state boundary, where it becomes a
    history event (and possibly a Catch); it never leaves ``engine.asl`` as an exception.
    """

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        # A Fail state may leave out Error or Cause; AWS then omits the field from history.
        self.omit_error = False
        self.omit_cause = False

    def details(self) -> dict[str, str]:
        """The ``{"error", "cause"}`` details of a *Failed history event."""
        out: dict[str, str] = {}
        if not self.omit_error:
            out["error"] = self.error
        if not self.omit_cause:
            out["cause"] = self.cause
        return out

    def as_output(self) -> dict[str, str | None]:
        """The ``{"Error", "Cause"}`` object a Catcher passes to its ResultPath (null for a
        field the failure left out)."""
        return {
            "Error": None if self.omit_error else self.error,
            "Cause": None if self.omit_cause else self.cause,
        }


# States.ALL matches every error except States.DataLimitExceeded and States.Runtime, which are
# terminal (AWS error handling guide: "States.ALL ... does not catch States.DataLimitExceeded
# or States.Runtime").
_NOT_CAUGHT_BY_ALL = {ErrorName.DATA_LIMIT_EXCEEDED.value, ErrorName.RUNTIME.value}
# States.TaskFailed "acts as a wildcard that matches any known error name except for
# States.Timeout" (AWS error handling guide); the terminal errors stay uncaught as for ALL.
_NOT_CAUGHT_BY_TASK_FAILED = _NOT_CAUGHT_BY_ALL | {ErrorName.TIMEOUT.value}


def error_matches(error_equals: list[str], error: str) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` list matches ``error``."""
    for name in error_equals:
        if name == error:
            return True
        if name == ErrorName.ALL and error not in _NOT_CAUGHT_BY_ALL:
            return True
        if name == ErrorName.TASK_FAILED and error not in _NOT_CAUGHT_BY_TASK_FAILED:
            return True
    return False
