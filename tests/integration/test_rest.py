"""The native REST API (/v1) through FastAPI's TestClient; engine steps run in the test thread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from tests.conftest import make_context
from workers.engine import EngineLoops

ACCOUNT = "123456789012"
SM_PREFIX = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:"
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
PROBLEM = "application/problem+json"


class Api:
    """The TestClient plus the engine loops, stepped by hand."""

    def __init__(self, client: TestClient, loops: EngineLoops) -> None:
        self.client = client
        self.loops = loops

    def create(self, name: str, definition: Any = PASS, **extra: Any) -> dict[str, Any]:
        response = self.client.post(
            "/v1/state-machines", json={"name": name, "definition": definition, **extra}
        )
        assert response.status_code == 201, response.text
        return response.json()

    def start(self, sm_arn: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(f"/v1/state-machines/{sm_arn}/executions", json=body)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    ctx = make_context(f"sqlite:///{tmp_path / 'stepwell.db'}")
    loops = EngineLoops(ctx)
    with TestClient(create_app(ctx, loops)) as client:
        yield Api(client, loops)
    ctx.store.dispose()


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"] == code
    assert body["type"] == f"https://stepwell.dev/errors/{code}"
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# -- state machines ------------------------------------------------------------------------------


def test_create_returns_the_description(api: Api) -> None:
    response = api.client.post("/v1/state-machines", json={"name": "chain", "definition": PASS})
    assert response.status_code == 201
    body = response.json()
    assert body["stateMachineArn"] == SM_PREFIX + "chain"
    assert response.headers["location"] == f"/v1/state-machines/{SM_PREFIX}chain"
    assert body["name"] == "chain"
    assert body["status"] == "ACTIVE"
    assert body["type"] == "STANDARD"
    assert body["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/stepwell"
    assert json.loads(body["definition"]) == PASS
    assert isinstance(body["creationDate"], float)


def test_create_accepts_definition_text_role_and_type(api: Api) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/custom"
    body = api.create("express", json.dumps(PASS), roleArn=role, type="EXPRESS")
    assert body["roleArn"] == role
    assert body["type"] == "EXPRESS"
    assert body["definition"] == json.dumps(PASS)


def test_create_is_idempotent_but_a_different_definition_conflicts(api: Api) -> None:
    first = api.create("same")
    again = api.create("same")
    assert again["stateMachineArn"] == first["stateMachineArn"]
    response = api.client.post("/v1/state-machines", json={"name": "same", "definition": WAIT})
    assert_problem(response, 409, "StateMachineAlreadyExists")


def test_list_paginates_oldest_first(api: Api) -> None:
    for index in range(5):
        api.create(f"sm-{index}")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"maxResults": 2}
        if token:
            params["nextToken"] = token
        response = api.client.get("/v1/state-machines", params=params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["stateMachines"]) <= 2
        seen += [m["name"] for m in page["stateMachines"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [f"sm-{index}" for index in range(5)]
    assert pages == 3
    everything = api.client.get("/v1/state-machines").json()
    assert [m["name"] for m in everything["stateMachines"]] == seen
    assert "nextToken" not in everything


def test_describe_update_delete(api: Api) -> None:
    arn = api.create("lifecycle")["stateMachineArn"]
    described = api.client.get(f"/v1/state-machines/{arn}")
    assert described.status_code == 200
    assert described.json()["name"] == "lifecycle"

    role = f"arn:aws:iam::{ACCOUNT}:role/other"
    updated = api.client.patch(f"/v1/state-machines/{arn}", json={"definition": WAIT})
    assert updated.status_code == 200
    assert json.loads(updated.json()["definition"]) == WAIT
    assert updated.json()["revisionId"]
    updated = api.client.patch(f"/v1/state-machines/{arn}", json={"roleArn": role})
    assert updated.json()["roleArn"] == role
    assert json.loads(updated.json()["definition"]) == WAIT

    assert api.client.delete(f"/v1/state-machines/{arn}").status_code == 204
    assert_problem(api.client.get(f"/v1/state-machines/{arn}"), 404, "StateMachineDoesNotExist")
    # Deleting is idempotent, as on AWS.
    assert api.client.delete(f"/v1/state-machines/{arn}").status_code == 204


def test_arns_may_be_percent_encoded(api: Api) -> None:
    arn = api.create("encoded")["stateMachineArn"]
    response = api.client.get(f"/v1/state-machines/{arn.replace(':', '%3A')}")
    assert response.status_code == 200
    assert response.json()["stateMachineArn"] == arn


# -- executions ----------------------------------------------------------------------------------


def test_start_runs_to_success(api: Api) -> None:
    sm_arn = api.create("run")["stateMachineArn"]
    started = api.start(sm_arn, name="first", input={"n": 1})
    assert started["executionArn"] == f"arn:aws:states:us-east-1:{ACCOUNT}:execution:run:first"
    assert started["status"] == "RUNNING"
    assert json.loads(started["input"]) == {"n": 1}
    api.loops.run_until_idle()
    done = api.client.get(f"/v1/executions/{started['executionArn']}").json()
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"n": 1, "a": {"x": 1}}
    assert done["stopDate"] >= done["startDate"]


def test_start_input_as_json_text_or_absent(api: Api) -> None:
    sm_arn = api.create("inputs")["stateMachineArn"]
    as_text = api.start(sm_arn, input='{"k": [1, 2]}')
    assert json.loads(as_text["input"]) == {"k": [1, 2]}
    as_list = api.start(sm_arn, input=[1, 2])
    assert json.loads(as_list["input"]) == [1, 2]
    response = api.client.post(f"/v1/state-machines/{sm_arn}/executions")
    assert response.status_code == 201
    assert json.loads(response.json()["input"]) == {}
    assert response.headers["location"].startswith("/v1/executions/arn:aws:states:")


def test_start_refuses_bad_input_and_unknown_machine(api: Api) -> None:
    sm_arn = api.create("bad-input")["stateMachineArn"]
    response = api.client.post(
        f"/v1/state-machines/{sm_arn}/executions", json={"input": "{not json"}
    )
    assert_problem(response, 400, "InvalidExecutionInput")
    response = api.client.post(f"/v1/state-machines/{SM_PREFIX}ghost/executions", json={})
    assert_problem(response, 404, "StateMachineDoesNotExist")


def test_list_executions_by_status_and_pages(api: Api) -> None:
    pass_arn = api.create("listed")["stateMachineArn"]
    for index in range(3):
        api.start(pass_arn, name=f"run-{index}")
    api.loops.run_until_idle()
    path = f"/v1/state-machines/{pass_arn}/executions"
    first = api.client.get(path, params={"maxResults": 2}).json()
    assert [e["name"] for e in first["executions"]] == ["run-2", "run-1"]
    second = api.client.get(path, params={"maxResults": 2, "nextToken": first["nextToken"]})
    assert [e["name"] for e in second.json()["executions"]] == ["run-0"]
    succeeded = api.client.get(path, params={"status": "SUCCEEDED"}).json()["executions"]
    assert len(succeeded) == 3
    assert api.client.get(path, params={"status": "RUNNING"}).json()["executions"] == []
    assert_problem(api.client.get(path, params={"status": "BOGUS"}), 400, "ValidationException")


def test_stop_aborts_a_waiting_execution(api: Api) -> None:
    sm_arn = api.create("waits", WAIT)["stateMachineArn"]
    arn = api.start(sm_arn, name="w")["executionArn"]
    api.loops.run_until_idle()
    assert api.client.get(f"/v1/executions/{arn}").json()["status"] == "RUNNING"
    stopped = api.client.post(
        f"/v1/executions/{arn}/stop", json={"error": "Operator", "cause": "test"}
    )
    assert stopped.status_code == 200
    body = stopped.json()
    assert body["status"] == "ABORTED"
    assert body["error"] == "Operator"
    assert body["cause"] == "test"
    running = api.client.get(
        f"/v1/state-machines/{sm_arn}/executions", params={"status": "RUNNING"}
    ).json()
    assert running["executions"] == []
    # Stopping again is a no-op; no body is needed.
    assert api.client.post(f"/v1/executions/{arn}/stop").json()["status"] == "ABORTED"
    history = api.client.get(f"/v1/executions/{arn}/history").json()["events"]
    assert history[-1]["type"] == "ExecutionAborted"
    assert history[-1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "test"}


def test_history_pages_and_reverse_order(api: Api) -> None:
    sm_arn = api.create("hist")["stateMachineArn"]
    arn = api.start(sm_arn, name="h")["executionArn"]
    api.loops.run_until_idle()
    path = f"/v1/executions/{arn}/history"
    everything = api.client.get(path).json()["events"]
    types = [e["type"] for e in everything]
    assert types[0] == "ExecutionStarted"
    assert types[-1] == "ExecutionSucceeded"
    assert "PassStateEntered" in types
    assert [e["id"] for e in everything] == list(range(1, len(everything) + 1))

    paged: list[int] = []
    params: dict[str, Any] = {"maxResults": 2}
    while True:
        page = api.client.get(path, params=params).json()
        paged += [e["id"] for e in page["events"]]
        if "nextToken" not in page:
            break
        params["nextToken"] = page["nextToken"]
    assert paged == [e["id"] for e in everything]

    reverse = api.client.get(path, params={"reverseOrder": "true"}).json()["events"]
    assert [e["id"] for e in reverse] == [e["id"] for e in reversed(everything)]


# -- errors --------------------------------------------------------------------------------------


def test_unknown_arns_are_404_problems(api: Api) -> None:
    execution = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:ghost:run"
    assert_problem(
        api.client.get(f"/v1/state-machines/{SM_PREFIX}ghost"), 404, "StateMachineDoesNotExist"
    )
    assert_problem(api.client.get(f"/v1/executions/{execution}"), 404, "ExecutionDoesNotExist")
    assert_problem(
        api.client.get(f"/v1/executions/{execution}/history"), 404, "ExecutionDoesNotExist"
    )
    assert_problem(
        api.client.post(f"/v1/executions/{execution}/stop"), 404, "ExecutionDoesNotExist"
    )
    assert_problem(
        api.client.patch(f"/v1/state-machines/{SM_PREFIX}ghost", json={"definition": PASS}),
        404,
        "StateMachineDoesNotExist",
    )
    assert_problem(
        api.client.get(f"/v1/state-machines/{SM_PREFIX}ghost/executions"),
        404,
        "StateMachineDoesNotExist",
    )


def test_malformed_arn_is_400(api: Api) -> None:
    assert_problem(api.client.get("/v1/state-machines/not-an-arn"), 400, "InvalidArn")
    assert_problem(api.client.get(f"/v1/executions/{SM_PREFIX}sm"), 400, "InvalidArn")


def test_bad_definition_is_400_invalid_definition(api: Api) -> None:
    broken = {"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}}
    response = api.client.post("/v1/state-machines", json={"name": "bad", "definition": broken})
    assert_problem(response, 400, "InvalidDefinition")
    response = api.client.post("/v1/state-machines", json={"name": "bad", "definition": "{oops"})
    assert_problem(response, 400, "InvalidDefinition")
    arn = api.create("good")["stateMachineArn"]
    response = api.client.patch(f"/v1/state-machines/{arn}", json={"definition": broken})
    assert_problem(response, 400, "InvalidDefinition")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"definition": {}}', "application/json"),
        (b'{"name": "x", "definition": 5}', "application/json"),
        (b'{"name": "x", "definition": {}, "role_arn": "typo"}', "application/json"),
        (b'{"name": "x", "definition": {}, "type": "LAMBDA"}', "application/json"),
        (b"", "application/json"),
    ],
)
def test_malformed_bodies_are_400_problems(api: Api, content: bytes, content_type: str) -> None:
    response = api.client.post(
        "/v1/state-machines", content=content, headers={"content-type": content_type}
    )
    body = assert_problem(response, 400, "ValidationException")
    assert body["errors"]


def test_invalid_name_and_query_values_are_400(api: Api) -> None:
    response = api.client.post("/v1/state-machines", json={"name": "a b", "definition": PASS})
    assert_problem(response, 400, "InvalidName")
    assert_problem(
        api.client.get("/v1/state-machines", params={"maxResults": "lots"}),
        400,
        "ValidationException",
    )
    assert_problem(
        api.client.get("/v1/state-machines", params={"maxResults": 5000}),
        400,
        "ValidationException",
    )
    assert_problem(
        api.client.get("/v1/state-machines", params={"nextToken": "garbage!"}),
        400,
        "InvalidToken",
    )
    arn = api.create("patch-nothing")["stateMachineArn"]
    assert_problem(
        api.client.patch(f"/v1/state-machines/{arn}", json={}), 400, "MissingRequiredParameter"
    )


def test_openapi_documents_the_routes(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    assert paths["/v1/state-machines"]["post"]["summary"] == "Create a state machine"
    assert "/v1/executions/{arn}/history" in paths
    assert "CreateStateMachine" in spec["components"]["schemas"]
    assert "Problem" in spec["components"]["schemas"]
    assert "422" not in paths["/v1/state-machines"]["post"]["responses"]
