"""AWS service errors as Step Functions names them, so Retry and Catch match as on AWS.

Step Functions reports a service error as `<Service>.<Exception>` with a cause in the
style of the AWS SDK it calls the service with:

- the optimized integrations (`dynamodb:putItem`, `sqs:sendMessage`...) use SDK v1 names:
  `DynamoDB.ConditionalCheckFailedException`, `SQS.QueueDoesNotExistException`, an
  unmodeled error as `DynamoDB.AmazonDynamoDBException`, and causes like `msg (Service:
  AmazonDynamoDBv2; Status Code: 400; Error Code: X; Request ID: Y; Proxy: null)`;
- `aws-sdk:*` uses SDK v2 names: the service as SDK v2 spells it (`DynamoDb`, `S3`, `Sfn`,
  `SecretsManager`), the modeled exception (`S3.NoSuchBucketException`) or the service's
  own (`SecretsManager.SecretsManagerException`), causes like `msg (Service: S3, Status
  Code: 404, Request ID: Y)`.

Either way a failure to reach the service at all is `<Service>.SdkClientException`.
boto3's client-side parameter validation is reported as the service's validation error
would be, since AWS validates on the server.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from scheduler.asl.errors import StatesError


@dataclass(frozen=True)
class ServiceFailure:
    """What a service answered (or would have answered) to a failed call."""

    code: str
    message: str
    status: int
    request_id: str
    host_id: str | None = None
    shape: str | None = None
    """The modeled error shape the code names, or None for an unmodeled error."""


@dataclass(frozen=True)
class SdkNaming:
    """How one service's errors are named: prefix, SDK service name, generic exception."""

    prefix: str
    """`DynamoDB` (optimized) or `DynamoDb` (aws-sdk): before the dot."""
    service: str
    """The `Service:` of the cause: `AmazonDynamoDBv2` (v1) or `DynamoDb` (v2)."""
    generic: str
    """The exception for an unmodeled error: `AmazonDynamoDBException`, `DynamoDbException`."""
    v1: bool


def v1_naming(prefix: str, service: str, generic: str) -> SdkNaming:
    return SdkNaming(prefix, service, generic, True)


def v2_naming(service_id: str) -> SdkNaming:
    """SDK v2 names from a service's serviceId (`DynamoDB` -> `DynamoDb`)."""
    name = java_service_name(service_id)
    return SdkNaming(name, name, f"{name}Exception", False)


def java_service_name(service_id: str) -> str:
    """The service name AWS SDK for Java v2 derives from a serviceId: words split at spaces
    and case changes, each capitalized (`DynamoDB` -> `DynamoDb`, `SFN` -> `Sfn`,
    `Secrets Manager` -> `SecretsManager`, `CloudWatch Logs` -> `CloudWatchLogs`)."""
    text = re.sub(r"[^A-Za-z0-9]+", " ", service_id)
    text = re.sub(r"(?<=[a-z])(?=[A-Z][a-zA-Z0-9])", " ", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", text)
    words = [w.lower().capitalize() for w in text.split()]
    name = "".join(words)
    for affix in ("Amazon", "Aws"):
        if name.startswith(affix) and len(name) > len(affix):
            name = name[len(affix) :]
    if name.endswith("Service") and len(name) > len("Service"):
        name = name[: -len("Service")]
    return name


def exception_name(shape: str) -> str:
    return shape if shape.endswith("Exception") else shape + "Exception"


def states_error(naming: SdkNaming, failure: ServiceFailure) -> StatesError:
    """The StatesError Step Functions reports for a failed service call."""
    name = exception_name(failure.shape) if failure.shape else naming.generic
    if naming.v1:
        details = [
            f"Service: {naming.service}", f"Status Code: {failure.status}",
            f"Error Code: {failure.code}", f"Request ID: {failure.request_id}", "Proxy: null",
        ]
        cause = f"{failure.message} ({'; '.join(details)})"
    else:
        details = [
            f"Service: {naming.service}", f"Status Code: {failure.status}",
            f"Request ID: {failure.request_id}",
        ]
        if failure.host_id:
            details.append(f"Extended Request ID: {failure.host_id}")
        cause = f"{failure.message} ({', '.join(details)})"
    return StatesError(f"{naming.prefix}.{name}", cause)


def from_client_error(exc: ClientError) -> ServiceFailure:
    error = exc.response.get("Error", {})
    metadata = exc.response.get("ResponseMetadata", {})
    shape = type(exc).__name__
    return ServiceFailure(
        code=str(error.get("Code", "")),
        message=str(error.get("Message", "")),
        status=int(metadata.get("HTTPStatusCode", 400)),
        request_id=str(metadata.get("RequestId", "")),
        host_id=metadata.get("HostId") or None,
        shape=None if shape == "ClientError" else shape,
    )


def from_validation(exc: ParamValidationError, client: Any) -> ServiceFailure:
    """The error the service would answer for parameters boto3 refuses to send."""
    report = str(exc.kwargs.get("report", exc))
    missing = re.findall(r'Missing required parameter in input: "([^"]+)"', report)
    model = client.meta.service_model
    query_style = model.protocol in ("query", "ec2") or model.service_name == "sqs"
    if query_style:
        code = "MissingParameter" if missing else "InvalidParameterValue"
        message = (
            f"The request must contain the parameter {missing[0]}." if missing else report
        )
    else:
        code = "ValidationException"
        problems = [
            f"Value null at '{name[:1].lower()}{name[1:]}' failed to satisfy constraint: "
            "Member must not be null"
            for name in missing
        ]
        count = len(problems)
        message = (
            f"{count} validation error{'s' if count > 1 else ''} detected: "
            + "; ".join(problems)
            if problems
            else report
        )
    shape = client.exceptions.from_code(code).__name__
    return ServiceFailure(
        code, message, 400, str(uuid.uuid4()), shape=None if shape == "ClientError" else shape
    )


def client_failure(naming: SdkNaming, exc: BotoCoreError) -> StatesError:
    """The call never got an answer: no connection, no credentials, a bad endpoint."""
    text = str(exc)
    if "credentials" in text.lower():
        cause = f"Unable to load credentials from any of the providers in the chain: {text}"
    else:
        cause = f"Unable to execute HTTP request: {text}"
    return StatesError(f"{naming.prefix}.SdkClientException", cause)


def call_failure(naming: SdkNaming, exc: Exception, client: Any) -> StatesError:
    """Any exception from a boto3 call, as the StatesError Step Functions would raise."""
    if isinstance(exc, ClientError):
        return states_error(naming, from_client_error(exc))
    if isinstance(exc, ParamValidationError):
        return states_error(naming, from_validation(exc, client))
    if isinstance(exc, BotoCoreError):
        return client_failure(naming, exc)
    return StatesError(f"{naming.prefix}.SdkClientException", f"{type(exc).__name__}: {exc}")
