"""Group commit when things go wrong: a database that stays locked past the retries, a unit
failing with an exception a future cannot carry, and driver errors of the bulk event insert.
Every caller is still answered, promptly and with the right error."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from engine.store.group_commit import GroupCommit


def test_a_unit_raising_stop_iteration_does_not_leave_its_group_unanswered() -> None:
    """``StopIteration`` cannot be set on an asyncio future; the other units of its group
    must still get their answers (before, the settling callback stopped at it)."""
    group = GroupCommit(lambda work: work(None), threading.Lock(), writers=1)
    started, release = threading.Event(), threading.Event()

    def gate(_tx: Any) -> str:
        started.set()
        release.wait()
        return "gate"

    def stops(_tx: Any) -> Any:
        return next(iter(()))

    async def run() -> list[Any]:
        broken: list[dict[str, Any]] = []
        failed = asyncio.Event()

        def handler(_loop: Any, context: dict[str, Any]) -> None:
            broken.append(context)
            failed.set()

        asyncio.get_running_loop().set_exception_handler(handler)
        first = asyncio.ensure_future(group.submit(gate))
        await asyncio.to_thread(started.wait)
        # Queued behind the gate: these three form one group.
        units = [
            asyncio.ensure_future(group.submit(w)) for w in (lambda _tx: 1, stops, lambda _tx: 3)
        ]
        await asyncio.sleep(0)
        release.set()
        everyone = asyncio.ensure_future(asyncio.gather(first, *units, return_exceptions=True))
        alarm = asyncio.ensure_future(failed.wait())
        await asyncio.wait([everyone, alarm], return_when=asyncio.FIRST_COMPLETED)
        alarm.cancel()
        assert not broken, broken[0].get("exception")
        return list(await everyone)

    results = asyncio.run(asyncio.wait_for(run(), 30))
    assert results[0] == "gate" and results[1] == 1 and results[3] == 3
    assert isinstance(results[2], RuntimeError) and "StopIteration" in str(results[2])
