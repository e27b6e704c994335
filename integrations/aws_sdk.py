"""`arn:aws:states:::aws-sdk:SERVICE:ACTION`: any API of any service boto3 knows.

SERVICE is the name Step Functions uses (the AWS SDK for Java v2 client's name in lower
case: `s3`, `dynamodb`, `sfn`, `eventbridge`, `cloudwatchlogs`...) or boto3's own name;
ACTION is the API in camelCase (`getObject`). Parameters are the API's members as AWS
spells them (PascalCase; matched without regard to case); the result is what boto3
returns, as JSON (timestamps ISO 8601, blobs base64, a streamed body as text), with its
members named as AWS names them (SDK for Java v2 style: `StateMachineArn`,
`Md5OfMessageBody`, DynamoDB's `Bool`/`Ss`). Errors are
named `<Service>.<Exception>` in SDK v2 style (see aws_errors.py).
"""

from __future__ import annotations

import threading
from typing import Any

from botocore import xform_name
from botocore.loaders import create_loader

from integrations.aws_clients import (
    AwsClients,
    operation_model,
    sdk_v2_names,
    to_json,
    to_request,
)
from integrations.aws_errors import call_failure, java_service_name, v2_naming
from integrations.patterns import split_action
from scheduler.asl.errors import ErrorName, StatesError

AWS_SDK = "arn:aws:states:::aws-sdk:"

#: Step Functions' aws-sdk service names that are not boto3's (the rest match, or match
#: once boto3's hyphens are dropped: `bedrockruntime` is `bedrock-runtime`).
SERVICE_ALIASES = {
    "sfn": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "elasticloadbalancingv2": "elbv2",
    "elasticloadbalancing": "elb",
    "cognitoidentityprovider": "cognito-idp",
    "databasemigration": "dms",
    "costexplorer": "ce",
    "iotdataplane": "iot-data",
    "lexruntime": "lex-runtime",
    "lexruntimev2": "lexv2-runtime",
    "lexmodelsv2": "lexv2-models",
    "marketplacemetering": "meteringmarketplace",
}


class AwsSdk:
    """The `aws-sdk:*` integration over shared boto3 clients."""

    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}
        self._java_names: dict[str, str] | None = None

    def __call__(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        service, _, action = resource[len(AWS_SDK) :].partition(":")
        action = split_action(resource, action)
        if not service or not action:
            raise StatesError(
                ErrorName.RUNTIME, f"'{resource}' is not arn:aws:states:::aws-sdk:SERVICE:ACTION"
            )
        client = self.clients.client(self.boto3_service(service, resource))
        operation = operation_model(client, action)
        if operation is None:
            raise StatesError(
                ErrorName.RUNTIME,
                f"'{resource}': the service '{service}' has no API action '{action}'",
            )
        if payload is not None and not isinstance(payload, dict):
            raise StatesError(
                ErrorName.RUNTIME, f"'{resource}' needs Parameters that are an object"
            )
        parameters = to_request(payload or {}, operation.input_shape)
        try:
            response = getattr(client, xform_name(operation.name))(**parameters)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the task's error
            raise self._failure(client, exc) from None
        return sdk_v2_names(to_json(response), operation.output_shape)

    def _failure(self, client: Any, exc: Exception) -> StatesError:
        naming = v2_naming(client.meta.service_model.service_id)
        error = call_failure(naming, exc, client)
        if client.meta.service_model.service_name == "s3" and error.error == "S3.S3Exception":
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("404", "NotFound"):  # HeadObject's bare 404: SDK v2 says NoSuchKey
                return StatesError("S3.NoSuchKeyException", error.cause)
        return error

    def boto3_service(self, name: str, resource: str) -> str:
        """boto3's name for a Step Functions aws-sdk service name."""
        with self._lock:
            if name in self._names:
                return self._names[name]
        found = self._resolve(name.lower())
        if found is None:
            raise StatesError(
                ErrorName.RUNTIME, f"'{resource}': no AWS service is named '{name}'"
            )
        with self._lock:
            self._names[name] = found
        return found

    def _resolve(self, name: str) -> str | None:
        available = self.clients.services()
        if name in available:
            return name
        if name in SERVICE_ALIASES:
            return SERVICE_ALIASES[name]
        by_squashed = {service.replace("-", ""): service for service in available}
        if name in by_squashed:
            return by_squashed[name]
        return self._by_java_name(available).get(name)

    def _by_java_name(self, available: list[str]) -> dict[str, str]:
        """Slow path, once: every service by its SDK v2 name (reads every service model)."""
        with self._lock:
            if self._java_names is None:
                loader = create_loader()
                names = {}
                for service in available:
                    model = loader.load_service_model(service, "service-2")
                    service_id = model.get("metadata", {}).get("serviceId", "")
                    names[java_service_name(service_id).lower()] = service
                self._java_names = names
            return self._java_names
