"""A Distributed Map's ItemBatcher (AWS: "ItemBatcher (Map)"): each child gets
`{"Items": [...]}` (and `"BatchInput"`), under MaxItemsPerBatch and MaxInputBytesPerBatch,
literal, by path or by JSONata expression."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.errors import QueryEvaluationError, StateRuntimeError
from scheduler.asl.interpreter import enter
from scheduler.asl.item_batcher import ItemBatcher, batch_items
from scheduler.asl.model import MapState
from scheduler.asl.outcome import FanOut
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope

PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Item",
    "States": {"Item": {"Type": "Pass", "End": True}},
}


def map_state(batcher: dict[str, Any], **fields: Any) -> MapState:
    body = {"Type": "Map", "End": True, "ItemProcessor": PROCESSOR, "ItemBatcher": batcher}
    machine = load_definition({"StartAt": "M", "States": {"M": {**body, **fields}}})
    state = machine.states["M"]
    assert isinstance(state, MapState)
    return state


def inputs(state: MapState, document: Any, variables: dict[str, Any] | None = None) -> list[Any]:
    outcome = enter(state, Scope(document, {}, variables or {}), 0.0)
    assert isinstance(outcome, FanOut) and outcome.start_error is None
    return outcome.inputs


def test_items_are_grouped_by_max_items_per_batch() -> None:
    state = map_state({"MaxItemsPerBatch": 2})
    assert inputs(state, [1, 2, 3, 4, 5]) == [
        {"Items": [1, 2]},
        {"Items": [3, 4]},
        {"Items": [5]},
    ]


def test_batch_input_goes_with_every_batch() -> None:
    state = map_state({"MaxItemsPerBatch": 2, "BatchInput": {"job.$": "$.job"}}, ItemsPath="$.xs")
    assert inputs(state, {"job": "j1", "xs": [1, 2, 3]}) == [
        {"BatchInput": {"job": "j1"}, "Items": [1, 2]},
        {"BatchInput": {"job": "j1"}, "Items": [3]},
    ]


def test_max_input_bytes_per_batch_closes_a_batch_before_it_grows_too_big() -> None:
    items = ["a" * 10] * 5  # 12 bytes each as JSON, 13 with the comma
    limit = len(json.dumps({"Items": ["a" * 10, "a" * 10]}, separators=(",", ":")))
    batches = batch_items(ItemBatcher(max_input_bytes_per_batch=limit), Scope({}, {}), items)
    assert [len(batch["Items"]) for batch in batches] == [2, 2, 1]
    for batch in batches:
        assert len(json.dumps(batch, separators=(",", ":"))) <= limit


def test_both_limits_apply() -> None:
    batcher = ItemBatcher(max_items_per_batch=3, max_input_bytes_per_batch=1000)
    batches = batch_items(batcher, Scope({}, {}), list(range(7)))
    assert [batch["Items"] for batch in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_an_item_too_big_for_any_batch_fails_clearly() -> None:
    batcher = ItemBatcher(max_input_bytes_per_batch=20)
    with pytest.raises(StateRuntimeError, match="index 1 .* over MaxInputBytesPerBatch"):
        batch_items(batcher, Scope({}, {}), ["x", "y" * 50])


def test_limits_by_path_accept_integer_strings_as_aws_does() -> None:
    state = map_state({"MaxItemsPerBatchPath": "$per", "MaxInputBytesPerBatchPath": "$bytes"})
    found = inputs(state, [1, 2, 3], {"per": "2", "bytes": "15000"})
    assert found == [{"Items": [1, 2]}, {"Items": [3]}]


@pytest.mark.parametrize("value", [0, -1, 1.5, "x", None])
def test_a_limit_path_value_that_is_no_positive_integer_is_refused(value: Any) -> None:
    state = map_state({"MaxItemsPerBatchPath": "$.per"}, ItemsPath="$.xs")
    with pytest.raises(StateRuntimeError, match="MaxItemsPerBatchPath field refers to value"):
        enter(state, Scope({"per": value, "xs": [1]}, {}), 0.0)


def test_jsonata_limits_and_batch_input_are_expressions() -> None:
    state = map_state(
        {
            "MaxItemsPerBatch": "{% $states.input.per %}",
            "BatchInput": {"count": "{% $count($states.input.xs) %}"},
        },
        QueryLanguage="JSONata",
        Items="{% $states.input.xs %}",
    )
    assert inputs(state, {"per": 2, "xs": ["a", "b", "c"]}) == [
        {"BatchInput": {"count": 3}, "Items": ["a", "b"]},
        {"BatchInput": {"count": 3}, "Items": ["c"]},
    ]


def test_a_jsonata_limit_below_one_is_a_query_evaluation_error() -> None:
    state = map_state(
        {"MaxItemsPerBatch": "{% $states.input.per %}"},
        QueryLanguage="JSONata",
        Items="{% $states.input.xs %}",
    )
    with pytest.raises(QueryEvaluationError, match="MaxItemsPerBatch must be a positive"):
        enter(state, Scope({"per": 0, "xs": [1]}, {}), 0.0)


def test_the_item_selector_shapes_items_before_they_are_batched() -> None:
    state = map_state({"MaxItemsPerBatch": 5}, ItemSelector={"v.$": "$$.Map.Item.Value"})
    assert inputs(state, [1, 2]) == [{"Items": [{"v": 1}, {"v": 2}]}]


def test_no_items_give_no_batches() -> None:
    assert inputs(map_state({"MaxItemsPerBatch": 2}), []) == []
