"""The STS adapter (query protocol): GetCallerIdentity, so SDK tooling can find an account."""

from __future__ import annotations

from fastapi import Response

from api.aws.protocol import request_id
from engine.services.context import ServiceContext

ACTIONS = {"GetCallerIdentity"}


def handle(ctx: ServiceContext, action: str, form: dict[str, str]) -> Response:
    """Answer an STS action with AWS's XML shape."""
    account = ctx.account
    rid = request_id()
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult>"
        f"<Arn>arn:aws:iam::{account}:root</Arn><UserId>{account}</UserId>"
        f"<Account>{account}</Account>"
        "</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    return Response(content=body, media_type="text/xml", headers={"x-amzn-RequestId": rid})
