"""Conformance: the recorded AWS executions that use S3, SQS, SNS, DynamoDB or aws-sdk, run
on the embedded engine with moto's standalone server standing in for AWS.

Each case's `resources` are created on moto first (under the recordings' account), its
`setup` calls made, and the execution's status and output (or error and cause) compared
with what AWS recorded, after the case's own masking (level 1), and for recorded histories
the sequence of event types too (level 2); the Distributed Map cases (ItemReader,
ResultWriter) are also compared event by event (level 3). Cases that also need JSONata,
variables, callbacks or nested executions belong to other suites, except the Distributed
Map ones, which only run here. A case we cannot match stays listed in KNOWN_DIFFERENCES
(KNOWN_EVENT_DIFFERENCES for level 3) with its reason (strict xfail: fixing one forces the
list to shrink).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from integrations.settings import IntegrationSettings
from scheduler.engine.engine import EngineSettings
from scheduler.engine.records import StateMachineType
from scheduler.runtime import EmbeddedRuntime
from tests.conformance.cases import (
    ACCOUNT,
    REGION,
    Case,
    handlers_module,
    load_cases,
    mask,
    masked_values,
    matches,
    regex_normalized,
    registry_for,
    replace_uids,
    resource_name,
    result_matches,
    skip_keys,
)

SERVICES = {"s3", "sqs", "sns", "dynamodb", "aws_sdk"}
OTHER_SUITES = {"jsonata", "variables", "callback", "nested_sfn"}

_MOTO = "moto, standing in for AWS, answers differently: "

KNOWN_DIFFERENCES: dict[str, str] = {
    "error_handling/test_aws_sdk.py::TestAwsSdk::test_invalid_secret_name": (
        _MOTO + "it accepts a secret name with a space, which AWS refuses"
    ),
    "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::"
    "test_sfn_send_task_outcome_with_no_such_token[state_machine_template0]": (
        _MOTO + "its Step Functions accepts any task token in SendTaskSuccess"
    ),
    "services/test_sns_task_service.py::TestTaskServiceSns::"
    "test_fifo_message_attribute[input_params0-True]": (
        _MOTO + "a FIFO publish without MessageGroupId is MissingParameter there, "
        "InvalidParameter on AWS"
    ),
    "services/test_sns_task_service.py::TestTaskServiceSns::"
    "test_fifo_message_attribute[input_params1-False]": (
        _MOTO + "its FIFO Publish answers no SequenceNumber"
    ),
    "error_handling/test_aws_sdk.py::TestAwsSdk::test_no_such_bucket": (
        _MOTO + "its S3 sends no x-amz-id-2, so the cause has no Extended Request ID"
    ),
    "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::"
    "test_dynamodb_put_update_get_item": (
        _MOTO + "its UpdateItem returns ConsumedCapacity that was not asked for"
    ),
    **{
        "services/test_aws_sdk_task_service.py::TestTaskServiceAwsSdk::"
        f"test_s3_put_object[{kind}]": _MOTO + "its PutObject answers no ChecksumType "
        "(AWS: FULL_OBJECT)"
        for kind in ("bool", "dict", "list", "num")
    },
    "error_handling/test_task_service_sqs.py::TestTaskServiceSqs::"
    "test_send_message_no_such_queue": (
        "AWS's SDK sends SendMessage to the QueueUrl's own host (here an unresolvable one: "
        "SQS.SdkClientException); Stepline sends it to the configured SQS endpoint, which "
        "answers SQS.QueueDoesNotExistException"
    ),
}


def _selected() -> list[tuple[int, Case]]:
    return [
        (number, case)
        for number, case in enumerate(load_cases())
        if case.needs & SERVICES
        and (not case.needs & OTHER_SUITES or "distributed_map" in case.needs)
    ]


CASES = _selected()
_HANDLERS: list[Any] = []


def _reason(case: Case) -> str | None:
    return KNOWN_DIFFERENCES.get(case.id)


def _params() -> list[Any]:
    params = []
    for number, case in CASES:
        reason = _reason(case)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(number, case, id=case.id, marks=marks))
    return params or [pytest.param(0, None, marks=pytest.mark.skip(reason="no conformance folder"))]


@pytest.fixture(autouse=True)
def recordings_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto creates everything under the account the recordings were masked to."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)


class Stand:
    """The case's AWS resources on moto, and the tokens they replace."""

    def __init__(self, url: str, number: int) -> None:
        self.url = url
        self.number = number
        self.tokens: dict[str, str] = {}

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION)

    def text(self, value: str) -> str:
        text = replace_uids(value, self.number)
        for token, replacement in self.tokens.items():
            text = text.replace(token, replacement)
        return text

    def create(self, resource: dict[str, Any]) -> None:
        name = resource_name(resource, self.number)
        kind = resource["type"]
        arn, url = getattr(self, f"_create_{kind}")(name, resource)
        index = resource["index"]
        self.tokens.update({f"__CF_RES_{index}_ARN__": arn, f"__CF_RES_{index}_NAME__": name})
        if url:
            self.tokens[f"__CF_RES_{index}_URL__"] = url

    def _create_s3_bucket(self, name: str, _: dict[str, Any]) -> tuple[str, str]:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        # AWS encrypts new buckets with SSE-S3 by default (since January 2023)
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        return f"arn:aws:s3:::{name}", ""

    def _create_sqs_queue(self, name: str, resource: dict[str, Any]) -> tuple[str, str]:
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=resource.get("attributes") or {})
        queue_url = url["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return arn["Attributes"]["QueueArn"], queue_url

    def _create_sns_topic(self, name: str, resource: dict[str, Any]) -> tuple[str, str]:
        attributes = resource.get("attributes") or {}
        return self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"], ""

    def _create_dynamodb_table(self, name: str, resource: dict[str, Any]) -> tuple[str, str]:
        key = resource.get("partition_key") or "id"
        table = self.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return table["TableDescription"]["TableArn"], ""

    def _create_state_machine(self, name: str, resource: dict[str, Any]) -> tuple[str, str]:
        created = self.client("stepfunctions").create_state_machine(
            name=name,
            definition=self.text(json.dumps(resource["definition"])),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/stepline-conformance",
            type=resource.get("sm_type") or "STANDARD",
        )
        return created["stateMachineArn"], ""

    def _create_lambda(self, name: str, _: dict[str, Any]) -> tuple[str, str]:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}", ""

    def run_setup(self, step: dict[str, Any]) -> None:
        kwargs = json.loads(self.text(json.dumps(step.get("kwargs", {}))))
        getattr(self.client(step["service"]), step["op"])(**kwargs)


def _run(case: Case, number: int, moto_url: str) -> tuple[Any, Stand, list[dict[str, Any]]]:
    stand = Stand(moto_url, number)
    for resource in case.raw.get("resources", []):
        stand.create(resource)
    for step in case.raw.get("setup", []):
        stand.run_setup(step)
    if not _HANDLERS:
        _HANDLERS.append(handlers_module())
    runtime = EmbeddedRuntime(
        registry_for(case, _HANDLERS[0]),
        settings=EngineSettings(account=ACCOUNT, time_scale=0.01),
    )
    runtime.invoker.configure(IntegrationSettings(aws_endpoint_url=moto_url))
    definition = stand.text(json.dumps(case.raw["definition"]))
    input_value = json.loads(stand.text(case.raw.get("input") or "{}"))
    kind = StateMachineType.EXPRESS if case.express else StateMachineType.STANDARD
    try:
        record = runtime.run(
            definition, input_value, timeout=30, role_arn=case.role_arn, type_=kind
        )
        history = runtime.history(record)
    finally:
        runtime.close()
    return record, stand, history


@pytest.mark.parametrize(("number", "case"), _params())
def test_result_matches_aws(number: int, case: Case, moto_url: str) -> None:
    record, stand, history = _run(case, number, moto_url)
    output = regex_normalized(case, number, record.output, stand.tokens)
    cause = regex_normalized(case, number, record.cause, stand.tokens)
    difference = result_matches(case, record.status.value, output, record.error, cause)
    assert difference is None, difference
    if case.raw.get("kind") == "history" and case.expected.get("events"):
        assert [event["type"] for event in history] == list(case.expected["events"])


_EXITED_AFTER = (
    "AWS's recordings disagree on the event MapStateExited follows: those made before "
    "November 2024 chain it to MapRunSucceeded (as Stepline does, and as the pure "
    "Distributed Map history cases require), this one to MapRunStarted"
)

KNOWN_EVENT_DIFFERENCES: dict[str, str] = {
    "assign/test_assign_reference_variables.py::TestAssignReferenceVariables::"
    "test_reference_in_map_state_max_items_path[MAP_STATE_REFERENCE_IN_MAX_PER_BATCH_PATH]": (
        _EXITED_AFTER
    ),
    "scenarios/test_base_scenarios.py::TestBaseScenarios::"
    "test_map_item_batching_base_json_max_per_batch_jsonata": _EXITED_AFTER,
}


def _history_params() -> list[Any]:
    params = []
    for number, case in CASES:
        if "distributed_map" not in case.needs or not case.expected.get("history"):
            continue
        reason = KNOWN_EVENT_DIFFERENCES.get(case.id)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(number, case, id=case.id, marks=marks))
    return params or [pytest.param(0, None, marks=pytest.mark.skip(reason="no conformance folder"))]


@pytest.mark.parametrize(("number", "case"), _history_params())
def test_distributed_map_history_matches_aws_event_by_event(
    number: int, case: Case, moto_url: str
) -> None:
    """Level 3 for the ItemReader/ResultWriter cases: every event (ids, previousEventId,
    details) as AWS recorded it, timestamps and the case's skip_verify_paths aside."""
    _, stand, history = _run(case, number, moto_url)
    ours = regex_normalized(case, number, history, stand.tokens)
    expected = list(case.expected["history"])
    assert len(ours) == len(expected)
    wildcards = masked_values(case) | {"timestamp"}
    found = []
    for index, (theirs, mine) in enumerate(zip(expected, ours, strict=True)):
        skipped = skip_keys(case) | _skipped_in_event(case, index) | {"timestamp"}
        if not matches(theirs, mask(mine), skipped, wildcards):
            found.append(f"event {index + 1}:\n  AWS:  {theirs}\n  ours: {mask(mine)}")
    assert not found, "\n".join(found)


def _skipped_in_event(case: Case, index: int) -> frozenset[str]:
    """Members a `$..events[N].member` skip_verify_path masks in event N."""
    prefix = f"$..events[{index}]."
    return frozenset(
        path[len(prefix) :] for path in case.raw.get("skip_verify_paths", [])
        if path.startswith(prefix)
    )
