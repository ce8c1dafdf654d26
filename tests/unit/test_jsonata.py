"""QueryLanguage JSONata: expressions, AWS's error causes, its extra functions and our bounds.

Where AWS recorded the answer (``conformance/cases``), the expected values and causes are copied
from there; the last tests replay every single-Pass-state JSONata case it holds.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from engine.asl import jsonata
from engine.asl.context import EvalContext
from engine.asl.errors import StatesError
from engine.asl.jsonata import evaluate_assign, evaluate_field, is_expression, json_type

PREFIX = "An error occurred while executing the state 'State0' (entered at the event id #2). "
ENTERED = "2024-11-06T09:42:03.123Z"
ENTERED_MILLIS = 1730886123123


def context(variables: dict[str, Any] | None = None, state: str = "State0", event: int = 2):
    return EvalContext(
        state_name=state,
        entered_event_id=event,
        context_object={"State": {"Name": state, "EnteredTime": ENTERED}},
        variables=variables or {},
    )


def states(value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"input": {} if value is None else value, "context": {}, **extra}


def evaluate(value: Any, data: Any = None, field: str = "Output", **variables: Any) -> Any:
    return evaluate_field(value, field, states(data), context(variables))


def failure(value: Any, data: Any = None, field: str = "Output", **variables: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        evaluate(value, data, field, **variables)
    assert caught.value.error == "States.QueryEvaluationError"
    return caught.value


# --- What counts as an expression -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $states.input %}", True),
        ("{%$x%}", True),
        ("{%   1   %}", True),
        (" {% states.input %} ", False),  # AWS keeps it as a literal (outputdecl BASE_LITERALS)
        ("{% 1 %} ", False),
        ("value {% 1 %}", False),
        ("$states.input", False),
        ("{%}", False),
        (None, False),
        (1, False),
        (["{% 1 %}"], False),
    ],
)
def test_is_expression(value: Any, expected: bool) -> None:
    assert is_expression(value) is expected


def test_literals_and_strings_that_merely_contain_delimiters_are_returned_as_they_are() -> None:
    template = {
        "null": None,
        "int": 0,
        "float": 0.1,
        "bool": True,
        "padded": " {% states.input %} ",
        "inside": "a {% 1 %} b",
        "jsonpath": "$.input_value",
        "intrinsic": "States.Format('Format:{}', 101)",
        "list": [None, 0, 0.1, True, [], {"constant": 0}, "$no.such.var.path"],
        "empty": {},
    }
    assert evaluate(template) == template
    for literal in (None, 0, 0.1, True, "string literal", []):
        assert evaluate(literal) == literal


def test_nested_expressions_are_evaluated_in_objects_and_arrays() -> None:
    data = {"input_value": "x"}
    template = [None, "{% $states.input %}", {"key": "{% true %}", "deep": ["{% 1 + 1 %}"]}]
    assert evaluate(template, data) == [None, data, {"key": True, "deep": [2]}]


def test_states_and_variables_are_bound() -> None:
    bound = states({"n": [1, 2, 3]}, result={"r": 1}, errorOutput={"Error": "E"})
    ctx = context({"constant": 1, "name": "v"})
    value = {
        "sum": "{% $sum($states.input.n) + $constant %}",
        "result": "{% $states.result.r %}",
        "error": "{% $states.errorOutput.Error %}",
        "var": "{% $name %}",
    }
    assert evaluate_field(value, "Output", bound, ctx) == {
        "sum": 7,
        "result": 1,
        "error": "E",
        "var": "v",
    }


def test_the_result_never_aliases_the_input() -> None:
    data = {"a": {"b": [1]}}
    result = evaluate("{% $states.input %}", data)
    assert result == data
    result["a"]["b"].append(2)
    assert data == {"a": {"b": [1]}}


def test_path_results_follow_jsonata_sequences() -> None:
    data = {"items": [{"n": 3}, {"n": 9}], "one": [{"n": 3}]}
    assert evaluate("{% $states.input.items.n %}", data) == [3, 9]
    assert evaluate("{% $states.input.one.n %}", data) == 3


# --- Numbers, null and undefined ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{% 6 / 2 %}", 3),
        ("{% 7 / 2 %}", 3.5),
        ("{% 1.0 %}", 1),
        ("{% -0 %}", 0),
        ("{% $number('2') %}", 2),
        ("{% $states.input.f %}", 2),
        ("{% $states.input.f * 1.5 %}", 3),
        ("{% [1.0, 2.5, {'x': 4.0}] %}", [1, 2.5, {"x": 4}]),
    ],
)
def test_integral_numbers_come_out_as_integers(expression: str, expected: Any) -> None:
    result = evaluate(expression, {"f": 2.0})
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)


def test_null_is_a_value_and_undefined_is_an_error() -> None:
    assert evaluate("{% null %}") is None
    assert evaluate("{% [null, 1] %}") == [None, 1]
    assert evaluate("{% $states.input.n %}", {"n": None}) is None
    assert evaluate("{% $parse('null') %}") is None
    assert failure("{% $doesNotExist %}").cause == (
        PREFIX + "The JSONata expression '$doesNotExist' specified for the field 'Output' "
        "returned nothing (undefined)."
    )


@pytest.mark.parametrize(
    ("template", "field", "path"),
    [
        ("{% $doesNotExist %}", "Arguments", "Arguments"),
        ({"FunctionName": "{% $doesNotExist %}"}, "Arguments", "Arguments/FunctionName"),
        ({"result": "{% $doesNotExist %}"}, "Output", "Output/result"),
        (["{% 1 %}", {"y": ["{% $doesNotExist %}"]}], "Items", "Items[1]/y[0]"),
    ],
)
def test_the_cause_names_the_field_path(template: Any, field: str, path: str) -> None:
    assert failure(template, field=field).cause == (
        PREFIX + f"The JSONata expression '$doesNotExist' specified for the field '{path}' "
        "returned nothing (undefined)."
    )


def test_the_cause_names_the_state_and_its_entered_event() -> None:
    ctx = context(state="State2", event=6)
    with pytest.raises(StatesError) as caught:
        evaluate_field({"result": "{% $doesNotExist %}"}, "Output", states(), ctx)
    assert caught.value.cause == (
        "An error occurred while executing the state 'State2' (entered at the event id #6). "
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned "
        "nothing (undefined)."
    )


def test_a_function_result_is_unsupported() -> None:
    cause = failure("{% $fn := function($x){$x} %}", field="Items").cause
    assert cause == (
        PREFIX + "The JSONata expression '$fn := function($x){$x}' specified for the field "
        "'Items' returned an unsupported result type."
    )
    assert "unsupported result type" in failure("{% {'f': function(){1}} %}").cause
    assert "unsupported result type" in failure("{% /ab/ %}").cause


# --- Expected result types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "kind", "shown"),
    [
        ("true", "boolean", "true"),
        ("null", "null", "null"),
        ("1", "number", "1"),
        ("{'foo': 'bar'}", "object", '{"foo":"bar"}'),
        ("'string'", "string", '"string"'),
    ],
)
def test_an_unexpected_result_type_is_reported_as_aws_does(
    expression: str, kind: str, shown: str
) -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_field(
            "{% " + expression + " %}",
            "Items",
            states(),
            context(state="MapIterateState"),
            expect="array",
        )
    assert caught.value.cause == (
        "An error occurred while executing the state 'MapIterateState' (entered at the event id "
        f"#2). The JSONata expression '{expression}' specified for the field 'Items' returned an "
        f"unexpected result type. Expected 'array', but was '{kind}' for value: {shown}"
    )


def test_expect_accepts_the_right_type_even_for_a_singleton_array() -> None:
    assert evaluate_field("{% [1] %}", "Items", states(), context(), expect="array") == [1]
    condition = evaluate_field(
        "{% $states.input.c %}", "Condition", states({"c": False}), context(), expect="boolean"
    )
    assert condition is False


def test_json_type() -> None:
    assert [json_type(v) for v in (None, True, 1, 1.5, "s", [], {})] == [
        "null",
        "boolean",
        "number",
        "number",
        "string",
        "array",
        "object",
    ]


# --- Assign ---------------------------------------------------------------------------------------


def test_assign_evaluates_every_value_against_the_variables_before_the_state() -> None:
    ctx = context({"x": 1})
    assigned = evaluate_assign(
        {"x": "{% $x + 1 %}", "y": "{% $x %}", "obj": {"z": "{% $states.input.a %}"}, "c": 5},
        states({"a": "A"}),
        ctx,
    )
    assert assigned == {"x": 2, "y": 1, "obj": {"z": "A"}, "c": 5}
    assert ctx.variables == {"x": 1}


def test_assign_names_the_variable_in_the_cause() -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_assign({"result": "{% $doesNotExist %}"}, states(), context())
    assert caught.value.cause == (
        PREFIX + "The JSONata expression '$doesNotExist' specified for the field 'Assign/result' "
        "returned nothing (undefined)."
    )


# --- JSONata errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "tail"),
    [
        ("'a' + 1", 'T2001: The left side of the "+" operator must evaluate to a number'),
        (
            "$hash(1, 'MD5')",
            'T0410: Argument 1 of function "hash" does not match function signature',
        ),
        ("$eval('1+1')", "T1006: Attempted to invoke a non-function"),
        ("$error('boom')", "D3137: boom"),
        ("1/0", "D1001: Number out of range: Infinity"),
        ("$x +", "S0207: Unexpected end of expression"),
    ],
)
def test_a_thrown_error_carries_the_jsonata_code_and_message(expression: str, tail: str) -> None:
    assert failure("{% " + expression + " %}").cause == (
        PREFIX + f"The JSONata expression '{expression}' specified for the field 'Output' threw an "
        f"error during evaluation. {tail}"
    )


def test_number_refuses_what_jsonata_js_refuses() -> None:
    assert evaluate("{% $number('2') %}") == 2
    assert evaluate("{% $number('1.5e2') %}") == 150
    assert evaluate("{% $number('0x1F') %}") == 31
    assert evaluate("{% $states.input.s ~> $number() %}", {"s": "7.5"}) == 7.5
    for text in ("x", "nan", "Infinity", " 1"):
        cause = failure("{% $number($states.input.s) %}", {"s": text}).cause
        assert cause.endswith(f'D3030: Unable to cast value to a number: "{text}"')


def test_our_own_errors_survive_and_or(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata, "MAX_STEPS", 5_000)
    loop = failure("{% true and ($f := function($n){ $f($n + 1) }; $f(0)) %}").cause
    assert loop.endswith(
        "threw an error during evaluation: the evaluation exceeded 5000 steps; "
        "check for an infinite loop"
    )
    partition = failure("{% true and $partition([1], 0) %}").cause
    assert "The chunk size of $partition must be a positive integer" in partition


def test_a_library_defect_is_a_query_evaluation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr(jsonata, "_compile", broken)
    assert failure("{% 1 %}").cause.endswith("threw an internal error during evaluation.")


# --- The functions Step Functions adds -----------------------------------------------------------


@pytest.mark.parametrize(
    ("array", "size", "expected"),
    [
        ([0], 1, [[0]]),
        ([0], 5, [[0]]),
        ([0, 1], 1, [[0], [1]]),
        ([0, 1, 2], 2, [[0, 1], [2]]),
        ([0, 1, 2, 3], 3, [[0, 1, 2], [3]]),
        ([0, 1, 2, 3], 4, [[0, 1, 2, 3]]),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
        ([], 2, []),
    ],
)
def test_partition(array: list[int], size: int, expected: list[list[int]]) -> None:
    data = {"fst": array, "snd": size}
    assert evaluate("{% $partition($states.input.fst, $states.input.snd) %}", data) == expected


@pytest.mark.parametrize("size", [0, -1, 1.5])
def test_partition_needs_a_positive_integer_size(size: float) -> None:
    cause = failure("{% $partition([1, 2], $states.input.s) %}", {"s": size}).cause
    assert "threw an error during evaluation: The chunk size of $partition" in cause


@pytest.mark.parametrize(
    ("start", "end", "step", "expected"),
    [
        (0, 9, 3, [0, 3, 6, 9]),
        (0, 10, 3, [0, 3, 6, 9]),
        (1, 9, 2, [1, 3, 5, 7, 9]),
        (1, 9, 9, 1),  # a one-item sequence: AWS answers 1, not [1]
        (0, 10, 2, [0, 2, 4, 6, 8, 10]),
        (10, 0, -5, [10, 5, 0]),
    ],
)
def test_range(start: int, end: int, step: int, expected: Any) -> None:
    assert evaluate(f"{{% $range({start}, {end}, {step}) %}}") == expected


def test_range_refuses_a_zero_step_fractions_and_huge_sizes() -> None:
    assert "The step of $range must not be 0" in failure("{% $range(0, 10, 0) %}").cause
    assert "must be an integer" in failure("{% $range(0.5, 10, 1) %}").cause
    assert "D2014" in failure("{% $range(0, 1e12, 1) %}").cause
    assert "returned nothing (undefined)" in failure("{% $range(5, 1, 1) %}").cause


@pytest.mark.parametrize(
    ("algorithm", "name"),
    [
        ("MD5", "md5"),
        ("SHA-1", "sha1"),
        ("SHA-256", "sha256"),
        ("SHA-384", "sha384"),
        ("SHA-512", "sha512"),
    ],
)
def test_hash(algorithm: str, name: str) -> None:
    text = "Hash this string"
    expected = hashlib.new(name, text.encode()).hexdigest()
    assert evaluate(f"{{% $hash('{text}', '{algorithm}') %}}") == expected


def test_hash_matches_the_recorded_aws_digest_and_refuses_other_algorithms() -> None:
    digest = "1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e"
    assert evaluate("{% $hash('Hash this string', 'SHA-256') %}") == digest
    assert (
        "The hash algorithm 'sha256' is not supported"
        in failure("{% $hash('a', 'sha256') %}").cause
    )


def test_random() -> None:
    for _ in range(20):
        assert 0 <= evaluate("{% $random() %}") < 1
    seeded = evaluate("{% $random(42) %}")
    assert 0 <= seeded < 1
    assert evaluate("{% $random(42) %}") == seeded
    assert evaluate("{% $random(7) %}") != seeded


def test_uuid_is_version_4() -> None:
    first, second = evaluate("{% $uuid() %}"), evaluate("{% $uuid() %}")
    pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
    assert re.match(pattern, first)
    assert first != second


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-0", 0),
        ("1", 1),
        ("1.1", 1.1),
        ("true", True),
        ('"HelloWorld"', "HelloWorld"),
        ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
        ('{"a": [null]}', {"a": [None]}),
    ],
)
def test_parse(text: str, expected: Any) -> None:
    result = evaluate("{% $parse($states.input.s) %}", {"s": text})
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)


@pytest.mark.parametrize("text", ["not json", "NaN", "{"])
def test_parse_refuses_what_is_not_json(text: str) -> None:
    cause = failure("{% $parse($states.input.s) %}", {"s": text}).cause
    assert "The string given to $parse is not valid JSON" in cause


def test_now_and_millis_are_the_time_the_state_was_entered() -> None:
    assert evaluate("{% $now() %}") == ENTERED
    assert evaluate("{% $millis() %}") == ENTERED_MILLIS
    assert evaluate("{% $now('[Y0001]') %}") == "2024"


def test_a_workflow_variable_shadows_a_function_of_the_same_name() -> None:
    assert evaluate("{% $uuid %}", uuid="mine") == "mine"


# --- Bounds on pathological expressions ----------------------------------------------------------


def timed(value: str) -> tuple[StatesError, float]:
    started = time.perf_counter()
    error = failure(value)
    return error, time.perf_counter() - started


def test_deep_recursion_fails_fast_with_stack_overflow() -> None:
    error, seconds = timed("{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}")
    assert "D1011: Stack overflow" in error.cause
    assert seconds < 2


def test_python_recursion_limit_is_a_query_evaluation_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jsonata, "MAX_DEPTH", 10**9)
    error, seconds = timed("{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}")
    assert "D1011: Stack overflow" in error.cause
    assert seconds < 5


def test_moderate_recursion_still_works() -> None:
    assert evaluate("{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100)) %}") == 100


def test_an_infinite_loop_stops_at_the_step_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata, "MAX_STEPS", 20_000)
    error, seconds = timed("{% ($f := function($n){ $f($n + 1) }; $f(0)) %}")
    assert "exceeded 20000 steps" in error.cause
    assert seconds < 2


def test_huge_ranges_and_strings_fail_instead_of_exhausting_memory() -> None:
    assert "D2014" in failure("{% [1..9000000] ~> $count() %}").cause
    doubling = "; ".join(["$s := $s & $s & $s & $s"] * 14)
    error = failure("{% ($s := 'xxxxxxxxxxxxxxxx'; " + doubling + "; $length($s)) %}")
    assert "memory limit" in error.cause


# --- Caching and threads -----------------------------------------------------------------------


def test_compiled_expressions_are_cached() -> None:
    expression = "{% $states.input.cached_marker_1 %}"
    evaluate(expression, {"cached_marker_1": 1})
    before = jsonata._compile.cache_info().hits
    assert evaluate(expression, {"cached_marker_1": 2}) == 2
    assert jsonata._compile.cache_info().hits == before + 1


def test_concurrent_evaluations_do_not_interfere() -> None:
    expression = "{% $sum($map($states.input.n, function($v){ $v * $k })) %}"
    errors: list[str] = []

    def worker(k: int) -> None:
        for n in range(1, 50):
            data = {"n": list(range(n))}
            try:
                got = evaluate_field(expression, "Output", states(data), context({"k": k}))
            except StatesError as error:
                got = error.cause
            if got != k * sum(range(n)):
                errors.append(f"k={k} n={n} got={got}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# --- Recorded AWS executions --------------------------------------------------------------------

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "cases"


def _single_pass_cases() -> list[Any]:
    """Cases whose machine is one JSONata Pass state with an Output and no variables."""
    if not CASES.is_dir():
        return []
    found = []
    for path in sorted(CASES.glob("*.json")):
        case = json.loads(path.read_text())
        definition = case.get("definition") or {}
        machine_states = definition.get("States") or {}
        if case.get("kind") != "execution" or len(machine_states) != 1:
            continue
        state = next(iter(machine_states.values()))
        language = state.get("QueryLanguage", definition.get("QueryLanguage"))
        if language != "JSONata" or state.get("Type") != "Pass" or "Output" not in state:
            continue
        if "$states.context" in json.dumps(state["Output"]):
            continue
        found.append(pytest.param(case, id=case["id"]))
    return found


@pytest.mark.parametrize("case", _single_pass_cases())
def test_recorded_single_pass_state(case: dict[str, Any]) -> None:
    name, state = next(iter(case["definition"]["States"].items()))
    data = json.loads(case["input"])
    expect = case["expect"]
    ctx = context(state=name)
    if expect["status"] == "SUCCEEDED":
        output = expect["output"]
        expected = json.loads(output) if isinstance(output, str) else output
        assert evaluate_field(state["Output"], "Output", states(data), ctx) == expected
    else:
        with pytest.raises(StatesError) as caught:
            evaluate_field(state["Output"], "Output", states(data), ctx)
        assert (caught.value.error, caught.value.cause) == (expect["error"], expect["cause"])


def test_the_recorded_cases_were_found() -> None:
    if not CASES.is_dir():
        pytest.skip("the conformance cases are not checked out next to the project")
    assert len(_single_pass_cases()) >= 35


# --- JSON null in variables and $states -------------------------------------------------------


def test_a_variable_or_input_holding_null_reads_as_null_not_undefined() -> None:
    assert evaluate("{% $v %}", v=None) is None  # null, not "returned nothing (undefined)"
    assert evaluate("{% $type($v) %}", v=None) == "null"
    assert evaluate("{% [$v, 1] %}", v=None) == [None, 1]
    assert evaluate_field("{% $type($states.input) %}", "Output", {"input": None}, context()) == (
        "null"
    )
    assert failure("{% $missing %}").cause.endswith("returned nothing (undefined).")
