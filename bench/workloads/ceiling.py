"""ceiling: what the HTTP stack alone allows. ``GET /_stepwell/ping`` is an empty handler on
the same server stack (uvicorn + FastAPI) as the AWS wire protocol; 8 client threads, each
with one keep-alive connection (http.client), call it for a fixed time.

Figures: ``requests_per_s``, and ``chain_start_fraction``: chain's StartExecution requests/s
on the same store as a fraction of this ceiling (null when chain did not run first). Stepwell
only: moto has no empty handler to compare with. Client and server share the same cores, so
the ceiling includes the cost of the Python client.
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from bench.common import RunContext, Target, Workload, run_threads

THREADS = 8
PATH = "/_stepwell/ping"


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """Hammer the empty handler for a few seconds after a short warm-up."""
    duration = 2.0 if ctx.quick else 5.0
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
                conn.request("GET", PATH)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
                elif now >= warm_end:
                    counts[i] += 1
        finally:
            conn.close()

    run_threads(THREADS, worker)
    rate = sum(counts) / duration
    chain = ctx.shared.get((target.name, "chain"))
    start_rate = chain.get("start_requests_per_s") if chain else None
    return {
        "threads": THREADS,
        "seconds": duration,
        "errors": sum(errors),
        "requests_per_s": rate,
        "chain_start_requests_per_s": start_rate,
        "chain_start_fraction": start_rate / rate if start_rate and rate else None,
    }


WORKLOAD = Workload(
    name="ceiling",
    description="empty GET /_stepwell/ping from 8 keep-alive threads",
    run=measure,
    headline=("requests_per_s", "chain_start_fraction"),
    targets=("stepwell",),
)
