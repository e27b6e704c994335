"""Task Resource strings classified as AWS's history names them."""

from __future__ import annotations

import pytest

from integrations.resources import (
    ResourceInfo,
    describe_resource,
    invoke_function_name,
    lambda_function_name,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function"


@pytest.mark.parametrize(
    "resource",
    [f"{FN}:orders", f"{FN}:orders:$LATEST", f"{FN}:orders:7", f"{FN}:orders:live-v2",
     "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders"],
)
def test_lambda_arn_with_or_without_qualifier_names_the_function(resource: str) -> None:
    assert lambda_function_name(resource) == "orders"
    assert describe_resource(resource) == ResourceInfo(resource, True, "lambda", "orders")


@pytest.mark.parametrize(
    "resource",
    ["orders", "arn:aws:states:::lambda:invoke", "arn:aws:lambda:us-east-1:123456789012:layer:x",
     f"{FN}:orders:v1:extra", f"{FN}:"],
)
def test_not_a_lambda_function_arn(resource: str) -> None:
    assert lambda_function_name(resource) is None
    assert describe_resource(resource).is_lambda_function is False


@pytest.mark.parametrize(
    ("resource", "resource_type", "name"),
    [
        ("arn:aws:states:::lambda:invoke", "lambda", "invoke"),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", "lambda", "invoke.waitForTaskToken"),
        ("arn:aws:states:::sqs:sendMessage.waitForTaskToken", "sqs",
         "sendMessage.waitForTaskToken"),
        ("arn:aws:states:::sns:publish", "sns", "publish"),
        ("arn:aws:states:::dynamodb:putItem", "dynamodb", "putItem"),
        ("arn:aws:states:::states:startExecution.sync:2", "states", "startExecution.sync:2"),
        ("arn:aws:states:::aws-sdk:s3:getObject", "aws-sdk:s3", "getObject"),
        ("arn:aws:states:::aws-sdk:dynamodb:putItem", "aws-sdk:dynamodb", "putItem"),
        ("arn:aws:states:eu-west-1:123456789012:activity:approve-order", "activity",
         "approve-order"),
        ("charge_card", "local", "charge_card"),
    ],
)
def test_service_activity_and_local_resources(resource: str, resource_type: str, name: str) -> None:
    info = describe_resource(resource)
    assert (info.resource_type, info.name) == (resource_type, name)
    assert info.resource == resource
    assert info.is_lambda_function is False


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("orders", ("orders", "")),
        ("orders:prod", ("orders", "prod")),
        ("orders:$LATEST", ("orders", "$LATEST")),
        ("123456789012:function:orders", ("orders", "")),
        ("123456789012:function:orders:3", ("orders", "3")),
        (f"{FN}:orders", ("orders", "")),
        (f"{FN}:orders:prod", ("orders", "prod")),
        ("not a name", None),
        ("a:b:c", None),
    ],
)
def test_every_function_name_form_lambda_invoke_accepts(
    function: str, expected: tuple[str, str] | None
) -> None:
    assert invoke_function_name(function) == expected
