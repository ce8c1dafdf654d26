"""Read-only work (``Store.read``) runs beside an open write transaction: it is not blocked
by the writer and sees only what was committed. SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from engine.services.context import ServiceContext


def test_reads_run_beside_an_open_writer(ctx: ServiceContext) -> None:
    ctx.store.run(lambda tx: tx.tags.put("arn:read:test", {"committed": "yes"}))
    writing, release = threading.Event(), threading.Event()

    def writer() -> None:
        with ctx.store.transaction() as tx:
            tx.tags.put("arn:read:test", {"uncommitted": "yes"})
            writing.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        seen: list[dict[str, str]] = []
        reader = threading.Thread(
            target=lambda: seen.append(ctx.store.read(lambda tx: tx.tags.list("arn:read:test")))
        )
        reader.start()
        reader.join(10)
        # Still writing: a read that waited for the writer would not have returned.
        assert not reader.is_alive() and seen == [{"committed": "yes"}]
    finally:
        release.set()
        thread.join(10)
    after = ctx.store.read(lambda tx: tx.tags.list("arn:read:test"))
    assert after == {"committed": "yes", "uncommitted": "yes"}
