"""The diagnostics collector every validation module writes to, and the AWS diagnostic codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Codes from the ValidateStateMachineDefinitionDiagnostic reference (AWS API reference).
INVALID_JSON_DESCRIPTION: Final = "INVALID_JSON_DESCRIPTION"
SCHEMA_VALIDATION_FAILED: Final = "SCHEMA_VALIDATION_FAILED"
MISSING_TRANSITION_TARGET: Final = "MISSING_TRANSITION_TARGET"
MISSING_END_STATE: Final = "MISSING_END_STATE"
INVALID_RESOURCE: Final = "INVALID_RESOURCE"
INVALID_LABEL_NAME: Final = "INVALID_LABEL_NAME"
INVALID_STATE_NAME: Final = "INVALID_STATE_NAME"
DUPLICATE_STATE_NAME: Final = "DUPLICATE_STATE_NAME"
TOO_DEEPLY_NESTED: Final = "TOO_DEEPLY_NESTED"

ERROR: Final = "ERROR"
WARNING: Final = "WARNING"

JSONPATH: Final = "JSONPath"
JSONATA: Final = "JSONata"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a definition: botocore's ValidateStateMachineDefinitionDiagnostic."""

    severity: str
    code: str
    message: str
    location: str | None


class Report:
    """Collects diagnostics in the order the walk meets them (AWS lists them in document order).

    ``label_problems`` are kept apart: AWS reports an invalid Map ``Label`` in a different shape
    from every other problem (see ``engine.asl.parser``).
    """

    __slots__ = ("diagnostics", "label_problems")

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.label_problems: list[Diagnostic] = []

    def add(self, code: str, message: str, location: str | None) -> None:
        """Record an ERROR diagnostic."""
        self.diagnostics.append(Diagnostic(ERROR, code, message, location))

    def schema(self, message: str, location: str) -> None:
        """Record a SCHEMA_VALIDATION_FAILED error, the code of every structural problem."""
        self.add(SCHEMA_VALIDATION_FAILED, message, location)

    def warn(self, code: str, message: str, location: str | None) -> None:
        """Record a WARNING diagnostic (it never makes a definition invalid)."""
        self.diagnostics.append(Diagnostic(WARNING, code, message, location))

    def label(self, message: str, location: str) -> None:
        """Record an invalid Map Label."""
        self.label_problems.append(Diagnostic(ERROR, INVALID_LABEL_NAME, message, location))

    @property
    def has_errors(self) -> bool:
        """Whether anything makes the definition invalid."""
        return bool(self.label_problems) or any(d.severity == ERROR for d in self.diagnostics)

    def error_count(self) -> int:
        """How many errors have been recorded so far (labels aside)."""
        return sum(1 for d in self.diagnostics if d.severity == ERROR)


def child(location: str, name: str) -> str:
    """The JSON-pointer-like location AWS reports: ``/States/A`` + ``Next`` -> ``/States/A/Next``."""
    return f"/{name}" if location in ("", "/") else f"{location}/{name}"


def indexed(location: str, name: str, index: int) -> str:
    """AWS writes array elements as ``Choices[0]``, ``Retry[1]``, ``Branches[2]``."""
    return child(location, f"{name}[{index}]")


def json_type_name(value: object) -> str:
    """The JSON type of a decoded value, as the schema messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
