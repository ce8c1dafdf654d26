"""The Step Functions wire adapter (AWS JSON 1.0, ``X-Amz-Target: AWSStepFunctions.*``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from api.threads import in_thread
from engine.errors import ServiceError
from engine.services import (
    activities,
    aliases,
    executions,
    map_runs,
    state_machines,
    state_tester,
    tags,
    tasks,
    versions,
)
from engine.services.context import ServiceContext

log = logging.getLogger("stepwell.aws.states")

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AWSStepFunctions."


def _region_aware(fn: Any) -> Any:
    return lambda ctx, region, body: fn(ctx, region, body)


def _plain(fn: Any) -> Any:
    return lambda ctx, region, body: fn(ctx, body)


OPERATIONS: dict[str, Any] = {
    "CreateStateMachine": _region_aware(state_machines.create_state_machine),
    "DescribeStateMachine": _plain(state_machines.describe_state_machine),
    "UpdateStateMachine": _plain(state_machines.update_state_machine),
    "DeleteStateMachine": _plain(state_machines.delete_state_machine),
    "ListStateMachines": _plain(state_machines.list_state_machines),
    "ValidateStateMachineDefinition": lambda ctx, region, body: (
        state_machines.validate_state_machine_definition(body)
    ),
    "StartExecution": _plain(executions.start_execution),
    "DescribeExecution": _plain(executions.describe_execution),
    "ListExecutions": _plain(executions.list_executions),
    "StopExecution": _plain(executions.stop_execution),
    "GetExecutionHistory": _plain(executions.get_execution_history),
    "DescribeStateMachineForExecution": _plain(executions.describe_state_machine_for_execution),
    "CreateActivity": _region_aware(activities.create_activity),
    "DescribeActivity": _plain(activities.describe_activity),
    "DeleteActivity": _plain(activities.delete_activity),
    "ListActivities": _plain(activities.list_activities),
    "SendTaskSuccess": _plain(tasks.send_task_success),
    "SendTaskFailure": _plain(tasks.send_task_failure),
    "SendTaskHeartbeat": _plain(tasks.send_task_heartbeat),
    "DescribeMapRun": _plain(map_runs.describe_map_run),
    "ListMapRuns": _plain(map_runs.list_map_runs),
    "UpdateMapRun": _plain(map_runs.update_map_run),
    "TestState": _region_aware(state_tester.test_state),
    "RedriveExecution": _plain(executions.redrive_execution),
    "PublishStateMachineVersion": _plain(versions.publish_state_machine_version),
    "ListStateMachineVersions": _plain(versions.list_state_machine_versions),
    "DeleteStateMachineVersion": _plain(versions.delete_state_machine_version),
    "CreateStateMachineAlias": _plain(aliases.create_state_machine_alias),
    "DescribeStateMachineAlias": _plain(aliases.describe_state_machine_alias),
    "UpdateStateMachineAlias": _plain(aliases.update_state_machine_alias),
    "DeleteStateMachineAlias": _plain(aliases.delete_state_machine_alias),
    "ListStateMachineAliases": _plain(aliases.list_state_machine_aliases),
    "TagResource": _plain(tags.tag_resource),
    "UntagResource": _plain(tags.untag_resource),
    "ListTagsForResource": _plain(tags.list_tags_for_resource),
}


class UnknownOperation(ServiceError):
    """AWS: UnknownOperationException."""

    code = "UnknownOperationException"


def dispatch(
    ctx: ServiceContext, operation: str, region: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Run one Step Functions operation; raises ServiceError for anything the caller did wrong."""
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise UnknownOperation(f"Operation {operation} is not supported.")
    if not isinstance(body, dict):
        raise ServiceError("Request body must be a JSON object", "SerializationException")
    return handler(ctx, region, body)


# AWS: GetActivityTask "is a long poll: the service holds the HTTP connection open and responds
# as soon as a task becomes available ... up to 60 seconds".
ACTIVITY_POLL_SECONDS = 60.0
# Other nodes sharing a PostgreSQL database schedule tasks without waking us: re-check this often.
CROSS_NODE_RECHECK_SECONDS = 1.0


async def get_activity_task(ctx: ServiceContext, body: dict[str, Any]) -> dict[str, Any]:
    """GetActivityTask: wait (without polling the database in a loop) until a task is there.

    A poller that found nothing waits among the handoffs: a decision of this process that
    schedules a task of the activity gives it the task directly (engine.services.handoffs);
    a notification (a task given back, or one scheduled without a waiting poller) sends it to
    the database again."""
    arn = body.get("activityArn")
    worker = body.get("workerName") or ""
    signals = tasks.signals(ctx)
    deadline = time.monotonic() + ACTIVITY_POLL_SECONDS
    key = f"activity:{arn}"
    with signals.listening([key]) as woken:
        while True:
            task = await in_thread(tasks.claim_activity_task, ctx, arn, worker)
            if task is not None:
                return task
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            handed = await ctx.handoffs.next_task(
                [key], worker, woken, min(remaining, CROSS_NODE_RECHECK_SECONDS)
            )
            if handed is not None:
                return {"taskToken": handed["taskToken"], "input": handed["input"]}


# Express executions run for at most five minutes (AWS quota).
SYNC_EXECUTION_SECONDS = 300.0


async def start_sync_execution(ctx: ServiceContext, body: dict[str, Any]) -> dict[str, Any]:
    """StartSyncExecution: start an Express execution and answer when it ends."""
    started = await in_thread(executions.start_execution, ctx, body, True)
    arn = started["executionArn"]
    key = f"execution:{arn}"
    deadline = time.monotonic() + SYNC_EXECUTION_SECONDS
    while True:
        result = await in_thread(executions.sync_result, ctx, arn)
        if result is not None:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            await in_thread(
                executions.stop_execution,
                ctx,
                {"executionArn": arn, "error": "States.Timeout", "cause": "Express limit"},
            )
            continue
        await tasks.signals(ctx).wait([key], min(remaining, CROSS_NODE_RECHECK_SECONDS))


ASYNC_OPERATIONS = {
    "StartExecution": executions.start_execution_async,
    "GetActivityTask": get_activity_task,
    "StartSyncExecution": start_sync_execution,
}
