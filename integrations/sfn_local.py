"""`aws-sdk:sfn:*` answered by this Stepline's own Step Functions service.

The call goes through botocore exactly as the `aws-sdk` integration makes it (parameter
names and validation, result members, dates, error names such as
`Sfn.ExecutionDoesNotExistException`), but the request never leaves the process: a
`before-send` hook hands it to the API's action handlers and returns their answer as the
HTTP response. So nested calls work offline, on the embedded engine and in workers alike.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from integrations.aws_sdk import AwsSdk

if TYPE_CHECKING:
    from scheduler.service import StepFunctions

#: Where the local client "sends" its requests (the hook answers before any connection).
LOCAL_ENDPOINT = "http://stepline.local"


class _Body:
    """An HTTP body as botocore reads one (`stream()`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class _LocalClients:
    """The one boto3 client `AwsSdk` needs: Step Functions, served in-process."""

    def __init__(self, service: Callable[[], StepFunctions], region: str) -> None:
        self._service = service
        self._region = region
        self._lock = threading.Lock()
        self._client: Any = None
        self._context: Any = None

    def services(self) -> list[str]:
        return ["stepfunctions"]

    def client(self, name: str) -> Any:
        with self._lock:
            if self._client is None:
                session = boto3.session.Session(
                    aws_access_key_id="stepline",
                    aws_secret_access_key="stepline",
                    region_name=self._region,
                )
                self._client = session.client(
                    "stepfunctions",
                    endpoint_url=LOCAL_ENDPOINT,
                    config=Config(retries={"mode": "standard", "max_attempts": 1}),
                )
                self._client.meta.events.register("before-send", self._serve)
            return self._client

    def _serve(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        """Answer a Step Functions request with the API's own action handlers."""
        from scheduler.api.app import resolve
        from scheduler.api.errors import ApiError, error_body
        from scheduler.api.metrics import Metrics
        from scheduler.api.protocol import Context, action_of, parse_body
        from scheduler.api.shapes import check_request
        from scheduler.service import ServiceError

        target = request.headers.get("X-Amz-Target")
        if isinstance(target, bytes):
            target = target.decode()
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        try:
            action = action_of(target)
            handler = resolve(action)
            parsed = parse_body(raw)
            check_request(action, parsed)
            with self._lock:
                if self._context is None:
                    self._context = Context(self._service(), Metrics())
            status, answer = 200, handler(self._context, parsed)
        except ServiceError as exc:
            status, answer = 400, error_body(exc.code.value, exc.message, exc.extra)
        except ApiError as exc:
            status, answer = exc.status, error_body(exc.code, exc.message, exc.extra)
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        data = json.dumps(answer, separators=(",", ":")).encode()
        return AWSResponse(request.url, status, headers, _Body(data))


class LocalSfn:
    """The `aws-sdk:sfn:*` integration on this Stepline's service."""

    def __init__(self, service: Callable[[], StepFunctions], region: str) -> None:
        self._sdk = AwsSdk(_LocalClients(service, region))  # type: ignore[arg-type]

    def __call__(self, resource: str, payload: Any, timeout_seconds: float | None) -> Any:
        return self._sdk(resource, payload, timeout_seconds)
