"""Retry and Catch (ASL spec, "Error Handling": "Retrying after error", "Fallback states")."""

from __future__ import annotations

from typing import Any, Final

from engine.asl.validation.fields import check_object_fields, require
from engine.asl.validation.report import JSONATA, JSONPATH, Report, child, indexed
from engine.asl.validation.values import check_assign, check_jsonata_value, check_number, check_path

STATES_ALL: Final = "States.ALL"

_RETRIER_FIELDS: Final = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
_CATCHER_FIELDS: Final = frozenset(
    {"ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment"}
)
# Bounds from the AWS developer guide, "Handling errors in Step Functions workflows".
_MAX_INTERVAL: Final = 99_999_999
_MAX_DELAY: Final = 31_622_400
_JITTER: Final = ("FULL", "NONE")


def check_retry(report: Report, retry: Any, location: str) -> None:
    """Each retrier: ErrorEquals, then the optional back-off fields within AWS's bounds."""
    where = child(location, "Retry")
    if not isinstance(retry, list):
        report.schema("The value for the field 'Retry' must be an array", where)
        return
    for index, retrier in enumerate(retry):
        here = indexed(location, "Retry", index)
        if not isinstance(retrier, dict):
            report.schema("A retrier must be an object", here)
            continue
        check_object_fields(report, retrier, _RETRIER_FIELDS, here)
        _check_error_equals(report, retrier, here, last=index == len(retry) - 1, kind="Retrier")
        if "IntervalSeconds" in retrier:
            check_number(
                report,
                retrier["IntervalSeconds"],
                "IntervalSeconds",
                here,
                minimum=1,
                maximum=_MAX_INTERVAL,
            )
        if "MaxAttempts" in retrier:
            check_number(
                report,
                retrier["MaxAttempts"],
                "MaxAttempts",
                here,
                minimum=0,
                maximum=_MAX_INTERVAL,
            )
        if "BackoffRate" in retrier:
            check_number(
                report, retrier["BackoffRate"], "BackoffRate", here, integer=False, minimum=1.0
            )
        if "MaxDelaySeconds" in retrier:
            check_number(
                report,
                retrier["MaxDelaySeconds"],
                "MaxDelaySeconds",
                here,
                minimum=1,
                maximum=_MAX_DELAY,
            )
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in _JITTER:
            report.schema(
                f"The value for the field 'JitterStrategy' must be one of [{', '.join(_JITTER)}]",
                child(here, "JitterStrategy"),
            )


def check_catch(report: Report, catch: Any, location: str, language: str) -> list[tuple[str, str]]:
    """Each catcher: ErrorEquals, Next, and ResultPath (JSONPath) or Output (JSONata).

    Returns the (target, location) of every catcher's Next for the transition check.
    """
    targets: list[tuple[str, str]] = []
    if not isinstance(catch, list):
        report.schema("The value for the field 'Catch' must be an array", child(location, "Catch"))
        return targets
    for index, catcher in enumerate(catch):
        here = indexed(location, "Catch", index)
        if not isinstance(catcher, dict):
            report.schema("A catcher must be an object", here)
            continue
        check_object_fields(report, catcher, _CATCHER_FIELDS, here, language)
        _check_error_equals(report, catcher, here, last=index == len(catch) - 1, kind="Catcher")
        if require(report, catcher, ("Next",), here):
            if isinstance(catcher["Next"], str):
                targets.append((catcher["Next"], child(here, "Next")))
            else:
                report.schema(
                    "The value for the field 'Next' must be a string", child(here, "Next")
                )
        if language == JSONPATH and "ResultPath" in catcher:
            check_path(
                report, catcher["ResultPath"], "ResultPath", here, reference=True, nullable=True
            )
        if language == JSONATA and "Output" in catcher:
            check_jsonata_value(report, catcher["Output"], "Output", here)
        if "Assign" in catcher:
            check_assign(report, catcher["Assign"], here, language)
    return targets


def _check_error_equals(
    report: Report, handler: dict[str, Any], location: str, *, last: bool, kind: str
) -> None:
    """ASL spec: ErrorEquals is a non-empty array of strings; "States.ALL" must appear alone in
    its array and only in the last retrier or catcher."""
    if not require(report, handler, ("ErrorEquals",), location):
        return
    errors = handler["ErrorEquals"]
    where = child(location, "ErrorEquals")
    if not isinstance(errors, list) or not errors:
        report.schema("The value for the field 'ErrorEquals' must be a non-empty array", where)
        return
    if not all(isinstance(error, str) for error in errors):
        report.schema("The value for the field 'ErrorEquals' must contain only strings", where)
        return
    if STATES_ALL in errors:
        if len(errors) > 1:
            report.schema(f"{STATES_ALL} must appear alone in ErrorEquals", where)
        elif not last:
            report.schema(f"A {kind} with {STATES_ALL} must be the last one", location)
