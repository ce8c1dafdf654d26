"""Fixtures of the integration tests: a live server in a thread over the ``ctx`` engine (so on
SQLite and PostgreSQL), boto3 clients for it, and workers stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.server import (
    kinesis_client,
    sfn_client,
    sns_client,
    sqs_client,
    thread_server,
)
from workers.sdk import Worker


@pytest.fixture
def endpoint(ctx: Any) -> Iterator[str]:
    """The URL of a server running over ``ctx`` in this process."""
    with thread_server(ctx) as url:
        yield url


@pytest.fixture
def sfn(endpoint: str) -> Any:
    """A boto3 Step Functions client for the server."""
    return sfn_client(endpoint)


@pytest.fixture
def sqs(endpoint: str) -> Any:
    """A boto3 SQS client for the server."""
    return sqs_client(endpoint)


@pytest.fixture
def kinesis(endpoint: str) -> Any:
    """A boto3 Kinesis client for the server."""
    return kinesis_client(endpoint)


@pytest.fixture
def sns(endpoint: str) -> Any:
    """A boto3 SNS client for the server."""
    return sns_client(endpoint)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Workers a test started; stopped (grace 0) even when the test fails."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop(grace=0)


@pytest.fixture
def cli(endpoint: str) -> Any:
    """Run ``stepwell`` against ``endpoint`` (a module's own endpoint fixture, where it has one)."""
    from typer.testing import CliRunner

    from api.cli.main import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Any:
        return runner.invoke(app, [*args, "--endpoint", endpoint], input=input)

    return run
