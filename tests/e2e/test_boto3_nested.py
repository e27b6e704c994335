"""Nested executions through boto3 on a running server: a Task starting another state
machine's execution (fire-and-forget, `.sync`, `.sync:2`, `.waitForTaskToken`), a child
that fails, StopExecution of a parent, and a child state machine that does not exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import definition, wait_until
from tests.e2e.test_boto3_executions import finished, machine
from tests.e2e.test_boto3_tasks import history_types

START = "arn:aws:states:::states:startExecution"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"
DOUBLE_CHILD = definition(
    Double={"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True}
)


def parent(sfn: Any, resource: str, child: str, **parameters: Any) -> str:
    """A machine whose one Task starts `child` (with the parent's input as its input
    unless `parameters` give one)."""
    given = {"Input.$": "$"} if "Input" not in parameters else {}
    task = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"StateMachineArn": child, **given, **parameters},
        "End": True,
    }
    return machine(sfn, definition(Start=task))


def run(sfn: Any, arn: str, value: Any) -> dict[str, Any]:
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(value))
    return finished(sfn, started["executionArn"])


def test_fire_and_forget_starts_the_child_and_answers_at_once(sfn: Any) -> None:
    child = machine(sfn, definition(Hold={"Type": "Wait", "Seconds": 600, "End": True}))
    arn = parent(
        sfn, START, child, **{"Input": {"from.$": "$$.Execution.Id",
                                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":
                                        "$$.Execution.Id"}}
    )
    done = run(sfn, arn, {})
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert isinstance(output["StartDate"], int)  # epoch milliseconds, as AWS gives it
    described = sfn.describe_execution(executionArn=output["ExecutionArn"])
    assert described["status"] == "RUNNING"  # the parent did not wait for it
    assert json.loads(described["input"])["from"] == done["executionArn"]
    sfn.stop_execution(executionArn=output["ExecutionArn"])


def test_sync_waits_for_the_child_and_returns_its_output_as_text(sfn: Any) -> None:
    child = machine(sfn, DOUBLE_CHILD)
    done = run(sfn, parent(sfn, f"{START}.sync", child, Name="kid"), {"n": 4})
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["Status"] == "SUCCEEDED"
    assert output["Output"] == '{"n":8}' and output["Input"] == '{"n":4}'
    assert output["ExecutionArn"].endswith(":kid")
    history = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    kinds = [event["type"] for event in history]
    assert kinds[kinds.index("TaskStarted") + 1 : kinds.index("TaskStarted") + 3] == [
        "TaskSubmitted", "TaskSucceeded"
    ]
    submitted = next(e for e in history if e["type"] == "TaskSubmitted")
    details = submitted["taskSubmittedEventDetails"]
    assert json.loads(details["output"])["ExecutionArn"] == output["ExecutionArn"]
    assert (details["resourceType"], details["resource"]) == ("states", "startExecution.sync")


def test_sync_2_returns_the_child_output_as_json(sfn: Any) -> None:
    child = machine(sfn, DOUBLE_CHILD)
    done = run(sfn, parent(sfn, f"{START}.sync:2", child), {"n": 5})
    output = json.loads(done["output"])
    assert (output["Output"], output["Input"]) == ({"n": 10}, {"n": 5})


def test_wait_for_task_token_ends_with_the_token_the_child_sends_back(sfn: Any) -> None:
    # The child answers through aws-sdk:sfn, which Stepline serves itself.
    answer = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
        "Parameters": {"TaskToken.$": "$.token", "Output": {"approved": True}},
        "End": True,
    }
    child = machine(sfn, definition(Answer=answer))
    arn = parent(
        sfn, f"{START}.waitForTaskToken", child, Input={"token.$": "$$.Task.Token"}
    )
    done = run(sfn, arn, {})
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"approved": True}
    assert "TaskSubmitted" in history_types(sfn, done["executionArn"])


def test_an_express_child_ends_its_sync_task_as_soon_as_it_ends(sfn: Any) -> None:
    child = machine(sfn, DOUBLE_CHILD, "EXPRESS")
    done = run(sfn, parent(sfn, f"{START}.sync:2", child), {"n": 1})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["Output"] == {"n": 2}


def test_an_express_parent_cannot_wait_for_a_child(sfn: Any) -> None:
    task = {"Type": "Task", "Resource": f"{START}.sync", "End": True,
            "Parameters": {"StateMachineArn": machine(sfn, DOUBLE_CHILD)}}
    with pytest.raises(ClientError) as refused:
        machine(sfn, definition(Start=task), "EXPRESS")
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "does not support '.sync'" in refused.value.response["Error"]["Message"]


def test_a_failing_child_fails_the_sync_task_with_its_error_in_the_cause(sfn: Any) -> None:
    child = machine(sfn, definition(No={"Type": "Fail", "Error": "Bad", "Cause": "why"}))
    done = run(sfn, parent(sfn, f"{START}.sync", child), {})
    assert (done["status"], done["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(done["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Bad", "why")


def test_stopping_a_parent_stops_its_sync_child_only(sfn: Any) -> None:
    child = machine(sfn, definition(Hold={"Type": "Wait", "Seconds": 600, "End": True}))

    def branch(resource: str, name: str) -> dict[str, Any]:
        task = {"Type": "Task", "Resource": resource, "End": True,
                "Parameters": {"StateMachineArn": child,
                               "Name.$": f"States.Format('{name}-{{}}', $.id)"}}
        return {"StartAt": name, "States": {name: task}}

    both = {"Type": "Parallel", "End": True,
            "Branches": [branch(f"{START}.sync", "sync"), branch(START, "free")]}
    arn = machine(sfn, definition(Both=both))
    execution = sfn.start_execution(stateMachineArn=arn, input='{"id": "x"}')["executionArn"]
    children = {name: child.replace(":stateMachine:", ":execution:") + f":{name}-x"
                for name in ("sync", "free")}

    def submitted() -> bool:
        return history_types(sfn, execution).count("TaskSubmitted") == 1

    wait_until(submitted)
    wait_until(lambda: len(sfn.list_executions(stateMachineArn=child)["executions"]) == 2)
    sfn.stop_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    wait_until(
        lambda: sfn.describe_execution(executionArn=children["sync"])["status"] == "ABORTED"
    )
    assert sfn.describe_execution(executionArn=children["free"])["status"] == "RUNNING"
    sfn.stop_execution(executionArn=children["free"])


def test_a_missing_child_state_machine_fails_the_task_as_aws_does(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nobody-here"
    done = run(sfn, parent(sfn, f"{START}.sync", missing), {})
    assert done["status"] == "FAILED"
    assert done["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert f"State Machine Does Not Exist: '{missing}'" in done["cause"]


def test_parameters_that_are_not_a_start_request_fail_the_task(sfn: Any) -> None:
    task = {"Type": "Task", "Resource": START, "Parameters": {"Input": {}}, "End": True}
    done = run(sfn, machine(sfn, definition(Start=task)), {})
    assert (done["status"], done["error"]) == ("FAILED", "States.Runtime")
    assert "StateMachineArn" in done["cause"]
