"""Map: runs the item processor once per item of an array (ASL spec, "Map State").

Iterations are child fibers, at most MaxConcurrency at a time (0 means no limit). Failures
are tolerated up to ToleratedFailureCount / ToleratedFailurePercentage.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Generator
from functools import partial
from typing import Any

from engine.asl import paths
from engine.asl.errors import ErrorName, StatesError
from engine.asl.fibers import Await, Fiber, Join
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
            kind = "float" if field == "ToleratedFailurePercentage" else "integer"
            raise state_error(
                call,
                f'The {field}Path field refers to value "{shown}" which is not a valid '
                f"{kind}: {path}",
            )
        return found
    return default


def _attempt(interp: Interpreter, call: StateCall) -> Generator[Any, Any, Outcome]:
    state = call.state
    processor: dict[str, Any] = state.get("ItemProcessor") or state["Iterator"]
    distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
    items, value = _items(interp, call)
    max_concurrency = _number(interp, call, "MaxConcurrency", value, 0)
    if not distributed:
        tolerated_count, tolerated_pct = _tolerance(interp, call, value)
    interp.emit(call.fiber, "MapStateStarted", {"length": len(items)})
    if distributed:
        # AWS checks a Distributed Map's tolerance after MapStateStarted (recorded histories).
        tolerated_count, tolerated_pct = _tolerance(interp, call, value)
    language = state.get("QueryLanguage", call.scope.query_language)
    limit = len(items) if not max_concurrency else int(max_concurrency)
    allowed_failures = _allowed_failures(len(items), tolerated_count, tolerated_pct)
    map_run = None
    if distributed:
        map_run = _map_run_arn(interp, call)
        interp.emit(
            call.fiber,
            "MapRunStarted",
            {"mapRunArn": map_run},
            meta={
                "mapRunArn": map_run,
                "event": "started",
                "total": len(items),
                "maxConcurrency": int(max_concurrency or 0),
                "toleratedFailureCount": int(tolerated_count or 0),
                "toleratedFailurePercentage": float(tolerated_pct or 0),
            },
        )

    running: list[Fiber] = []
    fibers: dict[int, Fiber] = {}
    # Results of the iterations that returned (a cancelled one ends without an error too).
    succeeded: dict[int, Any] = {}
    # On a redrive, iterations that succeeded before keep their results and do not run again.
    done_before = interp.kept_for_redrive(call)
    pending = [i for i in range(len(items)) if i not in done_before]
    failures = 0
    # A Map Run hears UpdateMapRun while it runs: new limits arrive as the answer to a
    # request, so replaying the recorded answers applies them at the same points again.
    listener = _listen(interp, call, map_run) if map_run is not None else None
    while True:
        while pending and len(running) < limit:
            index = pending.pop(0)
            body = partial(
                _iteration,
                interp,
                call,
                index,
                items[index],
                value,
                processor,
                language,
                succeeded,
            )
            fiber = interp.spawn(call.fiber, body, silent=distributed)
            running.append(fiber)
            fibers[index] = fiber
        if not running:
            break
        try:
            yield Join(running, fail_fast=True, interrupt=listener)
        except GeneratorExit:
            # Stopped (StopExecution): a redrive reruns only what had not finished.
            if interp.aborting:
                interp.keep_for_redrive(call, {**done_before, **succeeded})
            raise
        if listener is not None and listener.done and map_run is not None:
            update = listener.result or {}
            if "maxConcurrency" in update:
                max_concurrency = update["maxConcurrency"]
                limit = len(items) if not max_concurrency else int(max_concurrency)
            tolerated_count = update.get("toleratedFailureCount", tolerated_count)
            tolerated_pct = update.get("toleratedFailurePercentage", tolerated_pct)
            allowed_failures = _allowed_failures(len(items), tolerated_count, tolerated_pct)
            listener = _listen(interp, call, map_run)
        finished = [f for f in running if f.done]
        running = [f for f in running if not f.done]
        failures += sum(1 for f in finished if f.failed)
        if failures <= allowed_failures:
            continue
        for other in running:
            interp.cancel(other)
        interp.abort_open_states([fibers[i] for i in sorted(fibers)])
        if listener is not None:
            interp.cancel(listener)
        interp.keep_for_redrive(call, {**done_before, **succeeded})
        # The failure that crossed the threshold, or the first one when UpdateMapRun lowered it.
        failed = [f for f in finished if f.failed] or [f for f in fibers.values() if f.failed]
        assert failed[0].error is not None
        error = failed[0].error
        tolerance = tolerated_count is not None or tolerated_pct is not None
        if map_run is not None or allowed_failures > 0 or tolerance:
            error = StatesError(
                ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
        if map_run is not None:
            interp.emit(
                call.fiber,
                "MapRunFailed",
                error.details(),
                meta={
                    "mapRunArn": map_run,
                    "event": "failed",
                    "failed": failures,
                    "succeeded": len(succeeded),
                    "aborted": len(running),
                },
            )
        raise error
    if listener is not None:
        interp.cancel(listener)
    if map_run is not None:
        interp.emit(
            call.fiber,
            "MapRunSucceeded",
            None,
            meta={
                "mapRunArn": map_run,
                "event": "succeeded",
                "failed": failures,
                "succeeded": len(fibers) - failures,
            },
        )
    else:
        call.fiber.last_event_id = len(interp.events)
    interp.emit(call.fiber, "MapStateSucceeded", None, link=False)
    results = [
        done_before[i] if i in done_before else (None if fibers[i].failed else fibers[i].result)
        for i in range(len(items))
    ]
    return interp.finish(call, results, next_of(state))


def _listen(interp: Interpreter, call: StateCall, map_run: str) -> Fiber:
    """A silent child that ends with the limits of the next UpdateMapRun of ``map_run``."""

    def body(fiber: Fiber) -> Generator[Any, Any, Any]:
        return (yield Await("map_run", {"mapRunArn": map_run}))

    return interp.spawn(call.fiber, body, silent=True)


def _tolerance(interp: Interpreter, call: StateCall, value: Any) -> tuple[Any, Any]:
    count = _number(interp, call, "ToleratedFailureCount", value, None)
    pct = _number(interp, call, "ToleratedFailurePercentage", value, None)
    if count is not None and count < 0:
        raise state_error(call, "ToleratedFailureCount cannot be negative.")
    if pct is not None and not 0 <= pct <= 100:
        raise state_error(call, "ToleratedFailurePercentage must be between 0 and 100.")
    return count, pct


def _map_run_arn(interp: Interpreter, call: StateCall) -> str:
    """arn:aws:states:REGION:ACCOUNT:mapRun:STATE_MACHINE/LABEL:ID, the id derived from the
    execution and the entered event so that replay names the same Map Run."""
    parts = interp.info.execution_arn.split(":")
    label = call.state.get("Label") or call.name
    run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{interp.info.execution_arn}#{call.entered.id}")
    return (
        f"arn:aws:states:{parts[3]}:{parts[4]}:mapRun:{interp.info.state_machine_name}/"
        f"{label}:{run_id}"
    )


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
    succeeded: dict[int, Any],
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
    succeeded[index] = output
    return output
