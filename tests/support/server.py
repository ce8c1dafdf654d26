"""Servers for tests: in a background thread (fast), or as a real process (crash tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(endpoint: str, timeout: float = 30.0) -> None:
    """Block until the server answers its health check."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"{endpoint}/_stepwell/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server at {endpoint} did not become healthy")


@contextmanager
def thread_server(ctx: Any) -> Iterator[str]:
    """Serve create_app(ctx) with its engine loops from a thread; yields the endpoint URL."""
    import uvicorn

    from api.http.app import create_app
    from workers.engine import EngineLoops

    loops = EngineLoops(ctx)
    app = create_app(ctx, loops)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    loops.start()
    thread.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(endpoint)
        yield endpoint
    finally:
        server.should_exit = True
        thread.join(10)
        loops.stop()


def _log_file() -> Any:
    """Where a child process's log goes: a file, never a pipe nobody reads (a full pipe
    would block the process in the middle of a test)."""
    return tempfile.TemporaryFile()


class ServerProcess:
    """A real ``stepwell server`` process that tests can SIGKILL and restart."""

    def __init__(self, database_url: str, port: int | None = None, engine: bool = True) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.engine = engine
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Launch the process and wait until it serves."""
        env = dict(
            os.environ,
            STEPWELL_DATABASE_URL=self.database_url,
            STEPWELL_PORT=str(self.port),
            STEPWELL_HOST="127.0.0.1",
            STEPWELL_ALLOW_RESET="1",
        )
        args = [sys.executable, "-m", "api.cli.main", "server"]
        if not self.engine:
            args.append("--no-engine")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=_log_file()
        )
        wait_healthy(self.endpoint)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        """Graceful stop."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


class EngineProcess:
    """A ``stepwell engine`` process (decider and timers only)."""

    def __init__(self, database_url: str, node_id: str) -> None:
        env = dict(os.environ, STEPWELL_DATABASE_URL=database_url)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", "engine", "--node-id", node_id],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=_log_file(),
        )

    def stop(self) -> None:
        """SIGTERM and wait."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def aws_client(service: str, endpoint: str, **config: Any) -> Any:
    """A boto3 client of ``service`` for ``endpoint``: test credentials, one attempt (a
    refusal reaches the test at once, not after the SDK's retries)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, **config),
    )


def sfn_client(endpoint: str) -> Any:
    """A boto3 Step Functions client for ``endpoint`` (StartSyncExecution's ``sync-`` host
    prefix off: the endpoint is an address, not a name under which ``sync-`` resolves)."""
    return aws_client("stepfunctions", endpoint, inject_host_prefix=False)


def sqs_client(endpoint: str) -> Any:
    """A boto3 SQS client (JSON protocol) for ``endpoint``."""
    return aws_client("sqs", endpoint)


def kinesis_client(endpoint: str) -> Any:
    """A boto3 Kinesis client (AWS JSON 1.1) for ``endpoint``."""
    return aws_client("kinesis", endpoint)


def sns_client(endpoint: str) -> Any:
    """A boto3 SNS client (query protocol) for ``endpoint``."""
    return aws_client("sns", endpoint)
