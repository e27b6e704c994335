"""Compiling a definition into the typed model: defaults as the ASL spec gives them, legacy
field names, and refusal of invalid definitions with every problem located."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.model import (
    FailState,
    Jitter,
    MapState,
    ParallelState,
    PassState,
    StateType,
    TaskState,
    WaitState,
)
from scheduler.asl.parse import DefinitionError, load_definition
from scheduler.asl.scope import Scope

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
PROCESSOR = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}


def only(body: dict[str, Any], **others: Any) -> Any:
    states = {"S": body, **others}
    return load_definition({"StartAt": "S", "States": states}).states["S"]


def test_machine_fields() -> None:
    machine = load_definition(
        {
            "Comment": "demo",
            "StartAt": "A",
            "TimeoutSeconds": 30,
            "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}},
        }
    )
    assert machine.start_at == "A"
    assert machine.timeout_seconds == 30
    assert machine.comment == "demo"
    assert machine.query_language == "JSONPath"
    assert [s.type for s in machine.states.values()] == [StateType.PASS, StateType.SUCCEED]
    assert machine.states["A"].next == "B"


def test_json_text_and_parsed_json_compile_alike() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}}
    from_text = load_definition(json.dumps(definition)).states["A"]
    from_dict = load_definition(definition).states["A"]
    assert isinstance(from_text, PassState) and isinstance(from_dict, PassState)
    assert from_text.result == from_dict.result == 1
    assert from_text.end and from_dict.end


def test_absent_paths_mean_dollar_and_null_paths_mean_none() -> None:
    absent = only({"Type": "Pass", "End": True}).flow
    assert absent.input_path.keys == () and absent.output_path.keys == ()
    assert absent.result_path.keys == ()
    null = only(
        {"Type": "Pass", "End": True, "InputPath": None, "OutputPath": None, "ResultPath": None}
    ).flow
    assert (null.input_path, null.output_path, null.result_path) == (None, None, None)


def test_pass_result_null_is_still_a_result() -> None:
    state = only({"Type": "Pass", "Result": None, "End": True})
    assert state.has_result and state.result is None
    assert not only({"Type": "Pass", "End": True}).has_result


def test_retrier_defaults_follow_the_spec() -> None:
    state = only(
        {"Type": "Task", "Resource": LAMBDA, "End": True, "Retry": [{"ErrorEquals": ["E"]}]}
    )
    assert isinstance(state, TaskState)
    retrier = state.retry[0]
    assert retrier.error_equals == ("E",)
    assert retrier.interval_seconds == 1
    assert retrier.max_attempts == 3
    assert retrier.backoff_rate == 2.0
    assert retrier.max_delay_seconds is None
    assert retrier.jitter is Jitter.NONE


def test_retrier_fields() -> None:
    body = {
        "Type": "Task",
        "Resource": LAMBDA,
        "End": True,
        "Retry": [
            {
                "ErrorEquals": ["A", "B"],
                "IntervalSeconds": 3,
                "MaxAttempts": 0,
                "BackoffRate": 1.5,
                "MaxDelaySeconds": 10,
                "JitterStrategy": "FULL",
            }
        ],
    }
    retrier = only(body).retry[0]
    assert (retrier.interval_seconds, retrier.max_attempts, retrier.backoff_rate) == (3, 0, 1.5)
    assert (retrier.max_delay_seconds, retrier.jitter) == (10, Jitter.FULL)


def test_catcher_result_path_default_null_and_path() -> None:
    body = {
        "Type": "Task",
        "Resource": LAMBDA,
        "End": True,
        "Catch": [
            {"ErrorEquals": ["A"], "Next": "H"},
            {"ErrorEquals": ["B"], "Next": "H", "ResultPath": None},
            {"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": "$.error"},
        ],
    }
    first, second, third = only(body, H={"Type": "Succeed"}).catch
    assert first.result_path.keys == () and first.next == "H"
    assert second.result_path is None
    assert third.result_path.keys == ("error",)
    assert third.error_equals == ("States.ALL",)


def test_task_timeouts_compile() -> None:
    state = only(
        {
            "Type": "Task",
            "Resource": LAMBDA,
            "End": True,
            "TimeoutSecondsPath": "$.t",
            "HeartbeatSeconds": 5,
        }
    )
    assert state.timeout_seconds is None and state.timeout_seconds_path.text == "$.t"
    assert state.heartbeat_seconds == 5 and state.heartbeat_seconds_path is None


def test_wait_fields_compile() -> None:
    state = only({"Type": "Wait", "SecondsPath": "$.s", "End": True})
    assert isinstance(state, WaitState)
    assert state.seconds_path is not None and state.seconds_path.text == "$.s"
    assert state.seconds is None


def test_fail_paths_compile_to_evaluators() -> None:
    state = only({"Type": "Fail", "ErrorPath": "$.e", "Cause": "literal"})
    assert isinstance(state, FailState)
    assert state.error is None and state.cause == "literal"
    assert state.error_path is not None and state.error_path(Scope({"e": "X"})) == "X"


def test_parallel_branches_compile_in_order() -> None:
    branches = [
        {"StartAt": f"B{i}", "States": {f"B{i}": {"Type": "Pass", "End": True}}} for i in range(3)
    ]
    state = only({"Type": "Parallel", "Branches": branches, "End": True})
    assert isinstance(state, ParallelState)
    assert [b.start_at for b in state.branches] == ["B0", "B1", "B2"]


def test_map_item_processor_and_selector() -> None:
    state = only(
        {
            "Type": "Map",
            "End": True,
            "ItemsPath": "$.items",
            "ItemProcessor": {
                **PROCESSOR,
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            },
            "ItemSelector": {"v.$": "$$.Map.Item.Value"},
            "MaxConcurrency": 5,
            "Label": "Batch",
        }
    )
    assert isinstance(state, MapState)
    assert state.processor is not None and state.processor.start_at == "Item"
    assert state.items_path is not None and state.items_path.text == "$.items"
    assert state.item_selector is not None
    assert state.distributed and state.label == "Batch" and state.max_concurrency == 5


def test_legacy_map_parameters_select_items_instead_of_shaping_the_input() -> None:
    state = only(
        {
            "Type": "Map",
            "End": True,
            "Iterator": PROCESSOR,
            "Parameters": {"v.$": "$$.Map.Item.Value"},
        }
    )
    assert isinstance(state, MapState)
    assert state.flow.parameters is None
    assert state.item_selector is not None
    assert state.processor is not None and not state.distributed


def test_invalid_definition_lists_every_problem_with_its_location() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(
            {
                "StartAt": "A",
                "States": {
                    "A": {"Type": "Pass", "Next": "Nowhere"},
                    "B": {"Type": "Task", "End": True},
                },
            }
        )
    text = str(caught.value)
    locations = {d.location for d in caught.value.diagnostics}
    assert "/States/A/Next" in locations
    assert any(loc.startswith("/States/B") for loc in locations)
    assert "Nowhere" in text


def test_invalid_json_text_is_refused() -> None:
    with pytest.raises(DefinitionError):
        load_definition('{"StartAt": "A", "States": ')
