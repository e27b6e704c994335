"""Input and output processing, state by state (spec: "Input and Output Processing").

The order is fixed: InputPath selects from the raw input, Parameters builds the effective
input, the state produces a result, ResultSelector reshapes it, ResultPath places it into
the *raw* input, OutputPath selects the output. A null InputPath/OutputPath gives `{}`;
a null ResultPath discards the result and passes the raw input on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError
from scheduler.asl.interpreter import enter, fanout_succeeded, task_succeeded
from scheduler.asl.model import AnyState, MapState, ParallelState, TaskState
from scheduler.asl.outcome import Advance, FanOut, InvokeTask, WaitUntil
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
NOW = 1_700_000_000.0
CONTEXT: dict[str, Any] = {
    "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:m:e", "Input": {"k": 1}},
    "State": {"Name": "S", "EnteredTime": "2024-01-01T00:00:00Z"},
}

# The example the AWS docs use for InputPath, ResultPath and OutputPath.
DOCS_INPUT: dict[str, Any] = {
    "comment": "Example for InputPath.",
    "dataset1": {"val1": 1, "val2": 2, "val3": 3},
    "dataset2": {"val1": "a", "val2": "b", "val3": "c"},
}


def build(body: dict[str, Any]) -> AnyState:
    """Compile a one-state machine (plus a target state "T") and return state "S"."""
    if body["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in body:
        body = {**body, "End": True}
    states: dict[str, Any] = {"S": body}
    if '"T"' in json.dumps(body):
        states["T"] = {"Type": "Succeed"}
    return load_definition({"StartAt": "S", "States": states}).states["S"]


def run(body: dict[str, Any], data: Any, context: Any = None) -> Any:
    """Enter the state and return the output it advances with."""
    outcome = enter(build(body), Scope(data, context or CONTEXT), NOW)
    assert isinstance(outcome, Advance | WaitUntil), outcome
    return outcome.output


def task(body: dict[str, Any], data: Any, result: Any) -> tuple[Any, Any]:
    """Enter a Task (its payload), then complete it with `result` (its output)."""
    state = build({"Type": "Task", "Resource": LAMBDA, **body})
    assert isinstance(state, TaskState)
    scope = Scope(data, CONTEXT)
    invoke = enter(state, scope, NOW)
    assert isinstance(invoke, InvokeTask)
    return invoke.payload, task_succeeded(state, scope, result).output


# --- Pass ----------------------------------------------------------------------------------


def test_pass_without_fields_outputs_its_input() -> None:
    assert run({"Type": "Pass"}, DOCS_INPUT) == DOCS_INPUT


def test_pass_input_path_selects_what_flows_on() -> None:
    assert run({"Type": "Pass", "InputPath": "$.dataset2"}, DOCS_INPUT) == DOCS_INPUT["dataset2"]


def test_pass_null_input_path_gives_an_empty_object() -> None:
    assert run({"Type": "Pass", "InputPath": None}, DOCS_INPUT) == {}


def test_pass_parameters_read_the_input_path_selection() -> None:
    body = {"Type": "Pass", "InputPath": "$.dataset1", "Parameters": {"second.$": "$.val2"}}
    assert run(body, DOCS_INPUT) == {"second": 2}


def test_pass_result_replaces_the_input_by_default() -> None:
    assert run({"Type": "Pass", "Result": {"Arg1": "argument1"}}, {}) == {"Arg1": "argument1"}


def test_pass_result_wins_over_parameters() -> None:
    body = {"Type": "Pass", "Parameters": {"p": 1}, "Result": "the result"}
    assert run(body, {}) == "the result"


def test_pass_result_is_literal_even_with_dollar_keys() -> None:
    body = {"Type": "Pass", "Result": {"x.$": "$.a"}}
    assert run(body, {"a": 1}) == {"x.$": "$.a"}


def test_pass_result_path_places_the_result_into_the_raw_input_not_the_selection() -> None:
    body = {"Type": "Pass", "InputPath": "$.dataset2", "Result": "done", "ResultPath": "$.status"}
    assert run(body, DOCS_INPUT) == {**DOCS_INPUT, "status": "done"}


def test_pass_result_path_creates_the_nodes_it_needs() -> None:
    # AWS recorded: Result [1, "Hello", ...] with ResultPath "$.arr" on {}.
    body = {"Type": "Pass", "Result": [1, "Hello", {}, None, 3.3], "ResultPath": "$.a.arr"}
    assert run(body, {"x": 0}) == {"x": 0, "a": {"arr": [1, "Hello", {}, None, 3.3]}}


def test_pass_null_result_path_keeps_the_raw_input() -> None:
    body = {"Type": "Pass", "InputPath": "$.dataset1", "Result": "ignored", "ResultPath": None}
    assert run(body, DOCS_INPUT) == DOCS_INPUT


def test_pass_output_path_selects_after_result_path() -> None:
    body = {"Type": "Pass", "Result": {"val": 42}, "ResultPath": "$.res", "OutputPath": "$.res.val"}
    assert run(body, DOCS_INPUT) == 42


def test_pass_null_output_path_gives_an_empty_object() -> None:
    assert run({"Type": "Pass", "Result": 1, "OutputPath": None}, DOCS_INPUT) == {}


def test_pass_input_path_may_read_the_context_object() -> None:
    # AWS recorded: InputPath "$$.Execution.Input" outputs the execution input.
    assert run({"Type": "Pass", "InputPath": "$$.Execution.Input"}, {"other": 1}) == {"k": 1}
    assert run({"Type": "Pass", "InputPath": "$$"}, {}) == CONTEXT


def test_pass_output_path_may_read_the_context_object() -> None:
    assert run({"Type": "Pass", "OutputPath": "$$.State.Name"}, {}) == "S"


def test_pass_parameters_with_whole_context() -> None:
    body = {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "ResultPath": "$.q"}
    assert run(body, {"message": "m"}) == {"message": "m", "q": {"ctx": CONTEXT}}


def test_missing_input_path_fails_with_aws_text() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        run({"Type": "Pass", "InputPath": "$.NoSuchInputPath"}, {"int-literal": 0})
    assert caught.value.error == ErrorName.RUNTIME
    assert caught.value.cause == (
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )


def test_missing_output_path_names_the_first_missing_property() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        run({"Type": "Pass", "OutputPath": "$.no.such.result.path"}, {})
    assert caught.value.cause == (
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
    )


def test_result_path_into_a_string_is_a_result_path_match_failure() -> None:
    with pytest.raises(StatesError) as caught:
        run({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b"}, {"a": "text"})
    assert caught.value.error == ErrorName.RESULT_PATH_MATCH_FAILURE
    assert caught.value.cause is not None and "$.a.b" in caught.value.cause


def test_result_path_on_a_non_object_input_is_a_result_path_match_failure() -> None:
    with pytest.raises(StatesError) as caught:
        run({"Type": "Pass", "Result": 1, "ResultPath": "$.r"}, "a string input")
    assert caught.value.error == ErrorName.RESULT_PATH_MATCH_FAILURE


# --- Task ----------------------------------------------------------------------------------


def test_task_sends_the_input_and_outputs_the_result_by_default() -> None:
    payload, output = task({}, DOCS_INPUT, "Hello, Step Functions!")
    assert payload == DOCS_INPUT
    assert output == "Hello, Step Functions!"


def test_task_docs_example_result_path_adds_the_result_to_the_input() -> None:
    payload, output = task({"ResultPath": "$.taskresult"}, DOCS_INPUT, "Hello, Step Functions!")
    assert output == {**DOCS_INPUT, "taskresult": "Hello, Step Functions!"}


def test_task_docs_example_null_result_path_discards_the_result() -> None:
    _, output = task({"ResultPath": None}, DOCS_INPUT, "Hello, Step Functions!")
    assert output == DOCS_INPUT


def test_task_result_path_overwrites_an_existing_field() -> None:
    _, output = task({"ResultPath": "$.dataset1.val2"}, DOCS_INPUT, "new")
    assert output["dataset1"] == {"val1": 1, "val2": "new", "val3": 3}
    assert DOCS_INPUT["dataset1"]["val2"] == 2  # the input itself is untouched


def test_task_full_chain_in_order() -> None:
    body = {
        "InputPath": "$.dataset2",
        "Parameters": {"first.$": "$.val1", "constant": "c"},
        "ResultSelector": {"sum.$": "$.total", "exec.$": "$$.Execution.Id"},
        "ResultPath": "$.dataset2.summary",
        "OutputPath": "$.dataset2",
    }
    payload, output = task(body, DOCS_INPUT, {"total": 6, "noise": [1, 2, 3]})
    assert payload == {"first": "a", "constant": "c"}
    assert output == {
        "val1": "a",
        "val2": "b",
        "val3": "c",
        "summary": {"sum": 6, "exec": CONTEXT["Execution"]["Id"]},
    }


def test_task_null_input_path_sends_an_empty_object() -> None:
    payload, _ = task({"InputPath": None}, DOCS_INPUT, 1)
    assert payload == {}


def test_task_null_output_path_outputs_an_empty_object() -> None:
    _, output = task({"OutputPath": None}, DOCS_INPUT, {"r": 1})
    assert output == {}


def test_task_result_selector_reads_the_result_not_the_input() -> None:
    body = {"ResultSelector": {"payload.$": "$.Payload", "status.$": "$.StatusCode"}}
    _, output = task(body, {"Payload": "input-side"}, {"Payload": {"x": 1}, "StatusCode": 200})
    assert output == {"payload": {"x": 1}, "status": 200}


def test_task_result_selector_missing_path_is_a_runtime_error() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        task({"ResultSelector": {"p.$": "$.Nope"}}, {}, {"Payload": 1})
    assert caught.value.cause == (
        "The JSONPath '$.Nope' specified for the field 'p.$' could not be found in the input "
        "'{\"Payload\":1}'"
    )


def test_task_scalar_results_are_placed_like_any_other() -> None:
    for result in (0, None, False, "s", [1]):
        _, output = task({"ResultPath": "$.r"}, {"a": 1}, result)
        assert output == {"a": 1, "r": result}


def test_task_parameters_missing_path_fails_before_the_call() -> None:
    state = build({"Type": "Task", "Resource": LAMBDA, "Parameters": {"x.$": "$.absent"}})
    with pytest.raises(StateRuntimeError):
        enter(state, Scope({}), NOW)


# --- Choice, Wait, Succeed: InputPath and OutputPath only ---------------------------------


def choice(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Choice",
        "Choices": [{"Variable": "$.val1", "NumericEquals": 1, "Next": "T"}],
        **extra,
    }


def test_choice_rules_see_the_input_path_selection() -> None:
    state = build(choice(InputPath="$.dataset1"))
    outcome = enter(state, Scope(DOCS_INPUT), NOW)
    assert outcome == Advance(DOCS_INPUT["dataset1"], "T")


def test_choice_output_path_applies_to_the_selection() -> None:
    assert run(choice(InputPath="$.dataset1", OutputPath="$.val3"), DOCS_INPUT) == 3


def test_choice_null_output_path_gives_an_empty_object() -> None:
    assert run(choice(InputPath="$.dataset1", OutputPath=None), DOCS_INPUT) == {}


def test_wait_outputs_its_input_path_selection() -> None:
    body = {"Type": "Wait", "Seconds": 0, "InputPath": "$.dataset2", "OutputPath": "$.val2"}
    assert run(body, DOCS_INPUT) == "b"


def test_succeed_applies_input_path_then_output_path() -> None:
    body = {"Type": "Succeed", "InputPath": "$.dataset1", "OutputPath": "$.val1"}
    outcome = enter(build(body), Scope(DOCS_INPUT), NOW)
    assert outcome == Advance(1, None)


def test_succeed_without_fields_ends_with_its_input() -> None:
    assert enter(build({"Type": "Succeed"}), Scope([1, 2]), NOW) == Advance([1, 2], None)


# --- Parallel ------------------------------------------------------------------------------

BRANCH = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}


def branches(count: int) -> list[dict[str, Any]]:
    """`count` one-Pass branches (state names are unique across the whole machine)."""
    return [
        {"StartAt": f"B{i}", "States": {f"B{i}": {"Type": "Pass", "End": True}}}
        for i in range(count)
    ]


def test_parallel_gives_every_branch_the_effective_input() -> None:
    body = {
        "Type": "Parallel",
        "Branches": branches(2),
        "InputPath": "$.dataset1",
        "Parameters": {"v.$": "$.val3"},
    }
    state = build(body)
    outcome = enter(state, Scope(DOCS_INPUT), NOW)
    assert isinstance(outcome, FanOut)
    assert outcome.inputs == [{"v": 3}, {"v": 3}]
    assert len(outcome.machines) == 2


def test_parallel_result_is_the_branch_outputs_in_order_through_result_processing() -> None:
    body = {
        "Type": "Parallel",
        "Branches": branches(2),
        "ResultSelector": {"first.$": "$[0]", "second.$": "$[1].x"},
        "ResultPath": "$.parallel",
        "OutputPath": "$.parallel",
    }
    state = build(body)
    assert isinstance(state, ParallelState)
    advance = fanout_succeeded(state, Scope({"in": 1}), [{"b": 0}, {"x": "one"}])
    assert advance == Advance({"first": {"b": 0}, "second": "one"}, None)


def test_parallel_default_output_is_the_array_of_branch_outputs() -> None:
    state = build({"Type": "Parallel", "Branches": branches(3), "Next": "T"})
    assert isinstance(state, ParallelState)
    results = [{"branch": 0}, {"branch": 1}, {"branch": 2}]
    assert fanout_succeeded(state, Scope({}), results) == Advance(results, "T")


# --- Map -----------------------------------------------------------------------------------


def test_map_result_goes_through_result_selector_result_path_and_output_path() -> None:
    body = {
        "Type": "Map",
        "InputPath": "$.detail",
        "ItemsPath": "$.shipped",
        "ItemProcessor": BRANCH,
        "ResultSelector": {"count.$": "States.ArrayLength($)"},
        "ResultPath": "$.detail.summary",
        "OutputPath": "$.detail",
    }
    state = build(body)
    assert isinstance(state, MapState)
    raw = {"detail": {"shipped": ["a", "b"]}, "other": 1}
    advance = fanout_succeeded(state, Scope(raw), ["A", "B"])
    assert advance.output == {"shipped": ["a", "b"], "summary": {"count": 2}}


def test_map_null_result_path_passes_the_raw_input() -> None:
    # AWS recorded: Map with InputPath "$.arr" and ResultPath null outputs the raw input.
    body = {"Type": "Map", "InputPath": "$.arr", "ItemProcessor": BRANCH, "ResultPath": None}
    state = build(body)
    assert isinstance(state, MapState)
    raw = {"arr": [1, "Hello", {}, None, 3.3]}
    assert fanout_succeeded(state, Scope(raw), list(raw["arr"])).output == raw
