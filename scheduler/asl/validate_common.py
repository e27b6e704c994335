"""Shared parts of the definition validator: diagnostics, the report, and value checks.

A `Report` collects every `Diagnostic` of one validation run. Locations are JSON-pointer
paths (`/States/Foo/Retry/0/BackoffRate`, RFC 6901 escaping); the document root is `/`.
The value checks here (integers, timestamps, paths, payload templates, JSONata strings)
are shared by the per-state checks in `validate_states`, `validate_map` and
`validate_choice`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeGuard

from scheduler.asl.intrinsics import IntrinsicSyntaxError, compile_intrinsic, is_intrinsic
from scheduler.asl.jsonata import is_expression
from scheduler.asl.paths import PathSyntaxError, compile_path, compile_reference_path

JSONPATH = "JSONPath"
JSONATA = "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)

#: Deepest nesting of sub-machines (Parallel branches, Map processors) and Choice rules we
#: validate. AWS documents no number; this bound only keeps validation from recursing without
#: limit on hostile input. Real definitions nest a handful of levels.
MAX_NESTING = 100


class Code(StrEnum):
    """Diagnostic codes, as AWS's ValidateStateMachineDefinition names them."""

    INVALID_JSON_DESCRIPTION = "INVALID_JSON_DESCRIPTION"
    MISSING_DESCRIPTION = "MISSING_DESCRIPTION"
    SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
    INVALID_RESOURCE = "INVALID_RESOURCE"
    MISSING_END_STATE = "MISSING_END_STATE"
    DUPLICATE_STATE_NAME = "DUPLICATE_STATE_NAME"
    INVALID_STATE_NAME = "INVALID_STATE_NAME"
    DUPLICATE_LABEL_NAME = "DUPLICATE_LABEL_NAME"
    INVALID_LABEL_NAME = "INVALID_LABEL_NAME"
    MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"
    TOO_DEEPLY_NESTED = "TOO_DEEPLY_NESTED"
    NO_DOLLAR = "NO_DOLLAR"
    PASS_RESULT_IS_STATIC = "PASS_RESULT_IS_STATIC"
    INVALID_JSONATA_EXPRESSION = "INVALID_JSONATA_EXPRESSION"
    UNSUPPORTED_JSONATA_EXPRESSION = "UNSUPPORTED_JSONATA_EXPRESSION"
    UNASSIGNED_VARIABLE = "UNASSIGNED_VARIABLE"


class Severity(StrEnum):
    """ERROR blocks creating the state machine; WARNING does not."""

    ERROR = "ERROR"
    WARNING = "WARNING"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a definition, located, as AWS's ValidateStateMachineDefinition."""

    code: str
    location: str
    message: str
    severity: str = "ERROR"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def child(location: str, key: str | int) -> str:
    """The JSON pointer of member `key` under `location` (`/` is the root)."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"/{token}" if location == "/" else f"{location}/{token}"


@dataclass
class Report:
    """Diagnostics of one validation run, plus what must be unique across the machine."""

    unknown_fields_are_errors: bool = True
    diagnostics: list[Diagnostic] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def error(self, location: str, message: str, code: str = Code.SCHEMA_VALIDATION_FAILED) -> None:
        """Record a problem that makes the definition invalid."""
        self.diagnostics.append(Diagnostic(str(code), location, message, Severity.ERROR.value))

    def warning(self, location: str, message: str, code: str) -> None:
        """Record a likely mistake that does not make the definition invalid."""
        self.diagnostics.append(Diagnostic(str(code), location, message, Severity.WARNING.value))

    def unknown(self, location: str, message: str) -> None:
        """Something newer than we know (a field, an enum value): ERROR or WARNING by policy."""
        if self.unknown_fields_are_errors:
            self.error(location, message)
        else:
            self.warning(location, message, Code.SCHEMA_VALIDATION_FAILED)


#: Validates a nested state machine: (node, location, allowed fields, what it is).
NestedCheck = Callable[[Any, str, frozenset[str], str], None]
#: Records a transition: (location of the field naming the target, target).
TransitionCheck = Callable[[str, Any], None]


@dataclass(frozen=True)
class StateCtx:
    """What a per-type check knows about the state it checks."""

    report: Report
    location: str
    type: str
    jsonata: bool
    transition: TransitionCheck
    nested: NestedCheck


# --- scalar values ----------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (booleans are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_jsonata(value: Any) -> bool:
    """A JSONata expression string: exactly `{% ... %}`, no surrounding whitespace."""
    return is_expression(value)


def is_timestamp(value: Any) -> bool:
    """An RFC 3339 timestamp with an uppercase T and Z (or a numeric offset), as ASL requires."""
    if not isinstance(value, str):
        return False
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        # The calendar repeats every 400 years: this also accepts years 0000 to 0099.
        datetime(2000 + year % 400, month, day, hour, minute, second)
    except ValueError:
        return False
    offset = match.group(8)
    return offset == "Z" or (int(offset[1:3]) < 24 and int(offset[4:6]) < 60)


def kind(value: Any) -> str:
    """The JSON type name of `value`, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_string(report: Report, location: str, value: Any) -> bool:
    """Report unless `value` is a string."""
    if isinstance(value, str):
        return True
    report.error(location, f"must be a string, got {kind(value)}")
    return False


def check_int(
    report: Report,
    location: str,
    value: Any,
    *,
    minimum: int,
    maximum: int | None = None,
    jsonata: bool = False,
) -> bool:
    """Report unless `value` is an integer in [minimum, maximum] (or, in JSONata, `{% %}`)."""
    if jsonata and is_jsonata(value):
        return True
    expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if maximum is not None:
        expected = f"an integer from {minimum} to {maximum}"
    if jsonata:
        expected += " or a JSONata expression {% ... %}"
    if not is_int(value):
        report.error(location, f"must be {expected}, got {kind(value)}")
        return False
    if value < minimum or (maximum is not None and value > maximum):
        report.error(location, f"must be {expected}, got {value}")
        return False
    return True


def check_path(report: Report, location: str, value: Any, *, nullable: bool = False) -> bool:
    """Report unless `value` is a JSONPath (`$...`, `$$...`, `$var...`), or null if allowed."""
    if value is None and nullable:
        return True
    if not isinstance(value, str):
        allowed = "a JSONPath string or null" if nullable else "a JSONPath string"
        report.error(location, f"must be {allowed}, got {kind(value)}")
        return False
    try:
        compile_path(value)
    except PathSyntaxError as exc:
        report.error(location, str(exc))
        return False
    return True


def check_reference_path(report: Report, location: str, value: Any) -> bool:
    """Report unless `value` is null or a reference path (names one node of `$`)."""
    if value is None:
        return True
    if not isinstance(value, str):
        report.error(location, f"must be a reference path string or null, got {kind(value)}")
        return False
    try:
        compile_reference_path(value)
    except PathSyntaxError as exc:
        report.error(location, str(exc))
        return False
    return True


def check_path_or_intrinsic(report: Report, location: str, value: Any) -> bool:
    """Report unless `value` is a JSONPath or an intrinsic function call (a `.$` value)."""
    if not isinstance(value, str):
        report.error(
            location, f"must be a JSONPath or intrinsic function string, got {kind(value)}"
        )
        return False
    if not is_intrinsic(value):
        return check_path(report, location, value)
    try:
        compile_intrinsic(value)
    except NotImplementedError:
        return True  # the intrinsic parser has not landed yet: nothing to check against
    except IntrinsicSyntaxError as exc:
        report.error(location, f"invalid intrinsic function call: {exc}")
        return False
    return True


def check_exclusive(report: Report, location: str, node: dict[str, Any], *names: str) -> None:
    """Report when more than one of `names` is present in `node`."""
    present = [name for name in names if name in node]
    if len(present) > 1:
        listed = ", ".join(f'"{name}"' for name in present)
        report.error(location, f"{listed} are mutually exclusive: use only one")


def expect_object(report: Report, location: str, value: Any) -> dict[str, Any] | None:
    """`value` when it is a JSON object, else report and return None."""
    if isinstance(value, dict):
        return value
    report.error(location, f"must be an object, got {kind(value)}")
    return None


# --- payload templates ------------------------------------------------------------------

_LOOKS_LIKE_PATH = re.compile(r"^\$\$?(\.|\[)")


def check_template(report: Report, location: str, template: Any, *, static: bool = False) -> None:
    """Check a JSONPath payload template (Parameters, ResultSelector, ItemSelector, Assign).

    Every key ending in `.$` needs a string value that is a path or an intrinsic call;
    a plain key whose string value looks like one gets a NO_DOLLAR warning. With `static`
    (a Pass state's Result), `.$` keys are not evaluated: each gets a PASS_RESULT_IS_STATIC
    warning instead. Iterative, so deep templates cannot exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [(location, template)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, list):
            stack.extend((child(where, i), item) for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, dict):
            _check_template_object(report, where, node, static, stack)


def _check_template_object(
    report: Report, where: str, node: dict[str, Any], static: bool, stack: list[tuple[str, Any]]
) -> None:
    deferred: list[tuple[str, Any]] = []
    for key, value in node.items():
        at = child(where, key)
        if static:
            if key.endswith(".$"):
                report.warning(
                    at,
                    f'"{key}" ends in ".$" but Result is static: the value is not evaluated',
                    Code.PASS_RESULT_IS_STATIC,
                )
            deferred.append((at, value))
        elif key.endswith(".$"):
            check_path_or_intrinsic(report, at, value)
        else:
            if _looks_dynamic(value):
                report.warning(
                    at,
                    f'the value looks like a path or intrinsic function, but the key "{key}" '
                    'does not end in ".$", so it is passed as a literal string',
                    Code.NO_DOLLAR,
                )
            if f"{key}.$" in node:
                report.error(at, f'"{key}" and "{key}.$" are both set: keep only one')
            deferred.append((at, value))
    stack.extend(reversed(deferred))


def _looks_dynamic(value: Any) -> bool:
    """A literal string that was probably meant as a path or intrinsic call."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return bool(_LOOKS_LIKE_PATH.match(text)) or (
        is_intrinsic(text) and "(" in text and text.endswith(")")
    )
