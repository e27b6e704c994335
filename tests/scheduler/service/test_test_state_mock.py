"""Mocked Task results checked against botocore's API models, worded as AWS words it."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.service.errors import ValidationException
from scheduler.service.test_state_mock import check_mock_result, operation_for

SDK = "arn:aws:states:::aws-sdk"


@pytest.mark.parametrize(
    ("resource", "result", "message"),
    [
        ("arn:aws:states:::events:putEvents", {"Entries": "x"}, "Field 'Entries' must be an array"),
        ("arn:aws:states:::events:putEvents", {"Entries": [{"EventId": "a"}, {"EventId": 1}]},
         "Field 'EventId' must be a string"),
        ("arn:aws:states:::states:startExecution", {"executionArn": "x"},
         "Required field 'ExecutionArn' is missing"),
        ("arn:aws:states:::states:startExecution", {"ExecutionArn": "x", "StartDate": True},
         "Field 'StartDate' must be a string"),
        ("arn:aws:states:::lambda:invoke", {"StatusCode": "200"},
         "Field 'StatusCode' must be a number"),
        ("arn:aws:states:::dynamodb:putItem", {"ConsumedCapacity": {"CapacityUnits": "1"}},
         "Field 'CapacityUnits' must be a number"),
        (f"{SDK}:s3:getObject", {"StorageClass": "NOPE"},
         "Field 'StorageClass' is not an expected value"),
        (f"{SDK}:s3:getObject", {"ContentLength": "1"}, "Field 'ContentLength' must be a number"),
        (f"{SDK}:kms:encrypt", {"CiphertextBlob": ""},
         "Field 'CiphertextBlob' is smaller than the minimum length"),
        (f"{SDK}:lambda:getFunction", {"Configuration": {"MemorySize": 1}},
         "Field 'MemorySize' is less than the minimum value"),
        (f"{SDK}:lambda:getFunction", {"Configuration": {"MemorySize": 10**7}},
         "Field 'MemorySize' exceeds the maximum value"),
        ("arn:aws:states:::sns:publish", [1], "The mocked result must be a JSON object"),
    ],
)
def test_a_result_that_breaks_the_model_is_refused(
    resource: str, result: Any, message: str
) -> None:
    with pytest.raises(ValidationException) as caught:
        check_mock_result(resource, result, "STRICT")
    assert caught.value.message == f"Mock result schema validation error: {message}"


def test_present_mode_skips_required_fields_and_none_checks_nothing() -> None:
    check_mock_result("arn:aws:states:::states:startExecution", {}, "PRESENT")
    with pytest.raises(ValidationException):
        check_mock_result("arn:aws:states:::states:startExecution", {"StartDate": 1}, "PRESENT")
    check_mock_result("arn:aws:states:::events:putEvents", {"Entries": 1}, "NONE")


def test_fields_outside_the_model_and_lambda_payloads_are_allowed() -> None:
    check_mock_result("arn:aws:states:::events:putEvents", {"random": "json"}, "STRICT")
    check_mock_result("arn:aws:states:::lambda:invoke", {"StatusCode": 200, "Payload": {"a": 1}},
                      "STRICT")
    check_mock_result("arn:aws:states:::sqs:sendMessage",
                      {"MD5OfMessageBody": "m", "MessageId": "i"}, "STRICT")


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:::http:invoke",
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:us-east-1:123456789012:activity:a",
        f"{SDK}:nosuchservice:doThing",
        f"{SDK}:s3:noSuchAction",
    ],
)
def test_resources_without_an_api_model_are_not_checked(resource: str) -> None:
    assert operation_for(resource) is None
    check_mock_result(resource, {"anything": [1, 2]}, "STRICT")
