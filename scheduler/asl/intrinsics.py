"""Intrinsic functions (`States.Format(...)`, `States.MathAdd(...)`, ...) of JSONPath states.

A call is parsed once, by a small recursive-descent parser, into a tree of closures; a step
only runs the closures. AWS evaluates intrinsics on the JVM and it shows: numbers are rounded
the way Java's `Math.round` rounds (half up), `States.Format` prints objects the way Java's
`Map.toString` does (`{a=1, b=[]}`) and doubles the way `Double.toString` does (`1.0E10`),
and `States.StringSplit` splits like `java.util.StringTokenizer`.

Failures of a function are `States.IntrinsicFailure`; a path argument that matches nothing is
`States.Runtime`, like any other path. Reference:
https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError, SteplineError
from scheduler.asl.paths import Path, PathNotFound, PathSyntaxError, Root, compile_path
from scheduler.asl.scope import Scope

Evaluator = Callable[[Scope], Any]

MAX_NESTING = 10
"""AWS: "You can nest up to 10 intrinsic functions within a field"."""
MAX_RANGE_ITEMS = 1000
"""AWS: the array States.ArrayRange makes "can't contain more than 1000 items"."""
MAX_TEXT_CHARS = 10_000
"""AWS: Base64Encode, Base64Decode and Hash take a string of "up to 10,000 characters"."""
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_HASH_NAMES = ("MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512")
HASH_ALGORITHMS = {name: name.replace("-", "").lower() for name in _HASH_NAMES}
"""The algorithms States.Hash accepts, and hashlib's name for each."""


class IntrinsicSyntaxError(SteplineError):
    """An intrinsic function call that does not parse, or names no known function."""


# --- Values as the JVM sees them --------------------------------------------------------


def java_double(value: float) -> str:
    """`value` printed as Java's `Double.toString` prints it (`1.1`, `1.0E10`, `1.0E-4`)."""
    if value == 0 or not math.isfinite(value):
        special = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}
        return special.get(repr(value), repr(value))  # 0.0 and -0.0 print as in Python
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)  # positional in this range, always with a fraction part
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    significant = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{significant[0]}.{significant[1:] or '0'}E{power}"


def json_text(value: Any) -> str:
    """Compact JSON as AWS's Jackson writes it: no spaces, raw non-ASCII, Java doubles."""
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        members = (f"{json.dumps(k, ensure_ascii=False)}:{json_text(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    return json.dumps(value, ensure_ascii=False)


def format_text(value: Any) -> str:
    """How `States.Format` prints a value: strings raw, containers as Java's toString."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(format_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_text(v)}" for k, v in value.items()) + "}"
    return json_text(value)


def _key(value: Any) -> Any:
    """A hashable identity with Java's equality: `true` is not 1, 1 is not 1.0, maps unordered."""
    if isinstance(value, list):
        return ("list", tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _key(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def _java_round(value: float) -> int:
    """Round half up, as Java's `Math.round` does (Python's `round` rounds half to even)."""
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def _java_random_int(seed: int, bound: int) -> int:
    """`new java.util.Random(seed).nextInt(bound)`: one seed, one number, on any platform."""
    mask = (1 << 48) - 1
    state = (seed ^ 0x5DEECE66D) & mask
    while True:
        state = (state * 0x5DEECE66D + 0xB) & mask
        bits = state >> 17  # Random.next(31)
        if bound & (bound - 1) == 0:
            return (bound * bits) >> 31
        if bits - bits % bound + bound - 1 <= INT32_MAX:
            return bits % bound


# --- Arguments: each function declares the kind of each argument --------------------------

_KINDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "array": (list, "an array"),
    "object": (dict, "a JSON object"),
    "string": (str, "a string"),
    "text": (str, "a string"),
    "bool": (bool, "a boolean"),
    "int": ((int, float), "an integer"),
    "int32": ((int, float), "an integer"),
}


def _fail(function: str, message: str) -> StatesError:
    """The States.IntrinsicFailure a function raises: Retry and Catch can match it."""
    return StatesError(ErrorName.INTRINSIC_FAILURE, f"Invalid arguments in {function}: {message}")


def _shown(value: Any) -> str:
    """A value quoted in a cause, cut short so causes stay readable."""
    text = json_text(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _check(function: str, position: int, kind: str, value: Any) -> Any:
    """Argument `position` of `function` as `kind` wants it; integers are rounded, as AWS does.

    `text` is a string of at most MAX_TEXT_CHARS (counted in UTF-16 units, as Java counts);
    `int32` an integer in Java's int range.
    """
    if kind == "any":
        return value
    what, (types, described) = f"argument {position}", _KINDS[kind]
    wrong_type = isinstance(value, bool) != (kind == "bool") or not isinstance(value, types)
    if wrong_type or (isinstance(value, float) and not math.isfinite(value)):
        raise _fail(function, f"{what} must be {described}, got {_shown(value)}")
    if kind == "text" and len(value) > MAX_TEXT_CHARS // 2:
        length = len(value.encode("utf-16-le")) // 2
        if length > MAX_TEXT_CHARS:
            raise _fail(function, f"{what} has {length} characters, more than {MAX_TEXT_CHARS}")
    if isinstance(value, float):
        value = _java_round(value)
    if kind == "int32" and not INT32_MIN <= value <= INT32_MAX:
        raise _fail(function, f"{what} must be between {INT32_MIN} and {INT32_MAX}, got {value}")
    return value


# --- The functions (arguments already checked against their kinds) -----------------------


def _format(pieces: Sequence[str], values: Sequence[Any]) -> str:
    """Join the template's pieces, each `{}` replaced by the matching value."""
    if len(pieces) - 1 != len(values):
        counts = f"{len(pieces) - 1} '{{}}' placeholder(s) but {len(values)} value(s)"
        raise _fail("States.Format", f"the template has {counts}")
    parts = [pieces[0]]
    for value, piece in zip(values, pieces[1:], strict=True):
        parts += (format_text(value), piece)
    return "".join(parts)


def _string_to_json(text: str) -> Any:
    """Parse JSON text; empty or blank text is null, as on AWS. NaN and Infinity are refused."""
    if not text.strip():
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _fail("States.StringToJson", f"{_shown(text)} is not valid JSON ({exc})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"'{name}' is not a JSON value")


def _array_partition(items: list[Any], size: int) -> list[list[Any]]:
    if size <= 0:
        raise _fail("States.ArrayPartition", f"the chunk size must be positive, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_range(start: int, end: int, step: int) -> list[int]:
    """From `start` towards `end` inclusive, by `step` (which may be negative)."""
    if step == 0:
        raise _fail("States.ArrayRange", "the step (argument 3) must not be 0")
    count = 0 if (end - start) * step < 0 else (end - start) // step + 1
    if count > MAX_RANGE_ITEMS:
        raise _fail(
            "States.ArrayRange", f"the range has {count} items, more than {MAX_RANGE_ITEMS}"
        )
    return [start + i * step for i in range(count)]


def _array_get_item(items: list[Any], index: int) -> Any:
    if not 0 <= index < len(items):
        raise _fail("States.ArrayGetItem", f"index {index} is out of bounds (length {len(items)})")
    return items[index]


def _array_unique(items: list[Any]) -> list[Any]:
    """Each distinct value once, where it first occurs."""
    unique: dict[Any, Any] = {}
    for item in items:
        unique.setdefault(_key(item), item)
    return list(unique.values())


def _base64_decode(text: str) -> str:
    """Decode leniently, like Java's MIME decoder: padding optional, stray characters skipped."""
    data = re.sub(r"[^A-Za-z0-9+/]", "", text.split("=", 1)[0])
    try:
        if len(data) % 4 == 1:
            raise binascii.Error("truncated")
        raw = base64.b64decode(data + "=" * (-len(data) % 4))
    except binascii.Error:
        raise _fail("States.Base64Decode", f"{_shown(text)} is not valid Base64") from None
    return raw.decode("utf-8", errors="replace")


def _hash(data: str, algorithm: str) -> str:
    if algorithm not in HASH_ALGORITHMS:
        known = ", ".join(HASH_ALGORITHMS)
        raise _fail("States.Hash", f"unknown algorithm {_shown(algorithm)}; use one of {known}")
    digest = hashlib.new(HASH_ALGORITHMS[algorithm], usedforsecurity=False)
    digest.update(data.encode("utf-8"))
    return digest.hexdigest()


def _json_merge(first: dict[str, Any], second: dict[str, Any], deep: bool) -> dict[str, Any]:
    """Shallow merge, the only mode AWS supports: the second object's keys win."""
    if deep:
        raise _fail("States.JsonMerge", "deep merging is not supported: argument 3 must be false")
    return {**first, **second}


def _math_random(start: int, end: int, seed: int | None = None) -> int:
    """A number in [start, end); the same seed always gives the same number."""
    if start >= end:
        raise _fail("States.MathRandom", f"the start ({start}) must be less than the end ({end})")
    if end - start > INT32_MAX:
        raise _fail("States.MathRandom", f"the range from {start} to {end} is too large")
    if seed is None:
        return random.randrange(start, end)
    return start + _java_random_int(seed, end - start)


def _string_split(text: str, delimiters: str) -> list[str]:
    """Split at any of the delimiter characters, dropping empty tokens (StringTokenizer)."""
    if not delimiters:
        return [text] if text else []
    return [token for token in re.split(f"[{re.escape(delimiters)}]", text) if token]


@dataclass(frozen=True, slots=True)
class _Spec:
    """A function: the kind of each argument, how many trailing ones are optional, the kind
    of any further ones (None: no more allowed), and what it computes."""

    kinds: tuple[str, ...]
    run: Callable[..., Any]
    optional: int = 0
    rest: str | None = None

    def apply(self, name: str, values: Sequence[Any]) -> Any:
        """Check the argument values against their kinds, then run the function."""
        extra = len(values) - len(self.kinds)
        kinds = self.kinds + (self.rest or "any",) * extra if extra > 0 else self.kinds
        pairs = enumerate(zip(kinds, values, strict=False), start=1)  # optional: zip stops
        return self.run(*(_check(name, i, kind, value) for i, (kind, value) in pairs))


FUNCTIONS: dict[str, _Spec] = {
    "States.Format": _Spec(("string",), lambda t, *v: _format(t.split("{}"), v), rest="any"),
    "States.StringToJson": _Spec(("string",), _string_to_json),
    "States.JsonToString": _Spec(("any",), json_text),
    "States.Array": _Spec((), lambda *values: list(values), rest="any"),
    "States.ArrayPartition": _Spec(("array", "int"), _array_partition),
    "States.ArrayContains": _Spec(
        ("array", "any"), lambda items, value: _key(value) in {_key(item) for item in items}
    ),
    "States.ArrayRange": _Spec(("int", "int", "int"), _array_range),
    "States.ArrayGetItem": _Spec(("array", "int"), _array_get_item),
    "States.ArrayLength": _Spec(("array",), len),
    "States.ArrayUnique": _Spec(("array",), _array_unique),
    "States.Base64Encode": _Spec(
        ("text",), lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii")
    ),
    "States.Base64Decode": _Spec(("text",), _base64_decode),
    "States.Hash": _Spec(("text", "string"), _hash),
    "States.JsonMerge": _Spec(("object", "object", "bool"), _json_merge),
    "States.MathRandom": _Spec(("int32", "int32", "int"), _math_random, optional=1),
    "States.MathAdd": _Spec(("int32", "int32"), lambda a, b: a + b),
    "States.StringSplit": _Spec(("string", "string"), _string_split),
    "States.UUID": _Spec((), lambda: str(uuid.uuid4())),
}
"""Every intrinsic function AWS defines for JSONPath states, by name."""


# --- Parsing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    """A literal argument; a string also keeps its text split at unescaped `{}`."""

    value: Any
    pieces: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class _Call:
    """A call of the function `name` with its parsed arguments."""

    name: str
    args: tuple[_Literal | Path | _Call, ...]


_Node = _Literal | Path | _Call
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_KEYWORD = re.compile(r"(?:true|false|null)(?![A-Za-z0-9_])")


class _Parser:
    """Recursive descent: call := NAME '(' [arg (',' arg)*] ')', where an arg is a literal,
    a path or a call."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> IntrinsicSyntaxError:
        return _syntax(self.text, f"{message} (at position {self.pos})")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def parse(self) -> _Call:
        self.skip_space()
        call = self.call(1)
        self.skip_space()
        if self.pos != len(self.text):
            raise self.error("unexpected text after the call's closing ')'")
        return call

    def call(self, depth: int) -> _Call:
        if depth > MAX_NESTING:
            raise self.error(f"more than {MAX_NESTING} nested intrinsic functions")
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.error("expected an intrinsic function name such as 'States.Format'")
        if match.group() not in FUNCTIONS:
            raise self.error(f"unknown intrinsic function '{match.group()}'")
        name, self.pos = match.group(), match.end()
        if self.peek() != "(":
            raise self.error(f"expected '(' after '{name}'")
        self.pos += 1
        args: list[_Node] = []
        self.skip_space()
        closed = self.peek() == ")"
        self.pos += closed
        while not closed:
            args.append(self.argument(depth))
            self.skip_space()
            separator = self.peek()
            if separator not in (",", ")"):
                raise self.error("expected ',' or ')' after an argument")
            self.pos += 1
            closed = separator == ")"
            self.skip_space()
        _check_call(self.text, name, args)
        return _Call(name, tuple(args))

    def argument(self, depth: int) -> _Node:
        if self.peek() == "'":
            return self.string()
        if self.peek() == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call(depth + 1)
        if match := _NUMBER.match(self.text, self.pos):
            self.pos, word = match.end(), match.group()
            return _Literal(float(word) if any(c in word for c in ".eE") else int(word))
        if match := _KEYWORD.match(self.text, self.pos):
            self.pos = match.end()
            return _Literal({"true": True, "false": False, "null": None}[match.group()])
        raise self.error(
            "expected an argument: a 'string', a number, true, false, null, "
            "a path or an intrinsic function call"
        )

    def string(self) -> _Literal:
        """A single-quoted string; `\\'`, `\\{`, `\\}` and `\\\\` stand for the character."""
        self.pos += 1
        pieces: list[str] = []
        chars: list[str] = []
        while (char := self.peek()) != "'":
            if not char:
                raise self.error("unterminated string literal")
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if not escaped or escaped not in "'{}\\":
                    raise self.error("a backslash in a string must escape one of ' { } \\")
                chars.append(escaped)
                self.pos += 2
            elif self.text.startswith("{}", self.pos):
                pieces.append("".join(chars))
                chars = []
                self.pos += 2
            else:
                chars.append(char)
                self.pos += 1
        self.pos += 1
        pieces.append("".join(chars))
        return _Literal("{}".join(pieces), tuple(pieces))

    def path(self) -> Path:
        """A JSONPath: up to the first ',', ')' or space outside brackets and quotes."""
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"" and depth:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])" and depth:
                depth -= 1
            elif depth == 0 and (char in "])," or char.isspace()):
                break
            self.pos += 1
        if quote or depth:
            raise self.error("unterminated path argument")
        try:
            return compile_path(self.text[start : self.pos])
        except PathSyntaxError as exc:
            raise self.error(f"invalid path argument: {exc}") from None


def _check_call(text: str, name: str, args: Sequence[_Node]) -> None:
    """Reject what is wrong before any input is seen: the arity, a literal Format template."""
    spec = FUNCTIONS[name]
    least, most = len(spec.kinds) - spec.optional, None if spec.rest else len(spec.kinds)
    if len(args) < least or (most is not None and len(args) > most):
        expected = f"{least}" if least == most else f"{least} to {most or 'any number of'}"
        raise _syntax(text, f"{name} takes {expected} argument(s), got {len(args)}")
    template = args[0] if name == "States.Format" else None
    if isinstance(template, _Literal) and template.pieces is None:
        raise _syntax(text, "the template (first argument) of States.Format must be a string")
    if isinstance(template, _Literal) and len(template.pieces or ()) != len(args):
        placeholders = len(template.pieces or ()) - 1
        raise _syntax(
            text,
            f"the States.Format template has {placeholders} '{{}}' placeholder(s) "
            f"but {len(args) - 1} value(s) follow it",
        )


def _syntax(text: str, problem: str) -> IntrinsicSyntaxError:
    return IntrinsicSyntaxError(f"Invalid intrinsic function call {text!r}: {problem}")


# --- Building the evaluator ---------------------------------------------------------------


def _build(node: _Node) -> Evaluator:
    """Turn a parsed node into a closure `scope -> value`."""
    if isinstance(node, _Literal):
        value = node.value
        return lambda _scope: value
    if isinstance(node, Path):
        return _path_reader(node)
    args = [_build(arg) for arg in node.args]
    template = node.args[0] if node.name == "States.Format" else None
    if isinstance(template, _Literal) and template.pieces is not None:
        pieces, values = template.pieces, args[1:]
        return lambda scope: _format(pieces, [value(scope) for value in values])
    name, apply = node.name, FUNCTIONS[node.name].apply
    return lambda scope: apply(name, [arg(scope) for arg in args])


def _path_reader(path: Path) -> Evaluator:
    """Read a path argument; no match is States.Runtime, as for any other path."""

    def read(scope: Scope) -> Any:
        try:
            return scope.resolve(path)
        except PathNotFound:
            documents = {Root.INPUT: scope.input, Root.CONTEXT: scope.context}
            document = documents.get(path.root, scope.variables.get(path.root[1:]))
            raise StateRuntimeError(
                f"The JsonPath argument for the field '{path.text}' could not be found "
                f"in the input '{json_text(document)}'"
            ) from None

    return read


class Intrinsic:
    """A compiled intrinsic function call: parsed once, evaluated per step."""

    __slots__ = ("text", "_evaluate")

    def __init__(self, text: str) -> None:
        self.text = text
        self._evaluate = _build(_Parser(text).parse())

    def evaluate(self, scope: Scope) -> Any:
        """Run the call. Raises StatesError (States.IntrinsicFailure, States.Runtime)."""
        return self._evaluate(scope)

    def __repr__(self) -> str:
        return f"Intrinsic({self.text!r})"


def is_intrinsic(text: str) -> bool:
    """True when a `.$` value is an intrinsic call rather than a path."""
    return text.lstrip().startswith("States.")


@lru_cache(maxsize=4096)
def compile_intrinsic(text: str) -> Intrinsic:
    """Parse an intrinsic call once. Raises IntrinsicSyntaxError."""
    if not isinstance(text, str):
        raise IntrinsicSyntaxError(f"an intrinsic function call must be a string, got {text!r}")
    return Intrinsic(text)
