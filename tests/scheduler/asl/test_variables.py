"""Workflow variables: Assign in every state type and in catchers, in both query languages;
what Assign reads; evaluation order; limits; scoping across Parallel branches and Map
iterations (run on the embedded engine, which applies `assigned`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integrations.registry import HandlerRegistry
from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.interpreter import enter, fanout_succeeded, handle_error, task_succeeded
from scheduler.asl.model import AnyState, MapState, ParallelState, TaskState
from scheduler.asl.outcome import Advance, Caught, WaitUntil
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope
from scheduler.asl.variables import (
    MAX_ASSIGN_BYTES,
    MAX_TOTAL_BYTES,
    MAX_VARIABLE_BYTES,
    check_limits,
)
from scheduler.engine.clock import SkippingClock
from scheduler.engine.records import ExecutionStatus
from scheduler.runtime import EmbeddedRuntime

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
END: dict[str, Any] = {"Type": "Succeed"}
BRANCH: dict[str, Any] = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}


def build(body: dict[str, Any], jsonata: bool = False, **others: dict[str, Any]) -> AnyState:
    definition: dict[str, Any] = {"StartAt": "S", "States": {"S": body, **others}}
    if jsonata:
        definition["QueryLanguage"] = "JSONata"
    return load_definition(definition).states["S"]


def scope(data: Any, **variables: Any) -> Scope:
    return Scope(data, {"State": {"Name": "S"}}, variables)


# --- what Assign reads, per state type (JSONPath) ------------------------------------------------


def test_pass_assign_reads_its_result() -> None:
    state = build(
        {
            "Type": "Pass",
            "Result": {"q": "?"},
            "ResultPath": "$.r",
            "End": True,
            "Assign": {"question.$": "$.q", "n": 42, "ctx.$": "$$.State.Name"},
        }
    )
    decision = enter(state, scope({"in": 1}), 0)
    assert decision == Advance(
        {"in": 1, "r": {"q": "?"}}, None, {"question": "?", "n": 42, "ctx": "S"}
    )


def test_pass_assign_reads_the_parameters_output() -> None:
    state = build(
        {
            "Type": "Pass",
            "Parameters": {"input": "PENDING"},
            "End": True,
            "Assign": {"result.$": "$.input"},
        }
    )
    assert enter(state, scope({}), 0).assigned == {"result": "PENDING"}


def test_task_assign_reads_the_selected_result_not_the_result_path() -> None:
    state = build(
        {
            "Type": "Task",
            "Resource": LAMBDA,
            "End": True,
            "ResultSelector": {"v.$": "$.value"},
            "ResultPath": "$.out",
            "Assign": {"got.$": "$.v"},
        }
    )
    assert isinstance(state, TaskState)
    decision = task_succeeded(state, scope({"in": 1}), {"value": 7})
    assert decision == Advance({"in": 1, "out": {"v": 7}}, None, {"got": 7})


@pytest.mark.parametrize("kind", ["Parallel", "Map"])
def test_parallel_and_map_assign_read_the_results(kind: str) -> None:
    body: dict[str, Any] = {"Type": kind, "End": True, "Assign": {"all.$": "$", "n": 1}}
    body.update({"Branches": [BRANCH]} if kind == "Parallel" else {"ItemProcessor": BRANCH})
    state = build(body)
    assert isinstance(state, ParallelState | MapState)
    assert fanout_succeeded(state, scope([]), [1, 2]).assigned == {"all": [1, 2], "n": 1}


def test_choice_and_wait_assign_read_the_selected_input() -> None:
    choice = build(
        {
            "Type": "Choice",
            "InputPath": "$.in",
            "Default": "Z",
            "Assign": {"g.$": "$.guess"},
            "Choices": [
                {"Variable": "$.guess", "NumericEquals": 42, "Next": "Z", "Assign": {"right": True}}
            ],
        },
        Z=END,
    )
    assert enter(choice, scope({"in": {"guess": 42}}), 0) == Advance(
        {"guess": 42}, "Z", {"right": True}
    )
    assert enter(choice, scope({"in": {"guess": 1}}), 0) == Advance({"guess": 1}, "Z", {"g": 1})
    wait = build({"Type": "Wait", "Seconds": 0, "End": True, "Assign": {"w.$": "$.a"}})
    assert enter(wait, scope({"a": 5}), 10.0) == WaitUntil(10.0, {"a": 5}, None, {"w": 5})


def test_jsonpath_catcher_assign_reads_the_error_output() -> None:
    state = build(
        {
            "Type": "Task",
            "Resource": LAMBDA,
            "End": True,
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Next": "F",
                    "ResultPath": "$.e",
                    "Assign": {"why.$": "$.Cause", "input.$": "$$.State.Name"},
                }
            ],
        },
        F=END,
    )
    decision = handle_error(state, scope({"a": 1}), StatesError("E", "c"), [], lambda: 0.0)
    assert decision == Caught(
        {"a": 1, "e": {"Error": "E", "Cause": "c"}}, "F", {"why": "c", "input": "S"}
    )


# --- what Assign reads, per state type (JSONata) -------------------------------------------------


def test_jsonata_assign_reads_states_input_result_and_context() -> None:
    state = build(
        {
            "Type": "Task",
            "Resource": LAMBDA,
            "End": True,
            "Assign": {
                "in": "{% $states.input.a %}",
                "res": "{% $states.result.v %}",
                "name": "{% $states.context.State.Name %}",
                "lit": "$.not.a.path",
            },
        },
        jsonata=True,
    )
    assert isinstance(state, TaskState)
    decision = task_succeeded(state, scope({"a": 1}), {"v": 2})
    assert decision.assigned == {"in": 1, "res": 2, "name": "S", "lit": "$.not.a.path"}


# --- evaluation order ----------------------------------------------------------------------------


def test_assign_reads_variables_as_they_were_when_the_state_was_entered() -> None:
    state = build(
        {
            "Type": "Pass",
            "End": True,
            "Assign": {"old": "{% $x %}", "x": 18, "sum": "{% $x + 1 %}"},
        },
        jsonata=True,
    )
    assert enter(state, scope({}, x=42), 0).assigned == {"old": 42, "x": 18, "sum": 43}


def test_output_does_not_see_the_state_own_assignments() -> None:
    state = build(
        {"Type": "Pass", "End": True, "Assign": {"x": 2}, "Output": {"x": "{% $x %}"}},
        jsonata=True,
    )
    assert enter(state, scope({}, x=1), 0) == Advance({"x": 1}, None, {"x": 2})
    jsonpath = build(
        {
            "Type": "Pass",
            "End": True,
            "Assign": {"answer": "<omitted>"},
            "InputPath": "$answer",
            "OutputPath": "$answer",
            "ResultPath": "$.theAnswer",
        }
    )
    decision = enter(jsonpath, scope({}, answer=42), 0)
    assert decision == Advance(42, None, {"answer": "<omitted>"})


def test_an_assign_that_fails_fails_the_state() -> None:
    state = build({"Type": "Pass", "End": True, "Assign": {"r": "{% $nope %}"}}, jsonata=True)
    with pytest.raises(StatesError) as raised:
        enter(state, scope({}), 0)
    assert raised.value.error == ErrorName.QUERY_EVALUATION_ERROR
    assert "'Assign/r'" in (raised.value.cause or "")
    jsonpath = build({"Type": "Pass", "End": True, "Assign": {"r.$": "$.nope"}})
    with pytest.raises(StatesError) as raised:
        enter(jsonpath, scope({}), 0)
    assert raised.value.error == ErrorName.RUNTIME


# --- limits ----------------------------------------------------------------------------------


def test_a_variable_may_hold_up_to_256_kib() -> None:
    check_limits({"x": "a" * (MAX_VARIABLE_BYTES - 2)}, {})
    with pytest.raises(StatesError) as raised:
        check_limits({"x": "a" * (MAX_VARIABLE_BYTES - 1)}, {})
    assert raised.value.error == ErrorName.DATA_LIMIT_EXCEEDED
    assert "'x'" in (raised.value.cause or "")


def test_one_assign_may_hold_up_to_256_kib_together() -> None:
    half = "a" * (MAX_ASSIGN_BYTES // 2)
    with pytest.raises(StatesError) as raised:
        check_limits({"x": half, "y": half}, {})
    assert "this Assign" in (raised.value.cause or "")


def test_an_execution_holds_at_most_10_mib_of_variables() -> None:
    kept = {f"v{i}": "a" * (MAX_VARIABLE_BYTES - 100) for i in range(40)}
    check_limits({"v0": "replaced"}, kept)  # replacing a variable frees its space
    with pytest.raises(StatesError) as raised:
        check_limits({"new": "a" * 100_000}, {**kept, "w": "a" * (MAX_TOTAL_BYTES // 4)})
    assert "this execution" in (raised.value.cause or "")


def test_limits_apply_when_a_state_assigns() -> None:
    state = build({"Type": "Pass", "End": True, "Assign": {"big.$": "$.blob"}})
    with pytest.raises(StatesError) as raised:
        enter(state, scope({"blob": "a" * MAX_VARIABLE_BYTES}), 0)
    assert raised.value.error == ErrorName.DATA_LIMIT_EXCEEDED


# --- scoping, on the engine ----------------------------------------------------------------------


@pytest.fixture
def runtime() -> Iterator[EmbeddedRuntime]:
    handlers = HandlerRegistry()
    handlers.register("work", lambda event, ctx: {"value": 2})
    rt = EmbeddedRuntime(handlers, clock=SkippingClock(start=1_700_000_000.0))
    yield rt
    rt.close()


def run(runtime: EmbeddedRuntime, definition: dict[str, Any], data: Any = None) -> Any:
    record = runtime.run(definition, {} if data is None else data)
    assert record.status == ExecutionStatus.SUCCEEDED, (record.error, record.cause)
    return record.output


def test_variables_reach_later_states_in_both_languages(runtime: EmbeddedRuntime) -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B", "Assign": {"x": 42}},
            "B": {
                "Type": "Pass",
                "Next": "C",
                "QueryLanguage": "JSONata",
                "Assign": {"y": "{% $x + 1 %}"},
            },
            "C": {"Type": "Pass", "End": True, "Parameters": {"x.$": "$x", "y.$": "$y"}},
        },
    }
    assert run(runtime, definition) == {"x": 42, "y": 43}


def test_branches_read_outer_variables_and_assign_nothing_outward(
    runtime: EmbeddedRuntime,
) -> None:
    inner = {
        "StartAt": "I",
        "States": {
            "I": {
                "Type": "Pass",
                "End": True,
                "Assign": {"x": "inner"},
                "Parameters": {"seen.$": "$x"},
            }
        },
    }
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "P", "Assign": {"x": "outer"}},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [inner]},
            "M": {
                "Type": "Map",
                "Next": "Z",
                "ItemsPath": "$items",
                "ItemProcessor": {
                    "StartAt": "J",
                    "States": {
                        "J": {
                            "Type": "Pass",
                            "End": True,
                            "Assign": {"x": "item"},
                            "Parameters": {"seen.$": "$x", "item.$": "$"},
                        }
                    },
                },
            },
            "Z": {"Type": "Pass", "End": True, "Parameters": {"x.$": "$x", "prev.$": "$"}},
        },
    }
    definition["States"]["A"]["Assign"]["items"] = [1, 2]
    assert run(runtime, definition) == {
        "x": "outer",
        "prev": [{"seen": "outer", "item": 1}, {"seen": "outer", "item": 2}],
    }


def test_assigned_variables_are_recorded_in_history(runtime: EmbeddedRuntime) -> None:
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "End": True, "Assign": {"s": "text", "n": [1]}}},
    }
    record = runtime.run(definition, {})
    exited = [e for e in runtime.history(record) if e["type"] == "PassStateExited"][0]
    details = exited["stateExitedEventDetails"]
    assert details["assignedVariables"] == {"s": '"text"', "n": "[1]"}
    assert details["assignedVariablesDetails"] == {"truncated": False}
