"""chain: many short executions of ten Pass states doing real JSONPath work.

1,000 executions (200 under --quick) are started from 8 client threads. Figures:

- ``executions_per_s``: executions / (first StartExecution call -> the moment the client sees
  that none is RUNNING any more); ``transitions_per_s`` is that times the ten states.
- ``start_requests_per_s``: StartExecution calls / (first call -> last answer), the start phase
  alone (the engine works meanwhile, as it would in production).
- ``latency_p50_ms`` / ``latency_p99_ms``: per execution, its StartExecution call time to the
  ``stopDate`` the server reports.

Completion is polled cheaply: one ``ListExecutions(statusFilter=RUNNING, maxResults=1)`` at a
time once every start has been answered; then one paged ListExecutions reads every stopDate and
one DescribeExecution checks an output against the expected value.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import orjson

from bench.common import (
    HIGHER,
    LOWER,
    BenchTimeout,
    RunContext,
    Target,
    Workload,
    create_state_machine,
    epoch,
    percentile,
    run_threads,
    wait_for_execution,
)

STATES = 10
THREADS = 8
TIMEOUT_S = 300.0

INPUT: dict[str, Any] = {
    "order": {
        "id": "o-1001",
        "customer": {"name": "Ada", "tier": "gold"},
        "items": [{"sku": "A-1", "qty": 2, "price": 9.5}, {"sku": "B-2", "qty": 1, "price": 20}],
    },
    "counter": {"value": 0},
}


def definition(states: int = STATES) -> dict[str, Any]:
    """Pass states chained one after another; each one rewrites ``$.counter``."""
    body: dict[str, Any] = {}
    for i in range(states):
        state: dict[str, Any] = {
            "Type": "Pass",
            "Parameters": {
                "value.$": "States.MathAdd($.counter.value, 1)",
                "order.$": "$.order.id",
                "tier.$": "$.order.customer.tier",
                "sku.$": f"$.order.items[{i % 2}].sku",
                "quantities.$": "$.order.items[*].qty",
                "label.$": "States.Format('{} at step {}', $.order.id, $.counter.value)",
                "static": {"index": i},
            },
            "ResultPath": "$.counter",
        }
        if i + 1 < states:
            state["Next"] = f"S{i + 1}"
        else:
            state["End"] = True
        body[f"S{i}"] = state
    return {"Comment": "bench chain", "StartAt": "S0", "States": body}


def expected_output(states: int = STATES) -> dict[str, Any]:
    """What every execution must return."""
    last = states - 1
    return {
        "order": INPUT["order"],
        "counter": {
            "value": states,
            "order": "o-1001",
            "tier": "gold",
            "sku": INPUT["order"]["items"][last % 2]["sku"],
            "quantities": [2, 1],
            "label": f"o-1001 at step {last}",
            "static": {"index": last},
        },
    }


def _warm_up(client: Any, count: int = 16) -> None:
    """Open pooled connections and let the server parse and cache a definition like ours."""
    arn = create_state_machine(client, "chain-warmup", definition())
    text = orjson.dumps(INPUT).decode()
    started = [
        client.start_execution(stateMachineArn=arn, name=f"w{i:03d}", input=text)
        for i in range(count)
    ]
    for response in started:
        wait_for_execution(client, response["executionArn"], 60)


def _all_executions(client: Any, arn: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"stateMachineArn": arn, "maxResults": 1000}
    while True:
        page = client.list_executions(**kwargs)
        items.extend(page["executions"])
        if not page.get("nextToken"):
            return items
        kwargs["nextToken"] = page["nextToken"]


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """Run the chain workload once against ``target``; also leaves the server's RSS after it."""
    client = target.client()
    total = ctx.count(1000, 200)
    _warm_up(client)
    arn = create_state_machine(client, "chain", definition())
    text = orjson.dumps(INPUT).decode()
    counter = itertools.count()
    calls: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def starter(_: int) -> None:
        while (i := next(counter)) < total:
            began = time.time()
            response = client.start_execution(stateMachineArn=arn, name=f"e{i:05d}", input=text)
            answered = time.time()
            with lock:
                calls[response["executionArn"]] = (began, answered)

    run_threads(THREADS, starter)
    first = min(began for began, _ in calls.values())
    last_answer = max(answered for _, answered in calls.values())

    deadline = first + TIMEOUT_S
    while True:
        running = client.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)
        seen = time.time()
        if not running["executions"]:
            break
        if seen > deadline:
            raise BenchTimeout(TIMEOUT_S, f"with executions still RUNNING on {target.name}")
        time.sleep(0.02)
    ctx.shared[(target.name, "rss_after_chain")] = target.server.rss_mib()

    executions = _all_executions(client, arn)
    latencies: list[float] = []
    succeeded = 0
    for item in executions:
        if item["status"] == "SUCCEEDED":
            succeeded += 1
        stop = epoch(item.get("stopDate"))
        call = calls.get(item["executionArn"])
        if stop is not None and call is not None:
            latencies.append((stop - call[0]) * 1000.0)
    sample = client.describe_execution(executionArn=max(calls, key=lambda a: calls[a][0]))
    output_ok = (
        sample["status"] == "SUCCEEDED"
        and orjson.loads(sample.get("output") or "null") == expected_output()
    )

    wall = seen - first
    rate = total / wall
    figures: dict[str, Any] = {
        "executions": total,
        "states": STATES,
        "threads": THREADS,
        "succeeded": succeeded,
        "output_ok": output_ok,
        "wall_s": wall,
        "executions_per_s": rate,
        "transitions_per_s": rate * STATES,
        "start_requests_per_s": total / (last_answer - first),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
    }
    ctx.shared[(target.name, "chain")] = figures
    return figures


WORKLOAD = Workload(
    name="chain",
    description="1,000 executions of 10 JSONPath Pass states from 8 threads",
    run=measure,
    compared={
        "executions_per_s": HIGHER,
        "transitions_per_s": HIGHER,
        "start_requests_per_s": HIGHER,
        "latency_p50_ms": LOWER,
        "latency_p99_ms": LOWER,
    },
    headline=(
        "executions_per_s",
        "transitions_per_s",
        "start_requests_per_s",
        "latency_p50_ms",
        "latency_p99_ms",
    ),
)
