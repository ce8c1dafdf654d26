"""Parallel: runs every branch on the same input; output is the array of branch outputs
(ASL spec, "Parallel State")."""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import Any

from engine.asl.fibers import Fiber
from engine.asl.interpreter import Interpreter, Outcome, Scope, StateCall, next_of
from engine.asl.retry import guarded
from engine.asl.states.common import jsonata_field


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Run the branches as child fibers; the first branch failure fails the state."""
    return (yield from guarded(interp, call, lambda: _attempt(interp, call), "ParallelStateFailed"))


def _branch(
    interp: Interpreter,
    branch: dict[str, Any],
    value: Any,
    scope: Scope,
    succeeded: dict[int, Any],
    index: int,
    fiber: Fiber,
) -> Generator[Any, Any, Any]:
    output = yield from interp.run_program(fiber, branch, value, scope)
    # A cancelled branch also ends without an error: only this says it succeeded.
    succeeded[index] = output
    return output


def _attempt(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    state = call.state
    if call.jsonata:
        value = jsonata_field(call, "Arguments") if "Arguments" in state else call.input
    else:
        value = interp.effective_input(call)
    interp.emit(call.fiber, "ParallelStateStarted", None)
    language = state.get("QueryLanguage", call.scope.query_language)
    # On a redrive, branches that succeeded before keep their results and do not run again.
    done_before = interp.kept_for_redrive(call)
    branches: dict[int, Fiber] = {}
    succeeded: dict[int, Any] = {}
    for index, branch in enumerate(state["Branches"]):
        if index in done_before:
            continue
        scope = Scope(dict(call.scope.variables), branch.get("QueryLanguage", language))
        body = partial(_branch, interp, branch, value, scope, succeeded, index)
        branches[index] = interp.spawn(call.fiber, body)
    try:
        yield interp.join(list(branches.values()))
    except GeneratorExit:
        # The execution is aborted: a redrive reruns only the branches that had not ended.
        if interp.aborting:
            interp.keep_for_redrive(call, {**done_before, **succeeded})
        raise
    failed = next((f for f in branches.values() if f.failed), None)
    if failed is not None:
        for other in branches.values():
            interp.cancel(other)
        interp.abort_open_states(list(branches.values()))
        interp.keep_for_redrive(call, {**done_before, **succeeded})
        assert failed.error is not None
        raise failed.error
    # The recorded AWS histories hold no ParallelStateSucceeded event: the exit follows the
    # last branch event directly.
    call.fiber.last_event_id = len(interp.events)
    results = [
        done_before[i] if i in done_before else branches[i].result
        for i in range(len(state["Branches"]))
    ]
    return interp.finish(call, results, next_of(state))
