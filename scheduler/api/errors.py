"""API errors: AWS's JSON error shape, `{"__type": CODE, "message": TEXT}`, with a status.

Service errors (`ServiceError`) carry their AWS code; protocol-level problems (no such
action, a body that is not JSON, a member of the wrong type) are `ApiError`s here. Any
other exception becomes a 500 `InternalServerError` with no stack trace in the response.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from scheduler.asl.errors import SteplineError


class ProtocolCode(StrEnum):
    """Error codes of the AWS JSON protocol itself (not specific to Step Functions)."""

    UNKNOWN_OPERATION = "UnknownOperationException"
    UNSUPPORTED_OPERATION = "UnsupportedOperation"
    SERIALIZATION = "SerializationException"
    VALIDATION = "ValidationException"
    REQUEST_TOO_LARGE = "RequestEntityTooLargeException"
    INTERNAL = "InternalServerError"


class ApiError(SteplineError):
    """A request refused before it reaches the service."""

    def __init__(
        self, code: str, message: str, status: int = 400, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}


def error_body(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of an error response, as AWS shapes it."""
    return {"__type": code, "message": message, **(extra or {})}
