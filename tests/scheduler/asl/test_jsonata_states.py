"""Every field that takes JSONata, state by state, with `$states` scoping and AWS's errors.

(The query-language rules of validation are in test_validate_jsonata.py, variables in
test_variables.py, the language itself in test_jsonata.py.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, QueryEvaluationError, StatesError
from scheduler.asl.interpreter import enter, fanout_succeeded, handle_error, task_succeeded
from scheduler.asl.model import AnyState, MapState, ParallelState, TaskState
from scheduler.asl.outcome import Advance, Caught, Failure, FanOut, InvokeTask, WaitUntil
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
CONTEXT: dict[str, Any] = {
    "Execution": {"Id": "arn:exec", "Name": "exec-1"},
    "State": {"Name": "S", "EnteredTime": "2024-01-01T00:00:00Z"},
}
END: dict[str, Any] = {"Type": "Succeed"}
NOW = 1_000.0


def build(body: dict[str, Any], **others: dict[str, Any]) -> AnyState:
    """Compile JSONata state "S" (in a JSONata machine) with the states it may go to."""
    states = {"S": body, **others}
    definition = {"QueryLanguage": "JSONata", "StartAt": "S", "States": states}
    return load_definition(definition).states["S"]


def scope(data: Any = None, **variables: Any) -> Scope:
    return Scope(data, CONTEXT, variables)


def query_error(call: Any) -> QueryEvaluationError:
    with pytest.raises(QueryEvaluationError) as raised:
        call()
    assert raised.value.error == ErrorName.QUERY_EVALUATION_ERROR
    return raised.value


# --- Pass and Output ------------------------------------------------------------------------


def test_pass_without_output_passes_its_input_on() -> None:
    state = build({"Type": "Pass", "End": True})
    assert enter(state, scope({"a": 1}), NOW) == Advance({"a": 1}, None)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ({"b": "{% $states.input.a + 1 %}", "lit": "$.a"}, {"b": 2, "lit": "$.a"}),
        ("{% $states.input.a %}", 1),
        ([1, "{% $states.input.a %}", {"k": "{% true %}"}], [1, 1, {"k": True}]),
        (0.1, 0.1),
        (" {% $states.input %} ", " {% $states.input %} "),  # not exactly {% %}: a literal
        ({"ctx": "{% $states.context.Execution.Name %}"}, {"ctx": "exec-1"}),
        ({"v": "{% $v %}"}, {"v": [1]}),
        ({"n": "{% $states.input.missing = null %}"}, {"n": False}),
    ],
)
def test_output_is_json_with_expressions_in_it(output: Any, expected: Any) -> None:
    state = build({"Type": "Pass", "End": True, "Output": output})
    assert enter(state, scope({"a": 1}, v=[1]), NOW).output == expected


@pytest.mark.parametrize(
    ("output", "location"),
    [
        ("{% $doesNotExist %}", "Output"),
        ({"result": "{% $doesNotExist %}"}, "Output/result"),
        ({"a": {"b": [0, "{% $doesNotExist %}"]}}, "Output/a/b[1]"),
    ],
)
def test_an_expression_that_returns_nothing_fails_the_state(output: Any, location: str) -> None:
    state = build({"Type": "Pass", "End": True, "Output": output})
    error = query_error(lambda: enter(state, scope({}), NOW))
    assert error.location == location
    assert error.cause == (
        f"The JSONata expression '$doesNotExist' specified for the field '{location}' "
        "returned nothing (undefined)."
    )


def test_an_expression_that_throws_names_the_jsonata_error() -> None:
    state = build({"Type": "Pass", "End": True, "Output": "{% $range('0', 4, 1) %}"})
    error = query_error(lambda: enter(state, scope({}), NOW))
    assert error.cause == (
        "The JSONata expression '$range('0', 4, 1)' specified for the field 'Output' threw "
        'an error during evaluation. T0410: Argument 1 of function "range" does not match '
        "function signature"
    )


def test_an_expression_giving_a_function_is_an_unsupported_result() -> None:
    state = build({"Type": "Pass", "End": True, "Output": "{% function($x) { $x } %}"})
    error = query_error(lambda: enter(state, scope({}), NOW))
    assert error.cause.endswith("returned an unsupported result type.")


def test_result_and_error_output_are_not_in_scope_outside_their_fields() -> None:
    for text in ("{% $states.result %}", "{% $exists($states.result) ? 1 : 0 %}"):
        state = build({"Type": "Pass", "End": True, "Output": text})
        if "exists" in text:
            assert enter(state, scope({}), NOW).output == 0
        else:
            query_error(lambda state=state: enter(state, scope({}), NOW))


def test_succeed_output_shapes_what_the_branch_returns() -> None:
    state = build({"Type": "Succeed", "Output": {"done": "{% $states.input.n * 2 %}"}})
    assert enter(state, scope({"n": 21}), NOW) == Advance({"done": 42}, None)


# --- Task: Arguments, Output, timeouts ---------------------------------------------------------


def task(**fields: Any) -> TaskState:
    state = build({"Type": "Task", "Resource": LAMBDA, "End": True, **fields})
    assert isinstance(state, TaskState)
    return state


def test_task_arguments_default_to_the_input() -> None:
    decision = enter(task(), scope({"a": 1}), NOW)
    assert decision == InvokeTask(LAMBDA, {"a": 1}, None, None)


def test_task_arguments_read_input_context_and_variables() -> None:
    state = task(
        Arguments={
            "x": "{% $states.input.a %}",
            "who": "{% $states.context.State.Name %}",
            "v": "{% $v %}",
            "static": "Hello",
        }
    )
    decision = enter(state, scope({"a": 1}, v="var"), NOW)
    assert isinstance(decision, InvokeTask)
    assert decision.payload == {"x": 1, "who": "S", "v": "var", "static": "Hello"}


def test_task_arguments_cannot_read_the_result() -> None:
    state = task(Arguments={"r": "{% $states.result %}"})
    assert query_error(lambda: enter(state, scope({}), NOW)).location == "Arguments/r"


def test_task_output_defaults_to_the_result_and_reads_input_and_result() -> None:
    assert task_succeeded(task(), scope({"a": 1}), {"r": 2}) == Advance({"r": 2}, None)
    state = task(Output={"in": "{% $states.input.a %}", "out": "{% $states.result.r %}"})
    assert task_succeeded(state, scope({"a": 1}), {"r": 2}).output == {"in": 1, "out": 2}


def test_task_timeouts_take_expressions() -> None:
    state = task(TimeoutSeconds="{% $states.input.t %}", HeartbeatSeconds="{% $h %}")
    decision = enter(state, scope({"t": 30}, h=5), NOW)
    assert isinstance(decision, InvokeTask)
    assert (decision.timeout_seconds, decision.heartbeat_seconds) == (30, 5)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("'thirty'", "Expected 'integer', but was 'string' for value: \"thirty\""),
        ("1.5", "Expected 'integer', but was 'number' for value: 1.5"),
        ("0", "must be a positive integer"),
    ],
)
def test_task_timeout_expressions_must_give_positive_integers(value: str, fragment: str) -> None:
    state = task(TimeoutSeconds=f"{{% {value} %}}")
    error = query_error(lambda: enter(state, scope({}), NOW))
    assert fragment in error.cause
    assert error.location == "TimeoutSeconds"


# --- Choice -----------------------------------------------------------------------------------

CHOICE: dict[str, Any] = {
    "Type": "Choice",
    "Choices": [
        {
            "Condition": "{% $states.input.n > 10 %}",
            "Next": "Big",
            "Assign": {"size": "big"},
            "Output": {"kind": "{% 'big:' & $states.input.n %}"},
        },
        {"Condition": "{% $states.input.n > 5 %}", "Next": "Mid"},
        {"Condition": True, "Next": "Small", "Assign": {"size": "small"}},
    ],
    "Default": "Small",
    "Assign": {"size": "default"},
    "Output": {"kind": "default"},
}
CHOICE_TARGETS = {"Big": END, "Mid": END, "Small": END}


@pytest.mark.parametrize(
    ("n", "target", "output", "assigned"),
    [
        (11, "Big", {"kind": "big:11"}, {"size": "big"}),
        (6, "Mid", {"n": 6}, None),  # the matched rule's own (absent) Assign and Output
        (1, "Small", {"n": 1}, {"size": "small"}),
    ],
)
def test_a_matched_rule_brings_its_own_assign_and_output(
    n: int, target: str, output: Any, assigned: Any
) -> None:
    state = build(CHOICE, **CHOICE_TARGETS)
    assert enter(state, scope({"n": n}), NOW) == Advance(output, target, assigned)


def test_the_state_assign_and_output_apply_to_the_default() -> None:
    body = {**CHOICE, "Choices": [{"Condition": False, "Next": "Big"}]}
    state = build(body, Big=END, Small=END)
    assert enter(state, scope({"n": 1}), NOW) == Advance(
        {"kind": "default"}, "Small", {"size": "default"}
    )


def test_a_condition_must_be_a_boolean() -> None:
    body = {"Type": "Choice", "Choices": [{"Condition": "{% $states.input %}", "Next": "Big"}]}
    error = query_error(lambda: enter(build(body, Big=END), scope({"a": 1}), NOW))
    assert error.location == "Choices[0]/Condition"
    assert "Expected 'boolean', but was 'object' for value: {\"a\":1}" in error.cause


def test_no_match_and_no_default_is_no_choice_matched() -> None:
    body = {"Type": "Choice", "Choices": [{"Condition": False, "Next": "Big"}]}
    decision = enter(build(body, Big=END), scope({}), NOW)
    assert decision == Failure(ErrorName.NO_CHOICE_MATCHED, "No Matches!")


# --- Wait ---------------------------------------------------------------------------------------


def test_wait_seconds_and_timestamp_take_expressions() -> None:
    state = build({"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True})
    assert enter(state, scope({"s": 10}), NOW) == WaitUntil(NOW + 10, {"s": 10}, None)
    state = build({"Type": "Wait", "Timestamp": "{% $t %}", "End": True, "Output": 1})
    decision = enter(state, scope({}, t="1970-01-01T00:20:00Z"), NOW)
    assert decision == WaitUntil(1200.0, 1, None)


@pytest.mark.parametrize("text", ["2016-13-05T21:29:29Z", "2016-12-05 21:29:29Z", "tomorrow"])
def test_a_wait_timestamp_that_does_not_parse(text: str) -> None:
    state = build({"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": True})
    error = query_error(lambda: enter(state, scope({"t": text}), NOW))
    assert error.cause == (
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
        f"format string: {text}"
    )
    assert error.location == "Timestamp"


@pytest.mark.parametrize("seconds", ["-1", "'5'", "100000000"])
def test_wait_seconds_must_be_an_integer_in_range(seconds: str) -> None:
    state = build({"Type": "Wait", "Seconds": f"{{% {seconds} %}}", "End": True})
    assert query_error(lambda: enter(state, scope({}), NOW)).location == "Seconds"


# --- Fail ---------------------------------------------------------------------------------------


def test_fail_error_and_cause_take_expressions() -> None:
    state = build({"Type": "Fail", "Error": "{% $states.input.e %}", "Cause": "{% $c %}"})
    assert enter(state, scope({"e": "Oops"}, c="why"), NOW) == Failure("Oops", "why")


def test_fail_error_must_be_a_string() -> None:
    state = build({"Type": "Fail", "Error": "{% 42 %}"})
    error = query_error(lambda: enter(state, scope({}), NOW))
    assert "Expected 'string', but was 'number' for value: 42" in error.cause


# --- Parallel and Map -----------------------------------------------------------------------

BRANCH: dict[str, Any] = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
BRANCH_2: dict[str, Any] = {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}}


def test_parallel_arguments_are_every_branch_input() -> None:
    state = build(
        {
            "Type": "Parallel",
            "Branches": [BRANCH, BRANCH_2],
            "End": True,
            "Arguments": {"x": "{% $states.input.a %}"},
        }
    )
    decision = enter(state, scope({"a": 1}), NOW)
    assert isinstance(decision, FanOut) and decision.inputs == [{"x": 1}, {"x": 1}]
    assert isinstance(state, ParallelState)
    joined = fanout_succeeded(state, scope({"a": 1}), [1, 2])
    assert joined == Advance([1, 2], None)


def map_state(**fields: Any) -> MapState:
    state = build({"Type": "Map", "ItemProcessor": BRANCH, "End": True, **fields})
    assert isinstance(state, MapState)
    return state


def test_map_iterates_over_its_input_without_items() -> None:
    decision = enter(map_state(), scope([1, 2]), NOW)
    assert isinstance(decision, FanOut) and decision.inputs == [1, 2]


@pytest.mark.parametrize(
    ("data", "shown"), [(True, "true"), (None, "null"), ({"a": 1}, '{"a":1}'), ("s", '"s"')]
)
def test_map_input_must_be_an_array(data: Any, shown: str) -> None:
    error = query_error(lambda: enter(map_state(), scope(data), NOW))
    assert error.cause == f"Map state input must be an array but was: {shown}"
    assert error.location is None


def test_map_items_is_an_array_with_expressions_or_one_expression() -> None:
    decision = enter(map_state(Items=[1, "{% $number('2') %}", 3]), scope({}), NOW)
    assert isinstance(decision, FanOut) and decision.inputs == [1, 2, 3]
    decision = enter(map_state(Items="{% $states.input.list %}"), scope({"list": [4]}), NOW)
    assert isinstance(decision, FanOut) and decision.inputs == [4]


def test_map_items_expression_must_give_an_array() -> None:
    error = query_error(lambda: enter(map_state(Items="{% $v %}"), scope({}, v=None), NOW))
    assert error.cause == (
        "The JSONata expression '$v' specified for the field 'Items' returned an unexpected "
        "result type. Expected 'array', but was 'null' for value: null"
    )


def test_map_item_selector_sees_the_item_the_map_input_and_variables() -> None:
    state = map_state(
        Items=["a", "b"],
        ItemSelector={
            "value": "{% $states.context.Map.Item.Value %}",
            "index": "{% $states.context.Map.Item.Index %}",
            "input": "{% $states.input.k %}",
            "var": "{% $v %}",
        },
    )
    decision = enter(state, scope({"k": 1}, v=2), NOW)
    assert isinstance(decision, FanOut)
    assert decision.inputs == [
        {"value": "a", "index": 0, "input": 1, "var": 2},
        {"value": "b", "index": 1, "input": 1, "var": 2},
    ]


def test_map_limits_take_expressions() -> None:
    state = map_state(
        Items=[1],
        MaxConcurrency="{% $variable := 2 %}",
        ToleratedFailureCount="{% $states.input.c %}",
        ToleratedFailurePercentage="{% 12.5 %}",
    )
    decision = enter(state, scope({"c": 3}), NOW)
    assert isinstance(decision, FanOut)
    assert (decision.max_concurrency, decision.tolerated_failure_count) == (2, 3)
    assert decision.tolerated_failure_percentage == 12.5


def test_map_limit_expressions_are_checked() -> None:
    error = query_error(
        lambda: enter(map_state(Items=[1], MaxConcurrency="{% -1 %}"), scope({}), NOW)
    )
    assert (error.cause, error.location) == ("MaxConcurrency cannot be negative.", "MaxConcurrency")
    decision = enter(map_state(Items=[1], ToleratedFailurePercentage="{% 101 %}"), scope({}), NOW)
    assert isinstance(decision, FanOut) and decision.start_error is not None
    assert decision.start_error.error == ErrorName.QUERY_EVALUATION_ERROR


def test_map_output_reads_the_results() -> None:
    state = map_state(Items=[1, 2], Output={"sum": "{% $sum($states.result) %}"})
    assert fanout_succeeded(state, scope({}), [1, 2]) == Advance({"sum": 3}, None)


# --- Catch ----------------------------------------------------------------------------------------


def build_catching(catch: dict[str, Any]) -> TaskState:
    body = {
        "Type": "Task",
        "Resource": LAMBDA,
        "End": True,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", **catch}],
    }
    state = build(body, F=END)
    assert isinstance(state, TaskState)
    return state


def test_a_catcher_passes_on_the_error_output_by_default() -> None:
    state = build_catching({})
    decision = handle_error(state, scope({"a": 1}), StatesError("E", "c"), [], lambda: 0.0)
    assert decision == Caught({"Error": "E", "Cause": "c"}, "F")


def test_a_catcher_output_and_assign_read_error_output_and_input() -> None:
    state = build_catching(
        {
            "Output": {"err": "{% $states.errorOutput.Error %}", "in": "{% $states.input.a %}"},
            "Assign": {"saved": "{% $states.errorOutput %}"},
        }
    )
    decision = handle_error(state, scope({"a": 1}), StatesError("E", "c"), [], lambda: 0.0)
    assert decision == Caught({"err": "E", "in": 1}, "F", {"saved": {"Error": "E", "Cause": "c"}})


def test_a_catcher_whose_output_fails_fails_the_state() -> None:
    state = build_catching({"Output": "{% $nope %}"})
    decision = handle_error(state, scope({}), StatesError("E", "c"), [], lambda: 0.0)
    assert isinstance(decision, Failure)
    assert decision.error == ErrorName.QUERY_EVALUATION_ERROR
    assert "'Catch[0]/Output'" in (decision.cause or "")


def test_a_query_evaluation_error_can_be_caught() -> None:
    state = build_catching({})
    with pytest.raises(QueryEvaluationError) as raised:
        task_succeeded(
            task(Output="{% $x %}"),
            scope({}),
            {},
        )
    decision = handle_error(state, scope({}), raised.value, [], lambda: 0.0)
    assert isinstance(decision, Caught)
    assert decision.output["Error"] == ErrorName.QUERY_EVALUATION_ERROR


# --- which states read the context object ----------------------------------------------------


@pytest.mark.parametrize(
    ("output", "uses"),
    [
        ("{% $states.input %}", False),
        ("{% $states.context.Execution.Id %}", True),
        ("{% $states %}", True),
        ({"a": "{% $lookup($states, 'context') %}"}, True),
        ("$$.Execution.Id", False),  # a literal in a JSONata state
    ],
)
def test_states_say_whether_they_read_the_context(output: Any, uses: bool) -> None:
    assert build({"Type": "Pass", "End": True, "Output": output}).uses_context is uses


def test_jsonpath_states_read_the_context_through_double_dollar() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B", "Parameters": {"id.$": "$$.Execution.Id"}},
            "B": {"Type": "Pass", "End": True},
        },
    }
    states = load_definition(definition).states
    assert states["A"].uses_context and not states["B"].uses_context


# --- the side-by-side example of docs/query-languages.md ---------------------------------------


def test_the_documented_jsonpath_and_jsonata_tasks_do_the_same() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "query-languages.md").read_text()
    jsonpath_body, jsonata_body = (
        json.loads(block) for block in re.findall(r"```json\n(\{.*?\})\n```", text, re.DOTALL)[:2]
    )
    data = {"order": {"id": "o-1", "lines": 2}}
    result = {"Payload": {"status": "PAID"}, "StatusCode": 200}
    outcomes = []
    for body in (jsonpath_body, jsonata_body):
        definition = {"StartAt": "T", "States": {"T": body, "Confirm": END}}
        state = load_definition(definition).states["T"]
        assert isinstance(state, TaskState)
        run_scope = scope(data, customerName="Ana")
        called = enter(state, run_scope, NOW)
        assert isinstance(called, InvokeTask)
        outcomes.append((called.payload, task_succeeded(state, run_scope, result)))
    assert outcomes[0] == outcomes[1]
    payload, advance = outcomes[0]
    assert payload == {
        "orderId": "o-1",
        "name": "Ana",
        "note": "charged at 2024-01-01T00:00:00Z",
        "static": "not evaluated: $.order.id",
    }
    assert advance == Advance(
        {"id": "o-1", "lines": 2, "result": {"status": "PAID"}}, "Confirm", {"chargeId": "PAID"}
    )
