"""Versions and aliases through the native REST API (/v1), on SQLite and PostgreSQL: what a
caller sees, including that every bad request is a problem document and never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from engine.services.context import ServiceContext
from tests.integration.test_rest import SM_PREFIX, Api, assert_problem
from workers.engine import EngineLoops


def answering(value: str) -> dict[str, Any]:
    """A definition whose executions output ``value``."""
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": True}}}


@pytest.fixture
def api(ctx: ServiceContext) -> Iterator[Api]:
    """The TestClient over ``ctx`` (SQLite and PostgreSQL), engine loops stepped by hand."""
    loops = EngineLoops(ctx)
    with TestClient(create_app(ctx, loops)) as client:
        yield Api(client, loops)


def publish(api: Api, arn: str, **body: Any) -> dict[str, Any]:
    response = api.client.post(f"/v1/state-machines/{arn}/versions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def two_versions(api: Api, name: str = "versioned") -> tuple[str, str, str]:
    """A state machine whose version 1 answers "one" and version 2 (current) answers "two"."""
    arn = api.create(name, answering("one"))["stateMachineArn"]
    v1 = publish(api, arn, description="first")["stateMachineArn"]
    response = api.client.patch(f"/v1/state-machines/{arn}", json={"definition": answering("two")})
    assert response.status_code == 200, response.text
    v2 = publish(api, arn)["stateMachineArn"]
    return arn, v1, v2


def create_alias(api: Api, arn: str, name: str, routes: list[tuple[str, int]]) -> Any:
    routing = [{"stateMachineVersionArn": v, "weight": w} for v, w in routes]
    return api.client.post(
        f"/v1/state-machines/{arn}/aliases", json={"name": name, "routingConfiguration": routing}
    )


def output_of(api: Api, execution_arn: str) -> Any:
    api.loops.run_until_idle()
    described = api.client.get(f"/v1/executions/{execution_arn}").json()
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


# -- versions ------------------------------------------------------------------------------------


def test_publish_numbers_versions_and_describes_each(api: Api) -> None:
    arn = api.create("pub", answering("one"))["stateMachineArn"]
    response = api.client.post(f"/v1/state-machines/{arn}/versions", json={"description": "v1"})
    assert response.status_code == 201
    v1 = response.json()
    assert v1["stateMachineArn"] == f"{arn}:1"
    assert response.headers["location"] == f"/v1/versions/{arn}:1"
    assert v1["description"] == "v1"
    assert json.loads(v1["definition"]) == answering("one")
    # The current revision is already version 1: publishing again (no body) answers with it.
    again = api.client.post(f"/v1/state-machines/{arn}/versions")
    assert again.status_code == 201
    assert again.json()["stateMachineArn"] == f"{arn}:1"

    api.client.patch(f"/v1/state-machines/{arn}", json={"definition": answering("two")})
    current = api.client.get(f"/v1/state-machines/{arn}").json()
    v2 = publish(api, arn, revisionId=current["revisionId"])
    assert v2["stateMachineArn"] == f"{arn}:2"
    assert "description" not in v2
    described = api.client.get(f"/v1/versions/{arn}:1").json()
    assert json.loads(described["definition"]) == answering("one")
    assert described["description"] == "v1"


def test_list_versions_newest_first_in_pages(api: Api) -> None:
    arn, v1, v2 = two_versions(api)
    path = f"/v1/state-machines/{arn}/versions"
    first = api.client.get(path, params={"maxResults": 1}).json()
    assert [v["stateMachineVersionArn"] for v in first["stateMachineVersions"]] == [v2]
    rest = api.client.get(path, params={"nextToken": first["nextToken"]}).json()
    assert [v["stateMachineVersionArn"] for v in rest["stateMachineVersions"]] == [v1]
    assert "nextToken" not in rest
    assert isinstance(rest["stateMachineVersions"][0]["creationDate"], float)


def test_start_from_a_version_runs_its_definition(api: Api) -> None:
    arn, v1, _v2 = two_versions(api)
    old = api.start(v1, name="from-v1")
    latest = api.start(arn, name="from-latest")
    assert old["executionArn"].endswith(":execution:versioned:from-v1")
    assert old["stateMachineArn"] == arn
    assert old["stateMachineVersionArn"] == v1
    assert "stateMachineVersionArn" not in latest
    assert output_of(api, old["executionArn"]) == "one"
    assert output_of(api, latest["executionArn"]) == "two"
    through_v1 = api.client.get(f"/v1/state-machines/{v1}/executions").json()["executions"]
    assert [e["name"] for e in through_v1] == ["from-v1"]


def test_delete_version_is_idempotent_and_the_number_is_not_reused(api: Api) -> None:
    arn, _v1, v2 = two_versions(api)
    assert api.client.delete(f"/v1/versions/{v2}").status_code == 204
    assert api.client.delete(f"/v1/versions/{v2}").status_code == 204
    assert_problem(api.client.get(f"/v1/versions/{v2}"), 404, "StateMachineDoesNotExist")
    api.client.patch(f"/v1/state-machines/{arn}", json={"definition": answering("three")})
    assert publish(api, arn)["stateMachineArn"] == f"{arn}:3"


def test_version_errors_are_problems(api: Api) -> None:
    arn, v1, _v2 = two_versions(api)
    ghost = f"{SM_PREFIX}ghost"
    assert_problem(api.client.get(f"/v1/versions/{arn}:99"), 404, "StateMachineDoesNotExist")
    assert_problem(
        api.client.post(f"/v1/state-machines/{arn}:99/executions"), 404, "StateMachineDoesNotExist"
    )
    assert_problem(
        api.client.post(f"/v1/state-machines/{ghost}/versions"), 404, "StateMachineDoesNotExist"
    )
    # As on AWS (ListStateMachineVersions has no StateMachineDoesNotExist), no versions.
    listed = api.client.get(f"/v1/state-machines/{ghost}/versions")
    assert listed.status_code == 200 and listed.json()["stateMachineVersions"] == []
    stale = api.client.post(f"/v1/state-machines/{arn}/versions", json={"revisionId": "stale"})
    assert_problem(stale, 409, "ConflictException")
    # A version or alias ARN where a version is expected, and the reverse.
    assert_problem(api.client.get(f"/v1/versions/{arn}"), 400, "ValidationException")
    assert_problem(api.client.get(f"/v1/versions/{arn}:prod"), 400, "ValidationException")
    assert_problem(api.client.delete(f"/v1/versions/{arn}"), 400, "ValidationException")
    assert_problem(api.client.post(f"/v1/state-machines/{v1}/versions"), 400, "ValidationException")
    assert_problem(api.client.get("/v1/versions/not-an-arn"), 400, "InvalidArn")
    # Request shapes the schema refuses.
    typo = api.client.post(f"/v1/state-machines/{arn}/versions", json={"descripton": "x"})
    assert assert_problem(typo, 400, "ValidationException")["errors"]
    long = api.client.post(f"/v1/state-machines/{arn}/versions", json={"description": "x" * 257})
    assert_problem(long, 400, "ValidationException")
    paged = api.client.get(f"/v1/state-machines/{arn}/versions", params={"nextToken": "junk!"})
    assert_problem(paged, 400, "InvalidToken")


# -- aliases -------------------------------------------------------------------------------------


def test_alias_lifecycle_and_routing(api: Api) -> None:
    arn, v1, v2 = two_versions(api)
    response = create_alias(api, arn, "prod", [(v1, 100)])
    assert response.status_code == 201, response.text
    alias = response.json()
    assert alias["stateMachineAliasArn"] == f"{arn}:prod"
    assert response.headers["location"] == f"/v1/aliases/{arn}:prod"
    assert alias["name"] == "prod"
    assert alias["routingConfiguration"] == [{"stateMachineVersionArn": v1, "weight": 100}]
    # Creating the same alias again is idempotent.
    assert create_alias(api, arn, "prod", [(v1, 100)]).status_code == 201

    started = api.start(f"{arn}:prod", name="via-alias")
    assert started["stateMachineAliasArn"] == f"{arn}:prod"
    assert started["stateMachineVersionArn"] == v1
    assert output_of(api, started["executionArn"]) == "one"

    patched = api.client.patch(
        f"/v1/aliases/{arn}:prod",
        json={
            "description": "all on two",
            "routingConfiguration": [{"stateMachineVersionArn": v2, "weight": 100}],
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "all on two"
    assert patched.json()["routingConfiguration"][0]["stateMachineVersionArn"] == v2
    assert output_of(api, api.start(f"{arn}:prod")["executionArn"]) == "two"
    described = api.client.get(f"/v1/aliases/{arn}:prod").json()
    assert described["updateDate"] >= described["creationDate"]

    assert create_alias(api, arn, "canary", [(v1, 50), (v2, 50)]).status_code == 201
    listed = api.client.get(f"/v1/state-machines/{arn}/aliases").json()["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [f"{arn}:canary", f"{arn}:prod"]
    page = api.client.get(f"/v1/state-machines/{arn}/aliases", params={"maxResults": 1}).json()
    assert len(page["stateMachineAliases"]) == 1 and page["nextToken"]
    # Given a version ARN: the aliases routing to that version.
    to_v1 = api.client.get(f"/v1/state-machines/{v1}/aliases").json()["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in to_v1] == [f"{arn}:canary"]

    # A version an alias routes to cannot be deleted; once the alias is gone it can.
    assert_problem(api.client.delete(f"/v1/versions/{v1}"), 409, "ConflictException")
    assert api.client.delete(f"/v1/aliases/{arn}:canary").status_code == 204
    assert api.client.delete(f"/v1/versions/{v1}").status_code == 204
    assert_problem(api.client.get(f"/v1/aliases/{arn}:canary"), 404, "ResourceNotFound")
    assert_problem(api.client.delete(f"/v1/aliases/{arn}:canary"), 404, "ResourceNotFound")


def test_alias_to_a_missing_version_is_404(api: Api) -> None:
    arn, v1, _v2 = two_versions(api)
    assert_problem(create_alias(api, arn, "ghost", [(f"{arn}:9", 100)]), 404, "ResourceNotFound")
    assert create_alias(api, arn, "live", [(v1, 100)]).status_code == 201
    to_missing = api.client.patch(
        f"/v1/aliases/{arn}:live",
        json={"routingConfiguration": [{"stateMachineVersionArn": f"{arn}:9", "weight": 100}]},
    )
    assert_problem(to_missing, 404, "ResourceNotFound")
    # The alias still routes where it did.
    assert (
        api.client.get(f"/v1/aliases/{arn}:live").json()["routingConfiguration"][0][
            "stateMachineVersionArn"
        ]
        == v1
    )
    ghost = api.client.post(f"/v1/state-machines/{arn}:nobody/executions", json={})
    assert_problem(ghost, 404, "StateMachineDoesNotExist")
    assert_problem(api.client.get(f"/v1/aliases/{arn}:nobody"), 404, "ResourceNotFound")
    other = f"{SM_PREFIX}ghost"
    assert_problem(
        create_alias(api, other, "x", [(f"{other}:1", 100)]), 404, "StateMachineDoesNotExist"
    )


@pytest.mark.parametrize(
    "weights",
    [[90], [60, 60], [101, -1], [50, 40]],
    ids=["one-below-100", "over-100", "out-of-range", "sum-below-100"],
)
def test_bad_weights_are_400(api: Api, weights: list[int]) -> None:
    arn, v1, v2 = two_versions(api)
    routes = list(zip([v1, v2], weights, strict=False))
    assert_problem(create_alias(api, arn, "weighted", routes), 400, "ValidationException")
    assert create_alias(api, arn, "weighted", [(v1, 100)]).status_code == 201
    routing = [{"stateMachineVersionArn": v, "weight": w} for v, w in routes]
    response = api.client.patch(
        f"/v1/aliases/{arn}:weighted", json={"routingConfiguration": routing}
    )
    assert_problem(response, 400, "ValidationException")


def test_bad_alias_requests_are_400(api: Api) -> None:
    arn, v1, v2 = two_versions(api)
    other = api.create("other")["stateMachineArn"]
    other_v1 = publish(api, other)["stateMachineArn"]
    path = f"/v1/state-machines/{arn}/aliases"

    def refused(body: Any, code: str = "ValidationException") -> dict[str, Any]:
        return assert_problem(api.client.post(path, json=body), 400, code)

    route = {"stateMachineVersionArn": v1, "weight": 100}
    refused({"name": "123", "routingConfiguration": [route]}, "InvalidName")
    refused({"name": "has space", "routingConfiguration": [route]}, "InvalidName")
    refused({"name": "x", "routingConfiguration": []})
    refused({"name": "x", "routingConfiguration": [{**route, "weight": 40}] * 3})
    refused({"name": "x", "routingConfiguration": [{**route, "weight": 50}] * 2})  # same version
    refused({"name": "x", "routingConfiguration": [{**route, "weight": "lots"}]})
    refused({"name": "x", "routingConfiguration": [{**route, "Weight": 100}]})
    refused({"name": "x", "routingConfiguration": [{"stateMachineVersionArn": arn, "weight": 100}]})
    refused({"name": "x"})
    # Versions of another state machine than the one in the path.
    body = refused(
        {"name": "x", "routingConfiguration": [{**route, "stateMachineVersionArn": other_v1}]}
    )
    assert other_v1 in body["detail"]
    mixed = [
        {"stateMachineVersionArn": v2, "weight": 50},
        {"stateMachineVersionArn": other_v1, "weight": 50},
    ]
    refused({"name": "x", "routingConfiguration": mixed})

    assert create_alias(api, arn, "taken", [(v1, 100)]).status_code == 201
    assert_problem(create_alias(api, arn, "taken", [(v2, 100)]), 409, "ConflictException")
    assert_problem(
        api.client.patch(f"/v1/aliases/{arn}:taken", json={}), 400, "ValidationException"
    )
    moved = api.client.patch(
        f"/v1/aliases/{arn}:taken",
        json={"routingConfiguration": [{"stateMachineVersionArn": other_v1, "weight": 100}]},
    )
    assert_problem(moved, 400, "ValidationException")
    assert_problem(api.client.get(f"/v1/aliases/{v1}"), 400, "ValidationException")
    assert_problem(
        api.client.get(f"/v1/state-machines/{arn}:taken/aliases"), 400, "ValidationException"
    )


def test_openapi_documents_versions_and_aliases(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert paths["/v1/state-machines/{arn}/versions"]["post"]["summary"] == "Publish a version"
    assert set(paths["/v1/aliases/{arn}"]) == {"get", "patch", "delete"}
    assert {"CreateAlias", "Alias", "VersionList"} <= set(spec["components"]["schemas"])
    assert "422" not in paths["/v1/state-machines/{arn}/aliases"]["post"]["responses"]
