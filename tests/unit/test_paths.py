"""JSONPath data flow: read_path, payload templates, Input/Result/OutputPath and Assign."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl import paths
from engine.asl.context import EvalContext
from engine.asl.errors import StatesError
from engine.asl.jsonvalue import encode

CASES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"
PREFIX = "An error occurred while executing the state 'S' (entered at the event id #2). "


def make_ctx(variables: dict[str, Any] | None = None) -> EvalContext:
    context = {
        "Execution": {"Id": "arn:aws:states:us-east-1:111111111111:execution:sm:run", "Input": {}},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:111111111111:stateMachine:sm"},
        "State": {"Name": "S"},
    }
    return EvalContext("S", 2, context, dict(variables or {}))


def matches(expected: Any, actual: Any) -> bool:
    """Compare with the case format's wildcards: "$ANY" and {"$match": regex}."""
    if expected == "$ANY":
        return True
    if isinstance(expected, dict) and set(expected) == {"$match"}:
        text = actual if isinstance(actual, str) else json.dumps(actual, separators=(",", ":"))
        return re.fullmatch(expected["$match"], text) is not None
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(map(matches, expected, actual))
        )
    return bool(expected == actual) and type(expected) is type(actual)


DOC = {
    "a": {"b": [{"c": 1}, {"c": 2.5}], "n": None},
    "x y": "spaced",
    "list": [1, 2, 3, 4, 5],
    "store": {"book": [{"price": 8, "t": "A"}, {"price": 12, "t": "B"}]},
}


# --- read_path --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.a.b[0].c", 1),
        ("$.a.b[1].c", 2.5),
        ("$.a.n", None),
        ("$['x y']", "spaced"),
        ('$["x y"]', "spaced"),
        ("$.list[-1]", 5),
        ("$.list[1:3]", [2, 3]),
        ("$.list[0,2]", [1, 3]),
        ("$.list[*]", [1, 2, 3, 4, 5]),
        ("$.a.b[*].c", [1, 2.5]),
        ("$..c", [1, 2.5]),
        ("$..price", [8, 12]),
        ("$.store.book[?(@.price > 10)].t", ["B"]),
        ("$.list.length()", 5),
        ("$.nothing[*]", []),
    ],
)
def test_read_path_selects_like_jayway(path: str, expected: Any) -> None:
    assert paths.read_path(path, DOC, make_ctx()) == expected


def test_read_path_returns_references_not_copies() -> None:
    assert paths.read_path("$.a", DOC, make_ctx()) is DOC["a"]


def test_context_and_variables() -> None:
    ctx = make_ctx({"answer": 42, "obj": {"k": [10, 20]}})
    assert paths.read_path("$$.State.Name", {}, ctx) == "S"
    assert paths.read_path("$$", {}, ctx) is ctx.context_object
    assert paths.read_path("$answer", {}, ctx) == 42
    assert paths.read_path("$obj.k[1]", {}, ctx) == 20


def test_missing_path_cause_is_aws_text() -> None:
    with pytest.raises(StatesError) as info:
        paths.read_path("$.NoSuchInputPath", {"int-literal": 0}, make_ctx())
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        PREFIX + "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )


def test_missing_nested_path_normalises_like_jayway() -> None:
    with pytest.raises(StatesError) as info:
        paths.read_path("$.a.b[7].c", DOC, make_ctx())
    assert info.value.cause.endswith("No results for path: $['a']['b'][7]['c']")


def test_missing_variable_is_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        paths.read_path("$undefined", {}, make_ctx())
    assert info.value.error == "States.Runtime"


def test_field_form_of_missing_path() -> None:
    with pytest.raises(StatesError) as info:
        paths.read_path("$.ErrorX", {"Error": "e"}, make_ctx(), field="ErrorPath")
    assert info.value.cause == (
        PREFIX + "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found "
        'in the input \'{"Error":"e"}\''
    )


def test_quoted_key_keeps_backslashes() -> None:
    # Recorded: $['Test\""Name"'] selects the key Test\""Name" (escape-sequence scenario).
    key = 'Test\\""Name"'
    assert paths.read_path('$[\'Test\\""Name"\']', {key: "v"}, make_ctx()) == "v"


@pytest.mark.parametrize("path", ["$", "$.a", "$['a b'].c[0]", "$..x", "$.a[?(@.b == 1)]", "$v.x"])
def test_valid_paths(path: str) -> None:
    assert paths.validate_path_syntax(path) is None


@pytest.mark.parametrize("path", ["a.b", "", "$.a[", "$.a[x]", "$.a.b(", "$.", "$[1:2:0]"])
def test_invalid_paths(path: str) -> None:
    assert paths.validate_path_syntax(path) is not None


def test_reference_paths_refuse_indefinite_ones() -> None:
    assert paths.validate_reference_path("$.a[0].b") is None
    assert paths.validate_reference_path("$.a[*]") is not None
    assert paths.validate_reference_path("$..a") is not None


# --- payload templates ------------------------------------------------------------------------


def test_payload_template() -> None:
    ctx = make_ctx({"var": "v"})
    template = {
        "literal": "$.not.a.path",
        "path.$": "$.a.b[0]",
        "ctx.$": "$$.State.Name",
        "var.$": "$var",
        "fn.$": "States.Format('{}-{}', $.list[0], $var)",
        "nested": {"deep.$": "$.list[1]", "arr": [{"in.$": "$.list[2]"}, 7]},
    }
    assert paths.evaluate_payload(template, DOC, ctx) == {
        "literal": "$.not.a.path",
        "path": {"c": 1},
        "ctx": "S",
        "var": "v",
        "fn": "1-v",
        "nested": {"deep": 2, "arr": [{"in": 3}, 7]},
    }


def test_payload_missing_path_names_the_field() -> None:
    with pytest.raises(StatesError) as info:
        paths.evaluate_payload({"value.$": "$.no_such_jsonpath"}, {"int-literal": 0}, make_ctx())
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        PREFIX + "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not "
        "be found in the input '{\"int-literal\":0}'"
    )


def test_payload_does_not_mutate_template_or_data() -> None:
    template = {"a": {"b.$": "$.list"}, "c": [1, {"d": 2}]}
    before_t, before_d = copy.deepcopy(template), copy.deepcopy(DOC)
    out = paths.evaluate_payload(template, DOC, make_ctx())
    out["c"][1]["d"] = 99
    assert template == before_t and DOC == before_d


def test_a_template_read_once_evaluates_afresh_each_time() -> None:
    # Templates are planned once per template object; each evaluation still reads its own
    # data, and a bad entry still fails every time it is evaluated.
    template = {"v.$": "$.x", "s.$": "States.Format('<{}>', $.x)", "k": 1}
    assert paths.evaluate_payload(template, {"x": 1}, make_ctx()) == {"v": 1, "s": "<1>", "k": 1}
    assert paths.evaluate_payload(template, {"x": 2}, make_ctx()) == {"v": 2, "s": "<2>", "k": 1}
    same_text = {"v.$": "$.y"}
    other = {"v.$": "$.x"}
    assert paths.evaluate_payload(other, {"x": 3, "y": 4}, make_ctx()) == {"v": 3}
    assert paths.evaluate_payload(same_text, {"x": 3, "y": 4}, make_ctx()) == {"v": 4}
    bad = {"p.$": "$..[", "n.$": 5, "f.$": "States.Format("}
    for _ in range(2):
        for key in bad:
            with pytest.raises(StatesError):
                paths.evaluate_payload({key: bad[key]}, {}, make_ctx())
        with pytest.raises(StatesError, match="field 'v.\\$'"):
            paths.evaluate_payload(template, {}, make_ctx())


# --- Input / Result / Output paths ------------------------------------------------------------


def test_input_and_output_path_null_and_root() -> None:
    ctx = make_ctx()
    assert paths.apply_input_path(None, DOC, ctx) == {}
    assert paths.apply_input_path("$", DOC, ctx) is DOC
    assert paths.apply_output_path(None, DOC, ctx) == {}
    assert paths.apply_output_path("$.a.n", DOC, ctx) is None


def test_output_path_missing_is_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        paths.apply_output_path("$.NoSuchOutputPath", {}, make_ctx())
    assert "No results for path: $['NoSuchOutputPath']" in info.value.cause


def test_result_path_variants() -> None:
    ctx = make_ctx()
    state_input = {"a": {"keep": 1}, "arr": [0, {"x": 1}]}
    assert paths.apply_result_path(None, state_input, "r", ctx) is state_input
    assert paths.apply_result_path("$", state_input, "r", ctx) == "r"
    assert paths.apply_result_path("$.a.new", state_input, "r", ctx) == {
        "a": {"keep": 1, "new": "r"},
        "arr": [0, {"x": 1}],
    }
    assert paths.apply_result_path("$.m.n.o", state_input, 1, ctx)["m"] == {"n": {"o": 1}}
    assert paths.apply_result_path("$.arr[1].y", state_input, 2, ctx)["arr"] == [
        0,
        {"x": 1, "y": 2},
    ]
    assert state_input == {"a": {"keep": 1}, "arr": [0, {"x": 1}]}


@pytest.mark.parametrize(
    ("path", "state_input"),
    [("$.x", "a string"), ("$.a.b", {"a": 5}), ("$.arr[5]", {"arr": [1]}), ("$.x", [1, 2])],
)
def test_result_path_match_failure(path: str, state_input: Any) -> None:
    with pytest.raises(StatesError) as info:
        paths.apply_result_path(path, state_input, 1, make_ctx())
    assert info.value.error == "States.ResultPathMatchFailure"
    assert info.value.cause.startswith(PREFIX + f"Unable to apply ReferencePath {path} to input")


# --- Assign -----------------------------------------------------------------------------------


def test_assign_literals_paths_and_nested_templates() -> None:
    ctx = make_ctx({"old": 1})
    assigned = paths.evaluate_assign(
        {
            "constant_str_path": "$.no.such.path",
            "from_result.$": "$.answer",
            "from_var.$": "$old",
            "obj": {"inner.$": "States.MathAdd($.answer, 1)", "lit": "$"},
        },
        {"answer": 42},
        ctx,
    )
    assert assigned == {
        "constant_str_path": "$.no.such.path",
        "from_result": 42,
        "from_var": 1,
        "obj": {"inner": 43, "lit": "$"},
    }


def test_assign_missing_path_is_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        paths.evaluate_assign({"x.$": "$.missing"}, {}, make_ctx())
    assert "specified for the field 'x.$'" in info.value.cause


def _assign_cases() -> list[Path]:
    """Recorded JSONPath Assign cases whose first state is a Pass we can evaluate alone."""
    found = []
    for file in sorted(CASES.glob("assign_*.json")):
        case = json.loads(file.read_text())
        definition = case["definition"]
        if definition.get("QueryLanguage") == "JSONata":
            continue
        first = definition["States"][definition["StartAt"]]
        if first["Type"] == "Pass" and "Assign" in first and "InputPath" not in first:
            found.append(file)
    return found


@pytest.mark.parametrize("file", _assign_cases(), ids=lambda p: p.name[:90])
def test_recorded_assign_of_first_pass_state(file: Path) -> None:
    case = json.loads(file.read_text())
    definition = case["definition"]
    state = definition["States"][definition["StartAt"]]
    arn = "arn:aws:states:us-east-1:111111111111"
    context = {
        "Execution": {
            "Id": f"{arn}:execution:sm:run",
            "Input": json.loads(case["input"]),
            "StartTime": "2024-01-01T00:00:00.000Z",
            "Name": "run",
            "RoleArn": "arn:aws:iam::111111111111:role/r",
            "RedriveCount": 0,
        },
        "StateMachine": {"Id": f"{arn}:stateMachine:sm", "Name": "sm"},
        "State": {"Name": definition["StartAt"], "EnteredTime": "2024-01-01T00:00:00.000Z"},
    }
    ctx = EvalContext(definition["StartAt"], 2, context, {})
    data = json.loads(case["input"])
    if "Parameters" in state:
        data = paths.evaluate_payload(state["Parameters"], data, ctx)
    result = state.get("Result", data)
    assigned = paths.evaluate_assign(state["Assign"], result, ctx)
    exited = next(e for e in case["expect"]["events"] if e["type"] == "PassStateExited")
    # AWS records no assignedVariables for an empty Assign.
    recorded = exited["stateExitedEventDetails"].get("assignedVariables", {})
    assert set(recorded) == set(assigned)
    for key, value in recorded.items():
        actual = assigned[key]
        if isinstance(value, dict) and set(value) == {"$match"}:
            # The recorder kept this one as JSON text: match the regex against our text.
            assert re.fullmatch(value["$match"], encode(actual)), key
        elif value == '"date"':
            continue  # the recorder replaced this timestamp with a placeholder
        elif isinstance(value, str) and value != "$ANY":
            assert matches(json.loads(value), actual), key
        else:
            assert matches(value, actual), key


# --- properties -------------------------------------------------------------------------------

keys = st.text(alphabet="abcxyz_-", min_size=1, max_size=5)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def _definite_paths(value: Any, prefix: str = "$") -> list[tuple[str, Any]]:
    found = [(prefix, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_definite_paths(item, f"{prefix}['{key}']"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_definite_paths(item, f"{prefix}[{index}]"))
    return found


@given(json_values)
def test_every_definite_path_reads_back_its_value(doc: Any) -> None:
    ctx = make_ctx()
    for path, value in _definite_paths(doc):
        assert paths.read_path(path, doc, ctx) is value


def _count_descendants(value: Any) -> int:
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    )
    return sum(1 + _count_descendants(child) for child in children)


@given(json_values)
def test_deep_scan_wildcard_yields_every_descendant(doc: Any) -> None:
    assert len(paths.read_path("$..*", doc, make_ctx())) == _count_descendants(doc)


@given(
    st.dictionaries(keys, json_values, max_size=5),
    st.lists(keys, min_size=1, max_size=4),
    json_values,
)
def test_result_path_then_read_path_round_trips(
    state_input: dict[str, Any], steps: list[str], result: Any
) -> None:
    path = "$" + "".join(f".{step}" for step in steps)
    ctx = make_ctx()
    before = copy.deepcopy(state_input)
    try:
        output = paths.apply_result_path(path, state_input, result, ctx)
    except StatesError as err:
        assert err.error == "States.ResultPathMatchFailure"
        return
    assert paths.read_path(path, output, ctx) is result
    assert state_input == before


def test_deep_scan_on_a_large_document_is_linear() -> None:
    # 220k nodes: a quadratic scan would not finish within the test run.
    doc = {f"k{i}": {"x": [{"y": j} for j in range(10)]} for i in range(20000)}
    assert len(paths.read_path("$..y", doc, make_ctx())) == 200000
    assert len(paths.read_path("$..*", doc, make_ctx())) == 20000 * 22
