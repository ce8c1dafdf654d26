"""rss: the server's resident memory (``VmRSS`` from /proc/<pid>/status) right after the
chain workload, and when it had just started. Reads what chain left behind; when chain was
not selected (``--only rss``) it runs chain first, silently, to have something to read."""

from __future__ import annotations

from typing import Any

from bench.common import LOWER, RunContext, Target, Workload
from bench.workloads import chain


def measure(target: Target, ctx: RunContext) -> dict[str, Any]:
    """Report RSS after chain (running chain now if it has not run on this target)."""
    key = (target.name, "rss_after_chain")
    if key not in ctx.shared:
        target.reset()
        chain.measure(target, ctx)
    return {
        "rss_mib_at_start": ctx.shared.get((target.name, "rss_at_start")),
        "rss_mib_after_chain": ctx.shared.get(key),
        "rss_mib_now": target.server.rss_mib(),
    }


WORKLOAD = Workload(
    name="rss",
    description="server resident memory after the chain workload",
    run=measure,
    compared={"rss_mib_after_chain": LOWER, "rss_mib_at_start": LOWER},
    headline=("rss_mib_after_chain",),
)
