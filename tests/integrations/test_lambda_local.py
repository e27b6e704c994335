"""Calling a local handler as AWS Lambda calls a function: context, results, errors."""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

import pytest

from integrations.lambda_local import LambdaContext, call_handler
from scheduler.asl.errors import StatesError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:resize"


class ImageTooLarge(Exception):
    pass


def context_of(timeout: float | None, arn: str = "") -> Any:
    """The context object a handler receives."""
    seen: list[Any] = []
    call_handler(lambda event, context: seen.append(context), "resize", {}, timeout, arn)
    return seen[0]


def test_the_context_object_carries_lambdas_fields() -> None:
    context = context_of(30, ARN)
    assert isinstance(context, LambdaContext)
    assert context.function_name == "resize"
    assert context.invoked_function_arn == ARN
    assert context.function_version == "$LATEST"
    assert context.memory_limit_in_mb == 128
    assert str(uuid.UUID(context.aws_request_id)) == context.aws_request_id


def test_every_call_gets_its_own_request_id() -> None:
    first = context_of(None)
    second = context_of(None)
    assert first.aws_request_id != second.aws_request_id


def test_remaining_time_counts_down_from_the_states_timeout() -> None:
    def measure(event: Any, context: Any) -> list[int]:
        before = context.get_remaining_time_in_millis()
        time.sleep(0.05)
        return [before, context.get_remaining_time_in_millis()]

    before, after = call_handler(measure, "resize", {}, 2, ARN)
    assert 1900 < before <= 2000
    assert 30 <= before - after < 1000


def test_remaining_time_never_goes_below_zero() -> None:
    def late(event: Any, context: Any) -> int:
        time.sleep(0.02)
        return int(context.get_remaining_time_in_millis())

    assert call_handler(late, "resize", {}, 0.01) == 0


def test_remaining_time_without_a_timeout_is_lambdas_maximum() -> None:
    context = context_of(None)
    assert context.get_remaining_time_in_millis() == 15 * 60 * 1000


def test_the_event_reaches_the_handler_unchanged() -> None:
    event = {"bucket": "photos", "keys": ["a.jpg", "b.jpg"], "n": None}
    assert call_handler(lambda e, c: e, "resize", event, None) is event


def test_bytes_are_decoded_as_json() -> None:
    assert call_handler(lambda e, c: b'{"width": 640}', "resize", {}, None) == {"width": 640}
    assert call_handler(lambda e, c: bytearray(b"[1, 2]"), "resize", {}, None) == [1, 2]


def test_bytes_that_are_not_json_are_returned_as_text() -> None:
    assert call_handler(lambda e, c: "héllo".encode(), "resize", {}, None) == "héllo"


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({1, 2}, "Unable to marshal response: Object of type set is not JSON serializable"),
        (b"\xff\xfe", "Unable to marshal response: the returned bytes are not UTF-8"),
        ({"when": object()}, "Object of type object is not JSON serializable"),
    ],
)
def test_a_result_that_is_not_json_is_a_marshal_error(result: Any, message: str) -> None:
    with pytest.raises(StatesError) as caught:
        call_handler(lambda e, c: result, "resize", {}, None)
    assert caught.value.error == "Runtime.MarshalError"
    cause = json.loads(caught.value.cause or "")
    assert cause["errorType"] == "Runtime.MarshalError"
    assert message in cause["errorMessage"]
    assert cause["stackTrace"] == []


def test_an_exception_becomes_its_class_name_and_lambdas_error_json() -> None:
    seen: dict[str, str] = {}

    def resize(event: Any, context: Any) -> None:
        seen["request_id"] = context.aws_request_id
        raise ImageTooLarge(f"{event['key']} is 9000x9000")

    with pytest.raises(StatesError) as caught:
        call_handler(resize, "resize", {"key": "cat.jpg"}, None, ARN)
    assert caught.value.error == "ImageTooLarge"
    cause = json.loads(caught.value.cause or "")
    assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert cause["errorMessage"] == "cat.jpg is 9000x9000"
    assert cause["errorType"] == "ImageTooLarge"
    assert cause["requestId"] == seen["request_id"]
    # The handler's own frame, and not Stepline's call_handler frame.
    assert len(cause["stackTrace"]) == 1
    assert "in resize" in cause["stackTrace"][0]
    assert "raise ImageTooLarge" in cause["stackTrace"][0]


def test_cause_is_spaced_for_arns_and_compact_for_lambda_invoke() -> None:
    def fail(event: Any, context: Any) -> None:
        raise KeyError("size")

    with pytest.raises(StatesError) as spaced:
        call_handler(fail, "resize", {}, None)
    with pytest.raises(StatesError) as compact:
        call_handler(fail, "resize", {}, None, compact_errors=True)
    assert (spaced.value.cause or "").startswith('{"errorMessage": "\'size\'", "errorType": ')
    assert (compact.value.cause or "").startswith('{"errorMessage":"\'size\'","errorType":')
    assert spaced.value.error == compact.value.error == "KeyError"


def test_sys_exit_is_a_runtime_exit_error_not_a_lost_task() -> None:
    def quit_(event: Any, context: Any) -> None:
        sys.exit(4)

    with pytest.raises(StatesError) as caught:
        call_handler(quit_, "resize", {}, None)
    assert caught.value.error == "Runtime.ExitError"
    message = json.loads(caught.value.cause or "")["errorMessage"]
    assert message.endswith("Error: Runtime exited with error: exit status 4")
