"""Parallel and Map fan-out (spec: "Parallel State", "Map State"; AWS: "Map workflow state").

A Map takes its items from ItemsPath (applied after InputPath), gives each iteration the
ItemSelector output (legacy: Parameters) built with `$` as the state's effective input and
`$$.Map.Item.Index` / `$$.Map.Item.Value` in the context, and reads MaxConcurrency and the
tolerated-failure settings, literal or by path, with the texts AWS recorded.
"""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StateRuntimeError
from scheduler.asl.fanout import failure_tolerated, map_fanout, map_items, tolerance_error
from scheduler.asl.interpreter import enter
from scheduler.asl.model import MapState, StateMachine
from scheduler.asl.outcome import FanOut
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope

PROCESSOR = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}
CONTEXT: dict[str, Any] = {"Execution": {"Id": "arn:exec"}, "State": {"Name": "MapState"}}

SHIPMENT: dict[str, Any] = {
    "detail": {
        "delivery-partner": "UQS",
        "shipped": [
            {"prod": "R31", "dest-code": 9511, "quantity": 1344},
            {"prod": "S39", "dest-code": 9511, "quantity": 40},
        ],
    }
}


def map_state(**fields: Any) -> MapState:
    body: dict[str, Any] = {"Type": "Map", "End": True, **fields}
    if "Iterator" not in body:
        body.setdefault("ItemProcessor", PROCESSOR)
    state = load_definition({"StartAt": "MapState", "States": {"MapState": body}}).states[
        "MapState"
    ]
    assert isinstance(state, MapState)
    return state


def fan_out(state: Any, data: Any) -> FanOut:
    outcome = enter(state, Scope(data, CONTEXT), 0.0)
    assert isinstance(outcome, FanOut)
    return outcome


def runtime_cause(state: Any, data: Any) -> str:
    with pytest.raises(StateRuntimeError) as caught:
        enter(state, Scope(data, CONTEXT), 0.0)
    assert caught.value.error == ErrorName.RUNTIME
    assert caught.value.cause is not None
    return caught.value.cause


def start_error_cause(state: Any, data: Any) -> str:
    """Tolerance fields fail after MapStateStarted (AWS's recorded order), so the
    interpreter hands the error to the engine in the FanOut instead of raising it."""
    outcome = enter(state, Scope(data, CONTEXT), 0.0)
    assert isinstance(outcome, FanOut) and outcome.start_error is not None
    assert outcome.start_error.error == ErrorName.RUNTIME
    assert outcome.start_error.cause is not None
    return outcome.start_error.cause


# --- items -----------------------------------------------------------------------------------


def test_without_items_path_the_input_itself_is_iterated() -> None:
    outcome = fan_out(map_state(), ["Hello", "World"])
    assert outcome.inputs == ["Hello", "World"]
    assert outcome.machines == (map_state().processor,)


def test_items_path_reads_the_input_path_selection() -> None:
    state = map_state(InputPath="$.detail", ItemsPath="$.shipped")
    assert fan_out(state, SHIPMENT).inputs == SHIPMENT["detail"]["shipped"]


def test_items_path_can_be_nested_and_mixed_types_pass_through() -> None:
    data = {"a": {"b": [1, "two", True, None, {"x": 3}, [4]]}}
    assert fan_out(map_state(ItemsPath="$.a.b"), data).inputs == data["a"]["b"]


def test_empty_array_gives_no_iterations() -> None:
    assert fan_out(map_state(ItemsPath="$.items"), {"items": []}).inputs == []


def test_missing_items_path_is_a_runtime_error_in_aws_words() -> None:
    cause = runtime_cause(map_state(ItemsPath="$.items"), {"other": []})
    assert cause == "Invalid path '$.items' : No results for path: $['items']"


def test_missing_parent_of_items_path_names_the_missing_property() -> None:
    cause = runtime_cause(map_state(ItemsPath="$.a.items"), {})
    assert cause == "Invalid path '$.a.items' : Missing property in path $['a']"


@pytest.mark.parametrize("items", [{"foo": "bar"}, "string", 1, True, None])
def test_items_that_are_not_an_array_fail_the_state(items: Any) -> None:
    with pytest.raises(StateRuntimeError) as caught:
        map_items(map_state(ItemsPath="$.items"), Scope({"items": items}))
    assert caught.value.error == ErrorName.RUNTIME


# --- ItemSelector ----------------------------------------------------------------------------


def test_item_selector_builds_each_input_from_the_item_its_index_and_the_input() -> None:
    # The AWS recorded case MAP_STATE_ITEM_SELECTOR.
    state = map_state(
        InputPath="$.detail",
        ItemsPath="$.shipped",
        ItemSelector={
            "constant_value": "HelloWorld",
            "from_input_constant.$": "$.delivery-partner",
            "iteration_index.$": "$$.Map.Item.Index",
            "iteration_input_value.$": "$$.Map.Item.Value",
            "original_input.$": "$",
        },
    )
    inputs = fan_out(state, SHIPMENT).inputs
    assert inputs == [
        {
            "constant_value": "HelloWorld",
            "from_input_constant": "UQS",
            "iteration_index": index,
            "iteration_input_value": item,
            "original_input": SHIPMENT["detail"],
        }
        for index, item in enumerate(SHIPMENT["detail"]["shipped"])
    ]


def test_item_selector_still_sees_the_rest_of_the_context() -> None:
    state = map_state(ItemSelector={"exec.$": "$$.Execution.Id", "v.$": "$$.Map.Item.Value"})
    assert fan_out(state, ["a"]).inputs == [{"exec": "arn:exec", "v": "a"}]


def test_item_selector_intrinsics_can_use_the_item() -> None:
    state = map_state(
        ItemsPath="$.names",
        ItemSelector={"greeting.$": "States.Format($.template, $$.Map.Item.Value)"},
    )
    data = {"names": ["Charizard", "Pikachu"], "template": "It's {}!"}
    assert fan_out(state, data).inputs == [
        {"greeting": "It's Charizard!"},
        {"greeting": "It's Pikachu!"},
    ]


def test_legacy_parameters_act_as_item_selector() -> None:
    # The AWS recorded case map_state_parameters_singleton_legacy.
    state = map_state(
        InputPath="$.detail",
        ItemsPath="$.shipped",
        Iterator=PROCESSOR,
        Parameters={"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
    )
    data = {"detail": {"shipped": ["A", "B", "C"]}}
    assert fan_out(state, data).inputs == [
        {"index": 0, "value": "A"},
        {"index": 1, "value": "B"},
        {"index": 2, "value": "C"},
    ]


def test_legacy_iterator_is_the_item_processor() -> None:
    state = map_state(Iterator=PROCESSOR)
    assert isinstance(state.processor, StateMachine)
    assert state.processor.start_at == "Item"


def test_item_selector_missing_path_is_a_runtime_error() -> None:
    state = map_state(ItemSelector={"x.$": "$$.Map.Item.Value.nope"})
    cause = runtime_cause(state, [{"a": 1}])
    assert "'$$.Map.Item.Value.nope' specified for the field 'x.$'" in cause


# --- MaxConcurrency ------------------------------------------------------------------------


def test_max_concurrency_defaults_to_unlimited() -> None:
    assert fan_out(map_state(), [1]).max_concurrency == 0


def test_max_concurrency_literal() -> None:
    assert fan_out(map_state(MaxConcurrency=3), [1]).max_concurrency == 3


def test_max_concurrency_path_integer() -> None:
    state = map_state(ItemsPath="$.Values", MaxConcurrencyPath="$.MaxConcurrencyValue")
    assert fan_out(state, {"Values": [1], "MaxConcurrencyValue": 2}).max_concurrency == 2


def test_max_concurrency_path_accepts_an_integer_string() -> None:
    # AWS recorded: MaxConcurrencyPath naming the string "1" runs the Map.
    state = map_state(ItemsPath="$.Values", MaxConcurrencyPath="$.m")
    assert fan_out(state, {"Values": [1, 2, 3], "m": "1"}).max_concurrency == 1


@pytest.mark.parametrize(("value", "shown"), [("NoNumber", "NoNumber"), (1.5, "1.5")])
def test_max_concurrency_path_not_an_integer(value: Any, shown: str) -> None:
    state = map_state(ItemsPath="$.Values", MaxConcurrencyPath="$.MaxConcurrencyValue")
    cause = runtime_cause(state, {"MaxConcurrencyValue": value, "Values": ["HelloWorld"]})
    assert cause == (
        f'The MaxConcurrencyPath field refers to value "{shown}" which is not a valid integer: '
        "$.MaxConcurrencyValue"
    )


def test_max_concurrency_path_missing() -> None:
    cause = runtime_cause(map_state(MaxConcurrencyPath="$.m"), [])
    assert cause == "Invalid path '$.m' : No results for path: $['m']"


# --- tolerated failures ----------------------------------------------------------------------


def test_tolerated_failure_literals_are_passed_on() -> None:
    outcome = fan_out(map_state(ToleratedFailureCount=2, ToleratedFailurePercentage=12.5), [1])
    assert outcome.tolerated_failure_count == 2
    assert outcome.tolerated_failure_percentage == 12.5


def test_no_tolerance_by_default() -> None:
    outcome = fan_out(map_state(), [1])
    assert outcome.tolerated_failure_count is None
    assert outcome.tolerated_failure_percentage is None


@pytest.mark.parametrize("count", [0, 1, 5])
def test_tolerated_failure_count_path(count: int) -> None:
    state = map_state(ItemsPath="$.Items", ToleratedFailureCountPath="$.ToleratedFailureCount")
    outcome = fan_out(state, {"Items": [0], "ToleratedFailureCount": count})
    assert outcome.tolerated_failure_count == count


def test_tolerated_failure_count_path_negative() -> None:
    state = map_state(ItemsPath="$.Items", ToleratedFailureCountPath="$.ToleratedFailureCount")
    cause = start_error_cause(state, {"Items": [0], "ToleratedFailureCount": -1})
    assert cause == "ToleratedFailureCount cannot be negative."


def test_tolerated_failure_count_path_not_a_number() -> None:
    state = map_state(ItemsPath="$.Items", ToleratedFailureCountPath="$.ToleratedFailureCount")
    cause = start_error_cause(state, {"Items": [0], "ToleratedFailureCount": "NoNumber"})
    assert cause == (
        'The ToleratedFailureCountPath field refers to value "NoNumber" which is not a valid '
        "integer: $.ToleratedFailureCount"
    )


@pytest.mark.parametrize("percentage", [0, 1, 100, 33.3])
def test_tolerated_failure_percentage_path(percentage: float) -> None:
    state = map_state(ItemsPath="$.Items", ToleratedFailurePercentagePath="$.P")
    outcome = fan_out(state, {"Items": [0], "P": percentage})
    assert outcome.tolerated_failure_percentage == percentage


@pytest.mark.parametrize("percentage", [-1.1, -1, 100.1])
def test_tolerated_failure_percentage_path_out_of_range(percentage: float) -> None:
    state = map_state(ItemsPath="$.Items", ToleratedFailurePercentagePath="$.P")
    cause = start_error_cause(state, {"Items": [0], "P": percentage})
    assert cause == "ToleratedFailurePercentage must be between 0 and 100."


@pytest.mark.parametrize(("value", "shown"), [("NoNumber", "NoNumber"), ({}, "{}")])
def test_tolerated_failure_percentage_path_not_a_number(value: Any, shown: str) -> None:
    state = map_state(ItemsPath="$.Items", ToleratedFailurePercentagePath="$.P")
    cause = start_error_cause(state, {"Items": [0], "P": value})
    assert cause == (
        f'The ToleratedFailurePercentagePath field refers to value "{shown}" which is not a '
        "valid float: $.P"
    )


def test_without_a_threshold_one_failure_is_too_many() -> None:
    assert failure_tolerated(None, None, 0, 10)
    assert not failure_tolerated(None, None, 1, 10)


def test_count_threshold_is_exceeded_past_the_count() -> None:
    assert failure_tolerated(2, None, 2, 10)
    assert not failure_tolerated(2, None, 3, 10)
    assert not failure_tolerated(0, None, 1, 10)


def test_percentage_threshold_is_failed_items_over_total_items() -> None:
    assert failure_tolerated(None, 50, 2, 4)
    assert not failure_tolerated(None, 50, 3, 4)
    assert failure_tolerated(None, 33.4, 1, 3)
    assert not failure_tolerated(None, 33.3, 1, 3)
    assert not failure_tolerated(None, 0, 1, 100)
    assert failure_tolerated(None, 100, 100, 100)


def test_with_both_thresholds_exceeding_either_fails() -> None:
    # AWS docs: "If you specify both values, the workflow fails when it exceeds either value."
    assert failure_tolerated(3, 50, 2, 10)
    assert not failure_tolerated(1, 50, 2, 10)  # count exceeded, percentage not
    assert not failure_tolerated(10, 10, 2, 10)  # percentage exceeded, count not


def test_tolerance_error_name_and_cause() -> None:
    error = tolerance_error()
    assert error.error == ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD
    assert error.cause == "The specified tolerated failure threshold was exceeded"


# --- Parallel --------------------------------------------------------------------------------


def test_parallel_runs_each_branch_once_on_the_same_input() -> None:
    branches = [
        {"StartAt": f"B{i}", "States": {f"B{i}": {"Type": "Pass", "End": True}}} for i in range(4)
    ]
    machine = load_definition(
        {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}}}
    )
    outcome = fan_out(machine.states["P"], {"x": 1})
    assert [m.start_at for m in outcome.machines] == ["B0", "B1", "B2", "B3"]
    assert outcome.inputs == [{"x": 1}] * 4
    assert outcome.max_concurrency == 0


def test_map_fanout_iterates_the_items_it_is_given_instead_of_items_path() -> None:
    machine = load_definition({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.never", "End": True,
        "ItemSelector": {"v.$": "$$.Map.Item.Value", "tag.$": "$.tag"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})
    state = machine.states["M"]
    assert isinstance(state, MapState)
    fanout = map_fanout(state, Scope({"tag": "t"}), [1, 2])
    assert fanout.inputs == [{"v": 1, "tag": "t"}, {"v": 2, "tag": "t"}]
