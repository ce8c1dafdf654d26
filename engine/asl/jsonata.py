"""QueryLanguage JSONata: ``{% %}`` field values, ``$states``, variables and AWS's extra functions.

A JSONata-mode field (``Arguments``, ``Output``, ``Assign``, ``Condition``, ``Items``, ``Seconds``,
...) holds either a JSONata expression written as ``"{% <expr> %}"`` or a JSON value whose nested
strings may be such expressions. Evaluation binds ``$states`` (``input``, ``context`` and, when
available, ``result`` and ``errorOutput``) and every workflow variable as ``$name``; the JSONata
input ``$`` is empty, because AWS refuses ``$`` and bare field names at the top level.

AWS documents the dialect in "Transforming data with JSONata in Step Functions": JSONata 2.0.6,
without ``$eval``, plus ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid`` and
``$parse``. Every failure is a ``States.QueryEvaluationError`` whose cause names the state, the
event that entered it, the expression and the field, worded as AWS words it (the recorded histories
under ``conformance/cases``: ``assign_*``, ``scenarios_*map_state_items_eval_jsonata*``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, NoReturn

from jsonata import Functions, JException, Jsonata, Utils

from engine.asl.context import EvalContext
from engine.asl.errors import ErrorName, StatesError

# Bounds that make a runaway expression fail fast instead of hanging or exhausting the stack. AWS
# fails such expressions with States.QueryEvaluationError too ("stack overflow", "memory limit");
# its exact thresholds are not documented, these are ours.
MAX_STEPS: Final = 500_000  # evaluated AST nodes per expression, about a second of CPU
MAX_DEPTH: Final = 1_000  # nested evaluations; each costs a few Python frames
MAX_SEQUENCE: Final = 1_000_000  # items a range (``[a..b]``, ``$range``) may allocate
MAX_STRING: Final = 16 * 1024 * 1024  # characters of any intermediate string

_HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}

# Floats with an integral value become ints (AWS prints 3, not 3.0) only while they are exact;
# beyond 2**53 a float is no longer an exact integer and stays a float.
_EXACT_INT_LIMIT: Final = 2.0**53

# The epoch milliseconds $now() and $millis() answer for the evaluation in progress.
_NOW_MILLIS: ContextVar[int] = ContextVar("stepwell_jsonata_now_millis")


def is_expression(value: Any) -> bool:
    """Whether ``value`` is a JSONata expression: a string that opens ``{%`` and closes ``%}``.

    The delimiters must be the string's first and last characters: AWS keeps
    ``" {% $states.input %} "`` as a literal string (outputdecl BASE_LITERALS case), and so a
    ``{% %}`` inside a larger string. Whitespace inside the delimiters is part of the syntax.
    """
    return (
        isinstance(value, str)
        and len(value) >= 4
        and value.startswith("{%")
        and value.endswith("%}")
    )


def evaluate_field(
    value: Any,
    field: str,
    states: dict[str, Any],
    ctx: EvalContext,
    *,
    expect: str | None = None,
) -> Any:
    """Evaluate a JSONata-mode field value.

    A ``{% %}`` string is evaluated; an object or array is rebuilt with each nested expression
    evaluated (its field path extended with ``/key`` or ``[index]``, as AWS names it in causes);
    any other value is returned as it is. ``expect`` (``"array"``, ``"object"``, ``"string"``,
    ``"number"``, ``"boolean"``) checks the JSON type a top-level expression returns, with AWS's
    "returned an unexpected result type" cause (Map ``Items``). Raises ``StatesError``
    (``States.QueryEvaluationError``) on any failure.
    """
    evaluator = _FieldEvaluator(states, ctx)
    if is_expression(value):
        result = evaluator.expression(value, field)
        if expect is not None and json_type(result) != expect:
            raise StatesError(
                ErrorName.QUERY_EVALUATION_ERROR,
                _cause(
                    ctx,
                    value,
                    field,
                    f"returned an unexpected result type. Expected '{expect}', but was "
                    f"'{json_type(result)}' for value: {_compact_json(result)}",
                ),
            )
        return result
    return evaluator.template(value, field)


def evaluate_assign(template: dict, states: dict[str, Any], ctx: EvalContext) -> dict[str, Any]:
    """Evaluate a JSONata-mode ``Assign`` object into the variables it assigns.

    Every value sees the variables as they were before the state ran (AWS evaluates all of a
    state's assignments first, then assigns them), so the caller merges the returned dict after.
    """
    evaluator = _FieldEvaluator(states, ctx)
    return {name: evaluator.template(value, f"Assign/{name}") for name, value in template.items()}


def json_type(value: Any) -> str:
    """The JSON type name AWS uses in causes: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _FieldEvaluator:
    """Evaluates the expressions of one field value with bindings built once for all of them."""

    __slots__ = ("_bindings", "_ctx", "_guard", "_now")

    def __init__(self, states: dict[str, Any], ctx: EvalContext) -> None:
        self._ctx = ctx
        self._guard = _Guard()
        self._now = _now_millis(ctx)
        # Functions first so that a workflow variable shadows a function of the same name, the way
        # a JSONata ``$name := ...`` binding does; ``$states`` is reserved and cannot be shadowed.
        self._bindings: dict[str, Any] = dict(_FUNCTIONS)
        # jsonata-python reads a binding of None as undefined; a variable (or $states member)
        # holding JSON null must read as null ("Expected 'array', but was 'null'"). Nulls
        # inside objects and arrays already read as null.
        for name, variable in ctx.variables.items():
            self._bindings[name] = Utils.NULL_VALUE if variable is None else variable
        self._bindings["states"] = {
            key: Utils.NULL_VALUE if member is None else member for key, member in states.items()
        }
        self._bindings["__evaluate_entry"] = self._guard.enter
        self._bindings["__evaluate_exit"] = self._guard.exit

    def template(self, value: Any, field: str) -> Any:
        if is_expression(value):
            return self.expression(value, field)
        if isinstance(value, dict):
            return {key: self.template(item, f"{field}/{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self.template(item, f"{field}[{index}]") for index, item in enumerate(value)]
        return value

    def expression(self, value: str, field: str) -> Any:
        ctx = self._ctx
        text = value[2:-2].strip()
        self._guard.reset()
        token = _NOW_MILLIS.set(self._now)
        try:
            compiled = _compile(text)
            _ensure_thread_instance(compiled)
            result = compiled.evaluate(None, self._bindings)
            if result is None:
                raise StatesError(
                    ErrorName.QUERY_EVALUATION_ERROR,
                    _cause(ctx, value, field, "returned nothing (undefined)."),
                )
            return _to_json(result)
        except StatesError:
            raise
        except _UnsupportedResult:
            detail = "returned an unsupported result type."
        except _StepwellError as err:
            detail = f"threw an error during evaluation: {err.message}"
        except JException as err:
            detail = f"threw an error during evaluation. {err.error}: {_describe(err)}"
        except RecursionError:
            detail = f"threw an error during evaluation. D1011: {_describe(JException('D1011'))}"
        except (ZeroDivisionError, OverflowError):
            # JavaScript's JSONata turns these into Infinity and then fails with D1001.
            infinity = JException("D1001", -1, math.inf)
            detail = f"threw an error during evaluation. D1001: {_describe(infinity)}"
        except MemoryError:
            detail = "threw an error during evaluation: the evaluation exceeded the memory limit"
        except Exception:  # noqa: BLE001 - a library defect is this expression's failure, not ours
            detail = "threw an internal error during evaluation."
        finally:
            _NOW_MILLIS.reset(token)
        raise StatesError(ErrorName.QUERY_EVALUATION_ERROR, _cause(ctx, value, field, detail))


def _cause(ctx: EvalContext, value: str, field: str, detail: str) -> str:
    return (
        f"An error occurred while executing the state '{ctx.state_name}' "
        f"(entered at the event id #{ctx.entered_event_id}). "
        f"The JSONata expression '{value[2:-2].strip()}' specified for the field '{field}' {detail}"
    )


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# jsonata-python's message catalog is a port in which the word "function" became "Object" and
# every insert is printed raw; jsonata-js (and AWS) print "{{x}}" inserts as JSON and "{{{x}}}" raw,
# e.g. 'T0410: Argument 1 of function "hash" does not match function signature'.
_PLACEHOLDER: Final = re.compile(r"\{\{(\{?)\w+\}?\}\}")
_SIGNATURE_TYPES: Final = {
    "n": "numbers",
    "s": "strings",
    "b": "booleans",
    "o": "objects",
    "a": "arrays",
    "f": "functions",
}


def _describe(err: JException) -> str:
    """The message of a JSONata error, rendered the way jsonata-js renders it."""
    template = JException.error_codes.get(err.error)
    if template is None:
        return str(err)
    inserts = iter((err.current, err.expected, err.extra))
    omitted = False

    def fill(match: re.Match[str]) -> str:
        nonlocal omitted
        value = next(inserts, None)
        if value is None:
            # jsonata-python raises some errors without their inserts; leave the gap out.
            omitted = True
            return ""
        if match.group(1):
            return str(value)
        if match.group(0) == "{{type}}":
            value = _SIGNATURE_TYPES.get(value, value)
        return _insert_json(value)

    text = _PLACEHOLDER.sub(fill, template.replace("Object", "function"))
    return " ".join(text.split()) if omitted else text


def _insert_json(value: Any) -> str:
    if value is Utils.NULL_VALUE:
        return "null"
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    except ValueError:  # a circular structure
        return str(value)


def _json_default(value: Any) -> Any:
    return None if value is Utils.NULL_VALUE else str(value)


class _UnsupportedResult(Exception):
    """The expression produced something JSON cannot hold (a function, a regex, NaN)."""


class _StepwellError(JException):
    """A failure raised by our code inside the evaluator.

    A ``JException`` because jsonata-python re-raises those unchanged, while it turns any other
    exception escaping the right side of ``and``/``or`` into an anonymous "Unexpected" error.
    """

    def __init__(self, message: str) -> None:
        super().__init__("Stepwell", -1)
        self.message = message

    def __str__(self) -> str:
        return self.message


class _LimitExceeded(_StepwellError):
    """The expression went past one of our evaluation bounds."""


class _FunctionError(_StepwellError):
    """A Step Functions function (``$partition``, ``$hash``, ...) refused its arguments."""


class _Guard:
    """Counts evaluation steps and depth through jsonata-python's evaluate entry/exit hooks.

    jsonata-python's own ``Timebox`` starts its clock when the expression is compiled, which is
    wrong for a cached expression, so the bounds are counted here, per evaluation, and are
    deterministic: a replay fails at the same step.
    """

    __slots__ = ("depth", "steps")

    def __init__(self) -> None:
        self.steps = 0
        self.depth = 0

    def reset(self) -> None:
        self.steps = 0
        self.depth = 0

    def enter(self, _expr: Any, _input: Any, env: Any) -> None:
        if env.is_parallel_call:
            return
        self.steps += 1
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JException("D1011", -1)
        if self.steps > MAX_STEPS:
            raise _LimitExceeded(
                f"the evaluation exceeded {MAX_STEPS} steps; check for an infinite loop"
            )

    def exit(self, _expr: Any, _input: Any, env: Any, result: Any) -> None:
        if env.is_parallel_call:
            return
        self.depth -= 1
        # Doubling a string or an array a few dozen times exhausts memory in a handful of steps.
        if isinstance(result, str | list) and len(result) > MAX_STRING:
            raise _LimitExceeded("the evaluation exceeded the memory limit")


class _StepwellJsonata(Jsonata):
    """jsonata-python with the range operator bounded by ``MAX_SEQUENCE``."""

    def evaluate_range_expression(self, lhs: Any, rhs: Any) -> Any:
        if _is_int(lhs) and _is_int(rhs) and rhs - lhs + 1 > MAX_SEQUENCE:
            raise JException("D2014", -1, rhs - lhs + 1)
        return super().evaluate_range_expression(lhs, rhs)


@lru_cache(maxsize=4096)
def _compile(text: str) -> Jsonata:
    """Parse once per distinct expression text: parsing costs far more than evaluating."""
    compiled = _StepwellJsonata(text)
    # Keep JSONata's null distinct from undefined: "{% null %}" is a value, "{% $nope %}" is not.
    compiled.set_output_convert_nulls(False)
    return compiled


def _ensure_thread_instance(compiled: Jsonata) -> None:
    # jsonata-python evaluates on a per-thread instance (Jsonata.CURRENT), created by the last
    # compile on that thread or copied from the expression; make sure it is ours, so the range
    # bound applies even on a thread that has only evaluated cached expressions.
    if not isinstance(getattr(Jsonata.CURRENT, "jsonata", None), _StepwellJsonata):
        Jsonata.CURRENT.jsonata = copy.copy(compiled)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_json(value: Any) -> Any:
    """A JSONata result as plain JSON values: sequences as lists, integral floats as ints."""
    if value is None or value is Utils.NULL_VALUE:
        return None
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _UnsupportedResult
        if value.is_integer() and abs(value) < _EXACT_INT_LIMIT:
            return int(value)  # also turns -0.0 into 0, as AWS prints it
        return value
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    raise _UnsupportedResult


def _from_json(value: Any) -> Any:
    """Parsed JSON as JSONata values: a JSON null must stay null, not read as undefined."""
    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, dict):
        return {key: _from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


def _now_millis(ctx: EvalContext) -> int:
    # The interpreter is pure: "now" is when the state was entered, so a replay sees the same
    # instant. Only a context without any time (a unit test) falls back to the wall clock.
    state = ctx.context_object.get("State") or {}
    execution = ctx.context_object.get("Execution") or {}
    stamp = state.get("EnteredTime") or execution.get("StartTime")
    if isinstance(stamp, str):
        try:
            return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            pass
    return int(time.time() * 1000)


# --- The functions Step Functions adds to JSONata ("JSONata functions provided by Step Functions").


def _fail(message: str) -> NoReturn:
    raise _FunctionError(message)


def _partition(array: Any, size: Any) -> Any:
    """``$partition(array, size)``: consecutive chunks of ``size`` items, the last one shorter."""
    if array is None or size is None:
        return None
    if not isinstance(size, int | float) or size != int(size) or size < 1:
        _fail(f"The chunk size of $partition must be a positive integer, got {size!r}")
    step = int(size)
    items = list(array)
    # A plain list, not a sequence: AWS keeps [[0]] for $partition([0], 1).
    return [items[start : start + step] for start in range(0, len(items), step)]


def _range(start: Any, end: Any, step: Any) -> Any:
    """``$range(start, end, step)``: ``start``, ``start + step``, ... up to ``end`` inclusive."""
    if start is None or end is None or step is None:
        return None
    for name, number in (("start", start), ("end", end), ("step", step)):
        if number != int(number):
            _fail(f"The {name} of $range must be an integer, got {number!r}")
    first, last, stride = int(start), int(end), int(step)
    if stride == 0:
        _fail("The step of $range must not be 0")
    count = max(0, (last - first) // stride + 1)
    if count > MAX_SEQUENCE:
        raise JException("D2014", -1, count)
    # A sequence, which JSONata unwraps when it holds one item: AWS answers 1 for $range(1, 9, 9).
    result = Utils.JList(range(first, first + count * stride, stride))
    result.sequence = True
    return result


def _hash(data: Any, algorithm: Any) -> Any:
    """``$hash(value, algorithm)``: the lowercase hex digest of the UTF-8 string."""
    if data is None or algorithm is None:
        return None
    name = _HASH_ALGORITHMS.get(algorithm)
    if name is None:
        _fail(
            f"The hash algorithm '{algorithm}' is not supported; use one of "
            + ", ".join(_HASH_ALGORITHMS)
        )
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> float:
    """``$random([seed])``: a number in [0, 1); the same seed always gives the same number."""
    if seed is None:
        return random.random()
    return random.Random(int(seed) if seed == int(seed) else seed).random()


def _uuid() -> str:
    """``$uuid()``: a version 4 UUID."""
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    """``$parse(jsonString)``: the JSON value a string holds (AWS's replacement for ``$eval``)."""
    if text is None:
        return None
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        _fail(f"The string given to $parse is not valid JSON: {err}")
    return _from_json(parsed)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


# The strings jsonata-js's $number accepts as decimal numbers (JSON number syntax).
_DECIMAL: Final = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?")


def _number(value: Any) -> Any:
    """``$number``: jsonata-python lets Python's ``float()`` fail (or accept "nan") on a bad string;
    jsonata-js refuses anything that is not a JSON number (or 0x/0B/0O literal) with D3030."""
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        if not value.startswith(("0x", "0B", "0O")):
            raise JException("D3030", -1, value)
        try:
            return Functions.number(value)
        except ValueError:
            raise JException("D3030", -1, value) from None
    return Functions.number(value)


def _now(picture: Any = None, timezone: Any = None) -> Any:
    return Functions.datetime_from_millis(_NOW_MILLIS.get(), picture, timezone)


def _millis() -> int:
    return _NOW_MILLIS.get()


class _Native(Jsonata.JFunctionCallable):
    """Adapts a Python function to jsonata-python's function protocol."""

    def __init__(self, implementation: Callable[..., Any]) -> None:
        self._implementation = implementation

    def call(self, input: Any, args: Any) -> Any:  # noqa: A002 - the library's parameter name
        return self._implementation(*(args or ()))


def _function(implementation: Callable[..., Any], signature: str) -> Jsonata.JFunction:
    # The signature makes jsonata-python reject wrongly typed arguments with its usual T0410.
    return Jsonata.JFunction(_Native(implementation), signature)


_FUNCTIONS: Final[dict[str, Any]] = {
    "partition": _function(_partition, "<an:a>"),
    "range": _function(_range, "<nnn:a>"),
    "hash": _function(_hash, "<ss:s>"),
    "random": _function(_random, "<n?:n>"),
    "uuid": _function(_uuid, "<:s>"),
    "parse": _function(_parse, "<s:x>"),
    "number": _function(_number, "<(nsb)-:n>"),
    "now": _function(_now, "<s?s?:s>"),
    "millis": _function(_millis, "<:n>"),
    # AWS removes $eval; an unbound name makes a call fail with T1006 as it does there.
    "eval": None,
}
