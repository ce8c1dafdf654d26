"""``stepwell state-machines aliases``: create, list, describe, update and delete the aliases
that route a state machine's executions to its versions.

A route is given as ``--route VERSION=WEIGHT``, VERSION being a version number of the state
machine or a full version ARN; a single route may leave out ``=WEIGHT`` (it gets 100). Whether
the weights add up is the server's to say, so its message is the one users see.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.client import (
    DEFAULT_ENDPOINT,
    AsJson,
    Endpoint,
    Limit,
    arn_path,
    calling,
    console,
    delete_and_report,
    fields,
    list_named,
    print_json,
    table,
    timestamp,
    usage_error,
)

app = typer.Typer(
    help="Route a state machine's executions to its versions by alias.", no_args_is_help=True
)

AliasArn = Annotated[
    str, typer.Argument(help="The alias ARN (the state machine ARN and :ALIAS_NAME).")
]
Description = Annotated[str | None, typer.Option("--description", help="Description of the alias.")]


# A repeatable option: required when creating, optional when updating.
RouteOption = typer.Option(
    "--route",
    "-r",
    help="VERSION=WEIGHT: a version number or version ARN, and the percentage of executions "
    "it gets. Give it once (weight 100 by default) or twice (weights summing to 100).",
)


def parse_routes(machine_arn: str, routes: list[str]) -> list[dict[str, Any]]:
    """The routingConfiguration of ``--route`` values, or a usage error (exit 2)."""
    parsed: list[dict[str, Any]] = []
    for route in routes:
        # Split at the last '=': a version ARN holds ':' but never '='.
        version, has_weight, weight_text = route.rpartition("=")
        if not has_weight:
            version, weight_text = route, ""
        version = version.strip()
        if not version:
            usage_error(f"--route {route!r}: expected VERSION=WEIGHT")
        if not weight_text.strip():
            if len(routes) > 1:
                usage_error(f"--route {route!r}: give each of several routes a weight")
            weight = 100
        else:
            try:
                weight = int(weight_text)
            except ValueError:
                usage_error(f"--route {route!r}: the weight must be a whole number (0-100)")
        arn = f"{machine_arn}:{version}" if version.isdigit() else version
        parsed.append({"stateMachineVersionArn": arn, "weight": weight})
    return parsed


def _machine_of(alias_arn: str) -> str:
    """The state machine ARN of an alias ARN (what version numbers are relative to)."""
    return alias_arn.rsplit(":", 1)[0]


def _show(alias: dict[str, Any]) -> None:
    fields(
        [
            ("ARN", alias.get("stateMachineAliasArn")),
            ("Name", alias.get("name")),
            ("Description", alias.get("description")),
            ("Created", timestamp(alias.get("creationDate"))),
            ("Updated", timestamp(alias.get("updateDate"))),
        ]
    )
    table(
        ["Version", "Weight", "Version ARN"],
        [
            [
                r["stateMachineVersionArn"].rsplit(":", 1)[-1],
                r["weight"],
                r["stateMachineVersionArn"],
            ]
            for r in alias.get("routingConfiguration") or []
        ],
        title="Routing",
    )


@app.command("create")
def create(
    state_machine_arn: Annotated[str, typer.Argument(help="The state machine ARN.")],
    name: Annotated[str, typer.Argument(help="Name of the alias, e.g. prod.")],
    routes: Annotated[list[str], RouteOption],
    description: Description = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Create an alias routing to one version, or splitting between two by weight."""
    body: dict[str, Any] = {
        "name": name,
        "routingConfiguration": parse_routes(state_machine_arn, routes),
    }
    if description is not None:
        body["description"] = description
    with calling(endpoint) as api:
        alias = api.post(f"/state-machines/{arn_path(state_machine_arn)}/aliases", body)
    if as_json:
        print_json(alias)
        return
    console().print(f"Created {alias['stateMachineAliasArn']}", markup=False)


@app.command("list")
def list_(
    arn: Annotated[
        str,
        typer.Argument(
            help="The state machine ARN, or a version ARN for the aliases routing to it."
        ),
    ],
    limit: Limit = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """List the aliases of a state machine, newest first."""
    path = f"/state-machines/{arn_path(arn)}/aliases"
    member, key = "stateMachineAliases", "stateMachineAliasArn"
    list_named(endpoint, path, member, key, "Alias", limit, as_json)


@app.command("describe")
def describe(
    arn: AliasArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Show an alias and the versions it routes to."""
    with calling(endpoint) as api:
        alias = api.get(f"/aliases/{arn_path(arn)}")
    if as_json:
        print_json(alias)
        return
    _show(alias)


@app.command("update")
def update(
    arn: AliasArn,
    routes: Annotated[list[str] | None, RouteOption] = None,
    description: Description = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Change an alias's routing, description, or both."""
    body: dict[str, Any] = {}
    if routes:
        body["routingConfiguration"] = parse_routes(_machine_of(arn), routes)
    if description is not None:
        body["description"] = description
    if not body:
        usage_error("give --route, --description, or both")
    with calling(endpoint) as api:
        alias = api.patch(f"/aliases/{arn_path(arn)}", body)
    if as_json:
        print_json(alias)
        return
    console().print(f"Updated {alias['stateMachineAliasArn']}", markup=False)
    _show(alias)


@app.command("delete")
def delete(
    arn: AliasArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Delete an alias; the versions it routed to stay."""
    delete_and_report(endpoint, f"/aliases/{arn_path(arn)}", arn, as_json)
