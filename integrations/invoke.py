"""Resolve a Task's Resource to an integration and call it.

The plug-in point: `Invoker.add(prefix, integration)` routes every Resource that starts
with `prefix` to `integration(resource, payload, timeout_seconds)`. Built in: Lambda
function ARNs and bare names go to local handlers; `arn:aws:states:::lambda:invoke`
wraps a local handler's result in the Lambda service-integration response; `http:invoke`,
`aws-sdk:*` and the optimized DynamoDB/SQS/SNS/EventBridge forms are registered the same
way by `integrations.builtin` (see docs/integrations.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from integrations.builtin import register_builtins
from integrations.lambda_local import call_handler
from integrations.patterns import unsupported_pattern
from integrations.registry import HandlerRegistry
from integrations.resources import invoke_function_name, lambda_function_name
from integrations.settings import IntegrationSettings, cached, load_from_config
from integrations.states import STATES, no_service
from scheduler.arns import Account
from scheduler.asl.errors import StatesError
from scheduler.engine.messages import TaskRequest

Integration = Callable[[str, Any, float | None], Any]
CallerIntegration = Callable[[str, Any, float | None, TaskRequest | None], Any]
"""An integration that is also told which Task calls it (None outside an execution)."""

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


class Invoker:
    """Calls Task resources: registered integrations first, then local handlers."""

    def __init__(
        self,
        handlers: HandlerRegistry | None = None,
        account: Account | None = None,
        integrations: IntegrationSettings | None = None,
    ) -> None:
        """`integrations`: endpoints and connections for the HTTP and AWS integrations;
        None loads them from the config file and environment when one is first used."""
        self.handlers = handlers or HandlerRegistry()
        self.account = account or Account()
        self._integrations: list[tuple[str, CallerIntegration]] = []
        self.add(LAMBDA_INVOKE, self._lambda_invoke)
        self.add_with_caller(STATES, no_service)  # until `register_nested` wires the service
        source = load_from_config if integrations is None else lambda: integrations
        self.builtins = register_builtins(self, cached(source), self.account.region)

    def configure(self, integrations: IntegrationSettings) -> None:
        """Use these endpoints and connections for the built-in HTTP and AWS integrations."""
        self.builtins = register_builtins(self, cached(lambda: integrations), self.account.region)

    def add(self, prefix: str, integration: Integration) -> None:
        """Route resources starting with `prefix` to `integration` (longest prefix wins).

        Adding a prefix that is already routed replaces its integration, built-ins included.
        """
        self.add_with_caller(
            prefix, lambda resource, payload, timeout, _caller: integration(
                resource, payload, timeout
            )
        )

    def add_with_caller(self, prefix: str, integration: CallerIntegration) -> None:
        """`add`, for an integration that also needs the calling Task's request (its
        execution, run and step: nested executions link the child to the Task)."""
        self._integrations = [item for item in self._integrations if item[0] != prefix]
        self._integrations.append((prefix, integration))
        self._integrations.sort(key=lambda item: len(item[0]), reverse=True)

    def __call__(
        self,
        resource: str,
        payload: Any,
        timeout_seconds: float | None,
        request: TaskRequest | None = None,
        /,
    ) -> Any:
        """Call `resource` with `payload` for the Task `request` names (None: outside an
        execution, as TestState calls). Raises StatesError as the task's failure."""
        for prefix, integration in self._integrations:
            if resource.startswith(prefix):
                return integration(resource, payload, timeout_seconds, request)
        return self._local(resource, payload, timeout_seconds)

    def _local(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        name = lambda_function_name(resource) or resource
        handler = self.handlers.get(name)
        if handler is None:
            if lambda_function_name(resource) is not None:
                raise StatesError(
                    "Lambda.ResourceNotFoundException",
                    f"Function not found: {resource} (no local handler is registered "
                    f"under '{name}')",
                )
            raise StatesError(
                "States.TaskFailed", f"No handler is registered for resource '{resource}'"
            )
        arn = resource if resource.startswith("arn:") else self.account.lambda_function(name)
        return call_handler(handler, name, payload, timeout_seconds, arn)

    def _lambda_invoke(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        """`lambda:invoke`: the function's result wrapped as the Lambda Invoke response.

        A string Payload is sent as the request body as it is, so JSON text in it reaches
        the function parsed (as on AWS); no Payload sends `{}`.
        """
        if resource != LAMBDA_INVOKE:
            raise unsupported_pattern(resource, resource[len(LAMBDA_INVOKE) :])
        if not isinstance(payload, dict) or "FunctionName" not in payload:
            raise StatesError(
                "States.Runtime", "The field 'FunctionName' is required for lambda:invoke"
            )
        function = str(payload["FunctionName"])
        name, qualifier = invoke_function_name(function) or (function, "")
        handler = self.handlers.get(name)
        arn = function if function.startswith("arn:") else self.account.lambda_function(name)
        if qualifier and not function.startswith("arn:"):
            arn = f"{arn}:{qualifier}"
        if handler is None:
            missing = arn if qualifier else f"{arn}:$LATEST"
            raise StatesError(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {missing} (Service: AWSLambda; Status Code: 404; "
                f"Error Code: ResourceNotFoundException; Request ID: {uuid.uuid4()}; "
                "Proxy: null)",
            )
        event = _request_body(payload.get("Payload"))
        result = call_handler(handler, name, event, timeout_seconds, arn, True)
        return invoke_response(result)


def _request_body(payload: Any) -> Any:
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError:
            return payload
    return payload


def invoke_response(result: Any) -> dict[str, Any]:
    """The Lambda Invoke response as Step Functions' `lambda:invoke` returns it."""
    length = str(len(json.dumps(result, separators=(",", ":")).encode("utf-8")))
    request_id = str(uuid.uuid4())
    headers = {
        "Connection": "keep-alive",
        "Content-Length": length,
        "Content-Type": "application/json",
        "Date": "",
        "X-Amz-Executed-Version": "$LATEST",
        "X-Amzn-Trace-Id": "",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": result,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }
