"""Native REST API for state machine versions and aliases, beside ``api.http.rest``.

The same conventions as the state machine and execution routes: a version or alias is created
and listed under its state machine (``/v1/state-machines/{arn}/versions``), and addressed by
its own ARN afterwards (``/v1/versions/{arn}``, ``/v1/aliases/{arn}``), as an execution is.
Each route calls one ``engine.services.versions`` or ``engine.services.aliases`` verb; errors
are the problem documents of ``api.http.rest.ProblemRoute``.

| method | path                                 | operation                                   |
|--------|--------------------------------------|---------------------------------------------|
| POST   | /v1/state-machines/{arn}/versions    | PublishStateMachineVersion                  |
| GET    | /v1/state-machines/{arn}/versions    | ListStateMachineVersions                    |
| GET    | /v1/versions/{arn}                   | DescribeStateMachine of a version           |
| DELETE | /v1/versions/{arn}                   | DeleteStateMachineVersion                   |
| POST   | /v1/state-machines/{arn}/aliases     | CreateStateMachineAlias                     |
| GET    | /v1/state-machines/{arn}/aliases     | ListStateMachineAliases                     |
| GET    | /v1/aliases/{arn}                    | DescribeStateMachineAlias                   |
| PATCH  | /v1/aliases/{arn}                    | UpdateStateMachineAlias                     |
| DELETE | /v1/aliases/{arn}                    | DeleteStateMachineAlias                     |

Executions start from a version or an alias through the existing
``POST /v1/state-machines/{arn}/executions`` with the version or alias ARN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from api.http import schemas
from api.http.rest import ProblemRoute, drop_none, json_response, problems
from api.threads import in_thread
from engine.errors import ValidationError
from engine.services import aliases, state_machines, versions
from engine.services.context import ServiceContext

_PAGE_SIZE = Query(None, description="Page size, 1-1000 (default 100).")
_NEXT_TOKEN = Query(None, description="From the previous page.")


def _routes(machine_arn: str, routing: list[schemas.Route]) -> list[dict[str, Any]]:
    """The routing of an alias created under ``machine_arn``, as the service takes it.

    AWS names the state machine only through the routing's version ARNs; here the path names
    it too, so a routing to another state machine's versions is refused rather than creating
    the alias somewhere the caller did not ask for. The service checks everything else."""
    base = state_machines.unqualified(machine_arn)
    routes = [route.model_dump() for route in routing]
    for route in routes:
        if versions.version_arn(route["stateMachineVersionArn"])[0] != base:
            raise ValidationError(
                "Routing configuration must contain versions of the state machine "
                f"'{base}': {route['stateMachineVersionArn']}"
            )
    return routes


def router(ctx: ServiceContext) -> APIRouter:
    """The version and alias routes under /v1 over the engine context ``ctx``."""
    api = APIRouter(prefix="/v1", route_class=ProblemRoute)

    async def call(fn: Callable[..., dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
        return await in_thread(fn, ctx, request)

    async def describe_version(arn: str) -> dict[str, Any]:
        # Only a version ARN: DescribeStateMachine would describe a state machine too.
        versions.version_arn(arn)
        return await call(state_machines.describe_state_machine, {"stateMachineArn": arn})

    async def describe_alias(arn: str) -> dict[str, Any]:
        return await call(aliases.describe_state_machine_alias, {"stateMachineAliasArn": arn})

    # -- versions -------------------------------------------------------------------------------

    @api.post(
        "/state-machines/{arn}/versions",
        summary="Publish a version",
        description="Publishes the state machine's current revision as the next version "
        "number. Idempotent per revision: when the current revision is already a version, "
        "answers with that version. With ``revisionId``, 409 unless that is still the current "
        "revision.",
        tags=["versions"],
        status_code=201,
        response_model=schemas.StateMachineVersion,
        responses=problems(400, 404, 409, 429),
    )
    async def publish_version(arn: str, body: schemas.PublishVersion | None = None) -> Response:
        request = drop_none({"stateMachineArn": arn, **(body.model_dump() if body else {})})
        published = await call(versions.publish_state_machine_version, request)
        version_arn = published["stateMachineVersionArn"]
        return json_response(
            await describe_version(version_arn), 201, f"/v1/versions/{quote(version_arn, ':')}"
        )

    @api.get(
        "/state-machines/{arn}/versions",
        summary="List the versions of a state machine",
        description="Newest first. Pass the returned nextToken to get the next page.",
        tags=["versions"],
        response_model=schemas.VersionList,
        responses=problems(400),
    )
    async def list_versions(
        arn: str, maxResults: int | None = _PAGE_SIZE, nextToken: str | None = _NEXT_TOKEN
    ) -> Response:
        request = drop_none(
            {"stateMachineArn": arn, "maxResults": maxResults, "nextToken": nextToken}
        )
        return json_response(await call(versions.list_state_machine_versions, request))

    @api.get(
        "/versions/{arn}",
        summary="Describe a version",
        description="The definition and role the version runs, and its description.",
        tags=["versions"],
        response_model=schemas.StateMachineVersion,
        responses=problems(400, 404),
    )
    async def get_version(arn: str) -> Response:
        return json_response(await describe_version(arn))

    @api.delete(
        "/versions/{arn}",
        summary="Delete a version",
        description="409 while an alias routes to it. Executions running it go on. 204 also "
        "when it does not exist (as on AWS); its number is never reused.",
        tags=["versions"],
        status_code=204,
        response_class=Response,
        responses=problems(400, 409),
    )
    async def delete_version(arn: str) -> Response:
        await call(versions.delete_state_machine_version, {"stateMachineVersionArn": arn})
        return Response(status_code=204)

    # -- aliases --------------------------------------------------------------------------------

    @api.post(
        "/state-machines/{arn}/aliases",
        summary="Create an alias",
        description="An alias routes executions to one version, or splits them between two "
        "versions by weight. Idempotent for the same description and routing; 409 when the "
        "name is taken with a different one; 404 when a version does not exist.",
        tags=["aliases"],
        status_code=201,
        response_model=schemas.Alias,
        responses=problems(400, 404, 409, 429),
    )
    async def create_alias(arn: str, body: schemas.CreateAlias) -> Response:
        request = drop_none(
            {
                "name": body.name,
                "description": body.description,
                "routingConfiguration": _routes(arn, body.routingConfiguration),
            }
        )
        created = await call(aliases.create_state_machine_alias, request)
        alias_arn = created["stateMachineAliasArn"]
        return json_response(
            await describe_alias(alias_arn), 201, f"/v1/aliases/{quote(alias_arn, ':')}"
        )

    @api.get(
        "/state-machines/{arn}/aliases",
        summary="List the aliases of a state machine",
        description="Newest first, paginated. Given a version ARN, only the aliases that route "
        "to that version.",
        tags=["aliases"],
        response_model=schemas.AliasList,
        responses=problems(400, 404),
    )
    async def list_aliases(
        arn: str, maxResults: int | None = _PAGE_SIZE, nextToken: str | None = _NEXT_TOKEN
    ) -> Response:
        request = drop_none(
            {"stateMachineArn": arn, "maxResults": maxResults, "nextToken": nextToken}
        )
        return json_response(await call(aliases.list_state_machine_aliases, request))

    @api.get(
        "/aliases/{arn}",
        summary="Describe an alias",
        tags=["aliases"],
        response_model=schemas.Alias,
        responses=problems(400, 404),
    )
    async def get_alias(arn: str) -> Response:
        return json_response(await describe_alias(arn))

    @api.patch(
        "/aliases/{arn}",
        summary="Update an alias",
        description="A new routing, description, or both; executions started from now on "
        "follow the new routing.",
        tags=["aliases"],
        response_model=schemas.Alias,
        responses=problems(400, 404),
    )
    async def update_alias(arn: str, body: schemas.UpdateAlias) -> Response:
        request: dict[str, Any] = {"stateMachineAliasArn": arn, "description": body.description}
        if body.routingConfiguration is not None:
            request["routingConfiguration"] = [r.model_dump() for r in body.routingConfiguration]
        await call(aliases.update_state_machine_alias, drop_none(request))
        return json_response(await describe_alias(arn))

    @api.delete(
        "/aliases/{arn}",
        summary="Delete an alias",
        description="The versions it routed to stay. 404 when it does not exist.",
        tags=["aliases"],
        status_code=204,
        response_class=Response,
        responses=problems(400, 404),
    )
    async def delete_alias(arn: str) -> Response:
        await call(aliases.delete_state_machine_alias, {"stateMachineAliasArn": arn})
        return Response(status_code=204)

    return api
