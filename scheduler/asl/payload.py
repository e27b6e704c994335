"""Payload templates: Parameters, ResultSelector, ItemSelector (JSONPath mode).

A template is JSON in which a key ending in `.$` takes its value from a path or an
intrinsic call. Compiled once into a small tree; subtrees with nothing dynamic are kept
as constants and returned as-is (values are never mutated downstream, so sharing is safe).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scheduler.asl.errors import StateRuntimeError
from scheduler.asl.intrinsics import compile_intrinsic, is_intrinsic
from scheduler.asl.paths import PathNotFound, Root, compile_path
from scheduler.asl.scope import Scope

Evaluator = Callable[[Scope], Any]


def to_json(value: Any) -> str:
    """Compact JSON, as AWS prints values inside error causes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def compile_template(template: Any) -> Evaluator:
    """Compile a payload template into `evaluate(scope) -> value`."""
    if not _is_dynamic(template):
        return lambda _scope: template
    if isinstance(template, dict):
        return _compile_object(template)
    items = [compile_template(item) for item in template]
    return lambda scope: [item(scope) for item in items]


def _is_dynamic(template: Any) -> bool:
    if isinstance(template, dict):
        return any(k.endswith(".$") or _is_dynamic(v) for k, v in template.items())
    if isinstance(template, list):
        return any(_is_dynamic(item) for item in template)
    return False


def _compile_object(template: dict[str, Any]) -> Evaluator:
    fields: list[tuple[str, Evaluator]] = []
    for key, value in template.items():
        if key.endswith(".$"):
            fields.append((key[:-2], compile_dynamic_value(key, value)))
        else:
            fields.append((key, compile_template(value)))

    def evaluate(scope: Scope) -> dict[str, Any]:
        return {name: field(scope) for name, field in fields}

    return evaluate


def compile_dynamic_value(field_name: str, expression: str) -> Evaluator:
    """A `.$` value: an intrinsic call or a path read from the scope."""
    if is_intrinsic(expression):
        return compile_intrinsic(expression).evaluate
    path = compile_path(expression)

    def read(scope: Scope) -> Any:
        try:
            return scope.resolve(path)
        except PathNotFound:
            document = scope.context if path.root == Root.CONTEXT else scope.input
            raise StateRuntimeError(
                f"The JSONPath '{path.text}' specified for the field '{field_name}' "
                f"could not be found in the input '{to_json(document)}'"
            ) from None

    return read
