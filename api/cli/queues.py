"""``stepwell queues``: create, list, send, receive, purge, inspect and delete queues (the REST
API under /v1/queues; the same queues SQS clients see)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.client import (
    DEFAULT_ENDPOINT,
    AsJson,
    Endpoint,
    calling,
    console,
    fields,
    print_json,
    table,
    timestamp,
    usage_error,
)

app = typer.Typer(
    help="Create, list, send to, receive from and purge queues.", no_args_is_help=True
)

QueueName = Annotated[str, typer.Argument(help="The queue's name.")]


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """KEY=VALUE options as a dict (a usage error otherwise)."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            usage_error(f"{what} must look like KEY=VALUE, got {item!r}")
        out[key] = value
    return out


@app.command("create")
def create(
    name: QueueName,
    fifo: Annotated[
        bool, typer.Option("--fifo", help="A FIFO queue (name ends in .fifo).")
    ] = False,
    attribute: Annotated[
        list[str] | None,
        typer.Option("--attribute", "-a", help="A queue attribute, KEY=VALUE (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag, KEY=VALUE (repeatable).")
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Create a queue (idempotent when the attributes are the same); prints its URL."""
    body = {
        "name": name,
        "fifo": fifo,
        "attributes": _pairs(attribute, "--attribute"),
        "tags": _pairs(tag, "--tag"),
    }
    with calling(endpoint) as api:
        queue = api.post("/queues", body)
    if as_json:
        print_json(queue)
        return
    console().print(queue["url"], markup=False)


@app.command("list")
def list_(
    prefix: Annotated[str | None, typer.Option("--prefix", help="Only names starting so.")] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """List queues by name."""
    with calling(endpoint) as api:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            page = api.get("/queues", prefix=prefix, maxResults=1000, nextToken=token)
            found.extend(page.get("queues", []))
            token = page.get("nextToken")
            if not token:
                break
    if as_json:
        print_json({"queues": found})
        return
    table(["Name", "URL"], [[q["name"], q["url"]] for q in found])


@app.command("attributes")
def attributes(
    name: QueueName,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Show a queue's URL and attributes (message counts included)."""
    with calling(endpoint) as api:
        queue = api.get(f"/queues/{name}")
    if as_json:
        print_json(queue)
        return
    values = queue.get("attributes", {})
    pairs: list[tuple[str, Any]] = [("Name", queue["name"]), ("URL", queue["url"])]
    for key in sorted(values):
        value = values[key]
        if key in ("CreatedTimestamp", "LastModifiedTimestamp"):
            value = timestamp(int(value))
        pairs.append((key, value))
    fields(pairs)


@app.command("send")
def send(
    name: QueueName,
    body: Annotated[str, typer.Argument(help="The message body (any text; JSON is kept as is).")],
    delay: Annotated[
        int | None, typer.Option("--delay", min=0, max=900, help="DelaySeconds.")
    ] = None,
    group_id: Annotated[
        str | None, typer.Option("--group-id", help="MessageGroupId (FIFO queues).")
    ] = None,
    dedup_id: Annotated[
        str | None, typer.Option("--dedup-id", help="MessageDeduplicationId (FIFO queues).")
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Send one message; prints its message id."""
    request: dict[str, Any] = {"body": body}
    if delay is not None:
        request["delaySeconds"] = delay
    if group_id:
        request["groupId"] = group_id
    if dedup_id:
        request["deduplicationId"] = dedup_id
    with calling(endpoint) as api:
        sent = api.post(f"/queues/{name}/messages", request)
    if as_json:
        print_json(sent)
        return
    console().print(sent["messageId"], markup=False)


@app.command("receive")
def receive(
    name: QueueName,
    max_messages: Annotated[
        int, typer.Option("--max", min=1, max=10, help="Receive at most this many.")
    ] = 1,
    wait: Annotated[
        int, typer.Option("--wait", min=0, max=20, help="Long-poll up to this many seconds.")
    ] = 0,
    visibility: Annotated[
        int | None,
        typer.Option("--visibility", min=0, help="Seconds the messages stay invisible."),
    ] = None,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete the messages once received.")
    ] = False,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Receive messages (they become invisible for the visibility timeout unless --delete)."""
    request: dict[str, Any] = {"maxMessages": max_messages, "waitSeconds": wait}
    if visibility is not None:
        request["visibilityTimeout"] = visibility
    with calling(endpoint) as api:
        got = api.post(f"/queues/{name}/messages/receive", request)
        messages = got.get("messages", [])
        if delete:
            for message in messages:
                api.delete(f"/queues/{name}/messages/{message['receiptHandle']}")
    if as_json:
        print_json({"messages": messages})
        return
    if not messages:
        console().print("(no messages)")
        return
    table(
        ["Message id", "Receives", "Body"],
        [
            [
                m["messageId"],
                m.get("attributes", {}).get("ApproximateReceiveCount", ""),
                m["body"],
            ]
            for m in messages
        ],
    )


@app.command("purge")
def purge(
    name: QueueName,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Delete every message in a queue (at most once a minute)."""
    with calling(endpoint) as api:
        api.post(f"/queues/{name}/purge")
    if as_json:
        print_json({"purged": name})
        return
    console().print(f"Purged {name}", markup=False)


@app.command("delete")
def delete_queue(
    name: QueueName,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    as_json: AsJson = False,
) -> None:
    """Delete a queue and its messages."""
    with calling(endpoint) as api:
        api.delete(f"/queues/{name}")
    if as_json:
        print_json({"deleted": name})
        return
    console().print(f"Deleted {name}", markup=False)
