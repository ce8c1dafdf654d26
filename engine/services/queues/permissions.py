"""AddPermission and RemovePermission: statements of the queue's ``Policy`` attribute.

SQS keeps what AddPermission grants as a statement of the queue's access policy, its ``Sid``
the permission's label, so GetQueueAttributes shows it as ``Policy`` and SetQueueAttributes
may replace it. Stepwell accepts any credentials and does not enforce the policy; it keeps it
as SQS would for the tools that read or audit it.
"""

from __future__ import annotations

import json
from typing import Any

from engine.services.context import ServiceContext
from engine.services.queues.common import Caller, changed_queue, lock_queue, run
from engine.services.queues.errors import InvalidParameterValue, MissingParameter, OverLimit

# The actions AddPermission may share with other accounts (botocore's documentation).
SHARED_ACTIONS = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)
# Actions only the queue's owner may call.
_OWNER_ONLY = frozenset(
    {
        "AddPermission",
        "CreateQueue",
        "DeleteQueue",
        "ListQueues",
        "RemovePermission",
        "SetQueueAttributes",
        "TagQueue",
        "UntagQueue",
    }
)


_LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
# AWS: "you can add up to 7 actions" to one permission; more answer OverLimit.
MAX_ACTIONS = 7


def _label(body: dict[str, Any]) -> str:
    label = body.get("Label")
    if not label:
        raise MissingParameter("The request must contain the parameter Label.")
    if len(label) > 80 or not set(label) <= _LABEL_CHARACTERS:
        raise InvalidParameterValue(
            f"Value {label} for parameter Label is invalid. Reason: Can only include "
            "alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )
    return str(label)


def _listed(body: dict[str, Any], member: str, singular: str) -> list[str]:
    values = body.get(member)
    if not values:
        raise MissingParameter(f"The request must contain the parameter {singular}.")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidParameterValue(f"Value {values!r} for parameter {member} is invalid.")
    return values


def _policy(queue: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the queue's stored attributes, its policy: the stored one or an empty one). A policy
    set by SetQueueAttributes that these calls cannot extend is refused, never replaced."""
    attributes = json.loads(queue["attributes"])
    text = attributes.get("Policy")
    policy = json.loads(text) if text else {}
    statements = policy.get("Statement", []) if isinstance(policy, dict) else None
    if isinstance(statements, dict):  # IAM allows a single statement as an object
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise InvalidParameterValue(
            "The queue's Policy attribute is not a policy document with a list of statements; "
            "replace it with SetQueueAttributes first."
        )
    policy["Statement"] = statements
    policy.setdefault("Version", "2012-10-17")
    policy.setdefault("Id", f"{queue['arn']}/SQSDefaultPolicy")
    return attributes, policy


def _store(
    ctx: ServiceContext,
    tx: Any,
    queue: dict[str, Any],
    attributes: dict[str, Any],
    policy: dict[str, Any],
) -> None:
    if policy["Statement"]:
        attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
    else:
        attributes.pop("Policy", None)
    changed_queue(ctx, tx, queue)
    tx.queues.update(queue["id"], attributes=json.dumps(attributes), modified_at=ctx.clock.now())


def add_permission(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """AddPermission: allow accounts the given actions on the queue, under a new label."""
    label = _label(body)
    accounts = _listed(body, "AWSAccountIds", "AWSAccountId")
    actions = _listed(body, "Actions", "ActionName")
    for account in accounts:
        if len(account) != 12 or not account.isascii() or not account.isdigit():
            raise InvalidParameterValue(
                f"Value {account} for parameter AWSAccountId is invalid. "
                "Reason: An AWS account ID is 12 digits."
            )
    if len(actions) > MAX_ACTIONS:
        raise OverLimit(f"{len(actions)} Actions were found, maximum allowed is {MAX_ACTIONS}.")
    for action in actions:
        if action in _OWNER_ONLY:
            raise InvalidParameterValue(
                f"Value SQS:{action} for parameter ActionName is invalid. "
                "Reason: Only the queue owner is allowed to invoke this action."
            )
        if action not in SHARED_ACTIONS:
            raise InvalidParameterValue(
                f"Value SQS:{action} for parameter ActionName is invalid. "
                "Reason: Please refer to the appropriate WSDL for a list of valid actions."
            )

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        attributes, policy = _policy(queue)
        if any(s.get("Sid") == label for s in policy["Statement"]):
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. Reason: Already exists."
            )
        principals = [f"arn:aws:iam::{a}:root" for a in accounts]
        granted = [f"SQS:{a}" for a in actions]
        policy["Statement"].append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": granted[0] if len(granted) == 1 else granted,
                "Resource": queue["arn"],
            }
        )
        _store(ctx, tx, queue, attributes, policy)
        return {}

    return run(ctx, work)


def remove_permission(ctx: ServiceContext, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """RemovePermission: drop the statement a label names."""
    label = _label(body)

    def work(tx: Any) -> dict[str, Any]:
        queue = lock_queue(ctx, tx, body.get("QueueUrl"))
        attributes, policy = _policy(queue)
        kept = [s for s in policy["Statement"] if s.get("Sid") != label]
        if len(kept) == len(policy["Statement"]):
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. "
                "Reason: can't find label on existing policy."
            )
        policy["Statement"] = kept
        _store(ctx, tx, queue, attributes, policy)
        return {}

    return run(ctx, work)
