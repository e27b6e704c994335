"""A Distributed Map reading its items from S3 (ItemReader) and writing its results there
(ResultWriter), on the embedded engine, with moto's server standing in for S3."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from integrations.invoke import Invoker
from integrations.settings import IntegrationSettings
from scheduler.asl.errors import StatesError
from scheduler.engine.records import ExecutionRecord, ExecutionStatus
from scheduler.runtime import EmbeddedRuntime
from tests.e2e.conftest import clean_env, client, start_server

STATES = "arn:aws:states:::"
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


@pytest.fixture
def s3(moto_url: str) -> Any:
    return boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"items-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def run(
    runtime_for: Callable[[IntegrationSettings], EmbeddedRuntime], moto_url: str
) -> Callable[..., tuple[ExecutionRecord, list[dict[str, Any]]]]:
    runtime = runtime_for(IntegrationSettings(aws_endpoint_url=moto_url))

    def execute(definition: dict[str, Any], value: Any) -> tuple[ExecutionRecord, list[Any]]:
        record = runtime.run(definition, value, timeout=30)
        return record, runtime.history(record)

    return execute


def map_machine(
    processor_states: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": DISTRIBUTED,
        "StartAt": "Item",
        "States": processor_states or {"Item": {"Type": "Pass", "End": True}},
    }
    body = {"Type": "Map", "End": True, "ItemProcessor": processor, **fields}
    return {"StartAt": "Fan", "States": {"Fan": body}}


def get_object(input_type: str, **config: Any) -> dict[str, Any]:
    return {
        "Resource": STATES + "s3:getObject",
        "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
        "ReaderConfig": {"InputType": input_type, **config},
    }


def test_a_csv_object_is_read_row_by_row(run: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="people.csv", Body=b"name,age\nann,31\nbob,42\n")
    machine = map_machine(ItemReader=get_object("CSV", CSVHeaderLocation="FIRST_ROW"))
    record, history = run(machine, {"bucket": bucket, "key": "people.csv"})
    assert record.status == ExecutionStatus.SUCCEEDED, record.cause
    assert record.output == [{"name": "ann", "age": "31"}, {"name": "bob", "age": "42"}]
    assert [event["type"] for event in history][2:5] == [
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
    ]


def test_jsonl_items_are_batched(run: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="events.jsonl", Body=b'{"n": 1}\n{"n": 2}\n{"n": 3}\n')
    machine = map_machine(
        ItemReader=get_object("JSONL"),
        ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"source.$": "$.key"}},
    )
    record, _ = run(machine, {"bucket": bucket, "key": "events.jsonl"})
    assert record.status == ExecutionStatus.SUCCEEDED, record.cause
    assert record.output == [
        {"BatchInput": {"source": "events.jsonl"}, "Items": [{"n": 1}, {"n": 2}]},
        {"BatchInput": {"source": "events.jsonl"}, "Items": [{"n": 3}]},
    ]


def test_listed_objects_are_the_items(run: Any, s3: Any, bucket: str) -> None:
    for key in ("in/a.txt", "in/b.txt", "other/c.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"hello")
    reader = {
        "Resource": STATES + "s3:listObjectsV2",
        "Parameters": {"Bucket.$": "$.bucket", "Prefix": "in/"},
    }
    record, _ = run(map_machine(ItemReader=reader), {"bucket": bucket})
    assert record.status == ExecutionStatus.SUCCEEDED, record.cause
    assert [item["Key"] for item in record.output] == ["in/a.txt", "in/b.txt"]
    first = record.output[0]
    assert sorted(first) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    assert first["Size"] == 5 and isinstance(first["LastModified"], int)


def test_an_s3_inventory_gives_one_item_per_listed_object(
    run: Any, s3: Any, bucket: str
) -> None:
    rows = [b'"photos","a.jpg","10"\n"photos","b.jpg","20"\n', b'"photos","c.jpg","30"\n']
    for index, data in enumerate(rows):
        body = gzip.compress(data) if index == 0 else data
        s3.put_object(Bucket=bucket, Key=f"inventory/data/{index}.csv.gz", Body=body)
    manifest = {
        "sourceBucket": "photos",
        "destinationBucket": f"arn:aws:s3:::{bucket}",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": f"inventory/data/{i}.csv.gz"} for i in range(2)],
    }
    s3.put_object(Bucket=bucket, Key="inventory/manifest.json", Body=json.dumps(manifest))
    machine = map_machine(ItemReader=get_object("MANIFEST"))
    record, _ = run(machine, {"bucket": bucket, "key": "inventory/manifest.json"})
    assert record.status == ExecutionStatus.SUCCEEDED, record.cause
    assert record.output == [
        {"Bucket": "photos", "Key": "a.jpg", "Size": "10"},
        {"Bucket": "photos", "Key": "b.jpg", "Size": "20"},
        {"Bucket": "photos", "Key": "c.jpg", "Size": "30"},
    ]


def test_a_manifest_that_is_no_inventory_fails_clearly(run: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="m.json", Body=b'{"files": []}')
    machine = map_machine(ItemReader=get_object("MANIFEST"))
    record = read_failure(run, machine, {"bucket": bucket, "key": "m.json"})
    assert "is not an S3 inventory manifest" in str(record.cause)


def test_an_athena_manifest_fails_clearly(run: Any, bucket: str) -> None:
    reader = get_object("CSV", ManifestType="ATHENA_DATA")
    record = read_failure(run, map_machine(ItemReader=reader), {"bucket": bucket, "key": "m"})
    assert "ATHENA_DATA is not supported" in str(record.cause)


def read_failure(run: Any, machine: dict[str, Any], value: Any) -> ExecutionRecord:
    record, history = run(machine, value)
    assert record.status == ExecutionStatus.FAILED
    assert record.error == "States.ItemReaderFailed"
    types = [event["type"] for event in history]
    assert types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    failed = history[-3]["mapRunFailedEventDetails"]
    assert failed == {"error": "States.ItemReaderFailed", "cause": record.cause}
    return record


def test_a_missing_object_fails_the_map_run_naming_state_and_s3_error(
    run: Any, bucket: str
) -> None:
    machine = map_machine(ItemReader=get_object("JSON"))
    record = read_failure(run, machine, {"bucket": bucket, "key": "absent.json"})
    assert str(record.cause).startswith("The state 'Fan' could not read its items: ")
    assert "S3.NoSuchKeyException" in str(record.cause)


def test_a_body_that_is_not_json_fails_naming_the_state(
    run: Any, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="bad.json", Body=b"<html>not json</html>")
    machine = map_machine(ItemReader=get_object("JSON"))
    record = read_failure(run, machine, {"bucket": bucket, "key": "bad.json"})
    assert "The ItemReader of state 'Fan' could not parse the object as JSON" in str(
        record.cause
    )


def test_a_csv_row_with_broken_quoting_fails_naming_state_and_line(
    run: Any, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="bad.csv", Body=b'a,b\n1,2\n3,"4"x\n')
    machine = map_machine(ItemReader=get_object("CSV", CSVHeaderLocation="FIRST_ROW"))
    record = read_failure(run, machine, {"bucket": bucket, "key": "bad.csv"})
    assert "state 'Fan'" in str(record.cause) and "line 3" in str(record.cause)


def test_a_huge_max_items_reads_everything_as_aws_does(
    run: Any, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="few.json", Body=b"[1, 2, 3]")
    machine = map_machine(ItemReader=get_object("JSON", MaxItemsPath="$.max"))
    record, _ = run(machine, {"bucket": bucket, "key": "few.json", "max": 10**12})
    assert record.status == ExecutionStatus.SUCCEEDED and record.output == [1, 2, 3]


def test_a_reader_failure_can_be_caught(run: Any, bucket: str) -> None:
    machine = map_machine(ItemReader=get_object("JSON"))
    fan = machine["States"]["Fan"]
    fan["Catch"] = [{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Fallback"}]
    machine["States"]["Fallback"] = {"Type": "Pass", "Result": "fallback", "End": True}
    record, _ = run(machine, {"bucket": bucket, "key": "absent.json"})
    assert record.status == ExecutionStatus.SUCCEEDED and record.output == "fallback"


def test_results_are_written_as_aws_lays_them_out(run: Any, s3: Any, bucket: str) -> None:
    fail_odd = {
        "Odd": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Boom"}],
            "Default": "Done",
        },
        "Boom": {"Type": "Fail", "Error": "Odd", "Cause": "two"},
        "Done": {"Type": "Pass", "End": True},
    }
    machine = map_machine(
        fail_odd,
        ItemsPath="$.items",
        ToleratedFailureCount=1,
        ResultWriter={
            "Resource": STATES + "s3:putObject",
            "Parameters": {"Bucket.$": "$.bucket", "Prefix": "runs"},
        },
    )
    machine["States"]["Fan"]["ItemProcessor"]["StartAt"] = "Odd"
    value = {"bucket": bucket, "items": [{"n": 1}, {"n": 2}, {"n": 3}]}
    record, _ = run(machine, value)
    assert record.status == ExecutionStatus.SUCCEEDED, record.cause
    details = record.output["ResultWriterDetails"]
    map_run_id = record.output["MapRunArn"].rsplit(":", 1)[1]
    assert details == {"Bucket": bucket, "Key": f"runs/{map_run_id}/manifest.json"}

    def read(key: str) -> Any:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    manifest = read(details["Key"])
    assert manifest["MapRunArn"] == record.output["MapRunArn"]
    succeeded = read(manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
    failed = read(manifest["ResultFiles"]["FAILED"][0]["Key"])
    assert [json.loads(entry["Output"]) for entry in succeeded] == [{"n": 1}, {"n": 3}]
    assert [(entry["Error"], entry["Cause"], entry["Input"]) for entry in failed] == [
        ("Odd", "two", '{"n":2}')
    ]


def test_writing_to_a_missing_bucket_fails_with_result_writer_failed(run: Any) -> None:
    machine = map_machine(
        ResultWriter={
            "Resource": STATES + "s3:putObject",
            "Parameters": {"Bucket": f"absent-{uuid.uuid4().hex[:8]}", "Prefix": "p"},
        }
    )
    record, history = run(machine, [1, 2])
    assert record.status == ExecutionStatus.FAILED
    assert record.error == "States.ResultWriterFailed"
    assert "The state 'Fan' could not write its results" in str(record.cause)
    assert "S3.NoSuchBucketException" in str(record.cause)
    types = [event["type"] for event in history]
    assert types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_the_s3_resources_refuse_what_they_do_not_do(moto_url: str) -> None:
    invoker = Invoker(integrations=IntegrationSettings(aws_endpoint_url=moto_url))
    with pytest.raises(StatesError, match="not an ItemReader or ResultWriter resource"):
        invoker(STATES + "s3:deleteObject", {"Bucket": "b", "Key": "k"}, None)
    with pytest.raises(StatesError, match="needs arguments that are an object"):
        invoker(STATES + "s3:getObject", "bucket/key", None)
    with pytest.raises(StatesError, match="arguments must be an object"):
        invoker(STATES + "s3:getObject", {"Arguments": "bucket/key"}, None)


def test_through_the_api_a_csv_is_read_and_the_results_written(
    tmp_path: Path, moto_url: str, s3: Any, bucket: str
) -> None:
    """boto3 against a `stepline server` whose integrations reach moto (as configured with
    STEPLINE_AWS_ENDPOINT_URL): DescribeExecution and GetExecutionHistory as AWS's."""
    s3.put_object(Bucket=bucket, Key="in.csv", Body=b"sku;qty\na1;2\nb2;5\n")
    machine = map_machine(
        ItemReader=get_object("CSV", CSVHeaderLocation="FIRST_ROW", CSVDelimiter="SEMICOLON"),
        ResultWriter={
            "Resource": STATES + "s3:putObject",
            "Parameters": {"Bucket.$": "$.bucket", "Prefix": "out"},
        },
    )
    env = clean_env(
        STEPLINE_AWS_ENDPOINT_URL=moto_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    server = start_server(tmp_path, env=env, handlers=False)
    try:
        sfn = client(server.url)
        arn = sfn.create_state_machine(
            name=f"reader-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(machine),
            roleArn="arn:aws:iam::123456789012:role/stepline",
        )["stateMachineArn"]
        value = json.dumps({"bucket": bucket, "key": "in.csv"})
        execution = sfn.start_execution(stateMachineArn=arn, input=value)["executionArn"]
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=execution))["status"] == (
            "RUNNING"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        events = sfn.get_execution_history(executionArn=execution)["events"]
    finally:
        server.stop()
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    manifest = json.loads(
        s3.get_object(Bucket=bucket, Key=output["ResultWriterDetails"]["Key"])["Body"].read()
    )
    written = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
    entries = json.loads(s3.get_object(Bucket=bucket, Key=written)["Body"].read())
    assert [json.loads(entry["Output"]) for entry in entries] == [
        {"sku": "a1", "qty": "2"},
        {"sku": "b2", "qty": "5"},
    ]
    started = next(e for e in events if e["type"] == "MapRunStarted")
    assert started["mapRunStartedEventDetails"]["mapRunArn"] == output["MapRunArn"]
