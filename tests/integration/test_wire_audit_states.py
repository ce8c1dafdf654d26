"""Step Functions requests a boto3 user gets wrong, answered as AWS answers them: the length,
range and enum constraints botocore leaves to the server, CreateStateMachine's idempotency
rule, logging/tracing/tag rules, and the response fields clients read. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
FAIL = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}})
WAIT = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:sfn:*"


def error_of(call: Callable[[], Any]) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def ended(sfn: Any, arn: str, timeout: float = 10.0) -> dict[str, Any]:
    """DescribeExecution once the execution has left RUNNING."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.02)
    raise AssertionError(f"{arn} still running")


def test_create_is_idempotent_on_definition_type_and_configurations_only(sfn: Any) -> None:
    first = sfn.create_state_machine(name="idem", definition=PASS, roleArn=ROLE)
    # AWS: a different roleArn or tags is ignored, and neither is updated.
    again = sfn.create_state_machine(
        name="idem", definition=PASS, roleArn=ROLE + "-other", tags=[{"key": "k", "value": "v"}]
    )
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]
    described = sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])
    assert described["roleArn"] == ROLE
    logging = {
        "level": "ERROR",
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}],
    }
    for changed in (
        {"definition": WAIT},
        {"type": "EXPRESS"},
        {"loggingConfiguration": logging},
        {"tracingConfiguration": {"enabled": True}},
    ):
        request = {"name": "idem", "definition": PASS, "roleArn": ROLE, **changed}
        code, _, status = error_of(lambda r=request: sfn.create_state_machine(**r))  # type: ignore[misc]
        assert (code, status) == ("StateMachineAlreadyExists", 400), changed


def test_role_arn_logging_and_tracing_are_checked(sfn: Any) -> None:
    create = sfn.create_state_machine
    assert error_of(lambda: create(name="r", definition=PASS, roleArn="not-an-arn"))[0] == (
        "InvalidArn"
    )
    code, message, _ = error_of(
        lambda: create(
            name="r", definition=PASS, roleArn="arn:aws:iam::123456789012:role/" + "r" * 250
        )
    )
    assert code == "ValidationException" and "roleArn" in message
    code, message, _ = error_of(
        lambda: create(
            name="r", definition=PASS, roleArn=ROLE, loggingConfiguration={"level": "LOUD"}
        )
    )
    assert code == "ValidationException" and "loggingConfiguration.level" in message
    code, _, _ = error_of(
        lambda: create(
            name="r", definition=PASS, roleArn=ROLE, loggingConfiguration={"level": "ALL"}
        )
    )
    assert code == "InvalidLoggingConfiguration"
    assert sfn.list_state_machines()["stateMachines"] == []
    logging = {
        "level": "ALL",
        "includeExecutionData": True,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": LOG_GROUP}}],
    }
    arn = create(name="r", definition=PASS, roleArn=ROLE, loggingConfiguration=logging)[
        "stateMachineArn"
    ]
    assert sfn.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"] == logging
    # Off with nothing else: described with its defaults filled in.
    sfn.update_state_machine(stateMachineArn=arn, loggingConfiguration={"level": "OFF"})
    assert sfn.describe_state_machine(stateMachineArn=arn)["loggingConfiguration"] == {
        "level": "OFF",
        "includeExecutionData": False,
    }


def test_update_errors(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="u", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    assert error_of(lambda: sfn.update_state_machine(stateMachineArn=arn))[0] == (
        "MissingRequiredParameter"
    )
    assert error_of(lambda: sfn.update_state_machine(stateMachineArn=arn, roleArn="nope"))[0] == (
        "InvalidArn"
    )
    assert error_of(lambda: sfn.update_state_machine(stateMachineArn=arn, definition="{}"))[0] == (
        "InvalidDefinition"
    )
    missing = arn + "-gone"
    assert error_of(lambda: sfn.update_state_machine(stateMachineArn=missing, definition=PASS))[
        0
    ] == ("StateMachineDoesNotExist")
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == ROLE


def test_tags_limits_and_missing_resources(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="t", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    long_key = [{"key": "k" * 129, "value": "v"}]
    assert error_of(lambda: sfn.tag_resource(resourceArn=arn, tags=long_key))[0] == (
        "ValidationException"
    )
    long_value = [{"key": "k", "value": "v" * 257}]
    assert error_of(lambda: sfn.tag_resource(resourceArn=arn, tags=long_value))[0] == (
        "ValidationException"
    )
    forty = [{"key": f"k{i}", "value": "v"} for i in range(40)]
    sfn.tag_resource(resourceArn=arn, tags=forty)
    eleven_more = [{"key": f"x{i}", "value": "v"} for i in range(11)]
    code, _, status = error_of(lambda: sfn.tag_resource(resourceArn=arn, tags=eleven_more))
    assert (code, status) == ("TooManyTags", 400)
    # Re-tagging existing keys does not count twice.
    sfn.tag_resource(resourceArn=arn, tags=forty[:10] + eleven_more[:10])
    assert len(sfn.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
    activity = "arn:aws:states:us-east-1:123456789012:activity:nowhere"
    tags = [{"key": "a", "value": "b"}]
    for call in (
        lambda: sfn.tag_resource(resourceArn=activity, tags=tags),
        lambda: sfn.list_tags_for_resource(resourceArn=activity),
        lambda: sfn.untag_resource(resourceArn=arn + "-gone", tagKeys=["a"]),
    ):
        assert error_of(call)[0] == "ResourceNotFound"
    too_many = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    assert error_of(lambda: sfn.create_activity(name="many", tags=too_many))[0] == "TooManyTags"


def test_stop_and_task_failure_lengths(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="s", definition=WAIT, roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="one")["executionArn"]
    stop = sfn.stop_execution
    assert error_of(lambda: stop(executionArn=execution, error="e" * 257))[0] == (
        "ValidationException"
    )
    assert error_of(lambda: stop(executionArn=execution, cause="c" * 32769))[0] == (
        "ValidationException"
    )
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    stopped = stop(executionArn=execution, error="Halt", cause="by hand")
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED"
    assert (described["error"], described["cause"]) == ("Halt", "by hand")
    assert described["stopDate"] == stopped["stopDate"]
    assert "output" not in described
    send = sfn.send_task_failure
    assert error_of(lambda: send(taskToken="t", error="e" * 257))[0] == "ValidationException"
    assert error_of(lambda: send(taskToken="t", cause="c" * 32769))[0] == "ValidationException"


def test_execution_fields_clients_read(sfn: Any) -> None:
    ok = sfn.create_state_machine(name="ok", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    bad = sfn.create_state_machine(name="bad", definition=FAIL, roleArn=ROLE)["stateMachineArn"]
    done = ended(sfn, sfn.start_execution(stateMachineArn=ok, input='{"a": 1}')["executionArn"])
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"a": 1}
    assert done["stopDate"] >= done["startDate"] and "error" not in done
    failed = ended(sfn, sfn.start_execution(stateMachineArn=bad)["executionArn"])
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "E", "C")
    assert "output" not in failed and "stopDate" in failed
    (listed,) = sfn.list_executions(stateMachineArn=bad)["executions"]
    assert listed["executionArn"] == failed["executionArn"]
    assert listed["status"] == "FAILED" and listed["stopDate"] == failed["stopDate"]
    assert listed["name"] == failed["name"] and listed["stateMachineArn"] == bad
    light = sfn.describe_state_machine_for_execution(
        executionArn=done["executionArn"], includedData="METADATA_ONLY"
    )
    assert "definition" not in light and light["stateMachineArn"] == ok
    code, message, _ = error_of(
        lambda: sfn.describe_state_machine_for_execution(
            executionArn=done["executionArn"], includedData="SOME"
        )
    )
    assert code == "ValidationException" and "includedData" in message


def test_paging_through_executions(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="p", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    started = {sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(5)}
    seen: list[str] = []
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=arn, PaginationConfig={"PageSize": 2}
    )
    for page in pages:
        assert len(page["executions"]) <= 2
        seen += [e["executionArn"] for e in page["executions"]]
    assert sorted(seen) == sorted(started)
    token = sfn.list_executions(stateMachineArn=arn, maxResults=2)["nextToken"]
    # A token of another listing, or of nothing, is InvalidToken.
    assert error_of(lambda: sfn.list_state_machines(nextToken=token))[0] == "InvalidToken"
    assert error_of(lambda: sfn.list_executions(stateMachineArn=arn, maxResults=1001))[0] == (
        "ValidationException"
    )


def test_validate_definition_parameters(sfn: Any) -> None:
    validate = sfn.validate_state_machine_definition
    assert error_of(lambda: validate(definition=PASS, type="HUGE"))[0] == "ValidationException"
    assert error_of(lambda: validate(definition=PASS, severity="INFO"))[0] == (
        "ValidationException"
    )
    assert error_of(lambda: validate(definition=PASS, maxResults=101))[0] == ("ValidationException")
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Nope"}, "B": {"Type": "Nope"}}})
    everything = validate(definition=broken)
    assert everything["result"] == "FAIL" and everything["truncated"] is False
    assert len(everything["diagnostics"]) >= 2
    one = validate(definition=broken, maxResults=1)
    assert len(one["diagnostics"]) == 1 and one["truncated"] is True
    fine = validate(definition=PASS)
    assert (fine["result"], fine["diagnostics"], fine["truncated"]) == ("OK", [], False)
