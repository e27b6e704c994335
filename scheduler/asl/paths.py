"""JSONPath for ASL: compile once per definition, evaluate per step.

Paths appear in InputPath, OutputPath, `.$` payload keys, Choice `Variable` and the
`*Path` fields. `$` is the state input, `$$` the context object, `$name` a variable.
Simple definite paths (`$.a.b[0]['c d']`) are evaluated by walking the document directly:
jsonpath-ng is correct but builds a parser per `parse` call and wraps every match, which
costs far more than a step may. Everything else (wildcards, `..`, filters, slices, unions)
goes through jsonpath-ng's extended parser, compiled once here.

ResultPath and the other *reference paths* only ever name one node; `set_reference`
writes a value there, copying the containers it passes through, so no input is mutated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.filter import OPERATOR_MAP, Expression, Filter
from jsonpath_ng.ext.parser import parse as jsonpath_parse
from jsonpath_ng.jsonpath import DatumInContext, Fields, JSONPath, Slice

from scheduler.asl.errors import SteplineError

Key = str | int

_STEP = re.compile(
    r"""\.(?P<name>[^.\[\]\s*'"()?,:]+)"""
    r"""|\[\s*'(?P<squote>[^']*)'\s*\]"""
    r"""|\[\s*"(?P<dquote>[^"]*)"\s*\]"""
    r"""|\[\s*(?P<index>-?\d+)\s*\]"""
)
_ROOT = re.compile(r"^(\$\$|\$[A-Za-z_][A-Za-z0-9_]*|\$)")
_INDEFINITE = re.compile(r"\*|\.\.|\[\s*\?|\[[^\]]*[:,][^\]]*\]")


class PathSyntaxError(SteplineError):
    """A path that is not valid JSONPath (or not a valid reference path)."""


class PathNotFound(SteplineError):
    """A definite path that matches nothing in the document it was applied to.

    `reason` is worded as AWS's JSONPath engine words it: "No results for path: $['a']"
    when only the last step is missing, "Missing property in path $['a']" when a step
    before it is.
    """

    def __init__(self, path: str, normalized: str, reason: str | None = None) -> None:
        self.reason = reason or f"No results for path: {normalized}"
        super().__init__(self.reason)
        self.path = path
        self.normalized = normalized


class Root:
    """Which document a path reads: the input, the context object, or a variable."""

    INPUT = "$"
    CONTEXT = "$$"


@dataclass(frozen=True)
class Path:
    """A compiled JSONPath. `keys` is set for simple definite paths, `expr` otherwise."""

    text: str
    root: str
    keys: tuple[Key, ...] | None = None
    expr: Any = field(default=None, compare=False)
    definite: bool = True

    @property
    def variable(self) -> str | None:
        """The variable name for `$name...` paths, else None."""
        return self.root[1:] if self.root not in (Root.INPUT, Root.CONTEXT) else None

    def find(self, document: Any) -> Any:
        """The value this path names in `document` (already the root it reads).

        Definite paths raise PathNotFound when nothing matches; indefinite ones return the
        list of matches (possibly empty), as AWS's JSONPath does.
        """
        if self.keys is not None:
            return _walk(document, self.keys, self.text)
        matches = [m.value for m in self.expr.find(document)]
        if self.definite:
            if not matches:
                raise PathNotFound(self.text, normalized_path(self.text))
            return matches[0]
        return matches

    def exists(self, document: Any) -> bool:
        """True when the path matches something (Choice `IsPresent`)."""
        try:
            found = self.find(document)
        except PathNotFound:
            return False
        return self.definite or bool(found)


def _walk(document: Any, keys: tuple[Key, ...], text: str) -> Any:
    node = document
    for depth, key in enumerate(keys):
        if isinstance(key, str):
            if not isinstance(node, dict) or key not in node:
                raise _missing(text, keys, depth)
            node = node[key]
        else:
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                raise _missing(text, keys, depth)
            node = node[key]
    return node


def _bracketed(root: str, keys: tuple[Key, ...]) -> str:
    return root + "".join(f"[{k}]" if isinstance(k, int) else f"['{k}']" for k in keys)


def _missing(text: str, keys: tuple[Key, ...], depth: int) -> PathNotFound:
    match = _ROOT.match(text.strip())
    root = match.group(1) if match else "$"
    normalized = _bracketed(root, keys)
    if depth == len(keys) - 1:
        return PathNotFound(text, normalized)
    prefix = _bracketed(root, keys[: depth + 1])
    return PathNotFound(text, normalized, f"Missing property in path {prefix}")


class _StrictSlice(Slice):
    """`[*]` and slices as AWS evaluates them: over arrays (and `[*]` over object values).

    jsonpath-ng wraps a non-array into a one-element array first; AWS does not.
    """

    def find(self, datum: Any) -> list[Any]:
        datum = DatumInContext.wrap(datum)
        value = datum.value
        if isinstance(value, dict) and self.start is None and self.end is None:
            return [DatumInContext(v, path=Fields(k), context=datum) for k, v in value.items()]
        if not isinstance(value, list):
            return []
        return list(super().find(datum))  # type: ignore[no-untyped-call,unused-ignore]


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {str(k): v for k, v in OPERATOR_MAP.items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(op: str, left: Any, right: Any) -> bool:
    """A filter comparison as Jayway (AWS's JSONPath) makes it: numbers order with numbers,
    strings with strings, and `==` also holds between a number and a string spelling it
    (RFC 9535, which jsonpath-ng follows, never equates a string and a number).
    """
    if op == "=~":
        return bool(_OPERATORS[op](left, right))
    if _is_number(left) and _is_number(right):
        return bool(_OPERATORS[op](left, right))
    if op in ("==", "=", "!="):
        same = _jayway_equal(left, right)
        return same if op != "!=" else not same
    if isinstance(left, str) and isinstance(right, str):
        return bool(_OPERATORS[op](left, right))
    return False


def _jayway_equal(node: Any, literal: Any) -> bool:
    """Jayway's `==`: a number and a string are equal when they spell the same number."""
    if _is_number(node) and isinstance(literal, str):
        try:
            return Decimal(literal) == Decimal(str(node))
        except InvalidOperation:
            return False
    if isinstance(node, str) and _is_number(literal):
        return node == str(literal)
    return type(node) is type(literal) and bool(node == literal)


class _StrictExpression(Expression):
    """One `@...` test of a filter, compared as `_compare` does."""

    def find(self, datum: Any) -> list[Any]:
        found = self.target.find(DatumInContext.wrap(datum))
        if not found or self.op is None:
            return list(found)
        return [match for match in found if _compare(self.op, match.value, self.value)]


class _StrictFilter(Filter):  # type: ignore[misc,unused-ignore]
    """`[?(...)]` over an object tests the object itself, as Jayway does (jsonpath-ng, after
    RFC 9535, tests its values); over an array, each element."""

    def find(self, datum: Any) -> list[Any]:
        datum = DatumInContext.wrap(datum)
        if isinstance(datum.value, dict):
            return [datum] if all(e.find(datum) for e in self.expressions) else []
        return list(super().find(datum))  # type: ignore[no-untyped-call,unused-ignore]


_COMPARISONS = frozenset({"==", "=", "!=", "<", "<=", ">", ">="})


def _strict_test(test: Any) -> Any:
    """A filter test: a comparison with a literal compares as `_compare` does; anything else
    (existence, `=~`, and in newer jsonpath-ng `!`, `||` and path operands) stays as parsed."""
    if (
        type(test) is Expression
        and test.op in _COMPARISONS
        and not isinstance(test.value, JSONPath)
    ):
        return _StrictExpression(_strict(test.target), test.op, test.value)
    return test


def _strict(expr: Any) -> Any:
    """Replace jsonpath-ng's lenient slices and filters throughout an expression."""
    if isinstance(expr, Slice) and not isinstance(expr, _StrictSlice):
        return _StrictSlice(expr.start, expr.end, expr.step)
    if type(expr) is Filter:
        return _StrictFilter([_strict_test(e) for e in expr.expressions])
    if isinstance(expr, JSONPath):
        for name, child in vars(expr).items():
            if isinstance(child, JSONPath):
                setattr(expr, name, _strict(child))
    return expr


def _split_simple(rest: str) -> tuple[Key, ...] | None:
    """Keys of a simple path tail like `.a['b'][0]`, or None when it is not that simple."""
    keys: list[Key] = []
    pos = 0
    while pos < len(rest):
        match = _STEP.match(rest, pos)
        if match is None:
            return None
        if match.group("index") is not None:
            keys.append(int(match.group("index")))
        else:
            name = match.group("name") or match.group("squote")
            keys.append(name if name is not None else match.group("dquote"))
        pos = match.end()
    return tuple(keys)


@lru_cache(maxsize=4096)
def compile_path(text: str) -> Path:
    """Compile a JSONPath (`$...`, `$$...` or `$var...`). Raises PathSyntaxError."""
    if not isinstance(text, str):
        raise PathSyntaxError(f"a path must be a string, got {json.dumps(text)}")
    stripped = text.strip()
    match = _ROOT.match(stripped)
    if match is None:
        raise PathSyntaxError(f"'{text}' is not a JSONPath: it must start with '$'")
    root = match.group(1)
    rest = stripped[match.end() :]
    keys = _split_simple(rest)
    if keys is not None:
        return Path(text, root, keys=keys)
    try:
        expr = _strict(jsonpath_parse("$" + rest))
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001
        raise PathSyntaxError(f"'{text}' is not a valid JSONPath: {exc}") from exc
    return Path(text, root, expr=expr, definite=_INDEFINITE.search(rest) is None)


@lru_cache(maxsize=4096)
def compile_reference_path(text: str) -> Path:
    """Compile a reference path: a JSONPath that names exactly one node (ResultPath)."""
    path = compile_path(text)
    if path.keys is None:
        raise PathSyntaxError(
            f"'{text}' is not a valid reference path: only names and array indexes are allowed"
        )
    if path.root != Root.INPUT:
        raise PathSyntaxError(f"'{text}' is not a valid reference path: it must start with '$'")
    return path


def normalized_path(text: str) -> str:
    """The bracketed form AWS prints in path errors: `$.a[0]` -> `$['a'][0]`."""
    match = _ROOT.match(text.strip())
    if match is None:
        return text
    keys = _split_simple(text.strip()[match.end() :])
    if keys is None:
        return text
    parts = "".join(f"[{k}]" if isinstance(k, int) else f"['{k}']" for k in keys)
    return match.group(1) + parts


class ReferenceConflict(SteplineError):
    """ResultPath names a place under a value that is not an object."""


def set_reference(document: Any, path: Path, value: Any) -> Any:
    """Return a copy of `document` with `value` placed at reference path `path`.

    Missing objects on the way are created, as AWS does; containers on the path are
    copied, everything else is shared. Raises ReferenceConflict when the path runs
    through a value that is neither an object (nor an array with that index).
    """
    keys = path.keys or ()
    if not keys:
        return value
    return _set(document, keys, value)


def _set(node: Any, keys: tuple[Key, ...], value: Any) -> Any:
    key, rest = keys[0], keys[1:]
    if isinstance(key, int):
        if not isinstance(node, list) or not -len(node) <= key < len(node):
            raise ReferenceConflict(f"index {key} does not exist")
        copy_list = list(node)
        copy_list[key] = _set(copy_list[key], rest, value) if rest else value
        return copy_list
    if node is None:
        node = {}
    if not isinstance(node, dict):
        raise ReferenceConflict(f"cannot set field '{key}' on a non-object value")
    copy = dict(node)
    copy[key] = _set(copy.get(key), rest, value) if rest else value
    return copy
