"""A batch of decisions is recorded per execution: each conditional update stands or falls on
its own lease and event count (on PostgreSQL they travel in one pipeline). SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from engine.services import executions, runtime, state_machines
from engine.services.context import ServiceContext

ROLE = "arn:aws:iam::123456789012:role/stepwell"
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}


def _started(ctx: ServiceContext, count: int) -> list[str]:
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "batch", "definition": json.dumps(WAIT), "roleArn": ROLE}
    )["stateMachineArn"]
    return [
        executions.start_execution(ctx, {"stateMachineArn": machine, "name": f"e{i}"})[
            "executionArn"
        ]
        for i in range(count)
    ]


def test_each_decision_in_a_batch_stands_on_its_own(ctx: ServiceContext) -> None:
    arns = _started(ctx, 4)
    ids = runtime.claim(ctx, "node-a")
    assert len(ids) == 4
    values = {"event_count": 1, "request_seq": 0}
    batch = [
        (ids[0], 1, values, 0),
        (ids[1], 7, values, 0),  # decided at a history length it no longer has: void
        (
            ids[2],
            1,
            {
                **values,
                "status": "SUCCEEDED",
                "stop_date": 1.0,
                "output": "{}",
                "error": None,
                "cause": None,
            },
            0,
        ),
        (ids[3], 1, values, 0),
    ]

    def commit(tx: Any) -> list[bool]:
        return list(tx.runtime.commit_decisions("node-b", batch[3:]))  # not the lease holder

    assert ctx.store.run(commit) == [False]
    recorded = ctx.store.run(lambda tx: tx.runtime.commit_decisions("node-a", batch[:3]))
    assert recorded == [True, False, True]
    described = {
        arn: executions.describe_execution(ctx, {"executionArn": arn})["status"] for arn in arns
    }
    assert list(described.values()) == ["RUNNING", "RUNNING", "SUCCEEDED", "RUNNING"]
    # The void decision left its lease in place; the recorded ones gave theirs back.
    leased = ctx.store.run(lambda tx: [tx.executions.get_by_id(i)["lease_owner"] for i in ids])
    assert leased == [None, "node-a", None, "node-a"]
