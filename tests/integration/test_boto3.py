"""boto3 as the client of the Step Functions wire API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.server import sfn_client, thread_server

ROLE = "arn:aws:iam::123456789012:role/test"
PASS_CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a.x, 41)"}, "End": True},
    },
}
WAIT = {
    "StartAt": "W",
    "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
}


def wait_status(sfn: Any, arn: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    return described


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_create_start_describe_history(sfn: Any) -> None:
    sm = sfn.create_state_machine(name="chain", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)
    arn = sm["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:chain"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(described["definition"]) == PASS_CHAIN
    assert described["status"] == "ACTIVE" and described["type"] == "STANDARD"
    ex = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"k": "v"}')
    result = wait_status(sfn, ex["executionArn"])
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"sum": 42}
    events = sfn.get_execution_history(executionArn=ex["executionArn"])["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == list(range(1, 7))
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5]
    reverse = sfn.get_execution_history(executionArn=ex["executionArn"], reverseOrder=True)
    assert [e["id"] for e in reverse["events"]] == list(range(6, 0, -1))
    no_data = sfn.get_execution_history(
        executionArn=ex["executionArn"], includeExecutionData=False
    )["events"]
    assert "input" not in no_data[0]["executionStartedEventDetails"]
    for_exec = sfn.describe_state_machine_for_execution(executionArn=ex["executionArn"])
    assert json.loads(for_exec["definition"]) == PASS_CHAIN


def test_history_pagination(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="pages", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)[
        "stateMachineArn"
    ]
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_status(sfn, ex)
    seen, token = [], None
    while True:
        kwargs = {"executionArn": ex, "maxResults": 4}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        seen += [e["id"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [1, 2, 3, 4, 5, 6]


def test_list_with_pagination_and_status(sfn: Any) -> None:
    for index in range(5):
        sfn.create_state_machine(
            name=f"sm-{index}", definition=json.dumps(PASS_CHAIN), roleArn=ROLE
        )
    first = sfn.list_state_machines(maxResults=2)
    assert len(first["stateMachines"]) == 2 and "nextToken" in first
    names = [m["name"] for m in first["stateMachines"]]
    token = first["nextToken"]
    while token:
        page = sfn.list_state_machines(maxResults=2, nextToken=token)
        names += [m["name"] for m in page["stateMachines"]]
        token = page.get("nextToken")
    assert names == [f"sm-{i}" for i in range(5)]

    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    wait_arn = sfn.create_state_machine(name="waits", definition=json.dumps(WAIT), roleArn=ROLE)[
        "stateMachineArn"
    ]
    for index in range(3):
        wait_status(sfn, sfn.start_execution(stateMachineArn=arn, name=f"e{index}")["executionArn"])
    sfn.start_execution(stateMachineArn=wait_arn, name="sleeper")
    listed = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert [e["name"] for e in listed["executions"]] == ["e2", "e1"]
    rest = sfn.list_executions(stateMachineArn=arn, nextToken=listed["nextToken"])
    assert [e["name"] for e in rest["executions"]] == ["e0"]
    running = sfn.list_executions(stateMachineArn=wait_arn, statusFilter="RUNNING")
    assert [e["name"] for e in running["executions"]] == ["sleeper"]
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []


def test_wait_state_uses_injected_clock_and_stop(sfn: Any, endpoint: str) -> None:
    arn = sfn.create_state_machine(name="wait", definition=json.dumps(WAIT), roleArn=ROLE)[
        "stateMachineArn"
    ]
    first = sfn.start_execution(stateMachineArn=arn, name="a")["executionArn"]
    second = sfn.start_execution(stateMachineArn=arn, name="b")["executionArn"]
    time.sleep(0.2)
    assert sfn.describe_execution(executionArn=first)["status"] == "RUNNING"
    stopped = sfn.stop_execution(executionArn=second, error="Halt", cause="by test")
    assert "stopDate" in stopped
    described = sfn.describe_execution(executionArn=second)
    assert described["status"] == "ABORTED" and described["error"] == "Halt"
    httpx.post(f"{endpoint}/_stepwell/clock", json={"advance": 3601})
    assert wait_status(sfn, first)["status"] == "SUCCEEDED"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=second)["events"]]
    assert types[-1] == "ExecutionAborted" and types.count("ExecutionAborted") == 1
    assert sfn.describe_execution(executionArn=second)["status"] == "ABORTED"


def test_start_is_idempotent_by_name_and_input(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="idem", definition=json.dumps(WAIT), roleArn=ROLE)[
        "stateMachineArn"
    ]
    one = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    two = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    assert one["executionArn"] == two["executionArn"]
    with pytest.raises(ClientError) as err:
        sfn.start_execution(stateMachineArn=arn, name="same", input='{"other": 1}')
    assert code_of(err) == "ExecutionAlreadyExists"


def test_update_tags_delete(sfn: Any) -> None:
    arn = sfn.create_state_machine(
        name="upd",
        definition=json.dumps(PASS_CHAIN),
        roleArn=ROLE,
        tags=[{"key": "team", "value": "a"}],
    )["stateMachineArn"]
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(WAIT))
    assert "updateDate" in updated
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == WAIT
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}])
    tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    assert {t["key"]: t["value"] for t in tags} == {"team": "a", "env": "dev"}
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as err:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert code_of(err) == "StateMachineDoesNotExist"


@pytest.mark.parametrize(
    "definition, fragment",
    [
        ("{not json", "INVALID_JSON_DESCRIPTION"),
        (json.dumps({"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}}), "A"),
        (
            json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}),
            "Nowhere",
        ),
        (
            json.dumps(
                {
                    "StartAt": "A",
                    "States": {"A": {"Type": "Pass", "InputPath": "$.[bad", "End": True}},
                }
            ),
            "InputPath",
        ),
    ],
)
def test_bad_definitions(sfn: Any, definition: str, fragment: str) -> None:
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(name="bad", definition=definition, roleArn=ROLE)
    assert code_of(err) == "InvalidDefinition"
    assert fragment in err.value.response["Error"]["Message"]
    assert sfn.list_state_machines()["stateMachines"] == []


def test_an_empty_execution_name_is_refused_not_replaced(sfn: Any, endpoint: str) -> None:
    """boto3 refuses an empty name itself; a client that sends one anyway gets InvalidName
    (an absent name is the one that gets a generated UUID) and nothing is started."""
    arn = sfn.create_state_machine(name="named", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)[
        "stateMachineArn"
    ]
    answer = httpx.post(
        endpoint,
        content=json.dumps({"stateMachineArn": arn, "name": ""}),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.StartExecution",
        },
    )
    assert answer.status_code == 400
    assert answer.json()["__type"] == "InvalidName"
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_bad_inputs_get_aws_codes(sfn: Any) -> None:
    arn = sfn.create_state_machine(name="ok", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)[
        "stateMachineArn"
    ]
    cases = [
        (
            lambda: sfn.start_execution(stateMachineArn=arn, input="x" * 300_000),
            "ValidationException",
        ),
        (lambda: sfn.start_execution(stateMachineArn=arn, input="{nope"), "InvalidExecutionInput"),
        (lambda: sfn.start_execution(stateMachineArn=arn + "-missing"), "StateMachineDoesNotExist"),
        (lambda: sfn.start_execution(stateMachineArn="not-an-arn"), "InvalidArn"),
        (lambda: sfn.start_execution(stateMachineArn=arn, name="bad name"), "InvalidName"),
        (
            lambda: sfn.create_state_machine(
                name="a/b", definition=json.dumps(PASS_CHAIN), roleArn=ROLE
            ),
            "InvalidName",
        ),
        (
            lambda: sfn.create_state_machine(name="ok", definition=json.dumps(WAIT), roleArn=ROLE),
            "StateMachineAlreadyExists",
        ),
        (
            lambda: sfn.describe_execution(
                executionArn=arn.replace("stateMachine", "execution") + ":nope"
            ),
            "ExecutionDoesNotExist",
        ),
        (lambda: sfn.list_state_machines(nextToken="garbage!"), "InvalidToken"),
        (
            lambda: sfn.start_execution(stateMachineArn=arn, traceHeader="x" * 300),
            "ValidationException",
        ),
        (lambda: sfn.start_execution(stateMachineArn=arn, traceHeader="é"), "ValidationException"),
        (lambda: sfn.update_state_machine(stateMachineArn=arn + ":1"), "ValidationException"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as err:
            call()
        assert code_of(err) == code, err.value.response
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Nothing stored was harmed by the bad calls.
    ex = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_status(sfn, ex)["status"] == "SUCCEEDED"


def test_region_from_signature_and_sts(endpoint: str) -> None:
    west = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    arn = west.create_state_machine(name="w", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)[
        "stateMachineArn"
    ]
    assert arn.startswith("arn:aws:states:eu-west-1:123456789012:")
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_validate_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=json.dumps(PASS_CHAIN))
    assert ok["result"] == "OK" and ok["diagnostics"] == []
    bad = sfn.validate_state_machine_definition(definition='{"StartAt": "X", "States": {}}')
    assert bad["result"] == "FAIL" and bad["diagnostics"]


def test_reset_requires_flag(ctx: Any) -> None:
    ctx.settings.allow_reset = False
    with thread_server(ctx) as url:
        assert httpx.post(f"{url}/_stepwell/reset").status_code == 403
    ctx.settings.allow_reset = True
    with thread_server(ctx) as url:
        client = sfn_client(url)
        client.create_state_machine(name="gone", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)
        assert httpx.post(f"{url}/_stepwell/reset").status_code == 204
        assert client.list_state_machines()["stateMachines"] == []


def test_a_failure_inside_the_server_is_an_aws_internal_failure(
    ctx: Any, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of the server itself (here: listing state machines breaks) reaches boto3 as
    AWS's own InternalFailure (500, retried by SDKs), not a plain-text page; the next call
    works and nothing stored is touched."""
    from api.aws import states

    sfn = sfn_client(endpoint)  # one attempt: no retries
    sfn.create_state_machine(name="kept", definition=json.dumps(PASS_CHAIN), roleArn=ROLE)

    def broken(ctx: Any, region: str, body: Any) -> Any:
        raise RuntimeError("the disk is gone")

    monkeypatch.setitem(states.OPERATIONS, "ListStateMachines", broken)
    with pytest.raises(ClientError) as err:
        sfn.list_state_machines()
    assert code_of(err) == "InternalFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    monkeypatch.undo()
    assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["kept"]


def test_a_failure_inside_the_server_is_an_sqs_internal_failure(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same on SQS's JSON protocol: boto3 reads InternalFailure (500) from the
    query-compatible header SQS answers carry, and the queue made before is intact."""
    from engine.services import queues

    url = sqs.create_queue(QueueName="kept")["QueueUrl"]

    def broken(ctx: Any, caller: Any, body: Any) -> Any:
        raise RuntimeError("the disk is gone")

    monkeypatch.setitem(queues.OPERATIONS, "ListQueues", broken)
    with pytest.raises(ClientError) as err:
        sqs.list_queues()
    assert code_of(err) == "InternalFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == (
        "InternalFailure;Receiver"
    )
    monkeypatch.undo()
    assert sqs.list_queues()["QueueUrls"] == [url]
