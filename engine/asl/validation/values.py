"""Checks on field values: paths, payload templates, intrinsic functions, JSONata, timestamps,
variable names and numbers.

Paths follow the ASL spec, "Paths" and "Reference Paths"; intrinsic functions "Intrinsic
Functions"; JSONata strings AWS's "Transforming data with JSONata in Step Functions".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from engine.asl.validation.report import Report, child

# The States.* functions AWS defines ("Intrinsic functions for JSONPath states").
INTRINSIC_FUNCTIONS: Final = frozenset(
    "States." + name
    for name in (
        "Format",
        "StringToJson",
        "JsonToString",
        "Array",
        "ArrayPartition",
        "ArrayContains",
        "ArrayRange",
        "ArrayGetItem",
        "ArrayLength",
        "ArrayUnique",
        "Base64Encode",
        "Base64Decode",
        "Hash",
        "JsonMerge",
        "MathRandom",
        "MathAdd",
        "StringSplit",
        "UUID",
    )
)

# ASL spec, "Timestamps": RFC3339 with an uppercase T and Z (or a numeric offset).
_TIMESTAMP_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))"
)
# AWS "Variable names": a letter or underscore, then letters, digits and underscores.
_VARIABLE_NAME_RE: Final = re.compile(r"[^\W\d]\w*")
MAX_VARIABLE_NAME: Final = 80
_NUMBER_RE: Final = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def is_jsonata(value: Any) -> bool:
    """A JSONata expression: a string whose first two and last two characters are the
    delimiters (``" {% x %} "`` stays a literal, per the outputdecl BASE_LITERALS case)."""
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


def path_problem(path: Any) -> str | None:
    """What makes ``path`` an invalid JSONPath (``$``, ``$$`` or ``$variable`` rooted)."""
    if not isinstance(path, str) or not path.startswith("$"):
        return "a path must start with '$'"
    try:
        from engine.asl.paths import validate_path_syntax
    except ImportError:  # the sibling module is optional; a root check is the floor
        return None
    return validate_path_syntax(path)


def reference_path_problem(path: Any) -> str | None:
    """A Reference Path must also identify a single node (ASL spec, "Reference Paths")."""
    problem = path_problem(path)
    if problem is not None:
        return problem
    try:
        from engine.asl.paths import validate_reference_path
    except ImportError:
        return None if not any(c in path for c in "*?") and ".." not in path else "not definite"
    return validate_reference_path(path)


def intrinsic_problem(text: str) -> str | None:
    """What makes ``text`` an invalid intrinsic function call, or None."""
    try:
        from engine.asl.intrinsics import validate_intrinsic_syntax  # type: ignore[attr-defined]
    except ImportError:
        return _IntrinsicSyntax(text).problem()
    return validate_intrinsic_syntax(text)


def check_path(
    report: Report,
    value: Any,
    field: str,
    location: str,
    *,
    reference: bool = False,
    nullable: bool = False,
) -> None:
    """A ``*Path`` field: a JSONPath, or a Reference Path where the spec demands one."""
    if value is None and nullable:
        return
    problem = reference_path_problem(value) if reference else path_problem(value)
    if problem is not None:
        kind = "Reference Path" if reference else "JSONPath"
        report.schema(
            f"The value for the field '{field}' must be a valid {kind}", child(location, field)
        )


def check_path_or_intrinsic(report: Report, value: Any, field: str, location: str) -> None:
    """Fields such as ErrorPath and CausePath take a reference path or an intrinsic function."""
    if isinstance(value, str) and value.startswith("States."):
        problem = intrinsic_problem(value)
    else:
        problem = reference_path_problem(value)
    if problem is not None:
        report.schema(
            f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic "
            "function call",
            child(location, field),
        )


def dynamic_value_problem(value: Any) -> str | None:
    """A ``key.$`` value: a path, or an intrinsic function call (ASL spec, "Payload Template")."""
    if not isinstance(value, str):
        return "not a string"
    if value.startswith("$"):
        return path_problem(value)
    return intrinsic_problem(value)


def check_payload_template(report: Report, template: Any, location: str) -> None:
    """Parameters, ResultSelector, ItemSelector: every ``.$`` key must hold a valid path or
    intrinsic function. AWS reports the problem at the template field, not at the nested key."""
    if isinstance(template, dict):
        for key, value in template.items():
            if isinstance(key, str) and key.endswith(".$"):
                if dynamic_value_problem(value) is not None:
                    report.schema(
                        f"The value for the field '{key}' must be a valid JSONPath or a valid "
                        "intrinsic function call",
                        location,
                    )
            else:
                check_payload_template(report, value, location)
    elif isinstance(template, list):
        for item in template:
            check_payload_template(report, item, location)


def jsonata_problem(text: str) -> str | None:
    """Whether the body of a ``{% %}`` string compiles as JSONata."""
    body = text[2:-2]
    if not body.strip():
        return "empty expression"
    try:
        from jsonata import Jsonata
    except ImportError:  # evaluator absent: leave the check to run time
        return None
    try:
        Jsonata(body)
    except Exception as exc:  # noqa: BLE001 - any compile failure means "not valid JSONata"
        return str(exc) or type(exc).__name__
    return None


def check_jsonata_value(report: Report, value: Any, field: str, location: str) -> None:
    """A JSONata-mode field: each ``{% %}`` string in it (at any depth) must compile."""
    if is_jsonata(value):
        if jsonata_problem(value) is not None:
            report.schema(
                f"The value for the field '{field}' must be a valid JSONata expression",
                child(location, field),
            )
    elif isinstance(value, dict):
        for item in value.values():
            check_jsonata_value(report, item, field, location)
    elif isinstance(value, list):
        for item in value:
            check_jsonata_value(report, item, field, location)


def is_timestamp(text: Any) -> bool:
    """ASL spec, "Timestamps": an RFC3339 date-time with T and Z (or an offset), a real date."""
    if not isinstance(text, str):
        return False
    match = _TIMESTAMP_RE.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    offset_hours = match.group(9)
    return offset_hours is None or (int(offset_hours) <= 23 and int(match.group(10)) <= 59)


def variable_name_problem(name: str) -> str | None:
    """AWS "Passing data between states with variables": names start with a letter or
    underscore, hold letters, digits and underscores, and are at most 80 characters."""
    if not _VARIABLE_NAME_RE.fullmatch(name):
        return f"The variable name '{name}' is invalid"
    if len(name) > MAX_VARIABLE_NAME:
        return f"The variable name '{name}' exceeds {MAX_VARIABLE_NAME} characters"
    return None


def check_assign(report: Report, assign: Any, location: str, language: str) -> None:
    """``Assign``: an object of variable names; in JSONPath a ``name.$`` key takes a path or an
    intrinsic function, in JSONata values may hold ``{% %}`` expressions."""
    if not isinstance(assign, dict):
        report.schema(
            "The value for the field 'Assign' must be an object", child(location, "Assign")
        )
        return
    where = child(location, "Assign")
    for key, value in assign.items():
        dynamic = language == "JSONPath" and key.endswith(".$")
        name = key[:-2] if dynamic else key
        problem = variable_name_problem(name)
        if problem is not None:
            report.schema(problem, where)
        if dynamic:
            if dynamic_value_problem(value) is not None:
                report.schema(
                    f"The value for the field '{key}' must be a valid JSONPath or a valid "
                    "intrinsic function call",
                    where,
                )
        elif language == "JSONPath":
            check_payload_template(report, value, where)
        else:
            check_jsonata_value(report, value, "Assign", location)


def check_number(
    report: Report,
    value: Any,
    field: str,
    location: str,
    *,
    integer: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    jsonata: bool = False,
) -> None:
    """A numeric field, optionally a JSONata expression; AWS words bounds as "Minimum value is 0"
    (and "0.0" for decimal fields)."""
    where = child(location, field)
    if jsonata and is_jsonata(value):
        check_jsonata_value(report, value, field, location)
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "an integer" if integer else "a number"
        report.schema(f"The value for the field '{field}' must be {kind}", where)
        return
    if integer and isinstance(value, float) and not value.is_integer():
        report.schema(f"The value for the field '{field}' must be an integer", where)
        return
    if minimum is not None and value < minimum:
        report.schema(f"Minimum value is {_bound(minimum, integer)}", where)
    elif maximum is not None and value > maximum:
        report.schema(f"Maximum value is {_bound(maximum, integer)}", where)


def _bound(value: float, integer: bool) -> str:
    return str(int(value)) if integer else str(float(value))


class _IntrinsicSyntax:
    """A recursive-descent check of ``States.Name(arg, ...)`` (ASL spec, "Intrinsic Functions").

    Arguments are string literals in single quotes (escapes: ``\\'``, ``\\{``, ``\\}``,
    ``\\\\``), numbers, booleans, null, paths and nested calls.
    """

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def problem(self) -> str | None:
        try:
            self._call()
            self._spaces()
            if self.pos != len(self.text):
                raise ValueError(f"unexpected text at position {self.pos}")
        except ValueError as exc:
            return str(exc)
        return None

    def _spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _call(self) -> None:
        open_paren = self.text.find("(", self.pos)
        if open_paren < 0:
            raise ValueError("expected '('")
        name = self.text[self.pos : open_paren].strip()
        if name not in INTRINSIC_FUNCTIONS:
            raise ValueError(f"unknown intrinsic function '{name}'")
        self.pos = open_paren + 1
        self._spaces()
        if self._peek() == ")":
            self.pos += 1
            return
        while True:
            self._argument()
            self._spaces()
            char = self._peek()
            self.pos += 1
            if char == ")":
                return
            if char != ",":
                raise ValueError(f"expected ',' or ')' at position {self.pos - 1}")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _argument(self) -> None:
        self._spaces()
        rest = self.text[self.pos :]
        if rest.startswith("States."):
            self._call()
        elif rest.startswith("'"):
            self._string()
        elif rest.startswith("$"):
            self._path()
        else:
            for literal in ("true", "false", "null"):
                if rest.startswith(literal):
                    self.pos += len(literal)
                    return
            match = _NUMBER_RE.match(rest)
            if match is None:
                raise ValueError(f"invalid argument at position {self.pos}")
            self.pos += match.end()

    def _string(self) -> None:
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                if self.text[self.pos + 1 : self.pos + 2] not in ("'", "{", "}", "\\"):
                    raise ValueError(f"illegal escape sequence at position {self.pos}")
                self.pos += 2
                continue
            self.pos += 1
            if char == "'":
                return
        raise ValueError("unterminated string literal")

    def _path(self) -> None:
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        problem = path_problem(self.text[start : self.pos].strip())
        if problem is not None:
            raise ValueError(problem)
