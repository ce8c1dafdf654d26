"""States.* intrinsic functions (AWS developer guide, "Intrinsic functions for JSONPath states").

An intrinsic call such as ``States.Format('{} {}', $.a, States.ArrayLength($$.b))`` is parsed
once per text (cached) into a small tree of calls, literals and paths, then evaluated against
the state's data. Functions live in ``REGISTRY``: name -> (implementation, min args, max args).

A failure inside a function is States.IntrinsicFailure; a path argument that matches nothing
is the path layer's States.Runtime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine.asl import paths
from engine.asl.context import EvalContext
from engine.asl.errors import ErrorName, StatesError
from engine.asl.jsonvalue import encode

# AWS: "You can nest up to 10 intrinsic functions within a field".
MAX_NESTING = 10
# AWS: Base64Encode/Base64Decode/Hash accept "up to 10,000 characters".
MAX_INPUT_CHARS = 10_000
# AWS: "The array returned by States.ArrayRange can contain a maximum of 1000 elements".
MAX_RANGE_ITEMS = 1000

_CALL_START = re.compile(r"\s*States\.([A-Za-z0-9]+)\s*\(")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
# The only escapes an intrinsic string literal allows (ASL spec, "Intrinsic Functions"): the
# characters ' { } \ preceded by a backslash. Anything else after a backslash is invalid.
_ESCAPABLE = "'{}\\"


class IntrinsicSyntaxError(ValueError):
    """The text is not a well-formed intrinsic function call."""


class IntrinsicArgumentError(Exception):
    """A function rejected its arguments; becomes States.IntrinsicFailure."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument. ``raw`` keeps a string's escapes, which States.Format needs to tell
    an escaped ``\\{`` from a placeholder."""

    value: Any
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class PathArg:
    """A $, $$ or $var path argument."""

    path: str


@dataclass(frozen=True, slots=True)
class Call:
    """``States.<name>(args...)``."""

    name: str
    args: tuple[Literal | PathArg | Call, ...]
    text: str


Node = Literal | PathArg | Call


# --- parsing ----------------------------------------------------------------------------------


def is_intrinsic(text: str) -> bool:
    """Whether a ``.$`` value is an intrinsic function call rather than a path."""
    return isinstance(text, str) and _CALL_START.match(text) is not None


@lru_cache(maxsize=4096)
def parse_intrinsic(text: str) -> Call:
    """Parse ``text`` into a Call tree; raises IntrinsicSyntaxError."""
    parser = _Parser(text)
    call = parser.call(depth=1)
    parser.skip_space()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"unexpected text after the call at position {parser.pos}")
    return call


def validate_intrinsic_syntax(text: str) -> str | None:
    """A description of what is wrong with an intrinsic call, or None when it is valid: syntax,
    known function names, argument counts, nesting depth and the paths inside."""
    try:
        call = parse_intrinsic(text)
    except IntrinsicSyntaxError as exc:
        return str(exc)
    pending: list[Node] = [call]
    while pending:
        node = pending.pop()
        if isinstance(node, PathArg):
            problem = paths.validate_path_syntax(node.path)
            if problem:
                return f"invalid path '{node.path}': {problem}"
        elif isinstance(node, Call):
            problem = _arity_problem(node)
            if problem:
                return problem
            pending.extend(node.args)
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise IntrinsicSyntaxError(f"more than {MAX_NESTING} nested intrinsic functions")
        start = self.pos
        match = _CALL_START.match(self.text, self.pos)
        if not match:
            raise IntrinsicSyntaxError(f"expected an intrinsic function at position {self.pos}")
        name = match.group(1)
        if f"States.{name}" not in REGISTRY:
            raise IntrinsicSyntaxError(f"unknown intrinsic function 'States.{name}'")
        self.pos = match.end()
        args: list[Node] = []
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                self.skip_space()
                args.append(self.argument(depth))
                self.skip_space()
                char = self.peek()
                self.pos += 1
                if char == ")":
                    break
                if char != ",":
                    raise IntrinsicSyntaxError(f"expected ',' or ')' at position {self.pos - 1}")
        return Call(f"States.{name}", tuple(args), self.text[start : self.pos].strip())

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def argument(self, depth: int) -> Node:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call(depth + 1)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Literal(value)
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            text = match.group(0)
            number = float(text) if match.group(1) or match.group(2) else int(text)
            return Literal(number)
        raise IntrinsicSyntaxError(f"invalid argument at position {self.pos}")

    def string(self) -> Literal:
        self.pos += 1
        start = self.pos
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                following = self.text[self.pos + 1 : self.pos + 2]
                if following not in _ESCAPABLE or not following:
                    raise IntrinsicSyntaxError(
                        f"invalid escape sequence '\\{following}' at position {self.pos}"
                    )
                chars.append(following)
                self.pos += 2
                continue
            if char == "'":
                raw = self.text[start : self.pos]
                self.pos += 1
                return Literal("".join(chars), raw)
            chars.append(char)
            self.pos += 1
        raise IntrinsicSyntaxError("unterminated string literal")

    def path(self) -> PathArg:
        # A path runs to the next ',' or ')' outside brackets, parentheses and quotes, so
        # filters such as $.a[?(@.b == 'x, y')] stay whole.
        start = self.pos
        depth = 0
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        path = self.text[start : self.pos].strip()
        if not path:
            raise IntrinsicSyntaxError(f"empty path at position {start}")
        return PathArg(path)


# --- evaluation -------------------------------------------------------------------------------


def evaluate_intrinsic(text: str, data: Any, ctx: EvalContext) -> Any:
    """Parse (cached) and evaluate an intrinsic call over ``data``, ``$$`` and variables."""
    try:
        call = parse_intrinsic(text)
    except IntrinsicSyntaxError as exc:
        raise _failure(ctx, text, str(exc)) from None
    return evaluate_call(call, data, ctx)


def evaluate_call(node: Node, data: Any, ctx: EvalContext) -> Any:
    """Evaluate an already parsed call (``parse_intrinsic``) or one of its arguments."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, PathArg):
        return paths.read_path(node.path, data, ctx)
    problem = _arity_problem(node)
    if problem:
        raise _failure(ctx, node.text, problem)
    function = REGISTRY[node.name][0]
    args = [evaluate_call(arg, data, ctx) for arg in node.args]
    try:
        return function(args, node)
    except IntrinsicArgumentError as exc:
        raise _failure(ctx, node.text, str(exc)) from None


def _failure(ctx: EvalContext, text: str, detail: str) -> StatesError:
    return StatesError(
        ErrorName.INTRINSIC_FAILURE,
        f"{paths.error_prefix(ctx)}The evaluation of the intrinsic function '{text}' failed: {detail}",
    )


def _arity_problem(call: Call) -> str | None:
    _, least, most = REGISTRY[call.name]
    count = len(call.args)
    if least <= count and (most is None or count <= most):
        return None
    if most is None:
        expected = f"at least {least}"
    elif least == most:
        expected = str(least)
    else:
        expected = f"{least} to {most}"
    return f"{call.name} expects {expected} argument(s) but received {count}"


# --- argument checks --------------------------------------------------------------------------


def _type_name(value: Any) -> str:
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


def _expect(value: Any, kind: type | tuple[type, ...], what: str, call: Call, index: int) -> Any:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise IntrinsicArgumentError(
            f"argument {index} of {call.name} must be {what}, but was boolean"
        )
    if not isinstance(value, kind):
        raise IntrinsicArgumentError(
            f"argument {index} of {call.name} must be {what}, but was {_type_name(value)}"
        )
    return value


def _integer(value: Any, call: Call, index: int) -> int:
    """An integer argument; a float with an integral value (3.0) is accepted."""
    _expect(value, (int, float), "an integer", call, index)
    if isinstance(value, float):
        if not value.is_integer():
            raise IntrinsicArgumentError(
                f"argument {index} of {call.name} must be an integer, but was {value}"
            )
        return int(value)
    return int(value)


def _java_round(value: int | float) -> int:
    # AWS: "If you specify a non-integer value ... Step Functions will round it off to the
    # nearest integer" -- Java's Math.round, which rounds halves up (-2.5 -> -2).
    return int(math.floor(value + 0.5)) if isinstance(value, float) else int(value)


def _limited_string(value: Any, call: Call, index: int) -> str:
    _expect(value, str, "a string", call, index)
    if len(value) > MAX_INPUT_CHARS:
        raise IntrinsicArgumentError(
            f"argument {index} of {call.name} exceeds the maximum of {MAX_INPUT_CHARS} "
            f"characters ({len(value)})"
        )
    return str(value)


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 and key order does not matter."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(json_equal(v, right[k]) for k, v in left.items())
    return bool(left == right)


# --- the functions ----------------------------------------------------------------------------


def _format(args: list[Any], call: Call) -> str:
    template = _expect(args[0], str, "a string", call, 1)
    first = call.args[0]
    # A literal template keeps its escapes (\{ is a brace, not a placeholder); a template read
    # from a path is taken as it is.
    raw = first.raw if isinstance(first, Literal) else None
    parts = _format_parts(template if raw is None else raw, raw is not None)
    given = len(args) - 1
    placeholders = parts.count(None)
    if placeholders != given:
        if placeholders > given:
            raise IntrinsicArgumentError(
                f"the format string has more placeholders than the {given} value(s) given"
            )
        raise IntrinsicArgumentError(
            f"the format string has {placeholders} placeholder(s) but {given} value(s) were given"
        )
    values = iter(args[1:])
    return "".join(format_value(next(values)) if part is None else part for part in parts)


@lru_cache(maxsize=1024)
def _format_parts(source: str, unescape: bool) -> tuple[str | None, ...]:
    """A States.Format template split once into its text and its ``{}`` placeholders (None);
    ``unescape``: a literal's ``\\x`` stands for ``x``."""
    parts: list[str | None] = []
    text: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and unescape and index + 1 < len(source):
            text.append(source[index + 1])
            index += 2
            continue
        if source.startswith("{}", index):
            parts.extend(("".join(text), None))
            text = []
            index += 2
            continue
        text.append(char)
        index += 1
    parts.append("".join(text))
    return tuple(parts)


def format_value(value: Any) -> str:
    """How States.Format renders a value: strings bare, objects and arrays the way Java prints
    a Map or List ({a=1, b=[x, y]}), as AWS records for ``$$.StateMachine``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}={format_value(item)}" for key, item in value.items()) + "}"


def java_double(value: float) -> str:
    """Java's Double.toString: 1.0, 0.001, 1.0E7, 1.0E-4 (the shortest round-tripping digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1e7:
        return repr(value)  # Python's repr uses no exponent in this range either
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    power = len(text) + int(exponent) - 1
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _string_to_json(args: list[Any], call: Call) -> Any:
    text = _expect(args[0], str, "a string", call, 1)
    # Recorded: "" and " " both give null.
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise IntrinsicArgumentError(f"the string is not valid JSON: {exc}") from None


def _json_to_string(args: list[Any], call: Call) -> str:
    return encode(args[0])


def _array(args: list[Any], call: Call) -> list[Any]:
    return list(args)


def _array_partition(args: list[Any], call: Call) -> list[list[Any]]:
    items = _expect(args[0], list, "an array", call, 1)
    size = _integer(args[1], call, 2)
    if size <= 0:
        raise IntrinsicArgumentError(f"the chunk size must be greater than 0, but was {size}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def _array_contains(args: list[Any], call: Call) -> bool:
    items = _expect(args[0], list, "an array", call, 1)
    return any(json_equal(item, args[1]) for item in items)


def _array_range(args: list[Any], call: Call) -> list[int]:
    start, end, step = (_integer(args[i], call, i + 1) for i in range(3))
    if step == 0:
        raise IntrinsicArgumentError("the step must not be 0")
    count = (end - start) // step + 1 if (end - start) * step >= 0 else 0
    if count > MAX_RANGE_ITEMS:
        raise IntrinsicArgumentError(
            f"the range would have {count} elements; the maximum is {MAX_RANGE_ITEMS}"
        )
    return [start + i * step for i in range(count)]


def _array_get_item(args: list[Any], call: Call) -> Any:
    items = _expect(args[0], list, "an array", call, 1)
    index = _integer(args[1], call, 2)
    if not 0 <= index < len(items):
        raise IntrinsicArgumentError(
            f"the index {index} is out of bounds for an array of length {len(items)}"
        )
    return items[index]


def _array_length(args: list[Any], call: Call) -> int:
    return len(_expect(args[0], list, "an array", call, 1))


def _array_unique(args: list[Any], call: Call) -> list[Any]:
    items = _expect(args[0], list, "an array", call, 1)
    unique: list[Any] = []
    seen: set[str] = set()
    for item in items:
        key = json.dumps(_canonical(item), sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _canonical(value: Any) -> Any:
    """A value whose JSON text is the same for JSON-equal values (1.0 reads as 1)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    return value


def _base64_encode(args: list[Any], call: Call) -> str:
    text = _limited_string(args[0], call, 1)
    return base64.b64encode(text.encode()).decode()


def _base64_decode(args: list[Any], call: Call) -> str:
    text = _limited_string(args[0], call, 1)
    try:
        return base64.b64decode(text.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise IntrinsicArgumentError(f"the string is not valid base64: {exc}") from None


_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


def _hash(args: list[Any], call: Call) -> str:
    data = _limited_string(args[0], call, 1)
    algorithm = _expect(args[1], str, "a string", call, 2)
    if algorithm not in _HASHES:
        raise IntrinsicArgumentError(
            f"the hash algorithm '{algorithm}' is not one of {', '.join(_HASHES)}"
        )
    return str(_HASHES[algorithm](data.encode()).hexdigest())


def _json_merge(args: list[Any], call: Call) -> dict[str, Any]:
    first = _expect(args[0], dict, "an object", call, 1)
    second = _expect(args[1], dict, "an object", call, 2)
    deep = _expect(args[2], bool, "a boolean", call, 3)
    if deep:
        # AWS: "Step Functions only supports the shallow merging mode; therefore, you must
        # specify the boolean value as false."
        raise IntrinsicArgumentError("only shallow merging is supported; pass false")
    return {**first, **second}


def _math_random(args: list[Any], call: Call) -> int:
    start = _java_round(_expect(args[0], (int, float), "a number", call, 1))
    end = _java_round(_expect(args[1], (int, float), "a number", call, 2))
    if end <= start:
        raise IntrinsicArgumentError(f"the end ({end}) must be greater than the start ({start})")
    if len(args) == 3:
        seed = _java_round(_expect(args[2], (int, float), "a number", call, 3))
        return start + JavaRandom(seed).next_int(end - start)
    return random.randrange(start, end)


def _math_add(args: list[Any], call: Call) -> int:
    first = _expect(args[0], (int, float), "a number", call, 1)
    second = _expect(args[1], (int, float), "a number", call, 2)
    return _java_round(first) + _java_round(second)


def _string_split(args: list[Any], call: Call) -> list[str]:
    text = _expect(args[0], str, "a string", call, 1)
    delimiters = _expect(args[1], str, "a string", call, 2)
    # Java's StringTokenizer: every character of the second argument is a delimiter and empty
    # tokens are dropped (recorded: ",,,," -> [], "a.b+c" split on ".+" -> [a, b, c]).
    if not delimiters:
        return [text] if text else []
    pattern = "[" + re.escape(delimiters) + "]+"
    return [token for token in re.split(pattern, text) if token]


def _uuid(args: list[Any], call: Call) -> str:
    return str(uuid.uuid4())


class JavaRandom:
    """java.util.Random's linear congruential generator, so a seeded States.MathRandom gives
    the numbers a JVM would (AWS runs on the JVM)."""

    _MULTIPLIER = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self.seed = (self.seed * self._MULTIPLIER + 0xB) & self._MASK
        value = self.seed >> (48 - bits)
        return value - (1 << bits) if value >= 1 << (bits - 1) else value

    def next_int(self, bound: int) -> int:
        """Random.nextInt(bound): uniform in [0, bound)."""
        if bound & -bound == bound:
            return (bound * (self._next(31) & 0x7FFFFFFF)) >> 31
        while True:
            bits = self._next(31) & 0x7FFFFFFF
            value = bits % bound
            if bits - value + (bound - 1) < (1 << 31):
                return value


Function = Callable[[list[Any], Call], Any]

# name -> (implementation, minimum arguments, maximum arguments or None for unbounded)
REGISTRY: dict[str, tuple[Function, int, int | None]] = {
    "States.Format": (_format, 1, None),
    "States.StringToJson": (_string_to_json, 1, 1),
    "States.JsonToString": (_json_to_string, 1, 1),
    "States.Array": (_array, 0, None),
    "States.ArrayPartition": (_array_partition, 2, 2),
    "States.ArrayContains": (_array_contains, 2, 2),
    "States.ArrayRange": (_array_range, 3, 3),
    "States.ArrayGetItem": (_array_get_item, 2, 2),
    "States.ArrayLength": (_array_length, 1, 1),
    "States.ArrayUnique": (_array_unique, 1, 1),
    "States.Base64Encode": (_base64_encode, 1, 1),
    "States.Base64Decode": (_base64_decode, 1, 1),
    "States.Hash": (_hash, 2, 2),
    "States.JsonMerge": (_json_merge, 3, 3),
    "States.MathRandom": (_math_random, 2, 3),
    "States.MathAdd": (_math_add, 2, 2),
    "States.StringSplit": (_string_split, 2, 2),
    "States.UUID": (_uuid, 0, 0),
}
