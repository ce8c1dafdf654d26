"""engine.asl.parser against recorded AWS behaviour and the ASL rules it implements.

Every ``creation_failure`` conformance case must be refused with AWS's exact message, and every
``execution`` case (each ran on AWS) must be accepted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.asl.parser import (
    Diagnostic,
    InvalidDefinition,
    parse_definition,
    validate_definition,
)

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "cases"


def _cases(kind: str) -> list[Any]:
    if not CASES.is_dir():
        return []
    found = []
    for path in sorted(CASES.glob("*.json")):
        case = json.loads(path.read_text())
        if case.get("kind") == kind:
            found.append(pytest.param(case, id=path.stem[-90:]))
    return found


def _refusal(definition: Any) -> str:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    with pytest.raises(InvalidDefinition) as caught:
        parse_definition(text)
    return caught.value.message


@pytest.mark.parametrize("case", _cases("creation_failure"))
def test_creation_failure_matches_aws(case: dict[str, Any]) -> None:
    expected = case["expect"]["creation_error"]
    assert expected["code"] == "InvalidDefinition"
    message = _refusal(case["definition"])
    if isinstance(expected["message"], dict):
        assert re.fullmatch(expected["message"]["$match"], message), message
    else:
        assert message == expected["message"]


@pytest.mark.parametrize("case", _cases("execution"))
def test_execution_definition_is_accepted(case: dict[str, Any]) -> None:
    definition = parse_definition(json.dumps(case["definition"]))
    assert definition == case["definition"]


PASS_END = {"Type": "Pass", "End": True}


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def test_malformed_json() -> None:
    message = _refusal('{"StartAt": ')
    assert message.startswith("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ")
    [diagnostic] = validate_definition("{bad")
    assert diagnostic.code == "INVALID_JSON_DESCRIPTION"


def test_valid_definition_has_no_diagnostics() -> None:
    assert validate_definition(json.dumps(machine(A=PASS_END))) == []


def test_dangling_next_and_no_terminal_state() -> None:
    assert _refusal(machine(A={"Type": "Pass", "Next": "B"})) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B "
        "at /States/A/Next, MISSING_END_STATE: Workflow has no terminal state at null'"
    )


def test_missing_start_and_unreachable_state() -> None:
    definition = {"StartAt": "X", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": PASS_END}}
    assert _refusal(definition) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: X "
        'at /StartAt, MISSING_TRANSITION_TARGET: State "A" is not reachable. at /States/A\''
    )


def test_dangling_targets_in_choice_and_catch() -> None:
    definition = machine(
        C={
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Nope"}],
            "Default": "T",
        },
        T={
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "End": True,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
        },
    )
    locations = [d.location for d in validate_definition(json.dumps(definition))]
    assert locations == ["/States/C/Choices[0]/Next", "/States/T/Catch[0]/Next"]


def test_unsupported_field_per_state_type() -> None:
    definition = machine(A={"Type": "Pass", "End": True, "TimeoutSeconds": 3, "Catch": []})
    assert [d.message for d in validate_definition(json.dumps(definition))] == [
        "Field 'TimeoutSeconds' is not supported",
        "Field 'Catch' is not supported",
    ]


def test_next_and_end() -> None:
    both = validate_definition(json.dumps(machine(A={"Type": "Pass", "End": True, "Next": "A"})))
    neither = validate_definition(json.dumps(machine(A={"Type": "Pass"})))
    assert both[0].location == neither[0].location == "/States/A"
    assert "Next" in neither[0].message


def test_required_fields() -> None:
    assert _refusal({"StartAt": "A"}).endswith("These fields are required: [States] at /'")
    assert "[Resource]" in _refusal(machine(A={"Type": "Task", "End": True}))


def test_query_language_exclusive_fields() -> None:
    jsonpath = validate_definition(json.dumps(machine(A={**PASS_END, "Output": 1})))
    assert jsonpath[0].message == (
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the "
        "'JSONata' QueryLanguage"
    )
    jsonata = {"QueryLanguage": "JSONata", **machine(A={**PASS_END, "InputPath": "$"})}
    assert "field 'InputPath' is only supported for the 'JSONPath'" in _refusal(jsonata)
    downgrade = {"QueryLanguage": "JSONata", **machine(A={**PASS_END, "QueryLanguage": "JSONPath"})}
    assert "can not be 'JSONPath'" in _refusal(downgrade)


def test_retry_rules() -> None:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    definition = machine(
        A={
            **task,
            "Retry": [
                {"ErrorEquals": ["States.ALL"]},
                {
                    "ErrorEquals": ["X"],
                    "IntervalSeconds": 0,
                    "BackoffRate": 0.5,
                    "MaxAttempts": -1,
                    "MaxDelaySeconds": 0,
                    "JitterStrategy": "SOME",
                },
            ],
        }
    )
    locations = [d.location for d in validate_definition(json.dumps(definition))]
    assert locations == [
        "/States/A/Retry[0]",
        "/States/A/Retry[1]/IntervalSeconds",
        "/States/A/Retry[1]/MaxAttempts",
        "/States/A/Retry[1]/BackoffRate",
        "/States/A/Retry[1]/MaxDelaySeconds",
        "/States/A/Retry[1]/JitterStrategy",
    ]
    alone = machine(A={**task, "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]})
    assert "must appear alone" in _refusal(alone)


def test_choice_rules() -> None:
    definition = machine(
        C={
            "Type": "Choice",
            "Default": "B",
            "Choices": [
                {"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "B"},
                {"StringEquals": "a", "Next": "B"},
                {"Not": {"Variable": "$.x", "IsNull": True, "Next": "B"}, "Next": "B"},
                {"Variable": "$.x", "NumericEquals": "1", "Next": "B"},
                {"Variable": "$.x", "TimestampEquals": "yesterday", "Next": "B"},
                {"Variable": "$.x", "IsNull": True},
            ],
        },
        B=PASS_END,
    )
    assert [(d.message, d.location) for d in validate_definition(json.dumps(definition))] == [
        (
            "There should only be one of the following fields: [StringEquals, NumericEquals]",
            "/States/C/Choices[0]",
        ),
        ("These fields are required: [Variable]", "/States/C/Choices[1]"),
        ("Field 'Next' is not supported", "/States/C/Choices[2]/Not"),
        (
            "The value for the field 'NumericEquals' must be a number",
            "/States/C/Choices[3]/NumericEquals",
        ),
        ("String does not match RFC3339 timestamp", "/States/C/Choices[4]/TimestampEquals"),
        ("These fields are required: [Next]", "/States/C/Choices[5]"),
    ]


def test_jsonata_choice_needs_condition() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        **machine(
            C={"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "B"}]},
            B=PASS_END,
        ),
    }
    messages = [d.message for d in validate_definition(json.dumps(definition))]
    assert "These fields are required: [Condition]" in messages


def test_wait_needs_exactly_one_duration() -> None:
    none = validate_definition(json.dumps(machine(W={"Type": "Wait", "End": True})))
    two = validate_definition(
        json.dumps(machine(W={"Type": "Wait", "End": True, "Seconds": 1, "TimestampPath": "$.t"}))
    )
    assert len(none) == len(two) == 1
    assert two[0].message == (
        "There should only be one of the following fields: [Seconds, TimestampPath]"
    )


def test_fail_error_and_error_path_are_exclusive() -> None:
    definition = machine(F={"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})
    assert "[Error, ErrorPath]" in _refusal(definition)


def test_paths() -> None:
    definition = machine(
        A={
            **PASS_END,
            "InputPath": "nope",
            "ResultPath": "$.a[*]",
            "Parameters": {"x.$": "$$.Execution.Id", "y": {"z.$": "States.Bad()"}},
        }
    )
    assert [(d.message, d.location) for d in validate_definition(json.dumps(definition))] == [
        ("The value for the field 'InputPath' must be a valid JSONPath", "/States/A/InputPath"),
        (
            "The value for the field 'ResultPath' must be a valid Reference Path",
            "/States/A/ResultPath",
        ),
        (
            "The value for the field 'z.$' must be a valid JSONPath or a valid intrinsic function "
            "call",
            "/States/A/Parameters",
        ),
    ]


def test_pass_result_is_static() -> None:
    # Pass "Result" is a literal: a ".$" key in it is not evaluated, so not validated.
    assert parse_definition(json.dumps(machine(A={**PASS_END, "Result": {"a.$": "oops"}})))


def test_jsonata_expressions_must_compile() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        **machine(A={**PASS_END, "Output": {"x": "{% $states.input. %}"}}),
    }
    [diagnostic] = validate_definition(json.dumps(definition))
    assert diagnostic.location == "/States/A/Output"
    # Delimiters must be the first and last characters; anything else is a literal string.
    literal = {"QueryLanguage": "JSONata", **machine(A={**PASS_END, "Output": " {% ( %} "})}
    assert parse_definition(json.dumps(literal))


def test_assign_variable_names() -> None:
    definition = machine(A={**PASS_END, "Assign": {"ok": 1, "bad-name": 2, "_x.$": "$.y"}})
    [diagnostic] = validate_definition(json.dumps(definition))
    assert diagnostic.message == "The variable name 'bad-name' is invalid"


def test_task_resource_must_be_recognized() -> None:
    definition = machine(
        T={"Type": "Task", "Resource": "arn:aws:states:::sqs:receiveMessage", "End": True}
    )
    assert "is not recognized" in _refusal(definition)
    sdk = machine(
        T={"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:receiveMessage", "End": True}
    )
    assert parse_definition(json.dumps(sdk))


def test_map_fields() -> None:
    processor = {"StartAt": "P", "States": {"P": PASS_END}}
    definition = machine(
        M={
            "Type": "Map",
            "End": True,
            "ItemProcessor": {
                **processor,
                "QueryLanguage": "JSONata",
                "ProcessorConfig": {"Mode": "SOMETIMES"},
            },
            "MaxConcurrency": 1,
            "MaxConcurrencyPath": "$.n",
            "ToleratedFailurePercentage": 101,
        }
    )
    assert [(d.message, d.location) for d in validate_definition(json.dumps(definition))] == [
        (
            "There should only be one of the following fields: [MaxConcurrency, MaxConcurrencyPath]",
            "/States/M",
        ),
        ("Maximum value is 100.0", "/States/M/ToleratedFailurePercentage"),
        (
            "The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]",
            "/States/M/ItemProcessor/ProcessorConfig/Mode",
        ),
        ("Field 'QueryLanguage' is not supported", "/States/M/ItemProcessor"),
    ]


def test_nested_scopes_are_checked_for_transitions() -> None:
    definition = machine(
        P={
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {
                    "StartAt": "B1",
                    "States": {"B1": {"Type": "Pass", "Next": "Nowhere"}, "B2": PASS_END},
                },
            ],
        }
    )
    assert [d.location for d in validate_definition(json.dumps(definition))] == [
        "/States/P/Branches[0]/States/B1/Next",
        "/States/P/Branches[0]/States/B2",
    ]


def test_duplicate_state_names() -> None:
    text = (
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Succeed"}}}'
    )
    [diagnostic] = validate_definition(text)
    assert diagnostic.code == "DUPLICATE_STATE_NAME"


def test_label_message_embeds_the_definition() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "End": True,
            "Label": "a/b",
            "ItemProcessor": {"StartAt": "P", "States": {"P": PASS_END}},
        }
    )
    text = json.dumps(definition)
    assert _refusal(text) == (
        f"Error=ValueError Args=[\"Label contains invalid character: '/'\"] in definition '{text}'."
    )
    [diagnostic] = validate_definition(text)
    assert diagnostic == Diagnostic(
        "ERROR", "INVALID_LABEL_NAME", "Label contains invalid character: '/'", "/States/M/Label"
    )


def test_empty_definition() -> None:
    [diagnostic] = validate_definition("   ")
    assert diagnostic.code == "MISSING_DESCRIPTION"
