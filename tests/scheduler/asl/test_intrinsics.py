"""Intrinsic functions: parsing, each function with the AWS docs' examples and limits, and
every `intrinsic_functions` conformance case (what real AWS did) evaluated at module level."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from scheduler.asl import intrinsics
from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.intrinsics import (
    Intrinsic,
    IntrinsicSyntaxError,
    compile_intrinsic,
    is_intrinsic,
    java_double,
)
from scheduler.asl.paths import compile_path, compile_reference_path, set_reference
from scheduler.asl.scope import Scope


def run(text: str, data: Any = None, **scope: Any) -> Any:
    """Compile `text` and evaluate it with `data` as `$`."""
    return compile_intrinsic(text).evaluate(Scope(data, **scope))


def failure(text: str, data: Any = None) -> StatesError:
    """The States.IntrinsicFailure that evaluating `text` raises."""
    with pytest.raises(StatesError) as info:
        run(text, data)
    assert info.value.error == ErrorName.INTRINSIC_FAILURE, info.value
    return info.value


# --- the public surface -------------------------------------------------------------------


def test_is_intrinsic() -> None:
    assert is_intrinsic("States.Format('x')")
    assert is_intrinsic("  States.UUID()")
    assert not is_intrinsic("$.States")
    assert not is_intrinsic("$$.Execution.Id")


def test_compiled_once_and_cached() -> None:
    call = compile_intrinsic("States.MathAdd($.a, 1)")
    assert isinstance(call, Intrinsic)
    assert call.text == "States.MathAdd($.a, 1)"
    assert compile_intrinsic("States.MathAdd($.a, 1)") is call


def test_evaluation_does_not_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    call = Intrinsic("States.Format('{}-{}', $.a, States.ArrayLength($.b))")

    def no_parsing(*_args: Any) -> None:
        raise AssertionError("parsed at evaluation time")

    monkeypatch.setattr(intrinsics, "_Parser", no_parsing)
    monkeypatch.setattr(intrinsics, "compile_path", no_parsing)
    assert call.evaluate(Scope({"a": "x", "b": [1, 2]})) == "x-2"


# --- arguments: literals, escapes, paths, nesting ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Array()", []),
        ("States.Array( 1 ,2 )", [1, 2]),
        ("States.Array(0, -7, 1.5, -2.25, 1e3, 25E-1)", [0, -7, 1.5, -2.25, 1000.0, 2.5]),
        ("States.Array(true, false, null)", [True, False, None]),
        ("States.Array('', ' a b ', 'x,y)')", ["", " a b ", "x,y)"]),
        (r"States.Array('it\'s', '\{', '\}', '\\', '{\}')", ["it's", "{", "}", "\\", "{}"]),
        ("States.Array('{\"k\": [1]}')", ['{"k": [1]}']),
        ("States.Array('日本 🆗')", ["日本 🆗"]),
    ],
)
def test_literals(text: str, expected: list[Any]) -> None:
    result = run(text)
    assert result == expected
    assert [type(v) for v in result] == [type(v) for v in expected]


def test_path_arguments_read_input_context_and_variables() -> None:
    data = {"a b": 1, "c": [10, 20], "d,e": 2, "items": [{"n": 1}, {"n": 2}, {"n": 3}]}
    context = {"Execution": {"Id": "arn:exec"}}
    text = "States.Array($['a b'], $.c[1], $['d,e'], $$.Execution.Id, $var.x, $.c)"
    result = run(text, data, context=context, variables={"var": {"x": "v"}})
    assert result == [1, 20, 2, "arn:exec", "v", [10, 20]]
    assert run("States.ArrayLength($.items[?(@.n > 1)])", data) == 2
    assert run("States.Array($)", 5) == [5]


def test_nested_calls_as_in_the_docs() -> None:
    arn = "arn:aws:imagebuilder:us-east-1:123:image-recipe/my.recipe.name/1.0.0"
    text = (
        "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit("
        "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), "
        "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
        "$.ImageRecipe.Arn, '/'), 2), '.'), 1))"
    )
    # The docs' own example has three '{}' for two values, which fails; two are meant.
    assert run(text, {"ImageRecipe": {"Arn": arn}}) == "1.0"


def test_nesting_limit() -> None:
    ten = "States.ArrayLength(" * 1 + "States.Array(" * 9 + ")" * 10
    assert run(ten) == 1
    with pytest.raises(IntrinsicSyntaxError, match="more than 10 nested"):
        compile_intrinsic("States.Array(" * 11 + ")" * 11)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("States.Nope(1)", "unknown intrinsic function 'States.Nope'"),
        ("$.a", "expected an intrinsic function name"),
        ("States.format('x')", "unknown intrinsic function 'States.format'"),
        ("States.Format", "expected '\\(' after 'States.Format'"),
        ("States.Array(1", "expected ',' or '\\)'"),
        ("States.Array(1,)", "expected an argument"),
        ("States.Array(1 2)", "expected ',' or '\\)'"),
        ("States.Array(1))", "unexpected text after"),
        ("States.Array(foo)", "expected an argument"),
        ("States.Array('abc)", "unterminated string"),
        (r"States.Array('a\nb')", "backslash in a string must escape"),
        ("States.Array('a\\')", "unterminated string"),
        ("States.Array($.a[0", "unterminated path"),
        ("States.Array($.a[0)", "invalid path argument"),
        ("States.Array($.a..)", "invalid path argument"),
        ("States.MathAdd(1)", "States.MathAdd takes 2 argument\\(s\\), got 1"),
        ("States.UUID(1)", "States.UUID takes 0 argument\\(s\\), got 1"),
        ("States.MathRandom(1)", "States.MathRandom takes 2 to 3 argument"),
        ("States.MathRandom(1, 2, 3, 4)", "States.MathRandom takes 2 to 3 argument"),
        ("States.Format()", "States.Format takes 1 to any number of argument"),
        ("States.JsonMerge($.a, $.b)", "States.JsonMerge takes 3 argument"),
        ("States.Format('{} {}', 1)", "2 '{}' placeholder\\(s\\) but 1 value"),
        ("States.Format('{}')", "1 '{}' placeholder\\(s\\) but 0 value"),
        ("States.Format(1, 2)", "template \\(first argument\\) of States.Format must be a string"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(IntrinsicSyntaxError, match=message):
        compile_intrinsic(text)


def test_not_a_string() -> None:
    with pytest.raises(IntrinsicSyntaxError):
        compile_intrinsic(42)


def test_missing_path_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        run("States.Format('{}', $.missing)", {"other": 1})
    assert info.value.error == ErrorName.RUNTIME
    assert info.value.cause == (
        "The JsonPath argument for the field '$.missing' could not be found "
        "in the input '{\"other\":1}'"
    )


# --- States.Format ---------------------------------------------------------------------------


def test_format_docs_examples() -> None:
    data = {"name": "Arnav", "template": "Hello, my name is {}."}
    assert run("States.Format('Hello, my name is {}.', $.name)", data) == "Hello, my name is Arnav."
    assert run("States.Format($.template, $.name)", data) == "Hello, my name is Arnav."


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        ("text", "text"),
        (None, "null"),
        (True, "true"),
        (1, "1"),
        (1.1, "1.1"),
        (2.0, "2.0"),
        (1e10, "1.0E10"),
        (0.0001, "1.0E-4"),
        ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),
        ([1, "a", None, {"k": [True]}], "[1, a, null, {k=[true]}]"),
    ],
)
def test_format_prints_values_as_aws_does(value: Any, printed: str) -> None:
    assert run("States.Format('<{}>', $.v)", {"v": value}) == f"<{printed}>"


def test_format_escapes() -> None:
    assert run(r"States.Format('\{}{}\}', 'x')") == "{}x}"
    assert run(r"States.Format('a\\{}', 1)") == "a\\1"
    assert run(r"States.Format('it\'s {}', 'ok')") == "it's ok"
    assert run("States.Format('{x}{}', 'y')") == "{x}y"


def test_format_runtime_errors() -> None:
    assert "2 '{}' placeholder(s) but 1 value(s)" in str(
        failure("States.Format($.t, 1)", {"t": "{} {}"}).cause
    )
    assert "argument 1 must be a string" in str(failure("States.Format($.t)", {"t": 3}).cause)


# --- arrays ----------------------------------------------------------------------------------


def test_array_docs_example() -> None:
    assert run("States.Array($.Id)", {"Id": 123456}) == [123456]


def test_array_partition() -> None:
    data = {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}
    expected = [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert run("States.ArrayPartition($.inputArray,4)", data) == expected
    assert run("States.ArrayPartition($.inputArray, 3.6)", data) == expected  # rounded
    assert run("States.ArrayPartition($.inputArray, 20)", data) == [data["inputArray"]]
    assert run("States.ArrayPartition(States.Array(), 2)") == []
    assert "positive" in str(failure("States.ArrayPartition($.inputArray, 0)", data).cause)
    assert "positive" in str(failure("States.ArrayPartition($.inputArray, -1)", data).cause)
    assert "must be an array" in str(failure("States.ArrayPartition('abc', 1)").cause)
    assert "must be an integer" in str(
        failure("States.ArrayPartition($.inputArray, 'a')", data).cause
    )


def test_array_contains() -> None:
    data = {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5}
    assert run("States.ArrayContains($.inputArray, $.lookingFor)", data) is True
    assert run("States.ArrayContains($.inputArray, 10)", data) is False
    mixed = {"a": [True, 1, {"x": 1, "y": [None]}, "s"]}
    assert run('States.ArrayContains($.a, States.StringToJson(\'{"y":[null],"x":1}\'))', mixed)
    assert run("States.ArrayContains($.a, 's')", mixed) is True
    # Java equality, as AWS compares: 1 is neither true nor 1.0
    assert run("States.ArrayContains(States.Array(true), 1)") is False
    assert run("States.ArrayContains(States.Array(1), 1.0)") is False
    assert "must be an array" in str(failure("States.ArrayContains('abc', 'a')").cause)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("1, 9, 2", [1, 3, 5, 7, 9]),
        ("0, 10, 3", [0, 3, 6, 9]),
        ("10, 0, -3", [10, 7, 4, 1]),
        ("5, 5, 1", [5]),
        ("5, 1, 1", []),
        ("0.5, 2.4, 1", [1, 2]),
        ("-1.5, 0, 1", [-1, 0]),
    ],
)
def test_array_range(args: str, expected: list[int]) -> None:
    assert run(f"States.ArrayRange({args})") == expected


def test_array_range_limits() -> None:
    assert len(run("States.ArrayRange(0, 999, 1)")) == 1000
    assert "1001 items, more than 1000" in str(failure("States.ArrayRange(0, 1000, 1)").cause)
    assert "must not be 0" in str(failure("States.ArrayRange(0, 10, 0)").cause)
    assert "argument 1 must be an integer" in str(failure("States.ArrayRange('0', 1, 1)").cause)
    assert "argument 3 must be an integer" in str(failure("States.ArrayRange(0, 1, true)").cause)


def test_array_get_item() -> None:
    data = {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}
    assert run("States.ArrayGetItem($.inputArray, $.index)", data) == 6
    assert run("States.ArrayGetItem($.inputArray, 0)", data) == 1
    assert "out of bounds" in str(failure("States.ArrayGetItem($.inputArray, 9)", data).cause)
    assert "out of bounds" in str(failure("States.ArrayGetItem($.inputArray, -1)", data).cause)
    assert "must be an integer" in str(
        failure("States.ArrayGetItem($.inputArray, 'a')", data).cause
    )


def test_array_length_and_unique() -> None:
    assert run("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == 9
    assert run("States.ArrayUnique($.a)", {"a": [1, 2, 3, 3, 3, 3, 3, 3, 4]}) == [1, 2, 3, 4]
    mixed: list[Any] = [
        None,
        None,
        True,
        1,
        1,
        1.0,
        "1",
        [],
        [],
        {"a": 1, "b": 2},
        {"b": 2, "a": 1},
    ]
    assert run("States.ArrayUnique($)", mixed) == [None, True, 1, 1.0, "1", [], {"a": 1, "b": 2}]
    assert "must be an array" in str(failure("States.ArrayLength($)", {"a": 1}).cause)
    assert "must be an array" in str(failure("States.ArrayUnique('x')").cause)


# --- encoding, hashing ---------------------------------------------------------------------


def test_base64_docs_examples() -> None:
    assert (
        run("States.Base64Encode($.input)", {"input": "Data to encode"}) == "RGF0YSB0byBlbmNvZGU="
    )
    assert run("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}) == (
        "Data to encode"
    )


def test_base64_round_trip_and_leniency() -> None:
    text = "héllo wörld 🆗"
    assert run("States.Base64Decode(States.Base64Encode($))", text) == text
    assert run("States.Base64Decode('RGF0YSB0byBlbmNvZGU')") == "Data to encode"  # no padding
    assert run("States.Base64Decode($)", "RGF0YSB0\r\nbyBlbmNvZGU=") == "Data to encode"
    assert run("States.Base64Encode('')") == ""
    assert "not valid Base64" in str(failure("States.Base64Decode('A')").cause)
    assert "must be a string" in str(failure("States.Base64Encode(1)").cause)


def test_base64_limits() -> None:
    assert run("States.Base64Encode($)", "a" * 10_000) == base64.b64encode(b"a" * 10_000).decode()
    assert "10001 characters, more than 10000" in str(
        failure("States.Base64Encode($)", "a" * 10_001).cause
    )
    assert "more than 10000" in str(failure("States.Base64Decode($)", "QUFB" * 2501).cause)
    # Java counts UTF-16 units: 5001 emoji are 10002 of them
    assert "more than 10000" in str(failure("States.Base64Encode($)", "🆗" * 5001).cause)


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    data = {"Data": "input data", "Algorithm": algorithm}
    assert run("States.Hash($.Data, $.Algorithm)", data) == digest


def test_hash_errors() -> None:
    assert 'unknown algorithm "SHA-3"' in str(failure("States.Hash('x', 'SHA-3')").cause)
    assert "unknown algorithm" in str(failure("States.Hash('x', 'sha-256')").cause)
    assert "more than 10000" in str(failure("States.Hash($, 'MD5')", "x" * 10_001).cause)
    assert "argument 1 must be a string" in str(failure("States.Hash($, 'MD5')", {"a": 1}).cause)


# --- JSON ----------------------------------------------------------------------------------


def test_json_merge() -> None:
    data = {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}}
    merged = run("States.JsonMerge($.json1, $.json2, false)", data)
    assert merged == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}
    assert data["json1"] == {"a": {"a1": 1, "a2": 2}, "b": 2}  # inputs untouched
    assert "deep merging is not supported" in str(
        failure("States.JsonMerge($.json1, $.json2, true)", data).cause
    )
    assert "argument 3 must be a boolean" in str(
        failure("States.JsonMerge($.json1, $.json2, 0)", data).cause
    )
    assert "argument 2 must be a JSON object" in str(
        failure("States.JsonMerge($.json1, States.Array(), false)", data).cause
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"foo": "bar"}', {"foo": "bar"}),
        ("", None),
        ("  ", None),
        ("null", None),
        ("-0", 0),
        ("1.1", 1.1),
        ("true", True),
        ('"HelloWorld"', "HelloWorld"),
        ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
    ],
)
def test_string_to_json(text: str, expected: Any) -> None:
    assert run("States.StringToJson($.s)", {"s": text}) == expected


def test_string_to_json_errors() -> None:
    assert "is not valid JSON" in str(failure("States.StringToJson('{')").cause)
    assert "is not valid JSON" in str(failure("States.StringToJson('NaN')").cause)
    assert "must be a string" in str(failure("States.StringToJson($)", {"a": 1}).cause)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"foo": "bar"}, '{"foo":"bar"}'),
        (None, "null"),
        (1, "1"),
        (1.1, "1.1"),
        (1e10, "1.0E10"),
        (True, "true"),
        ("HelloWorld", '"HelloWorld"'),
        ([1, 2, "HelloWorld"], '[1,2,"HelloWorld"]'),
        ({"Arg1": 1, "Arg2": [], "ü": "é\n"}, '{"Arg1":1,"Arg2":[],"ü":"é\\n"}'),
    ],
)
def test_json_to_string(value: Any, text: str) -> None:
    assert run("States.JsonToString($.v)", {"v": value}) == text


def test_java_double() -> None:
    cases = {1.1: "1.1", 100.0: "100.0", -0.0: "-0.0", 1e7: "1.0E7", 9999999.0: "9999999.0"}
    cases |= {0.001: "0.001", 0.000123: "1.23E-4", -2.5e21: "-2.5E21", 123456789.5: "1.234567895E8"}
    assert {value: java_double(value) for value in cases} == cases


# --- math, strings, UUID ---------------------------------------------------------------------


def test_math_random() -> None:
    numbers = {run("States.MathRandom($.start, $.end)", {"start": 1, "end": 4}) for _ in range(200)}
    assert numbers == {1, 2, 3}
    seeded = {run("States.MathRandom(0, 999, 42)") for _ in range(5)}
    assert len(seeded) == 1
    assert run("States.MathRandom(1.6, 2.5)") == 2  # both rounded: [2, 3)
    assert "less than the end" in str(failure("States.MathRandom(5, 5)").cause)
    assert "between -2147483648 and 2147483647" in str(failure("States.MathRandom(0, 1e10)").cause)


def test_seeded_random_is_javas() -> None:
    # new Random(42).nextInt() is -1170105035 and new Random(0).nextInt() is -1155484576;
    # nextInt(2**30) takes the top 30 of those same bits.
    assert intrinsics._java_random_int(42, 2**30) == (-1170105035 % 2**32) >> 2
    assert intrinsics._java_random_int(0, 2**30) == (-1155484576 % 2**32) >> 2
    assert 0 <= intrinsics._java_random_int(-7, 1000) < 1000


@pytest.mark.parametrize(
    ("first", "second", "total"),
    [
        (111, -1, 110),
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (1.5, 1.51, 4),
        (-1.5, -1.51, -3),
        (0.5, 0, 1),
        (2.5, 0, 3),
        (-0.5, 0, 0),
        (-0.5, 0.5, 1),
        (-2.5, 0, -2),
        (-3.5, 0, -3),
        (2147483647, 0, 2147483647),
    ],
)
def test_math_add_rounds_each_argument_like_java(first: float, second: float, total: int) -> None:
    result = run("States.MathAdd($.value1, $.step)", {"value1": first, "step": second})
    assert result == total
    assert type(result) is int


def test_math_add_errors() -> None:
    assert "between -2147483648 and 2147483647" in str(
        failure("States.MathAdd(2147483648, 0)").cause
    )
    assert "argument 2 must be an integer" in str(failure("States.MathAdd(1, '1')").cause)
    assert "argument 1 must be an integer" in str(failure("States.MathAdd(true, 1)").cause)


@pytest.mark.parametrize(
    ("text", "splitter", "expected"),
    [
        ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        (", , ,", ",", [" ", " "]),
        (",,,,", ",", []),
        ("a[b]c", "[]", ["a", "b", "c"]),
        ("abc", "", ["abc"]),
        ("", ",", []),
    ],
)
def test_string_split(text: str, splitter: str, expected: list[str]) -> None:
    data = {"inputString": text, "splitter": splitter}
    assert run("States.StringSplit($.inputString, $.splitter)", data) == expected


def test_string_split_errors() -> None:
    assert "argument 1 must be a string" in str(failure("States.StringSplit(1, ',')").cause)
    assert "argument 2 must be a string" in str(failure("States.StringSplit('a', 1)").cause)


def test_uuid() -> None:
    first, second = run("States.UUID()"), run("States.UUID()")
    pattern = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(pattern, first) and re.fullmatch(pattern, second)
    assert first != second


# --- conformance: what AWS recorded ----------------------------------------------------------

REPO = Path(__file__).resolve().parents[3]
CONFORMANCE = Path(
    os.environ.get("STEPLINE_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance")
)
IGNORED_NEEDS = {"jsonata", "variables"}


def load_cases() -> list[Any]:
    """Every `intrinsic_functions` case as a pytest param; one skipped param when absent."""
    params = []
    for file in sorted((CONFORMANCE / "cases").glob("*.json")):
        case = json.loads(file.read_text(encoding="utf-8"))
        if case.get("category") != "intrinsic_functions":
            continue
        if IGNORED_NEEDS & set(case.get("needs") or ()):
            continue
        params.append(pytest.param(case, id=case["id"].split("::")[-1]))
    if not params:
        reason = f"no intrinsic_functions conformance cases under {CONFORMANCE}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    return params


def context_for(data: Any, state: str) -> dict[str, Any]:
    """A context object shaped like AWS's, with names the recordings mask as wildcards."""
    machine = "arn:aws:states:us-east-1:111111111111:stateMachine:Conformance-Machine"
    return {
        "Execution": {
            "Id": "arn:aws:states:us-east-1:111111111111:execution:Conformance-Machine:run-1",
            "Input": data,
            "Name": "run-1",
            "RoleArn": "arn:aws:iam::111111111111:role/stepline",
            "StartTime": "2024-01-01T00:00:00.000Z",
        },
        "StateMachine": {"Id": machine, "Name": "Conformance-Machine"},
        "State": {"EnteredTime": "2024-01-01T00:00:00.000Z", "Name": state},
    }


def build(template: Any, scope: Scope) -> Any:
    """A Parameters template: each `.$` value is an intrinsic call or a path."""
    if isinstance(template, list):
        return [build(item, scope) for item in template]
    if not isinstance(template, dict):
        return template
    result = {}
    for key, value in template.items():
        if not key.endswith(".$"):
            result[key] = build(value, scope)
        elif is_intrinsic(value):
            result[key[:-2]] = compile_intrinsic(value).evaluate(scope)
        else:
            result[key[:-2]] = scope.resolve(compile_path(value))
    return result


def masked(value: Any) -> Any:
    """What the recordings did to outputs: object members holding JSON object text parsed."""
    if isinstance(value, list):
        return [masked(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, member in value.items():
        if isinstance(member, str) and member.startswith("{"):
            try:
                member = json.loads(member)
            except ValueError:
                pass
        result[key] = masked(member)
    return result


def matches(expected: Any, actual: Any) -> bool:
    """JSON equality (an int is not a float, nor a bool) where `<...>` in a string is a wildcard."""
    if isinstance(expected, str) and re.search(r"<[^<>]+>", expected):
        parts = re.split(r"<[^<>]+>", expected)
        pattern = ".+?".join(re.escape(part) for part in parts)
        return isinstance(actual, str) and re.fullmatch(pattern, actual, re.S) is not None
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(expected[k], actual[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return type(expected) is type(actual) and expected == actual


@pytest.mark.parametrize("case", load_cases())
def test_conformance(case: dict[str, Any]) -> None:
    definition = case["definition"]
    name = definition["StartAt"]
    state = definition["States"][name]
    assert state["Type"] == "Pass"
    data = json.loads(case["input"])
    scope = Scope(data, context_for(data, name))
    expected = case["expected"]
    try:
        result = build(state["Parameters"], scope)
    except StatesError as error:
        assert expected["status"] == "FAILED", f"unexpected {error}"
        assert error.error == expected["error"]
        assert error.cause is not None and expected["cause"].endswith(error.cause)
        return
    output = set_reference(data, compile_reference_path(state.get("ResultPath", "$")), result)
    output = compile_path(state.get("OutputPath", "$")).find(output)
    assert expected["status"] == "SUCCEEDED"
    assert matches(expected["output"], masked(output)), (expected["output"], output)
