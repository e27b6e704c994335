"""A Distributed Map's ResultWriter (AWS: "ResultWriter (Map)"): the files AWS writes under
`Prefix/<map run id>/` and their entries under WriterConfig's Transformation and
OutputType; without a Resource, the transformed results are the Map's result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scheduler.asl.errors import ErrorName, StatesError
from scheduler.asl.interpreter import fanout_succeeded, results_to_write, results_written
from scheduler.asl.model import MapState
from scheduler.asl.parse import load_definition
from scheduler.asl.result_writer import ResultWriter, transformed, write_request
from scheduler.asl.scope import Scope

ARN = "arn:aws:states:us-east-1:123456789012:mapRun:machine/Map:0b9c6f7e-1111"
PUT = "arn:aws:states:::s3:putObject"
PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Item",
    "States": {"Item": {"Type": "Pass", "End": True}},
}
INPUTS = ["a", "b", "c"]
RESULTS: list[Any] = [
    {"Output": {"n": 1}},
    {"Error": "Boom", "Cause": "it broke"},
    {"Output": [2, 3]},
]


def map_state(writer: dict[str, Any], **fields: Any) -> MapState:
    body = {"Type": "Map", "End": True, "ItemProcessor": PROCESSOR, "ResultWriter": writer}
    machine = load_definition({"StartAt": "M", "States": {"M": {**body, **fields}}})
    state = machine.states["M"]
    assert isinstance(state, MapState)
    return state


def objects(request: dict[str, Any]) -> dict[str, str]:
    return {item["Key"]: item["Body"] for item in request["Objects"]}


def test_the_files_go_under_prefix_and_map_run_id_with_the_manifest_last() -> None:
    state = map_state({"Resource": PUT, "Parameters": {"Bucket.$": "$.out", "Prefix": "jobs"}})
    call = results_to_write(state, Scope({"out": "results"}, {}), ARN, INPUTS, RESULTS)
    assert call.resource == PUT
    keys = [item["Key"] for item in call.payload["Objects"]]
    assert keys == [
        "jobs/0b9c6f7e-1111/SUCCEEDED_0.json",
        "jobs/0b9c6f7e-1111/FAILED_0.json",
        "jobs/0b9c6f7e-1111/manifest.json",
    ]
    files = objects(call.payload)
    manifest = json.loads(files["jobs/0b9c6f7e-1111/manifest.json"])
    succeeded = files["jobs/0b9c6f7e-1111/SUCCEEDED_0.json"]
    assert manifest == {
        "DestinationBucket": "results",
        "MapRunArn": ARN,
        "ResultFiles": {
            "FAILED": [
                {
                    "Key": "jobs/0b9c6f7e-1111/FAILED_0.json",
                    "Size": len(files["jobs/0b9c6f7e-1111/FAILED_0.json"]),
                }
            ],
            "PENDING": [],
            "SUCCEEDED": [
                {"Key": "jobs/0b9c6f7e-1111/SUCCEEDED_0.json", "Size": len(succeeded)}
            ],
        },
    }


def test_entries_carry_input_and_output_or_error_by_default() -> None:
    writer = ResultWriter(PUT, lambda scope: {"Bucket": "b"})
    files = objects(write_request(writer, Scope({}, {}), "M", ARN, INPUTS, RESULTS))
    assert json.loads(files["0b9c6f7e-1111/SUCCEEDED_0.json"]) == [
        {
            "Input": '"a"',
            "InputDetails": {"Included": True},
            "Output": '{"n":1}',
            "OutputDetails": {"Included": True},
            "Status": "SUCCEEDED",
        },
        {
            "Input": '"c"',
            "InputDetails": {"Included": True},
            "Output": "[2,3]",
            "OutputDetails": {"Included": True},
            "Status": "SUCCEEDED",
        },
    ]
    assert json.loads(files["0b9c6f7e-1111/FAILED_0.json"]) == [
        {
            "Error": "Boom",
            "Cause": "it broke",
            "Input": '"b"',
            "InputDetails": {"Included": True},
            "Status": "FAILED",
        }
    ]


def test_no_failures_write_no_failed_file() -> None:
    writer = ResultWriter(PUT, lambda scope: {"Bucket": "b", "Prefix": "p/"})
    files = objects(write_request(writer, Scope({}, {}), "M", ARN, ["a"], [{"Output": 1}]))
    assert sorted(files) == ["p/0b9c6f7e-1111/SUCCEEDED_0.json", "p/0b9c6f7e-1111/manifest.json"]
    assert json.loads(files["p/0b9c6f7e-1111/manifest.json"])["ResultFiles"]["FAILED"] == []


def test_jsonl_output_has_one_entry_per_line() -> None:
    writer = ResultWriter(PUT, lambda s: {"Bucket": "b"}, "JSONL", "COMPACT")
    files = objects(write_request(writer, Scope({}, {}), "M", ARN, INPUTS, RESULTS))
    assert files["0b9c6f7e-1111/SUCCEEDED_0.json"] == '{"n":1}\n[2,3]\n'


def test_a_writer_without_a_bucket_fails_naming_the_state() -> None:
    writer = ResultWriter(PUT, lambda s: {"Prefix": "p"})
    with pytest.raises(StatesError) as raised:
        write_request(writer, Scope({}, {}), "M", ARN, INPUTS, RESULTS)
    assert raised.value.error == ErrorName.RESULT_WRITER_FAILED
    assert "state 'M'" in str(raised.value.cause)


@pytest.mark.parametrize(
    ("transformation", "expected"),
    [
        ("COMPACT", [{"n": 1}, {"Error": "Boom", "Cause": "it broke"}, [2, 3]]),
        ("FLATTEN", [{"n": 1}, {"Error": "Boom", "Cause": "it broke"}, 2, 3]),
    ],
)
def test_transformations_in_item_order(transformation: str, expected: list[Any]) -> None:
    assert transformed(ResultWriter(None, None, "JSON", transformation), INPUTS, RESULTS) == (
        expected
    )


def test_a_writer_config_alone_transforms_the_maps_result() -> None:
    state = map_state({"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}})
    advance = fanout_succeeded(state, Scope({}, {}), [{"Output": [1, 2]}, {"Output": 3}], [])
    assert advance.output == [1, 2, 3]


def test_the_maps_result_after_writing_is_the_map_run_and_the_manifest() -> None:
    state = map_state(
        {"Resource": PUT, "Parameters": {"Bucket": "b"}}, ResultPath="$.written"
    )
    details = {"Bucket": "b", "Key": "x/manifest.json"}
    advance = results_written(state, Scope({"job": 1}, {}), ARN, details)
    assert advance.output == {
        "job": 1,
        "written": {"MapRunArn": ARN, "ResultWriterDetails": details},
    }
