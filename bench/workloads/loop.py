"""loop: one execution counting to 1,000 (200 under --quick) with a Pass that increments
(States.MathAdd) and a Choice that loops back while NumericLessThan the limit. Figure:
``seconds`` from the StartExecution call until DescribeExecution shows it ended.

moto is slow here, so every target gets a timeout; a run that hits it reports
``seconds: ">= timeout"`` and the runner restarts that server to stop the leftover work.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from bench.common import (
    HIGHER,
    LOWER,
    AtLeast,
    BenchTimeout,
    RunContext,
    Target,
    Workload,
    create_state_machine,
    epoch,
    wait_for_execution,
)

TIMEOUT_S = 90.0
QUICK_TIMEOUT_S = 20.0


def definition(limit: int) -> dict[str, Any]:
    """Init -> (Increment -> Check)* -> Done."""
    return {
        "Comment": "bench loop",
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": {"i": 0}, "ResultPath": "$.counter", "Next": "Inc"},
            "Inc": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.counter.i, 1)"},
                "ResultPath": "$.counter",
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.counter.i", "NumericLessThan": limit, "Next": "Inc"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """Run the counter loop once and time it."""
    client = target.client()
    iterations = ctx.count(1000, 200)
    timeout = QUICK_TIMEOUT_S if ctx.quick else TIMEOUT_S
    arn = create_state_machine(client, "loop", definition(iterations))
    began = time.time()
    response = client.start_execution(stateMachineArn=arn, name="run", input="{}")
    try:
        description, seen = wait_for_execution(client, response["executionArn"], timeout, began)
    except BenchTimeout:
        return {"iterations": iterations, "timed_out": True, "seconds": AtLeast(timeout)}
    start, stop = epoch(description.get("startDate")), epoch(description.get("stopDate"))
    output = orjson.loads(description.get("output") or "null")
    seconds = seen - began
    return {
        "iterations": iterations,
        "status": description["status"],
        "output_ok": output == {"counter": {"i": iterations}},
        "seconds": seconds,
        "server_seconds": stop - start if start is not None and stop is not None else None,
        "transitions_per_s": (2 * iterations + 2) / seconds,
    }


WORKLOAD = Workload(
    name="loop",
    description="a 1,000-iteration Pass + Choice counter loop",
    run=measure,
    compared={"seconds": LOWER, "transitions_per_s": HIGHER},
    headline=("seconds",),
)
