"""The `states:startExecution` and `aws-sdk:sfn:*` integrations on Stepline's own service,
and what a nested execution does where no service runs (`stepline run`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from integrations.settings import IntegrationSettings
from integrations.states import register_nested
from scheduler.asl.errors import StatesError
from scheduler.engine.engine import EngineSettings
from scheduler.engine.records import ExecutionStatus
from scheduler.runtime import EmbeddedRuntime
from scheduler.service import EmbeddedEngine, MachineConfig, StepFunctions, build_service

START = "arn:aws:states:::states:startExecution"
SDK = "arn:aws:states:::aws-sdk:sfn:"
ROLE = "arn:aws:iam::123456789012:role/stepline"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


@pytest.fixture
def engine() -> Iterator[EmbeddedEngine]:
    running = EmbeddedEngine(settings=EngineSettings(time_scale=0.01))
    running.start()
    yield running
    running.close()


@pytest.fixture
def service(engine: EmbeddedEngine) -> StepFunctions:
    built = build_service(engine)
    register_nested(engine.invoker, lambda: built)
    return built


def machine(service: StepFunctions, name: str = "child") -> str:
    created, _ = service.create_state_machine(name, MachineConfig(PASS, ROLE))
    return created.arn


def call(engine: EmbeddedEngine, resource: str, payload: Any) -> Any:
    return engine.invoker(resource, payload, None)


def test_start_execution_serialises_an_object_input_and_takes_text_as_it_is(
    engine: EmbeddedEngine, service: StepFunctions
) -> None:
    arn = machine(service)
    started = call(engine, START, {"StateMachineArn": arn, "Input": {"a": [1]}, "Name": "one"})
    assert started["ExecutionArn"].endswith(":child:one")
    assert isinstance(started["StartDate"], int)
    assert started["SdkHttpMetadata"]["HttpStatusCode"] == 200
    as_text = call(engine, START, {"StateMachineArn": arn, "Input": '{"b": 2}'})
    inputs = [service.executions.describe(s["ExecutionArn"])[0].input
              for s in (started, as_text)]
    assert inputs == [{"a": [1]}, {"b": 2}]


def test_a_version_or_alias_arn_starts_that_version(
    engine: EmbeddedEngine, service: StepFunctions
) -> None:
    created, version = service.create_state_machine(
        "versioned", MachineConfig(PASS, ROLE), publish=True
    )
    assert version is not None
    alias = service.versions.create_alias(
        "live", None, [{"stateMachineVersionArn": version.arn, "weight": 100}]
    )
    for target in (version.arn, alias.arn):
        started = call(engine, START, {"StateMachineArn": target})
        _, origin = service.executions.describe(started["ExecutionArn"])
        assert origin.version_arn == version.arn


@pytest.mark.parametrize(
    ("payload", "error", "words"),
    [
        ({"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:none"},
         "StepFunctions.StateMachineDoesNotExistException", "State Machine Does Not Exist"),
        ({"StateMachineArn": "MACHINE", "Input": "{not json"},
         "StepFunctions.InvalidExecutionInputException", "Invalid State Machine Execution"),
        ({"StateMachineArn": "MACHINE", "Input": "x" * 300_000},
         "StepFunctions.InvalidExecutionInputException", "over the maximum"),
        ({"StateMachineArn": "MACHINE", "Name": "no spaces allowed"},
         "StepFunctions.InvalidNameException", "Invalid Name"),
        ({"StateMachineArn": "not-an-arn"}, "StepFunctions.InvalidArnException", "Invalid Arn"),
        ({"Input": {}}, "States.Runtime", "'StateMachineArn' is required"),
        ("just text", "States.Runtime", "'StateMachineArn' is required"),
        ({"StateMachineArn": "MACHINE", "Name": 7}, "States.Runtime", "'Name' must be"),
    ],
)
def test_a_refused_start_fails_the_task_with_aws_error_and_starts_nothing(
    engine: EmbeddedEngine, service: StepFunctions, payload: Any, error: str, words: str
) -> None:
    arn = machine(service)
    if isinstance(payload, dict) and payload.get("StateMachineArn") == "MACHINE":
        payload = {**payload, "StateMachineArn": arn}
    with pytest.raises(StatesError) as failed:
        call(engine, START, payload)
    assert failed.value.error == error
    assert words.lower() in (failed.value.cause or "").lower()
    assert service.executions.list_executions(arn)[0] == []


@pytest.mark.parametrize(
    "resource", [f"{START}.waitForTaskToken2", "arn:aws:states:::states:stopExecution"]
)
def test_anything_but_start_execution_is_refused(
    engine: EmbeddedEngine, service: StepFunctions, resource: str
) -> None:
    with pytest.raises(StatesError) as failed:
        call(engine, resource, {"StateMachineArn": machine(service)})
    assert failed.value.error == "States.Runtime"


def test_aws_sdk_sfn_is_served_by_stepline_itself(
    engine: EmbeddedEngine, service: StepFunctions
) -> None:
    arn = machine(service, "listed")
    listed = call(engine, f"{SDK}listStateMachines", {})
    assert [m["StateMachineArn"] for m in listed["StateMachines"]] == [arn]
    started = call(engine, f"{SDK}startExecution", {"StateMachineArn": arn, "Input": {"k": 1}})
    described = call(engine, f"{SDK}describeExecution", {"ExecutionArn": started["ExecutionArn"]})
    assert json.loads(described["Input"]) == {"k": 1}
    with pytest.raises(StatesError) as missing:
        call(engine, f"{SDK}describeExecution", {"ExecutionArn": arn.replace(
            "stateMachine", "execution") + ":nope"})
    assert missing.value.error == "Sfn.ExecutionDoesNotExistException"
    with pytest.raises(StatesError) as bad_token:
        call(engine, f"{SDK}sendTaskSuccess", {"TaskToken": "nope", "Output": "{}"})
    assert bad_token.value.error == "Sfn.InvalidTokenException"


def test_aws_sdk_sfn_goes_to_a_configured_endpoint(
    engine: EmbeddedEngine, service: StepFunctions, moto_url: str
) -> None:
    machine(service, "ours")
    engine.invoker.configure(IntegrationSettings(aws_endpoint_url=moto_url))
    remote = boto3.client("stepfunctions", endpoint_url=moto_url, region_name="us-east-1")
    theirs = remote.create_state_machine(name="theirs", definition=PASS, roleArn=ROLE)
    listed = call(engine, f"{SDK}listStateMachines", {})
    assert theirs["stateMachineArn"] in [m["StateMachineArn"] for m in listed["StateMachines"]]
    assert not any(m["Name"] == "ours" for m in listed["StateMachines"])


def test_the_parent_task_timeout_still_applies_while_the_child_runs(
    engine: EmbeddedEngine, service: StepFunctions
) -> None:
    hold = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9000,
                                                        "End": True}}})
    child, _ = service.create_state_machine("slow", MachineConfig(hold, ROLE))
    task = {"Type": "Task", "Resource": f"{START}.sync", "TimeoutSeconds": 5,
            "Parameters": {"StateMachineArn": child.arn}, "End": True}
    parent, _ = service.create_state_machine(
        "impatient", MachineConfig(json.dumps({"StartAt": "T", "States": {"T": task}}), ROLE)
    )
    started = service.executions.start(parent.arn)
    done = engine.wait(started.record.arn, 10)
    assert done is not None
    assert (done.status, done.error) == (ExecutionStatus.FAILED, "States.Timeout")


def test_without_the_service_a_nested_execution_fails_clearly() -> None:
    runtime = EmbeddedRuntime(settings=EngineSettings(time_scale=0.01))
    task = {"Type": "Task", "Resource": f"{START}.sync",
            "Parameters": {"StateMachineArn": "arn:aws:states:::x"}, "End": True}
    try:
        done = runtime.run({"StartAt": "T", "States": {"T": task}}, {}, timeout=10)
    finally:
        runtime.close()
    assert (done.status, done.error) == (ExecutionStatus.FAILED, "States.TaskFailed")
    assert f"'{START}.sync'" in (done.cause or "")
    assert "stepline server" in (done.cause or "")
