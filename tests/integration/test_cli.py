"""The ``stepwell`` CLI against a real server (uvicorn in a thread, engine loops running)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli.main import app
from tests.conftest import make_context
from tests.support.server import free_port, thread_server

PASS = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "End": True},
    },
}
WAIT = {
    "StartAt": "W",
    "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ctx = make_context(f"sqlite:///{tmp_path_factory.mktemp('cli') / 'stepwell.db'}")
    with thread_server(ctx) as url:
        yield url
    ctx.store.dispose()


def definition_file(tmp_path: Path, definition: dict[str, Any]) -> str:
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    return str(path)


def create(cli: Any, tmp_path: Path, name: str, definition: dict[str, Any] = PASS) -> str:
    result = cli(
        "state-machines", "create", name, "--definition", definition_file(tmp_path, definition),
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["stateMachineArn"]


def wait_done(endpoint: str, arn: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = httpx.get(f"{endpoint}/v1/executions/{arn}").json()
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


def test_state_machine_commands(cli: Any, tmp_path: Path) -> None:
    result = cli(
        "state-machines", "create", "cli-sm", "--definition", definition_file(tmp_path, PASS)
    )
    assert result.exit_code == 0, result.output
    assert "Created arn:aws:states:us-east-1:123456789012:stateMachine:cli-sm" in result.stdout
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:cli-sm"

    listed = cli("state-machines", "list")
    assert listed.exit_code == 0
    assert "cli-sm" in listed.stdout and "STANDARD" in listed.stdout
    names = [m["name"] for m in json.loads(cli("state-machines", "list", "--json").stdout)[
        "stateMachines"
    ]]  # fmt: skip
    assert "cli-sm" in names

    described = cli("state-machines", "describe", arn)
    assert described.exit_code == 0
    assert "ACTIVE" in described.stdout and '"StartAt": "A"' in described.stdout
    as_json = json.loads(cli("state-machines", "describe", arn, "--json").stdout)
    assert json.loads(as_json["definition"]) == PASS

    deleted = cli("state-machines", "delete", arn)
    assert deleted.exit_code == 0
    missing = cli("state-machines", "describe", arn)
    assert missing.exit_code == 1
    assert "StateMachineDoesNotExist" in missing.stderr


def test_create_from_stdin_with_role(cli: Any) -> None:
    role = "arn:aws:iam::123456789012:role/cli"
    result = cli(
        "state-machines", "create", "from-stdin", "--definition", "-", "--role-arn", role,
        "--json", input=json.dumps(PASS),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["roleArn"] == role


def test_start_describe_list_and_history(cli: Any, tmp_path: Path, endpoint: str) -> None:
    sm_arn = create(cli, tmp_path, "cli-run")
    started = cli("executions", "start", sm_arn, "--name", "one", "--input", '{"n": 1}', "--json")
    assert started.exit_code == 0, started.output
    arn = json.loads(started.stdout)["executionArn"]
    assert arn.endswith(":execution:cli-run:one")
    assert wait_done(endpoint, arn)["status"] == "SUCCEEDED"

    described = cli("executions", "describe", arn)
    assert described.exit_code == 0
    assert "SUCCEEDED" in described.stdout and '"x": 1' in described.stdout
    as_json = json.loads(cli("executions", "describe", arn, "--json").stdout)
    assert json.loads(as_json["output"]) == {"n": 1, "a": {"x": 1}}

    listed = cli("executions", "list", sm_arn, "--status", "succeeded")
    assert listed.exit_code == 0 and "one" in listed.stdout
    running = json.loads(cli("executions", "list", sm_arn, "--status", "RUNNING", "--json").stdout)
    assert running == {"executions": []}

    history = cli("executions", "history", arn)
    assert history.exit_code == 0, history.output
    lines = history.stdout.splitlines()
    assert "Type" in lines[0] and "State" in lines[0]
    entered = next(line for line in lines if "PassStateEntered" in line)
    assert " A " in entered
    assert any("ExecutionSucceeded" in line for line in lines)

    events = json.loads(cli("executions", "history", arn, "--json").stdout)["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"
    reverse = json.loads(cli("executions", "history", arn, "--json", "--reverse").stdout)
    assert [e["id"] for e in reverse["events"]] == [e["id"] for e in reversed(events)]


def test_start_with_input_file_and_failure_details(cli: Any, tmp_path: Path, endpoint: str) -> None:
    sm_arn = create(cli, tmp_path, "cli-fail", FAIL)
    input_path = tmp_path / "input.json"
    input_path.write_text('{"from": "file"}')
    started = cli("executions", "start", sm_arn, "--input-file", str(input_path))
    assert started.exit_code == 0, started.output
    arn = started.stdout.split()[-1]
    assert wait_done(endpoint, arn)["status"] == "FAILED"
    described = cli("executions", "describe", arn)
    assert "Boom" in described.stdout and "on purpose" in described.stdout
    history = cli("executions", "history", arn)
    assert "Boom: on purpose" in history.stdout


def test_follow_a_short_execution(cli: Any, tmp_path: Path) -> None:
    sm_arn = create(cli, tmp_path, "cli-follow-short")
    arn = json.loads(cli("executions", "start", sm_arn, "--json").stdout)["executionArn"]
    followed = cli("executions", "history", arn, "--follow", "--interval", "0.02")
    assert followed.exit_code == 0, followed.output
    assert "ExecutionStarted" in followed.stdout
    assert "ExecutionSucceeded" in followed.stdout


def test_follow_prints_events_as_they_happen(cli: Any, tmp_path: Path, endpoint: str) -> None:
    sm_arn = create(cli, tmp_path, "cli-follow-wait", WAIT)
    arn = json.loads(cli("executions", "start", sm_arn, "--json").stdout)["executionArn"]

    def finish_the_wait() -> None:
        # Once the execution sits in its Wait state, move the server's clock past it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            events = httpx.get(f"{endpoint}/v1/executions/{arn}/history").json()["events"]
            if any(e["type"] == "WaitStateEntered" for e in events):
                break
            time.sleep(0.02)
        time.sleep(0.1)  # let the CLI print the first batch before the rest arrives
        httpx.post(f"{endpoint}/_stepwell/clock", json={"advance": 3600})

    helper = threading.Thread(target=finish_the_wait)
    helper.start()
    try:
        followed = cli("executions", "history", arn, "--follow", "--interval", "0.02", "--json")
    finally:
        helper.join(10)
    assert followed.exit_code == 0, followed.output
    types = [json.loads(line)["type"] for line in followed.stdout.splitlines()]
    assert types[0] == "ExecutionStarted"
    assert "WaitStateEntered" in types and "WaitStateExited" in types
    assert types[-1] == "ExecutionSucceeded"
    ids = [json.loads(line)["id"] for line in followed.stdout.splitlines()]
    assert ids == sorted(set(ids))  # every event once, in order


def test_stop(cli: Any, tmp_path: Path) -> None:
    sm_arn = create(cli, tmp_path, "cli-stop", WAIT)
    arn = json.loads(cli("executions", "start", sm_arn, "--json").stdout)["executionArn"]
    stopped = cli("executions", "stop", arn, "--error", "Manual", "--json")
    assert stopped.exit_code == 0, stopped.output
    body = json.loads(stopped.stdout)
    assert body["status"] == "ABORTED" and body["error"] == "Manual"
    history = cli("executions", "history", arn, "--follow", "--interval", "0.02")
    assert history.exit_code == 0 and "ExecutionAborted" in history.stdout


def test_api_errors_exit_1_with_title_and_detail(cli: Any, tmp_path: Path) -> None:
    ghost = "arn:aws:states:us-east-1:123456789012:execution:ghost:run"
    result = cli("executions", "describe", ghost)
    assert result.exit_code == 1
    assert "ExecutionDoesNotExist" in result.stderr
    assert ghost in result.stderr
    assert result.stdout == ""

    bad = {"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True}}}
    result = cli("state-machines", "create", "bad", "--definition", definition_file(tmp_path, bad))
    assert result.exit_code == 1
    assert "InvalidDefinition" in result.stderr


def test_usage_errors_exit_2(cli: Any, tmp_path: Path) -> None:
    sm_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:whatever"
    both = cli("executions", "start", sm_arn, "--input", "{}", "--input-file", "x.json")
    assert both.exit_code == 2
    not_json = cli("executions", "start", sm_arn, "--input", "{nope")
    assert not_json.exit_code == 2 and "not valid JSON" in not_json.stderr
    missing_file = cli("state-machines", "create", "x", "--definition", str(tmp_path / "none"))
    assert missing_file.exit_code == 2
    no_definition = cli("state-machines", "create", "x")
    assert no_definition.exit_code == 2
    follow_reverse = cli("executions", "history", "arn", "--follow", "--reverse")
    assert follow_reverse.exit_code == 2


def test_unreachable_server_is_a_clear_message(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["state-machines", "list", "--endpoint", dead])
    assert result.exit_code == 1
    assert "cannot reach the Stepwell server" in result.stderr
    assert "Traceback" not in result.output


def test_endpoint_from_environment(endpoint: str) -> None:
    result = CliRunner().invoke(
        app, ["state-machines", "list", "--json"], env={"STEPWELL_ENDPOINT": endpoint}
    )
    assert result.exit_code == 0, result.output
    assert "stateMachines" in json.loads(result.stdout)
