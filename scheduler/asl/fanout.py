"""Parallel and Map: what to fan out, and how the results come back together.

JSONPath: InputPath, Parameters (Parallel), ItemsPath and ItemSelector (Map), the limits
literal or by `*Path`. JSONata: Arguments (Parallel), Items and ItemSelector (Map), the
limits literal or by expression; without Items a Map iterates over its input, which must
be an array. A Distributed Map with an ItemReader first asks for its items
(`map_reader_call`, an InvokeTask) and fans out over what came back (`map_items_read`);
an ItemBatcher groups the (selected) items, one group per child.
"""

from __future__ import annotations

import math
import re
from typing import Any

from scheduler.asl import jsonata_flow
from scheduler.asl.dataflow import effective_input
from scheduler.asl.errors import ErrorName, QueryEvaluationError, StateRuntimeError, StatesError
from scheduler.asl.item_batcher import batch_items
from scheduler.asl.item_reader import max_items, read_items, reader_request
from scheduler.asl.jsonata_fields import FieldValue
from scheduler.asl.model import MapState, ParallelState
from scheduler.asl.outcome import FanOut, InvokeTask
from scheduler.asl.paths import Path, PathNotFound
from scheduler.asl.payload import to_json
from scheduler.asl.scope import Scope


def parallel_fanout(state: ParallelState, scope: Scope) -> FanOut:
    """Every branch runs on the effective input (JSONata: the Arguments, or the input)."""
    if state.jsonata is not None:
        value = jsonata_flow.arguments(state.jsonata, scope)
    else:
        value, _ = effective_input(state.flow, scope)
    return FanOut(state.branches, [value] * len(state.branches), 0)


def _jsonata_items(state: MapState, scope: Scope) -> list[Any]:
    if state.items is not None:
        items = state.items(scope)
        assert isinstance(items, list)  # an expression's type is checked; a literal is one
        return items
    if not isinstance(scope.input, list):
        raise QueryEvaluationError(
            f"Map state input must be an array but was: {to_json(scope.input)}"
        )
    return list(scope.input)


def map_items(state: MapState, scope: Scope) -> tuple[list[Any], Scope]:
    """The items to iterate (InputPath then ItemsPath, or JSONata Items) and the scope
    selecting them."""
    if state.jsonata is not None:
        return _jsonata_items(state, scope), scope
    selected, inner = effective_input(state.flow, scope)
    path = state.items_path
    if path is None or (path.keys == () and path.root == "$"):
        items = selected
    else:
        try:
            items = inner.resolve(path)
        except PathNotFound as missing:
            raise StateRuntimeError(f"Invalid path '{path.text}' : {missing.reason}") from None
    if not isinstance(items, list):
        raise StateRuntimeError(
            f"Invalid input for the Map state: the ItemsPath '{path.text if path else '$'}' "
            f"must point to a JSON array, got '{to_json(items)}'"
        )
    return items, inner


def _reader_scope(state: MapState, scope: Scope) -> Scope:
    """What an ItemReader's Parameters and MaxItemsPath read: the effective input."""
    return scope if state.jsonata is not None else effective_input(state.flow, scope)[1]


def map_reader_call(state: MapState, scope: Scope) -> InvokeTask | FanOut:
    """Entering a Map with an ItemReader: the call that reads the items. A MaxItems or
    an argument that cannot be evaluated fails the state after MapStateStarted, as on AWS
    (a FanOut carrying `start_error`)."""
    assert state.reader is not None and state.processor is not None
    inner = _reader_scope(state, scope)
    try:
        max_items(state.reader, inner)
        payload = reader_request(state.reader, inner)
    except StatesError as error:
        return FanOut((state.processor,), [], 0, start_error=error)
    return InvokeTask(state.reader.resource, payload, None, None)


def map_items_read(state: MapState, scope: Scope, result: Any) -> FanOut:
    """The reader's call came back: its items (ItemsPath does not apply), fanned out.
    Raises States.ItemReaderFailed when they cannot be read."""
    assert state.reader is not None
    inner = _reader_scope(state, scope)
    items = read_items(state.reader, state.name, result, max_items(state.reader, inner))
    return map_fanout(state, scope, items)


def map_fanout(state: MapState, scope: Scope, read: list[Any] | None = None) -> FanOut:
    """One iteration per item (or per batch of items), each given its ItemSelector output
    (or the item itself). `read`: the items an ItemReader read."""
    if read is None:
        items, inner = map_items(state, scope)
    else:
        items, inner = read, _reader_scope(state, scope)
    concurrency = _max_concurrency(state, inner)
    inputs = items
    if state.item_selector is not None:
        inputs = [
            state.item_selector(
                inner.with_context(
                    {**scope.context, "Map": {"Item": {"Index": index, "Value": item}}}
                )
            )
            for index, item in enumerate(items)
        ]
    if state.batcher is not None:
        inputs = batch_items(state.batcher, inner, inputs)
    assert state.processor is not None
    try:
        count, percentage = _tolerated_count(state, inner), _tolerated_percentage(state, inner)
    except StatesError as error:
        return FanOut((state.processor,), inputs, concurrency, start_error=error)
    return FanOut(
        (state.processor,),
        inputs,
        concurrency,
        tolerated_failure_count=count,
        tolerated_failure_percentage=percentage,
    )


def _path_value(scope: Scope, path: Path) -> Any:
    try:
        return scope.resolve(path)
    except PathNotFound as missing:
        raise StateRuntimeError(f"Invalid path '{path.text}' : {missing.reason}") from None


def _integer_from_path(scope: Scope, path: Path, field: str) -> int:
    """An integer read by a `*Path` field; AWS also takes a string holding one ("1")."""
    value = _path_value(scope, path)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = value if isinstance(value, str) else to_json(value)
        raise StateRuntimeError(
            f'The {field} field refers to value "{shown}" which is not a valid integer: {path.text}'
        )
    return value


def _from_expression(expression: FieldValue, field: str, scope: Scope) -> int | float:
    value = expression(scope)
    if value < 0:
        raise QueryEvaluationError(f"{field} cannot be negative.", field)
    return int(value) if field != "ToleratedFailurePercentage" else float(value)


def _max_concurrency(state: MapState, scope: Scope) -> int:
    if state.max_concurrency_expr is not None:
        return int(_from_expression(state.max_concurrency_expr, "MaxConcurrency", scope))
    if state.max_concurrency_path is None:
        return state.max_concurrency
    value = _integer_from_path(scope, state.max_concurrency_path, "MaxConcurrencyPath")
    if value < 0:
        raise StateRuntimeError("MaxConcurrency cannot be negative.")
    return value


def _tolerated_count(state: MapState, scope: Scope) -> int | None:
    if state.tolerated_failure_count_expr is not None:
        expression = state.tolerated_failure_count_expr
        return int(_from_expression(expression, "ToleratedFailureCount", scope))
    value = state.tolerated_failure_count
    if state.tolerated_failure_count_path is not None:
        path = state.tolerated_failure_count_path
        value = _integer_from_path(scope, path, "ToleratedFailureCountPath")
    if value is not None and value < 0:
        raise StateRuntimeError("ToleratedFailureCount cannot be negative.")
    return value


def _tolerated_percentage(state: MapState, scope: Scope) -> float | None:
    if state.tolerated_failure_percentage_expr is not None:
        expression = state.tolerated_failure_percentage_expr
        percentage = float(_from_expression(expression, "ToleratedFailurePercentage", scope))
        if percentage > 100:
            raise QueryEvaluationError(
                "ToleratedFailurePercentage must be between 0 and 100.",
                "ToleratedFailurePercentage",
            )
        return percentage
    value = state.tolerated_failure_percentage
    if state.tolerated_failure_percentage_path is not None:
        path = state.tolerated_failure_percentage_path
        found = _path_value(scope, path)
        if isinstance(found, bool) or not isinstance(found, int | float):
            shown = found if isinstance(found, str) else to_json(found)
            raise StateRuntimeError(
                f'The ToleratedFailurePercentagePath field refers to value "{shown}" '
                f"which is not a valid float: {path.text}"
            )
        value = float(found)
    if value is not None and not 0 <= value <= 100:
        raise StateRuntimeError("ToleratedFailurePercentage must be between 0 and 100.")
    return value


def failure_tolerated(count: int | None, percentage: float | None, failed: int, total: int) -> bool:
    """True while `failed` iterations of `total` stay within a Map's tolerance.

    With both a count and a percentage, exceeding either fails the Map (AWS docs,
    "Tolerated failure threshold for Distributed Map state").
    """
    if count is None and percentage is None:
        return failed == 0
    if count is not None and failed > count:
        return False
    return percentage is None or failed * 100 <= math.floor(percentage * total)


def tolerance_error() -> StatesError:
    """The error a Map fails with once more iterations failed than it tolerates."""
    return StatesError(
        ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
        "The specified tolerated failure threshold was exceeded",
    )
