"""Conformance: the recorded AWS executions that use S3, SQS, SNS, DynamoDB or aws-sdk, run
on both engine configurations with moto's standalone server standing in for AWS.

`embedded`: the in-process default. `cluster`: a private redis-server, two Celery worker
processes and the scheduler process, started once for this module, whose config file
points the workers' AWS integrations at moto (`services_cluster`).

Each case's `resources` are created on moto first (under the recordings' account), its
`setup` calls made, and the execution's status and output (or error and cause) compared
with what AWS recorded, after the case's own masking (level 1), and for recorded histories
the sequence of event types too (level 2); the Distributed Map cases (ItemReader,
ResultWriter) are also compared event by event (level 3). Cases that also need JSONata,
variables, callbacks or nested executions belong to other suites, except the Distributed
Map ones, which only run here. A case we cannot match stays listed in KNOWN_DIFFERENCES
(KNOWN_EVENT_DIFFERENCES for level 3) with its reason (strict xfail: fixing one forces the
list to shrink); a difference that shows on one configuration only is listed for that one
in KNOWN_DIFFERENCES_ON.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from integrations.settings import IntegrationSettings
from scheduler.engine.engine import EngineSettings
from scheduler.engine.records import StateMachineType
from scheduler.runtime import EmbeddedRuntime
from tests.cluster import ClusterRuntime, toml_table
from tests.conformance.cases import (
    ACCOUNT,
    REGION,
    Case,
    handler_table,
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
from workers.local_cluster import Cluster, RedisServer

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
CONFIGURATIONS = ("embedded", "cluster")
_HANDLERS: list[Any] = []

#: Differences that show on one configuration only: configuration -> case id -> reason.
KNOWN_DIFFERENCES_ON: dict[str, dict[str, str]] = {"embedded": {}, "cluster": {}}

#: Added to a case's number in its resources' names on each configuration, so the two
#: runs of a case never share a table, queue or bucket on the one moto server. (A name the
#: recording fixes, test_map_state_result_writer's `result-bucket`, is shared: each run
#: writes its results under its own map run's prefix.)
_NAME_OFFSET = {"embedded": 0, "cluster": 10_000}


def _params(
    known: dict[str, str], known_on: dict[str, dict[str, str]], cases: list[tuple[int, Case]]
) -> list[Any]:
    """One parameter per configuration and case (`embedded-<case id>`), each a strict
    xfail when `known` or that configuration's `known_on` lists the case."""
    params = []
    for configuration in CONFIGURATIONS:
        for number, case in cases:
            reason = known.get(case.id) or known_on[configuration].get(case.id)
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(
                pytest.param(
                    configuration, number, case, id=f"{configuration}-{case.id}", marks=marks
                )
            )
    skipped = pytest.mark.skip(reason="no conformance folder")
    return params or [pytest.param("embedded", 0, None, marks=skipped)]


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


@pytest.fixture(scope="module")
def services_cluster(
    moto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClusterRuntime]:
    """Redis + two Celery workers + the scheduler, once for the module: the workers' AWS
    integrations call moto, under the recordings' account, with fake credentials. Its own
    redis-server: the session's cluster (tests/conftest.py) has no moto endpoint."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    folder = tmp_path_factory.mktemp("services-cluster")
    config = folder / "stepline.toml"
    config.write_text(
        f"account = {json.dumps(ACCOUNT)}\n"
        f"aws_endpoint_url = {json.dumps(moto_url)}\n"
        f"[handlers]\n{toml_table(handler_table(load_cases()))}\n"
    )
    env = {
        "STEPLINE_CONFIG": str(config),
        "STEPLINE_TIME_SCALE": "0.01",
        "STEPLINE_PREFETCH": "1",
        **_fake_aws_credentials(folder),
    }
    redis = RedisServer(folder / "redis")
    redis.start()
    processes = Cluster(redis.url, folder / "logs", env)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        processes.env.pop(name, None)
    try:
        processes.start_worker()
        processes.start_worker()
        processes.start_scheduler()
        yield ClusterRuntime(redis.url, env)
    finally:
        processes.stop()
        redis.stop()


def _fake_aws_credentials(folder: Path) -> dict[str, str]:
    """As the `aws_credentials` fixture gives this process: never real AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
    }


Run = tuple[Any, Stand, list[dict[str, Any]]]
#: (configuration, case id) -> (record, stand, history): each case runs once per
#: configuration, for level 1 and 2 and, for the Distributed Map cases, level 3.
_RUNS: dict[tuple[str, str], Run] = {}


def _runtime(
    configuration: str, case: Case, moto_url: str, request: pytest.FixtureRequest
) -> EmbeddedRuntime | ClusterRuntime:
    if configuration == "cluster":
        cluster: ClusterRuntime = request.getfixturevalue("services_cluster")
        return cluster
    if not _HANDLERS:
        _HANDLERS.append(handlers_module())
    runtime = EmbeddedRuntime(
        registry_for(case, _HANDLERS[0]),
        settings=EngineSettings(account=ACCOUNT, time_scale=0.01),
    )
    runtime.invoker.configure(IntegrationSettings(aws_endpoint_url=moto_url))
    return runtime


def _run(
    configuration: str, case: Case, number: int, moto_url: str, request: pytest.FixtureRequest
) -> Run:
    """The case's resources created on moto, then the case run on `configuration`
    (once: a second call answers the first run)."""
    key = (configuration, case.id)
    if key in _RUNS:
        return _RUNS[key]
    stand = Stand(moto_url, number + _NAME_OFFSET[configuration])
    for resource in case.raw.get("resources", []):
        stand.create(resource)
    for step in case.raw.get("setup", []):
        stand.run_setup(step)
    runtime = _runtime(configuration, case, moto_url, request)
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
    _RUNS[key] = (record, stand, history)
    return _RUNS[key]


@pytest.mark.parametrize(
    ("configuration", "number", "case"), _params(KNOWN_DIFFERENCES, KNOWN_DIFFERENCES_ON, CASES)
)
def test_result_matches_aws(
    configuration: str, number: int, case: Case, moto_url: str, request: pytest.FixtureRequest
) -> None:
    record, stand, history = _run(configuration, case, number, moto_url, request)
    output = regex_normalized(case, stand.number, record.output, stand.tokens)
    cause = regex_normalized(case, stand.number, record.cause, stand.tokens)
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


KNOWN_EVENT_DIFFERENCES_ON: dict[str, dict[str, str]] = {"embedded": {}, "cluster": {}}

DISTRIBUTED_MAP_HISTORIES = [
    (number, case)
    for number, case in CASES
    if "distributed_map" in case.needs and case.expected.get("history")
]


@pytest.mark.parametrize(
    ("configuration", "number", "case"),
    _params(KNOWN_EVENT_DIFFERENCES, KNOWN_EVENT_DIFFERENCES_ON, DISTRIBUTED_MAP_HISTORIES),
)
def test_distributed_map_history_matches_aws_event_by_event(
    configuration: str, number: int, case: Case, moto_url: str, request: pytest.FixtureRequest
) -> None:
    """Level 3 for the ItemReader/ResultWriter cases: every event (ids, previousEventId,
    details) as AWS recorded it, timestamps and the case's skip_verify_paths aside."""
    _, stand, history = _run(configuration, case, number, moto_url, request)
    ours = regex_normalized(case, stand.number, history, stand.tokens)
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
