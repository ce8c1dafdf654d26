"""Run the benchmarks: ``python -m bench.run [--quick] [--only NAME] [--no-moto] [--store S]``.

For each store (SQLite in a fresh temp file, then PostgreSQL in a database created for this
run and dropped after), a real Stepwell server process is started and every selected workload
runs against it and against one moto server, with the same boto3 client code. Each workload
prints ONE JSON line to stdout::

    {"workload": "chain", "store": "sqlite", "stepwell": {...}, "moto": {...}, "ratio": {...}}

``ratio`` is Stepwell's advantage per figure (> 1: Stepwell is better; see bench.common).
moto does not depend on the store, so it runs once per workload and its figures are repeated
on the PostgreSQL line. Progress goes to stderr; a human summary table ends stdout.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.common import AtLeast, RunContext, Target, Workload, jsonable, ratio, sig
from bench.servers import (
    MotoServer,
    ServerError,
    StepwellServer,
    create_postgres_database,
    describe,
    drop_postgres_database,
    new_workdir,
)
from bench.workloads import WORKLOADS, by_name

STORES = ("sqlite", "postgresql")


def progress(message: str) -> None:
    """A timestamped progress line on stderr (stdout carries only figures)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    names = [w.name for w in WORKLOADS]
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these workloads (repeat or comma-separate): {', '.join(names)}",
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts (under 2 minutes)")
    parser.add_argument("--no-moto", action="store_true", help="measure Stepwell only")
    parser.add_argument(
        "--store",
        action="append",
        default=[],
        choices=STORES,
        help="Stepwell store(s) to measure (default: both)",
    )
    args = parser.parse_args(argv)
    selected = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in selected if n not in names]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    args.workloads = [by_name(n) for n in names if n in selected] if selected else list(WORKLOADS)
    args.stores = [s for s in STORES if s in args.store] if args.store else list(STORES)
    return args


def run_one(workload: Workload, target: Target, ctx: RunContext) -> dict[str, Any]:
    """One workload on one server, from a clean state; a failure becomes an ``error`` figure."""
    began = time.monotonic()
    try:
        target.reset()
        figures = workload.run(target, ctx)
    except Exception as exc:  # report it as a figure and carry on with the next workload
        figures = {"error": f"{type(exc).__name__}: {exc}"}
        progress(f"{workload.name} on {target.name} failed: {figures['error']}")
    if figures.get("timed_out") or "error" in figures:
        progress(f"restarting {target.name} to drop leftover work")
        try:
            target.restart()
        except ServerError as exc:
            progress(f"{target.name} did not restart: {exc}")
    progress(f"{workload.name} on {target.name} ({ctx.store}): {time.monotonic() - began:.1f}s")
    return figures


def ratios(workload: Workload, stepwell: dict[str, Any], moto: dict[str, Any] | None) -> Any:
    """Stepwell's advantage for each compared figure; None without moto figures."""
    if moto is None or not workload.compared:
        return None
    return {
        name: ratio(stepwell.get(name), moto.get(name), better)
        for name, better in workload.compared.items()
    }


def emit(line: dict[str, Any]) -> None:
    """Print one JSON line of figures."""
    sys.stdout.write(orjson.dumps(jsonable(line)).decode() + "\n")
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, AtLeast):
        return str(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{sig(value, 4):g}"
    return str(value)


def summary(lines: list[dict[str, Any]]) -> str:
    """The headline figures of every line as a fixed-width table."""
    header = ("workload", "store", "figure", "stepwell", "moto", "ratio")
    rows: list[tuple[str, ...]] = []
    for line in lines:
        workload = by_name(line["workload"])
        if "skipped" in line:
            rows.append((workload.name, line["store"], "skipped", "-", "-", "-"))
            continue
        stepwell, moto, ratio_ = line["stepwell"], line.get("moto"), line.get("ratio") or {}
        figures = workload.headline if "error" not in stepwell else ("error",)
        for name in figures:
            rows.append(
                (
                    workload.name,
                    line["store"],
                    name,
                    _cell(stepwell.get(name)),
                    _cell(moto.get(name) if moto else None),
                    _cell(ratio_.get(name)),
                )
            )
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    out.append("ratio = Stepwell's advantage (rates: stepwell/moto; times, memory: moto/stepwell)")
    notes: dict[str, str] = {}
    for line in lines:
        for target in ("stepwell", "moto"):
            figures = line.get(target) or {}
            if figures.get("unsupported"):
                where = line["store"] if target == "stepwell" else "run"
                notes.setdefault(
                    f"{line['workload']} ({target}, {where})",
                    f"could not run it: {figures['unsupported']}",
                )
    out.extend(f"{key}: {note}" for key, note in notes.items())
    return "\n".join(out)


class Runner:
    """Owns the servers and the run: stores in turn, workloads in registry order."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.lines: list[dict[str, Any]] = []
        self.moto: Target | None = None
        self.moto_ctx = RunContext(quick=args.quick, store="n/a")
        self.moto_figures: dict[str, dict[str, Any]] = {}

    def start_moto(self) -> None:
        """One moto server for the whole run, unless --no-moto or no workload needs it."""
        if self.args.no_moto or not any("moto" in w.targets for w in self.args.workloads):
            return
        server = MotoServer(self.workdir).start()
        progress(f"started {describe(server)}")
        self.moto = Target("moto", server)
        self.moto_ctx.shared[("moto", "rss_at_start")] = server.rss_mib()

    def moto_for(self, workload: Workload) -> dict[str, Any] | None:
        """moto's figures for ``workload``, measured the first time they are asked for."""
        if self.moto is None or "moto" not in workload.targets:
            return None
        if workload.name not in self.moto_figures:
            self.moto_figures[workload.name] = run_one(workload, self.moto, self.moto_ctx)
        return self.moto_figures[workload.name]

    def run_store(self, store: str) -> None:
        """Every selected workload on a Stepwell server backed by ``store``."""
        database_url, note, drop = self._database(store)
        if database_url is None:
            progress(f"skipping {store}: {note}")
            for workload in self.args.workloads:
                line = {"workload": workload.name, "store": store, "skipped": note}
                self.lines.append(line)
                emit(line)
            return
        server = StepwellServer(self.workdir, database_url)
        try:
            server.start()
            progress(f"started {describe(server)} on {store}")
            target = Target("stepwell", server)
            ctx = RunContext(quick=self.args.quick, store=store)
            ctx.shared[("stepwell", "rss_at_start")] = server.rss_mib()
            for workload in self.args.workloads:
                stepwell = run_one(workload, target, ctx)
                reused = workload.name in self.moto_figures
                moto = self.moto_for(workload)
                line: dict[str, Any] = {
                    "workload": workload.name,
                    "store": store,
                    "quick": self.args.quick,
                    "stepwell": stepwell,
                    "moto": moto,
                    "ratio": ratios(workload, stepwell, moto),
                }
                if moto is None and "moto" in workload.targets and not self.args.no_moto:
                    line["note"] = "moto server unavailable"
                elif "moto" not in workload.targets:
                    line["note"] = "Stepwell only: moto has no counterpart"
                elif reused:
                    line["note"] = "moto measured once per run (it has no store); same figures"
                self.lines.append(line)
                emit(line)
        finally:
            server.stop()
            if drop is not None:
                drop()

    def _database(self, store: str) -> tuple[str | None, str, Any]:
        if store == "sqlite":
            path = self.workdir / "stepwell-bench.db"
            return f"sqlite:///{path}", "", None
        url, note = create_postgres_database()
        if url is None:
            return None, note, None
        progress(f"created PostgreSQL database {url.rsplit('/', 1)[1]}")
        return url, "", lambda: drop_postgres_database(url)

    def run(self) -> None:
        """The whole run; servers stopped and databases dropped whatever happens."""
        try:
            self.start_moto()
        except ServerError as exc:
            progress(f"moto did not start, continuing without it: {exc}")
        try:
            for store in self.args.stores:
                self.run_store(store)
        finally:
            if self.moto is not None:
                self.moto.server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bench.run``."""
    args = parse_args(argv)
    began = time.monotonic()
    workdir = new_workdir()
    progress(f"workdir {workdir}; workloads {', '.join(w.name for w in args.workloads)}")
    runner = Runner(args, workdir)
    try:
        runner.run()
    except ServerError as exc:
        progress(f"a server failed: {exc}; its log is kept in {workdir}")
        return 1
    finally:
        print(summary(runner.lines), flush=True)
        progress(f"done in {time.monotonic() - began:.0f}s")
    if any("error" in (line.get("stepwell") or {}) for line in runner.lines):
        progress(f"some workloads failed; server logs are kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
