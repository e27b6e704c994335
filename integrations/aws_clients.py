"""boto3 clients for the AWS integrations, and their values as JSON.

One client per service, made on first use and shared by all threads (boto3 clients are
thread-safe), with the endpoint the settings give for that service, so the same state
machine reaches AWS, LocalStack/moto, DynamoDB Local, ElasticMQ or MinIO. Credentials come
from boto3's usual chain (environment, profile, instance role).
"""

from __future__ import annotations

import base64
import datetime
import threading
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.model
from botocore.config import Config
from botocore.response import StreamingBody

from integrations.settings import SettingsSource

RAW_HEADERS = "_SteplineRawHeaders"
"""Where `after-call` keeps the response's headers as the server spelled them."""


class AwsClients:
    """boto3 clients by service name, configured from the integration settings."""

    def __init__(self, settings: SettingsSource, region: str) -> None:
        self._settings = settings
        self._region = region
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._session: boto3.session.Session | None = None

    @property
    def session(self) -> boto3.session.Session:
        with self._lock:
            if self._session is None:
                self._session = boto3.session.Session(region_name=self._region)
            return self._session

    def client(self, service: str) -> Any:
        """The shared client for a boto3 service name (`dynamodb`, `stepfunctions`...)."""
        session = self.session
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = session.client(
                    service,
                    endpoint_url=self._settings().endpoint_for(service),
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3},
                        user_agent_extra="stepline",
                        # as Step Functions: S3 returns checksums when a task asks
                        # (ChecksumMode), not on every GetObject
                        response_checksum_validation="when_required",
                    ),
                )
                client.meta.events.register("after-call", _keep_raw_headers)
                self._clients[service] = client
            return client

    def services(self) -> list[str]:
        """Every service name boto3 knows."""
        return list(self.session.get_available_services())


def _keep_raw_headers(http_response: Any, parsed: Any, **_: Any) -> None:
    raw = getattr(getattr(http_response, "raw", None), "headers", None)
    if isinstance(parsed, dict) and raw is not None:
        parsed.setdefault("ResponseMetadata", {})[RAW_HEADERS] = list(raw.items())


def operation_model(client: Any, action: str) -> botocore.model.OperationModel | None:
    """The operation behind an ASL action name (`getItem`, `GetItem`, `get_item`), or None."""
    wanted = _squash(action)
    model = client.meta.service_model
    for name in model.operation_names:
        if _squash(name) == wanted:
            return model.operation_model(name)
    return None


def _squash(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def to_request(value: Any, shape: botocore.model.Shape | None) -> Any:
    """A JSON value shaped for boto3: member names matched without regard to case, a null
    member left out (as the AWS SDKs do), strings where the API wants text (non-strings as
    JSON text, as Step Functions does), bytes where it wants a blob (text as UTF-8)."""
    if shape is None:
        return value
    if isinstance(shape, botocore.model.StructureShape) and isinstance(value, Mapping):
        members = {_squash(name): name for name in shape.members}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            name = members.get(_squash(str(key)), str(key))
            out[name] = to_request(item, shape.members.get(name))
        return out
    if isinstance(shape, botocore.model.ListShape) and isinstance(value, list):
        return [to_request(item, shape.member) for item in value]
    if isinstance(shape, botocore.model.MapShape) and isinstance(value, Mapping):
        return {key: to_request(item, shape.value) for key, item in value.items()}
    if shape.type_name == "string" and value is not None and not isinstance(value, str):
        return json_text(value)
    if shape.type_name == "blob" and value is not None:
        return (value if isinstance(value, str) else json_text(value)).encode("utf-8")
    return value


def json_text(value: Any) -> str:
    """Compact JSON text, as Step Functions serializes a non-string where text is wanted."""
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_json(value: Any) -> Any:
    """A boto3 response as JSON: timestamps as ISO 8601 UTC text, blobs as base64, a
    streamed body as its text (base64 when it is not UTF-8), `ResponseMetadata` dropped."""
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime.datetime):
        return iso_timestamp(value)
    if isinstance(value, StreamingBody):
        data = value.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(data).decode("ascii")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def sdk_v2_names(value: Any, shape: botocore.model.Shape | None) -> Any:
    """A JSON response with its members named as Step Functions' aws-sdk results name them
    (AWS SDK for Java v2 bean names): `MD5OfMessageBody` -> `Md5OfMessageBody`,
    `stateMachineArn` -> `StateMachineArn`, `BOOL` -> `Bool`; `ETag` and `ChecksumCRC32`
    stay. Map keys (item attribute names...) are data and stay as they are."""
    if shape is None:
        return value
    if isinstance(shape, botocore.model.StructureShape) and isinstance(value, dict):
        return {
            java_member_name(key): sdk_v2_names(item, shape.members.get(key))
            for key, item in value.items()
        }
    if isinstance(shape, botocore.model.ListShape) and isinstance(value, list):
        return [sdk_v2_names(item, shape.member) for item in value]
    if isinstance(shape, botocore.model.MapShape) and isinstance(value, dict):
        return {key: sdk_v2_names(item, shape.value) for key, item in value.items()}
    return value


def java_member_name(name: str) -> str:
    """SDK v2's getter for a member, capitalized: its leading capitals are lowered up to
    the last one that starts a word (`MD5Of` -> `md5Of`, `ETag` -> `eTag`)."""
    index = 1
    while (
        index < len(name)
        and name[index].isupper()
        and not (index + 1 < len(name) and name[index + 1].islower())
    ):
        index += 1
    getter = name[:index].lower() + name[index:]
    return getter[:1].upper() + getter[1:]


def iso_timestamp(moment: datetime.datetime) -> str:
    """`2024-05-01T12:00:00Z`, with milliseconds when there are any."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=spec) + "Z"
