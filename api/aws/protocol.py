"""AWS wire protocol plumbing shared by the service adapters: routing, region, error shapes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import orjson
from fastapi import Request, Response

from engine.errors import ServiceError

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")

Operation = Callable[[Any, str, dict[str, Any]], dict[str, Any]]


def signature_scope(request: Request, default_region: str) -> tuple[str, str | None]:
    """(region, service) named by the SigV4 Authorization header, else the defaults."""
    match = _CREDENTIAL.search(request.headers.get("authorization", ""))
    if match is None:
        return default_region, None
    return match.group(1), match.group(2)


def request_id() -> str:
    """A fresh x-amzn-RequestId."""
    return str(uuid.uuid4())


def json_response(body: dict[str, Any], content_type: str, status: int = 200) -> Response:
    """A JSON protocol response with AWS's headers."""
    return Response(
        content=orjson.dumps(body),
        status_code=status,
        media_type=content_type,
        headers={"x-amzn-RequestId": request_id()},
    )


def json_error(
    code: str,
    message: str,
    content_type: str,
    status: int = 400,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A JSON protocol error: ``__type`` and ``message`` plus the x-amzn-ErrorType header."""
    headers = {"x-amzn-RequestId": request_id(), "x-amzn-ErrorType": code}
    if extra_headers:
        headers.update(extra_headers)
    return Response(
        content=orjson.dumps({"__type": code, "message": message}),
        status_code=status,
        media_type=content_type,
        headers=headers,
    )


def query_error(code: str, message: str, status: int = 400, sender: str = "Sender") -> Response:
    """A query-protocol (XML) error response."""
    rid = request_id()
    body = (
        "<ErrorResponse><Error>"
        f"<Type>{sender}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return Response(
        content=body, status_code=status, media_type="text/xml", headers={"x-amzn-RequestId": rid}
    )


def status_of(error: ServiceError) -> int:
    """HTTP status for an engine error on the AWS wire (AWS uses 400 for client errors)."""
    return 500 if error.kind == "internal" else 400


def form_tree(form: dict[str, str]) -> dict[str, Any]:
    """A query-protocol form's flattened names (``Attribute.1.Name=x``) as nested dicts
    (``{"Attribute": {"1": {"Name": "x"}}}``), for each service to shape by its model. A name
    that would nest under a plain value is dropped."""
    tree: dict[str, Any] = {}
    for key, value in form.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return tree
