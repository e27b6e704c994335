"""Validation of JSONata expressions and variable references.

(Which fields belong to which query language is in test_validate.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.asl.validate import Code, Diagnostic, validate_definition
from scheduler.asl.validate_variables import jsonpath_variables

PASS_END: dict[str, Any] = {"Type": "Pass", "End": True}


def jsonata(**states: Any) -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states}


def jsonpath(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def found(definition: dict[str, Any], code: str) -> list[tuple[str, str]]:
    return [(d.location, d.message) for d in validate_definition(definition) if d.code == code]


def single(definition: dict[str, Any]) -> Diagnostic:
    diagnostics = validate_definition(definition)
    assert len(diagnostics) == 1, "\n".join(map(str, diagnostics))
    return diagnostics[0]


# --- expressions ------------------------------------------------------------------------------


def test_an_expression_that_does_not_parse_is_located() -> None:
    diagnostic = single(jsonata(A={**PASS_END, "Output": {"v": "{% a[1,2) %}"}}))
    assert diagnostic.code == Code.INVALID_JSONATA_EXPRESSION
    assert diagnostic.location == "/States/A/Output/v"
    assert "Expected ]" in diagnostic.message


def test_expressions_are_checked_in_every_field_and_array() -> None:
    definition = jsonata(
        A={
            "Type": "Map",
            "End": True,
            "Items": [1, "{% ( %}"],
            "ItemSelector": {"x": ["{% ) %}"]},
            "MaxConcurrency": "{% + %}",
            "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}},
        }
    )
    locations = [loc for loc, _ in found(definition, Code.INVALID_JSONATA_EXPRESSION)]
    assert sorted(locations) == [
        "/States/A/ItemSelector/x/0",
        "/States/A/Items/1",
        "/States/A/MaxConcurrency",
    ]


def test_double_dollar_is_not_supported() -> None:
    diagnostic = single(jsonata(A={**PASS_END, "Output": "{% $$.Execution.Id %}"}))
    assert diagnostic.code == Code.UNSUPPORTED_JSONATA_EXPRESSION
    assert diagnostic.message == "Reference to '$$' is not supported."


@pytest.mark.parametrize("text", ["{% phone %}", "{% $count(items) %}", "{% {'a': b} %}"])
def test_field_names_at_the_top_level_are_not_supported(text: str) -> None:
    diagnostic = single(jsonata(A={**PASS_END, "Output": text}))
    assert diagnostic.code == Code.UNSUPPORTED_JSONATA_EXPRESSION
    assert "at the top level is not supported" in diagnostic.message
    assert "$states.input." in diagnostic.message


@pytest.mark.parametrize(
    "text",
    [
        "{% $states.input.items[value > 3] %}",
        "{% $map($states.input.a, function($v) { $v.name }) %}",
        "{% $states.input.a.(b + c) %}",
        "{% ($x := 1; $x) %}",
        "{% $contains('hello$world', /^hello\\ /) %}",
    ],
)
def test_relative_names_and_local_variables_are_fine(text: str) -> None:
    assert validate_definition(jsonata(A={**PASS_END, "Output": text})) == []


def test_error_output_only_in_catchers() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "End": True,
        "Output": "{% $states.errorOutput %}",
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "Next": "F",
                "Output": "{% $states.errorOutput %}",
                "Assign": {"e": "{% $states.errorOutput.Error %}"},
            }
        ],
    }
    diagnostics = found(jsonata(T=task, F=PASS_END), Code.UNSUPPORTED_JSONATA_EXPRESSION)
    assert diagnostics == [
        (
            "/States/T/Output",
            "$states.errorOutput is only available in a catcher's Output and Assign.",
        )
    ]


def test_jsonpath_states_do_not_evaluate_jsonata_looking_strings() -> None:
    definition = jsonpath(A={**PASS_END, "Result": {"x": "{% a[1,2) %}"}})
    assert found(definition, Code.INVALID_JSONATA_EXPRESSION) == []


# --- variables ----------------------------------------------------------------------------------


def test_reading_a_variable_nobody_assigns_is_a_warning() -> None:
    diagnostic = single(jsonata(A={**PASS_END, "Output": "{% $doesNotExist %}"}))
    assert (diagnostic.code, diagnostic.severity) == (Code.UNASSIGNED_VARIABLE, "WARNING")
    assert diagnostic.location == "/States/A/Output"
    assert "$doesNotExist" in diagnostic.message


def test_jsonpath_variable_reads_are_found_in_every_path_field() -> None:
    definition = jsonpath(
        A={
            "Type": "Choice",
            "Choices": [{"Variable": "$v1", "StringEqualsPath": "$v2", "Next": "B"}],
            "Default": "B",
            "InputPath": "$v3",
        },
        B={
            **PASS_END,
            "Parameters": {"f.$": "States.Format('{} $notvar', $v4)", "lit": "$v5"},
            "Result": {"x.$": "$v6"},
            "ResultPath": "$.r",
        },
    )
    locations = [loc for loc, _ in found(definition, Code.UNASSIGNED_VARIABLE)]
    assert sorted(locations) == [
        "/States/A/Choices/0/StringEqualsPath",
        "/States/A/Choices/0/Variable",
        "/States/A/InputPath",
        "/States/B/Parameters/f.$",
    ]


def test_a_variable_assigned_anywhere_in_the_block_or_around_it_is_visible() -> None:
    inner = {
        "StartAt": "I",
        "States": {"I": {**PASS_END, "Output": "{% $outer & $own %}", "Assign": {"own": 1}}},
    }
    definition = jsonata(
        A={"Type": "Pass", "Next": "P", "Output": "{% $late %}"},
        P={"Type": "Parallel", "Next": "L", "Branches": [inner], "Assign": {"outer": 1}},
        L={**PASS_END, "Assign": {"late": "{% $exists($own) %}"}},
    )
    warnings = found(definition, Code.UNASSIGNED_VARIABLE)
    assert [loc for loc, _ in warnings] == ["/States/L/Assign/late"]  # $own is the branch's


def test_a_distributed_map_cannot_read_outer_variables() -> None:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "I",
        "States": {"I": {**PASS_END, "Parameters": {"x.$": "$outer"}}},
    }
    inline = {
        **processor,
        "ProcessorConfig": {"Mode": "INLINE"},
        "States": {"J": {**PASS_END, "Parameters": {"x.$": "$outer"}}},
        "StartAt": "J",
    }
    definition = jsonpath(
        A={"Type": "Pass", "Next": "M", "Assign": {"outer": 1}},
        M={"Type": "Map", "Next": "N", "ItemProcessor": processor},
        N={"Type": "Map", "End": True, "ItemProcessor": inline},
    )
    warnings = found(definition, Code.UNASSIGNED_VARIABLE)
    assert [loc for loc, _ in warnings] == ["/States/M/ItemProcessor/States/I/Parameters/x.$"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("$x.a", {"x"}),
        ("$$.Execution.Id", set()),
        ("$.a", set()),
        ("States.Format('{} $y', $z, $.a)", {"z"}),
        ("States.Array($a, $b)", {"a", "b"}),
    ],
)
def test_jsonpath_variables(text: str, names: set[str]) -> None:
    assert jsonpath_variables(text) == names


# --- query languages --------------------------------------------------------------------------


def test_a_jsonpath_state_in_a_jsonata_machine_is_refused() -> None:
    diagnostic = single(jsonata(A={**PASS_END, "QueryLanguage": "JSONPath"}))
    assert diagnostic.location == "/States/A/QueryLanguage"


def test_a_branch_state_uses_the_machine_language() -> None:
    branch = {"StartAt": "B", "States": {"B": {**PASS_END, "Parameters": {"a.$": "$.a"}}}}
    definition = jsonpath(
        P={
            "Type": "Parallel",
            "QueryLanguage": "JSONata",
            "End": True,
            "Branches": [branch],
            "Arguments": {"a": "{% $states.input %}"},
        }
    )
    assert validate_definition(definition) == []
