"""The optimized DynamoDB/SQS/SNS/EventBridge integrations and `aws-sdk:*` against moto's
standalone server (an AWS-compatible HTTP server), directly and in full executions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from integrations.invoke import Invoker
from integrations.settings import IntegrationSettings
from scheduler.asl.errors import StatesError
from scheduler.runtime import EmbeddedRuntime

STATES = "arn:aws:states:::"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def aws(moto_url: str) -> Callable[[str], Any]:
    """boto3 clients on the moto server, to set up and inspect resources."""
    return lambda service: boto3.client(service, endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def invoker(moto_url: str) -> Invoker:
    return Invoker(integrations=IntegrationSettings(aws_endpoint_url=moto_url))


@pytest.fixture
def table(aws: Callable[[str], Any]) -> str:
    name = unique("orders")
    aws("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def fails(invoker: Invoker, resource: str, payload: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        invoker(resource, payload, None)
    return caught.value


# ----- DynamoDB (optimized) ----------------------------------------------------------------


def test_dynamodb_put_get_update_delete(invoker: Invoker, table: str) -> None:
    key = {"id": {"S": "o-1"}}
    put = invoker(f"{STATES}dynamodb:putItem",
                  {"TableName": table, "Item": {**key, "qty": {"N": "2"}}}, None)
    assert put["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert put["SdkResponseMetadata"]["RequestId"]
    assert "Content-Type" in put["SdkHttpMetadata"]["HttpHeaders"]
    got = invoker(f"{STATES}dynamodb:getItem", {"TableName": table, "Key": key}, None)
    assert got["Item"] == {"id": {"S": "o-1"}, "qty": {"N": "2"}}
    updated = invoker(f"{STATES}dynamodb:updateItem", {
        "TableName": table, "Key": key, "UpdateExpression": "SET qty = :q",
        "ExpressionAttributeValues": {":q": {"N": "5"}}, "ReturnValues": "UPDATED_NEW",
    }, None)
    assert updated["Attributes"] == {"qty": {"N": "5"}}
    invoker(f"{STATES}dynamodb:deleteItem", {"TableName": table, "Key": key}, None)
    assert "Item" not in invoker(f"{STATES}dynamodb:getItem", {"TableName": table, "Key": key},
                                 None)


def test_dynamodb_conditional_put_failure_has_aws_error_name(invoker: Invoker, table: str) -> None:
    payload = {"TableName": table, "Item": {"id": {"S": "dup"}},
               "ConditionExpression": "attribute_not_exists(id)"}
    invoker(f"{STATES}dynamodb:putItem", payload, None)
    error = fails(invoker, f"{STATES}dynamodb:putItem", payload)
    assert error.error == "DynamoDB.ConditionalCheckFailedException"
    assert "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: " \
           "ConditionalCheckFailedException; Request ID: " in str(error.cause)


def test_dynamodb_missing_table_and_missing_item(invoker: Invoker) -> None:
    missing = fails(invoker, f"{STATES}dynamodb:putItem",
                    {"TableName": unique("none"), "Item": {"id": {"S": "x"}}})
    assert missing.error == "DynamoDB.ResourceNotFoundException"
    invalid = fails(invoker, f"{STATES}dynamodb:putItem", {"TableName": "t", "Item": None})
    assert invalid.error == "DynamoDB.AmazonDynamoDBException"
    assert str(invalid.cause).startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint"
    )


def test_optimized_forms_refuse_parameters_aws_does_not_accept(invoker: Invoker) -> None:
    error = fails(invoker, f"{STATES}dynamodb:getItem", {"TableName": "t", "Key": {}, "Limit": 1})
    assert error.error == "States.Runtime" and '"Limit"' in str(error.cause)
    unknown = fails(invoker, f"{STATES}dynamodb:query", {"TableName": "t"})
    assert unknown.error == "States.Runtime"


# ----- SQS, SNS, EventBridge (optimized) ----------------------------------------------------


def test_sqs_send_message_serializes_a_json_body(invoker: Invoker, aws: Any) -> None:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("jobs"))["QueueUrl"]
    result = invoker(f"{STATES}sqs:sendMessage",
                     {"QueueUrl": url, "MessageBody": {"job": 1}}, None)
    assert result["MessageId"] and result["MD5OfMessageBody"]
    received = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert received["Body"] == '{"job":1}'


def test_sqs_missing_queue_and_missing_body(invoker: Invoker, aws: Any) -> None:
    url = aws("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    missing = fails(invoker, f"{STATES}sqs:sendMessage",
                    {"QueueUrl": url + "-gone", "MessageBody": "x"})
    assert missing.error == "SQS.QueueDoesNotExistException"
    assert "Service: AmazonSQS" in str(missing.cause)
    empty = fails(invoker, f"{STATES}sqs:sendMessage", {"QueueUrl": url, "MessageBody": None})
    assert empty.error == "SQS.AmazonSQSException"
    assert str(empty.cause).startswith("The request must contain the parameter MessageBody.")


def test_sns_publish_and_a_missing_topic(invoker: Invoker, aws: Any) -> None:
    topic = aws("sns").create_topic(Name=unique("events"))["TopicArn"]
    result = invoker(f"{STATES}sns:publish", {"TopicArn": topic, "Message": {"a": 1}}, None)
    assert result["MessageId"] and result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    error = fails(invoker, f"{STATES}sns:publish",
                  {"TopicArn": topic + "-gone", "Message": "x"})
    assert error.error == "SNS.NotFoundException"


def test_eventbridge_put_events(invoker: Invoker) -> None:
    result = invoker(f"{STATES}events:putEvents", {"Entries": [
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": {"id": 1}},
    ]}, None)
    assert result["FailedEntryCount"] == 0 and result["Entries"][0]["EventId"]
    error = fails(invoker, f"{STATES}events:putEvents", {"Entries": [
        {"Source": "shop", "DetailType": "x", "Detail": "{}", "EventBusName": unique("nobus")},
    ]})
    assert error.error.startswith("EventBridge.")


def test_pattern_suffixes_are_never_run_as_plain_calls(invoker: Invoker) -> None:
    """The engine strips `.waitForTaskToken` before calling; a suffix reaching an integration
    was not handled and must not quietly run as a request-response call."""
    for resource in (f"{STATES}sqs:sendMessage.waitForTaskToken",
                     f"{STATES}lambda:invoke.waitForTaskToken",
                     f"{STATES}dynamodb:putItem.sync",
                     f"{STATES}sns:publish.waitForTaskToken",
                     f"{STATES}aws-sdk:s3:getObject.waitForTaskToken"):
        error = fails(invoker, resource, {})
        assert error.error == "States.Runtime" and "not supported" in str(error.cause)


# ----- aws-sdk ------------------------------------------------------------------------------


def test_s3_put_and_get_object_through_aws_sdk(invoker: Invoker, aws: Any) -> None:
    bucket = unique("docs")
    aws("s3").create_bucket(Bucket=bucket)
    put = invoker(f"{STATES}aws-sdk:s3:putObject",
                  {"Bucket": bucket, "Key": "a.json", "Body": {"Dict": "Value"}}, None)
    assert put["ETag"] == '"49e31cee5aec8faf3345893addb14346"'  # md5 of {"Dict":"Value"}
    got = invoker(f"{STATES}aws-sdk:s3:getObject", {"Bucket": bucket, "Key": "a.json"}, None)
    assert got["Body"] == '{"Dict":"Value"}' and got["ContentLength"] == 16
    assert got["LastModified"].endswith("Z")
    assert "ResponseMetadata" not in got


def test_aws_sdk_errors_use_sdk_v2_names(invoker: Invoker, table: str) -> None:
    no_bucket = fails(invoker, f"{STATES}aws-sdk:s3:listObjects", {"Bucket": unique("gone")})
    assert no_bucket.error == "S3.NoSuchBucketException"
    assert "(Service: S3, Status Code: 404, Request ID: " in str(no_bucket.cause)
    payload = {"TableName": table, "Item": {"id": {"S": "k"}},
               "ConditionExpression": "attribute_not_exists(id)"}
    invoker(f"{STATES}aws-sdk:dynamodb:putItem", payload, None)
    conditional = fails(invoker, f"{STATES}aws-sdk:dynamodb:putItem", payload)
    assert conditional.error == "DynamoDb.ConditionalCheckFailedException"


def test_aws_sdk_service_names_as_step_functions_spells_them(invoker: Invoker) -> None:
    result = invoker(f"{STATES}aws-sdk:sfn:listStateMachines", {}, None)
    assert "StateMachines" in result
    buses = invoker(f"{STATES}aws-sdk:eventbridge:listEventBuses", {}, None)
    assert buses["EventBuses"]


def test_aws_sdk_results_are_named_as_aws_names_them(invoker: Invoker, table: str) -> None:
    """aws-sdk results use SDK v2 bean names (DynamoDB's BOOL is Bool there); the optimized
    integration keeps the API's own names."""
    item = {"id": {"S": "b"}, "done": {"BOOL": True}, "tags": {"SS": ["x"]}}
    invoker(f"{STATES}aws-sdk:dynamodb:putItem", {"TableName": table, "Item": item}, None)
    key = {"TableName": table, "Key": {"id": {"S": "b"}}}
    sdk = invoker(f"{STATES}aws-sdk:dynamodb:getItem", key, None)
    assert sdk["Item"] == {"id": {"S": "b"}, "done": {"Bool": True}, "tags": {"Ss": ["x"]}}
    optimized = invoker(f"{STATES}dynamodb:getItem", key, None)
    assert optimized["Item"] == item
    started = invoker(f"{STATES}aws-sdk:sfn:listStateMachines", {"MaxResults": 1}, None)
    assert started == {"StateMachines": started["StateMachines"]}


def test_aws_sdk_unknown_service_or_action(invoker: Invoker) -> None:
    assert fails(invoker, f"{STATES}aws-sdk:nosuchservice:doIt", {}).error == "States.Runtime"
    assert fails(invoker, f"{STATES}aws-sdk:s3:brewCoffee", {}).error == "States.Runtime"


def test_an_unreachable_endpoint_is_an_sdk_client_exception() -> None:
    from tests.integrations.conftest import free_port

    invoker = Invoker(integrations=IntegrationSettings(
        aws_endpoints={"sqs": f"http://127.0.0.1:{free_port()}"}))
    error = fails(invoker, f"{STATES}sqs:sendMessage",
                  {"QueueUrl": "http://x/q", "MessageBody": "m"})
    assert error.error == "SQS.SdkClientException"
    assert str(error.cause).startswith("Unable to execute HTTP request")


# ----- through full executions --------------------------------------------------------------


def test_an_execution_writes_reads_and_catches(
    moto_url: str, table: str, aws: Any,
    runtime_for: Callable[[IntegrationSettings], EmbeddedRuntime],
) -> None:
    queue = aws("sqs").create_queue(QueueName=unique("done"))["QueueUrl"]
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {"Type": "Task", "Resource": f"{STATES}dynamodb:putItem",
                    "Parameters": {"TableName.$": "$.table", "Item": {"id": {"S.$": "$.id"}},
                                   "ConditionExpression": "attribute_not_exists(id)"},
                    "ResultPath": None, "Next": "Get",
                    "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                               "ResultPath": "$.error", "Next": "Duplicate"}]},
            "Get": {"Type": "Task", "Resource": f"{STATES}aws-sdk:dynamodb:getItem",
                    "Parameters": {"TableName.$": "$.table", "Key": {"id": {"S.$": "$.id"}}},
                    "ResultSelector": {"id.$": "$.Item.id.S"}, "ResultPath": "$.got",
                    "Next": "Notify"},
            "Notify": {"Type": "Task", "Resource": f"{STATES}sqs:sendMessage",
                       "Parameters": {"QueueUrl": queue, "MessageBody.$": "$.got"},
                       "ResultPath": None, "End": True},
            "Duplicate": {"Type": "Pass", "End": True},
        },
    }
    runtime = runtime_for(IntegrationSettings(aws_endpoint_url=moto_url))
    first = runtime.run(definition, {"table": table, "id": "o-9"}, timeout=20)
    assert first.status.value == "SUCCEEDED", first.cause
    assert first.output == {"table": table, "id": "o-9", "got": {"id": "o-9"}}
    body = aws("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"]
    assert json.loads(body) == {"id": "o-9"}
    second = runtime.run(definition, {"table": table, "id": "o-9"}, timeout=20)
    assert second.status.value == "SUCCEEDED"
    assert second.output["error"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    events = [e["type"] for e in runtime.history(second)]
    assert "TaskFailed" in events


def test_endpoints_from_the_settings_reach_the_invoker(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, table: str,
) -> None:
    """An Invoker made without settings reads them (config file and environment) on first use."""
    monkeypatch.setenv("STEPLINE_ENDPOINT_DYNAMODB", moto_url)
    monkeypatch.delenv("STEPLINE_CONFIG", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no stray ./stepline.toml
    runtime = EmbeddedRuntime()
    try:
        record = runtime.run({"StartAt": "Get", "States": {"Get": {
            "Type": "Task", "Resource": f"{STATES}dynamodb:getItem",
            "Parameters": {"TableName": table, "Key": {"id": {"S": "none"}}},
            "ResultSelector": {"status.$": "$.SdkHttpMetadata.HttpStatusCode"}, "End": True}}},
            timeout=20)
    finally:
        runtime.close()
    assert record.status.value == "SUCCEEDED", record.cause
    assert record.output == {"status": 200}


def test_sqs_wait_for_task_token_sends_the_token_and_waits_for_it(
    moto_url: str, aws: Any, runtime_for: Callable[[IntegrationSettings], EmbeddedRuntime],
) -> None:
    """The engine calls sqs:sendMessage with `$$.Task.Token` in the body; a consumer of the
    queue ends the task with SendTaskSuccess."""
    import threading

    from scheduler.engine.callbacks import send_task_success

    sqs = aws("sqs")
    queue = sqs.create_queue(QueueName=unique("approvals"))["QueueUrl"]
    runtime = runtime_for(IntegrationSettings(aws_endpoint_url=moto_url))

    def approver() -> None:
        for _ in range(100):
            messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
            if messages:
                body = json.loads(messages[0]["Body"])
                send_task_success(runtime.engine, body["token"], {"approved": body["order"]})
                return

    consumer = threading.Thread(target=approver, daemon=True)
    consumer.start()
    record = runtime.run({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": f"{STATES}sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue,
                       "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
        "End": True}}}, {"order": "o-5"}, timeout=30)
    consumer.join(5)
    assert record.status.value == "SUCCEEDED", record.cause
    assert record.output == {"approved": "o-5"}


def test_aws_sdk_parameters_match_members_without_regard_to_case(
    invoker: Invoker, table: str
) -> None:
    """AWS passes PascalCase members (and SDK v2 spellings like `Bool`); null means absent."""
    item = {"id": {"S": "c"}, "flag": {"Bool": False}}
    invoker(f"{STATES}aws-sdk:dynamodb:putItem",
            {"TableName": table, "Item": item, "ConditionExpression": None}, None)
    got = invoker(f"{STATES}dynamodb:getItem", {"TableName": table, "Key": {"id": {"S": "c"}}},
                  None)
    assert got["Item"] == {"id": {"S": "c"}, "flag": {"BOOL": False}}


def test_put_events_appends_the_callers_arns_to_each_entrys_resources(
    moto_url: str, aws: Any, runtime_for: Callable[[IntegrationSettings], EmbeddedRuntime],
) -> None:
    """As AWS's optimized integration does: the execution's and the state machine's ARNs
    end each entry's Resources (what a rule on the bus then delivers shows them)."""
    bus = unique("bus")
    aws("events").create_event_bus(Name=bus)
    queue = aws("sqs").create_queue(QueueName=unique("seen"))["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws("events").put_rule(Name="all", EventBusName=bus, EventPattern='{"source": ["shop"]}')
    aws("events").put_targets(Rule="all", EventBusName=bus,
                              Targets=[{"Id": "q", "Arn": queue_arn}])
    definition = {"StartAt": "Emit", "States": {"Emit": {
        "Type": "Task", "Resource": f"{STATES}events:putEvents",
        "Parameters": {"Entries": [{"Source": "shop", "DetailType": "OrderPlaced",
                                    "Detail": {"id": 1}, "EventBusName": bus,
                                    "Resources": ["arn:aws:s3:::orders"]}]},
        "End": True}}}
    runtime = runtime_for(IntegrationSettings(aws_endpoint_url=moto_url))
    record = runtime.run(definition, {}, timeout=20)
    assert record.status.value == "SUCCEEDED", record.cause
    machine = record.arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
    message = aws("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]
    assert json.loads(message["Body"])["resources"] == ["arn:aws:s3:::orders", record.arn, machine]
