"""The engine loops of one node: a decider that advances runnable executions and a timer
loop that fires due timers. Both stop on an event and shut down gracefully."""

from __future__ import annotations

import logging
import threading
from functools import partial

from engine.services import runtime, tasks
from engine.services.context import ServiceContext

log = logging.getLogger("stepwell.engine")

# Executions leased per decider round (runtime.claim's batch size). A full batch means more
# may be waiting, so the decider claims again at once instead of waiting for a wake-up.
CLAIM_LIMIT = 32
# The timer loop re-reads the earliest due time at least this often, for timers and task
# deadlines that other nodes sharing a PostgreSQL database add without waking it.
TIMER_RECHECK_SECONDS = 1.0


class EngineLoops:
    """Runs the decider and timer loops in background threads."""

    def __init__(self, ctx: ServiceContext, owner: str | None = None) -> None:
        self.ctx = ctx
        self.owner = owner or ctx.settings.node_id
        self.stopping = threading.Event()
        self.timer_waker = ctx.timer_waker
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start both loops; from now on an answer to a task is decided in the thread that
        received it (runtime.decide_answer)."""
        self.ctx.decide_answer = partial(runtime.decide_answer, self.ctx, self.owner)
        for target, name in ((self._decider_loop, "decider"), (self._timer_loop, "timers")):
            thread = threading.Thread(target=target, name=f"stepwell-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask both loops to finish their current step and wait for them."""
        self.stopping.set()
        self.ctx.decide_answer = None
        self.ctx.waker.wake()
        self.timer_waker.wake()
        for thread in self._threads:
            thread.join(timeout)

    def wake_timers(self) -> None:
        """Re-read the earliest due time (the clock moved, or a timer was added)."""
        self.timer_waker.wake()

    def run_until_idle(self, max_rounds: int = 10_000) -> None:
        """Decide and fire timers in this thread until nothing is runnable (tests, tools)."""
        for _ in range(max_rounds):
            fired = runtime.fire_due_timers(self.ctx) + tasks.reap_overdue(self.ctx)
            claimed = runtime.claim_and_decide(self.ctx, self.owner)
            if not claimed and not fired:
                return

    def _decider_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                # Decisions that add a timer or a task deadline wake the timer loop.
                claimed = runtime.claim_and_decide(self.ctx, self.owner, CLAIM_LIMIT)
                if claimed >= CLAIM_LIMIT:
                    continue
            except Exception:  # keep deciding other executions; this one's lease expires
                log.exception("decider step failed")
            # Whatever made an execution runnable meanwhile (an answer, a timer, a start, a
            # decision that resolved its own request) woke the waker, so this returns at once
            # when there is work; claiming again unasked would only contend for the writer.
            self.ctx.waker.wait(self.ctx.settings.idle_poll_seconds)

    def _timer_loop(self) -> None:
        # Firing timers and reaping overdue tasks are writes; most wake-ups (one per decider
        # round) only move the earliest due time, which one read finds out.
        due: float | None = 0.0
        while not self.stopping.is_set():
            timeout = TIMER_RECHECK_SECONDS
            try:
                if due is not None and due <= self.ctx.clock.now():
                    runtime.fire_due_timers(self.ctx)
                    tasks.reap_overdue(self.ctx)
                due = tasks.next_due(self.ctx)
                if due is not None:
                    timeout = max(0.0, min(timeout, due - self.ctx.clock.now()))
            except Exception:
                log.exception("timer step failed")
                due = 0.0  # try firing again after the pause
            if timeout > 0:
                self.timer_waker.wait(timeout)
