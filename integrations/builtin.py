"""The integrations every Invoker has besides Lambda: HTTP, aws-sdk, the optimized
DynamoDB/SQS/SNS/EventBridge forms and a Distributed Map's S3 reader and writer, each
registered through `Invoker.add` like any
user-added integration.

They are built on first use, so a process that never calls one never imports boto3 or
httpx nor reads their settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from integrations.settings import SettingsSource
from scheduler.engine.messages import TaskRequest

Integration = Callable[[str, Any, float | None], Any]
CallerIntegration = Callable[[str, Any, float | None, TaskRequest | None], Any]

HTTP_INVOKE = "arn:aws:states:::http:invoke"
AWS_SDK = "arn:aws:states:::aws-sdk:"
S3_ITEMS = "arn:aws:states:::s3:"
OPTIMIZED_PREFIXES = (
    "arn:aws:states:::dynamodb:",
    "arn:aws:states:::sqs:",
    "arn:aws:states:::sns:",
)
EVENTS = "arn:aws:states:::events:"
"""EventBridge: optimized too, and told which execution calls (its ARNs go in Resources)."""


class Registry(Protocol):
    """What registration needs of an Invoker."""

    def add(self, prefix: str, integration: Integration) -> None: ...

    def add_with_caller(self, prefix: str, integration: CallerIntegration) -> None: ...


class Builtins:
    """Builds the built-in integrations on first use, sharing one set of boto3 clients."""

    def __init__(self, settings: SettingsSource, region: str) -> None:
        self.settings = settings
        self.region = region
        self._lock = threading.Lock()
        self._built: dict[str, Integration] = {}

    def http(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        return self._get("http")(resource, payload, timeout_seconds)

    def aws_sdk(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        return self._get("aws-sdk")(resource, payload, timeout_seconds)

    def optimized(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        return self._get("optimized")(resource, payload, timeout_seconds)

    def events(
        self,
        resource: str,
        payload: Any,
        timeout_seconds: float | None,
        request: TaskRequest | None,
    ) -> Any:
        from integrations.services import OptimizedServices

        optimized = self._get("optimized")
        assert isinstance(optimized, OptimizedServices)
        return optimized(resource, payload, timeout_seconds, request)

    def s3_items(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        return self._get("s3-items")(resource, payload, timeout_seconds)

    def _get(self, kind: str) -> Integration:
        with self._lock:
            if not self._built:
                self._build()
            return self._built[kind]

    def _build(self) -> None:
        from integrations.aws_clients import AwsClients
        from integrations.aws_sdk import AwsSdk
        from integrations.http import HttpInvoke
        from integrations.s3_items import S3Items
        from integrations.services import OptimizedServices

        clients = AwsClients(self.settings, self.region)
        self._built.update(
            {
                "http": HttpInvoke(self.settings, self.region),
                "aws-sdk": AwsSdk(clients),
                "optimized": OptimizedServices(clients),
                "s3-items": S3Items(clients),
            }
        )


def register_builtins(registry: Registry, settings: SettingsSource, region: str) -> Builtins:
    """Route the built-in resource prefixes of `registry` to a new `Builtins`."""
    builtins = Builtins(settings, region)
    registry.add(HTTP_INVOKE, builtins.http)
    registry.add(AWS_SDK, builtins.aws_sdk)
    registry.add(S3_ITEMS, builtins.s3_items)
    for prefix in OPTIMIZED_PREFIXES:
        registry.add(prefix, builtins.optimized)
    registry.add_with_caller(EVENTS, builtins.events)
    return builtins
