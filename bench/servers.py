"""The servers under test, as real processes: a Stepwell node and a moto server.

Both are started on a free loopback port, waited for, reset between workloads and stopped by
their own process id. PostgreSQL databases for Stepwell are created per run and dropped after.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "STEPWELL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class ServerError(RuntimeError):
    """A server did not start, or died."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float | None:
    """Resident set size of a process (``VmRSS`` in /proc), in MiB; None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


class _Process:
    """A child server process whose output goes to a log file (a full pipe would block it)."""

    name = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}-{uuid.uuid4().hex[:6]}.log"

    @property
    def endpoint(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Process id of the running server."""
        if self.proc is None:
            raise ServerError(f"{self.name} is not running")
        return self.proc.pid

    def _command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def _ready_url(self) -> str:
        raise NotImplementedError

    def _after_start(self) -> None:
        """Configuration to apply once the server answers."""

    def start(self, timeout: float = 60.0) -> _Process:
        """Launch the process on a fresh port and wait until it answers."""
        self.port = free_port()
        args, env = self._command()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(self._ready_url(), timeout=1).is_success:
                    self._after_start()
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"{self.name} did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM this process (by its id) and wait; SIGKILL if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        """Stop and start again (drops whatever work the server still had in flight)."""
        self.stop()
        self.start()

    def rss_mib(self) -> float | None:
        """The server's resident memory now, in MiB."""
        return rss_mib(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server wrote."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class StepwellServer(_Process):
    """``python -m api.cli.main server`` on a given database, with the reset endpoint on."""

    name = "stepwell"

    def __init__(self, workdir: Path, database_url: str, engine: bool = True) -> None:
        super().__init__(workdir)
        self.database_url = database_url
        self.engine = engine  # False: ``server --no-engine``, the HTTP API alone

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = dict(
            os.environ,
            STEPWELL_DATABASE_URL=self.database_url,
            STEPWELL_PORT=str(self.port),
            STEPWELL_HOST="127.0.0.1",
            STEPWELL_ALLOW_RESET="1",
        )
        args = [sys.executable, "-m", "api.cli.main", "server"]
        return (args if self.engine else [*args, "--no-engine"]), env

    def _ready_url(self) -> str:
        return f"{self.endpoint}/_stepwell/health"

    def reset(self) -> None:
        """Wipe all state (``POST /_stepwell/reset``)."""
        response = httpx.post(f"{self.endpoint}/_stepwell/reset", timeout=120)
        if response.status_code >= 300:
            raise ServerError(f"reset failed: {response.status_code} {response.text}")


class MotoServer(_Process):
    """``moto.server`` with Step Functions execution switched on."""

    name = "moto"

    def _command(self) -> tuple[list[str], dict[str, str]]:
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        return args, dict(os.environ)

    def _ready_url(self) -> str:
        return f"{self.endpoint}/moto-api/config"

    def _after_start(self) -> None:
        # moto 5: executions only run when this flag is on (moto/core/config.py).
        response = httpx.post(
            f"{self.endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        )
        if response.status_code >= 300:
            raise ServerError(f"moto config failed: {response.status_code} {response.text}")

    def reset(self) -> None:
        """Wipe all backends (``POST /moto-api/reset``) and switch execution on again."""
        response = httpx.post(f"{self.endpoint}/moto-api/reset", timeout=60)
        if response.status_code >= 300:
            raise ServerError(f"moto reset failed: {response.status_code} {response.text}")
        self._after_start()


def new_workdir() -> Path:
    """A fresh temporary directory for SQLite files and server logs."""
    return Path(tempfile.mkdtemp(prefix="stepwell-bench-"))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_postgres_database(admin_url: str = PG_ADMIN_URL) -> tuple[str | None, str]:
    """Create ``stepwell_bench_<pid>``; returns (its SQLAlchemy URL, "") or (None, why not)."""
    try:
        import psycopg
    except ImportError as exc:
        return None, f"psycopg is not installed: {exc}"
    name = f"stepwell_bench_{os.getpid()}"
    try:
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any failure means: no PostgreSQL figures, with the reason
        return None, " ".join(f"PostgreSQL unreachable at {admin_url}: {exc}".split())
    return admin_url.rsplit("/", 1)[0] + f"/{name}", ""


def drop_postgres_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    """Drop a database made by :func:`create_postgres_database`."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(server: Any) -> str:
    """One line naming a server for progress output."""
    return f"{server.name} pid {server.pid} at {server.endpoint}"
