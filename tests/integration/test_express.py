"""Express state machines and StartSyncExecution over boto3 (with the sync- host prefix on)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.server import sfn_client, thread_server

ROLE = "arn:aws:iam::123456789012:role/x"
DOUBLE = {
    "StartAt": "D",
    "States": {
        "D": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"}, "End": True}
    },
}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}


def test_start_sync_execution(ctx: Any) -> None:
    with thread_server(ctx) as url:
        sfn = sfn_client(url)
        express = sfn.create_state_machine(
            name="fast", definition=json.dumps(DOUBLE), roleArn=ROLE, type="EXPRESS"
        )["stateMachineArn"]
        result = sfn.start_sync_execution(stateMachineArn=express, input='{"n": 4}')
        assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"v": 8}
        assert ":express:fast:" in result["executionArn"]
        assert result["billingDetails"]["billedDurationInMilliseconds"] >= 100
        failing = sfn.create_state_machine(
            name="bad", definition=json.dumps(FAIL), roleArn=ROLE, type="EXPRESS"
        )["stateMachineArn"]
        failed = sfn.start_sync_execution(stateMachineArn=failing)
        assert failed["status"] == "FAILED" and failed["error"] == "Nope"
        standard = sfn.create_state_machine(
            name="std", definition=json.dumps(DOUBLE), roleArn=ROLE
        )["stateMachineArn"]
        with pytest.raises(ClientError) as err:
            sfn.start_sync_execution(stateMachineArn=standard, input='{"n": 1}')
        assert err.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"
        # Express executions also start asynchronously.
        started = sfn.start_execution(stateMachineArn=express, input='{"n": 1}')
        assert ":express:fast:" in started["executionArn"]


def test_sync_host_prefix_is_accepted(ctx: Any) -> None:
    with thread_server(ctx) as url:
        # boto3 prefixes "sync-" to the host; 127.0.0.1 cannot take a prefix, but
        # localhost-style names resolve on this machine only if /etc/hosts says so, so post
        # with the Host header boto3 would send instead.
        import httpx

        sfn = sfn_client(url)
        arn = sfn.create_state_machine(
            name="h", definition=json.dumps(DOUBLE), roleArn=ROLE, type="EXPRESS"
        )["stateMachineArn"]
        response = httpx.post(
            url,
            json={"stateMachineArn": arn, "input": '{"n": 2}'},
            headers={
                "Host": "sync-states.us-east-1.amazonaws.com",
                "X-Amz-Target": "AWSStepFunctions.StartSyncExecution",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        assert response.status_code == 200 and response.json()["status"] == "SUCCEEDED"
    assert boto3  # the client library under test
