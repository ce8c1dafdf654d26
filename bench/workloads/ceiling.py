"""ceiling: what the HTTP stack alone allows. ``GET /_stepwell/ping`` is an empty handler on
the same server stack (uvicorn + FastAPI) as the AWS wire protocol; 8 client threads, each
with one keep-alive connection (http.client), call it for a fixed time.

Figures: ``requests_per_s``; ``start_requests_per_s``: StartExecution (AWS JSON 1.0, the
chain workload's state machine and input, each execution then running to its end on the
server) sent by the same light client for the same time, and ``start_fraction``, its share of
the ceiling; ``chain_start_fraction``: chain's StartExecution requests/s through boto3 as a
fraction of the ceiling (null when chain did not run first; boto3's own cost per call bounds
it). Stepwell only: moto has no empty handler to compare with. Client and server share the
same cores, so every figure includes the cost of the Python client.

With the engine on, the server also runs every execution those starts make (about twice a
start's own CPU for chain's ten states, in the same process), so starts/s is bounded by
executions/s. ``engine_off_*``: the same two measurements on a server of the same database
started with ``--no-engine`` (the HTTP API alone: starts are written, nothing runs them), i.e.
what StartExecution itself costs beside the empty handler. The measured server is stopped for
it and started again afterwards (on a new port).
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.common import RunContext, Target, Workload, create_state_machine, run_threads
from bench.servers import StepwellServer
from bench.workloads import chain

THREADS = 8
PATH = "/_stepwell/ping"
Request = tuple[str, str, bytes | None, dict[str, str]]


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """The empty handler's requests/s, then StartExecution's with the same client."""
    duration = 2.0 if ctx.quick else 5.0
    rate = _hammer(target, duration, lambda: ("GET", PATH, None, {}))
    arn = create_state_machine(target.client(), "ceiling", chain.definition())
    text = orjson.dumps(chain.INPUT).decode()
    names = itertools.count()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AWSStepFunctions.StartExecution",
    }

    def start() -> Request:
        body = {"stateMachineArn": arn, "name": f"c{next(names)}", "input": text}
        return "POST", "/", orjson.dumps(body), headers

    start_rate = _hammer(target, duration, start)
    off_rate, off_start_rate = _engine_off(target, duration, start)
    chain_figures = ctx.shared.get((target.name, "chain"))
    chain_rate = chain_figures.get("start_requests_per_s") if chain_figures else None
    return {
        "threads": THREADS,
        "seconds": duration,
        "requests_per_s": rate,
        "start_requests_per_s": start_rate,
        "start_fraction": start_rate / rate if rate else None,
        "chain_start_requests_per_s": chain_rate,
        "chain_start_fraction": chain_rate / rate if chain_rate and rate else None,
        "engine_off_requests_per_s": off_rate,
        "engine_off_start_requests_per_s": off_start_rate,
        "engine_off_start_fraction": off_start_rate / off_rate if off_rate else None,
    }


def _engine_off(
    target: Target, duration: float, start: Callable[[], Request]
) -> tuple[float | None, float | None]:
    """The empty handler's and StartExecution's requests/s on ``server --no-engine`` over the
    same database; (None, None) when the target is not a Stepwell server."""
    server = target.server
    if not isinstance(server, StepwellServer):
        return None, None
    server.stop()
    alone = StepwellServer(server.workdir, server.database_url, engine=False)
    try:
        alone.start()
        off = Target(target.name, alone)
        rate = _hammer(off, duration, lambda: ("GET", PATH, None, {}))
        return rate, _hammer(off, duration, start)
    finally:
        alone.stop()
        target.restart()  # the measured server again, for the workloads after this one


def _hammer(target: Target, duration: float, request: Callable[[], Request]) -> float:
    """Requests/s that 8 keep-alive threads get through, after a short warm-up."""
    warm_up = 0.5
    parts = urlsplit(target.endpoint)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    counts = [0] * THREADS
    errors = [0] * THREADS
    barrier = threading.Barrier(THREADS)
    window: dict[str, float] = {}

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        barrier.wait()
        if i == 0:
            window["warm_end"] = time.monotonic() + warm_up
            window["end"] = window["warm_end"] + duration
        barrier.wait()
        warm_end, end = window["warm_end"], window["end"]
        try:
            while (now := time.monotonic()) < end:
                method, path, body, headers = request()
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
                elif now >= warm_end:
                    counts[i] += 1
        finally:
            conn.close()

    run_threads(THREADS, worker)
    if sum(errors):
        raise RuntimeError(f"{sum(errors)} requests failed")
    return sum(counts) / duration


WORKLOAD = Workload(
    name="ceiling",
    description="empty GET /_stepwell/ping, then StartExecution, from 8 keep-alive threads",
    run=measure,
    headline=(
        "requests_per_s",
        "start_requests_per_s",
        "start_fraction",
        "chain_start_fraction",
        "engine_off_start_fraction",
    ),
    targets=("stepwell",),
)
