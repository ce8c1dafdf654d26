"""SQS-compatible queues: one function per SQS operation, each one transaction.

Every operation takes ``(ctx, caller, body)``: ``body`` is the request in the shapes of
botocore's ``sqs/2012-11-05`` model (AWS JSON 1.0 names), ``caller`` says which host the
request used (for queue URLs) and its region (for new queues' ARNs).
"""

from __future__ import annotations

from typing import Any

from engine.services.queues import admin, messages, moves, permissions, sending
from engine.services.queues.common import Caller, Operation, checked_operations, wake_key
from engine.services.queues.errors import SqsError

# The parameters botocore's model types as strings (top level of every operation's input).
# One of another type would otherwise reach SQL as a value the driver cannot bind.
_STRING_PARAMETERS = frozenset(
    {
        "DestinationArn",
        "Label",
        "MessageBody",
        "MessageDeduplicationId",
        "MessageGroupId",
        "NextToken",
        "QueueName",
        "QueueNamePrefix",
        "QueueOwnerAWSAccountId",
        "QueueUrl",
        "ReceiptHandle",
        "ReceiveRequestAttemptId",
        "SourceArn",
        "TaskHandle",
    }
)


def check_types(body: dict[str, Any]) -> None:
    """InvalidParameterValue for a string parameter given as another JSON type."""
    for name, value in body.items():
        if name in _STRING_PARAMETERS and value is not None and not isinstance(value, str):
            raise SqsError(
                f"Value {value!r} for parameter {name} is invalid. Reason: must be a string.",
                "InvalidParameterValue",
            )


_OPERATIONS: dict[str, Operation] = {
    "CreateQueue": admin.create_queue,
    "GetQueueUrl": admin.get_queue_url,
    "ListQueues": admin.list_queues,
    "DeleteQueue": admin.delete_queue,
    "GetQueueAttributes": admin.get_queue_attributes,
    "SetQueueAttributes": admin.set_queue_attributes,
    "PurgeQueue": admin.purge_queue,
    "TagQueue": admin.tag_queue,
    "UntagQueue": admin.untag_queue,
    "ListQueueTags": admin.list_queue_tags,
    "ListDeadLetterSourceQueues": admin.list_dead_letter_source_queues,
    "SendMessage": sending.send_message,
    "SendMessageBatch": sending.send_message_batch,
    "ReceiveMessage": messages.receive_message,
    "DeleteMessage": messages.delete_message,
    "DeleteMessageBatch": messages.delete_message_batch,
    "ChangeMessageVisibility": messages.change_message_visibility,
    "ChangeMessageVisibilityBatch": messages.change_message_visibility_batch,
    "StartMessageMoveTask": moves.start_message_move_task,
    "ListMessageMoveTasks": moves.list_message_move_tasks,
    "CancelMessageMoveTask": moves.cancel_message_move_task,
    "AddPermission": permissions.add_permission,
    "RemovePermission": permissions.remove_permission,
}
OPERATIONS: dict[str, Operation] = checked_operations(_OPERATIONS, check_types)

__all__ = ["OPERATIONS", "Caller", "SqsError", "check_types", "wake_key", "messages"]
