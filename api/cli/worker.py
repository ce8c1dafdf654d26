"""``stepwell worker`` (run a task worker) and ``stepwell activities`` (create, list, delete)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from typing import Any

import typer

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"

activities_app = typer.Typer(help="Manage activities (the AWS Step Functions API).")

EndpointOption = typer.Option(
    DEFAULT_ENDPOINT, "--endpoint", envvar="STEPWELL_ENDPOINT", help="Server base URL."
)


def load_worker(target: str) -> Any:
    """Import ``MODULE:ATTRIBUTE`` (the current directory is on the path) and return the
    Worker found there; typer.BadParameter explains what is wrong otherwise."""
    from workers.sdk import Worker

    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter(f"expected MODULE:ATTRIBUTE, got {target!r}", param_hint="TARGET")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise typer.BadParameter(
            f"cannot import module {module_name!r}: {exc}", param_hint="TARGET"
        ) from exc
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise typer.BadParameter(
                f"module {module_name!r} has no attribute {attribute!r}", param_hint="TARGET"
            ) from None
    if not isinstance(value, Worker):
        raise typer.BadParameter(
            f"{target} is a {type(value).__name__}, not a workers.sdk.Worker", param_hint="TARGET"
        )
    return value


def run(
    target: str = typer.Argument(..., metavar="MODULE:ATTRIBUTE", help="Where the Worker is."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", "-c", min=1, help="Handlers in flight at most."
    ),
    endpoint: str | None = typer.Option(
        None, "--endpoint", envvar="STEPWELL_ENDPOINT", help="Server base URL."
    ),
    name: str | None = typer.Option(None, "--name", help="Worker name shown in histories."),
    grace: float | None = typer.Option(
        None, "--grace", min=0, help="Seconds in-flight tasks get at shutdown."
    ),
    log_level: str = typer.Option("info", "--log-level", help="Python logging level."),
) -> None:
    """Run a task worker: poll the server for its activities and functions until SIGTERM."""
    logging.basicConfig(
        level=getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One INFO line per HTTP request (every long poll) is noise, not news.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    worker = load_worker(target)
    if concurrency is not None:
        worker.concurrency = concurrency
    if endpoint:
        worker.endpoint = endpoint
    if name:
        worker.name = name
    if grace is not None:
        worker.grace = grace
    try:
        worker.run()
    except ValueError as exc:  # a worker that cannot start as configured
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except Exception as exc:  # e.g. its activities could not be created
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _call(endpoint: str, operation: str, **body: Any) -> dict[str, Any]:
    """One AWS Step Functions call over the wire protocol (JSON 1.0), with plain httpx so that
    the CLI needs no AWS SDK. The region is taken from AWS_DEFAULT_REGION (SigV4 scope)."""
    import httpx

    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    headers = {
        "X-Amz-Target": f"AWSStepFunctions.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=stepwell/20240101/{region}/states/"
        "aws4_request, SignedHeaders=host, Signature=0",
    }
    try:
        response = httpx.post(endpoint.rstrip("/") + "/", json=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach {endpoint}: {exc}", err=True)
        raise typer.Exit(1) from exc
    try:
        data = response.json() if response.content else {}
    except ValueError:
        data = {"message": response.text}
    if response.status_code >= 400:
        code = str(data.get("__type", f"HTTP {response.status_code}")).split("#")[-1]
        typer.echo(f"error: {code}: {data.get('message', '')}", err=True)
        raise typer.Exit(1)
    return data


def _when(value: Any) -> str:
    """An AWS timestamp (epoch seconds) as ISO 8601 text."""
    from datetime import UTC, datetime

    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    return str(value)


def _print(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, default=str, indent=2) if as_json else text)


@activities_app.command("create")
def create_activity(
    name: str = typer.Argument(..., help="Activity name."),
    as_json: bool = typer.Option(False, "--json", help="Print the response as JSON."),
    endpoint: str = EndpointOption,
) -> None:
    """Create an activity (idempotent by name); prints its ARN."""
    result = _call(endpoint, "CreateActivity", name=name)
    _print(result, as_json, result["activityArn"])


@activities_app.command("list")
def list_activities(
    as_json: bool = typer.Option(False, "--json", help="Print the activities as JSON."),
    endpoint: str = EndpointOption,
) -> None:
    """List activities."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = _call(endpoint, "ListActivities", **({"nextToken": token} if token else {}))
        found.extend(page.get("activities", []))
        token = page.get("nextToken")
        if not token:
            break
    lines = [f"{a['activityArn']}\t{_when(a.get('creationDate'))}" for a in found]
    _print(found, as_json, "\n".join(lines) if lines else "(no activities)")


@activities_app.command("delete")
def delete_activity(
    arn: str = typer.Argument(..., help="Activity ARN."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    endpoint: str = EndpointOption,
) -> None:
    """Delete an activity."""
    _call(endpoint, "DeleteActivity", activityArn=arn)
    _print({"deleted": arn}, as_json, f"deleted {arn}")
