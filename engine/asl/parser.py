"""Amazon States Language definitions: decode, validate, and report problems as AWS does.

``parse_definition`` is what CreateStateMachine and UpdateStateMachine call: it returns the
decoded definition (the interpreter works on the dict) or raises ``InvalidDefinition`` with AWS's
message, e.g.::

    Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required:
    [States] at /'

with several problems joined by ``", "`` in document order. ``validate_definition`` returns the
same problems as diagnostics for ValidateStateMachineDefinition.

The rules live in ``engine.asl.validation`` (one module per concern); they follow the ASL spec
(https://states-language.net/spec.html) and AWS's additions, worded as the recorded AWS responses
in ``conformance/cases`` word them. Nothing is cached between calls.
"""

from __future__ import annotations

import json
from typing import Any

from engine.asl.validation.report import (
    ERROR,
    INVALID_JSON_DESCRIPTION,
    Diagnostic,
    Report,
)
from engine.asl.validation.structure import Walker

__all__ = ["Diagnostic", "InvalidDefinition", "parse_definition", "validate_definition"]

_PREFIX = "Invalid State Machine Definition: "
MISSING_DESCRIPTION = "MISSING_DESCRIPTION"


class InvalidDefinition(Exception):
    """A definition AWS would refuse; ``message`` is AWS's full InvalidDefinition message."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics or []


def parse_definition(text: str) -> dict[str, Any]:
    """Decode and validate ``text``; return the definition or raise ``InvalidDefinition``."""
    definition, report = _validate(text)
    errors = [d for d in report.diagnostics if d.severity == ERROR]
    if errors:
        raise InvalidDefinition(render(errors), errors)
    if report.label_problems:
        raise InvalidDefinition(
            _label_message(report.label_problems[0], text), report.label_problems
        )
    return definition


def validate_definition(text: str) -> list[Diagnostic]:
    """Every problem in ``text``, errors and warnings, in the order AWS lists them."""
    _, report = _validate(text)
    return report.diagnostics + report.label_problems


def render(errors: list[Diagnostic]) -> str:
    """AWS's InvalidDefinition message: ``'<CODE>: <message> at <location>'`` joined by ", ".

    AWS prints a missing location as ``null`` (MISSING_END_STATE); a JSON syntax error carries
    its position in the message instead.
    """
    parts = []
    for diagnostic in errors:
        if diagnostic.code == INVALID_JSON_DESCRIPTION:
            parts.append(f"{diagnostic.code}: {diagnostic.message}")
        else:
            parts.append(
                f"{diagnostic.code}: {diagnostic.message} at {diagnostic.location or 'null'}"
            )
    return f"{_PREFIX}'{', '.join(parts)}'"


def _label_message(problem: Diagnostic, text: str) -> str:
    """AWS reports an invalid Map Label apart from the schema errors, as the validator's raw
    exception (recorded: test_sfn_api_map_run test_map_state_label_*_fail)::

        Error=ValueError Args=["Label contains invalid character: '?'"] in definition '<text>'.
    """
    return f"Error=ValueError Args={[problem.message]!r} in definition '{text}'."


def _validate(text: Any) -> tuple[Any, Report]:
    report = Report()
    if not isinstance(text, str) or not text.strip():
        report.add(MISSING_DESCRIPTION, "Received a null or empty workflow input", None)
        return None, report
    duplicates: dict[int, list[str]] = {}

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        decoded = dict(pairs)
        if len(decoded) != len(pairs):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in pairs:
                if key in seen:
                    repeated.append(key)
                seen.add(key)
            duplicates[id(decoded)] = repeated
        return decoded

    try:
        definition = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=_no_constant)
    except ValueError as exc:
        report.add(INVALID_JSON_DESCRIPTION, _json_problem(exc), None)
        return None, report
    walker = Walker(report, duplicates)
    walker.machine(definition)
    # Transitions are checked on a schema-valid definition only: a malformed state would
    # otherwise also surface as a dangling target or an unreachable state.
    if report.error_count() == 0:
        walker.transitions()
    return definition, report


def _no_constant(name: str) -> Any:
    # AWS parses with a strict JSON parser: NaN and Infinity are not JSON.
    raise ValueError(f"Unrecognized token '{name}'")


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return str(exc)
