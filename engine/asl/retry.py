"""Retry and Catch around a Task, Parallel or Map state (ASL spec, "Error Handling").

A retry's back-off is a durable timer: the fiber yields ``Await("timer")`` due at the failure
event's timestamp plus the delay, so it survives a crash and replays to the same due time.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Generator
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName, StatesError, error_matches
from engine.asl.interpreter import Interpreter, Outcome, StateCall


def backoff_delay(retrier: dict[str, Any], attempt: int, seed: str) -> float:
    """Seconds before retry number ``attempt`` (0-based), per IntervalSeconds, BackoffRate,
    MaxDelaySeconds and JitterStrategy (FULL jitter draws uniformly from [0, delay])."""
    interval = retrier.get("IntervalSeconds", 1)
    rate = retrier.get("BackoffRate", 2.0)
    delay = float(interval) * float(rate) ** attempt
    if "MaxDelaySeconds" in retrier:
        delay = min(delay, float(retrier["MaxDelaySeconds"]))
    if retrier.get("JitterStrategy") == "FULL":
        # Deterministic per execution and attempt, so replay waits for the same timer.
        digest = hashlib.sha256(seed.encode()).digest()
        delay = random.Random(digest).uniform(0, delay)
    return delay


def guarded(
    interp: Interpreter,
    call: StateCall,
    attempt: Callable[[], Generator[Any, Any, Outcome]],
    failed_event: str | None = None,
) -> Generator[Any, Any, Outcome]:
    """Run ``attempt`` applying the state's Retry rules, then its Catch rules, to failures.

    ``failed_event`` (MapStateFailed, ParallelStateFailed) is recorded once, when retries are
    exhausted, before a Catcher applies; AWS records none for States.Runtime failures.
    """
    state = call.state
    retriers = state.get("Retry", [])
    counts = [0] * len(retriers)
    while True:
        try:
            return (yield from attempt())
        except StatesError as err:
            retry_index = _matching(retriers, err.error)
            if retry_index is not None:
                retrier = retriers[retry_index]
                if counts[retry_index] < retrier.get("MaxAttempts", 3):
                    delay = backoff_delay(
                        retrier,
                        counts[retry_index],
                        f"{interp.info.execution_arn}/{len(interp.events)}",
                    )
                    counts[retry_index] += 1
                    failed_at = interp.events[-1].timestamp
                    call.fiber.last_event_id = interp.last_linked
                    if delay > 0:
                        yield interp.wait_until(failed_at + delay)
                    continue
            interp.report_failure(call.fiber, call, err)
            if failed_event is not None and err.error != ErrorName.RUNTIME:
                call.fiber.last_event_id = interp.last_linked
                interp.emit(call.fiber, failed_event, None)
            catch_index = _matching(state.get("Catch", []), err.error)
            if catch_index is None:
                raise
            return _caught(call, state["Catch"][catch_index], err)


def _matching(rules: list[dict[str, Any]], error: str) -> int | None:
    for index, rule in enumerate(rules):
        if error_matches(rule.get("ErrorEquals", []), error):
            return index
    return None


def _caught(call: StateCall, catcher: dict[str, Any], err: StatesError) -> Outcome:
    error_output = err.as_output()
    if call.jsonata:
        from engine.asl import jsonata

        binding = call.states_binding(errorOutput=error_output)
        assigned = None
        if "Assign" in catcher:
            assigned = jsonata.evaluate_assign(catcher["Assign"], binding, call.ctx)
        output: Any = error_output
        if "Output" in catcher:
            output = jsonata.evaluate_field(catcher["Output"], "Output", binding, call.ctx)
        return Outcome(output, catcher["Next"], assigned)
    assigned = None
    if "Assign" in catcher:
        assigned = paths.evaluate_assign(catcher["Assign"], error_output, call.ctx)
    output = paths.apply_result_path(
        catcher.get("ResultPath", "$"), call.input, error_output, call.ctx
    )
    return Outcome(output, catcher["Next"], assigned)
