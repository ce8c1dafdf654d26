"""Real processes, SIGKILL, restart: nothing acknowledged is lost, nothing runs twice."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.support.server import EngineProcess, ServerProcess, sfn_client

ROLE = "arn:aws:iam::123456789012:role/test"
WAITING = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": "ready", "ResultPath": "$.phase", "Next": "Sleep"},
        "Sleep": {"Type": "Wait", "Seconds": 600, "Next": "Check"},
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.phase", "StringEquals": "ready", "Next": "Done"}],
            "Default": "Broken",
        },
        "Broken": {"Type": "Fail", "Error": "Broken"},
        "Done": {"Type": "Succeed"},
    },
}


def _check_histories(sfn: Any, arns: list[str]) -> None:
    for arn in arns:
        assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED", arn
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        ids = [e["id"] for e in events]
        assert ids == list(range(1, len(ids) + 1)), (arn, ids)
        terminal = [
            e
            for e in events
            if e["type"].startswith("Execution") and e["type"] != "ExecutionStarted"
        ]
        assert [e["type"] for e in terminal] == ["ExecutionSucceeded"], arn
        assert [e["type"] for e in events].count("WaitStateEntered") == 1


def _wait_all(sfn: Any, arns: list[str], timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    pending = set(arns)
    while pending and time.time() < deadline:
        pending = {
            a for a in pending if sfn.describe_execution(executionArn=a)["status"] == "RUNNING"
        }
        if pending:
            time.sleep(0.1)


def test_sigkill_midway_loses_nothing(database_url: str) -> None:
    server = ServerProcess(database_url).start()
    try:
        sfn = sfn_client(server.endpoint)
        sm = sfn.create_state_machine(name="crash", definition=json.dumps(WAITING), roleArn=ROLE)[
            "stateMachineArn"
        ]
        arns = [
            sfn.start_execution(stateMachineArn=sm, name=f"e{i}")["executionArn"]
            for i in range(100)
        ]
        server.kill()  # every start above was acknowledged, so every one must survive

        server = ServerProcess(database_url, port=server.port).start()
        sfn = sfn_client(server.endpoint)
        time.sleep(0.5)
        httpx.post(f"{server.endpoint}/_stepwell/clock", json={"advance": 300})
        time.sleep(0.3)
        server.kill()  # again, this time with some executions mid-flight

        server = ServerProcess(database_url, port=server.port).start()
        sfn = sfn_client(server.endpoint)
        httpx.post(f"{server.endpoint}/_stepwell/clock", json={"advance": 2000})
        _wait_all(sfn, arns)
        _check_histories(sfn, arns)
        assert len(sfn.list_executions(stateMachineArn=sm, maxResults=1000)["executions"]) == 100
    finally:
        server.stop()


def test_two_deciders_share_the_load(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several decider processes is a PostgreSQL deployment")
    api = ServerProcess(database_url, engine=False).start()
    nodes: list[EngineProcess] = []
    try:
        sfn = sfn_client(api.endpoint)
        definition = {
            "StartAt": "P0",
            "States": {
                **{
                    f"P{i}": {
                        "Type": "Pass",
                        "Result": i,
                        "ResultPath": f"$.p{i}",
                        "Next": f"P{i + 1}",
                    }
                    for i in range(5)
                },
                "P5": {"Type": "Wait", "Seconds": 0, "End": True},
            },
        }
        sm = sfn.create_state_machine(
            name="shared", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        arns = [
            sfn.start_execution(stateMachineArn=sm, name=f"x{i}")["executionArn"]
            for i in range(200)
        ]
        nodes = [EngineProcess(database_url, "node-a"), EngineProcess(database_url, "node-b")]
        _wait_all(sfn, arns, timeout=90)
        for arn in arns:
            events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            assert [e["id"] for e in events] == list(range(1, 15)), arn
            assert [e["type"] for e in events].count("ExecutionSucceeded") == 1
    finally:
        for node in nodes:
            node.stop()
        api.stop()
