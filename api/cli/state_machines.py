"""``stepwell state-machines``: create, list, describe and delete state machines."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from api.cli.client import (
    DEFAULT_ENDPOINT,
    AsJson,
    Endpoint,
    arn_path,
    calling,
    console,
    fields,
    print_json,
    read_text,
    table,
    timestamp,
    usage_error,
)

app = typer.Typer(help="Create, list, describe and delete state machines.", no_args_is_help=True)

StateMachineArn = Annotated[str, typer.Argument(help="The state machine ARN.")]


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Name of the new state machine.")],
    definition: Annotated[
        str,
        typer.Option(
            "--definition", "-d", help="File holding the ASL definition (JSON), or - for stdin."
        ),
    ],
    role_arn: Annotated[
        str | None,
        typer.Option("--role-arn", help="IAM role ARN (default: the server's stepwell role)."),
    ] = None,
    sm_type: Annotated[
        str | None, typer.Option("--type", help="STANDARD (default) or EXPRESS.")
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Create a state machine from an ASL definition file."""
    text = read_text(definition, "definition")
    try:
        json.loads(text)
    except ValueError as exc:
        usage_error(f"the definition in {definition!r} is not valid JSON: {exc}")
    body: dict[str, Any] = {"name": name, "definition": text}
    if role_arn:
        body["roleArn"] = role_arn
    if sm_type:
        body["type"] = sm_type.upper()
    with calling(endpoint) as api:
        machine = api.post("/state-machines", body)
    if as_json:
        print_json(machine)
        return
    console().print(f"Created {machine['stateMachineArn']}", markup=False)


@app.command("list")
def list_(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Show at most this many.")
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """List state machines, oldest first."""
    with calling(endpoint) as api:
        machines = list(api.pages("/state-machines", "stateMachines", limit))
    if as_json:
        print_json({"stateMachines": machines})
        return
    table(
        ["Name", "Type", "Created", "ARN"],
        [
            [m["name"], m["type"], timestamp(m["creationDate"]), m["stateMachineArn"]]
            for m in machines
        ],
    )


@app.command("describe")
def describe(
    arn: StateMachineArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Show a state machine and its definition."""
    with calling(endpoint) as api:
        machine = api.get(f"/state-machines/{arn_path(arn)}")
    if as_json:
        print_json(machine)
        return
    fields(
        [
            ("ARN", machine.get("stateMachineArn")),
            ("Name", machine.get("name")),
            ("Status", machine.get("status")),
            ("Type", machine.get("type")),
            ("Role", machine.get("roleArn")),
            ("Created", timestamp(machine.get("creationDate"))),
            ("Revision", machine.get("revisionId")),
        ]
    )
    console().print("Definition:", style="bold")
    console().print_json(machine.get("definition") or "{}")


@app.command("delete")
def delete(
    arn: StateMachineArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Delete a state machine (succeeds for one that does not exist, as on AWS)."""
    with calling(endpoint) as api:
        api.delete(f"/state-machines/{arn_path(arn)}")
    if as_json:
        print_json({"deleted": arn})
        return
    console().print(f"Deleted {arn}", markup=False)
