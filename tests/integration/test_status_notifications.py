"""Status notifications: a state machine names SNS topics and each execution that ends is
published to them as the "Step Functions Execution Status Change" event, in the transaction
that ends it; subscribers filter by the message attributes. REST, CLI-free; on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

ROLE = "arn:aws:iam::123456789012:role/stepwell"
OK = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "Result": {"n": 1}, "End": True}}}
WAITING = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def _machine(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    return str(
        sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
            "stateMachineArn"
        ]
    )


def _subscriber(sns: Any, sqs: Any, topic: str, name: str, **attributes: str) -> str:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return str(url)


def _notify(endpoint: str, machine: str, topics: list[str]) -> httpx.Response:
    return httpx.put(
        f"{endpoint}/v1/state-machines/{machine}/notifications", json={"topicArns": topics}
    )


def _ended(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.02)
    raise AssertionError(f"{arn} did not end")


def _events(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(json.loads(m["Body"])["Message"]) for m in got.get("Messages", [])]


def test_an_ended_execution_is_published_as_its_status_change_event(
    endpoint: str, sfn: Any, sns: Any, sqs: Any
) -> None:
    topic = sns.create_topic(Name="runs")["TopicArn"]
    queue = _subscriber(sns, sqs, topic, "runs-q")
    machine = _machine(sfn, "announced", OK)
    answer = _notify(endpoint, machine, [topic])
    assert answer.status_code == 200
    assert answer.json() == {"stateMachineArn": machine, "topicArns": [topic]}
    assert httpx.get(f"{endpoint}/v1/state-machines/{machine}/notifications").json() == {
        "stateMachineArn": machine,
        "topicArns": [topic],
    }
    arn = sfn.start_execution(stateMachineArn=machine, name="first", input='{"a": 1}')[
        "executionArn"
    ]
    described = _ended(sfn, arn)
    [event] = _events(sqs, queue)
    assert event["detail-type"] == "Step Functions Execution Status Change"
    assert event["source"] == "aws.states"
    assert event["resources"] == [arn]
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    detail = event["detail"]
    assert detail["executionArn"] == arn and detail["stateMachineArn"] == machine
    assert detail["name"] == "first" and detail["status"] == "SUCCEEDED"
    assert json.loads(detail["input"]) == {"a": 1}
    assert json.loads(detail["output"]) == {"n": 1}
    assert detail["error"] is None and detail["cause"] is None
    assert detail["startDate"] == int(described["startDate"].timestamp() * 1000)
    assert detail["stopDate"] == int(described["stopDate"].timestamp() * 1000)


def test_subscribers_filter_by_status_and_a_stop_is_announced(
    endpoint: str, sfn: Any, sns: Any, sqs: Any
) -> None:
    """A filter policy on the status attribute picks failures; StopExecution's ABORTED is
    announced in the stop's own transaction."""
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    policy = json.dumps({"status": ["FAILED", "TIMED_OUT", "ABORTED"]})
    failures = _subscriber(sns, sqs, topic, "failures", FilterPolicy=policy)
    everything = _subscriber(sns, sqs, topic, "everything")
    good = _machine(sfn, "good", OK)
    bad = _machine(sfn, "bad", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops"}}})
    waiting = _machine(sfn, "waiting", WAITING)
    for machine in (good, bad, waiting):
        assert _notify(endpoint, machine, [topic]).status_code == 200
    _ended(sfn, sfn.start_execution(stateMachineArn=good)["executionArn"])
    failed = sfn.start_execution(stateMachineArn=bad)["executionArn"]
    _ended(sfn, failed)
    stopped = sfn.start_execution(stateMachineArn=waiting)["executionArn"]
    time.sleep(0.1)
    sfn.stop_execution(executionArn=stopped, error="Halt", cause="by hand")
    picked = sorted(
        (e["detail"]["executionArn"], e["detail"]["status"]) for e in _events(sqs, failures)
    )
    assert picked == sorted([(failed, "FAILED"), (stopped, "ABORTED")])
    all_statuses = sorted(e["detail"]["status"] for e in _events(sqs, everything))
    assert all_statuses == ["ABORTED", "FAILED", "SUCCEEDED"]


def test_no_topics_no_messages_and_a_deleted_topic_does_not_stop_executions(
    endpoint: str, sfn: Any, sns: Any, sqs: Any
) -> None:
    topic = sns.create_topic(Name="gone")["TopicArn"]
    queue = _subscriber(sns, sqs, topic, "gone-q")
    machine = _machine(sfn, "quiet", OK)
    _ended(sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"])
    assert _events(sqs, queue) == []  # nothing named: nothing published
    assert _notify(endpoint, machine, [topic]).status_code == 200
    sns.delete_topic(TopicArn=topic)
    described = _ended(sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert _notify(endpoint, machine, []).json()["topicArns"] == []


def test_bad_requests_are_problems_and_change_nothing(endpoint: str, sfn: Any, sns: Any) -> None:
    topic = sns.create_topic(Name="kept")["TopicArn"]
    machine = _machine(sfn, "target", OK)
    assert _notify(endpoint, machine, [topic]).status_code == 200
    missing_machine = machine.replace(":target", ":nope")
    cases = [
        (_notify(endpoint, missing_machine, [topic]), 404, "StateMachineDoesNotExist"),
        (_notify(endpoint, machine, [topic.replace(":kept", ":nope")]), 404, "NotFound"),
        (_notify(endpoint, machine, ["not-an-arn"]), 400, "InvalidParameter"),
        (_notify(endpoint, machine, [f"{topic}{i}" for i in range(11)]), 400, None),
        (_notify(endpoint, "nope", [topic]), 400, "InvalidArn"),
    ]
    for answer, status, code in cases:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        if code is not None:
            assert answer.json()["title"] == code, answer.text
    bad_body = httpx.put(
        f"{endpoint}/v1/state-machines/{machine}/notifications", json={"topicArns": "x"}
    )
    assert bad_body.status_code == 400
    # Nothing above changed the list.
    assert httpx.get(f"{endpoint}/v1/state-machines/{machine}/notifications").json()[
        "topicArns"
    ] == [topic]
    # Deleting the state machine forgets it.
    sfn.delete_state_machine(stateMachineArn=machine)
    assert httpx.get(f"{endpoint}/v1/state-machines/{machine}/notifications").status_code == 404


def test_the_cli_names_shows_and_clears_the_topics(cli: Any, sfn: Any, sns: Any) -> None:
    topic = sns.create_topic(Name="cli-runs")["TopicArn"]
    machine = _machine(sfn, "cli-announced", OK)
    named = cli("state-machines", "notify", machine, "--topic", topic, "--json")
    assert named.exit_code == 0, named.output
    assert json.loads(named.stdout) == {"stateMachineArn": machine, "topicArns": [topic]}
    shown = cli("state-machines", "notifications", machine)
    assert shown.exit_code == 0 and topic in shown.stdout
    cleared = cli("state-machines", "notify", machine)
    assert cleared.exit_code == 0 and "notifies no topic" in cleared.stdout
    refused = cli("state-machines", "notify", machine, "--topic", topic.replace("cli-runs", "x"))
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "Topic does not exist" in refused.stderr


def test_a_failing_publish_does_not_keep_an_execution_from_ending(
    endpoint: str, sfn: Any, sns: Any, monkeypatch: Any
) -> None:
    """A fault inside the publish (not the database's) is logged; the execution still ends,
    instead of its decision failing on every round."""
    from engine.services import status_notifications

    topic = sns.create_topic(Name="flaky")["TopicArn"]
    machine = _machine(sfn, "survives", OK)
    assert _notify(endpoint, machine, [topic]).status_code == 200

    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the publish")

    monkeypatch.setitem(status_notifications.TOPIC_OPERATIONS, "Publish", broken)
    described = _ended(sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"])
    assert described["status"] == "SUCCEEDED"
