"""States.* intrinsic functions: every function, AWS's argument checks, the recorded cases."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl import intrinsics, paths
from engine.asl.context import EvalContext
from engine.asl.errors import StatesError

CASES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"


def make_ctx(variables: dict[str, Any] | None = None) -> EvalContext:
    context = {
        "Execution": {"Name": "run-1"},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:1:stateMachine:my-sm", "Name": "my-sm"},
    }
    return EvalContext("S", 2, context, dict(variables or {}))


def run(text: str, data: Any = None, variables: dict[str, Any] | None = None) -> Any:
    return intrinsics.evaluate_intrinsic(text, data, make_ctx(variables))


def fails(text: str, data: Any = None) -> StatesError:
    with pytest.raises(StatesError) as info:
        run(text, data)
    return info.value


# --- every function ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("States.Format('Hello, {}!', $.name)", {"name": "Ann"}, "Hello, Ann!"),
        ("States.Format('{} {} {} {}', 1, 1.5, true, null)", None, "1 1.5 true null"),
        ("States.Format('{}', $.o)", {"o": {"a": 1, "b": [1, "x"]}}, "{a=1, b=[1, x]}"),
        ("States.Format('\\{\\} {} \\' \\\\', 'x')", None, "{} x ' \\"),
        ("States.Format($.t, $.v)", {"t": "v={}", "v": 3}, "v=3"),
        ("States.Format('Format:{}', 101)", None, "Format:101"),
        ("States.StringToJson($.s)", {"s": '{"a": [1, 2.0]}'}, {"a": [1, 2.0]}),
        ("States.StringToJson($.s)", {"s": " "}, None),
        ("States.StringToJson($.s)", {"s": "-0"}, 0),
        ("States.JsonToString($.o)", {"o": {"a": [1, 2.5, None]}}, '{"a":[1,2.5,null]}'),
        ("States.Array()", None, []),
        ("States.Array(1, 'a', $.x, null)", {"x": {"k": True}}, [1, "a", {"k": True}, None]),
        ("States.ArrayPartition($.a, 2)", {"a": [1, 2, 3, 4, 5]}, [[1, 2], [3, 4], [5]]),
        ("States.ArrayPartition($.a, 5)", {"a": []}, []),
        ("States.ArrayContains($.a, 2)", {"a": [1, 2, 3]}, True),
        ("States.ArrayContains($.a, true)", {"a": [1, 0]}, False),
        ("States.ArrayContains($.a, $.v)", {"a": [{"x": [1]}], "v": {"x": [1]}}, True),
        ("States.ArrayRange(1, 9, 2)", None, [1, 3, 5, 7, 9]),
        ("States.ArrayRange(0, 10, 3)", None, [0, 3, 6, 9]),
        ("States.ArrayRange(5, 1, -2)", None, [5, 3, 1]),
        ("States.ArrayRange(5, 1, 2)", None, []),
        ("States.ArrayGetItem($.a, 1)", {"a": ["x", "y"]}, "y"),
        ("States.ArrayLength($.a)", {"a": [1, [2, 3]]}, 2),
        (
            "States.ArrayUnique($.a)",
            {"a": [1, 2, 2, 1.0, "1", True, {"a": 1}, {"a": 1}]},
            [1, 2, "1", True, {"a": 1}],
        ),
        ("States.Base64Encode('Data to encode')", None, "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", None, "Data to encode"),
        ("States.Hash('input data', 'MD5')", None, "812f45842bc6d66ee14572ce20db8e86"),
        ("States.Hash('input data', 'SHA-1')", None, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "States.JsonMerge($.a, $.b, false)",
            {"a": {"x": 1, "n": {"p": 1}}, "b": {"n": {"q": 2}}},
            {"x": 1, "n": {"q": 2}},
        ),
        ("States.MathAdd(111, -1)", None, 110),
        ("States.MathAdd($.a, 4.3)", {"a": 59}, 63),
        ("States.MathAdd(2.5, -2.5)", None, 1),
        ("States.StringSplit('a,b,,c', ',')", None, ["a", "b", "c"]),
        (
            "States.StringSplit('This.is+a,test=string', '.+,=')",
            None,
            ["This", "is", "a", "test", "string"],
        ),
        ("States.StringSplit('', ',')", None, []),
        (
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
            "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
            None,
            "sm",
        ),
    ],
)
def test_functions(text: str, data: Any, expected: Any) -> None:
    result = run(text, data)
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)  # 1 vs 1.0 matters in outputs


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_hash_algorithms(algorithm: str) -> None:
    digest = hashlib.new(algorithm.replace("-", "").lower(), b"input data").hexdigest()
    assert run(f"States.Hash($.d, '{algorithm}')", {"d": "input data"}) == digest


def test_variables_and_context_as_arguments() -> None:
    assert run("States.Format('{}/{}', $v, $$.Execution.Name)", {}, {"v": "x"}) == "x/run-1"


def test_uuid_is_a_v4_uuid() -> None:
    first, second = run("States.UUID()"), run("States.UUID()")
    assert uuid.UUID(first).version == 4 and first != second


def test_math_random_range_and_seed() -> None:
    for _ in range(200):
        assert 1 <= run("States.MathRandom(1, 5)") < 5
    seeded = [run("States.MathRandom(0, 1000, 42)") for _ in range(3)]
    assert len(set(seeded)) == 1


def test_java_random_matches_the_jvm() -> None:
    # new java.util.Random(42).nextInt() == -1170105035
    assert intrinsics.JavaRandom(42)._next(32) == -1170105035


def test_format_renders_floats_like_java() -> None:
    assert run("States.Format('{} {} {}', 1.0, 1e20, 0.0001)") == "1.0 1.0E20 1.0E-4"


# --- argument checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "detail"),
    [
        ("States.MathAdd(1)", None, "States.MathAdd expects 2 argument(s) but received 1"),
        ("States.UUID(1)", None, "expects 0 argument(s)"),
        ("States.MathRandom(1)", None, "expects 2 to 3 argument(s)"),
        ("States.Format()", None, "expects at least 1 argument(s)"),
        ("States.Format('{} {}', 1)", None, "more placeholders"),
        ("States.Format('{}', 1, 2)", None, "1 placeholder(s) but 2 value(s)"),
        ("States.Format(1)", None, "must be a string, but was number"),
        ("States.ArrayLength($.a)", {"a": "x"}, "must be an array, but was string"),
        ("States.ArrayPartition($.a, 0)", {"a": [1]}, "greater than 0"),
        ("States.ArrayPartition($.a, 1.5)", {"a": [1]}, "must be an integer"),
        ("States.ArrayRange(0, 1000, 1)", None, "maximum is 1000"),
        ("States.ArrayRange(0, 10, 0)", None, "must not be 0"),
        ("States.ArrayRange(0, 'x', 1)", None, "must be an integer"),
        ("States.ArrayGetItem($.a, 2)", {"a": [1, 2]}, "out of bounds"),
        ("States.ArrayGetItem($.a, -1)", {"a": [1, 2]}, "out of bounds"),
        ("States.Base64Decode('***')", None, "not valid base64"),
        ("States.Base64Encode($.s)", {"s": "x" * 10001}, "maximum of 10000 characters"),
        ("States.Hash($.s, 'SHA-3')", {"s": "x"}, "is not one of"),
        ("States.Hash(1, 'MD5')", None, "must be a string"),
        ("States.JsonMerge($.a, $.a, true)", {"a": {}}, "only shallow merging"),
        ("States.JsonMerge($.a, 1, false)", {"a": {}}, "must be an object"),
        ("States.MathAdd('1', 2)", None, "must be a number, but was string"),
        ("States.MathAdd(true, 2)", None, "but was boolean"),
        ("States.MathRandom(5, 5)", None, "must be greater than the start"),
        ("States.StringSplit(1, ',')", None, "must be a string"),
        ("States.StringToJson('{nope')", None, "not valid JSON"),
    ],
)
def test_argument_checks_raise_intrinsic_failure(text: str, data: Any, detail: str) -> None:
    error = fails(text, data)
    assert error.error == "States.IntrinsicFailure"
    assert error.cause.startswith(
        "An error occurred while executing the state 'S' (entered at the event id #2). "
        "The evaluation of the intrinsic function '"
    )
    assert detail in error.cause


def test_array_range_allows_exactly_1000_items() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000


def test_missing_path_argument_is_runtime_error() -> None:
    assert fails("States.Format('{}', $.missing)", {}).error == "States.Runtime"


# --- syntax -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "States.Array()",
        "States.Format('a\\'b {}', $.a[?(@.x == 'p, q')])",
        "States.StringSplit('Hello\nWorld', '\n')",
        "States.Format( '{}' , States.Array( 1 , 2 ) )",
    ],
)
def test_valid_syntax(text: str) -> None:
    assert intrinsics.is_intrinsic(text)
    assert intrinsics.validate_intrinsic_syntax(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "States.Nope(1)",
        "States.Array(",
        "States.Array(1,)",
        "States.Array('unterminated)",
        "States.Array(1) trailing",
        "States.Array(bogus)",
        # Recorded: \" inside an intrinsic string is rejected at creation.
        'States.StringToJson(\'{"text":"An \\"escaped double quote\\" here"}\')',
        "States.MathAdd(1, 2, 3)",
        "States.Array($.a[)",
        "States.Array(" * 11 + ")" * 11,
    ],
)
def test_invalid_syntax(text: str) -> None:
    assert intrinsics.validate_intrinsic_syntax(text) is not None


def test_nesting_up_to_ten_is_valid() -> None:
    assert intrinsics.validate_intrinsic_syntax("States.Array(" * 10 + ")" * 10) is None


def test_is_intrinsic() -> None:
    assert not intrinsics.is_intrinsic("$.a")
    assert not intrinsics.is_intrinsic("States.Format")
    assert intrinsics.is_intrinsic("States.UUID()")


# --- recorded cases ---------------------------------------------------------------------------


def _matches(expected: Any, actual: Any) -> bool:
    if expected == "$ANY":
        return True
    if isinstance(expected, dict) and set(expected) == {"$match"}:
        return isinstance(actual, str) and re.fullmatch(expected["$match"], actual) is not None
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_matches(v, actual[k]) for k, v in expected.items())
        )
    return json.dumps(expected) == json.dumps(actual)


def _intrinsic_cases() -> list[Path]:
    found = []
    for file in sorted(CASES.glob("intrinsic_functions_*.json")):
        case = json.loads(file.read_text())
        states = case["definition"]["States"]
        if case["definition"].get("QueryLanguage") == "JSONata" or len(states) != 1:
            continue
        (state,) = states.values()
        if state["Type"] == "Pass" and "Parameters" in state:
            found.append(file)
    return found


@pytest.mark.parametrize("file", _intrinsic_cases(), ids=lambda p: p.name[20:100])
def test_recorded_intrinsic_cases(file: Path) -> None:
    case = json.loads(file.read_text())
    (state,) = case["definition"]["States"].values()
    ctx = EvalContext(
        "State0",
        2,
        {
            "Execution": {"Name": "exec-name"},
            "StateMachine": {
                "Id": "arn:aws:states:us-east-1:111111111111:stateMachine:sm-name",
                "Name": "sm-name",
            },
        },
        {},
    )
    data = paths.apply_input_path(state.get("InputPath", "$"), json.loads(case["input"]), ctx)
    output = paths.evaluate_payload(state["Parameters"], data, ctx)
    assert case["expect"]["status"] == "SUCCEEDED"
    assert _matches(case["expect"]["output"], output), output


# --- properties -------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)


@given(st.lists(scalars, max_size=30), st.integers(min_value=1, max_value=10))
def test_partition_preserves_order_and_sizes(items: list[Any], size: int) -> None:
    chunks = run(f"States.ArrayPartition($.a, {size})", {"a": items})
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert not chunks or 1 <= len(chunks[-1]) <= size


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool))
def test_array_range_matches_python_range(start: int, end: int, step: int) -> None:
    stop = end + (1 if step > 0 else -1)
    assert run(f"States.ArrayRange({start}, {end}, {step})") == list(range(start, stop, step))


@given(st.text(max_size=200))
def test_base64_round_trip(text: str) -> None:
    encoded = run("States.Base64Encode($.s)", {"s": text})
    assert encoded == base64.b64encode(text.encode()).decode()
    assert run("States.Base64Decode($.s)", {"s": encoded}) == text


@given(st.lists(scalars, max_size=30))
def test_array_unique_is_idempotent_and_keeps_first_occurrences(items: list[Any]) -> None:
    unique = run("States.ArrayUnique($.a)", {"a": items})
    assert run("States.ArrayUnique($.a)", {"a": unique}) == unique
    assert all(run("States.ArrayContains($.a, $.v)", {"a": unique, "v": item}) for item in items)
    assert len(unique) <= len(items)


@given(st.text(alphabet="ab,;", max_size=30), st.text(alphabet=",;", min_size=1, max_size=2))
def test_string_split_drops_empty_tokens(text: str, delimiters: str) -> None:
    tokens = run("States.StringSplit($.t, $.d)", {"t": text, "d": delimiters})
    assert all(token and not set(token) & set(delimiters) for token in tokens)
    assert "".join(tokens) == "".join(c for c in text if c not in delimiters)


@given(st.integers(-(2**31), 2**31), st.integers(-(2**31), 2**31))
def test_math_add_of_integers(a: int, b: int) -> None:
    assert run("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == a + b


@given(st.lists(st.text(alphabet="ab{}' \\", max_size=4), max_size=5))
def test_format_substitutes_in_order(values: list[str]) -> None:
    template = "-".join("{}" for _ in values)
    args = "".join(f", $.v[{index}]" for index in range(len(values)))
    assert run(f"States.Format('{template}'{args})", {"v": values}) == "-".join(values)


@given(
    st.dictionaries(st.text(max_size=3), scalars, max_size=5),
    st.dictionaries(st.text(max_size=3), scalars, max_size=5),
)
def test_json_merge_is_shallow_right_biased(first: dict[str, Any], second: dict[str, Any]) -> None:
    merged = run("States.JsonMerge($.a, $.b, false)", {"a": first, "b": second})
    assert merged == {**first, **second}


@given(
    st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_json_to_string_round_trips_through_string_to_json(value: Any) -> None:
    text = run("States.JsonToString($.v)", {"v": value})
    assert run("States.StringToJson($.s)", {"s": text}) == value
