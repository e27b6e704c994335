"""A Distributed Map's ItemBatcher: groups of items, one group per child.

Pure. With an ItemBatcher each child gets `{"Items": [...]}` (plus `"BatchInput"` when the
batcher has one: the same value for every batch, evaluated once against the state's
input) instead of one item. Items are added to a batch in order until it holds
`MaxItemsPerBatch` items or one more would take the child's input (as compact JSON, the
BatchInput included) over `MaxInputBytesPerBatch` bytes. Each limit is a literal, a
`*Path` (JSONPath; a string holding an integer is accepted, as AWS does) or a JSONata
expression. ItemSelector, when present, shapes each item before it is batched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scheduler.asl.errors import QueryEvaluationError, StateRuntimeError
from scheduler.asl.jsonata_fields import FieldValue
from scheduler.asl.paths import Path, PathNotFound
from scheduler.asl.payload import Evaluator, to_json
from scheduler.asl.scope import Scope


@dataclass(frozen=True, slots=True)
class ItemBatcher:
    """A compiled `ItemBatcher`."""

    max_items_per_batch: int | None = None
    max_items_per_batch_path: Path | None = None
    max_items_per_batch_expr: FieldValue | None = None
    max_input_bytes_per_batch: int | None = None
    max_input_bytes_per_batch_path: Path | None = None
    max_input_bytes_per_batch_expr: FieldValue | None = None
    batch_input: Evaluator | None = None


def batch_items(batcher: ItemBatcher, scope: Scope, items: list[Any]) -> list[dict[str, Any]]:
    """The children's inputs: `items` in batches under the batcher's limits."""
    per_batch = _limit(
        scope,
        "MaxItemsPerBatch",
        batcher.max_items_per_batch,
        batcher.max_items_per_batch_path,
        batcher.max_items_per_batch_expr,
    )
    max_bytes = _limit(
        scope,
        "MaxInputBytesPerBatch",
        batcher.max_input_bytes_per_batch,
        batcher.max_input_bytes_per_batch_path,
        batcher.max_input_bytes_per_batch_expr,
    )
    shared: dict[str, Any] = {}
    if batcher.batch_input is not None:
        shared["BatchInput"] = batcher.batch_input(scope)
    empty_size = _size({**shared, "Items": []})
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = empty_size
    for index, item in enumerate(items):
        item_size = _size(item)
        if max_bytes and empty_size + item_size > max_bytes:
            raise StateRuntimeError(
                f"The item at index {index} takes {empty_size + item_size} bytes as a batch "
                f"of its own, over MaxInputBytesPerBatch ({max_bytes})"
            )
        full = per_batch and len(current) >= per_batch
        too_big = max_bytes and size + item_size + 1 > max_bytes
        if current and (full or too_big):
            batches.append(current)
            current, size = [], empty_size
        size += item_size + (1 if current else 0)  # the comma between items
        current.append(item)
    if current:
        batches.append(current)
    return [{**shared, "Items": batch} for batch in batches]


def _size(value: Any) -> int:
    return len(to_json(value).encode("utf-8"))


def _limit(
    scope: Scope, field: str, literal: int | None, path: Path | None, expr: FieldValue | None
) -> int:
    """A limit's value; 0 when the field is absent (no limit)."""
    if expr is not None:
        value = expr(scope)
        if value <= 0:
            raise QueryEvaluationError(f"{field} must be a positive integer.", field)
        return int(value)
    if path is None:
        return literal or 0
    try:
        value = scope.resolve(path)
    except PathNotFound as missing:
        raise StateRuntimeError(f"Invalid path '{path.text}' : {missing.reason}") from None
    if isinstance(value, str) and re.fullmatch(r"\+?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        shown = value if isinstance(value, str) else to_json(value)
        raise StateRuntimeError(
            f'The {field}Path field refers to value "{shown}" which is not a valid '
            f"positive integer: {path.text}"
        )
    return value
