"""JSONata-mode fields: JSON values with `{% %}` expressions in them, and their errors.

`Arguments`, `Output`, `Assign`, `ItemSelector` and a Map's `Items` are JSON in which any
string that is exactly `{% ... %}` (at any depth, in objects and arrays, never a key) is
replaced by the expression's value; everything else is literal. The scalar fields (`Seconds`,
`Timestamp`, `MaxConcurrency`, `Error`...) hold a literal or one expression whose value must
have the field's type.

Every expression sees `$states` (`input`, `context`, and where the field allows it `result`
or `errorOutput`) and the workflow variables, by name. Failures are
`States.QueryEvaluationError` with AWS's cause texts and the field's location, with `/`
before each object key and `[i]` for each array index (`Output/result`, `Items[2]`):

- `The JSONata expression '$x' specified for the field 'Output/result' returned nothing
  (undefined).`
- `... returned an unexpected result type. Expected 'array', but was 'boolean' for value:
  true`
- `... threw an error during evaluation. T0410: Argument 1 of function "range" does not
  match function signature`
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scheduler.asl.errors import QueryEvaluationError
from scheduler.asl.jsonata import (
    UNDEFINED,
    Expression,
    JsonataEvaluationError,
    UnsupportedResult,
    compile_expression,
    expression_text,
    is_expression,
)
from scheduler.asl.scope import ABSENT, Scope

FieldValue = Callable[[Scope], Any]
"""A compiled JSONata-mode field: evaluates against a scope, raises QueryEvaluationError."""


def states_bindings(scope: Scope) -> dict[str, Any]:
    """`$states` and the variables, as one evaluation's bindings."""
    states: dict[str, Any] = {"input": scope.input, "context": dict(scope.context)}
    if scope.result is not ABSENT:
        states["result"] = scope.result
    if scope.error_output is not ABSENT:
        states["errorOutput"] = scope.error_output
    return {**scope.variables, "states": states}


def json_type(value: Any) -> str:
    """The JSON type name AWS prints in "Expected 'array', but was 'object'"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def compact(value: Any) -> str:
    """Compact JSON, as AWS prints values inside causes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _prefix(expression: Expression, location: str) -> str:
    return f"The JSONata expression '{expression.text}' specified for the field '{location}'"


def evaluate_expression(expression: Expression, location: str, scope: Scope) -> Any:
    """One expression's value; undefined and evaluation failures raise AWS's errors."""
    try:
        value = expression.evaluate(states_bindings(scope))
    except UnsupportedResult:
        raise QueryEvaluationError(
            f"{_prefix(expression, location)} returned an unsupported result type.", location
        ) from None
    except JsonataEvaluationError as error:
        detail = f"{error.code}: {error.message}" if error.code else error.message
        raise QueryEvaluationError(
            f"{_prefix(expression, location)} threw an error during evaluation. {detail}",
            location,
        ) from None
    if value is UNDEFINED:
        raise QueryEvaluationError(
            f"{_prefix(expression, location)} returned nothing (undefined).", location
        )
    return value


def unexpected_type(expression: Expression, location: str, expected: str, value: Any) -> str:
    """AWS's cause for an expression whose value has the wrong JSON type."""
    return (
        f"{_prefix(expression, location)} returned an unexpected result type. "
        f"Expected '{expected}', but was '{json_type(value)}' for value: {compact(value)}"
    )


def compile_value(value: Any, location: str) -> FieldValue:
    """Compile a JSON value whose `{% %}` strings are expressions (Arguments, Output...).

    Subtrees with no expression are returned as they are (never mutated downstream).
    """
    if is_expression(value):
        expression = compile_expression(expression_text(value))
        return lambda scope: evaluate_expression(expression, location, scope)
    if not _has_expression(value):
        return lambda _scope: value
    if isinstance(value, dict):
        fields = [(key, compile_value(item, f"{location}/{key}")) for key, item in value.items()]
        return lambda scope: {key: field(scope) for key, field in fields}
    items = [compile_value(item, f"{location}[{i}]") for i, item in enumerate(value)]
    return lambda scope: [item(scope) for item in items]


def _has_expression(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_expression(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_expression(item) for item in value)
    return is_expression(value)


def compile_typed(value: Any, location: str, check: Callable[[Any], str | None]) -> FieldValue:
    """A scalar field holding a literal or one expression whose value `check` accepts.

    `check(value)` returns None when the value is acceptable, else the JSON type the field
    expected (for the "unexpected result type" cause). Literals were checked by validation.
    """
    if not is_expression(value):
        return lambda _scope: value
    expression = compile_expression(expression_text(value))

    def evaluate(scope: Scope) -> Any:
        result = evaluate_expression(expression, location, scope)
        expected = check(result)
        if expected is not None:
            raise QueryEvaluationError(
                unexpected_type(expression, location, expected, result), location
            )
        return result

    return evaluate


def expect_integer(value: Any) -> str | None:
    """Accepts whole numbers (2 and 2.0); else 'integer'."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "integer"
    return None if float(value).is_integer() else "integer"


def expect_number(value: Any) -> str | None:
    """Accepts numbers; else 'number'."""
    return None if isinstance(value, int | float) and not isinstance(value, bool) else "number"


def expect_string(value: Any) -> str | None:
    """Accepts strings; else 'string'."""
    return None if isinstance(value, str) else "string"


def expect_boolean(value: Any) -> str | None:
    """Accepts true and false; else 'boolean'."""
    return None if isinstance(value, bool) else "boolean"


def expect_array(value: Any) -> str | None:
    """Accepts arrays; else 'array'."""
    return None if isinstance(value, list) else "array"
