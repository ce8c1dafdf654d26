"""Profile the server under a benchmark workload: ``python -m bench.profile [--only NAME]
[--store S] [--rate HZ] [--top N]`` (``make profile``).

A Stepwell server process is started, py-spy samples it (``--gil``: only the thread holding
the GIL, which is where a Python server's time goes) while each workload runs, and the samples
are summed two ways: by where the time goes (HTTP stack, StartExecution, the decider's
interpreter, its SQL, timers, task and queue services) and by the functions that hold most of
it (inclusive). The raw py-spy file is kept for a flame graph. What these profiles showed, and
what was changed because of them, is in bench/PROFILES.md.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from bench.common import RunContext, Target
from bench.servers import (
    StepwellServer,
    create_postgres_database,
    drop_postgres_database,
    new_workdir,
)
from bench.workloads import WORKLOADS, by_name

# First match wins: a sample is charged to the first part whose marker is in its stack.
PARTS = (
    ("decider: SQL", ("claim_and_decide", "sqlalchemy")),
    ("decider: interpreter", ("claim_and_decide",)),
    ("timers and reaper", ("_timer_loop",)),
    ("StartExecution", ("start_execution",)),
    ("tasks and activities", ("tasks.py",)),
    ("queues", ("queues/",)),
    ("HTTP stack", ("uvicorn",)),
)


def part_of(stack: str) -> str:
    """The part of the server a sampled stack belongs to."""
    for name, markers in PARTS:
        if all(marker in stack for marker in markers):
            return name
    return "other"


def summarise(raw: Path, top: int) -> str:
    """Parts and the heaviest functions of a py-spy raw (collapsed stacks) file."""
    parts: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        parts[part_of(stack)] += samples
        frames = stack.split(";")
        leaves[_short(frames[-1])] += samples
        for key in {_short(f) for f in frames if any(p in f for p in OUR_PACKAGES)}:
            ours[key] += samples
    if not total:
        return "no samples"
    out = [f"{total} samples"]
    out += [f"{100 * n / total:5.1f}%  {name}" for name, n in parts.most_common()]
    out.append("our functions, inclusive:")
    out += [f"{100 * n / total:5.1f}%  {name}" for name, n in ours.most_common(top)]
    out.append("where the samples land (self):")
    out += [f"{100 * n / total:5.1f}%  {name}" for name, n in leaves.most_common(top)]
    return "\n".join(out)


# py-spy names files relative to the server's directory (this checkout) or site-packages.
OUR_PACKAGES = ("(engine/", "(api/", "(workers/")


def _short(frame: str) -> str:
    """``func (path/to/file.py:12)`` as ``func (file.py:12)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if where else name


def main(argv: list[str] | None = None) -> int:
    """Profile each selected workload on its own fresh server."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--only", default="chain", help="comma-separated workload names")
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        parser.error("py-spy is not installed (pip install -e '.[bench]')")
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in {w.name for w in WORKLOADS}]
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}")
    workdir = new_workdir()
    for name in names:
        url: str | None = f"sqlite:///{workdir / f'{name}.db'}"
        if args.store == "postgresql":
            url, why = create_postgres_database()
            if url is None:
                parser.error(f"PostgreSQL is not available: {why}")
        assert url is not None
        server = StepwellServer(workdir, url).start()
        raw = workdir / f"{name}-{args.store}.txt"
        sampler = subprocess.Popen(
            [spy, "record", "--gil", "--nonblocking", "-r", str(args.rate), "-f", "raw"]
            + ["-o", str(raw), "-p", str(server.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            figures = by_name(name).run(
                Target("stepwell", server), RunContext(quick=args.quick, store=args.store)
            )
        finally:
            sampler.send_signal(signal.SIGINT)
            sampler.wait(30)
            server.stop()
            if args.store == "postgresql":
                drop_postgres_database(url)
        print(f"== {name} on {args.store}: {figures}")
        print(summarise(raw, args.top) if raw.exists() else "py-spy wrote nothing")
        print(f"raw samples: {raw}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
