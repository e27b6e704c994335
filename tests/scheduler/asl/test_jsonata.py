"""JSONata evaluation: the library wrapper, its corrections, and AWS's added functions."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from scheduler.asl.jsonata import (
    MAX_DEPTH,
    UNDEFINED,
    JsonataEvaluationError,
    JsonataSyntaxError,
    UnsupportedResult,
    compile_expression,
    expression_text,
    is_expression,
)
from scheduler.asl.jsonata_functions import MAX_RANGE_ITEMS


def value(text: str, **bindings: Any) -> Any:
    return compile_expression(text).evaluate(bindings)


def failure(text: str, **bindings: Any) -> JsonataEvaluationError:
    with pytest.raises(JsonataEvaluationError) as raised:
        value(text, **bindings)
    return raised.value


# --- what counts as an expression ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% $x %}", True),
        ("{%$x%}", True),
        (" {% $x %}", False),  # AWS: surrounding whitespace makes it a literal
        ("{% $x %} ", False),
        ("$x", False),
        ("{%}", False),
        (3, False),
    ],
)
def test_is_expression(text: Any, expected: bool) -> None:
    assert is_expression(text) is expected


def test_expression_text_is_what_aws_quotes_in_causes() -> None:
    assert expression_text("{%   $states.input  %}") == "$states.input"


def test_compiling_is_cached_per_text() -> None:
    assert compile_expression("$a + 1") is compile_expression("$a + 1")


@pytest.mark.parametrize("text", ["a[1,2)", "", "   ", "$x +"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(JsonataSyntaxError):
        compile_expression(text)


# --- null, undefined and numbers -----------------------------------------------------------


def test_a_missing_field_is_undefined_and_a_null_one_is_null() -> None:
    assert value("$x.b", x={"a": None}) is UNDEFINED
    assert value("$x.a", x={"a": None}) is None


def test_a_variable_holding_null_is_null_not_undefined() -> None:
    assert value("$x", x=None) is None
    assert value("$exists($x)", x=None) is True
    assert value("$type($x)", x=None) == "null"


def test_nulls_stay_inside_arrays_and_objects() -> None:
    assert value("[1, null, $x]", x=[None]) == [1, None, None]
    assert value("{'a': null}") == {"a": None}


def test_integral_numbers_are_ints() -> None:
    assert value("4/2") == 2 and isinstance(value("4/2"), int)
    assert value("5/2") == 2.5
    assert value("[1.0, 2.5]") == [1, 2.5]


def test_non_finite_numbers_are_errors() -> None:
    assert failure("1/0").code is None  # the library raises; AWS has no JSON for Infinity


def test_results_are_copies_not_the_bound_documents() -> None:
    document = {"a": [1, 2]}
    result = value("$x", x=document)
    assert result == document and result is not document


def test_a_function_result_is_unsupported() -> None:
    with pytest.raises(UnsupportedResult):
        value("function($a) { $a }")


# --- what AWS changes in the language -------------------------------------------------------


def test_eval_is_not_available() -> None:
    assert failure("$eval('1 + 1')").code == "T1006"


def test_depth_is_limited_as_on_aws() -> None:
    assert value("+".join(["1"] * MAX_DEPTH)) == MAX_DEPTH
    error = failure("+".join(["1"] * (MAX_DEPTH + 1)))
    assert error.code == "D1011"
    assert f"Depth={MAX_DEPTH + 1} max={MAX_DEPTH}" in error.message


def test_library_exceptions_become_evaluation_errors() -> None:
    assert "float" in failure("$number('x') + 1").message


def test_jsonata_errors_keep_their_code() -> None:
    error = failure("1 + 'a'")
    assert error.code == "T2002"
    assert "right side" in error.message


def test_now_reads_the_clock_of_this_evaluation() -> None:
    first = value("$millis()")
    compile_expression("$uuid()")  # compiling another expression must not freeze the clock
    assert value("$millis()") >= first


def test_concurrent_evaluations_of_one_expression_do_not_mix_bindings() -> None:
    expression = compile_expression("$map([1, 2, 3], function($v) { $v * $k })")
    results: dict[int, Any] = {}

    def work(k: int) -> None:
        for _ in range(30):
            results.setdefault(k, set()).add(tuple(expression.evaluate({"k": k})))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {k: {(k, 2 * k, 3 * k)} for k in range(1, 6)}


# --- $partition -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$partition([0, 1, 2, 3], 1)", [[0], [1], [2], [3]]),
        ("$partition([0, 1, 2, 3], 3)", [[0, 1, 2], [3]]),
        ("$partition([0, 1, 2, 3], 5)", [[0, 1, 2, 3]]),
        ("$partition([0, 1, 2], 2.9)", [[0, 1], [2]]),  # sizes truncate towards zero
        ("$partition([{'a': null}], 1)", [[{"a": None}]]),
    ],
)
def test_partition(text: str, expected: Any) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    "text", ["$partition([], 2)", "$partition([1], 0)", "$partition([1], 0.5)", "$partition([1])"]
)
def test_partition_gives_undefined_when_nothing_can_be_partitioned(text: str) -> None:
    assert value(text) is UNDEFINED


def test_partition_of_a_non_array_is_a_signature_error() -> None:
    assert failure("$partition('abc', 2)").code == "T0410"


# --- $range -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$range(0, 9, 3)", [0, 3, 6, 9]),
        ("$range(0, 10, 3)", [0, 3, 6, 9]),
        ("$range(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("$range(9, 1, -2)", [9, 7, 5, 3, 1]),
        ("$range(-1.7, 2, 1)", [-1, 0, 1, 2]),
        ("$range(3, 3, 1)", 3),  # a single element is the bare number
    ],
)
def test_range(text: str, expected: Any) -> None:
    assert value(text) == expected


@pytest.mark.parametrize(
    "text", ["$range(1, 3)", "$range(1, 3, 0)", "$range(3, 1, 1)", "$range(1, 3, -1)"]
)
def test_range_gives_undefined_for_ranges_that_go_nowhere(text: str) -> None:
    assert value(text) is UNDEFINED


def test_range_arguments_must_be_numbers() -> None:
    error = failure("$range('0', 4, 1)")
    assert (error.code, error.message) == (
        "T0410",
        'Argument 1 of function "range" does not match function signature',
    )
    assert failure("$range(0, 4, 1, 2)").code == "T0410"


def test_range_size_is_limited() -> None:
    assert len(value(f"$range(1, {MAX_RANGE_ITEMS}, 1)")) == MAX_RANGE_ITEMS
    assert "memory limit" in failure(f"$range(1, {MAX_RANGE_ITEMS + 1}, 1)").message


# --- $hash, $random, $uuid, $parse ----------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "900150983cd24fb0d6963f7d28e17f72"),
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    assert value(f"$hash('abc', '{algorithm}')") == digest


def test_hash_algorithms_are_case_sensitive_and_required() -> None:
    assert "not supported" in failure("$hash('abc', 'sha-256')").message
    assert value("$hash('abc')") is UNDEFINED
    assert failure("$hash(1, 'MD5')").code == "T0410"


def test_random_is_in_range_and_reproducible_with_a_seed() -> None:
    assert 0 <= value("$random()") < 1
    assert value("$random(7)") == value("$random(7)")
    assert value("$random(7)") != value("$random(8)")


def test_uuid_is_a_version_4_uuid() -> None:
    text = value("$uuid()")
    assert len(text) == 36 and text[14] == "4"
    assert failure("$uuid(1)").code == "T0410"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$parse('1')", 1),
        ("$parse('1.1')", 1.1),
        ("$parse('{\"a\": [1, null]}')", {"a": [1, None]}),
        ("$parse('null')", None),
    ],
)
def test_parse(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_parse_rejects_what_is_not_json() -> None:
    assert "not valid JSON" in failure("$parse('{nope')").message
    assert failure("$parse(1)").code == "T0410"
