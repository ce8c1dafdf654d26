"""The issue's no-loss soak test: 16 consumers in 4 processes drain 20,000 messages while
visibility timeouts expire (the server clock is moved past them every two seconds) and one
consumer process is SIGKILLed every second. Every message is deleted at least once, and a
message is delivered again only where its visibility expired or its holder died. SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ROOT, ServerProcess, sqs_client

TOTAL = 20_000
PROCESSES = 4
THREADS = 4
VISIBILITY = 30
# A receive is logged when its answer arrives, a kill or a clock move when it is done: events
# this close together may have happened in either order.
SLACK = 0.5


def _send_all(endpoint: str, url: str) -> None:
    def send(part: int) -> None:
        client = sqs_client(endpoint)
        for start in range(part * 10, TOTAL, 40):
            entries = [{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
            result = client.send_message_batch(QueueUrl=url, Entries=entries)
            assert len(result.get("Successful", [])) == 10, result

    threads = [threading.Thread(target=send, args=(p,)) for p in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


class Consumers:
    """Consumer processes forked by one spawner (tests/support/sqs_consumer.py)."""

    def __init__(self, endpoint: str, url: str, log: Path) -> None:
        self.spawner = subprocess.Popen(
            [sys.executable, "-m", "tests.support.sqs_consumer", endpoint, url, str(THREADS)]
            + [str(log)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def spawn(self) -> int:
        """A new consumer process; its pid."""
        assert self.spawner.stdin is not None and self.spawner.stdout is not None
        self.spawner.stdin.write("spawn\n")
        self.spawner.stdin.flush()
        return int(self.spawner.stdout.readline())

    def close(self) -> None:
        """Stop the spawner (its consumers are killed by the caller)."""
        self.spawner.kill()
        self.spawner.wait(10)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _empty(sqs: Any, url: str) -> bool:
    """No message is left, visible or in flight."""
    counts = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(v) == 0 for v in counts.values())


def _read(log: Path) -> tuple[list[tuple[float, int, str, str, float]], set[str]]:
    """(receives as (time, pid, message id, body, time asked), bodies whose delete was
    acknowledged)."""
    receives, deleted = [], set()
    for line in log.read_text().splitlines():
        kind, pid, at, message_id, body, *asked = line.split(" ")
        if kind == "R":
            receives.append((float(at), int(pid), message_id, body, float(asked[0])))
        else:
            deleted.add(body)
    return receives, deleted


def test_consumer_processes_sigkilled_every_second_lose_nothing(
    database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(database_url).start()
    consumers: list[int] = []
    spawner: Consumers | None = None
    try:
        sqs = sqs_client(server.endpoint)
        url = sqs.create_queue(
            QueueName="soak-consumers", Attributes={"VisibilityTimeout": str(VISIBILITY)}
        )["QueueUrl"]
        _send_all(server.endpoint, url)
        log = tmp_path / "consumers.log"
        spawner = Consumers(server.endpoint, url, log)
        consumers = [spawner.spawn() for _ in range(PROCESSES)]
        kills: list[tuple[float, int]] = []
        clock_moves: list[float] = []
        deadline = time.time() + 240
        second = 0
        while time.time() < deadline:
            time.sleep(1)
            second += 1
            if _empty(sqs, url):
                break
            victim = consumers[second % PROCESSES]
            _kill(victim)
            kills.append((time.time(), victim))
            consumers[second % PROCESSES] = spawner.spawn()
            if second % 2 == 0:
                httpx.post(
                    f"{server.endpoint}/_stepwell/clock", json={"advance": VISIBILITY + 1}
                ).raise_for_status()
                clock_moves.append(time.time())
        for pid in consumers:
            _kill(pid)
        ended = time.time()
        kills.extend((ended, pid) for pid in consumers)
        # What dead consumers held comes back once its visibility timeout has passed.
        httpx.post(f"{server.endpoint}/_stepwell/clock", json={"advance": VISIBILITY + 1})
        drained = set()
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            drained.update(m["Body"] for m in messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
    finally:
        for pid in consumers:
            _kill(pid)
        if spawner is not None:
            spawner.close()
        server.stop()

    receives, deleted = _read(log)
    assert len(deleted) > TOTAL * 0.9, f"only {len(deleted)} deletes acknowledged"
    killed_at: dict[int, float] = dict((pid, at) for at, pid in kills)
    received_by: dict[str, list[tuple[float, int, float]]] = defaultdict(list)
    for at, pid, _message_id, body, asked in receives:
        received_by[body].append((at, pid, asked))

    # Deleted at least once: acknowledged, drained at the end, or deleted by a consumer that
    # died before its acknowledgement arrived (the message is gone, and only a delete removes
    # a message from this queue).
    for body in (str(i) for i in range(TOTAL)):
        if body in deleted or body in drained:
            continue
        holders = received_by.get(body, [])
        assert any(pid in killed_at and killed_at[pid] >= at for at, pid, _ in holders), (
            f"message {body} is gone but nobody deleted it: {holders}"
        )

    # Delivered again only where its visibility expired (the clock moved past it) or its
    # holder died in between. The server stamps a receive's visibility at some moment between
    # the request and its answer (a long poll, slow when the machine is loaded): a clock move
    # from the first request on counts.
    unexplained = []
    for body, seen in received_by.items():
        seen.sort()
        for (first, holder, asked), (again, _, _) in zip(seen, seen[1:], strict=False):
            expired = any(asked - SLACK <= moved <= again + SLACK for moved in clock_moves)
            died = holder in killed_at and first - SLACK <= killed_at[holder] <= again + SLACK
            if not (expired or died):
                unexplained.append((body, first, again, holder))
    assert not unexplained, unexplained[:10]
