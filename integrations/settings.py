"""What the HTTP and AWS integrations need to know: endpoints and named connections.

`scheduler.config.Settings.integration_settings()` builds one from the config file and the
environment. An `Invoker` made without one loads it on first use (`load_from_config`), so
every process that reads the usual settings (CLI, API server, workers) reaches the same
endpoints and connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from integrations.connections import Connection
from scheduler.asl.errors import ErrorName, StatesError


@dataclass(frozen=True)
class IntegrationSettings:
    """Endpoints for the AWS service integrations and connections for `http:invoke`."""

    aws_endpoint_url: str | None = None
    """One endpoint for every AWS service (a LocalStack or moto server); None: boto3's own
    resolution (AWS itself, or `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`)."""
    aws_endpoints: Mapping[str, str] = field(default_factory=dict)
    """Per-service endpoints by boto3 service name (`dynamodb`, `sqs`, `s3`...), which
    win over `aws_endpoint_url`: DynamoDB Local, ElasticMQ, MinIO, ..."""
    connections: Mapping[str, Connection] = field(default_factory=dict)
    """`http:invoke` connections by name; a task's ConnectionArn names one."""

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL to use for a boto3 service name, or None for the default."""
        return self.aws_endpoints.get(service) or self.aws_endpoint_url


SettingsSource = Callable[[], IntegrationSettings]


def load_from_config() -> IntegrationSettings:
    """The integration settings from the config file and the environment."""
    from scheduler.config import load_settings  # late: scheduler.config imports the engine

    try:
        return load_settings().integration_settings()
    except Exception as exc:  # noqa: BLE001 - a bad config fails the task, clearly
        raise StatesError(
            ErrorName.RUNTIME, f"cannot load the integration settings: {exc}"
        ) from exc


def cached(source: SettingsSource) -> SettingsSource:
    """`source`, called once (on first use, thread-safely) and remembered."""
    lock = threading.Lock()
    loaded: list[IntegrationSettings] = []

    def get() -> IntegrationSettings:
        with lock:
            if not loaded:
                loaded.append(source())
            return loaded[0]

    return get
