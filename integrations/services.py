"""The optimized service integrations: DynamoDB, SQS, SNS and EventBridge.

| resource | boto3 call |
|---|---|
| `arn:aws:states:::dynamodb:getItem` / `putItem` / `updateItem` / `deleteItem` | dynamodb |
| `arn:aws:states:::sqs:sendMessage` | sqs.send_message |
| `arn:aws:states:::sns:publish` | sns.publish |
| `arn:aws:states:::events:putEvents` | events.put_events |

Only the parameters AWS allows for each are accepted. As on AWS, a non-string
`MessageBody`, `Message` or `Detail` is sent as JSON text, the result carries
`SdkHttpMetadata` and `SdkResponseMetadata`, errors are named in SDK v1 style
(`DynamoDB.ConditionalCheckFailedException`, `SQS.AmazonSQSException`), and a PutEvents
with failed entries fails with `EventBridge.FailedEntry`. For the `.waitForTaskToken`
forms the engine calls these with the suffix removed (see patterns.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore import xform_name

from integrations.aws_clients import RAW_HEADERS, AwsClients, operation_model, to_json, to_request
from integrations.aws_errors import SdkNaming, call_failure, v1_naming
from integrations.patterns import split_action
from scheduler.arns import state_machine_of
from scheduler.asl.errors import ErrorName, StatesError
from scheduler.engine.messages import TaskRequest

PREFIX = "arn:aws:states:::"

_DYNAMODB_WRITE = frozenset(
    {
        "Key", "TableName", "ConditionalOperator", "ConditionExpression", "Expected",
        "ExpressionAttributeNames", "ExpressionAttributeValues", "ReturnConsumedCapacity",
        "ReturnItemCollectionMetrics", "ReturnValues",
    }
)


@dataclass(frozen=True)
class Optimized:
    """One service's optimized integration: its boto3 name, actions and error naming."""

    boto3_name: str
    actions: Mapping[str, frozenset[str]]
    """ASL action name -> the parameters AWS accepts for it."""
    naming: SdkNaming


OPTIMIZED: dict[str, Optimized] = {
    "dynamodb": Optimized(
        "dynamodb",
        {
            "getItem": frozenset(
                {
                    "Key", "TableName", "AttributesToGet", "ConsistentRead",
                    "ExpressionAttributeNames", "ProjectionExpression", "ReturnConsumedCapacity",
                }
            ),
            "putItem": (_DYNAMODB_WRITE - {"Key"}) | {"Item"},
            "deleteItem": _DYNAMODB_WRITE,
            "updateItem": _DYNAMODB_WRITE | {"AttributeUpdates", "UpdateExpression"},
        },
        v1_naming("DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException"),
    ),
    "sqs": Optimized(
        "sqs",
        {
            "sendMessage": frozenset(
                {
                    "DelaySeconds", "MessageAttributes", "MessageBody", "MessageDeduplicationId",
                    "MessageGroupId", "QueueUrl", "MessageSystemAttributes",
                }
            )
        },
        v1_naming("SQS", "AmazonSQS", "AmazonSQSException"),
    ),
    "sns": Optimized(
        "sns",
        {
            "publish": frozenset(
                {
                    "Message", "MessageAttributes", "MessageStructure", "MessageDeduplicationId",
                    "MessageGroupId", "PhoneNumber", "Subject", "TargetArn", "TopicArn",
                }
            )
        },
        v1_naming("SNS", "AmazonSNS", "AmazonSNSException"),
    ),
    "events": Optimized(
        "events",
        {"putEvents": frozenset({"Entries"})},
        v1_naming("EventBridge", "AmazonEventBridge", "AmazonEventBridgeException"),
    ),
}


class OptimizedServices:
    """`arn:aws:states:::{dynamodb,sqs,sns,events}:ACTION` over shared boto3 clients."""

    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients

    def __call__(
        self,
        resource: str,
        payload: Any,
        timeout_seconds: float | None,
        request: TaskRequest | None = None,
    ) -> Any:
        service_name, _, action = resource[len(PREFIX) :].partition(":")
        service = OPTIMIZED.get(service_name)
        action = split_action(resource, action)
        if service is None or action not in service.actions:
            raise StatesError(ErrorName.RUNTIME, f"'{resource}' is not a supported integration")
        parameters = _checked(payload, service.actions[action])
        if service_name == "events" and request is not None:
            parameters = with_caller_resources(parameters, request.execution)
        client = self.clients.client(service.boto3_name)
        operation = operation_model(client, action)
        assert operation is not None
        try:
            response = getattr(client, xform_name(operation.name))(
                **to_request(parameters, operation.input_shape)
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes the task's error
            raise call_failure(service.naming, exc, client) from None
        result = to_json(response)
        if service_name == "events" and result.get("FailedEntryCount", 0) > 0:
            raise StatesError(
                "EventBridge.FailedEntry", json.dumps(result, separators=(",", ":"))
            )
        return {**result, **sdk_metadata(response.get("ResponseMetadata", {}))}


def with_caller_resources(parameters: dict[str, Any], execution_arn: str) -> dict[str, Any]:
    """PutEvents entries with the calling execution's and state machine's ARNs appended to
    their `Resources`, as AWS's optimized integration does (an entry that is not an object,
    or Resources that are not a list, are left for the service to refuse)."""
    entries = parameters.get("Entries")
    if not isinstance(entries, list):
        return parameters
    arns = [execution_arn, state_machine_of(execution_arn)]
    tagged = []
    for entry in entries:
        resources = entry.get("Resources", []) if isinstance(entry, dict) else None
        if isinstance(resources, list):
            entry = {**entry, "Resources": [*resources, *arns]}
        tagged.append(entry)
    return {**parameters, "Entries": tagged}


def _checked(payload: Any, allowed: frozenset[str]) -> dict[str, Any]:
    """The parameters, refusing any AWS does not accept for the action."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise StatesError(ErrorName.RUNTIME, "The Parameters must be a JSON object")
    unknown = sorted(key for key in payload if key not in allowed)
    if unknown:
        raise StatesError(
            ErrorName.RUNTIME,
            f"The field \"{unknown[0]}\" is not supported by Step Functions "
            f"(supported: {', '.join(sorted(allowed))})",
        )
    # null is "not given" (SDKs drop null members; the service then says what is missing)
    return {key: value for key, value in payload.items() if value is not None}


def sdk_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """`SdkHttpMetadata` and `SdkResponseMetadata`, as the SDK v1 responses carry them."""
    raw = metadata.get(RAW_HEADERS)
    pairs = list(raw) if raw else list(metadata.get("HTTPHeaders", {}).items())
    every: dict[str, list[str]] = {}
    for name, value in pairs:
        every.setdefault(str(name), []).append(str(value))
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": every,
            "HttpHeaders": {name: ",".join(values) for name, values in every.items()},
            "HttpStatusCode": metadata.get("HTTPStatusCode", 200),
        },
        "SdkResponseMetadata": {"RequestId": metadata.get("RequestId", "")},
    }
