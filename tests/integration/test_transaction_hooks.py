"""What a transaction promises to do after it ends: ``on_commit`` hooks run only once it has
committed, ``on_rollback`` hooks only when it rolled back (a task handed to a waiting poller
is only real after the commit). SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services.context import ServiceContext


def test_commit_hooks_run_after_the_commit(ctx: ServiceContext) -> None:
    seen: list[str] = []

    def work(tx: Any) -> None:
        tx.tags.put("arn:aws:states:us-east-1:123456789012:activity:a", {"k": "v"})
        tx.on_commit.append(lambda: seen.append("committed"))
        tx.on_rollback.append(lambda: seen.append("rolled back"))

    ctx.store.run(work)
    assert seen == ["committed"]


def test_rollback_hooks_run_when_the_work_fails(ctx: ServiceContext) -> None:
    seen: list[str] = []
    arn = "arn:aws:states:us-east-1:123456789012:activity:b"

    def work(tx: Any) -> None:
        tx.tags.put(arn, {"k": "v"})
        tx.on_commit.append(lambda: seen.append("committed"))
        tx.on_rollback.append(lambda: seen.append("rolled back"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ctx.store.run(work)
    assert seen == ["rolled back"]
    assert ctx.store.run(lambda tx: tx.tags.list(arn)) == {}
