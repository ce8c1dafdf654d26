"""Group commit (``Store.run_grouped``): concurrent units of work share a commit, yet
each caller sees only its own outcome and a failing unit leaves nothing behind. On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

from engine.errors import ServiceError
from engine.services import executions, state_machines
from engine.services.context import ServiceContext

ROLE = "arn:aws:iam::123456789012:role/stepwell"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _in_threads(count: int, body: Any) -> list[Any]:
    """Run ``body(i)`` on ``count`` threads at once; each slot holds a result or an exception."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = body(i)
        except Exception as exc:  # noqa: BLE001 - compared by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_a_failing_unit_undoes_only_its_own_writes(ctx: ServiceContext) -> None:
    def body(i: int) -> str:
        def work(tx: Any) -> str:
            tx.tags.put(f"arn:unit:{i}", {"written": "yes"})
            if i % 4 == 0:
                raise ServiceError(f"unit {i} refuses", "ValidationException")
            return f"unit {i}"

        return str(ctx.store.run_grouped(work))

    # Hold the writer for a moment on SQLite so the units queue up and share one commit.
    holder = threading.Thread(target=_hold_writer, args=(ctx, 0.2))
    holder.start()
    results = _in_threads(12, body)
    holder.join()
    for i, result in enumerate(results):
        if i % 4 == 0:
            assert isinstance(result, ServiceError) and "refuses" in result.message
        else:
            assert result == f"unit {i}"
    stored = ctx.store.run(lambda tx: {i: tx.tags.list(f"arn:unit:{i}") for i in range(12)})
    assert {i for i, tags in stored.items() if tags} == {i for i in range(12) if i % 4}


def _hold_writer(ctx: ServiceContext, seconds: float) -> None:
    with ctx.store.transaction() as tx:
        tx.tags.put("arn:holder", {"k": "v"})
        time.sleep(seconds)


def test_concurrent_starts_answer_each_caller(ctx: ServiceContext) -> None:
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "grouped", "definition": json.dumps(PASS), "roleArn": ROLE}
    )["stateMachineArn"]
    first = executions.start_execution(
        ctx, {"stateMachineArn": machine, "name": "taken", "input": '{"a": 1}'}
    )

    def start(i: int) -> dict[str, Any]:
        if i % 5 == 0:  # same name, other input: ExecutionAlreadyExists
            request = {"name": "taken", "input": '{"a": 2}'}
        elif i % 5 == 1:  # same name and input while it runs: the same execution again
            request = {"name": "taken", "input": '{"a": 1}'}
        else:
            request = {"name": f"run-{i}", "input": json.dumps({"i": i})}
        return executions.start_execution(ctx, {"stateMachineArn": machine, **request})

    holder = threading.Thread(target=_hold_writer, args=(ctx, 0.2))
    holder.start()
    results = _in_threads(20, start)
    holder.join()
    for i, result in enumerate(results):
        if i % 5 == 0:
            assert isinstance(result, executions.ExecutionAlreadyExists), result
        elif i % 5 == 1:
            assert result["executionArn"] == first["executionArn"]
        else:
            assert result["executionArn"].endswith(f":run-{i}")
            history = executions.get_execution_history(
                ctx, {"executionArn": result["executionArn"]}
            )
            assert [e["type"] for e in history["events"]][:1] == ["ExecutionStarted"]
            assert json.loads(history["events"][0]["executionStartedEventDetails"]["input"]) == {
                "i": i
            }
    listed = executions.list_executions(ctx, {"stateMachineArn": machine})["executions"]
    assert sorted(e["name"] for e in listed) == sorted(
        ["taken"] + [f"run-{i}" for i in range(20) if i % 5 > 1]
    )


@pytest.mark.parametrize("size", [1, 3])
def test_an_unexpected_error_reaches_its_caller(ctx: ServiceContext, size: int) -> None:
    def body(i: int) -> Any:
        def work(tx: Any) -> Any:
            if i == 0:
                raise KeyError("boom")
            tx.tags.put(f"arn:other:{i}", {"k": "v"})
            return i

        return ctx.store.run_grouped(work)

    results = _in_threads(size, body)
    assert isinstance(results[0], KeyError)
    assert results[1:] == list(range(1, size))


def test_coroutines_share_commits_and_each_gets_its_own_outcome(ctx: ServiceContext) -> None:
    """StartExecution from the event loop (``start_execution_async``): a unit that fails is
    reported to its own caller alone; the others are stored and answered."""
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "awaited", "definition": json.dumps(PASS), "roleArn": ROLE}
    )["stateMachineArn"]

    async def starts() -> list[Any]:
        requests = [
            {"stateMachineArn": machine, "name": f"a-{i}", "input": json.dumps({"i": i})}
            for i in range(12)
        ]
        requests[5]["name"] = "a-4"  # a-4 again with other input: ExecutionAlreadyExists
        return await asyncio.gather(
            *(executions.start_execution_async(ctx, r) for r in requests),
            return_exceptions=True,
        )

    holder = threading.Thread(target=_hold_writer, args=(ctx, 0.2))
    holder.start()
    results = asyncio.run(starts())
    holder.join()
    assert isinstance(results[5], executions.ExecutionAlreadyExists), results[5]
    arns = [r["executionArn"] for i, r in enumerate(results) if i != 5]
    assert [a.rsplit(":", 1)[1] for a in arns] == [f"a-{i}" for i in range(12) if i != 5]
    for arn in arns:
        started = executions.get_execution_history(ctx, {"executionArn": arn})["events"][0]
        assert started["type"] == "ExecutionStarted"
    listed = executions.list_executions(ctx, {"stateMachineArn": machine})["executions"]
    assert len(listed) == 11


def test_a_refused_start_from_the_event_loop_writes_nothing(ctx: ServiceContext) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:missing"

    async def start() -> Any:
        return await executions.start_execution_async(
            ctx, {"stateMachineArn": missing, "name": "x"}
        )

    with pytest.raises(state_machines.StateMachineDoesNotExist):
        asyncio.run(start())
    # A second event loop (a server restarted in-process, a test client) is answered too.
    with pytest.raises(state_machines.StateMachineDoesNotExist):
        asyncio.run(start())
    assert (
        ctx.store.read(
            lambda tx: tx.executions.get(missing.replace("stateMachine", "execution") + ":x")
        )
        is None
    )


def test_the_writer_thread_survives_an_interrupted_group(ctx: ServiceContext) -> None:
    """A unit that raises past ``Exception`` (an interrupt) fails its own caller; the writer
    thread lives on and answers the next coroutine."""

    def interrupted(tx: Any) -> Any:
        raise KeyboardInterrupt

    async def both() -> tuple[Any, Any]:
        first = await asyncio.gather(ctx.store.submit_grouped(interrupted), return_exceptions=True)
        second = await ctx.store.submit_grouped(lambda tx: tx.tags.put("arn:after", {"k": "v"}))
        return first[0], second

    failed, _ = asyncio.run(asyncio.wait_for(both(), 30))
    assert isinstance(failed, RuntimeError)
    assert ctx.store.read(lambda tx: tx.tags.list("arn:after")) == {"k": "v"}


def test_a_refused_start_does_not_undo_its_group(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start refused before writing (its name taken with other input) is answered with its
    error while the rest of its group commits once: before, it rolled the group back and each
    start was run again alone (a transaction each)."""
    machine = state_machines.create_state_machine(
        ctx, "us-east-1", {"name": "refusing", "definition": json.dumps(PASS), "roleArn": ROLE}
    )["stateMachineArn"]
    executions.start_execution(ctx, {"stateMachineArn": machine, "name": "taken"})
    attempts: list[int] = []
    once = ctx.store._once

    def counted(work: Any) -> Any:
        attempts.append(1)
        return once(work)

    monkeypatch.setattr(ctx.store, "_once", counted)

    async def starts() -> list[Any]:
        requests = [{"stateMachineArn": machine, "name": f"r-{i}"} for i in range(10)]
        requests[3] = {"stateMachineArn": machine, "name": "taken", "input": '{"other": 1}'}
        return await asyncio.gather(
            *(executions.start_execution_async(ctx, r) for r in requests),
            return_exceptions=True,
        )

    holder = threading.Thread(target=_hold_writer, args=(ctx, 0.2))
    holder.start()
    results = asyncio.run(starts())
    holder.join()
    assert isinstance(results[3], executions.ExecutionAlreadyExists), results[3]
    assert all(isinstance(r, dict) for i, r in enumerate(results) if i != 3), results
    listed = executions.list_executions(ctx, {"stateMachineArn": machine})["executions"]
    assert sorted(e["name"] for e in listed) == sorted(
        ["taken", *(f"r-{i}" for i in range(10) if i != 3)]
    )
    assert len(attempts) <= 3, f"{len(attempts)} transactions for 10 starts"
