"""Choice rules: each operator as the AWS docs and ASL spec describe it, then every recorded
`choice_operators` conformance case (what real AWS did) run through `compile_choice_rule`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.asl.choice import (
    OPERATORS,
    ChoiceRule,
    ChoiceRuleError,
    compile_choice_rule,
    parse_timestamp,
    wildcard_regex,
)
from scheduler.asl.errors import ErrorName, StateRuntimeError
from scheduler.asl.scope import Scope

INVALID = "The choice state's condition path references an invalid value."


def holds(rule: dict[str, Any], data: Any, **scope: Any) -> bool:
    """Compile `rule` and evaluate it with `data` as the state input."""
    return compile_choice_rule(rule).matches(Scope(data, **scope))


def value_holds(operator: str, operand: Any, value: Any) -> bool:
    """`{"Variable": "$.v", operator: operand}` against `{"v": value}`."""
    return holds({"Variable": "$.v", operator: operand}, {"v": value})


# --- rule shape ------------------------------------------------------------------------------


def test_top_level_rule_keeps_next_and_nested_rules_have_none() -> None:
    rule = compile_choice_rule({"Not": {"Variable": "$.a", "IsNull": True}, "Next": "Somewhere"})
    assert isinstance(rule, ChoiceRule)
    assert rule.next == "Somewhere"
    assert rule.kind == "Not"
    assert compile_choice_rule({"Variable": "$.a", "IsNull": True}).next is None


def test_every_documented_operator_is_known() -> None:
    families = {
        "String": ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"],
        "Numeric": ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"],
        "Timestamp": ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"],
        "Boolean": ["Equals"],
    }
    expected = {f + r + p for f, rs in families.items() for r in rs for p in ("", "Path")}
    expected |= {"StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString"}
    expected |= {"IsBoolean", "IsTimestamp"}
    assert OPERATORS == expected


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.a", "Next": "X"},  # no operator
        {"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1},  # two operators
        {"Variable": "$.a", "StringMatchesPath": "$.b"},  # not an ASL operator
        {"StringEquals": "x"},  # no Variable
        {"Variable": "$.a", "NumericEquals": "1"},  # literal of the wrong type
        {"Variable": "$.a", "BooleanEquals": 1},
        {"Variable": "$.a", "TimestampEquals": "2016-08-18 17:33:00Z"},
        {"Variable": "$.a", "IsNull": "true"},
        {"And": []},
        {"Condition": "{% $x %}", "Next": "X"},  # JSONata, compiled elsewhere
    ],
)
def test_malformed_rules_fail_to_compile(rule: dict[str, Any]) -> None:
    with pytest.raises(ChoiceRuleError):
        compile_choice_rule(rule)


# --- strings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("StringEquals", "MyString", "MyString", True),
        ("StringEquals", "MyString", "mystring", False),
        ("StringEquals", "\t\r\n", "\t\n", False),
        ("StringEquals", "1", 1, False),  # a number is not a string
        ("StringEquals", "true", True, False),
        ("StringEquals", "2001-01-01T12:00:00Z", "2001-01-01T12:00:00Z", True),
        ("StringGreaterThan", "MyStringABC", "MyStringABD", True),
        ("StringGreaterThan", "AB", "AB", False),
        ("StringGreaterThan", "A", "AB", True),  # a prefix sorts first
        ("StringLessThan", "AB", "A", True),
        ("StringLessThan", "a", "B", True),  # uppercase sorts before lowercase
        ("StringLessThanEquals", "", "", True),
        ("StringGreaterThanEquals", "B", "A", False),
        ("StringLessThan", "b", ["a"], False),
        ("StringLessThan", "b", None, False),
    ],
)
def test_string_comparisons(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert value_holds(operator, operand, value) is expected


def test_strings_order_by_utf16_code_unit_as_java_compareto() -> None:
    # U+1F600 is the surrogate pair D83D DE00, which Java orders before U+FF5E even though
    # its code point is larger; Python's own `<` would say the opposite.
    emoji, fullwidth_tilde = "\U0001f600", "\uff5e"
    assert value_holds("StringLessThan", fullwidth_tilde, emoji)
    assert not value_holds("StringGreaterThan", fullwidth_tilde, emoji)
    assert value_holds("StringGreaterThan", "z", "é")  # "é" (U+00E9) > "z" (U+007A)
    assert value_holds("StringLessThan", "é", "zz")


def java_compare_key(text: str) -> list[int]:
    """Java's order, spelled out: the list of UTF-16 code units."""
    encoded = text.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]


@given(st.text(), st.text())
def test_string_order_matches_java_for_any_strings(left: str, right: str) -> None:
    expected = java_compare_key(left) < java_compare_key(right)
    assert value_holds("StringLessThan", right, left) is expected
    assert value_holds("StringGreaterThanEquals", right, left) is not expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("log-*.txt", "log-2024.txt", True),  # the docs' example
        ("log-*.txt", "log-.txt", True),  # `*` matches the empty run
        ("log-*.txt", "log-2024.txt.gz", False),  # the whole string must match
        ("foo*.log", "foo23.log", True),  # the ASL spec's examples
        ("*.log", "zebra.log", True),
        ("foo*.*", "foobar.zebra", True),
        ("*", "", True),
        ("a*b*c", "a\nb\nc", True),  # `*` spans newlines too
        ("a.c", "abc", False),  # nothing but `*` is special
        ("a?c", "abc", False),
        ("[ab]", "a", False),
        ("star\\*", "star*", True),  # JSON "star\\*": a literal asterisk
        ("star\\*", "starry", False),
        ("back\\\\slash", "back\\slash", True),  # JSON "\\\\": a literal backslash
        ("back\\\\*", "back\\anything", True),
        ("*", 42, False),  # only strings match
    ],
)
def test_string_matches(pattern: str, value: Any, expected: bool) -> None:
    assert value_holds("StringMatches", pattern, value) is expected


def test_wildcard_regex_collapses_runs_of_stars() -> None:
    assert wildcard_regex("a***b").pattern == "a.*b"


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("NumericEquals", 1, 1, True),
        ("NumericEquals", 1, 1.0, True),  # int and float compare by value
        ("NumericEquals", 1.0, 1, True),
        ("NumericEquals", 0, -0.0, True),
        ("NumericEquals", 1, 1.1, False),
        ("NumericEquals", 1, "1", False),  # a string is not a number
        ("NumericEquals", 1, True, False),  # nor is a boolean
        ("NumericEquals", 0, False, False),
        ("NumericEquals", 0, None, False),
        ("NumericEquals", 0, [0], False),
        ("NumericEquals", 2**53 + 1, 2**53 + 1, True),
        ("NumericLessThan", 30, 22, True),
        ("NumericLessThan", 30, 30, False),
        ("NumericLessThanEquals", 30, 30.0, True),
        ("NumericGreaterThan", 0, 0.0001, True),
        ("NumericGreaterThan", 0, -1, False),
        ("NumericGreaterThanEquals", 20, 20, True),
        ("NumericGreaterThanEquals", 20, 19.999, False),
        ("NumericGreaterThan", 0, True, False),
    ],
)
def test_numeric_comparisons(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert value_holds(operator, operand, value) is expected


# --- booleans --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        (True, True, True),
        (False, False, True),
        (True, False, False),
        (True, 1, False),
        (False, 0, False),
        (False, None, False),
        (True, "true", False),
    ],
)
def test_boolean_equals(operand: bool, value: Any, expected: bool) -> None:
    assert value_holds("BooleanEquals", operand, value) is expected


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2016-08-18T17:33:00Z",
        "2016-08-18T17:33:00.5Z",
        "2016-08-18T17:33:00.123456789Z",
        "2016-08-18T17:33:00+01:00",
        "2016-08-18T17:33:00-00:00",
        "2016-02-29T00:00:00Z",  # leap year
        "2000-02-29T00:00:00Z",  # divisible by 400
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
    ],
)
def test_valid_timestamps(text: str) -> None:
    assert parse_timestamp(text) is not None
    assert value_holds("IsTimestamp", True, text)


@pytest.mark.parametrize(
    "text",
    [
        "2016-08-18t17:33:00Z",  # lowercase t
        "2016-08-18T17:33:00z",  # lowercase z
        "2016-08-18 17:33:00Z",  # space separator
        "2016-08-18T17:33:00",  # no offset
        "2016-08-18T17:33Z",  # no seconds
        "2016-08-18",  # date only
        "2016-08-18T17:33:00.Z",  # empty fraction
        "2016-08-18T17:33:00+0100",  # offset without colon
        "2016-08-18T17:33:00+01",
        "2016-13-01T00:00:00Z",  # month 13
        "2015-02-29T00:00:00Z",  # not a leap year
        "1900-02-29T00:00:00Z",  # divisible by 100, not 400
        "2016-04-31T00:00:00Z",
        "2016-08-18T24:00:00Z",
        "2016-08-18T17:60:00Z",
        "2016-08-18T17:33:60Z",  # leap seconds: java.time rejects them
        "2016-08-18T17:33:00+24:00",
        "２016-08-18T17:33:00Z",  # non-ASCII digit
        " 2016-08-18T17:33:00Z",
        "",
    ],
)
def test_invalid_timestamps(text: str) -> None:
    assert parse_timestamp(text) is None
    assert not value_holds("IsTimestamp", True, text)
    assert not value_holds("TimestampEquals", "2016-08-18T17:33:00Z", text)


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("TimestampEquals", "2001-01-01T12:00:00Z", "2001-01-01T12:00:00Z", True),
        ("TimestampEquals", "2001-01-01T12:00:00Z", "2001-01-01T13:00:00+01:00", True),
        ("TimestampEquals", "2001-01-01T12:00:00Z", "2001-01-01T12:00:00.000Z", True),
        ("TimestampEquals", "2001-01-01T12:00:00Z", "2001-01-01T12:00:00.001Z", False),
        ("TimestampLessThan", "2001-01-01T12:00:00.5Z", "2001-01-01T12:00:00.05Z", True),
        ("TimestampLessThan", "2001-01-01T12:00:00.5Z", "2001-01-01T12:00:00.49999Z", True),
        ("TimestampGreaterThan", "2001-01-01T12:00:00Z", "2001-01-01T12:30:00+00:15", True),
        ("TimestampGreaterThan", "2001-01-01T00:00:00Z", "2000-12-31T23:00:00-01:01", True),
        ("TimestampGreaterThanEquals", "2001-01-01T12:00:00Z", "2001-01-01T12:00:00Z", True),
        ("TimestampLessThanEquals", "2001-01-01T12:00:00Z", "2001-01-01T12:00:01Z", False),
        ("TimestampLessThan", "2001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", True),
        ("TimestampEquals", "2001-01-01T12:00:00Z", 978350400, False),  # not a string
        ("TimestampEquals", "2001-01-01T12:00:00Z", None, False),
    ],
)
def test_timestamp_comparisons(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert value_holds(operator, operand, value) is expected


def test_timestamps_that_are_strings_also_match_string_operators() -> None:
    assert value_holds("StringEquals", "2016-08-18T17:33:00Z", "2016-08-18T17:33:00Z")
    assert not value_holds("StringEquals", "2016-08-18T17:33:00Z", "2016-08-18T18:33:00+01:00")


# --- type tests ------------------------------------------------------------------------------

VALUES: dict[str, Any] = {
    "null": None,
    "true": True,
    "false": False,
    "zero": 0,
    "float": 1.5,
    "string": "x",
    "timestamp": "2016-03-14T01:59:00Z",
    "list": [],
    "object": {},
}


@pytest.mark.parametrize(
    ("operator", "accepted"),
    [
        ("IsNull", {"null"}),
        ("IsBoolean", {"true", "false"}),
        ("IsNumeric", {"zero", "float"}),
        ("IsString", {"string", "timestamp"}),
        ("IsTimestamp", {"timestamp"}),
        ("IsPresent", set(VALUES)),
    ],
)
def test_type_tests(operator: str, accepted: set[str]) -> None:
    for name, value in VALUES.items():
        assert value_holds(operator, True, value) is (name in accepted), name
        assert value_holds(operator, False, value) is (name not in accepted), name


# --- missing paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "missing"),
    [
        ({"Variable": "$.missing", "NumericEquals": 1}, "$.missing"),
        ({"Variable": "$.missing", "IsNull": True}, "$.missing"),  # type tests fail too
        ({"Variable": "$.missing", "IsString": False}, "$.missing"),
        ({"Variable": "$.missing", "StringMatches": "*"}, "$.missing"),
        ({"Variable": "$.missing", "BooleanEqualsPath": "$.flag"}, "$.missing"),
        ({"Variable": "$.flag", "BooleanEqualsPath": "$.missing"}, "$.missing"),  # *Path side
        ({"Variable": "$.missing", "BooleanEqualsPath": "$.other"}, "$.missing"),  # Variable first
        ({"Variable": "$.flag.deeper", "BooleanEquals": True}, "$.flag.deeper"),
        ({"Variable": "$.list[3]", "IsNull": True}, "$.list[3]"),
        ({"Variable": "$$.Execution.Missing", "IsNull": True}, "$$.Execution.Missing"),
        ({"Variable": "$undefinedVariable", "IsNull": True}, "$undefinedVariable"),
        ({"Not": {"Variable": "$.missing", "IsNull": True}}, "$.missing"),
        (
            {
                "And": [
                    {"Variable": "$.flag", "IsBoolean": True},
                    {"Variable": "$.x", "IsNull": True},
                ]
            },
            "$.x",
        ),
    ],
)
def test_a_missing_path_fails_with_states_runtime(rule: dict[str, Any], missing: str) -> None:
    with pytest.raises(StateRuntimeError) as raised:
        holds(rule, {"flag": True, "list": [1]}, context={"Execution": {}})
    assert raised.value.error == ErrorName.RUNTIME
    assert raised.value.cause == f"Invalid path '{missing}': {INVALID}"


def test_the_cause_names_the_missing_path_as_written() -> None:
    with pytest.raises(StateRuntimeError) as raised:
        holds({"Variable": "$.a['b c']", "StringEquals": "x"}, {"a": {}})
    assert raised.value.cause == f"Invalid path '$.a['b c']': {INVALID}"
    with pytest.raises(StateRuntimeError) as raised:
        holds({"Variable": "$.x", "NumericLessThanPath": "$.limit"}, {"x": 1})
    assert raised.value.cause == f"Invalid path '$.limit': {INVALID}"


def test_is_present_reads_missing_paths_without_failing() -> None:
    rule = {"Variable": "$.maybe", "IsPresent": True}
    assert holds(rule, {"maybe": None})
    assert not holds(rule, {})
    assert not holds(rule, "not an object")
    assert holds({"Variable": "$.maybe", "IsPresent": False}, {})
    assert not holds({"Variable": "$undefined", "IsPresent": True}, {})
    assert holds({"Variable": "$known", "IsPresent": True}, {}, variables={"known": 1})


def test_docs_guard_pattern_checks_presence_before_comparing() -> None:
    rule = {
        "And": [
            {"Variable": "$.keyThatMightNotExist", "IsPresent": True},
            {"Variable": "$.keyThatMightNotExist", "StringEquals": "foo"},
        ]
    }
    assert not holds(rule, {})  # short-circuits: the StringEquals is never evaluated
    assert holds(rule, {"keyThatMightNotExist": "foo"})


# --- *Path operands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "other", "expected"),
    [
        ("StringEqualsPath", "a", "a", True),
        ("StringLessThanPath", "a", "b", True),
        ("NumericEqualsPath", 0, 0.0, True),
        ("NumericGreaterThanPath", 2, 1, True),
        ("NumericLessThanEqualsPath", 2, 1, False),
        ("BooleanEqualsPath", False, False, True),
        ("TimestampLessThanPath", "2016-01-01T00:00:00Z", "2016-01-01T00:00:00.1Z", True),
        ("TimestampEqualsPath", "2016-01-01T01:00:00+01:00", "2016-01-01T00:00:00Z", True),
        # a wrong-typed operand on either side never matches
        ("NumericEqualsPath", 1, "1", False),
        ("NumericEqualsPath", "1", 1, False),
        ("StringEqualsPath", 1, 1, False),
        ("BooleanEqualsPath", True, 1, False),
        ("TimestampEqualsPath", "2016-01-01T00:00:00Z", "not a timestamp", False),
    ],
)
def test_path_operands(operator: str, value: Any, other: Any, expected: bool) -> None:
    rule = {"Variable": "$.v", operator: "$.other"}
    assert holds(rule, {"v": value, "other": other}) is expected


def test_paths_read_the_context_and_variables() -> None:
    context = {"Execution": {"Input": {"limit": 5}}}
    rule = {"Variable": "$count", "NumericLessThanPath": "$$.Execution.Input.limit"}
    assert holds(rule, {}, context=context, variables={"count": 4})
    assert not holds(rule, {}, context=context, variables={"count": 5})
    assert holds({"Variable": "$", "StringEquals": "raw"}, "raw")


# --- And / Or / Not --------------------------------------------------------------------------


def between(low: int, high: int) -> dict[str, Any]:
    """The docs' 'ValueInTwenties' rule shape."""
    return {
        "And": [
            {"Variable": "$.value", "NumericGreaterThanEquals": low},
            {"Variable": "$.value", "NumericLessThan": high},
        ]
    }


def test_and_or_not() -> None:
    assert holds(between(20, 30), {"value": 22})
    assert not holds(between(20, 30), {"value": 30})
    either = {"Or": [between(0, 10), between(20, 30)]}
    assert holds(either, {"value": 5}) and holds(either, {"value": 25})
    assert not holds(either, {"value": 15})
    assert holds({"Not": either}, {"value": 15})
    assert not holds({"Not": {"Not": either}}, {"value": 15})


def test_deeply_nested_rules() -> None:
    rule = {
        "Or": [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}},
            {
                "And": [
                    {"Variable": "$.value", "IsNumeric": True},
                    {
                        "Not": {
                            "Or": [
                                {"Variable": "$.value", "NumericEquals": 0},
                                {"Variable": "$.value", "NumericGreaterThan": 100},
                            ]
                        }
                    },
                ]
            },
        ]
    }
    assert holds(rule, {"type": "Public", "value": 0})
    assert holds(rule, {"type": "Private", "value": 50})
    assert not holds(rule, {"type": "Private", "value": 0})
    assert not holds(rule, {"type": "Private", "value": 101})
    assert not holds(rule, {"type": "Private", "value": "50"})


def test_or_short_circuits_before_a_missing_path() -> None:
    rule = {"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.missing", "IsNull": True}]}
    assert holds(rule, {"a": None})
    with pytest.raises(StateRuntimeError):
        holds(rule, {"a": 1})


# --- conformance: what AWS recorded ----------------------------------------------------------

REPO = Path(__file__).resolve().parents[3]
CONFORMANCE = Path(
    os.environ.get("STEPLINE_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance")
)
IGNORED_NEEDS = {"jsonata", "variables"}


def load_cases() -> list[Any]:
    """Every `choice_operators` case as a pytest param; one skipped param when absent."""
    files = sorted((CONFORMANCE / "cases").glob("*.json"))
    params = []
    for file in files:
        case = json.loads(file.read_text(encoding="utf-8"))
        if case.get("category") != "choice_operators":
            continue
        if IGNORED_NEEDS & set(case.get("needs") or ()):
            continue
        params.append(pytest.param(case, id=case["id"].split("::")[-1]))
    if not params:
        reason = f"no choice_operators conformance cases under {CONFORMANCE}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    return params


def branch_for(output: Any, states: dict[str, Any]) -> str:
    """The state whose `Result` is the recorded output: the branch AWS took."""
    names = [name for name, state in states.items() if state.get("Result") == output]
    assert len(names) == 1, f"output {output!r} does not name one state"
    return names[0]


@pytest.mark.parametrize("case", load_cases())
def test_conformance(case: dict[str, Any]) -> None:
    states = case["definition"]["States"]
    choice = states["CheckValues"]
    rules = [compile_choice_rule(rule) for rule in choice["Choices"]]
    scope = Scope(json.loads(case["input"]))
    expected = case["expected"]
    try:
        taken = next((rule.next for rule in rules if rule.matches(scope)), choice.get("Default"))
    except StateRuntimeError as error:
        assert expected["status"] == "FAILED", f"unexpected {error}"
        assert error.error == expected["error"]
        assert error.cause is not None and expected["cause"].endswith(error.cause)
        return
    assert expected["status"] == "SUCCEEDED"
    assert taken == branch_for(expected["output"], states)
