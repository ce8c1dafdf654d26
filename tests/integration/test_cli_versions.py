"""``stepwell state-machines`` version and alias commands against a real server on SQLite and
PostgreSQL: what they print, and that every refusal is a message and a non-zero exit, never a
traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_cli import wait_done


def answering(value: str) -> dict[str, Any]:
    """A definition whose executions output ``value``."""
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": True}}}


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def refused(result: Any, code: int, message: str) -> None:
    """A refusal as users see it: the message on stderr, the exit code, no traceback."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def machine(cli: Any, endpoint: str, tmp_path: Path) -> str:
    """A state machine with version 1 answering "one" and version 2 answering "two"."""
    path = tmp_path / "one.json"
    path.write_text(json.dumps(answering("one")))
    created = ok(
        cli("state-machines", "create", "cli-versioned", "--definition", str(path), "--json")
    )
    arn = json.loads(created.stdout)["stateMachineArn"]
    published = ok(cli("state-machines", "publish", arn, "--description", "first"))
    assert f"Published {arn}:1" in published.stdout
    # There is no CLI command to update a definition; the REST API does it.
    response = httpx.patch(
        f"{endpoint}/v1/state-machines/{arn}", json={"definition": answering("two")}
    )
    assert response.status_code == 200, response.text
    ok(cli("state-machines", "publish", arn))
    return arn


def test_publish_list_describe_and_delete_versions(cli: Any, machine: str) -> None:
    again = ok(cli("state-machines", "publish", machine, "--json"))
    assert json.loads(again.stdout)["stateMachineArn"] == f"{machine}:2"  # already published

    listed = ok(cli("state-machines", "versions", machine))
    assert f"{machine}:2" in listed.stdout and f"{machine}:1" in listed.stdout
    as_json = json.loads(ok(cli("state-machines", "versions", machine, "--json")).stdout)
    arns = [v["stateMachineVersionArn"] for v in as_json["stateMachineVersions"]]
    assert arns == [f"{machine}:2", f"{machine}:1"]
    newest = json.loads(
        ok(cli("state-machines", "versions", machine, "--limit", "1", "--json")).stdout
    )
    assert len(newest["stateMachineVersions"]) == 1

    described = ok(cli("state-machines", "describe", f"{machine}:1"))
    assert "first" in described.stdout and '"Result": "one"' in described.stdout

    deleted = ok(cli("state-machines", "delete-version", f"{machine}:2"))
    assert f"Deleted {machine}:2" in deleted.stdout
    ok(cli("state-machines", "delete-version", f"{machine}:2"))  # already gone: still fine
    refused(cli("state-machines", "describe", f"{machine}:2"), 1, "StateMachineDoesNotExist")


def test_version_errors_exit_non_zero(cli: Any, machine: str) -> None:
    ghost = machine.replace("cli-versioned", "ghost")
    refused(cli("state-machines", "publish", ghost), 1, "StateMachineDoesNotExist")
    refused(
        cli("state-machines", "publish", machine, "--revision-id", "stale"), 1, "ConflictException"
    )
    refused(cli("state-machines", "delete-version", machine), 1, "ValidationException")
    refused(cli("state-machines", "delete-version", "not-an-arn"), 1, "InvalidArn")
    # As on AWS, an unknown state machine simply has no versions.
    ghosts = ok(cli("state-machines", "versions", ghost, "--json"))
    assert json.loads(ghosts.stdout) == {"stateMachineVersions": []}
    refused(cli("executions", "start", f"{machine}:99"), 1, "StateMachineDoesNotExist")


def test_alias_commands_route_executions(cli: Any, machine: str, endpoint: str) -> None:
    created = ok(cli("state-machines", "aliases", "create", machine, "prod", "--route", "1"))
    assert f"Created {machine}:prod" in created.stdout

    started = ok(cli("executions", "start", f"{machine}:prod", "--name", "via-prod", "--json"))
    execution = json.loads(started.stdout)
    assert execution["stateMachineAliasArn"] == f"{machine}:prod"
    assert execution["stateMachineVersionArn"] == f"{machine}:1"
    assert json.loads(wait_done(endpoint, execution["executionArn"])["output"]) == "one"
    shown = ok(cli("executions", "describe", execution["executionArn"]))
    assert f"{machine}:prod" in shown.stdout and f"{machine}:1" in shown.stdout

    updated = ok(
        cli(
            "state-machines",
            "aliases",
            "update",
            f"{machine}:prod",
            "-r",
            "1=50",
            "-r",
            f"{machine}:2=50",
            "--description",
            "half and half",
        )
    )
    assert f"Updated {machine}:prod" in updated.stdout and "half and half" in updated.stdout
    described = json.loads(
        ok(cli("state-machines", "aliases", "describe", f"{machine}:prod", "--json")).stdout
    )
    assert described["routingConfiguration"] == [
        {"stateMachineVersionArn": f"{machine}:1", "weight": 50},
        {"stateMachineVersionArn": f"{machine}:2", "weight": 50},
    ]
    text = ok(cli("state-machines", "aliases", "describe", f"{machine}:prod"))
    assert "Routing" in text.stdout and "50" in text.stdout

    ok(cli("state-machines", "aliases", "create", machine, "beta", "--route", "2=100"))
    listed = ok(cli("state-machines", "aliases", "list", machine, "--json"))
    names = [a["stateMachineAliasArn"] for a in json.loads(listed.stdout)["stateMachineAliases"]]
    assert names == [f"{machine}:beta", f"{machine}:prod"]
    assert "beta" in ok(cli("state-machines", "aliases", "list", machine)).stdout
    to_v1 = ok(cli("state-machines", "aliases", "list", f"{machine}:1", "--json"))
    assert [a["stateMachineAliasArn"] for a in json.loads(to_v1.stdout)["stateMachineAliases"]] == [
        f"{machine}:prod"
    ]

    # A version an alias routes to cannot be deleted until the alias is gone.
    refused(cli("state-machines", "delete-version", f"{machine}:1"), 1, "ConflictException")
    deleted = ok(cli("state-machines", "aliases", "delete", f"{machine}:prod"))
    assert f"Deleted {machine}:prod" in deleted.stdout
    ok(cli("state-machines", "delete-version", f"{machine}:1"))
    refused(cli("state-machines", "aliases", "describe", f"{machine}:prod"), 1, "ResourceNotFound")


def test_alias_errors_exit_non_zero(cli: Any, machine: str) -> None:
    aliases = ("state-machines", "aliases")
    # The server refuses: exit 1 with its message.
    refused(cli(*aliases, "create", machine, "ghost", "-r", "9"), 1, "ResourceNotFound")
    refused(
        cli(*aliases, "create", machine, "low", "-r", "1=60", "-r", "2=30"), 1, "Sum of routing"
    )
    refused(cli(*aliases, "create", machine, "big", "-r", "1=101"), 1, "ValidationException")
    refused(
        cli(*aliases, "create", machine, "neg", "-r", "1=-10", "-r", "2=110"),
        1,
        "ValidationException",
    )
    refused(cli(*aliases, "create", machine, "123", "-r", "1"), 1, "InvalidName")
    refused(cli(*aliases, "create", machine, "same", "-r", "1=50", "-r", "1=50"), 1, "distinct")
    refused(cli(*aliases, "describe", f"{machine}:nobody"), 1, "ResourceNotFound")
    refused(cli(*aliases, "delete", f"{machine}:nobody"), 1, "ResourceNotFound")
    refused(cli("executions", "start", f"{machine}:nobody"), 1, "StateMachineDoesNotExist")
    ok(cli(*aliases, "create", machine, "live", "-r", "1"))
    refused(cli(*aliases, "update", f"{machine}:live", "-r", "7"), 1, "ResourceNotFound")
    refused(cli(*aliases, "create", machine, "live", "-r", "2"), 1, "ConflictException")
    # The command itself refuses: exit 2 before calling the server.
    refused(cli(*aliases, "create", machine, "x", "-r", "1=lots"), 2, "whole number")
    refused(cli(*aliases, "create", machine, "x", "-r", "1", "-r", "2"), 2, "a weight")
    refused(cli(*aliases, "create", machine, "x", "-r", "=100"), 2, "VERSION=WEIGHT")
    refused(cli(*aliases, "update", f"{machine}:live"), 2, "--route, --description")
    missing = cli(*aliases, "create", machine, "x")
    assert missing.exit_code == 2 and "Traceback" not in missing.output
