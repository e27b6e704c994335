"""Compiling single fields: paths, and the fields that hold a literal or an expression.

A field such as Wait `Seconds` or Map `MaxConcurrency` holds a literal in a JSONPath state
(with a `*Path` twin) and, in a JSONata state, a literal or one `{% %}` expression whose
value is checked when it is evaluated.
"""

from __future__ import annotations

from typing import Any

from scheduler.asl.jsonata import is_expression
from scheduler.asl.jsonata_fields import (
    FieldValue,
    compile_typed,
    compile_value,
    expect_array,
    expect_integer,
    expect_number,
    expect_string,
)
from scheduler.asl.paths import Path, compile_path, compile_reference_path

IDENTITY = compile_reference_path("$")

#: The type each JSONata scalar field's expression must give (None: checked by its user).
_SCALAR_CHECKS = {
    "Seconds": expect_integer,
    "Timestamp": None,
    "Error": expect_string,
    "Cause": expect_string,
    "TimeoutSeconds": expect_integer,
    "HeartbeatSeconds": expect_integer,
    "MaxConcurrency": expect_integer,
    "ToleratedFailureCount": expect_integer,
    "ToleratedFailurePercentage": expect_number,
    "MaxItems": expect_integer,
    "MaxItemsPerBatch": expect_integer,
    "MaxInputBytesPerBatch": expect_integer,
}


def optional_path(body: dict[str, Any], key: str) -> Path | None:
    """An InputPath/OutputPath-like field: absent means `$`, null means None."""
    if key not in body:
        return IDENTITY
    value = body[key]
    return None if value is None else compile_path(value)


def result_path(body: dict[str, Any]) -> Path | None:
    """ResultPath: absent means `$`, null means None (keep the input)."""
    if "ResultPath" not in body:
        return IDENTITY
    value = body["ResultPath"]
    return None if value is None else compile_reference_path(value)


def path_field(body: dict[str, Any], key: str) -> Path | None:
    """A `*Path` field, when present."""
    return compile_path(body[key]) if key in body else None


def scalar(body: dict[str, Any], key: str, jsonata: bool) -> tuple[Any, FieldValue | None]:
    """(literal, expression) of a scalar field: the literal, or in JSONata an expression."""
    if key not in body:
        return None, None
    value = body[key]
    if jsonata and is_expression(value):
        check = _SCALAR_CHECKS[key]
        return None, compile_typed(value, key, check or (lambda _value: None))
    return value, None


def task_timeouts(body: dict[str, Any], jsonata: bool) -> dict[str, Any]:
    """A Task's TimeoutSeconds and HeartbeatSeconds, literal, by path or by expression."""
    fields: dict[str, Any] = {}
    for key, name in (
        ("TimeoutSeconds", "timeout_seconds"),
        ("HeartbeatSeconds", "heartbeat_seconds"),
    ):
        literal, expression = scalar(body, key, jsonata)
        fields[name] = literal
        fields[f"{name}_expr"] = expression
        fields[f"{name}_path"] = path_field(body, f"{key}Path")
    return fields


def map_items(body: dict[str, Any], jsonata: bool) -> dict[str, Any]:
    """Where a Map's items come from: ItemsPath (JSONPath) or Items (JSONata)."""
    if not jsonata:
        return {"items_path": optional_path(body, "ItemsPath"), "items": None}
    items = body.get("Items")
    if items is None:
        return {"items_path": None, "items": None}
    if is_expression(items):
        return {"items_path": None, "items": compile_typed(items, "Items", expect_array)}
    return {"items_path": None, "items": compile_value(items, "Items")}


def map_limits(body: dict[str, Any], jsonata: bool) -> dict[str, Any]:
    """MaxConcurrency and the tolerated-failure thresholds: literal, by path, or expression."""
    fields: dict[str, Any] = {}
    for key, name in (
        ("MaxConcurrency", "max_concurrency"),
        ("ToleratedFailureCount", "tolerated_failure_count"),
        ("ToleratedFailurePercentage", "tolerated_failure_percentage"),
    ):
        literal, expression = scalar(body, key, jsonata)
        if literal is not None or key != "MaxConcurrency":
            fields[name] = literal
        fields[f"{name}_expr"] = expression
        fields[f"{name}_path"] = path_field(body, f"{key}Path")
    return fields
