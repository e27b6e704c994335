"""Calling a local handler the way AWS Lambda calls a function, and reporting its errors
the way Step Functions reports a Lambda's: error = the exception's class name, cause = the
JSON `{errorMessage, errorType, requestId, stackTrace}`."""

from __future__ import annotations

import json
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from integrations.registry import Handler
from scheduler.asl.errors import StatesError


@dataclass
class LambdaContext:
    """The subset of AWS Lambda's context object that handlers commonly read."""

    function_name: str
    timeout_seconds: float | None = None
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the state's TimeoutSeconds (a large number if none)."""
        if self.timeout_seconds is None:
            return 900_000
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


def lambda_error(exc: BaseException, request_id: str, compact: bool = False) -> StatesError:
    """The StatesError Step Functions reports for a function that raised `exc`.

    The cause is the function's error JSON; AWS prints it with spaces for a Lambda ARN
    resource and compactly through the `lambda:invoke` integration (`compact`).
    """
    error_type = type(exc).__name__
    frames = traceback.format_tb(exc.__traceback__)[1:]
    message = str(exc)
    cause = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": frames,
    }
    separators = (",", ":") if compact else (", ", ": ")
    return StatesError(error_type, json.dumps(cause, separators=separators))


def call_handler(
    handler: Handler,
    name: str,
    event: Any,
    timeout_seconds: float | None,
    arn: str = "",
    compact_errors: bool = False,
) -> Any:
    """Run `handler(event, context)`; a raised exception becomes the Lambda error shape.

    A returned `bytes` value is decoded as the JSON text Lambda would have returned. A
    result that is not JSON fails as `Runtime.MarshalError` and `sys.exit()` as
    `Runtime.ExitError`, as in AWS Lambda's Python runtime.
    """
    context = LambdaContext(name, timeout_seconds, invoked_function_arn=arn)
    try:
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - any handler failure is the task's failure
        raise lambda_error(exc, context.aws_request_id, compact_errors) from exc
    except SystemExit as exc:
        message = (
            f"RequestId: {context.aws_request_id} Error: Runtime exited with error: "
            f"exit status {exc.code if isinstance(exc.code, int) else 1}"
        )
        raise runtime_error("Runtime.ExitError", message, context, compact_errors) from exc
    if isinstance(result, bytes | bytearray):
        try:
            text = bytes(result).decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"Unable to marshal response: the returned bytes are not UTF-8 ({exc})"
            raise runtime_error("Runtime.MarshalError", message, context, compact_errors) from exc
        try:
            return json.loads(text)
        except ValueError:
            return text
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        raise runtime_error("Runtime.MarshalError", message, context, compact_errors) from exc
    return result


def runtime_error(
    error_type: str, message: str, context: LambdaContext, compact: bool = False
) -> StatesError:
    """A failure of the Lambda runtime itself (no stack trace), e.g. `Runtime.MarshalError`."""
    cause = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": context.aws_request_id,
        "stackTrace": [],
    }
    separators = (",", ":") if compact else (", ", ": ")
    return StatesError(error_type, json.dumps(cause, separators=separators))
