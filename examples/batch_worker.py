"""An activity worker that records what it did: the e2e tests run several of these at once.

    STEPWELL_EXAMPLE_LOG_DIR=/tmp/runs stepwell worker examples.batch_worker:worker

Each task's ``index`` is appended to ``$STEPWELL_EXAMPLE_LOG_DIR/<worker name>.log`` when the
handler starts, so a test can tell which process ran which task and how many times. An event
with ``"hold": true`` blocks the handler (a task "in progress" for a crash test) unless
``STEPWELL_EXAMPLE_NO_HOLD=1``.

Environment: ``STEPWELL_EXAMPLE_ACTIVITY`` (activity name, default ``batch``),
``STEPWELL_EXAMPLE_CONCURRENCY`` (default 8), ``STEPWELL_EXAMPLE_HEARTBEAT`` (seconds, default
10), ``STEPWELL_EXAMPLE_POLL_SECONDS`` (default 20).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from workers.sdk import Worker

ACTIVITY = os.environ.get("STEPWELL_EXAMPLE_ACTIVITY", "batch")
NAME = f"batch-{os.getpid()}"

worker = Worker(
    name=NAME,
    concurrency=int(os.environ.get("STEPWELL_EXAMPLE_CONCURRENCY", "8")),
    heartbeat_interval=float(os.environ.get("STEPWELL_EXAMPLE_HEARTBEAT", "10")),
    poll_seconds=float(os.environ.get("STEPWELL_EXAMPLE_POLL_SECONDS", "20")),
    create_activities=True,
)
_lock = threading.Lock()


def _record(index: Any) -> None:
    directory = os.environ.get("STEPWELL_EXAMPLE_LOG_DIR")
    if not directory:
        return
    with _lock, open(Path(directory) / f"{NAME}.log", "a", encoding="utf-8") as log:
        log.write(f"{index}\n")


@worker.activity(ACTIVITY)
def process(event: dict[str, Any]) -> dict[str, Any]:
    """Record the task, optionally hold it, and answer with who did it."""
    _record(event.get("index"))
    if event.get("hold") and os.environ.get("STEPWELL_EXAMPLE_NO_HOLD") != "1":
        time.sleep(3600)
    return {"index": event.get("index"), "worker": NAME}
