"""A Distributed Map's ItemReader (AWS: "ItemReader (Map)"): entering the Map asks for the
items; what the reader's call returns is parsed by InputType and cut to MaxItems; bad data
is States.ItemReaderFailed naming the state (or AWS's own text, where it was recorded)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StateRuntimeError, StatesError
from scheduler.asl.interpreter import enter, items_read
from scheduler.asl.item_reader import MAX_ITEMS, ItemReader, max_items, read_items
from scheduler.asl.model import MapState
from scheduler.asl.outcome import FanOut, InvokeTask
from scheduler.asl.parse import load_definition
from scheduler.asl.scope import Scope

PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Item",
    "States": {"Item": {"Type": "Pass", "End": True}},
}
GET = "arn:aws:states:::s3:getObject"
LIST = "arn:aws:states:::s3:listObjectsV2"


def map_state(reader: dict[str, Any], **fields: Any) -> MapState:
    body = {"Type": "Map", "End": True, "ItemProcessor": PROCESSOR, "ItemReader": reader}
    machine = load_definition({"StartAt": "M", "States": {"M": {**body, **fields}}})
    state = machine.states["M"]
    assert isinstance(state, MapState)
    return state


def reader(config: dict[str, Any] | None = None, resource: str = GET) -> dict[str, Any]:
    return {
        "Resource": resource,
        "Parameters": {"Bucket.$": "$.bucket", "Key": "data"},
        "ReaderConfig": config or {"InputType": "JSON"},
    }


def items_of(config: dict[str, Any], body: str, limit: int = 0) -> list[Any]:
    state = map_state(reader(config))
    assert state.reader is not None
    return read_items(state.reader, "M", {"Body": body}, limit)


def failure(config: dict[str, Any], body: str) -> StatesError:
    with pytest.raises(StatesError) as raised:
        items_of(config, body)
    assert raised.value.error == ErrorName.ITEM_READER_FAILED
    return raised.value


# ----- entering the Map ---------------------------------------------------------------------


def test_entering_a_map_with_a_reader_calls_the_reader_with_its_parameters() -> None:
    outcome = enter(map_state(reader()), Scope({"bucket": "inbox"}, {}), 0.0)
    request = {"Arguments": {"Bucket": "inbox", "Key": "data"}, "InputType": "JSON"}
    assert outcome == InvokeTask(GET, request, None, None)


def test_a_bad_max_items_path_fails_the_map_after_it_started_as_on_aws() -> None:
    state = map_state(reader({"InputType": "JSON", "MaxItemsPath": "$.max"}))
    outcome = enter(state, Scope({"bucket": "b", "max": 1.5}, {}), 0.0)
    assert isinstance(outcome, FanOut) and outcome.inputs == []
    assert isinstance(outcome.start_error, StateRuntimeError)
    assert outcome.start_error.cause == (
        'The MaxItemsPath field refers to value "1.5" which is not a valid integer: $.max'
    )


def test_items_read_fan_out_ignoring_items_path_as_on_aws() -> None:
    state = map_state(reader(), ItemsPath="$.elsewhere")
    fanout = items_read(state, Scope({"bucket": "b", "elsewhere": [9]}, {}), {"Body": "[1, 2]"})
    assert fanout.inputs == [1, 2]


def test_items_read_go_through_the_item_selector() -> None:
    state = map_state(reader(), ItemSelector={"value.$": "$$.Map.Item.Value", "from.$": "$.bucket"})
    fanout = items_read(state, Scope({"bucket": "b"}, {}), {"Body": '["x"]'})
    assert fanout.inputs == [{"value": "x", "from": "b"}]


# ----- MaxItems -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "document", "expected"),
    [
        ({"InputType": "JSON"}, {}, 0),
        ({"InputType": "JSON", "MaxItems": 2}, {}, 2),
        ({"InputType": "JSON", "MaxItemsPath": "$.n"}, {"n": 3}, 3),
        ({"InputType": "JSON", "MaxItemsPath": "$.n"}, {"n": "4"}, 4),
        ({"InputType": "JSON", "MaxItemsPath": "$.n"}, {"n": 0}, 0),
        ({"InputType": "JSON", "MaxItemsPath": "$.n"}, {"n": 100_000_001}, 100_000_001),
    ],
)
def test_max_items_literal_or_by_path(
    config: dict[str, Any], document: dict[str, Any], expected: int
) -> None:
    state = map_state(reader(config))
    assert state.reader is not None
    assert max_items(state.reader, Scope(document, {})) == expected


@pytest.mark.parametrize("value", [-1, "two", True, None])
def test_a_max_items_path_value_that_is_no_count_is_refused(value: Any) -> None:
    state = map_state(reader({"InputType": "JSON", "MaxItemsPath": "$.n"}))
    assert state.reader is not None
    with pytest.raises(StateRuntimeError, match="MaxItemsPath field refers to value"):
        max_items(state.reader, Scope({"n": value}, {}))


def test_max_items_keeps_the_first_items() -> None:
    assert items_of({"InputType": "JSON"}, "[1, 2, 3]", limit=2) == [1, 2]
    assert items_of({"InputType": "JSON"}, "[1, 2, 3]", limit=0) == [1, 2, 3]


def test_more_items_than_stepline_holds_fail_clearly_unless_max_items_cuts_them() -> None:
    body = json.dumps(list(range(MAX_ITEMS + 1)))
    error = failure({"InputType": "JSON"}, body)
    assert "state 'M'" in str(error.cause) and str(MAX_ITEMS) in str(error.cause)
    assert len(items_of({"InputType": "JSON"}, body, limit=10)) == 10
    rows = "a\n" + "1\n" * (MAX_ITEMS + 5)
    assert "more than" in str(failure({"InputType": "CSV"}, rows).cause)


# ----- JSON and JSONL -------------------------------------------------------------------------


def test_json_items_are_the_array_elements() -> None:
    assert items_of({"InputType": "JSON"}, '[{"a": 1}, "b", [3]]') == [{"a": 1}, "b", [3]]


def test_a_body_that_is_not_json_fails_naming_the_state() -> None:
    error = failure({"InputType": "JSON"}, "{not json")
    assert str(error.cause).startswith("The ItemReader of state 'M' could not parse the object")


def test_a_json_object_that_is_no_array_fails() -> None:
    error = failure({"InputType": "JSON"}, '{"a": 1}')
    assert "needs a JSON array" in str(error.cause) and "object" in str(error.cause)


def test_jsonl_gives_one_item_per_line_skipping_blank_lines() -> None:
    body = '{"a": 1}\n\n[2]\n"three"\n'
    assert items_of({"InputType": "JSONL"}, body) == [{"a": 1}, [2], "three"]


def test_a_bad_jsonl_line_fails_naming_the_line() -> None:
    error = failure({"InputType": "JSONL"}, '{"a": 1}\n{oops\n')
    assert "line 2" in str(error.cause)


# ----- CSV ------------------------------------------------------------------------------------


def test_csv_first_row_headers_give_objects_of_strings() -> None:
    body = "id,name\n1,ann\n2,bob\n"
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    assert items_of(config, body) == [{"id": "1", "name": "ann"}, {"id": "2", "name": "bob"}]


def test_csv_given_headers_read_every_row() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"]}
    assert items_of(config, "1,2\n3,4") == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_ragged_rows_are_padded_or_cut_as_aws_does() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"]}
    assert items_of(config, "1\n2,3,4\n") == [{"a": "1", "b": ""}, {"a": "2", "b": "3"}]


def test_a_row_with_broken_quoting_fails_naming_the_line() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    error = failure(config, 'a,b\n1,2\n3,"x"y\n')
    assert "state 'M'" in str(error.cause) and "line 3" in str(error.cause)


def test_quoted_fields_keep_delimiters_and_newlines() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    assert items_of(config, 'a,b\n"x,y","two\nlines"\n') == [{"a": "x,y", "b": "two\nlines"}]


@pytest.mark.parametrize(
    ("delimiter", "char"), [("PIPE", "|"), ("SEMICOLON", ";"), ("TAB", "\t"), ("SPACE", " ")]
)
def test_csv_delimiters(delimiter: str, char: str) -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": delimiter}
    assert items_of(config, f"a{char}b\n1{char}2\n") == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize("location", ["FIRST_ROW", "GIVEN"])
def test_duplicate_csv_headers_fail_with_aws_cause(location: str) -> None:
    config: dict[str, Any] = {"InputType": "CSV", "CSVHeaderLocation": location}
    body = "h,h\n1,2\n"
    if location == "GIVEN":
        config["CSVHeaders"] = ["h", "h"]
        body = "1,2\n"
    assert failure(config, body).cause == "CSV headers cannot contain duplicates."


def test_csv_headers_over_10_kib_fail() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    headers = ",".join(f"column{i:05d}" for i in range(1000))
    assert "cannot exceed" in str(failure(config, headers + "\n").cause)


def test_max_items_stops_reading_csv_rows_early() -> None:
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    assert items_of(config, 'a\n1\n2\n3,"broken', limit=2) == [{"a": "1"}, {"a": "2"}]


# ----- listObjectsV2 and the reader's result -------------------------------------------------


def test_listed_objects_are_the_items() -> None:
    state = map_state(reader(resource=LIST, config={}))
    assert state.reader is not None
    listed = [{"Key": "a"}, {"Key": "b"}, {"Key": "c"}]
    assert read_items(state.reader, "M", {"Contents": listed}, 2) == listed[:2]


def test_a_result_without_a_body_fails() -> None:
    direct = ItemReader(GET, None)
    with pytest.raises(StatesError, match="got no object text"):
        read_items(direct, "M", {"Nothing": 1}, 0)


def test_an_unsupported_input_type_fails_clearly() -> None:
    parquet = ItemReader(GET, None, input_type="PARQUET")
    with pytest.raises(StatesError, match="InputType 'PARQUET' is not supported"):
        read_items(parquet, "M", {"Body": "PAR1"}, 0)


def test_inventory_rows_are_keyed_by_the_manifest_schema() -> None:
    manifest = ItemReader(GET, None, input_type="MANIFEST")
    result = {"Body": 'b,"k1",3\nb,k2,4', "CSVHeaders": ["Bucket", "Key", "Size"]}
    assert read_items(manifest, "M", result, 0) == [
        {"Bucket": "b", "Key": "k1", "Size": "3"},
        {"Bucket": "b", "Key": "k2", "Size": "4"},
    ]
    with pytest.raises(StatesError, match="got no inventory schema"):
        read_items(manifest, "M", {"Body": ""}, 0)
