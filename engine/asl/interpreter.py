"""The ASL interpreter: runs one execution's states, emitting AWS history events as it goes.

The interpreter is pure. It never reads a clock: the timestamp of each event comes from the
``timestamps`` callback (the recorded timestamp when replaying, "now" for a new event), and every
time-dependent decision (a Wait's due time, a Retry's back-off) is computed from those event
timestamps, so replaying the same resolutions rebuilds the same history.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.asl import paths
from engine.asl.context import EvalContext
from engine.asl.errors import ErrorName, StatesError
from engine.asl.fibers import Await, Fiber, Join, Request, Scheduler, Yield
from engine.asl.jsonvalue import MAX_PAYLOAD_BYTES, encode, payload_size

_FIELD_IN_CAUSE = re.compile(r"specified for the field '([^']+)'")
JSONATA = "JSONata"
# AWS: "an execution history is limited to 25,000 events" (Step Functions quotas).
MAX_HISTORY_EVENTS = 25_000
# States that record an *StateAborted event when cancelled mid-way (HistoryEventType).
_ABORTABLE = frozenset({"Task", "Wait", "Map", "Parallel"})
# The states a failure leaves open: a Task has no TaskStateFailed event, so the Parallel or
# Map whose branch or iteration it ends aborts it (see ``abort_open_states``). The recordings
# show it for Task; a Wait's failure (a bad SecondsPath) has none recorded, so it is left out.
_LEFT_OPEN_BY_FAILURE = frozenset({"Task"})
JSONPATH = "JSONPath"
# The request number of an abort (StopExecution, the end of a parent): requests are numbered
# from 1, so resolving this one tells the interpreter to stop the execution where it is.
ABORT_REQUEST = 0


@dataclass(frozen=True)
class ExecutionInfo:
    """What ``$$.Execution`` and ``$$.StateMachine`` expose, fixed when the execution starts."""

    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: float
    input: Any
    redrive_count: int = 0


@dataclass(slots=True)
class Emitted:
    """An event produced by the interpreter (the decider turns it into a stored HistoryEvent)."""

    id: int
    previous_event_id: int
    type: str
    timestamp: float
    details: dict[str, Any] | None
    meta: dict[str, Any] | None = None


@dataclass
class Scope:
    """What a program (the machine, a branch, an iteration's processor) sees."""

    variables: dict[str, Any]
    query_language: str
    map_item: dict[str, Any] | None = None


@dataclass
class StateCall:
    """One entry into a state: everything a state handler needs."""

    name: str
    state: dict[str, Any]
    input: Any
    fiber: Fiber
    scope: Scope
    ctx: EvalContext
    entered: Emitted

    @property
    def jsonata(self) -> bool:
        """Whether this state evaluates JSONata rather than JSONPath."""
        return self.state.get("QueryLanguage", self.scope.query_language) == JSONATA

    def states_binding(self, **extra: Any) -> dict[str, Any]:
        """The JSONata ``$states`` variable for this state."""
        binding = {"input": self.input, "context": self.ctx.context_object}
        binding.update(extra)
        return binding


@dataclass
class Outcome:
    """How a state ended: its output and where to go; ``next`` None means the program ends."""

    output: Any
    next: str | None
    assigned: dict[str, Any] | None = None
    exited: bool = True


Handler = Callable[["Interpreter", StateCall], Generator[Any, Any, Outcome]]


def iso_timestamp(epoch: float) -> str:
    """AWS's context-object time format, e.g. 2024-02-07T13:52:02.123Z."""
    # Every state's $$ carries two of these, so this avoids datetime and strftime per call;
    # the microseconds round as datetime.fromtimestamp rounds them.
    fraction, whole = math.modf(epoch)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    return f"{_iso_second(int(whole))}.{micros // 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_second(whole: int) -> str:
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Interpreter:
    """Runs one execution. Feed it resolutions in recorded order; read ``events`` and status."""

    definition: dict[str, Any]
    info: ExecutionInfo
    timestamps: Callable[[int], float]
    events: list[Emitted] = field(default_factory=list)
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    scheduler: Scheduler = field(default_factory=Scheduler)
    _main_fiber: Fiber | None = None
    last_linked: int = 0
    limit_hit: bool = False
    redrive_count: int = 0
    redriving: bool = False
    # Where a redrive resumes (the state that failed or was aborted on the main line, its
    # input, the variables at its entry); None when the execution cannot be redriven.
    resume_at: tuple[str, Any, dict[str, Any]] | None = None
    # Results of Map iterations / Parallel branches that succeeded before a failure or an
    # abort, by state name: a redrive runs only the ones that did not.
    redrive_memo: dict[str, dict[int, Any]] = field(default_factory=dict)
    # True while an abort cancels the running fibers: they record nothing on the way out
    # (AWS records only ExecutionAborted, no *StateAborted or MapIterationAborted).
    aborting: bool = False
    _root_scope: Scope | None = None
    _resuming: str | None = None
    # The main line's current state: its name, input and scope (set on entry).
    _main_at: tuple[str, Any, Scope] | None = None

    # --- driving -------------------------------------------------------------------------
    def start(self, held: bool = False) -> None:
        """Begin the execution and run until it waits or ends. ``held``: the execution was
        aborted before it ran a state (before its first decision), so only ExecutionStarted
        happens before the abort resolution arrives."""
        self._root_scope = Scope({}, self.definition.get("QueryLanguage", JSONPATH))
        root_scope = self._root_scope
        self._main_fiber = self.scheduler.spawn(lambda f: self._main(f, root_scope, held), None, 0)
        self.scheduler.run()

    def resolve(self, seq: int, value: Any) -> None:
        """Deliver the outcome of request ``seq`` and run until everything waits again."""
        if seq == ABORT_REQUEST:
            self._abort(value if isinstance(value, dict) else {})
            return
        if self.scheduler.resolve(seq, value):
            self.scheduler.run()

    @property
    def pending(self) -> list[Request]:
        """Requests still waiting on the outside world."""
        return [request for _, request in self.scheduler.pending.values()]

    def _main(self, fiber: Fiber, scope: Scope, held: bool) -> Generator[Any, Any, None]:
        self.emit(
            fiber,
            "ExecutionStarted",
            {
                "input": encode(self.info.input),
                "inputDetails": {"truncated": False},
                "roleArn": self.info.role_arn,
            },
        )
        fiber.last_event_id = 0  # the first state links to 0, as AWS records
        if held:
            return
        yield from self._run(fiber, scope, self.info.input, None)

    def _run(
        self, fiber: Fiber, scope: Scope, value: Any, start_at: str | None
    ) -> Generator[Any, Any, None]:
        """Run the machine from ``start_at`` (StartAt when None) to its end; a failure that
        may be redriven waits for the redrive and goes on from the failed state."""
        while True:
            try:
                output = yield from self._run_machine(fiber, value, scope, start_at)
            except StatesError as err:
                timed_out = getattr(err, "execution_timeout", False)
                self.emit(
                    fiber, "ExecutionTimedOut" if timed_out else "ExecutionFailed", err.details()
                )
                self.status = "TIMED_OUT" if timed_out else "FAILED"
                # What the execution reports (DescribeExecution, a .sync parent) leaves out
                # what its ExecutionFailed leaves out: a Fail state without Error or Cause,
                # a timeout's cause (AWS omits the field rather than giving "").
                self.error = None if err.omit_error else err.error
                self.cause = None if err.omit_cause else err.cause
                if self.resume_at is None:
                    return
                # A failed execution may be redriven (RedriveExecution): it then goes on from
                # the state that failed. Until then this request stays open.
                value, start_at = yield from self._await_redrive(fiber, scope)
                continue
            self.emit(
                fiber,
                "ExecutionSucceeded",
                {"output": encode(output), "outputDetails": {"truncated": False}},
            )
            self.status, self.output = "SUCCEEDED", output
            return

    def _await_redrive(self, fiber: Fiber, scope: Scope) -> Generator[Any, Any, tuple[Any, str]]:
        """Wait for RedriveExecution, record it, and say where to go on: (input, state)."""
        yield Await("redrive", {})
        start_at, value, variables = self._redriven(fiber, scope)
        return value, start_at

    def _redriven(self, fiber: Fiber, scope: Scope) -> tuple[str, Any, dict[str, Any]]:
        """Record a redrive (ExecutionRedriven) and restore the variables where it resumes."""
        assert self.resume_at is not None
        self.redrive_count += 1
        self.redriving = True
        self.status, self.error, self.cause = "RUNNING", None, None
        self.emit(fiber, "ExecutionRedriven", {"redriveCount": self.redrive_count})
        resume_at, self.resume_at = self.resume_at, None
        # Only the state the redrive resumes may reuse results, once (a Retry after that, or
        # a later visit, runs everything again).
        self._resuming = resume_at[0]
        self.redrive_memo = {k: v for k, v in self.redrive_memo.items() if k == resume_at[0]}
        scope.variables = dict(resume_at[2])
        return resume_at

    # --- aborting --------------------------------------------------------------------------
    def _abort(self, details: dict[str, Any]) -> None:
        """StopExecution (or the end of the parent of a child execution), delivered as the
        resolution of ``ABORT_REQUEST``: every running fiber stops without a trace, the
        history ends with ExecutionAborted, and the execution waits for a redrive that goes
        on from the main line's current state (AWS: RedriveExecution restarts "failed,
        aborted, or timed out executions" from the unsuccessful step)."""
        scope = self._root_scope
        assert scope is not None
        redriven = False
        if self.status == "RUNNING":
            self.resume_at = self._main_line_state()
        else:
            # Aborted after RedriveExecution reopened the execution but before a decision
            # applied the redrive: the store recorded ExecutionRedriven with the abort, and
            # the execution resumes where the redrive would have.
            redriven = True
        self.aborting = True
        try:
            if self._main_fiber is not None:
                self.scheduler.cancel(self._main_fiber)
        finally:
            self.aborting = False
        self._main_fiber = self.scheduler.spawn(
            lambda f: self._aborted(f, scope, details, redriven), None, len(self.events)
        )
        self.scheduler.run()

    def _main_line_state(self) -> tuple[str, Any, dict[str, Any]]:
        """Where a redrive resumes: the main line's current state, its input and the variables
        it was entered with (they change only when a state exits); StartAt before any."""
        if self._main_at is None:
            return (self.definition["StartAt"], self.info.input, {})
        name, value, scope = self._main_at
        return (name, value, dict(scope.variables))

    def keep_for_redrive(self, call: StateCall, results: dict[int, Any]) -> None:
        """Keep the results of a failing (or aborted) Map's iterations or Parallel's branches
        that succeeded, for a redrive. Only the main line's state keeps them: the memo is
        keyed by state name, and a state nested in a Map runs once per iteration."""
        if call.scope is self._root_scope:
            self.redrive_memo[call.name] = results

    def kept_for_redrive(self, call: StateCall) -> dict[int, Any]:
        """The results kept for the state a redrive resumes, on its first attempt only."""
        if not self.redriving or self._resuming != call.name or call.scope is not self._root_scope:
            return {}
        self._resuming = None
        return self.redrive_memo.pop(call.name, {})

    def _aborted(
        self, fiber: Fiber, scope: Scope, details: dict[str, Any], redriven: bool
    ) -> Generator[Any, Any, None]:
        if redriven and self.resume_at is not None:
            # The redrive is recorded, and the abort comes before the state it resumes.
            self.resume_at = self._redriven(fiber, scope)
        self.emit(fiber, "ExecutionAborted", details)
        self.status, self.output = "ABORTED", None
        self.error, self.cause = details.get("error"), details.get("cause")
        if self.resume_at is None:
            return
        value, start_at = yield from self._await_redrive(fiber, scope)
        yield from self._run(fiber, scope, value, start_at)

    def _run_machine(
        self, fiber: Fiber, value: Any, scope: Scope, start_at: str | None
    ) -> Generator[Any, Any, Any]:
        """Run the top-level program, bounded by the machine's TimeoutSeconds if it has one."""
        timeout = self.definition.get("TimeoutSeconds")
        if not timeout:
            return (yield from self.run_program(fiber, self.definition, value, scope, start_at))
        due = self.events[-1].timestamp + float(timeout)
        program = self.spawn(
            fiber, lambda f: self.run_program(f, self.definition, value, scope, start_at)
        )
        watchdog = self.spawn(fiber, lambda f: self._sleep(due))
        yield Join([program, watchdog], fail_fast=True, any_of=True)
        fiber.last_event_id = self.last_linked
        if program.done:
            self.cancel(watchdog)
            if program.error is not None:
                raise program.error
            return program.result
        self.cancel(program)
        fiber.last_event_id = self.last_linked
        timeout_error = StatesError(ErrorName.TIMEOUT, "")
        timeout_error.omit_cause = True
        timeout_error.execution_timeout = True  # type: ignore[attr-defined]
        raise timeout_error

    def _sleep(self, due: float) -> Generator[Any, Any, None]:
        yield self.wait_until(due)

    # --- events ----------------------------------------------------------------------------
    def emit(
        self,
        fiber: Fiber,
        event_type: str,
        details: dict[str, Any] | None,
        link: bool = True,
        meta: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> Emitted:
        """Append an event to the history. ``link`` False leaves the fiber's chain unchanged;
        ``meta`` travels with the event to the store's projections but is not part of it;
        ``at`` is when the event happened elsewhere (a worker took the task), used when it is
        earlier than the time the interpreter would give the event."""
        index = len(self.events)
        if fiber.silent or self.aborting:
            return Emitted(0, 0, event_type, self.timestamps(index), details)
        if index >= MAX_HISTORY_EVENTS - 1 and not event_type.startswith("Execution"):
            # AWS fails an execution whose history reaches 25,000 events. Only the terminal
            # event may still be written; anything else after the limit is dropped.
            if not self.limit_hit:
                self.limit_hit = True
                raise StatesError(
                    ErrorName.RUNTIME,
                    f"The execution reached the maximum number of history events "
                    f"({MAX_HISTORY_EVENTS}).",
                )
            return Emitted(0, 0, event_type, self.timestamps(index), details)
        stamp = self.timestamps(index)
        if at is not None:
            stamp = min(stamp, at)
        event = Emitted(index + 1, fiber.last_event_id, event_type, stamp, details, meta)
        self.events.append(event)
        if link:
            fiber.last_event_id = event.id
            self.last_linked = event.id
        return event

    # --- programs and states ---------------------------------------------------------------
    def run_program(
        self,
        fiber: Fiber,
        program: dict[str, Any],
        value: Any,
        scope: Scope,
        start_at: str | None = None,
    ) -> Generator[Any, Any, Any]:
        """Run StartAt..End of a program (the machine, a branch, a processor); return its output."""
        from engine.asl.states import HANDLERS

        states = program["States"]
        name: str | None = start_at or program["StartAt"]
        main_line = program is self.definition
        while name is not None:
            state = states[name]
            if main_line:
                self._main_at = (name, value, scope)
            entered = self.emit(
                fiber,
                f"{state['Type']}StateEntered",
                {"name": name, "input": encode(value), "inputDetails": {"truncated": False}},
            )
            ctx = EvalContext(
                name, entered.id, self.context_object(scope, name, entered), scope.variables
            )
            call = StateCall(name, state, value, fiber, scope, ctx, entered)
            yield Yield()
            try:
                outcome = yield from HANDLERS[state["Type"]](self, call)
            except StatesError as err:
                self._report_evaluation_failure(fiber, call, err)
                if main_line:  # a redrive resumes the failed state
                    self.resume_at = self._main_line_state()
                elif state["Type"] in _LEFT_OPEN_BY_FAILURE:
                    fiber.open_state = state["Type"]
                raise
            except GeneratorExit:
                # The branch or iteration running this state was cancelled (a sibling failed,
                # the machine timed out); an abort records nothing (``emit``).
                if state["Type"] in _ABORTABLE:
                    self.emit(fiber, f"{state['Type']}StateAborted", None)
                if main_line and not self.aborting:
                    # The machine's TimeoutSeconds passed: a redrive resumes this state.
                    self.resume_at = self._main_line_state()
                raise
            self.check_size(outcome.output, call)
            if outcome.exited:
                details: dict[str, Any] = {
                    "name": name,
                    "output": encode(outcome.output),
                    "outputDetails": {"truncated": False},
                }
                if outcome.assigned:
                    details["assignedVariables"] = {
                        key: encode(val) for key, val in outcome.assigned.items()
                    }
                    details["assignedVariablesDetails"] = {"truncated": False}
                self.emit(fiber, f"{state['Type']}StateExited", details)
            if outcome.assigned:
                scope.variables.update(outcome.assigned)
            value, name = outcome.output, outcome.next
        return value

    def _report_evaluation_failure(self, fiber: Fiber, call: StateCall, err: StatesError) -> None:
        """A JSONata evaluation error is recorded as EvaluationFailed before the error
        propagates, as AWS records it."""
        if err.error != ErrorName.QUERY_EVALUATION_ERROR or getattr(err, "reported", False):
            return
        err.reported = True  # type: ignore[attr-defined]
        details: dict[str, Any] = {"cause": err.cause, "error": err.error}
        match = _FIELD_IN_CAUSE.search(err.cause)
        location = match.group(1) if match else getattr(err, "location", None)
        if location is not None:
            details["location"] = location
        details["state"] = call.name
        if not hasattr(err, "location"):
            # A failure while evaluating the state's expressions is recorded as linked to the
            # event before the state was entered (the recorded AWS histories show this);
            # a value rejected after evaluation (a Wait timestamp) links to the entry.
            fiber.last_event_id = call.entered.previous_event_id
        self.emit(fiber, "EvaluationFailed", details)

    def report_failure(self, fiber: Fiber, call: StateCall, err: StatesError) -> None:
        """Public form of the EvaluationFailed report, for handlers that catch errors."""
        self._report_evaluation_failure(fiber, call, err)

    def context_object(self, scope: Scope, state_name: str, entered: Emitted) -> dict[str, Any]:
        """``$$`` for a state entered by ``entered``."""
        info = self.info
        context: dict[str, Any] = {
            "Execution": {
                "Id": info.execution_arn,
                "Input": info.input,
                "StartTime": iso_timestamp(info.start_time),
                "Name": info.name,
                "RoleArn": info.role_arn,
                "RedriveCount": self.redrive_count,
            },
            "StateMachine": {"Id": info.state_machine_arn, "Name": info.state_machine_name},
            "State": {"Name": state_name, "EnteredTime": iso_timestamp(entered.timestamp)},
        }
        if scope.map_item is not None:
            context["Map"] = {"Item": scope.map_item}
        return context

    def check_size(self, value: Any, call: StateCall) -> None:
        """AWS fails a state whose output passes 256 KiB with States.DataLimitExceeded."""
        if payload_size(value) > MAX_PAYLOAD_BYTES:
            raise StatesError(
                ErrorName.DATA_LIMIT_EXCEEDED,
                f"The state/task '{call.name}' returned a result with a size exceeding the "
                f"maximum number of bytes service limit.",
            )

    def spawn(
        self,
        parent: Fiber,
        make_body: Callable[[Fiber], Generator[Any, Any, Any]],
        silent: bool = False,
    ) -> Fiber:
        """Start a child fiber (a branch or an iteration) chained after the parent's last event."""
        fiber = self.scheduler.spawn(make_body, parent, self.last_linked)
        fiber.silent = silent or parent.silent
        return fiber

    def abort_open_states(self, fibers: list[Fiber]) -> None:
        """Record the states that failed ``fibers`` (branches or iterations that a failing
        Parallel or Map tears down) as aborted, after the aborts of the siblings it cancelled.

        AWS records TaskStateAborted for a Task whose failure ended its branch or iteration,
        after its TaskFailed or TaskTimedOut (and after MapIterationFailed), and before the
        Parallel or Map fails or retries. The abort is not linked: the next event of the
        Parallel or Map follows the failure (recorded AWS histories: a Parallel retried after
        its branch's Lambda task failed, a Map whose Lambda tasks timed out).
        """
        for fiber in fibers:
            if fiber.open_state is not None:
                self.emit(fiber, f"{fiber.open_state}StateAborted", None, link=False)
                fiber.open_state = None

    def join(self, fibers: list[Fiber], fail_fast: bool = True) -> Join:
        """The operation a fiber yields to wait on children."""
        return Join(fibers, fail_fast=fail_fast)

    def cancel(self, fiber: Fiber) -> None:
        """Abort a child fiber and everything under it."""
        self.scheduler.cancel(fiber)

    def await_task(self, call: StateCall, payload: dict[str, Any]) -> Await:
        """The operation a Task state yields to hand its work to the outside world."""
        return Await("task", {**payload, "state": call.name})

    def wait_until(self, due: float) -> Await:
        """The operation a fiber yields to sleep until ``due`` (epoch seconds)."""
        return Await("timer", {"due": due})

    # --- data flow shared by the state handlers --------------------------------------------
    def effective_input(self, call: StateCall, template_field: str = "Parameters") -> Any:
        """JSONPath: InputPath then Parameters (or ItemSelector) applied to the state input."""
        value = paths.apply_input_path(call.state.get("InputPath", "$"), call.input, call.ctx)
        template = call.state.get(template_field)
        if template is not None:
            value = paths.evaluate_payload(template, value, call.ctx, field=template_field)
        return value

    def finish(self, call: StateCall, result: Any, next_state: str | None) -> Outcome:
        """Turn a state's result into its output: JSONata Output/Assign, or JSONPath
        ResultSelector, ResultPath, OutputPath and Assign."""
        state = call.state
        if call.jsonata:
            from engine.asl import jsonata

            binding = call.states_binding(result=result)
            assigned = None
            if "Assign" in state:
                assigned = jsonata.evaluate_assign(state["Assign"], binding, call.ctx)
            if "Output" in state:
                output = jsonata.evaluate_field(state["Output"], "Output", binding, call.ctx)
            else:
                output = result
            return Outcome(output, next_state, assigned)
        if "ResultSelector" in state:
            result = paths.evaluate_payload(
                state["ResultSelector"], result, call.ctx, field="ResultSelector"
            )
        assigned = None
        if "Assign" in state:
            assigned = paths.evaluate_assign(state["Assign"], result, call.ctx)
        value = paths.apply_result_path(state.get("ResultPath", "$"), call.input, result, call.ctx)
        value = paths.apply_output_path(state.get("OutputPath", "$"), value, call.ctx)
        return Outcome(value, next_state, assigned)


def next_of(state: dict[str, Any]) -> str | None:
    """The state's Next, or None when it has End: true."""
    return None if state.get("End") else state.get("Next")
