"""Payload templates (spec: "Payload Template"; AWS: Parameters, ResultSelector, ItemSelector).

A field whose name ends in `.$` takes its value from a path or an intrinsic function and
loses the suffix; every other field is copied unchanged, at any depth.
"""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError
from scheduler.asl.payload import compile_dynamic_value, compile_template, to_json
from scheduler.asl.scope import Scope

INPUT: dict[str, Any] = {
    "flagged": 7,
    "vals": [0, 10, 20, 30, 40, 50],
    "name": {"first": "Ada", "last": "Lovelace"},
}
CONTEXT: dict[str, Any] = {"Execution": {"Id": "arn:aws:states:us-east-1:1:execution:m:e"}}


def render(template: Any, data: Any = INPUT, context: Any = CONTEXT, **variables: Any) -> Any:
    return compile_template(template)(Scope(data, context, variables))


def test_docs_example_extracts_paths_and_keeps_constants() -> None:
    # The example of the ASL spec's "Payload Template" section.
    template = {
        "flagged": True,
        "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[-3:]"},
        "weekday.$": "$$.Execution.Id",
    }
    assert render(template) == {
        "flagged": True,
        "parts": {"first": 0, "last3": [30, 40, 50]},
        "weekday": CONTEXT["Execution"]["Id"],
    }


def test_dollar_takes_the_whole_input() -> None:
    assert render({"all.$": "$"}) == {"all": INPUT}


def test_double_dollar_takes_the_whole_context() -> None:
    assert render({"ctx.$": "$$"}) == {"ctx": CONTEXT}


def test_values_that_look_like_paths_without_the_suffix_stay_literal() -> None:
    assert render({"path": "$.name.first", "fn": "States.UUID()"}) == {
        "path": "$.name.first",
        "fn": "States.UUID()",
    }


def test_dynamic_fields_inside_arrays_of_objects() -> None:
    template = {"list": [{"who.$": "$.name.last"}, "plain", 3, [{"n.$": "$.flagged"}]]}
    assert render(template) == {"list": [{"who": "Lovelace"}, "plain", 3, [{"n": 7}]]}


def test_nested_objects_at_any_depth() -> None:
    assert render({"a": {"b": {"c": {"d.$": "$.name"}}}}) == {
        "a": {"b": {"c": {"d": {"first": "Ada", "last": "Lovelace"}}}}
    }


def test_intrinsic_function_values() -> None:
    template = {"greeting.$": "States.Format('Hello, {} {}', $.name.first, $.name.last)"}
    assert render(template) == {"greeting": "Hello, Ada Lovelace"}


def test_variable_values() -> None:
    assert render({"v.$": "$counter"}, counter=3) == {"v": 3}


def test_indefinite_path_gives_an_array_even_when_nothing_matches() -> None:
    assert render({"item.$": "$.items[*].itemValue"}, {}) == {"item": []}


def test_null_values_are_copied() -> None:
    assert render({"n.$": "$.n", "m": None}, {"n": None}) == {"n": None, "m": None}


def test_a_template_without_dynamic_fields_is_returned_as_is() -> None:
    template = {"a": [1, {"b": "c"}], "d": None}
    evaluate = compile_template(template)
    assert evaluate(Scope({})) is template


def test_evaluating_does_not_change_the_input() -> None:
    data = {"a": {"b": [1, 2]}}
    out = render({"copy.$": "$.a", "x": 1}, data)
    assert out == {"copy": {"b": [1, 2]}, "x": 1}
    assert data == {"a": {"b": [1, 2]}}


def test_missing_path_is_a_runtime_error_naming_path_field_and_input() -> None:
    # AWS recorded: "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$'
    # could not be found in the input '<json>'".
    with pytest.raises(StateRuntimeError) as caught:
        render({"value.$": "$.no_such_jsonpath"}, {"int-literal": 0})
    assert caught.value.error == ErrorName.RUNTIME
    assert caught.value.cause == (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' "
        "could not be found in the input '{\"int-literal\":0}'"
    )


def test_missing_path_in_a_nested_field_names_that_field() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        render({"outer": {"inner.$": "$.name.middle"}})
    assert caught.value.cause is not None
    assert "'$.name.middle' specified for the field 'inner.$'" in caught.value.cause


def test_missing_context_path_is_a_runtime_error_too() -> None:
    with pytest.raises(StateRuntimeError) as caught:
        render({"value.$": "$$.Execution.Input.no_such_jsonpath"}, {"int-literal": 0})
    assert caught.value.cause is not None
    assert caught.value.cause.startswith(
        "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' "
        "could not be found in the input '"
    )


def test_failing_intrinsic_is_an_intrinsic_failure_not_a_runtime_error() -> None:
    with pytest.raises(StatesError) as caught:
        render({"x.$": "States.ArrayGetItem($.vals, 99)"})
    assert caught.value.error == ErrorName.INTRINSIC_FAILURE


def test_dynamic_value_for_fail_state_fields() -> None:
    read = compile_dynamic_value("ErrorPath", "$.ErrorX")
    with pytest.raises(StateRuntimeError) as caught:
        read(Scope({"Error": "error-value"}))
    assert caught.value.cause == (
        "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in "
        'the input \'{"Error":"error-value"}\''
    )


def test_to_json_is_compact_and_keeps_unicode() -> None:
    assert to_json({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'
