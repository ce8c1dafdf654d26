"""The registry of workloads. Adding one: write ``bench/workloads/<name>.py`` exposing a
``WORKLOAD = Workload(...)`` (see bench.common) and add it to ``WORKLOADS`` below; the
runner, ``--only``, the JSON lines and the summary table pick it up from here."""

from __future__ import annotations

from bench.common import Workload
from bench.workloads import activity, ceiling, chain, loop, map_, rss, sqs

# Run order matters: rss reads the memory chain left behind; ceiling compares with chain.
WORKLOADS: list[Workload] = [
    chain.WORKLOAD,
    rss.WORKLOAD,
    map_.WORKLOAD,
    loop.WORKLOAD,
    ceiling.WORKLOAD,
    activity.WORKLOAD,
    sqs.WORKLOAD,
]


def by_name(name: str) -> Workload:
    """The registered workload called ``name``."""
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    raise KeyError(name)
