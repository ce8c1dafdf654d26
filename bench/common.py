"""What every workload shares: the target server, the run context, the workload record,
boto3 clients, waiting for executions, and figure arithmetic (rounding, percentiles, ratios).

A workload is a :class:`Workload` value in its own module under ``bench/workloads``; its
``run(target, ctx)`` returns a flat dict of figures for one server. The ``ratio`` of a figure is
Stepwell's advantage over moto: ``stepwell / moto`` for figures where higher is better (rates),
``moto / stepwell`` where lower is better (seconds, latency, memory); above 1 means Stepwell wins.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

HIGHER = "higher"
LOWER = "lower"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class BenchTimeout(Exception):
    """A server did not finish a workload in the time it was given."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(f"no result within {seconds:.0f}s {detail}".strip())
        self.seconds = seconds


@dataclass(frozen=True)
class AtLeast:
    """A lower bound: what a figure is known to be at least (a timeout, or a ratio from one)."""

    value: float

    def __str__(self) -> str:
        return f">= {sig(self.value)}"


Figure = float | int | bool | str | AtLeast | None


@dataclass
class Target:
    """One server under test, as the workloads see it."""

    name: str  # "stepwell" or "moto"
    server: Any  # bench.servers.StepwellServer | MotoServer
    _client: Any = None

    @property
    def endpoint(self) -> str:
        """Base URL of the server."""
        return str(self.server.endpoint)

    @property
    def pid(self) -> int:
        """Process id of the server."""
        return int(self.server.pid)

    def client(self) -> Any:
        """The shared boto3 Step Functions client (boto3 clients are thread-safe)."""
        if self._client is None:
            self._client = sfn_client(self.endpoint)
        return self._client

    def reset(self) -> None:
        """Wipe the server's state before a workload."""
        self.server.reset()

    def restart(self) -> None:
        """Start the server afresh (after a timeout left work running inside it)."""
        self.server.restart()
        self._client = None


@dataclass
class RunContext:
    """Run-wide settings and what earlier workloads left for later ones."""

    quick: bool
    store: str
    # (target name, key) -> value, e.g. ("stepwell", "chain") -> chain figures
    shared: dict[tuple[str, str], Any] = field(default_factory=dict)

    def count(self, full: int, quick: int) -> int:
        """A workload size: ``full`` normally, ``quick`` under --quick."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Workload:
    """A benchmark: runs on each target it names and reports figures."""

    name: str
    description: str
    run: Callable[[Target, RunContext], dict[str, Figure]]
    # figure name -> HIGHER or LOWER; the figures that get a ratio
    compared: dict[str, str] = field(default_factory=dict)
    # the figures the human summary shows, in order
    headline: tuple[str, ...] = ()
    targets: tuple[str, ...] = ("stepwell", "moto")


def aws_client(service: str, endpoint: str, **config: Any) -> Any:
    """A boto3 client of its own session (thread-safe, pooled connections) with the settings
    every workload uses; ``config`` adds to them (timeouts)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(
            inject_host_prefix=False,
            retries={"max_attempts": 1},
            max_pool_connections=16,
            **config,
        ),
    )


def sfn_client(endpoint: str) -> Any:
    """A boto3 Step Functions client with the settings every workload uses."""
    return aws_client("stepfunctions", endpoint)


def create_state_machine(client: Any, prefix: str, definition: dict[str, Any]) -> str:
    """Create a STANDARD state machine with a unique name; returns its ARN."""
    response = client.create_state_machine(
        name=f"bench-{prefix}-{uuid.uuid4().hex[:8]}",
        definition=orjson.dumps(definition).decode(),
        roleArn="arn:aws:iam::123456789012:role/bench",
        type="STANDARD",
    )
    return str(response["stateMachineArn"])


def epoch(value: Any) -> float | None:
    """A boto3 timestamp (datetime) as epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def wait_for_execution(
    client: Any, arn: str, timeout: float, started: float | None = None
) -> tuple[dict[str, Any], float]:
    """Poll DescribeExecution until ``arn`` ends; returns (the description, when it was seen).

    The poll interval grows with the time waited (about 1 % of it, 5-50 ms), so a long run is
    not slowed by its own observer and a short one is still timed closely.
    """
    started = time.time() if started is None else started
    deadline = started + timeout
    while True:
        description = client.describe_execution(executionArn=arn)
        seen = time.time()
        if description["status"] in TERMINAL:
            return description, seen
        if seen > deadline:
            raise BenchTimeout(timeout, f"for {arn}")
        time.sleep(min(0.05, max(0.005, (seen - started) / 100)))


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Run ``target(i)`` for i in range(count) on threads; re-raise the first error."""
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def sig(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits (figures, not false precision)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


def ratio(stepwell: Figure, moto: Figure, better: str) -> Figure:
    """Stepwell's advantage for one figure (see the module docstring); None if not comparable."""
    sw_bound = isinstance(stepwell, AtLeast)
    moto_bound = isinstance(moto, AtLeast)
    sw = stepwell.value if isinstance(stepwell, AtLeast) else stepwell
    mo = moto.value if isinstance(moto, AtLeast) else moto
    if isinstance(sw, bool) or isinstance(mo, bool):
        return None
    if not isinstance(sw, int | float) or not isinstance(mo, int | float) or sw <= 0 or mo <= 0:
        return None
    value = sig(sw / mo if better == HIGHER else mo / sw, 3)
    if not sw_bound and not moto_bound:
        return value
    if better == LOWER and moto_bound and not sw_bound:  # moto took at least this long
        return AtLeast(value)
    return None


def jsonable(value: Any) -> Any:
    """Figures as JSON values: an AtLeast becomes the string ``">= x"``."""
    if isinstance(value, AtLeast):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return sig(value)
    return value
