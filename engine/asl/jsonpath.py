"""JSONPath as Step Functions evaluates it: compiled once per path string, walked without copies.

AWS evaluates JSONPath with Jayway JsonPath (Java). Two of its rules shape this module:

* A *definite* path (only ``.name``, ``['name']`` and ``[n]`` steps) yields one value, and a
  missing step is an error ("No results for path: $['a']['b']").
* An *indefinite* path (``*``, ``..``, slices, unions, filters) yields a list, possibly empty,
  and never fails for want of a match.

Plain paths are compiled into a tuple of steps and walked by hand; only filter expressions
(``[?(...)]``) go to jsonpath-ng, whose parser is far slower than the walk itself.
Compilation is cached on the path string (``functools.lru_cache``), so a state machine's paths
are parsed once per process, not once per state transition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Where a path starts: the state's data ($), the context object ($$) or a workflow variable.
ROOT_INPUT = "input"
ROOT_CONTEXT = "context"
ROOT_VARIABLE = "variable"

_NAME_STOP = frozenset(".[]()'\" \t\r\n,*")
_VARIABLE_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_INT_RE = re.compile(r"-?\d+")


class PathSyntaxError(ValueError):
    """The text is not a JSONPath Step Functions accepts."""


@dataclass(frozen=True, slots=True)
class Key:
    """``.name`` or ``['name']``."""

    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """``[n]``; negative counts from the end, as in Jayway."""

    index: int


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``.*`` or ``[*]``: every member of an object or element of an array."""


@dataclass(frozen=True, slots=True)
class Slice:
    """``[start:end:step]``."""

    start: int | None
    end: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class Union:
    """``['a','b']`` or ``[0,2]``."""

    members: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class DeepScan:
    """``..name``, ``..*`` or ``..[n]``: the step applied at every depth."""

    step: Key | Wildcard | Index


@dataclass(frozen=True, slots=True)
class Length:
    """Jayway's ``.length()`` function at the end of a path."""


Step = Key | Index | Wildcard | Slice | Union | DeepScan | Length


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A parsed path: where it starts, its steps, and whether it yields one value or a list."""

    source: str
    root: str
    variable: str | None
    steps: tuple[Step, ...]
    definite: bool
    # Only set for paths with filters: a jsonpath-ng expression over the root value.
    filter_expr: Any = None

    def normalized(self) -> str:
        """Jayway's bracket notation, as AWS prints it in "No results for path" causes."""
        head = "$" if self.variable is None else f"${self.variable}"
        parts = [head]
        for step in self.steps:
            if isinstance(step, Key):
                parts.append(f"['{step.name}']")
            elif isinstance(step, Index):
                parts.append(f"[{step.index}]")
            elif isinstance(step, Length):
                parts.append(".length()")
            else:
                parts.append("[*]")
        return "".join(parts)


class _Missing:
    """Sentinel: a definite path found nothing."""


MISSING: Any = _Missing()


@lru_cache(maxsize=8192)
def compile_path(path: str) -> CompiledPath:
    """Parse ``path`` ($..., $$..., $var...) once; raises PathSyntaxError when it is not valid."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathSyntaxError("a path must start with '$'")
    if path.startswith("$$"):
        root, variable, pos = ROOT_CONTEXT, None, 2
    else:
        match = _VARIABLE_RE.match(path)
        if match:
            root, variable, pos = ROOT_VARIABLE, match.group(1), match.end()
        else:
            root, variable, pos = ROOT_INPUT, None, 1
    if "?(" in path[pos:]:
        return _compile_filter(path, root, variable, pos)
    steps = tuple(_parse_steps(path, pos))
    definite = all(isinstance(step, Key | Index | Length) for step in steps)
    return CompiledPath(path, root, variable, steps, definite)


def _compile_filter(path: str, root: str, variable: str | None, pos: int) -> CompiledPath:
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        expr = parse("$" + path[pos:])
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001
        raise PathSyntaxError(f"invalid filter expression: {exc}") from exc
    return CompiledPath(path, root, variable, (), False, expr)


def _parse_steps(path: str, pos: int) -> Iterator[Step]:
    end = len(path)
    while pos < end:
        char = path[pos]
        if path.startswith("..", pos):
            pos += 2
            if pos < end and path[pos] == "[":
                step, pos = _parse_bracket(path, pos)
            elif pos < end and path[pos] == "*":
                step, pos = Wildcard(), pos + 1
            else:
                name, pos = _parse_name(path, pos)
                step = Key(name)
            if not isinstance(step, Key | Wildcard | Index):
                raise PathSyntaxError(f"unsupported deep scan at position {pos}")
            yield DeepScan(step)
        elif char == ".":
            pos += 1
            if pos < end and path[pos] == "*":
                yield Wildcard()
                pos += 1
                continue
            if pos < end and path[pos] == "[":
                # "$.['a']" is accepted by Jayway as "$['a']".
                continue
            name, pos = _parse_name(path, pos)
            if path.startswith("()", pos):
                if name not in ("length", "size"):
                    raise PathSyntaxError(f"unsupported function '{name}()'")
                pos += 2
                if pos != end:
                    raise PathSyntaxError("a function must end the path")
                yield Length()
                continue
            yield Key(name)
        elif char == "[":
            step, pos = _parse_bracket(path, pos)
            yield step
        else:
            raise PathSyntaxError(f"unexpected character {char!r} at position {pos}")


def _parse_name(path: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(path) and path[pos] not in _NAME_STOP:
        pos += 1
    if pos == start:
        raise PathSyntaxError(f"expected a property name at position {start}")
    return path[start:pos], pos


def _parse_bracket(path: str, pos: int) -> tuple[Step, int]:
    close = _find_close(path, pos)
    inner = path[pos + 1 : close].strip()
    after = close + 1
    if not inner:
        raise PathSyntaxError(f"empty brackets at position {pos}")
    if inner == "*":
        return Wildcard(), after
    if inner[0] in "'\"":
        names = _parse_quoted_list(inner)
        return (Key(names[0]) if len(names) == 1 else Union(tuple(names))), after
    if ":" in inner:
        parts = [part.strip() for part in inner.split(":")]
        if len(parts) > 3 or not all(part == "" or _INT_RE.fullmatch(part) for part in parts):
            raise PathSyntaxError(f"invalid slice [{inner}]")
        numbers = [int(part) if part else None for part in parts] + [None] * (3 - len(parts))
        if numbers[2] == 0:
            raise PathSyntaxError("slice step cannot be zero")
        return Slice(numbers[0], numbers[1], numbers[2]), after
    parts = [part.strip() for part in inner.split(",")]
    if not all(_INT_RE.fullmatch(part) for part in parts):
        raise PathSyntaxError(f"invalid subscript [{inner}]")
    if len(parts) == 1:
        return Index(int(parts[0])), after
    return Union(tuple(int(part) for part in parts)), after


def _find_close(path: str, pos: int) -> int:
    quote = None
    index = pos + 1
    while index < len(path):
        char = path[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "]":
            return index
        index += 1
    raise PathSyntaxError(f"unclosed '[' at position {pos}")


def _parse_quoted_list(inner: str) -> list[str]:
    names: list[str] = []
    pos = 0
    while True:
        quote = inner[pos]
        if quote not in "'\"":
            raise PathSyntaxError(f"invalid subscript [{inner}]")
        pos += 1
        chars: list[str] = []
        while pos < len(inner) and inner[pos] != quote:
            # Only the enclosing quote can be escaped; any other backslash is kept as written
            # (AWS reads $['a\"b'] as the key a\"b, backslash kept: the escape-sequence cases).
            if inner[pos] == "\\" and inner[pos + 1 : pos + 2] == quote:
                pos += 1
            chars.append(inner[pos])
            pos += 1
        if pos >= len(inner):
            raise PathSyntaxError(f"unterminated string in [{inner}]")
        names.append("".join(chars))
        pos += 1
        while pos < len(inner) and inner[pos] == " ":
            pos += 1
        if pos == len(inner):
            return names
        if inner[pos] != ",":
            raise PathSyntaxError(f"invalid subscript [{inner}]")
        pos += 1
        while pos < len(inner) and inner[pos] == " ":
            pos += 1


# --- evaluation ------------------------------------------------------------------------------


def find(compiled: CompiledPath, root: Any) -> Any:
    """Apply ``compiled`` to ``root``: the value for a definite path (MISSING when absent),
    else the list of matches. Nothing is copied; callers must treat results as read-only."""
    if compiled.filter_expr is not None:
        return [match.value for match in compiled.filter_expr.find(root)]
    if compiled.definite:
        return _find_definite(compiled.steps, root)
    nodes = [root]
    for step in compiled.steps:
        nodes = _apply(step, nodes)
    return nodes


def _find_definite(steps: tuple[Step, ...], value: Any) -> Any:
    for step in steps:
        if type(step) is Key:
            if type(value) is not dict:
                return MISSING
            value = value.get(step.name, MISSING)
            if value is MISSING:
                return MISSING
        elif type(step) is Index:
            if type(value) is not list:
                return MISSING
            try:
                value = value[step.index]
            except IndexError:
                return MISSING
        else:  # Length
            if isinstance(value, list | str | dict):
                value = len(value)
            else:
                return MISSING
    return value


def _apply(step: Step, nodes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for node in nodes:
        if isinstance(step, DeepScan):
            out.extend(_scan(step.step, node))
        elif isinstance(step, Length):
            if isinstance(node, list | str | dict):
                out.append(len(node))
        else:
            out.extend(_select(step, node))
    return out


def _select(step: Step, node: Any) -> list[Any]:
    if isinstance(step, Key):
        if type(node) is dict and step.name in node:
            return [node[step.name]]
        return []
    if isinstance(step, Index):
        if type(node) is list and -len(node) <= step.index < len(node):
            return [node[step.index]]
        return []
    if isinstance(step, Wildcard):
        if type(node) is dict:
            return list(node.values())
        if type(node) is list:
            return list(node)
        return []
    if isinstance(step, Slice):
        if type(node) is list:
            return node[step.start : step.end : step.step]
        return []
    if isinstance(step, Union):
        picked: list[Any] = []
        for member in step.members:
            if isinstance(member, str):
                if type(node) is dict and member in node:
                    picked.append(node[member])
            elif type(node) is list and -len(node) <= member < len(node):
                picked.append(node[member])
        return picked
    return []


def _scan(step: Key | Wildcard | Index, node: Any) -> list[Any]:
    """Jayway's deep scan: at each container, the step's matches, then each child in turn.

    Iterative, so a deeply nested document cannot exhaust the Python stack, and linear in the
    document's size however many matches there are.
    """
    out: list[Any] = []
    stack: list[Iterator[Any]] = [iter((node,))]
    while stack:
        current = next(stack[-1], MISSING)
        if current is MISSING:
            stack.pop()
            continue
        if type(current) is dict:
            out.extend(_select(step, current))
            stack.append(iter(current.values()))
        elif type(current) is list:
            out.extend(_select(step, current))
            stack.append(iter(current))
    return out
