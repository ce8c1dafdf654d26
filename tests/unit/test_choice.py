"""Choice rules: every operator, And/Or/Not, and the recorded choice_operators cases."""

from __future__ import annotations

import fnmatch
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl import choice
from engine.asl.context import EvalContext
from engine.asl.errors import StatesError

CASES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"


def make_ctx(variables: dict[str, Any] | None = None) -> EvalContext:
    return EvalContext("Choose", 4, {"State": {"Name": "Choose"}}, dict(variables or {}))


def rule(operator: str, expected: Any, variable: str = "$.v") -> dict[str, Any]:
    return {"Variable": variable, operator: expected, "Next": "N"}


def holds(operator: str, value: Any, expected: Any) -> bool:
    return choice.evaluate_rule(rule(operator, expected), {"v": value}, make_ctx())


# --- recorded cases ---------------------------------------------------------------------------


def _choice_cases() -> list[Path]:
    """choice_operators cases built only from Pass/Choice/Succeed/Fail states."""
    allowed = {"Pass", "Choice", "Succeed", "Fail"}
    found = []
    for file in sorted(CASES.glob("choice_operators_*.json")):
        case = json.loads(file.read_text())
        states = case["definition"]["States"].values()
        if {state["Type"] for state in states} <= allowed:
            found.append(file)
    return found


@pytest.mark.parametrize("file", _choice_cases(), ids=lambda p: p.name[17:110])
def test_recorded_choice_cases(file: Path) -> None:
    case = json.loads(file.read_text())
    definition = case["definition"]
    state = definition["States"][definition["StartAt"]]
    assert state["Type"] == "Choice"
    target = choice.choose_next(state, json.loads(case["input"]), make_ctx())
    # The target Pass state's Result is the execution output in these cases.
    assert case["expect"]["status"] == "SUCCEEDED"
    assert definition["States"][target]["Result"] == case["expect"]["output"]


def test_all_choice_cases_are_covered() -> None:
    assert len(_choice_cases()) == 317 or not CASES.is_dir()


# --- operators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected", "result"),
    [
        ("StringEquals", "a", "a", True),
        ("StringEquals", "a", "b", False),
        ("StringEquals", 1, "1", False),
        ("StringLessThan", "A", "AB", True),
        ("StringLessThanEquals", "AB", "AB", True),
        ("StringGreaterThan", "b", "a", True),
        ("StringGreaterThanEquals", "a", "b", False),
        ("StringLessThan", "\uffff", "\U0001f600", False),  # UTF-16 order, as in Java
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", True, 1, False),
        ("NumericEquals", "1", 1, False),
        ("NumericLessThan", 1, 2, True),
        ("NumericLessThanEquals", 2.0, 2, True),
        ("NumericGreaterThan", 2.5, 2, True),
        ("NumericGreaterThanEquals", 1, 2, False),
        ("BooleanEquals", True, True, True),
        ("BooleanEquals", 1, True, False),
        ("BooleanEquals", False, False, True),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T02:59:00+01:00", True),
        ("TimestampEquals", "2016-03-14T01:59:00.5Z", "2016-03-14T01:59:00.500000Z", True),
        (
            "TimestampLessThan",
            "2016-03-14T01:59:00.000000001Z",
            "2016-03-14T01:59:00.000000002Z",
            True,
        ),
        ("TimestampGreaterThan", "2016-03-15T00:00:00Z", "2016-03-14T23:59:59Z", True),
        ("TimestampLessThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampGreaterThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:01Z", False),
        ("TimestampEquals", "2016-03-14T01:59:00", "2016-03-14T01:59:00Z", False),
        ("TimestampEquals", "2016-03-14 01:59:00Z", "2016-03-14 01:59:00Z", False),
        ("TimestampEquals", "2016-13-14T01:59:00Z", "2016-13-14T01:59:00Z", False),
        ("StringMatches", "log-2020.txt", "log-*.txt", True),
        ("StringMatches", "log-2020.csv", "log-*.txt", False),
        ("StringMatches", "a*b", "a\\*b", True),
        ("StringMatches", "axb", "a\\*b", False),
        ("StringMatches", "a\\b", "a\\\\b", True),
        ("StringMatches", "", "*", True),
        ("StringMatches", 5, "*", False),
        ("IsNull", None, True, True),
        ("IsNull", 0, True, False),
        ("IsNull", 0, False, True),
        ("IsNumeric", 1.5, True, True),
        ("IsNumeric", True, True, False),
        ("IsString", "x", True, True),
        ("IsString", None, False, True),
        ("IsBoolean", False, True, True),
        ("IsTimestamp", "2016-03-14T01:59:00Z", True, True),
        ("IsTimestamp", "2016-03-14T01:59:00.123+05:30", True, True),
        ("IsTimestamp", "2016-03-14", True, False),
        ("IsTimestamp", 0, False, True),
    ],
)
def test_operators(operator: str, value: Any, expected: Any, result: bool) -> None:
    assert holds(operator, value, expected) is result


@pytest.mark.parametrize("operator", sorted(choice.PATH_COMPARISONS))
def test_every_path_operator_reads_its_comparand(operator: str) -> None:
    base = choice.PATH_COMPARISONS[operator]
    samples = {"String": "m", "Numeric": 5, "Boolean": True, "Timestamp": "2020-01-01T00:00:00Z"}
    sample = next(value for prefix, value in samples.items() if base.startswith(prefix))
    data = {"v": sample, "other": sample}
    outcome = choice.evaluate_rule(
        {"Variable": "$.v", operator: "$.other", "Next": "N"}, data, make_ctx()
    )
    assert outcome is ("Equals" in base or base == "BooleanEquals")


def test_path_comparand_can_be_a_variable() -> None:
    ctx = make_ctx({"guess": "the_answer", "answer": "the_answer"})
    assert choice.evaluate_rule(
        {"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "N"}, {}, ctx
    )


def test_is_present() -> None:
    assert holds("IsPresent", None, True)
    assert not choice.evaluate_rule(rule("IsPresent", True, "$.missing"), {}, make_ctx())
    assert choice.evaluate_rule(rule("IsPresent", False, "$.missing"), {}, make_ctx())
    assert not choice.evaluate_rule(rule("IsPresent", True, "$nope"), {}, make_ctx())


def test_missing_variable_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        choice.evaluate_rule(rule("StringEquals", "x", "$.missing"), {}, make_ctx())
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        "An error occurred while executing the state 'Choose' (entered at the event id #4). "
        "Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_boolean_combinators() -> None:
    yes = {"Variable": "$.v", "NumericEquals": 1}
    no = {"Variable": "$.v", "NumericEquals": 2}
    data, ctx = {"v": 1}, make_ctx()
    assert choice.evaluate_rule({"And": [yes, yes], "Next": "N"}, data, ctx)
    assert not choice.evaluate_rule({"And": [yes, no], "Next": "N"}, data, ctx)
    assert choice.evaluate_rule({"Or": [no, yes], "Next": "N"}, data, ctx)
    assert not choice.evaluate_rule({"Or": [no, no], "Next": "N"}, data, ctx)
    assert choice.evaluate_rule({"Not": no, "Next": "N"}, data, ctx)
    nested = {"Not": {"Or": [no, {"And": [yes, {"Not": yes}]}]}, "Next": "N"}
    assert choice.evaluate_rule(nested, data, ctx)


def test_and_short_circuits_before_a_missing_path() -> None:
    guarded = {
        "And": [
            {"Variable": "$.x", "IsPresent": True},
            {"Variable": "$.x", "StringEquals": "a"},
        ],
        "Next": "N",
    }
    assert not choice.evaluate_rule(guarded, {}, make_ctx())


def test_choose_next() -> None:
    state = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.v", "NumericLessThan": 0, "Next": "Negative"},
            {"Variable": "$.v", "NumericLessThan": 10, "Next": "Small"},
            {"Variable": "$.v", "NumericLessThan": 100, "Next": "Medium"},
        ],
        "Default": "Large",
    }
    ctx = make_ctx()
    assert choice.choose_next(state, {"v": -1}, ctx) == "Negative"
    assert choice.choose_next(state, {"v": 5}, ctx) == "Small"
    assert choice.choose_next(state, {"v": 1000}, ctx) == "Large"
    del state["Default"]
    assert choice.choose_next(state, {"v": 1000}, ctx) is None


# --- properties -------------------------------------------------------------------------------

numbers = st.integers(-100, 100) | st.floats(-100, 100, allow_nan=False)


@given(numbers, numbers)
def test_numeric_operators_agree_with_python(a: float, b: float) -> None:
    assert holds("NumericEquals", a, b) == (a == b)
    assert holds("NumericLessThan", a, b) == (a < b)
    assert holds("NumericLessThanEquals", a, b) == (a <= b)
    assert holds("NumericGreaterThan", a, b) == (a > b)
    assert holds("NumericGreaterThanEquals", a, b) == (a >= b)


@given(st.text(alphabet="ab*", max_size=8), st.text(alphabet="ab", max_size=10))
def test_string_matches_agrees_with_a_regex(pattern: str, text: str) -> None:
    regex = "".join(".*" if char == "*" else re.escape(char) for char in pattern)
    assert choice.string_matches(text, pattern) == (re.fullmatch(regex, text, re.S) is not None)
    assert choice.string_matches(text, pattern) == fnmatch.fnmatchcase(text, pattern)


def test_string_matches_is_bounded_on_pathological_patterns() -> None:
    # Exponential backtracking would never finish on this.
    assert not choice.string_matches("a" * 20000, "*a" * 500 + "b")
    assert choice.string_matches("a" * 20000, "*a" * 500)


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)),
)
def test_timestamp_operators_agree_with_datetime(a: Any, b: Any) -> None:
    text_a = a.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text_b = b.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert holds("TimestampLessThan", text_a, text_b) == (a < b)
    assert holds("TimestampEquals", text_a, text_b) == (a == b)
    assert holds("IsTimestamp", text_a, True)
