"""The HTTP and AWS integrations inside real Celery worker processes: the workers read the
endpoints and connections from the config file (`STEPLINE_CONFIG`) and the environment,
as deployed workers do."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from scheduler.arns import Account
from scheduler.config import load_settings
from scheduler.engine.history import to_aws_event
from scheduler.engine.records import ExecutionRecord, ExecutionStatus
from scheduler.runtime import start_named
from tests.integrations.conftest import Reply, ScriptedServer
from workers.local_cluster import Cluster, RedisServer
from workers.runtime import WorkerRuntime, build_runtime

STATES = "arn:aws:states:::"
PASSWORD = "w0rker-s3cret"
CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/orders/0d9c1e"


@pytest.fixture
def workers(tmp_path: Path, moto_url: str) -> Iterator[WorkerRuntime]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    config = tmp_path / "stepline.toml"
    config.write_text(
        f'aws_endpoint_url = "{moto_url}"\n'
        "[connections.orders]\n"
        'authorization_type = "BASIC"\n'
        'username = "stepline"\n'
        'password_env = "ORDERS_PASSWORD"\n'
    )
    env = {
        "STEPLINE_CONFIG": str(config),
        "STEPLINE_TIME_SCALE": "0.01",
        "ORDERS_PASSWORD": PASSWORD,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    cluster = Cluster(redis.url, tmp_path / "logs", env)
    cluster.start_worker()
    cluster.start_scheduler()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        runtime = build_runtime(load_settings(redis_url=redis.url))
    try:
        yield runtime
    finally:
        cluster.stop()
        redis.stop()


def wait(runtime: WorkerRuntime, record: ExecutionRecord, timeout: float = 60) -> ExecutionRecord:
    deadline = time.monotonic() + timeout
    while True:
        current = runtime.store.get_execution(record.arn)
        assert current is not None
        if current.status != ExecutionStatus.RUNNING or time.monotonic() > deadline:
            return current
        time.sleep(0.01)


def test_workers_call_http_and_aws_with_their_settings(
    workers: WorkerRuntime, http_server: ScriptedServer, moto_url: str
) -> None:
    table = f"orders-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    http_server.replies["/orders/o-1"] = Reply(body=b'{"id": "o-1", "total": 12}')
    definition: dict[str, Any] = {
        "StartAt": "Fetch",
        "States": {
            "Fetch": {
                "Type": "Task", "Resource": f"{STATES}http:invoke",
                "Parameters": {
                    "ApiEndpoint.$": f"States.Format('{http_server.url}/orders/{{}}', $.id)",
                    "Method": "GET",
                    "Authentication": {"ConnectionArn": CONNECTION},
                },
                "ResultSelector": {"order.$": "$.ResponseBody"}, "Next": "Store",
            },
            "Store": {
                "Type": "Task", "Resource": f"{STATES}dynamodb:putItem",
                "Parameters": {"TableName": table, "Item": {
                    "id": {"S.$": "$.order.id"},
                    "total": {"N.$": "States.Format('{}', $.order.total)"},
                }},
                "ResultPath": None, "Next": "Read",
            },
            "Read": {
                "Type": "Task", "Resource": f"{STATES}aws-sdk:dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"id": {"S.$": "$.order.id"}}},
                "OutputPath": "$.Item", "End": True,
            },
        },
    }
    account = Account(workers.settings.region, workers.settings.account)
    record = wait(workers, start_named(workers.engine, account, definition, {"id": "o-1"}))
    assert record.status == ExecutionStatus.SUCCEEDED, (record.error, record.cause)
    assert record.output == {"id": {"S": "o-1"}, "total": {"N": "12"}}
    assert http_server.last().headers["Authorization"].startswith("Basic ")
    history = json.dumps([to_aws_event(e) for e in workers.store.history(record.arn)])
    assert PASSWORD not in history


def test_workers_read_a_csv_from_s3_and_write_the_results_back(
    workers: WorkerRuntime, moto_url: str
) -> None:
    """A Distributed Map on Redis + Celery: the reader's and writer's S3 calls run as
    `stepline.invoke` tasks on a worker, the rows fan out as child runs."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    bucket = f"rows-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    rows = "".join(f"r{i},{i}\n" for i in range(25))
    s3.put_object(Bucket=bucket, Key="in/rows.csv", Body=("id,n\n" + rows).encode())
    definition: dict[str, Any] = {
        "StartAt": "Rows",
        "States": {
            "Rows": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": f"{STATES}s3:getObject",
                    "Parameters": {"Bucket.$": "$.bucket", "Key": "in/rows.csv"},
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                },
                "ItemBatcher": {"MaxItemsPerBatch": 10},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Count",
                    "States": {
                        "Count": {
                            "Type": "Pass",
                            "Parameters": {"rows.$": "States.ArrayLength($.Items)"},
                            "End": True,
                        }
                    },
                },
                "MaxConcurrency": 2,
                "ResultWriter": {
                    "Resource": f"{STATES}s3:putObject",
                    "Parameters": {"Bucket.$": "$.bucket", "Prefix": "out"},
                },
                "End": True,
            }
        },
    }
    account = Account(workers.settings.region, workers.settings.account)
    record = wait(workers, start_named(workers.engine, account, definition, {"bucket": bucket}))
    assert record.status == ExecutionStatus.SUCCEEDED, (record.error, record.cause)
    manifest_key = record.output["ResultWriterDetails"]["Key"]
    assert manifest_key.startswith("out/") and manifest_key.endswith("/manifest.json")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    written = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
    entries = json.loads(s3.get_object(Bucket=bucket, Key=written)["Body"].read())
    assert [json.loads(entry["Output"]) for entry in entries] == [
        {"rows": 10},
        {"rows": 10},
        {"rows": 5},
    ]
    types = [event.type for event in workers.store.history(record.arn)]
    assert types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
