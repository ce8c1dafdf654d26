"""The queues REST API (/v1/queues) and ``stepwell queues`` against a real server in a thread;
the queues are the ones SQS clients see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli.main import app
from tests.support.server import sqs_client


@pytest.fixture
def rest(endpoint: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{endpoint}/v1", timeout=30) as client:
        yield client


def test_queue_lifecycle(rest: httpx.Client, endpoint: str) -> None:
    created = rest.post("/queues", json={"name": "orders", "attributes": {"DelaySeconds": "0"}})
    assert created.status_code == 201
    url = created.json()["url"]
    assert url.endswith("/123456789012/orders") and created.json()["name"] == "orders"
    assert rest.post("/queues", json={"name": "orders"}).status_code == 201  # idempotent
    rest.post("/queues", json={"name": "other"})
    listed = rest.get("/queues", params={"prefix": "ord"}).json()
    assert listed == {"queues": [{"name": "orders", "url": url}]}

    sent = rest.post("/queues/orders/messages", json={"body": {"id": 1}})
    assert sent.status_code == 201 and set(sent.json()) == {"messageId", "md5OfBody"}
    rest.post("/queues/orders/messages", json={"body": "plain text"})
    # The same queue over the SQS protocol.
    assert sqs_client(endpoint).get_queue_url(QueueName="orders")["QueueUrl"] == url

    attributes = rest.get("/queues/orders").json()
    assert attributes["url"] == url
    assert attributes["attributes"]["ApproximateNumberOfMessages"] == "2"
    assert attributes["attributes"]["QueueArn"].endswith(":123456789012:orders")

    got = rest.post(
        "/queues/orders/messages/receive", json={"maxMessages": 10, "visibilityTimeout": 60}
    ).json()["messages"]
    assert sorted(m["body"] for m in got) == ["plain text", '{"id":1}']
    assert got[0]["attributes"]["ApproximateReceiveCount"] == "1"
    handle = got[0]["receiptHandle"]
    assert rest.delete(f"/queues/orders/messages/{handle}").status_code == 204
    counts = rest.get("/queues/orders").json()["attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"

    assert rest.post("/queues/orders/purge").status_code == 204
    again = rest.post("/queues/orders/purge")
    assert again.status_code == 400 and again.json()["title"] == "PurgeQueueInProgress"
    assert rest.delete("/queues/orders").status_code == 204
    missing = rest.get("/queues/orders")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "QueueDoesNotExist"


def test_receive_long_polls_and_errors(rest: httpx.Client) -> None:
    rest.post("/queues", json={"name": "jobs.fifo", "fifo": True})
    sent = rest.post(
        "/queues/jobs.fifo/messages",
        json={"body": "a", "groupId": "g", "deduplicationId": "d1"},
    ).json()
    assert sent["sequenceNumber"]
    empty = rest.post("/queues/nope/messages/receive", json={})
    assert empty.status_code == 404
    bad = rest.post("/queues/jobs.fifo/messages", json={"body": "x"})
    assert bad.status_code == 400 and bad.json()["title"] == "MissingParameter"
    conflict = rest.post(
        "/queues",
        json={"name": "jobs.fifo", "fifo": True, "attributes": {"VisibilityTimeout": "5"}},
    )
    assert conflict.status_code == 409 and conflict.json()["title"] == "QueueNameExists"
    rest.post("/queues", json={"name": "idle"})
    waited = rest.post("/queues/idle/messages/receive", json={"waitSeconds": 1})
    assert waited.json() == {"messages": []}
    not_json = rest.post("/queues", content=b"[1]")
    assert not_json.status_code == 400


def test_cli_queue_commands(endpoint: str) -> None:
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(app, ["queues", *args, "--endpoint", endpoint])

    created = cli("create", "mail", "--attribute", "VisibilityTimeout=45", "--tag", "team=ops")
    assert created.exit_code == 0, created.output
    assert created.output.strip().endswith("/123456789012/mail")
    assert "mail" in cli("list").output
    assert json.loads(cli("list", "--json").output)["queues"][0]["name"] == "mail"
    sent = cli("send", "mail", '{"to": "you"}', "--json")
    assert sent.exit_code == 0 and json.loads(sent.output)["messageId"]
    shown = json.loads(cli("attributes", "mail", "--json").output)
    assert shown["attributes"]["VisibilityTimeout"] == "45"
    assert shown["attributes"]["ApproximateNumberOfMessages"] == "1"
    assert "VisibilityTimeout" in cli("attributes", "mail").output
    received = cli("receive", "mail", "--max", "10", "--delete", "--json")
    assert received.exit_code == 0
    assert [m["body"] for m in json.loads(received.output)["messages"]] == ['{"to": "you"}']
    assert "(no messages)" in cli("receive", "mail").output
    assert cli("purge", "mail").exit_code == 0
    assert cli("delete", "mail").exit_code == 0


def test_cli_errors_and_exit_codes(endpoint: str) -> None:
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(app, ["queues", *args, "--endpoint", endpoint])

    missing = cli("send", "nowhere", "hi")
    assert missing.exit_code == 1
    assert "QueueDoesNotExist" in missing.output
    assert cli("create", "x", "--attribute", "novalue").exit_code == 2
    assert cli("receive", "x", "--max", "11").exit_code == 2
