"""Map: runs the item processor once per item of an array (ASL spec, "Map State").

Iterations are child fibers, at most MaxConcurrency at a time (0 means no limit). Failures
are tolerated up to ToleratedFailureCount / ToleratedFailurePercentage.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from functools import partial
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName, StatesError
from engine.asl.fibers import Fiber
from engine.asl.interpreter import Interpreter, Outcome, Scope, StateCall, next_of
from engine.asl.jsonvalue import encode
from engine.asl.retry import guarded
from engine.asl.states.common import jsonata_field, state_error


def run(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    """Run every item through the processor; the output is the array of results."""
    return (yield from guarded(interp, call, lambda: _attempt(interp, call), "MapStateFailed"))


def _items(interp: Interpreter, call: StateCall) -> tuple[list[Any], Any]:
    state = call.state
    if call.jsonata:
        if "Items" in state:
            from engine.asl import jsonata

            items = jsonata.evaluate_field(
                state["Items"], "Items", call.states_binding(), call.ctx, expect="array"
            )
            if not isinstance(items, list):
                raise state_error(
                    call,
                    f"Map state input must be an array but was: {encode(items)}",
                    ErrorName.QUERY_EVALUATION_ERROR,
                )
            return items, call.input
        if not isinstance(call.input, list):
            raise state_error(
                call,
                f"Map state input must be an array but was: {encode(call.input)}",
                ErrorName.QUERY_EVALUATION_ERROR,
            )
        return call.input, call.input
    value = paths.apply_input_path(state.get("InputPath", "$"), call.input, call.ctx)
    items = paths.read_path(state.get("ItemsPath", "$"), value, call.ctx)
    if not isinstance(items, list):
        raise state_error(call, f"Map state input must be an array but was: {encode(items)}")
    return items, value


def _number(interp: Interpreter, call: StateCall, field: str, value: Any, default: Any) -> Any:
    state = call.state
    if field in state:
        if call.jsonata:
            return jsonata_field(call, field)
        return state[field]
    if f"{field}Path" in state:
        path = state[f"{field}Path"]
        found = paths.read_path(path, value, call.ctx)
        if isinstance(found, bool) or not isinstance(found, int | float):
            shown = found if isinstance(found, str) else encode(found)
            kind = "number" if field == "ToleratedFailurePercentage" else "integer"
            raise state_error(
                call,
                f'The {field}Path field refers to value "{shown}" which is not a valid '
                f"{kind}: {path}",
            )
        return found
    return default


def _attempt(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    state = call.state
    items, value = _items(interp, call)
    max_concurrency = _number(interp, call, "MaxConcurrency", value, 0)
    tolerated_count = _number(interp, call, "ToleratedFailureCount", value, None)
    tolerated_pct = _number(interp, call, "ToleratedFailurePercentage", value, None)
    if tolerated_pct is not None and not 0 <= tolerated_pct <= 100:
        raise state_error(call, "ToleratedFailurePercentage must be between 0 and 100.")
    interp.emit(call.fiber, "MapStateStarted", {"length": len(items)})
    processor: dict[str, Any] = state.get("ItemProcessor") or state["Iterator"]
    language = state.get("QueryLanguage", call.scope.query_language)
    limit = len(items) if not max_concurrency else int(max_concurrency)
    allowed_failures = _allowed_failures(len(items), tolerated_count, tolerated_pct)

    running: list[Fiber] = []
    fibers: list[Fiber] = []
    failures = 0
    next_index = 0
    while True:
        while next_index < len(items) and len(running) < limit:
            index = next_index
            next_index += 1
            body = partial(
                _iteration, interp, call, index, items[index], value, processor, language
            )
            fiber = interp.spawn(call.fiber, body)
            running.append(fiber)
            fibers.append(fiber)
        if not running:
            break
        yield interp.join(running, fail_fast=True)
        finished = [f for f in running if f.done]
        running = [f for f in running if not f.done]
        for fiber in finished:
            if fiber.failed:
                failures += 1
                if failures > allowed_failures:
                    for other in running:
                        interp.cancel(other)
                    assert fiber.error is not None
                    if (
                        allowed_failures > 0
                        or tolerated_count is not None
                        or tolerated_pct is not None
                    ):
                        raise StatesError(
                            ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        )
                    raise fiber.error
    call.fiber.last_event_id = len(interp.events)
    interp.emit(call.fiber, "MapStateSucceeded", None, link=False)
    results = [f.result if not f.failed else None for f in fibers]
    return interp.finish(call, results, next_of(state))


def _allowed_failures(total: int, count: Any, pct: Any) -> int:
    allowed = 0
    if count is not None:
        allowed = max(allowed, int(count))
    if pct is not None:
        allowed = max(allowed, math.floor(total * float(pct) / 100))
    return allowed


def _iteration(
    interp: Interpreter,
    call: StateCall,
    index: int,
    item: Any,
    value: Any,
    processor: dict[str, Any],
    language: str,
    fiber: Fiber,
) -> Generator[Any, Any, Any]:
    name = call.name
    interp.emit(fiber, "MapIterationStarted", {"index": index, "name": name})
    map_item = {"Index": index, "Value": item}
    scope = Scope(dict(call.scope.variables), processor.get("QueryLanguage", language), map_item)
    ctx_object = dict(call.ctx.context_object)
    ctx_object["Map"] = {"Item": map_item}
    saved = call.ctx.context_object
    call.ctx.context_object = ctx_object
    try:
        state = call.state
        if call.jsonata and "ItemSelector" in state:
            item_input = jsonata_field(call, "ItemSelector")
        else:
            template = state.get("ItemSelector", state.get("Parameters"))
            item_input = item
            if template is not None:
                item_input = paths.evaluate_payload(template, value, call.ctx, field="ItemSelector")
    finally:
        call.ctx.context_object = saved
    try:
        output = yield from interp.run_program(fiber, processor, item_input, scope)
    except GeneratorExit:
        interp.emit(fiber, "MapIterationAborted", {"index": index, "name": name}, link=False)
        raise
    except StatesError:
        interp.emit(fiber, "MapIterationFailed", {"index": index, "name": name}, link=False)
        raise
    interp.emit(fiber, "MapIterationSucceeded", {"index": index, "name": name}, link=False)
    return output
