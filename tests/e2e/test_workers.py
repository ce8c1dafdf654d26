"""Task workers as real processes (``stepwell worker``): SIGKILL mid-task, many workers at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import ROOT, ServerProcess, sfn_client

ROLE = "arn:aws:iam::123456789012:role/test"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:"


class WorkerProcess:
    """``stepwell worker examples.batch_worker:worker`` in a process of its own."""

    def __init__(self, endpoint: str, log_dir: Path, activity: str, **env: str) -> None:
        environment = dict(
            os.environ,
            STEPWELL_ENDPOINT=endpoint,
            STEPWELL_EXAMPLE_LOG_DIR=str(log_dir),
            STEPWELL_EXAMPLE_ACTIVITY=activity,
            STEPWELL_EXAMPLE_POLL_SECONDS="2",
            **env,
        )
        # stderr goes to a file: an unread pipe fills up and blocks the worker's logging.
        self.stderr_path = log_dir / f"worker-{len(list(log_dir.glob('worker-*.err')))}.err"
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli.main", "worker", "examples.batch_worker:worker"],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.log = log_dir / f"batch-{self.proc.pid}.log"
        self.name = f"batch-{self.proc.pid}"

    def indexes(self) -> list[int]:
        """The task indexes this process started, in order."""
        if not self.log.exists():
            return []
        return [int(line) for line in self.log.read_text().split()]

    def kill(self) -> None:
        """SIGKILL: the task in hand is simply lost with the process."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 15) -> int:
        """SIGTERM (graceful shutdown); the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise

    def stderr(self) -> str:
        """What the process logged (after it ended)."""
        return self.stderr_path.read_text(errors="replace")


def _wait(condition: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def test_killed_worker_task_is_retried_on_another_worker(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url).start()
    workers: list[WorkerProcess] = []
    try:
        sfn = sfn_client(server.endpoint)
        activity = sfn.create_activity(name="crashy")["activityArn"]
        definition = {
            "StartAt": "Work",
            "States": {
                "Work": {
                    "Type": "Task",
                    "Resource": activity,
                    "HeartbeatSeconds": 30,
                    "Retry": [
                        {
                            "ErrorEquals": ["States.HeartbeatTimeout"],
                            "IntervalSeconds": 1,
                            "MaxAttempts": 2,
                        }
                    ],
                    "End": True,
                }
            },
        }
        sm = sfn.create_state_machine(
            name="crashy", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        first = WorkerProcess(server.endpoint, tmp_path, "crashy", STEPWELL_EXAMPLE_CONCURRENCY="1")
        workers.append(first)
        arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"index": 7, "hold": True}))[
            "executionArn"
        ]
        assert _wait(lambda: first.indexes() == [7], 20), first.stderr()
        second = WorkerProcess(
            server.endpoint,
            tmp_path,
            "crashy",
            STEPWELL_EXAMPLE_CONCURRENCY="1",
            STEPWELL_EXAMPLE_NO_HOLD="1",
        )
        workers.append(second)
        first.kill()  # mid-task: no answer, no more heartbeats
        time.sleep(1)  # the second worker is up and polling
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        # HeartbeatSeconds passes on the server's clock, then the Retry's interval.
        httpx.post(f"{server.endpoint}/_stepwell/clock", json={"advance": 31}).raise_for_status()
        assert _wait(lambda: any(e["type"] == "ActivityTimedOut" for e in _history(sfn, arn)), 10)
        httpx.post(f"{server.endpoint}/_stepwell/clock", json={"advance": 2}).raise_for_status()
        assert _wait(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 20), (
            second.stderr()
        )
        described = sfn.describe_execution(executionArn=arn)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"]) == {"index": 7, "worker": second.name}
        events = _history(sfn, arn)
        kinds = Counter(e["type"] for e in events)
        assert kinds["ActivityTimedOut"] == 1
        assert kinds["ActivitySucceeded"] == 1
        assert kinds["ExecutionSucceeded"] == 1
        started = [
            e["activityStartedEventDetails"]["workerName"]
            for e in events
            if e["type"] == "ActivityStarted"
        ]
        assert started == [first.name, second.name]
        assert first.indexes() == [7] and second.indexes() == [7]
        assert second.terminate() == 0
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait(5)
        server.kill()


TASKS = 1000
WORKERS = 4


def test_a_thousand_tasks_across_four_workers(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url).start()
    workers: list[WorkerProcess] = []
    try:
        sfn = sfn_client(server.endpoint)
        activity = sfn.create_activity(name="many")["activityArn"]
        definition = {
            "StartAt": "Fan",
            "States": {
                "Fan": {
                    "Type": "Map",
                    "MaxConcurrency": 0,
                    "ItemProcessor": {
                        "StartAt": "Work",
                        "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}},
                    },
                    "End": True,
                }
            },
        }
        sm = sfn.create_state_machine(name="many", definition=json.dumps(definition), roleArn=ROLE)[
            "stateMachineArn"
        ]
        workers = [WorkerProcess(server.endpoint, tmp_path, "many") for _ in range(WORKERS)]
        began = time.monotonic()
        items = [{"index": i} for i in range(TASKS)]
        arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps(items))["executionArn"]
        # A bound on waiting, not a speed target: alone this takes ~25 s on PostgreSQL here,
        # and twice that beside another test process on a slow day.
        finished = _wait(
            lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 180, 0.2
        )
        elapsed = time.monotonic() - began
        if not finished:
            for worker in workers:
                worker.terminate()
            kinds = Counter(e["type"] for e in _history(sfn, arn))
            handled = {w.name: len(w.indexes()) for w in workers}
            logs = "\n".join(w.stderr()[-3000:] for w in workers)
            pytest.fail(f"not done after {elapsed:.1f} s: {kinds}, handled {handled}\n{logs}")
        described = sfn.describe_execution(executionArn=arn)
        assert described["status"] == "SUCCEEDED", described
        print(f"\n{TASKS} activity tasks on {WORKERS} worker processes: {elapsed:.1f} s")

        # The handlers' side: every index ran exactly once, on one worker only.
        runs = {w.name: w.indexes() for w in workers}
        counted = Counter(i for indexes in runs.values() for i in indexes)
        assert sorted(counted) == list(range(TASKS))
        assert set(counted.values()) == {1}
        assert all(runs.values()), {name: len(indexes) for name, indexes in runs.items()}

        # The history's side: one start and one success per task, by the worker that ran it.
        output = json.loads(described["output"])
        assert [o["index"] for o in output] == list(range(TASKS))
        assert all(o["index"] in runs[o["worker"]] for o in output)
        events = _history(sfn, arn)
        kinds = Counter(e["type"] for e in events)
        assert kinds["ActivityScheduled"] == TASKS
        assert kinds["ActivityStarted"] == TASKS
        assert kinds["ActivitySucceeded"] == TASKS
        assert kinds["ActivityFailed"] == kinds["ActivityTimedOut"] == 0
        started_by = Counter(
            e["activityStartedEventDetails"]["workerName"]
            for e in events
            if e["type"] == "ActivityStarted"
        )
        assert started_by == {name: len(indexes) for name, indexes in runs.items()}

        for worker in workers:
            assert worker.terminate() == 0, worker.stderr()
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait(5)
        server.kill()
