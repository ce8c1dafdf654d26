"""``stepwell executions``: start, list, describe, stop, and read (or follow) history."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from api.cli.client import (
    DEFAULT_ENDPOINT,
    AsJson,
    Client,
    Endpoint,
    Limit,
    arn_path,
    calling,
    console,
    fields,
    pretty_json_text,
    print_json,
    read_text,
    table,
    timestamp,
    usage_error,
)

app = typer.Typer(
    help="Start, list, describe and stop executions; read their history.", no_args_is_help=True
)

ExecutionArn = Annotated[str, typer.Argument(help="The execution ARN.")]

# AWS HistoryEventType values that end an execution.
TERMINAL_EVENTS = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}
)
DETAIL_WIDTH = 80


@app.command("start")
def start(
    state_machine_arn: Annotated[
        str,
        typer.Argument(
            help="The state machine ARN, or a version (...:NAME:3) or alias (...:NAME:prod) ARN."
        ),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Execution name (default: a UUID).")
    ] = None,
    input_json: Annotated[
        str | None, typer.Option("--input", help="Execution input as JSON text.")
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option("--input-file", help="File holding the JSON input, or - for stdin."),
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Start an execution of a state machine."""
    if input_json is not None and input_file is not None:
        usage_error("give --input or --input-file, not both")
    text = read_text(input_file, "input") if input_file is not None else input_json
    body: dict[str, Any] = {}
    if text is not None:
        try:
            json.loads(text)
        except ValueError as exc:
            usage_error(f"the input is not valid JSON: {exc}")
        body["input"] = text  # JSON text, sent as is so the server records exactly this
    if name:
        body["name"] = name
    with calling(endpoint) as api:
        execution = api.post(f"/state-machines/{arn_path(state_machine_arn)}/executions", body)
    if as_json:
        print_json(execution)
        return
    console().print(f"Started {execution['executionArn']}", markup=False)


@app.command("list")
def list_(
    state_machine_arn: Annotated[str, typer.Argument(help="The state machine ARN.")],
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE.",
        ),
    ] = None,
    limit: Limit = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """List the executions of a state machine, newest first."""
    path = f"/state-machines/{arn_path(state_machine_arn)}/executions"
    with calling(endpoint) as api:
        found = list(
            api.pages(path, "executions", limit, status=status.upper() if status else None)
        )
    if as_json:
        print_json({"executions": found})
        return
    table(
        ["Name", "Status", "Started", "Stopped", "ARN"],
        [
            [
                e["name"],
                e["status"],
                timestamp(e.get("startDate")),
                timestamp(e.get("stopDate")),
                e["executionArn"],
            ]
            for e in found
        ],
    )


@app.command("describe")
def describe(
    arn: ExecutionArn,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Show an execution: status, dates, input and output or error."""
    with calling(endpoint) as api:
        execution = api.get(f"/executions/{arn_path(arn)}")
    if as_json:
        print_json(execution)
        return
    _show_execution(execution)


@app.command("stop")
def stop(
    arn: ExecutionArn,
    error: Annotated[str | None, typer.Option("--error", help="Error code to record.")] = None,
    cause: Annotated[str | None, typer.Option("--cause", help="Cause to record.")] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Stop (abort) a running execution; a no-op for one that has ended."""
    body = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
    with calling(endpoint) as api:
        execution = api.post(f"/executions/{arn_path(arn)}/stop", body)
    if as_json:
        print_json(execution)
        return
    status = execution["status"]
    message = "Stopped" if status == "ABORTED" else f"Already ended ({status}):"
    console().print(f"{message} {execution['executionArn']}", markup=False)


@app.command("history")
def history(
    arn: ExecutionArn,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until it ends.")
    ] = False,
    reverse: Annotated[bool, typer.Option("--reverse", help="Newest event first.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.01, help="Seconds between polls with --follow.")
    ] = 1.0,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Print an execution's history events. With --json, one JSON document; with --json and
    --follow, one JSON event per line as it happens."""
    if follow and reverse:
        usage_error("--follow and --reverse cannot be combined")
    with calling(endpoint) as api:
        if follow:
            _follow(api, arn, interval, as_json)
            return
        events = list(
            api.pages(f"/executions/{arn_path(arn)}/history", "events", reverseOrder=reverse)
        )
    if as_json:
        print_json({"events": events})
        return
    names = state_names(sorted(events, key=lambda e: e["id"]), {})
    console().print(history_table(events, names))


def _follow(api: Client, arn: str, interval: float, as_json: bool) -> None:
    """Poll the history and print new events until a terminal event (or the execution ends).

    Page tokens are opaque, so the poll re-reads the last, partly filled page (the token that
    fetched it is kept) and prints only events newer than the last one shown.
    """
    path = f"/executions/{arn_path(arn)}/history"
    token: str | None = None
    last_id = 0
    names: dict[int, str] = {}
    header = True
    while True:
        page = api.get(path, nextToken=token)
        new = [e for e in page.get("events", []) if e["id"] > last_id]
        if new:
            last_id = new[-1]["id"]
            if as_json:
                for event in new:
                    typer.echo(json.dumps(event, ensure_ascii=False))
            else:
                state_names(new, names)
                console().print(history_table(new, names, header=header))
                header = False
            if any(e["type"] in TERMINAL_EVENTS for e in new):
                return
        if page.get("nextToken"):
            token = page["nextToken"]
            continue  # more events are already there: read them without waiting
        if not new and api.get(f"/executions/{arn_path(arn)}")["status"] != "RUNNING":
            # Ended without a terminal event on the page we read: drain once more, then stop.
            page = api.get(path, nextToken=token)
            rest = [e for e in page.get("events", []) if e["id"] > last_id]
            if rest:
                if as_json:
                    for event in rest:
                        typer.echo(json.dumps(event, ensure_ascii=False))
                else:
                    state_names(rest, names)
                    console().print(history_table(rest, names, header=header))
            return
        time.sleep(interval)


def state_names(events: list[dict[str, Any]], names: dict[int, str]) -> dict[int, str]:
    """The state each event belongs to, by event id (events in id order; ``names`` grows).

    StateEntered/StateExited events name their state; the events in between (TaskScheduled,
    WaitStateStarted...) point back to them through ``previousEventId``, as in AWS's console.
    """
    for event in events:
        detail = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if detail and "name" in detail:
            names[event["id"]] = detail["name"]
        elif event["type"].startswith("Execution"):
            names[event["id"]] = ""
        else:
            names[event["id"]] = names.get(event.get("previousEventId", 0), "")
    return names


def event_detail(event: dict[str, Any]) -> str:
    """A one-line summary of an event's details: error and cause, else output or input."""
    details = next(
        (v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {}
    )
    if "error" in details or "cause" in details:
        text = ": ".join(str(details[k]) for k in ("error", "cause") if details.get(k))
    elif "output" in details:
        text = str(details["output"])
    elif "input" in details:
        text = str(details["input"])
    elif "resource" in details:
        text = f"{details.get('resourceType', '')}:{details['resource']}".lstrip(":")
    else:
        rest = {k: v for k, v in details.items() if k not in ("name",) and "Details" not in k}
        text = json.dumps(rest, ensure_ascii=False, separators=(",", ":")) if rest else ""
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_WIDTH else text[: DETAIL_WIDTH - 1] + "…"


def history_table(
    events: list[dict[str, Any]], names: dict[int, str], header: bool = True
) -> Table:
    """Events as a table with fixed column widths, so batches printed while following align."""
    out = Table(show_header=header, box=None, pad_edge=False)
    out.add_column("ID", justify="right", width=5, no_wrap=True)
    out.add_column("Timestamp", width=23, no_wrap=True)
    out.add_column("Type", width=30, no_wrap=True)
    out.add_column("State", width=20, overflow="fold")
    out.add_column("Detail", overflow="fold")
    for event in events:
        out.add_row(
            Text(str(event["id"])),
            Text(timestamp(event.get("timestamp"))),
            Text(event["type"]),
            Text(names.get(event["id"], "")),
            Text(event_detail(event)),
        )
    return out


def _show_execution(execution: dict[str, Any]) -> None:
    fields(
        [
            ("ARN", execution.get("executionArn")),
            ("Name", execution.get("name")),
            ("Status", execution.get("status")),
            ("State machine", execution.get("stateMachineArn")),
            ("Version", execution.get("stateMachineVersionArn")),
            ("Alias", execution.get("stateMachineAliasArn")),
            ("Started", timestamp(execution.get("startDate"))),
            ("Stopped", timestamp(execution.get("stopDate"))),
            ("Error", execution.get("error")),
            ("Cause", execution.get("cause")),
        ]
    )
    out = console()
    for key, label in (("input", "Input"), ("output", "Output")):
        if execution.get(key) is not None:
            out.print(f"{label}:", style="bold")
            out.print(Text(pretty_json_text(execution[key])))
