"""The engine loops of one node: a decider that advances runnable executions and a timer
loop that fires due timers. Both stop on an event and shut down gracefully."""

from __future__ import annotations

import logging
import threading

from engine.services import runtime, tasks
from engine.services.context import ServiceContext, Waker

log = logging.getLogger("stepwell.engine")


class EngineLoops:
    """Runs the decider and timer loops in background threads."""

    def __init__(self, ctx: ServiceContext, owner: str | None = None) -> None:
        self.ctx = ctx
        self.owner = owner or ctx.settings.node_id
        self.stopping = threading.Event()
        self.timer_waker = Waker()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start both loops."""
        for target, name in ((self._decider_loop, "decider"), (self._timer_loop, "timers")):
            thread = threading.Thread(target=target, name=f"stepwell-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask both loops to finish their current step and wait for them."""
        self.stopping.set()
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
            ids = runtime.claim(self.ctx, self.owner)
            if ids:
                runtime.decide_batch(self.ctx, self.owner, ids)
            if not ids and not fired:
                return

    def _decider_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                ids = runtime.claim(self.ctx, self.owner)
                if ids and not self.stopping.is_set():
                    runtime.decide_batch(self.ctx, self.owner, ids)
                if ids:
                    self.timer_waker.wake()
                    continue
            except Exception:  # keep deciding other executions; this one's lease expires
                log.exception("decider step failed")
            self.ctx.waker.wait(self.ctx.settings.idle_poll_seconds)

    def _timer_loop(self) -> None:
        while not self.stopping.is_set():
            timeout = 1.0
            try:
                runtime.fire_due_timers(self.ctx)
                tasks.reap_overdue(self.ctx)
                dues = [runtime.next_timer_due(self.ctx), tasks.next_task_deadline(self.ctx)]
                for due in dues:
                    if due is not None:
                        timeout = max(0.0, min(timeout, due - self.ctx.clock.now()))
            except Exception:
                log.exception("timer step failed")
            if timeout > 0:
                self.timer_waker.wait(timeout)
