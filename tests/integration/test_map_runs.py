"""Distributed Map runs: MapRun* events, DescribeMapRun, ListMapRuns, UpdateMapRun via boto3."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import sfn_client, thread_server

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "Label": "Fan",
            "MaxConcurrency": 2,
            "ToleratedFailureCount": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 3, "Next": "Bad"}],
                        "Default": "Good",
                    },
                    "Bad": {"Type": "Fail", "Error": "Three"},
                    "Good": {"Type": "Pass", "End": True},
                },
            },
            "End": True,
        }
    },
}


def test_distributed_map_records_a_map_run(ctx: Any) -> None:
    with thread_server(ctx) as url:
        sfn = sfn_client(url)
        sm = sfn.create_state_machine(
            name="fan",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/x",
        )
        ex = sfn.start_execution(stateMachineArn=sm["stateMachineArn"], input="[1, 2, 3, 4]")
        arn = ex["executionArn"]
        deadline = time.time() + 10
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            assert time.time() < deadline
            time.sleep(0.02)
        described = sfn.describe_execution(executionArn=arn)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == [1, 2, None, 4]
        types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
        assert types == [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded",
        ]
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        assert len(runs) == 1 and "/Fan:" in runs[0]["mapRunArn"]
        run = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
        assert run["status"] == "SUCCEEDED" and run["maxConcurrency"] == 2
        assert run["itemCounts"]["total"] == 4 and run["itemCounts"]["failed"] == 1
        assert run["itemCounts"]["succeeded"] == 3 and run["toleratedFailureCount"] == 1
        sfn.update_map_run(mapRunArn=runs[0]["mapRunArn"], maxConcurrency=5)
        assert sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["maxConcurrency"] == 5
        with pytest.raises(ClientError) as err:
            sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"] + "x")
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"
