"""The SNS wire adapter: the query protocol, the only one SNS speaks (botocore's
``sns/2010-03-31`` model: ``"protocol": "query"``).

A request is a form ``Action=<Operation>&Version=2010-03-31&...`` posted to ``/``; lists come
as ``<Name>.member.<n>``, maps as ``<Name>.entry.<n>.key/value`` (``Name``/``Value`` for
MessageAttributes). The answer is XML in the same shapes (lists of ``<member>``, maps of
``<entry><key/><value/></entry>``); errors are ``<ErrorResponse>`` with the model's code and
HTTP status (NotFound 404, AuthorizationError 403, InvalidParameter 400, ...).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from fastapi import Request, Response

from api.aws import protocol
from api.aws.sqs import caller_of
from api.threads import in_thread
from engine.errors import ServiceError
from engine.services.context import ServiceContext
from engine.services.topics import OPERATIONS, SnsError

log = logging.getLogger("stepwell.aws.sns")

VERSION = "2010-03-31"
XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
ACTIONS = set(OPERATIONS)
# Actions of SNS's model that this server does not serve (SMS, mobile push, data protection,
# permissions): answered InvalidAction rather than being mistaken for another service.
UNSERVED = frozenset(
    {
        "AddPermission",
        "RemovePermission",
        "CheckIfPhoneNumberIsOptedOut",
        "CreatePlatformApplication",
        "CreatePlatformEndpoint",
        "CreateSMSSandboxPhoneNumber",
        "DeleteEndpoint",
        "DeletePlatformApplication",
        "DeleteSMSSandboxPhoneNumber",
        "GetDataProtectionPolicy",
        "GetEndpointAttributes",
        "GetPlatformApplicationAttributes",
        "GetSMSAttributes",
        "GetSMSSandboxAccountStatus",
        "ListEndpointsByPlatformApplication",
        "ListOriginationNumbers",
        "ListPhoneNumbersOptedOut",
        "ListPlatformApplications",
        "ListSMSSandboxPhoneNumbers",
        "OptInPhoneNumber",
        "PutDataProtectionPolicy",
        "SetEndpointAttributes",
        "SetPlatformApplicationAttributes",
        "SetSMSAttributes",
        "VerifySMSSandboxPhoneNumber",
    }
)
# Members that are lists in the model but may arrive empty (``TagKeys=``).
_LIST_PARAMETERS = frozenset({"TagKeys", "PublishBatchRequestEntries", "Tags"})


def is_query_request(form: dict[str, str], service: str | None) -> bool:
    """Whether a query-protocol form is meant for SNS: its Version, else the SigV4 scope's
    service name, else an action only SNS has."""
    version = form.get("Version")
    if version is not None:
        return version == VERSION
    if service is not None:
        return service == "sns"
    action = form.get("Action")
    return action in ACTIONS or action in UNSERVED


async def handle_query(ctx: ServiceContext, request: Request, body: bytes, region: str) -> Response:
    """Answer one SNS query-protocol request (the form in ``body``)."""
    # Blank values count: an empty Subject or Message is an error SNS reports, not an absence.
    form = {
        k: v[0]
        for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
    }
    action = form.get("Action") or ""
    params = form_to_params({k: v for k, v in form.items() if k not in ("Action", "Version")})
    try:
        handler = OPERATIONS.get(action)
        if handler is None:
            raise SnsError(f"Unknown action {action}", "InvalidAction")
        result = await in_thread(handler, ctx, caller_of(request, region), params)
    except SnsError as err:
        return protocol.query_error(err.code, err.message, err.status)
    except ServiceError as err:
        return protocol.query_error(err.code, err.message, protocol.status_of(err))
    except (TypeError, KeyError, AttributeError, ValueError) as err:
        # A parameter of a shape no validator caught: still the caller's error, never a 500.
        log.warning("malformed %s request: %r", action, err)
        return protocol.query_error("InvalidParameter", f"Invalid parameter: {err}")
    return xml_response(action, result)


def xml_response(action: str, result: dict[str, Any]) -> Response:
    """An SNS answer: ``<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>``."""
    rid = protocol.request_id()
    inner = "".join(to_xml(key, value) for key, value in result.items())
    body = (
        f'<{action}Response xmlns="{XMLNS}"><{action}Result>{inner}</{action}Result>'
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{action}Response>"
    )
    return Response(content=body, media_type="text/xml", headers={"x-amzn-RequestId": rid})


def to_xml(key: str, value: Any) -> str:
    """One result member: maps as entries, lists as members, structures nested."""
    if key == "Attributes" and isinstance(value, dict):
        entries = "".join(
            f"<entry><key>{escape(str(k))}</key><value>{escape(str(v))}</value></entry>"
            for k, v in value.items()
        )
        return f"<{key}>{entries}</{key}>"
    if isinstance(value, list):
        return f"<{key}>{''.join(to_xml('member', v) for v in value)}</{key}>"
    if isinstance(value, dict):
        return f"<{key}>{''.join(to_xml(k, v) for k, v in value.items())}</{key}>"
    if isinstance(value, bool):
        return f"<{key}>{'true' if value else 'false'}</{key}>"
    return f"<{key}>{escape(str(value))}</{key}>"


def form_to_params(form: dict[str, str]) -> dict[str, Any]:
    """The form's flattened names -> the model's shapes (lists, maps, structures)."""
    params = _normalise(protocol.form_tree(form))
    for name in _LIST_PARAMETERS:
        if params.get(name) == "":
            params[name] = []
    return params


def _items(node: dict[str, Any]) -> list[Any]:
    return [node[k] for k in sorted(node, key=lambda k: int(k) if k.isdigit() else 0)]


def _normalise(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {"member"} and isinstance(node["member"], dict):
        return [_normalise(item) for item in _items(node["member"])]
    if set(node) == {"entry"} and isinstance(node["entry"], dict):
        out: dict[str, Any] = {}
        for item in _items(node["entry"]):
            if not isinstance(item, dict):
                continue
            key = item.get("key", item.get("Name"))
            value = item.get("value", item.get("Value"))
            out[str(key)] = _normalise(value)
        return out
    return {key: _normalise(value) for key, value in node.items()}
