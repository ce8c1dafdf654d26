"""``stepwell state-machines``: create, list, describe and delete state machines; publish,
list and delete their versions; ``aliases`` (api.cli.aliases) routes to versions."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from api.cli import aliases
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
    read_text,
    table,
    timestamp,
    usage_error,
)

app = typer.Typer(
    help="Create, list, describe and delete state machines; publish versions; manage aliases.",
    no_args_is_help=True,
)
app.add_typer(aliases.app, name="aliases")

StateMachineArn = Annotated[str, typer.Argument(help="The state machine ARN.")]
VersionArn = Annotated[
    str, typer.Argument(help="The version ARN (the state machine ARN and :NUMBER).")
]


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
    limit: Limit = None,
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
    """Show a state machine, or a version of it (given a version ARN), and its definition."""
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
            ("Description", machine.get("description")),
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
    delete_and_report(endpoint, f"/state-machines/{arn_path(arn)}", arn, as_json)


# -- versions ------------------------------------------------------------------------------------


@app.command("publish")
def publish(
    arn: StateMachineArn,
    description: Annotated[
        str | None, typer.Option("--description", help="Description of the version.")
    ] = None,
    revision_id: Annotated[
        str | None,
        typer.Option("--revision-id", help="Publish only if this is still the current revision."),
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Publish the current revision as a version (the existing one if already published)."""
    body = {k: v for k, v in (("description", description), ("revisionId", revision_id)) if v}
    with calling(endpoint) as api:
        version = api.post(f"/state-machines/{arn_path(arn)}/versions", body)
    if as_json:
        print_json(version)
        return
    console().print(f"Published {version['stateMachineArn']}", markup=False)


@app.command("versions")
def versions(
    arn: StateMachineArn,
    limit: Limit = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """List the versions of a state machine, newest first."""
    path = f"/state-machines/{arn_path(arn)}/versions"
    member, key = "stateMachineVersions", "stateMachineVersionArn"
    list_named(endpoint, path, member, key, "Version", limit, as_json)


@app.command("delete-version")
def delete_version(
    arn: VersionArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Delete a version (refused while an alias routes to it; succeeds if it is gone)."""
    delete_and_report(endpoint, f"/versions/{arn_path(arn)}", arn, as_json)


# -- status notifications ------------------------------------------------------------------------


@app.command("notify")
def notify(
    arn: StateMachineArn,
    topics: Annotated[
        list[str] | None,
        typer.Option(
            "--topic",
            help="An SNS topic ARN each ended execution is published to (repeat for several; "
            "none stops the notifications).",
        ),
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Publish each execution that ends (its status change event) to these SNS topics."""
    with calling(endpoint) as api:
        found = api.put(
            f"/state-machines/{arn_path(arn)}/notifications", {"topicArns": topics or []}
        )
    _show_notifications(found, as_json)


@app.command("notifications")
def notifications(
    arn: StateMachineArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Show the SNS topics a state machine's ended executions are published to."""
    with calling(endpoint) as api:
        found = api.get(f"/state-machines/{arn_path(arn)}/notifications")
    _show_notifications(found, as_json)


def _show_notifications(found: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    if not found["topicArns"]:
        console().print(f"{found['stateMachineArn']} notifies no topic", markup=False)
        return
    table(["Topic"], [[topic] for topic in found["topicArns"]], title=found["stateMachineArn"])
