"""Task tokens and redrive through boto3: activities, SendTask*, RedriveExecution."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import definition, unique
from tests.e2e.test_boto3_executions import finished, machine

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"


def history_types(sfn: Any, arn: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]


def activity_machine(sfn: Any) -> tuple[str, str]:
    activity = sfn.create_activity(name=unique("approve"))["activityArn"]
    text = definition(Approve={"Type": "Task", "Resource": activity, "End": True,
                               "ResultPath": "$.approval"})
    return activity, machine(sfn, text)


def test_an_activity_worker_polls_and_answers(sfn: Any) -> None:
    activity, arn = activity_machine(sfn)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"order": 7}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
    assert json.loads(task["input"]) == {"order": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"approved": true}')
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"order": 7, "approval": {"approved": True}}
    kinds = history_types(sfn, execution)
    assert ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"] == [
        k for k in kinds if k.startswith("Activity")
    ]
    with pytest.raises(ClientError) as again:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert again.value.response["Error"]["Code"] == "TaskTimedOut"


def test_send_task_failure_fails_the_execution(sfn: Any) -> None:
    activity, arn = activity_machine(sfn)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    with pytest.raises(ClientError) as bad_output:
        sfn.send_task_success(taskToken=task["taskToken"], output="not json")
    assert bad_output.value.response["Error"]["Code"] == "InvalidOutput"
    sfn.send_task_failure(taskToken=task["taskToken"], error="Rejected", cause="over budget")
    done = finished(sfn, execution)
    assert (done["status"], done["error"], done["cause"]) == ("FAILED", "Rejected", "over budget")


def test_tokens_and_activities_that_do_not_exist_are_refused(sfn: Any) -> None:
    with pytest.raises(ClientError) as bad:
        sfn.send_task_success(taskToken="not-a-token!", output="{}")
    assert bad.value.response["Error"]["Code"] == "InvalidToken"
    missing = "arn:aws:states:us-east-1:123456789012:activity:nobody-here"
    with pytest.raises(ClientError) as gone:
        sfn.get_activity_task(activityArn=missing)
    assert gone.value.response["Error"]["Code"] == "ActivityDoesNotExist"


def test_a_failed_execution_is_redriven_from_the_state_that_failed(sfn: Any) -> None:
    text = definition(
        First={"Type": "Pass", "Result": "ran", "ResultPath": "$.first", "Next": "Flaky"},
        Flaky={"Type": "Task", "Resource": f"{LAMBDA}:flaky_once", "End": True,
               "Parameters": {"redrives.$": "$$.Execution.RedriveCount"},
               "ResultPath": "$.flaky"},
    )
    arn = machine(sfn, text)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    failed = finished(sfn, execution)
    assert failed["status"] == "FAILED" and failed["redriveStatus"] == "REDRIVABLE"
    assert "redriveDate" in sfn.redrive_execution(executionArn=execution)
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED" and done["redriveCount"] == 1
    assert json.loads(done["output"]) == {"first": "ran", "flaky": {"redrives": 1}}
    kinds = history_types(sfn, execution)
    assert kinds.count("PassStateEntered") == 1 and "ExecutionRedriven" in kinds
    with pytest.raises(ClientError) as again:
        sfn.redrive_execution(executionArn=execution)
    assert again.value.response["Error"]["Code"] == "ExecutionNotRedrivable"


def test_a_worker_can_wait_for_the_task(sfn: Any) -> None:
    activity, arn = activity_machine(sfn)
    got: list[dict[str, Any]] = []
    poller = threading.Thread(target=lambda: got.append(sfn.get_activity_task(
        activityArn=activity, workerName="early")))
    poller.start()  # polling before any task exists: the long poll waits for one
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    poller.join(30)
    assert got and json.loads(got[0]["input"]) == {"n": 1}
    sfn.send_task_success(taskToken=got[0]["taskToken"], output='"ok"')
    assert finished(sfn, execution)["status"] == "SUCCEEDED"
