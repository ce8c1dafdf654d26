"""Choice rules (ASL spec, "Choice State"; AWS "Choice workflow state" for JSONata ``Condition``).

A top-level rule has ``Next``; nested rules (inside And, Or, Not) must not. In JSONPath a rule is
either a comparison (``Variable`` plus exactly one operator) or a Boolean combination; in JSONata
it is a ``Condition``.
"""

from __future__ import annotations

from typing import Any, Final

from engine.asl.validation.fields import language_mismatch
from engine.asl.validation.report import JSONATA, Report, child, indexed
from engine.asl.validation.values import (
    check_assign,
    check_jsonata_value,
    check_path,
    is_jsonata,
    is_timestamp,
)

_KINDS: Final = {"String": str, "Numeric": (int, float), "Boolean": bool, "Timestamp": str}
_RELATIONS: Final = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")

# Operator name -> the JSON type its literal operand must have (None for the *Path forms).
OPERATORS: Final[dict[str, Any]] = {
    "StringMatches": str,
    "IsNull": bool,
    "IsPresent": bool,
    "IsNumeric": bool,
    "IsString": bool,
    "IsBoolean": bool,
    "IsTimestamp": bool,
}
for _kind, _type in _KINDS.items():
    for _relation in _RELATIONS:
        if _kind == "Boolean" and _relation != "Equals":
            continue
        OPERATORS[f"{_kind}{_relation}"] = _type
        OPERATORS[f"{_kind}{_relation}Path"] = None

_COMBINATORS: Final = ("And", "Or", "Not")
_TYPE_NAMES: Final = {str: "a string", bool: "a boolean"}


def check_choices(
    report: Report, state: dict[str, Any], location: str, language: str
) -> list[tuple[str, str]]:
    """Validate Choices and return each top-level rule's (Next, location)."""
    targets: list[tuple[str, str]] = []
    choices = state.get("Choices")
    if not isinstance(choices, list) or not choices:
        report.schema(
            "The value for the field 'Choices' must be a non-empty array",
            child(location, "Choices"),
        )
        return targets
    for index, rule in enumerate(choices):
        here = indexed(location, "Choices", index)
        if not isinstance(rule, dict):
            report.schema("A choice rule must be an object", here)
            continue
        _check_rule(report, rule, here, language, top=True)
        if "Next" not in rule:
            report.schema("These fields are required: [Next]", here)
        elif isinstance(rule["Next"], str):
            targets.append((rule["Next"], child(here, "Next")))
        else:
            report.schema("The value for the field 'Next' must be a string", child(here, "Next"))
    return targets


def _check_rule(
    report: Report, rule: dict[str, Any], location: str, language: str, *, top: bool
) -> None:
    top_fields = {"Next", "Assign", "Comment"} | ({"Output"} if language == JSONATA else set())
    for key in rule:
        if key in top_fields:
            if not top and key != "Comment":
                report.schema(f"Field '{key}' is not supported", location)
            continue
        if language == JSONATA:
            if key != "Condition":
                report.schema(
                    language_mismatch(key, language) or f"Field '{key}' is not supported", location
                )
        elif key not in OPERATORS and key not in _COMBINATORS and key != "Variable":
            report.schema(
                language_mismatch(key, language) or f"Field '{key}' is not supported", location
            )
    if top and "Assign" in rule:
        check_assign(report, rule["Assign"], location, language)
    if language == JSONATA:
        if top and "Output" in rule:
            check_jsonata_value(report, rule["Output"], "Output", location)
        _check_condition(report, rule, location)
    else:
        _check_jsonpath_rule(report, rule, location, language)


def _check_condition(report: Report, rule: dict[str, Any], location: str) -> None:
    if "Condition" not in rule:
        report.schema("These fields are required: [Condition]", location)
        return
    condition = rule["Condition"]
    if isinstance(condition, bool):
        return
    if is_jsonata(condition):
        check_jsonata_value(report, condition, "Condition", location)
    else:
        report.schema(
            "The value for the field 'Condition' must be a JSONata expression or a boolean",
            child(location, "Condition"),
        )


def _check_jsonpath_rule(
    report: Report, rule: dict[str, Any], location: str, language: str
) -> None:
    operators = [key for key in rule if key in OPERATORS]
    combinators = [key for key in rule if key in _COMBINATORS]
    if len(operators) + len(combinators) != 1:
        found = operators + combinators
        if found:
            report.schema(
                f"There should only be one of the following fields: [{', '.join(found)}]", location
            )
        else:
            report.schema(
                "A choice rule must have exactly one comparison operator, or And, Or or Not",
                location,
            )
        return
    if combinators:
        if "Variable" in rule:
            report.schema("Field 'Variable' is not supported", location)
        _check_combinator(report, rule, combinators[0], location, language)
        return
    if "Variable" not in rule:
        report.schema("These fields are required: [Variable]", location)
    else:
        check_path(report, rule["Variable"], "Variable", location)
    operator = operators[0]
    operand = rule[operator]
    expected = OPERATORS[operator]
    where = child(location, operator)
    if expected is None:
        check_path(report, operand, operator, location)
    elif isinstance(operand, bool) != (expected is bool) or not isinstance(operand, expected):
        name = _TYPE_NAMES.get(expected, "a number")
        report.schema(f"The value for the field '{operator}' must be {name}", where)
    elif operator.startswith("Timestamp") and not is_timestamp(operand):
        report.schema("String does not match RFC3339 timestamp", where)


def _check_combinator(
    report: Report, rule: dict[str, Any], combinator: str, location: str, language: str
) -> None:
    operand = rule[combinator]
    if combinator == "Not":
        if isinstance(operand, dict):
            _check_rule(report, operand, child(location, "Not"), language, top=False)
        else:
            report.schema("The value for the field 'Not' must be an object", child(location, "Not"))
        return
    if not isinstance(operand, list) or not operand:
        report.schema(
            f"The value for the field '{combinator}' must be a non-empty array",
            child(location, combinator),
        )
        return
    for index, nested in enumerate(operand):
        here = indexed(location, combinator, index)
        if isinstance(nested, dict):
            _check_rule(report, nested, here, language, top=False)
        else:
            report.schema("A choice rule must be an object", here)
