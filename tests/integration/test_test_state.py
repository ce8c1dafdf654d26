"""TestState through boto3: one state, an input, and what it would do."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import sfn_client, thread_server


@pytest.fixture
def sfn(ctx: Any) -> Any:
    with thread_server(ctx) as url:
        yield sfn_client(url)


def test_pass_state_with_inspection(sfn: Any) -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.a",
        "Parameters": {"x.$": "$.b"},
        "ResultPath": "$.out",
        "Next": "After",
    }
    result = sfn.test_state(
        definition=json.dumps(state),
        input='{"a": {"b": 7}}',
        roleArn="arn:aws:iam::123456789012:role/x",
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "SUCCEEDED" and result["nextState"] == "After"
    assert json.loads(result["output"]) == {"a": {"b": 7}, "out": {"x": 7}}
    data = result["inspectionData"]
    assert json.loads(data["afterInputPath"]) == {"b": 7}
    assert json.loads(data["afterParameters"]) == {"x": 7}
    assert json.loads(data["afterResultPath"]) == {"a": {"b": 7}, "out": {"x": 7}}


def test_choice_fail_wait_and_task(sfn: Any) -> None:
    choice = {
        "Type": "Choice",
        "Default": "No",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Yes"}],
    }
    assert sfn.test_state(definition=json.dumps(choice), input='{"n": 2}')["nextState"] == "Yes"
    assert sfn.test_state(definition=json.dumps(choice), input='{"n": 0}')["nextState"] == "No"
    failed = sfn.test_state(definition=json.dumps({"Type": "Fail", "Error": "E", "Cause": "C"}))
    assert failed["status"] == "FAILED" and failed["error"] == "E" and failed["cause"] == "C"
    waited = sfn.test_state(
        definition=json.dumps({"Type": "Wait", "Seconds": 3600, "End": True}), input='{"k": 1}'
    )
    assert waited["status"] == "SUCCEEDED" and json.loads(waited["output"]) == {"k": 1}
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "End": True,
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
    }
    retried = sfn.test_state(definition=json.dumps(task), input="{}")
    assert retried["status"] == "RETRIABLE"
    caught = {**task, "Retry": [], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}]}
    result = sfn.test_state(definition=json.dumps(caught), input="{}")
    assert result["status"] == "CAUGHT_ERROR" and result["nextState"] == "Handler"


def test_bad_state_definition(sfn: Any) -> None:
    with pytest.raises(ClientError) as err:
        sfn.test_state(definition=json.dumps({"Type": "Nope"}))
    assert err.value.response["Error"]["Code"] == "InvalidDefinition"
