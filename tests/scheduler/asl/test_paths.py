"""JSONPath as ASL uses it (spec: "Paths", "Reference Paths"; AWS: "Using JSONPath paths").

AWS evaluates paths with Jayway JsonPath: definite paths that match nothing fail with its
messages ("No results for path: $['x']", "Missing property in path $['a']"), indefinite
paths (wildcards, slices, filters, `..`) return an array, possibly empty.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonpath_ng.ext.parser import parse as jsonpath_parse

from scheduler.asl.paths import (
    PathNotFound,
    PathSyntaxError,
    ReferenceConflict,
    Root,
    compile_path,
    compile_reference_path,
    normalized_path,
    set_reference,
)
from scheduler.asl.scope import Scope

STORE: dict[str, Any] = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "price": 12.99},
            {"category": "fiction", "author": "Herman Melville", "isbn": "0-553", "price": 8.99},
            {"category": "fiction", "author": "J. R. R. Tolkien", "isbn": "0-395", "price": 22.99},
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "with space": {"and-dash": 1},
    "empty": [],
    "nothing": None,
    "text": "hello",
}


def find(path: str, document: Any = STORE) -> Any:
    return compile_path(path).find(document)


def not_found(path: str, document: Any = STORE) -> str:
    with pytest.raises(PathNotFound) as caught:
        compile_path(path).find(document)
    return caught.value.reason


# --- definite paths --------------------------------------------------------------------------


def test_dollar_alone_is_the_whole_document() -> None:
    assert find("$") == STORE
    assert find("$", "just a string") == "just a string"
    assert find("$", None) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.store.bicycle.color", "red"),
        ("$.store.book[0].author", "Nigel Rees"),
        ("$.store.book[3].isbn", "0-395"),
        ("$['store']['bicycle']['price']", 19.95),
        ('$["store"]["bicycle"]["price"]', 19.95),
        ("$['with space']['and-dash']", 1),
        ("$.store['bicycle'].color", "red"),
        ("$.nothing", None),
        ("$.empty", []),
    ],
)
def test_definite_paths_name_one_value(path: str, expected: Any) -> None:
    assert find(path) == expected


@pytest.mark.parametrize(
    ("path", "author"),
    [("$.store.book[-1].author", "J. R. R. Tolkien"), ("$.store.book[-4].author", "Nigel Rees")],
)
def test_negative_index_counts_from_the_end(path: str, author: str) -> None:
    assert find(path) == author


def test_missing_last_field_says_no_results_for_path_in_bracket_form() -> None:
    # What AWS prints for InputPath "$.NoSuchInputPath" (recorded).
    assert not_found("$.NoSuchInputPath") == "No results for path: $['NoSuchInputPath']"
    assert (
        not_found("$.store.bicycle.gears") == "No results for path: $['store']['bicycle']['gears']"
    )


def test_missing_intermediate_field_says_missing_property_up_to_the_gap() -> None:
    # What AWS prints for OutputPath "$.no.such.result.path" (recorded).
    assert not_found("$.no.such.result.path", {}) == "Missing property in path $['no']"
    assert not_found("$.store.car.wheels") == "Missing property in path $['store']['car']"


def test_index_past_the_end_is_no_results() -> None:
    assert not_found("$.store.book[4]") == "No results for path: $['store']['book'][4]"
    assert not_found("$.store.book[-5]") == "No results for path: $['store']['book'][-5]"
    assert not_found("$.empty[0]") == "No results for path: $['empty'][0]"


def test_a_field_of_a_scalar_or_an_index_of_an_object_matches_nothing() -> None:
    with pytest.raises(PathNotFound):
        find("$.text.length")
    with pytest.raises(PathNotFound):
        find("$.store.bicycle[0]")
    with pytest.raises(PathNotFound):
        find("$.store.book.author")


def test_a_digit_after_a_dot_is_a_field_name_not_an_index() -> None:
    assert find("$.a.0", {"a": {"0": "field"}}) == "field"
    with pytest.raises(PathNotFound):
        find("$.a.0", {"a": ["element"]})


def test_normalized_path_is_the_bracket_form_aws_prints() -> None:
    assert normalized_path("$.a.b[0]['c d']") == "$['a']['b'][0]['c d']"
    assert normalized_path("$$.Execution.Input") == "$$['Execution']['Input']"
    assert normalized_path("$") == "$"


# --- indefinite paths ----------------------------------------------------------------------


def test_wildcard_over_an_array_returns_every_match() -> None:
    assert find("$.store.book[*].author") == [
        "Nigel Rees",
        "Evelyn Waugh",
        "Herman Melville",
        "J. R. R. Tolkien",
    ]


def test_wildcard_skips_elements_without_the_field() -> None:
    assert find("$.store.book[*].isbn") == ["0-553", "0-395"]


def test_wildcard_over_an_object_returns_its_values() -> None:
    assert find("$.store.bicycle.*") == ["red", 19.95]


def test_recursive_descent_finds_every_depth() -> None:
    assert sorted(find("$..price")) == [8.95, 8.99, 12.99, 19.95, 22.99]


def test_slices_including_negative_starts() -> None:
    assert find("$.store.book[0:2].author") == ["Nigel Rees", "Evelyn Waugh"]
    assert find("$.store.book[-1:].author") == ["J. R. R. Tolkien"]
    assert find("$.store.book[:1].price") == [8.95]
    assert find("$.store.book[2:].isbn") == ["0-553", "0-395"]


def test_union_of_indexes() -> None:
    assert find("$.store.book[0,2].price") == [8.95, 8.99]


def test_filter_by_comparison() -> None:
    assert find("$.store.book[?(@.price < 10)].author") == ["Nigel Rees", "Herman Melville"]
    assert find("$.store.book[?(@.category == 'reference')].price") == [8.95]


def test_filter_by_existence() -> None:
    assert find("$.store.book[?(@.isbn)].author") == ["Herman Melville", "J. R. R. Tolkien"]


def test_filter_from_aws_recorded_case() -> None:
    users = {"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]}
    assert find("$.users[?(@.status == 0)]", users) == [{"year": 1997, "status": 0}]


def test_filter_with_jayway_double_ampersand() -> None:
    assert find("$.store.book[?(@.price > 8.96 && @.price < 20)].author") == [
        "Evelyn Waugh",
        "Herman Melville",
    ]


def test_filter_compares_numbers_exactly_not_truncated() -> None:
    # An integer literal must not match 1.9 (jsonpath-ng before 1.16 compared int(1.9) == 1).
    items = {"a": [{"v": 1.9}, {"v": 1}, {"v": 1.0}]}
    assert find("$.a[?(@.v == 1)].v", items) == [1, 1.0]


def test_filter_equality_between_a_number_and_a_numeric_string_holds_as_in_jayway() -> None:
    items = {"a": [{"v": "1"}, {"v": 1}, {"v": "one"}, {"v": True}]}
    assert find("$.a[?(@.v == 1)].v", items) == ["1", 1]
    assert find("$.a[?(@.v == '1')].v", items) == ["1", 1]


def test_filter_over_mixed_types_skips_what_does_not_compare() -> None:
    mixed = {"a": [1, "two", 3, {"x": 1}, None, True, [4]]}
    assert find("$.a[?(@ > 1)]", mixed) == [3]
    assert find("$.a[?(@ == 1)]", mixed) == [1]
    assert find("$.a[?(@ == 'two')]", mixed) == ["two"]


def test_filter_on_an_object_tests_the_object_itself() -> None:
    assert find("$.store.bicycle[?(@.color == 'red')].price") == [19.95]
    assert find("$.store.bicycle[?(@.color == 'blue')].price") == []


@pytest.mark.parametrize(
    "path",
    [
        "$[*]",
        "$.items[*]",
        "$.items[*].itemValue",
        "$.items[1:]",
        "$.items[:1]",
        "$.items[1:].itemValue",
        "$.item.items[1:5]",
        "$.item.items[1:5].itemValue",
        "$..itemValue",
        "$.items[?(@.v > 1)]",
    ],
)
def test_indefinite_path_over_missing_data_is_an_empty_array(path: str) -> None:
    # AWS recorded: Parameters {"item.$": path} with input {} gives {"item": []}.
    assert find(path, {}) == []


def test_index_inside_an_indefinite_path_skips_non_arrays() -> None:
    document = {"rows": [{"v": [10, 11]}, {"v": 5}, {"v": "str"}, {"v": []}]}
    assert find("$.rows[*].v[0]", document) == [10]
    assert find("$.rows[*].v[-1]", document) == [11]
    assert find("$.rows[*].v[-3]", document) == []


def test_wildcard_over_a_scalar_matches_nothing() -> None:
    assert find("$.text[*]") == []
    assert find("$.text[0:2]") == []


# --- roots: $$ and variables ---------------------------------------------------------------


def test_double_dollar_reads_the_context_object() -> None:
    context = {"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "State": {"Name": "S"}}
    scope = Scope({"k": "input"}, context)
    path = compile_path("$$.Execution.Input.k")
    assert path.root == Root.CONTEXT
    assert scope.resolve(path) == 1
    assert scope.resolve(compile_path("$$")) == context
    assert scope.resolve(compile_path("$.k")) == "input"


def test_missing_context_field_reports_the_context_root() -> None:
    with pytest.raises(PathNotFound) as caught:
        Scope({}, {"State": {}}).resolve(compile_path("$$.State.Nope"))
    assert caught.value.reason == "No results for path: $$['State']['Nope']"


def test_variable_paths_read_the_named_variable() -> None:
    scope = Scope({}, {}, {"order": {"items": [{"id": 7}]}})
    path = compile_path("$order.items[0].id")
    assert path.variable == "order"
    assert scope.resolve(path) == 7
    with pytest.raises(PathNotFound):
        scope.resolve(compile_path("$unknown.x"))


def test_exists_for_definite_and_indefinite_paths() -> None:
    assert compile_path("$.nothing").exists(STORE)  # present, even though null
    assert not compile_path("$.missing").exists(STORE)
    assert compile_path("$.store.book[*].isbn").exists(STORE)
    assert not compile_path("$.store.book[*].missing").exists(STORE)


# --- syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["store.book", "", "@.a", "$.a[", "$.a[?(@.b ==]"])
def test_invalid_paths_are_refused(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_path(text)


def test_compiling_is_cached() -> None:
    assert compile_path("$.store.book[0]") is compile_path("$.store.book[0]")


# --- reference paths (ResultPath) ----------------------------------------------------------


@pytest.mark.parametrize("text", ["$", "$.a", "$.a.b[0]", "$['a b'].c", "$.list[-1]"])
def test_reference_paths_name_a_single_node(text: str) -> None:
    assert compile_reference_path(text).keys is not None


@pytest.mark.parametrize(
    "text",
    ["$.a[*]", "$..a", "$.a[?(@.x)]", "$.a[0:2]", "$.a[0,1]", "$.*", "$$.Execution", "$var.a"],
)
def test_reference_paths_refuse_anything_that_could_name_several_nodes(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_reference_path(text)


def put(document: Any, path: str, value: Any) -> Any:
    return set_reference(document, compile_reference_path(path), value)


def test_set_reference_dollar_replaces_everything() -> None:
    assert put({"a": 1}, "$", "result") == "result"


def test_set_reference_adds_a_field_beside_the_input() -> None:
    assert put({"comment": "x"}, "$.taskresult", "Hello") == {"comment": "x", "taskresult": "Hello"}


def test_set_reference_overwrites_an_existing_field() -> None:
    assert put({"a": {"b": 1, "c": 2}}, "$.a.b", [9]) == {"a": {"b": [9], "c": 2}}


def test_set_reference_creates_missing_objects_on_the_way() -> None:
    assert put({"keep": True}, "$.x.y.z", 1) == {"keep": True, "x": {"y": {"z": 1}}}


def test_set_reference_into_an_existing_array_element() -> None:
    assert put({"l": [{"a": 1}, {"a": 2}]}, "$.l[1].b", 3) == {"l": [{"a": 1}, {"a": 2, "b": 3}]}
    assert put({"l": [1, 2, 3]}, "$.l[-1]", "last") == {"l": [1, 2, "last"]}


def test_set_reference_never_mutates_the_input() -> None:
    original = {"a": {"b": [1, {"c": 2}]}}
    put(original, "$.a.b[1].c", 3)
    put(original, "$.a.new", 4)
    assert original == {"a": {"b": [1, {"c": 2}]}}


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"a": "string"}, "$.a.b"),
        ({"a": 5}, "$.a.b"),
        ({"a": [1]}, "$.a.b"),
        ({"a": [1]}, "$.a[3]"),
        ({"a": {"b": 1}}, "$.a[0]"),
        ("not an object", "$.a"),
        ([1, 2], "$.a"),
    ],
)
def test_set_reference_through_a_non_object_is_a_conflict(document: Any, path: str) -> None:
    with pytest.raises(ReferenceConflict):
        put(document, path, "v")


# --- properties ------------------------------------------------------------------------------

_NAMES = st.text(alphabet="abcxyz_", min_size=1, max_size=3)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner, max_size=3),
    max_leaves=12,
)


def _text(steps: list[str | int]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


@given(_JSON, st.lists(_NAMES, min_size=1, max_size=4))
def test_fast_field_paths_agree_with_jsonpath_ng(document: Any, steps: list[str]) -> None:
    # Simple paths skip jsonpath-ng for speed; for field names they must agree with it.
    text = _text(list(steps))
    reference = [m.value for m in jsonpath_parse(text).find(document)]
    try:
        ours = [compile_path(text).find(document)]
    except PathNotFound:
        ours = []
    assert ours == reference


@given(st.dictionaries(_NAMES, _JSON, max_size=3), st.lists(_NAMES, min_size=1, max_size=4), _JSON)
def test_a_value_set_at_a_reference_path_is_found_there(
    document: dict[str, Any], keys: list[str], value: Any
) -> None:
    path = compile_reference_path(_text(list(keys)))
    try:
        updated = set_reference(document, path, value)
    except ReferenceConflict:
        return  # the path runs through a scalar or an array
    assert path.find(updated) == value
