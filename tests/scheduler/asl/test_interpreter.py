"""The interpreter's decisions per state type: Choice, Fail, Task, Pass, Succeed.

(Data flow is in test_dataflow.py, Wait timing in test_wait.py, Map/Parallel fan-out in
test_fanout.py, Retry/Catch in test_retry.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StateRuntimeError
from scheduler.asl.interpreter import enter, task_succeeded
from scheduler.asl.model import AnyState, TaskState
from scheduler.asl.outcome import Advance, Failure, InvokeTask
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
CONTEXT: dict[str, Any] = {
    "Execution": {"Id": "arn:exec", "Name": "exec-1"},
    "StateMachine": {"Id": "arn:sm", "Name": "MyMachine"},
    "State": {"Name": "S", "EnteredTime": "2024-01-01T00:00:00Z"},
}


def build(body: dict[str, Any], **others: dict[str, Any]) -> AnyState:
    """Compile state "S" with the given body; `others` are the states it may go to."""
    states = {"S": body, **others}
    return load_definition({"StartAt": "S", "States": states}).states["S"]


def decide(state: AnyState, data: Any) -> Any:
    return enter(state, Scope(data, CONTEXT), 0.0)


SUCCEED: dict[str, Any] = {"Type": "Succeed"}

# --- Choice ----------------------------------------------------------------------------------

# The AWS docs' Choice example, reduced: numeric ranges, then a default.
DOCS_CHOICE: dict[str, Any] = {
    "Type": "Choice",
    "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {
            "And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30},
            ],
            "Next": "ValueInTwenties",
        },
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
    ],
    "Default": "DefaultState",
}
CHOICE_TARGETS = {name: SUCCEED for name in ("Public", "ValueInTwenties", "ValueIsZero")}


@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"type": "Public", "value": 25}, "Public"),
        ({"type": "Private", "value": 25}, "ValueInTwenties"),
        ({"type": "Private", "value": 0}, "ValueIsZero"),
        ({"type": "Private", "value": 35}, "DefaultState"),
    ],
)
def test_choice_takes_the_first_matching_rule_else_the_default(data: Any, target: str) -> None:
    state = build(DOCS_CHOICE, DefaultState=SUCCEED, **CHOICE_TARGETS)
    assert decide(state, data) == Advance(data, target)


def test_choice_rule_order_matters_when_several_match() -> None:
    body = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Positive"},
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
        ],
    }
    state = build(body, Positive=SUCCEED, Big=SUCCEED)
    assert decide(state, {"n": 50}) == Advance({"n": 50}, "Positive")


def test_choice_without_match_or_default_fails_with_no_choice_matched() -> None:
    body = {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "T"}]}
    outcome = decide(build(body, T=SUCCEED), {"b": 1})
    assert isinstance(outcome, Failure)
    assert outcome.error == ErrorName.NO_CHOICE_MATCHED


def test_choice_condition_on_a_missing_variable_is_a_runtime_error() -> None:
    body = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "T"}],
        "Default": "D",
    }
    with pytest.raises(StateRuntimeError):
        decide(build(body, T=SUCCEED, D=SUCCEED), {})


def test_choice_can_test_the_context_object() -> None:
    body = {
        "Type": "Choice",
        "Choices": [{"Variable": "$$.Execution.Name", "StringEquals": "exec-1", "Next": "T"}],
        "Default": "D",
    }
    assert decide(build(body, T=SUCCEED, D=SUCCEED), {}) == Advance({}, "T")


# --- Fail ------------------------------------------------------------------------------------


def test_fail_with_literal_error_and_cause() -> None:
    body = {
        "Type": "Fail",
        "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure.",
    }
    assert decide(build(body), {}) == Failure(
        "SomeFailure", "This state machines raises a 'SomeFailure' failure."
    )


def test_fail_with_error_only_has_no_cause() -> None:
    assert decide(build({"Type": "Fail", "Error": "FailureType"}), {}) == Failure(
        "FailureType", None
    )


def test_fail_error_path_and_cause_path_read_the_input() -> None:
    body = {"Type": "Fail", "ErrorPath": "$.err.name", "CausePath": "$.err.message"}
    data = {"err": {"name": "OrderRejected", "message": "out of stock"}}
    assert decide(build(body), data) == Failure("OrderRejected", "out of stock")


def test_fail_paths_with_intrinsic_functions() -> None:
    # AWS recorded: RAISE_FAILURE_PATH_INTRINSIC.
    body = {
        "Type": "Fail",
        "CausePath": "States.Format('This is a custom error message for {}, caused by {}.', "
        "$.Error, $.Cause)",
        "ErrorPath": "States.Format('{}', $.Error)",
    }
    outcome = decide(build(body), {"Error": "error string", "Cause": "cause string"})
    assert outcome == Failure(
        "error string", "This is a custom error message for error string, caused by cause string."
    )


def test_fail_paths_can_read_the_context_object() -> None:
    # AWS recorded: ErrorPath "$$.State.Name", CausePath "$$.StateMachine.Name".
    body = {"Type": "Fail", "ErrorPath": "$$.State.Name", "CausePath": "$$.StateMachine.Name"}
    assert decide(build(body), {}) == Failure("S", "MyMachine")


def test_fail_error_path_that_matches_nothing_is_a_runtime_error() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        decide(build({"Type": "Fail", "ErrorPath": "$.ErrorX"}), {"Error": "error-value"})
    assert caught.value.cause == (
        "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the "
        'input \'{"Error":"error-value"}\''
    )


def test_fail_cause_path_that_matches_nothing_names_cause_path() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        decide(build({"Type": "Fail", "Error": "E", "CausePath": "$.why"}), {})
    assert caught.value.cause is not None
    assert "specified for the field 'CausePath'" in caught.value.cause


# --- Task ------------------------------------------------------------------------------------


def task(**fields: Any) -> TaskState:
    state = build({"Type": "Task", "Resource": LAMBDA, "End": True, **fields})
    assert isinstance(state, TaskState)
    return state


def test_task_asks_for_its_resource_with_the_effective_input() -> None:
    outcome = decide(
        task(Parameters={"FunctionName.$": "$.fn", "Payload.$": "$.p"}), {"fn": "f", "p": [1]}
    )
    assert outcome == InvokeTask(
        resource=LAMBDA,
        payload={"FunctionName": "f", "Payload": [1]},
        timeout_seconds=None,
        heartbeat_seconds=None,
    )


def test_task_literal_timeouts() -> None:
    outcome = decide(task(TimeoutSeconds=300, HeartbeatSeconds=60), {})
    assert (outcome.timeout_seconds, outcome.heartbeat_seconds) == (300, 60)


def test_task_timeouts_by_path() -> None:
    state = task(TimeoutSecondsPath="$.timeout", HeartbeatSecondsPath="$.beat")
    outcome = decide(state, {"timeout": 600, "beat": 5})
    assert (outcome.timeout_seconds, outcome.heartbeat_seconds) == (600, 5)


def test_task_timeout_path_that_matches_nothing_fails_like_aws() -> None:
    # AWS recorded: "Invalid path '$.NoSuchTimeoutSecondsPath' : No results for path: ...".
    with pytest.raises(StateRuntimeError) as caught:
        decide(task(TimeoutSecondsPath="$.NoSuchTimeoutSecondsPath"), {"int-literal": 0})
    assert caught.value.error == ErrorName.RUNTIME
    assert caught.value.cause == (
        "Invalid path '$.NoSuchTimeoutSecondsPath' : No results for path: "
        "$['NoSuchTimeoutSecondsPath']"
    )


@pytest.mark.parametrize("value", [0, -5, 1.5, "10", True, None])
def test_task_timeout_path_must_name_a_positive_integer(value: Any) -> None:
    with pytest.raises(StateRuntimeError) as caught:
        decide(task(TimeoutSecondsPath="$.t"), {"t": value})
    assert caught.value.error == ErrorName.RUNTIME


def test_task_succeeded_goes_to_next_with_the_placed_result() -> None:
    state = build(
        {"Type": "Task", "Resource": LAMBDA, "ResultPath": "$.r", "Next": "Done"}, Done=SUCCEED
    )
    assert isinstance(state, TaskState)
    assert task_succeeded(state, Scope({"a": 1}), "ok") == Advance({"a": 1, "r": "ok"}, "Done")


# --- Pass and Succeed ------------------------------------------------------------------------


def test_pass_goes_to_next_or_ends() -> None:
    assert decide(build({"Type": "Pass", "Next": "T"}, T=SUCCEED), 1) == Advance(1, "T")
    assert decide(build({"Type": "Pass", "End": True}), 1) == Advance(1, None)


def test_succeed_ends_the_branch() -> None:
    assert decide(build(SUCCEED), {"a": 1}) == Advance({"a": 1}, None)


def test_entering_a_state_never_changes_its_input() -> None:
    data = {"a": {"b": [1, 2]}, "c": "d"}
    before = json.dumps(data)
    decide(build({"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a.b2", "End": True}), data)
    decide(
        build({"Type": "Pass", "Parameters": {"x.$": "$.a"}, "ResultPath": "$.a.n", "End": True}),
        data,
    )
    assert json.dumps(data) == before
