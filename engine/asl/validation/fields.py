"""Which fields each state type accepts, requires and forbids, per QueryLanguage.

Field lists come from the ASL spec ("Common State Fields", one section per state type) with AWS's
additions (Credentials, Label, ItemReader, ItemBatcher, ResultWriter, Assign, the JSONata fields).
AWS refuses a field on a state type that does not support it with ``Field 'X' is not supported``
at the state (e.g. ``TimeoutSeconds`` on Map, ``Catch`` on Pass).
"""

from __future__ import annotations

from typing import Any, Final

from engine.asl.validation.report import JSONATA, JSONPATH, Report, child

STATE_TYPES: Final = ("Choice", "Fail", "Map", "Parallel", "Pass", "Succeed", "Task", "Wait")

_COMMON: Final = frozenset({"Type", "Comment", "QueryLanguage"})
_IO: Final = frozenset({"InputPath", "OutputPath", "Output"})
_FLOW: Final = frozenset({"Next", "End"})
_RESULT: Final = frozenset({"Parameters", "ResultPath", "ResultSelector", "Arguments"})
_HANDLERS: Final = frozenset({"Retry", "Catch"})

STATE_FIELDS: Final[dict[str, frozenset[str]]] = {
    "Pass": _COMMON | _IO | _FLOW | {"Parameters", "ResultPath", "Result", "Assign"},
    "Task": _COMMON
    | _IO
    | _FLOW
    | _RESULT
    | _HANDLERS
    | {
        "Resource",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Credentials",
        "Assign",
    },
    "Choice": _COMMON | _IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON
    | _IO
    | _FLOW
    | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON | _IO | _FLOW | _RESULT | _HANDLERS | {"Branches", "Assign"},
    "Map": _COMMON
    | _IO
    | _FLOW
    | (_RESULT - {"Arguments"})
    | _HANDLERS
    | {
        "Iterator",
        "ItemProcessor",
        "ItemsPath",
        "Items",
        "ItemSelector",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "Label",
        "Assign",
    },
}

# AWS "Transforming data with JSONata": these fields exist in one QueryLanguage only.
JSONPATH_ONLY: Final = frozenset(
    {
        "InputPath",
        "OutputPath",
        "Parameters",
        "ResultPath",
        "ResultSelector",
        "ItemsPath",
        "SecondsPath",
        "TimestampPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "ErrorPath",
        "CausePath",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCountPath",
        "MaxItemsPath",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatchPath",
        "Variable",
    }
)
JSONATA_ONLY: Final = frozenset({"Arguments", "Output", "Items", "Condition"})

_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "Task": ("Resource",),
    "Choice": ("Choices",),
    "Parallel": ("Branches",),
}
# ASL spec, "Transitions": every state but Choice, Succeed and Fail has Next or End.
TRANSITION_TYPES: Final = frozenset({"Pass", "Task", "Wait", "Map", "Parallel"})


def language_mismatch(field: str, language: str) -> str | None:
    """AWS's message for a field that the effective QueryLanguage does not have, or None."""
    if language == JSONATA and field in JSONPATH_ONLY:
        return (
            f"The QueryLanguage is set to '{JSONATA}', but field '{field}' is only supported "
            f"for the '{JSONPATH}' QueryLanguage"
        )
    if language == JSONPATH and field in JSONATA_ONLY:
        return (
            f"The QueryLanguage is set to '{JSONPATH}', but field '{field}' is only supported "
            f"for the '{JSONATA}' QueryLanguage"
        )
    return None


def check_object_fields(
    report: Report,
    node: dict[str, Any],
    allowed: frozenset[str],
    location: str,
    language: str | None = None,
) -> None:
    """Refuse fields outside ``allowed`` and, given a language, fields of the other language."""
    for key in node:
        if key not in allowed:
            report.schema(f"Field '{key}' is not supported", location)
        elif language is not None:
            problem = language_mismatch(key, language)
            if problem is not None:
                report.schema(problem, location)


def require(report: Report, node: dict[str, Any], fields: tuple[str, ...], location: str) -> bool:
    """``These fields are required: [A, B]`` (AWS's wording, e.g. ``[States] at /``)."""
    missing = [field for field in fields if field not in node]
    if missing:
        report.schema(f"These fields are required: [{', '.join(missing)}]", location)
    return not missing


def at_most_one(
    report: Report, node: dict[str, Any], fields: tuple[str, ...], location: str
) -> int:
    """AWS: ``There should only be one of the following fields: [MaxItems, MaxItemsPath]``."""
    present = [field for field in fields if field in node]
    if len(present) > 1:
        report.schema(
            f"There should only be one of the following fields: [{', '.join(present)}]", location
        )
    return len(present)


def check_state_fields(
    report: Report, state_type: str, state: dict[str, Any], location: str, language: str
) -> None:
    """Unknown fields, fields of the other QueryLanguage, required fields and Next/End."""
    check_object_fields(report, state, STATE_FIELDS[state_type], location, language)
    require(report, state, _REQUIRED.get(state_type, ()), location)
    if state_type in TRANSITION_TYPES:
        _check_transition(report, state, location)


def _check_transition(report: Report, state: dict[str, Any], location: str) -> None:
    if "End" in state and not isinstance(state["End"], bool):
        report.schema("The value for the field 'End' must be a boolean", child(location, "End"))
    if "Next" in state and not isinstance(state["Next"], str):
        report.schema("The value for the field 'Next' must be a string", child(location, "Next"))
    ends = state.get("End") is True
    if "Next" in state and ends:
        report.schema("There should only be one of the following fields: [Next, End]", location)
    elif "Next" not in state and not ends:
        report.schema("These fields are required: [Next or End]", location)
