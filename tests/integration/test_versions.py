"""State machine versions and aliases through boto3, on SQLite and PostgreSQL: publishing,
starting executions from a version or an alias, and the errors AWS gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_boto3 import ROLE, code_of, wait_status


def _answering(value: str) -> str:
    return json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": True}}}
    )


def _output(sfn: Any, execution_arn: str) -> Any:
    described = wait_status(sfn, execution_arn)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def _machine(sfn: Any, name: str = "versioned") -> tuple[str, str, str]:
    """A state machine with version 1 answering "one" and version 2 answering "two"."""
    created = sfn.create_state_machine(
        name=name, definition=_answering("one"), roleArn=ROLE, publish=True, versionDescription="v1"
    )
    updated = sfn.update_state_machine(
        stateMachineArn=created["stateMachineArn"], definition=_answering("two"), publish=True
    )
    return (
        created["stateMachineArn"],
        created["stateMachineVersionArn"],
        updated["stateMachineVersionArn"],
    )


def test_publish_numbers_versions_and_each_runs_its_own_definition(sfn: Any) -> None:
    arn, v1, v2 = _machine(sfn)
    assert (v1, v2) == (f"{arn}:1", f"{arn}:2")
    # The current revision is already version 2: publishing again answers with it.
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == v2
    described = sfn.describe_state_machine(stateMachineArn=v1)
    assert described["stateMachineArn"] == v1
    assert json.loads(described["definition"])["States"]["P"]["Result"] == "one"
    assert described["description"] == "v1"
    listed = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
    assert [v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]] == [v2]
    rest = sfn.list_state_machine_versions(stateMachineArn=arn, nextToken=listed["nextToken"])
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [v1]

    old = sfn.start_execution(stateMachineArn=v1, name="from-v1")["executionArn"]
    latest = sfn.start_execution(stateMachineArn=arn, name="from-latest")["executionArn"]
    assert old == f"{arn.replace(':stateMachine:', ':execution:')}:from-v1"
    assert (_output(sfn, old), _output(sfn, latest)) == ("one", "two")
    execution = sfn.describe_execution(executionArn=old)
    assert execution["stateMachineArn"] == arn
    assert execution["stateMachineVersionArn"] == v1
    assert "stateMachineVersionArn" not in sfn.describe_execution(executionArn=latest)
    started = sfn.get_execution_history(executionArn=old)["events"][0]
    assert started["executionStartedEventDetails"]["stateMachineVersionArn"] == v1
    only_v1 = sfn.list_executions(stateMachineArn=v1)["executions"]
    assert [e["name"] for e in only_v1] == ["from-v1"]
    assert only_v1[0]["stateMachineVersionArn"] == v1
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 2


def test_publish_refuses_a_stale_revision_and_numbers_are_never_reused(sfn: Any) -> None:
    arn, _v1, v2 = _machine(sfn)
    with pytest.raises(ClientError) as err:
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="not-the-current-one")
    assert code_of(err) == "ConflictException"
    sfn.delete_state_machine_version(stateMachineVersionArn=v2)
    sfn.delete_state_machine_version(stateMachineVersionArn=v2)  # already gone: still fine
    with pytest.raises(ClientError) as err:
        sfn.start_execution(stateMachineArn=v2)
    assert code_of(err) == "StateMachineDoesNotExist"
    revision = sfn.update_state_machine(stateMachineArn=arn, definition=_answering("three"))
    published = sfn.publish_state_machine_version(
        stateMachineArn=arn, revisionId=revision["revisionId"], description="third"
    )
    assert published["stateMachineVersionArn"] == f"{arn}:3"


def test_an_alias_routes_starts_to_its_versions(sfn: Any) -> None:
    arn, v1, v2 = _machine(sfn)
    alias = sfn.create_state_machine_alias(
        name="prod", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]
    )["stateMachineAliasArn"]
    assert alias == f"{arn}:prod"
    first = sfn.start_execution(stateMachineArn=alias, name="a1")["executionArn"]
    assert _output(sfn, first) == "one"
    execution = sfn.describe_execution(executionArn=first)
    assert (execution["stateMachineAliasArn"], execution["stateMachineVersionArn"]) == (alias, v1)

    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}],
    )
    assert (
        _output(sfn, sfn.start_execution(stateMachineArn=alias, name="a2")["executionArn"]) == "two"
    )
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert described["name"] == "prod"
    assert described["routingConfiguration"] == [{"stateMachineVersionArn": v2, "weight": 100}]
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=alias)["executions"]] == [
        "a2",
        "a1",
    ]

    # Split between both versions: over 40 starts both are chosen (all one way: p = 2^-39).
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 50},
            {"stateMachineVersionArn": v2, "weight": 50},
        ],
    )
    chosen = {
        sfn.describe_execution(
            executionArn=sfn.start_execution(stateMachineArn=alias, name=f"s{i}")["executionArn"]
        )["stateMachineVersionArn"]
        for i in range(40)
    }
    assert chosen == {v1, v2}

    with pytest.raises(ClientError) as err:
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    assert code_of(err) == "ConflictException"
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [alias]
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    with pytest.raises(ClientError) as err:
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert code_of(err) == "ResourceNotFound"
    with pytest.raises(ClientError) as err:
        sfn.start_execution(stateMachineArn=alias)
    assert code_of(err) == "StateMachineDoesNotExist"


def test_alias_creation_is_idempotent_and_checked(sfn: Any) -> None:
    arn, v1, v2 = _machine(sfn)
    other = _machine(sfn, "other")[1]
    route = [{"stateMachineVersionArn": v1, "weight": 100}]
    first = sfn.create_state_machine_alias(name="live", routingConfiguration=route)
    again = sfn.create_state_machine_alias(name="live", routingConfiguration=route)
    assert again["stateMachineAliasArn"] == first["stateMachineAliasArn"]
    bad: list[tuple[dict[str, Any], str]] = [
        (
            {
                "name": "live",
                "routingConfiguration": [{"stateMachineVersionArn": v2, "weight": 100}],
            },
            "ConflictException",
        ),
        ({"name": "123", "routingConfiguration": route}, "InvalidName"),
        (
            {"name": "x", "routingConfiguration": [{"stateMachineVersionArn": v1, "weight": 60}]},
            "ValidationException",
        ),
        (
            {
                "name": "x",
                "routingConfiguration": [
                    {"stateMachineVersionArn": v1, "weight": 50},
                    {"stateMachineVersionArn": other, "weight": 50},
                ],
            },
            "ValidationException",
        ),
        (
            {"name": "x", "routingConfiguration": [{"stateMachineVersionArn": arn, "weight": 100}]},
            "ValidationException",
        ),
        (
            {
                "name": "x",
                "routingConfiguration": [{"stateMachineVersionArn": f"{arn}:9", "weight": 100}],
            },
            "ResourceNotFound",
        ),
    ]
    for request, code in bad:
        with pytest.raises(ClientError) as err:
            sfn.create_state_machine_alias(**request)
        assert code_of(err) == code, request
    assert len(sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]) == 1
    with pytest.raises(ClientError) as err:
        sfn.create_state_machine(
            name="no-publish", definition=_answering("x"), roleArn=ROLE, versionDescription="d"
        )
    assert code_of(err) == "ValidationException"


def test_deleting_a_state_machine_deletes_its_versions_and_aliases(sfn: Any) -> None:
    arn, v1, _v2 = _machine(sfn)
    alias = sfn.create_state_machine_alias(
        name="gone", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]
    )["stateMachineAliasArn"]
    sfn.delete_state_machine(stateMachineArn=arn)
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    for call in (
        lambda: sfn.describe_state_machine_alias(stateMachineAliasArn=alias),
        lambda: sfn.describe_state_machine(stateMachineArn=v1),
        lambda: sfn.start_execution(stateMachineArn=v1),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert code_of(err) in ("ResourceNotFound", "StateMachineDoesNotExist")
    # The name is free, and a new state machine of that name starts again from version 1.
    again = sfn.create_state_machine(
        name="versioned", definition=_answering("new"), roleArn=ROLE, publish=True
    )
    assert again["stateMachineVersionArn"] == f"{arn}:1"


def test_metadata_only_describes_leave_out_definition_and_data(sfn: Any) -> None:
    arn, v1, _v2 = _machine(sfn, "described")
    for target in (arn, v1):
        described = sfn.describe_state_machine(stateMachineArn=target, includedData="METADATA_ONLY")
        assert "definition" not in described and described["name"] == "described"
        assert "definition" in sfn.describe_state_machine(stateMachineArn=target)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"secret": 1}')["executionArn"]
    wait_status(sfn, execution)
    light = sfn.describe_execution(executionArn=execution, includedData="METADATA_ONLY")
    assert light["status"] == "SUCCEEDED" and "input" not in light and "output" not in light
    full = sfn.describe_execution(executionArn=execution, includedData="ALL_DATA")
    assert json.loads(full["input"]) == {"secret": 1}
    with pytest.raises(ClientError) as err:
        sfn.describe_execution(executionArn=execution, includedData="SOME")
    assert code_of(err) == "ValidationException"


def test_concurrent_publishes_and_alias_creates_agree(endpoint: str) -> None:
    """Publishing one revision from several clients at once makes one version; creating the
    same alias at once answers each with it (on PostgreSQL, where they run side by side)."""
    import threading

    from tests.support.server import sfn_client

    clients = [sfn_client(endpoint) for _ in range(6)]
    arn, v1, _v2 = _machine(clients[0], "raced")
    revision = clients[0].update_state_machine(stateMachineArn=arn, definition=_answering("r"))
    barrier = threading.Barrier(len(clients))
    published: list[Any] = [None] * len(clients)
    aliased: list[Any] = [None] * len(clients)

    def race(i: int) -> None:
        barrier.wait()
        try:
            published[i] = clients[i].publish_state_machine_version(
                stateMachineArn=arn, revisionId=revision["revisionId"]
            )["stateMachineVersionArn"]
            aliased[i] = clients[i].create_state_machine_alias(
                name="raced-alias",
                routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}],
            )["stateMachineAliasArn"]
        except ClientError as exc:  # compared below
            published[i] = aliased[i] = exc

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert published == [f"{arn}:3"] * len(clients)
    assert aliased == [f"{arn}:raced-alias"] * len(clients)
    versions = clients[0].list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert len(versions) == 3
