"""JSONPath data flow: InputPath -> Parameters -> ResultSelector -> ResultPath -> OutputPath.

ASL spec, "Input and Output Processing"; AWS developer guide, "Processing input and output in
Step Functions". A path reads the state's data (``$``), the context object (``$$``) or a
workflow variable (``$name``, AWS "Passing data between states with variables").

Values are never deep-copied: paths return references into the data, payload templates build
new containers only where the template has them, and ResultPath copies just the containers on
the way to the insertion point. Everything downstream treats JSON values as immutable.
"""

from __future__ import annotations

from typing import Any

# intrinsics imports this module too; both refer to each other through module attributes
# at call time, which is what makes the cycle safe.
from engine.asl import intrinsics
from engine.asl.context import EvalContext
from engine.asl.errors import ErrorName, StatesError
from engine.asl.jsonpath import (
    MISSING,
    ROOT_CONTEXT,
    ROOT_INPUT,
    ROOT_VARIABLE,
    CompiledPath,
    Index,
    Key,
    PathSyntaxError,
    compile_path,
    find,
)
from engine.asl.jsonvalue import encode


def error_prefix(ctx: EvalContext) -> str:
    """The opening AWS puts on every runtime cause raised while a state evaluates."""
    return (
        f"An error occurred while executing the state '{ctx.state_name}' "
        f"(entered at the event id #{ctx.entered_event_id}). "
    )


def validate_path_syntax(path: str) -> str | None:
    """A description of what is wrong with ``path`` as a JSONPath, or None when it is valid."""
    try:
        compile_path(path)
    except PathSyntaxError as exc:
        return str(exc)
    return None


def validate_reference_path(path: str) -> str | None:
    """Like validate_path_syntax, for a Reference Path (ResultPath, *Path comparisons): it must
    identify a single node, so wildcards, deep scans, slices and filters are refused."""
    problem = validate_path_syntax(path)
    if problem is not None:
        return problem
    if not compile_path(path).definite:
        return "a reference path must identify a single node"
    return None


def _root_value(compiled: CompiledPath, data: Any, ctx: EvalContext) -> Any:
    if compiled.root == ROOT_CONTEXT:
        return ctx.context_object
    if compiled.root == ROOT_VARIABLE:
        return ctx.variables.get(compiled.variable or "", MISSING)
    return data


def _compile(path: str, ctx: EvalContext) -> CompiledPath:
    try:
        return compile_path(path)
    except PathSyntaxError as exc:
        raise StatesError(
            ErrorName.RUNTIME, f"{error_prefix(ctx)}Invalid path '{path}' : {exc}"
        ) from None


def lookup(path: str, data: Any, ctx: EvalContext) -> Any:
    """The value ``path`` selects, or MISSING when a definite path matches nothing.

    An indefinite path (wildcards, ``..``, slices, filters) always yields a list.
    """
    return _select(_compile(path, ctx), data, ctx)


def _select(compiled: CompiledPath, data: Any, ctx: EvalContext) -> Any:
    root = _root_value(compiled, data, ctx)
    if root is MISSING or (not compiled.steps and compiled.filter_expr is None):
        return root
    return find(compiled, root)


def read_path(path: str, data: Any, ctx: EvalContext, field: str | None = None) -> Any:
    """Evaluate ``path`` over ``data`` ($), ``ctx.context_object`` ($$) or ``ctx.variables``.

    A definite path that matches nothing raises States.Runtime. AWS words the cause two ways:
    for state fields such as InputPath, OutputPath or TimeoutSecondsPath, "Invalid path '$.x' :
    No results for path: $['x']"; for payload template entries and Fail's ErrorPath/CausePath,
    "The JSONPath '$.x' specified for the field 'f' could not be found in the input '...'" --
    pass ``field`` to get the second form.
    """
    value = lookup(path, data, ctx)
    if value is MISSING:
        raise path_not_found(path, data, ctx, field)
    return value


def path_not_found(path: str, data: Any, ctx: EvalContext, field: str | None) -> StatesError:
    """The States.Runtime error for a path that matched nothing (see read_path)."""
    if field is not None:
        compiled = compile_path(path)
        source = ctx.context_object if compiled.root == ROOT_CONTEXT else data
        return StatesError(
            ErrorName.RUNTIME,
            f"{error_prefix(ctx)}The JSONPath '{path}' specified for the field '{field}' "
            f"could not be found in the input '{encode(source)}'",
        )
    return StatesError(
        ErrorName.RUNTIME,
        f"{error_prefix(ctx)}Invalid path '{path}' : No results for path: "
        f"{compile_path(path).normalized()}",
    )


# --- payload templates ------------------------------------------------------------------------


def evaluate_payload(template: Any, data: Any, ctx: EvalContext, field: str = "Parameters") -> Any:
    """Build a payload from a template (Parameters, ItemSelector, ResultSelector, ...).

    A key ending in ``.$`` takes a path ($, $$, $var) or an intrinsic function call, and the
    output key drops the suffix; every other value is copied, recursing into objects and arrays
    (ASL spec, "Parameters"). ``field`` names the template; AWS's causes name the entry's key
    ("specified for the field 'x.$'"), so it only travels down for callers' symmetry.
    """
    if type(template) is dict:
        plan = _PLANS.get(id(template))
        if plan is None or plan[0] is not template:
            plan = (template, _plan(template))
            if len(_PLANS) >= _PLAN_CACHE_SIZE:
                _PLANS.clear()
            _PLANS[id(template)] = plan
        out: dict[str, Any] = {}
        for key, kind, arg in plan[1]:
            if kind is _PATH:
                expression, compiled, source = arg
                value = _select(compiled, data, ctx)
                if value is MISSING:
                    raise path_not_found(expression, data, ctx, source)
                out[key] = value
            elif kind is _CALL:
                out[key] = intrinsics.evaluate_call(arg, data, ctx)
            elif kind is _NESTED:
                out[key] = evaluate_payload(arg, data, ctx, field)
            elif kind is _STATIC:
                out[key] = arg
            else:
                out[key] = _dynamic_value(arg[0], arg[1], data, ctx)
        return out
    if type(template) is list:
        return [evaluate_payload(item, data, ctx, field) for item in template]
    return template


# A template is read once into a plan of its entries -- what each key is (a compiled path, a
# parsed intrinsic call, a nested template, a constant) -- instead of classifying and looking
# up every key's expression on every evaluation. Plans are keyed by the template object (the
# definition's own dict, which the plan keeps alive so that its id cannot be reused).
_PATH, _CALL, _NESTED, _STATIC, _CHECKED = "path", "call", "nested", "static", "checked"
_PLAN_CACHE_SIZE = 4096
_PLANS: dict[int, tuple[dict[str, Any], list[tuple[str, str, Any]]]] = {}


def _plan(template: dict[str, Any]) -> list[tuple[str, str, Any]]:
    entries: list[tuple[str, str, Any]] = []
    for key, value in template.items():
        if not key.endswith(".$"):
            nested = type(value) is dict or type(value) is list
            entries.append((key, _NESTED if nested else _STATIC, value))
            continue
        entry: tuple[str, str, Any] = (key[:-2], _CHECKED, (key, value))
        try:
            if isinstance(value, str) and intrinsics.is_intrinsic(value):
                entry = (key[:-2], _CALL, intrinsics.parse_intrinsic(value))
            elif isinstance(value, str):
                entry = (key[:-2], _PATH, (value, compile_path(value), key))
        except (intrinsics.IntrinsicSyntaxError, PathSyntaxError):
            pass  # evaluated the long way, which raises the error each time, as before
        entries.append(entry)
    return entries


def _dynamic_value(key: str, expression: Any, data: Any, ctx: EvalContext) -> Any:
    if not isinstance(expression, str):
        raise StatesError(
            ErrorName.RUNTIME,
            f"{error_prefix(ctx)}The value for the field '{key}' must be a valid JSONPath or a "
            f"valid intrinsic function call",
        )
    if intrinsics.is_intrinsic(expression):
        return intrinsics.evaluate_intrinsic(expression, data, ctx)
    return read_path(expression, data, ctx, field=key)


def evaluate_assign(template: dict[str, Any], data: Any, ctx: EvalContext) -> dict[str, Any]:
    """JSONPath-mode ``Assign``: the new variable bindings, keyed by variable name.

    ``data`` is what ``$`` means in this Assign, which the caller decides (AWS: the state's
    result for Pass/Task/Map/Parallel, the state input for Choice and Wait, the error output in
    a Catcher). Values follow payload-template rules, ``$name`` reads variables as they were
    before this state, and path failures carry the "specified for the field" cause.
    """
    out = evaluate_payload(template, data, ctx, field="Assign")
    assert isinstance(out, dict)
    return out


# --- InputPath, ResultPath, OutputPath --------------------------------------------------------


def apply_input_path(path: str | None, data: Any, ctx: EvalContext) -> Any:
    """InputPath: None (JSON null) gives ``{}``; ``"$"`` the data itself."""
    if path is None:
        return {}
    if path == "$":
        return data
    return read_path(path, data, ctx)


def apply_output_path(path: str | None, data: Any, ctx: EvalContext) -> Any:
    """OutputPath: None (JSON null) gives ``{}``; ``"$"`` the data itself."""
    if path is None:
        return {}
    if path == "$":
        return data
    return read_path(path, data, ctx)


def apply_result_path(path: str | None, state_input: Any, result: Any, ctx: EvalContext) -> Any:
    """ResultPath: place ``result`` into the raw state input.

    None (JSON null) discards the result and passes the input through; ``"$"`` replaces the
    input with the result; a reference path inserts the result, creating missing objects on the
    way. Only the containers along the path are copied. When the path runs into a value that is
    not an object (or an array index that does not exist), AWS fails the state with
    States.ResultPathMatchFailure.
    """
    if path is None:
        return state_input
    if path == "$":
        return result
    compiled = _compile(path, ctx)
    if compiled.root != ROOT_INPUT or not compiled.definite or not compiled.steps:
        raise _result_path_failure(path, state_input, ctx)
    try:
        return _insert(compiled.steps, 0, state_input, result)
    except _NoMatch:
        raise _result_path_failure(path, state_input, ctx) from None


class _NoMatch(Exception):
    """ResultPath ran into a value it cannot insert into."""


def _insert(steps: tuple[Any, ...], depth: int, node: Any, result: Any) -> Any:
    step = steps[depth]
    last = depth == len(steps) - 1
    if type(step) is Key:
        if node is MISSING:
            node = {}
        if type(node) is not dict:
            raise _NoMatch
        copy = dict(node)
        copy[step.name] = (
            result if last else _insert(steps, depth + 1, node.get(step.name, MISSING), result)
        )
        return copy
    if type(step) is Index:
        if type(node) is not list or not -len(node) <= step.index < len(node):
            raise _NoMatch
        items = list(node)
        items[step.index] = result if last else _insert(steps, depth + 1, node[step.index], result)
        return items
    raise _NoMatch


def _result_path_failure(path: str, node: Any, ctx: EvalContext) -> StatesError:
    shown = encode(node) if node is not MISSING else "null"
    return StatesError(
        ErrorName.RESULT_PATH_MATCH_FAILURE,
        f"{error_prefix(ctx)}Unable to apply ReferencePath {path} to input {shown}",
    )
