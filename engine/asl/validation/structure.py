"""The walk over a definition: the top level, every scope (the machine, each Parallel branch,
each Map item processor), every state, and then transitions and reachability per scope.

ASL spec, "Top-level fields", "States" and "Transitions". AWS reports a transition to a missing
state as ``MISSING_TRANSITION_TARGET: Missing 'Next' target: X`` (whatever the field: StartAt,
Next, Default, Choices[i].Next, Catch[i].Next), a state nothing transitions to as
``State "X" is not reachable.``, and a scope without a terminal state as ``MISSING_END_STATE``
(which then suppresses the reachability report).
"""

from __future__ import annotations

from typing import Any, Final

from engine.asl.validation import choice, fields, states
from engine.asl.validation.report import (
    DUPLICATE_STATE_NAME,
    INVALID_STATE_NAME,
    JSONATA,
    JSONPATH,
    MISSING_END_STATE,
    MISSING_TRANSITION_TARGET,
    Report,
    child,
    indexed,
)
from engine.asl.validation.values import check_number

_TOP_FIELDS: Final = frozenset(
    {"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"}
)
_LANGUAGES: Final = (JSONPATH, JSONATA)
MAX_STATE_NAME: Final = 80
_TERMINAL_TYPES: Final = frozenset({"Succeed", "Fail"})


class Walker:
    """Walks one definition, writing to its ``Report``. Holds nothing beyond one validation.

    ``duplicates`` maps ``id()`` of each decoded JSON object that repeated a key to the repeated
    keys (JSON decoding keeps only the last, so the decoder records them for us).
    """

    def __init__(self, report: Report, duplicates: dict[int, list[str]]) -> None:
        self.report = report
        self.duplicates = duplicates
        self.machine_language = JSONPATH
        self.scopes: list[tuple[dict[str, Any], str]] = []
        self.names: set[str] = set()

    def machine(self, definition: Any) -> None:
        """Validate the whole definition."""
        report = self.report
        if not isinstance(definition, dict):
            report.schema("The state machine definition must be a JSON object", "/")
            return
        fields.check_object_fields(report, definition, _TOP_FIELDS, "/")
        fields.require(report, definition, ("StartAt", "States"), "/")
        language = definition.get("QueryLanguage", JSONPATH)
        if language not in _LANGUAGES:
            report.schema(
                f"The value for the field 'QueryLanguage' must be one of [{', '.join(_LANGUAGES)}]",
                "/QueryLanguage",
            )
        # AWS resolves any value other than exactly "JSONPath" to JSONata (floci #2968).
        self.machine_language = JSONPATH if language == JSONPATH else JSONATA
        for field in ("Comment", "Version"):
            if field in definition and not isinstance(definition[field], str):
                report.schema(f"The value for the field '{field}' must be a string", f"/{field}")
        if "TimeoutSeconds" in definition:
            check_number(
                report,
                definition["TimeoutSeconds"],
                "TimeoutSeconds",
                "/",
                minimum=0,
                maximum=99_999_999,
            )
        self._body(definition, "")

    def scope(self, node: Any, location: str, allowed: frozenset[str]) -> None:
        """A nested state machine: a Parallel branch or a Map ItemProcessor/Iterator."""
        if not isinstance(node, dict):
            self.report.schema("A nested state machine must be an object", location)
            return
        fields.check_object_fields(self.report, node, allowed, location)
        if fields.require(self.report, node, ("StartAt", "States"), location):
            self._body(node, location)

    def _body(self, node: dict[str, Any], location: str) -> None:
        report = self.report
        if "StartAt" in node and not isinstance(node["StartAt"], str):
            report.schema(
                "The value for the field 'StartAt' must be a string", child(location, "StartAt")
            )
        machine_states = node.get("States")
        if "States" not in node:
            return
        where = child(location, "States")
        if not isinstance(machine_states, dict) or not machine_states:
            report.schema("The value for the field 'States' must be a non-empty object", where)
            return
        self.scopes.append((node, location))
        for name in self.duplicates.get(id(machine_states), ()):
            report.add(DUPLICATE_STATE_NAME, f"Duplicate State name: {name}", child(where, name))
        for name, state in machine_states.items():
            self._state(name, state, child(where, name))

    def _state(self, name: str, state: Any, location: str) -> None:
        report = self.report
        if len(name) > MAX_STATE_NAME or not name:
            report.add(
                INVALID_STATE_NAME,
                f"State name must be 1-{MAX_STATE_NAME} characters long",
                location,
            )
        # ASL spec: "State names MUST be unique within the scope of the whole state machine."
        if name in self.names:
            report.add(DUPLICATE_STATE_NAME, f"Duplicate State name: {name}", location)
        self.names.add(name)
        if not isinstance(state, dict):
            report.schema("A state must be a JSON object", location)
            return
        if not fields.require(report, state, ("Type",), location):
            return
        state_type = state["Type"]
        if state_type not in fields.STATE_TYPES:
            report.schema(
                f"The value for the field 'Type' must be one of [{', '.join(fields.STATE_TYPES)}]",
                child(location, "Type"),
            )
            return
        language = self._language(state, location)
        fields.check_state_fields(report, state_type, state, location, language)
        states.check_common(self, state, location, language)
        if state_type == "Choice":
            choice.check_choices(report, state, location, language)
            if "Default" in state and not isinstance(state["Default"], str):
                report.schema(
                    "The value for the field 'Default' must be a string", child(location, "Default")
                )
        check = states.CHECKS.get(state_type)
        if check is not None:
            check(self, state, location, language)

    def _language(self, state: dict[str, Any], location: str) -> str:
        """A state's QueryLanguage: its own, else the machine's (AWS: nested scopes inherit the
        top-level language, not an enclosing Map's or Parallel's)."""
        if "QueryLanguage" not in state:
            return self.machine_language
        language = state["QueryLanguage"]
        if language not in _LANGUAGES:
            self.report.schema(
                f"The value for the field 'QueryLanguage' must be one of [{', '.join(_LANGUAGES)}]",
                child(location, "QueryLanguage"),
            )
            return JSONATA
        if language == JSONPATH and self.machine_language == JSONATA:
            self.report.schema(
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                location,
            )
        return language

    def transitions(self) -> None:
        """Per scope: targets that do not exist, then no terminal state or unreachable states."""
        for node, location in self.scopes:
            _check_scope_transitions(self.report, node, location)


def _targets(state: dict[str, Any], location: str) -> list[tuple[str, str]]:
    """Every (target, location) a state can transition to."""
    found: list[tuple[str, str]] = []
    if isinstance(state.get("Next"), str):
        found.append((state["Next"], child(location, "Next")))
    if state.get("Type") == "Choice":
        for index, rule in enumerate(state.get("Choices") or ()):
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                found.append((rule["Next"], child(indexed(location, "Choices", index), "Next")))
        if isinstance(state.get("Default"), str):
            found.append((state["Default"], child(location, "Default")))
    for index, catcher in enumerate(state.get("Catch") or ()):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            found.append((catcher["Next"], child(indexed(location, "Catch", index), "Next")))
    return found


def _check_scope_transitions(report: Report, node: dict[str, Any], location: str) -> None:
    machine_states: dict[str, Any] = node["States"]
    start = node.get("StartAt")
    referenced = {start}
    if isinstance(start, str) and start not in machine_states:
        report.add(
            MISSING_TRANSITION_TARGET, f"Missing 'Next' target: {start}", child(location, "StartAt")
        )
    where = child(location, "States")
    terminal = False
    for name, state in machine_states.items():
        if not isinstance(state, dict):
            continue
        terminal = terminal or state.get("End") is True or state.get("Type") in _TERMINAL_TYPES
        for target, target_location in _targets(state, child(where, name)):
            referenced.add(target)
            if target not in machine_states:
                report.add(
                    MISSING_TRANSITION_TARGET, f"Missing 'Next' target: {target}", target_location
                )
    if not terminal:
        report.add(MISSING_END_STATE, "Workflow has no terminal state", None)
        return
    # AWS calls a state unreachable when nothing names it as a target (cfn-lint #4074: with
    # StartAt dangling, only the state nothing points at is reported).
    for name in machine_states:
        if name not in referenced:
            report.add(
                MISSING_TRANSITION_TARGET, f'State "{name}" is not reachable.', child(where, name)
            )
