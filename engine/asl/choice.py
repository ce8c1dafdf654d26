"""Choice rules and comparison operators (ASL spec, "Choice State"; AWS "Choice rules").

A rule is a boolean expression (And, Or, Not) or a data-test: ``Variable`` plus exactly one
comparison operator. Comparisons of mismatched types are simply false -- a StringEquals on a
number does not fail the state (recorded in the choice_operators cases) -- but a ``Variable``
(or a ``...Path`` comparand) that matches nothing is States.Runtime, except under IsPresent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from engine.asl.context import EvalContext
from engine.asl.jsonpath import MISSING
from engine.asl.paths import lookup, read_path

# --- value kinds ------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# RFC 3339 profile the spec requires: uppercase T, and Z or a numeric offset.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})"
)


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> tuple[datetime, int] | None:
    """(UTC second, nanoseconds) for an ASL timestamp, or None when ``text`` is not one.

    Nanoseconds are kept apart because datetime stops at microseconds and AWS compares
    fractions finer than that.
    """
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "")[:9].ljust(9, "0")
    zone = match.group(8)
    try:
        if zone == "Z":
            offset = timedelta(0)
        else:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                return None
            offset = timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
        stamp = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:
        return None
    return stamp.astimezone(UTC), int(fraction)


def _timestamp(value: Any) -> tuple[datetime, int] | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def _java_string_key(text: str) -> str | bytes:
    # Java compares strings by UTF-16 code unit; Python by code point. They disagree only when
    # characters beyond the BMP meet characters in U+E000..U+FFFF, so order by UTF-16 there.
    return text if text.isascii() else text.encode("utf-16-be", "surrogatepass")


# --- StringMatches ----------------------------------------------------------------------------

_STAR = object()


@lru_cache(maxsize=2048)
def _compile_pattern(pattern: str) -> tuple[Any, ...]:
    """Tokens of a StringMatches pattern: characters and _STAR. ``\\*`` is a literal star and
    ``\\\\`` a literal backslash (AWS "Choice rules"); any other backslash is itself."""
    tokens: list[Any] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*\\":
            tokens.append(pattern[index + 1])
            index += 2
            continue
        if char == "*":
            if not tokens or tokens[-1] is not _STAR:  # "**" is "*"
                tokens.append(_STAR)
        else:
            tokens.append(char)
        index += 1
    return tuple(tokens)


def string_matches(text: str, pattern: str) -> bool:
    """Glob match with ``*`` wildcards in O(len(text) * len(pattern)) at worst.

    The classic greedy algorithm: on a mismatch, retry from the most recent star with one
    more character swallowed. Earlier stars never need revisiting, so patterns such as
    ``a*a*a*a*b`` cannot backtrack exponentially.
    """
    tokens = _compile_pattern(pattern)
    t = p = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(tokens) and tokens[p] is not _STAR and tokens[p] == text[t]:
            t += 1
            p += 1
        elif p < len(tokens) and tokens[p] is _STAR:
            star_p, star_t = p, t
            p += 1
        elif star_p >= 0:
            star_t += 1
            t = star_t
            p = star_p + 1
        else:
            return False
    while p < len(tokens) and tokens[p] is _STAR:
        p += 1
    return p == len(tokens)


# --- operators --------------------------------------------------------------------------------


def _compare_strings(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, other: Any) -> bool:
        if not isinstance(value, str) or not isinstance(other, str):
            return False
        return op(_java_string_key(value), _java_string_key(other))

    return compare


def _compare_numbers(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, other: Any) -> bool:
        return _is_number(value) and _is_number(other) and op(value, other)

    return compare


def _compare_timestamps(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, other: Any) -> bool:
        left, right = _timestamp(value), _timestamp(other)
        return left is not None and right is not None and op(left, right)

    return compare


def _boolean_equals(value: Any, other: Any) -> bool:
    return isinstance(value, bool) and isinstance(other, bool) and value == other


def _string_matches(value: Any, pattern: Any) -> bool:
    return isinstance(value, str) and isinstance(pattern, str) and string_matches(value, pattern)


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _gt(a: Any, b: Any) -> bool:
    return bool(a > b)


def _ge(a: Any, b: Any) -> bool:
    return bool(a >= b)


_ORDERINGS = {
    "Equals": _eq,
    "LessThan": _lt,
    "LessThanEquals": _le,
    "GreaterThan": _gt,
    "GreaterThanEquals": _ge,
}

# Binary comparisons: operator name -> test(variable value, comparand).
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {"BooleanEquals": _boolean_equals}
for _suffix, _op in _ORDERINGS.items():
    COMPARISONS[f"String{_suffix}"] = _compare_strings(_op)
    COMPARISONS[f"Numeric{_suffix}"] = _compare_numbers(_op)
    COMPARISONS[f"Timestamp{_suffix}"] = _compare_timestamps(_op)
COMPARISONS["StringMatches"] = _string_matches

# Every comparison but StringMatches has a "...Path" twin whose comparand is read by a path.
PATH_COMPARISONS = {f"{name}Path": name for name in COMPARISONS if name != "StringMatches"}

# Type tests: operator name -> predicate on the variable's value.
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsNumeric": _is_number,
    "IsString": lambda value: isinstance(value, str),
    "IsTimestamp": lambda value: _timestamp(value) is not None,
}

OPERATORS = (
    frozenset(COMPARISONS) | frozenset(PATH_COMPARISONS) | frozenset(TYPE_TESTS) | {"IsPresent"}
)


def rule_operator(rule: dict[str, Any]) -> str | None:
    """The comparison operator a data-test rule uses, or None when it names none."""
    for key in rule:
        if key in OPERATORS:
            return key
    return None


# --- rules ------------------------------------------------------------------------------------


def evaluate_rule(rule: dict[str, Any], data: Any, ctx: EvalContext) -> bool:
    """Whether one Choice rule (or a nested And/Or/Not expression) matches ``data``."""
    if "And" in rule:
        return all(evaluate_rule(sub, data, ctx) for sub in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(sub, data, ctx) for sub in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, ctx)
    operator = rule_operator(rule)
    if operator is None:
        raise ValueError(f"Choice rule has no comparison operator: {sorted(rule)}")
    variable = rule["Variable"]
    expected = rule[operator]
    if operator == "IsPresent":
        return (lookup(variable, data, ctx) is not MISSING) == bool(expected)
    value = read_path(variable, data, ctx)
    if operator in TYPE_TESTS:
        return TYPE_TESTS[operator](value) == bool(expected)
    if operator in PATH_COMPARISONS:
        comparand = read_path(expected, data, ctx)
        return COMPARISONS[PATH_COMPARISONS[operator]](value, comparand)
    return COMPARISONS[operator](value, expected)


def choose_next(state: dict[str, Any], data: Any, ctx: EvalContext) -> str | None:
    """The Next of the first matching rule in ``Choices``, else ``Default``, else None (the
    caller then raises States.NoChoiceMatched)."""
    for rule in state.get("Choices", ()):
        if evaluate_rule(rule, data, ctx):
            return str(rule["Next"])
    default = state.get("Default")
    return None if default is None else str(default)
