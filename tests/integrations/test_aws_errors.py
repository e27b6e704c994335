"""Service error names in the two SDK styles Step Functions uses."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from integrations.aws_errors import (
    ServiceFailure,
    from_client_error,
    java_service_name,
    states_error,
    v1_naming,
    v2_naming,
)


@pytest.mark.parametrize(
    ("service_id", "name"),
    [
        ("DynamoDB", "DynamoDb"), ("SFN", "Sfn"), ("S3", "S3"), ("SQS", "Sqs"),
        ("Secrets Manager", "SecretsManager"), ("EventBridge", "EventBridge"),
        ("CloudWatch Logs", "CloudWatchLogs"), ("EC2", "Ec2"), ("API Gateway", "ApiGateway"),
        ("Database Migration Service", "DatabaseMigration"), ("Lambda", "Lambda"),
    ],
)
def test_sdk_v2_service_names(service_id: str, name: str) -> None:
    assert java_service_name(service_id) == name


def test_v1_names_and_causes() -> None:
    naming = v1_naming("DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException")
    modeled = states_error(naming, ServiceFailure(
        "ResourceNotFoundException", "Requested resource not found", 400, "R1",
        shape="ResourceNotFoundException"))
    assert modeled.error == "DynamoDB.ResourceNotFoundException"
    assert modeled.cause == (
        "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ResourceNotFoundException; Request ID: R1; Proxy: null)"
    )
    unmodeled = states_error(naming, ServiceFailure("ValidationException", "bad", 400, "R2"))
    assert unmodeled.error == "DynamoDB.AmazonDynamoDBException"


def test_v2_names_and_causes() -> None:
    failure = from_client_error(ClientError(
        {"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"},
         "ResponseMetadata": {"HTTPStatusCode": 404, "RequestId": "R", "HostId": "H"}},
        "ListObjects",
    ))
    error = states_error(v2_naming("S3"), failure)
    assert error.error == "S3.S3Exception"  # a plain ClientError is unmodeled
    modeled = states_error(v2_naming("S3"), ServiceFailure(
        "NoSuchBucket", "The specified bucket does not exist", 404, "R", "H", "NoSuchBucket"))
    assert modeled.error == "S3.NoSuchBucketException"
    assert modeled.cause == (
        "The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: R, "
        "Extended Request ID: H)"
    )
