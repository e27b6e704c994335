"""The AWS JSON 1.0 protocol: `POST /`, `X-Amz-Target: AWSStepFunctions.<Action>`,
a JSON object in and out (`application/x-amz-json-1.0`), dates as epoch seconds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from scheduler.api.errors import ApiError, ProtocolCode, error_body
from scheduler.api.metrics import Metrics
from scheduler.service import StepFunctions

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AWSStepFunctions."


@dataclass(frozen=True)
class Context:
    """What an action handler works with."""

    service: StepFunctions
    metrics: Metrics


def action_of(target: str | None) -> str:
    """The action named by an `X-Amz-Target` header; UnknownOperationException if none."""
    if not target or not target.startswith(TARGET_PREFIX) or target == TARGET_PREFIX:
        raise ApiError(
            ProtocolCode.UNKNOWN_OPERATION,
            "Missing or unknown X-Amz-Target header: expected AWSStepFunctions.<Action>",
        )
    return target[len(TARGET_PREFIX) :]


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object (an empty body is `{}`); SerializationException if not."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(ProtocolCode.SERIALIZATION, f"The request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(ProtocolCode.SERIALIZATION, "The request body must be a JSON object")
    return body


def _headers() -> dict[str, str]:
    return {"x-amzn-RequestId": str(uuid.uuid4())}


def json_response(data: dict[str, Any], status: int = 200) -> Response:
    """A protocol response: compact JSON with AWS's content type and a request id."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(text, status_code=status, media_type=CONTENT_TYPE, headers=_headers())


def error_response(
    code: str, message: str, status: int = 400, extra: dict[str, Any] | None = None
) -> Response:
    """An error response in AWS's shape."""
    return json_response(error_body(code, message, extra), status)


def date(value: float | None) -> float | None:
    """A date as AWS's JSON protocol sends it: epoch seconds, millisecond precision."""
    return None if value is None else round(value, 3)


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out members without a value, as AWS does."""
    return {k: v for k, v in data.items() if v is not None}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as the API lists them: `[{"key": ..., "value": ...}]`."""
    return [{"key": k, "value": v} for k, v in tags.items()]


def tag_dict(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """Tags from the API's list form."""
    return {str(t["key"]): str(t.get("value", "")) for t in tags or [] if "key" in t}


#: An action handler: the request's members in, the response's members out.
Action = Callable[[Context, dict[str, Any]], dict[str, Any]]
