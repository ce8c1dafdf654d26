"""map: one execution whose inline Map runs 1,000 items (200 under --quick) through three
Pass states. Figure: ``seconds`` from the StartExecution call until DescribeExecution shows
the execution ended (``server_seconds``: the server's own startDate -> stopDate)."""

from __future__ import annotations

import time
from typing import Any

import orjson

from bench.common import (
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

TIMEOUT_S = 180.0
QUICK_TIMEOUT_S = 45.0


def definition() -> dict[str, Any]:
    """An inline Map (no MaxConcurrency: as many at a time as the engine likes)."""
    processor = {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Pass",
                "Parameters": {"n.$": "$.n", "double.$": "States.MathAdd($.n, $.n)"},
                "Next": "Label",
            },
            "Label": {
                "Type": "Pass",
                "Parameters": {
                    "n.$": "$.n",
                    "double.$": "$.double",
                    "label.$": "States.Format('item {}', $.n)",
                },
                "Next": "Mark",
            },
            "Mark": {"Type": "Pass", "Result": True, "ResultPath": "$.done", "End": True},
        },
    }
    return {
        "Comment": "bench map",
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": processor,
                "ResultPath": "$.results",
                "End": True,
            }
        },
    }


def _output_ok(output: Any, items: int) -> bool:
    results = output.get("results") if isinstance(output, dict) else None
    if not isinstance(results, list) or len(results) != items:
        return False
    return all(
        r == {"n": n, "double": 2 * n, "label": f"item {n}", "done": True}
        for n, r in enumerate(results)
    )


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """Run one Map execution and time it."""
    client = target.client()
    items = ctx.count(1000, 200)
    timeout = QUICK_TIMEOUT_S if ctx.quick else TIMEOUT_S
    arn = create_state_machine(client, "map", definition())
    text = orjson.dumps({"items": [{"n": n} for n in range(items)]}).decode()
    began = time.time()
    response = client.start_execution(stateMachineArn=arn, name="run", input=text)
    try:
        description, seen = wait_for_execution(client, response["executionArn"], timeout, began)
    except BenchTimeout:
        return {"items": items, "timed_out": True, "seconds": AtLeast(timeout)}
    start, stop = epoch(description.get("startDate")), epoch(description.get("stopDate"))
    output = orjson.loads(description.get("output") or "null")
    return {
        "items": items,
        "status": description["status"],
        "output_ok": _output_ok(output, items),
        "seconds": seen - began,
        "server_seconds": stop - start if start is not None and stop is not None else None,
        "items_per_s": items / (seen - began),
    }


WORKLOAD = Workload(
    name="map",
    description="one inline Map over 1,000 items of 3 Pass states",
    run=measure,
    compared={"seconds": LOWER},
    headline=("seconds",),
)
