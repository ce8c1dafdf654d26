"""Queue consumer processes for the SQS soak test: ``python -m tests.support.sqs_consumer
ENDPOINT QUEUE_URL THREADS LOG`` starts a spawner that has imported boto3 once; each line
``spawn`` on its stdin forks a consumer process (its pid is written back on stdout), so that
replacing a consumer killed every second costs a fork, not a new interpreter.

Each consumer runs THREADS threads that receive up to 10 messages, then delete them in one
batch. Every receive and every acknowledged delete is appended to LOG as one line
(``R|D pid time message-id body``; a receive adds when it was asked for) with a single ``write`` on an O_APPEND descriptor, so lines
of concurrent threads and processes never interleave and a SIGKILL loses at most what was not
yet written.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from tests.support.server import sqs_client


def consume(endpoint: str, url: str, log_fd: int) -> None:
    """Receive and delete until the process is killed."""
    client = sqs_client(endpoint)
    pid = os.getpid()
    while True:
        try:
            asked = time.time()
            messages = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            if not messages:
                continue
            now = time.time()
            os.write(
                log_fd,
                "".join(
                    f"R {pid} {now:.6f} {m['MessageId']} {m['Body']} {asked:.6f}\n"
                    for m in messages
                ).encode(),
            )
            result = client.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            deleted = {int(e["Id"]) for e in result.get("Successful", [])}
            now = time.time()
            os.write(
                log_fd,
                "".join(
                    f"D {pid} {now:.6f} {m['MessageId']} {m['Body']}\n"
                    for i, m in enumerate(messages)
                    if i in deleted
                ).encode(),
            )
        except (BotoCoreError, ClientError):
            time.sleep(0.1)


def serve(endpoint: str, url: str, threads: int, log: str) -> None:
    """A consumer: THREADS threads until the process is killed."""
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    workers = [
        threading.Thread(target=consume, args=(endpoint, url, log_fd), daemon=True)
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def main() -> None:
    """Fork a consumer for every ``spawn`` line on stdin; exit when stdin closes."""
    endpoint, url, threads, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sqs_client(endpoint)  # import and load botocore's models once, before any fork
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed consumers are reaped at once
    for line in sys.stdin:
        if line.strip() != "spawn":
            continue
        pid = os.fork()
        if pid == 0:
            sys.stdin.close()
            serve(endpoint, url, threads, log)
            os._exit(0)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
