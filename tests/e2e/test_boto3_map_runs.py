"""Map runs through boto3 against a running `stepline server`, embedded and on Redis:
ListMapRuns, DescribeMapRun and UpdateMapRun during and after a Distributed Map, and
ListExecutions of a map run. The map's children wait on an activity, so the test
decides when each ends."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import ROLE, unique, wait_until

BASE = "arn:aws:states:us-east-1:123456789012"


def code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


class Flow:
    """One execution of a Distributed Map over `items` whose children wait on an activity."""

    def __init__(self, sfn: Any, items: int, **fields: Any) -> None:
        self.sfn = sfn
        self.activity = sfn.create_activity(name=unique("work"))["activityArn"]
        definition = {
            "StartAt": "Items",
            "States": {
                "Items": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "Work",
                        "States": {
                            "Work": {"Type": "Task", "Resource": self.activity, "End": True}
                        },
                    },
                    "End": True,
                    **fields,
                }
            },
        }
        machine = sfn.create_state_machine(name=unique("map"), definition=json.dumps(definition),
                                           roleArn=ROLE)["stateMachineArn"]
        self.machine = machine
        self.execution = sfn.start_execution(stateMachineArn=machine,
                                             input=json.dumps(list(range(items))))["executionArn"]
        self.tokens: list[str] = []

    def map_run_arn(self) -> str:
        wait_until(lambda: bool(self.sfn.list_map_runs(executionArn=self.execution)["mapRuns"]))
        arn: str = self.sfn.list_map_runs(executionArn=self.execution)["mapRuns"][0]["mapRunArn"]
        return arn

    def take(self, count: int) -> list[str]:
        """Tokens of `count` more children that started (each waits for its answer)."""
        before = len(self.tokens)

        def got() -> bool:
            task = self.sfn.get_activity_task(activityArn=self.activity, workerName="test")
            if task.get("taskToken"):
                self.tokens.append(task["taskToken"])
            return len(self.tokens) - before >= count

        wait_until(got, timeout=30)
        return self.tokens[before:]

    def counts(self, **expected: int) -> dict[str, Any]:
        """DescribeMapRun once its item counts are `expected`."""
        arn = self.map_run_arn()
        found: dict[str, Any] = {}

        def matches() -> bool:
            found.update(self.sfn.describe_map_run(mapRunArn=arn))
            items = found["itemCounts"]
            return all(items[k] == v for k, v in expected.items())

        wait_until(matches, timeout=30)
        return found

    def status(self) -> dict[str, Any]:
        wait_until(lambda: self.sfn.describe_execution(
            executionArn=self.execution)["status"] != "RUNNING", timeout=30)
        result: dict[str, Any] = self.sfn.describe_execution(executionArn=self.execution)
        return result


def test_list_describe_and_update_during_and_after_a_run(sfn: Any) -> None:
    flow = Flow(sfn, 5, MaxConcurrency=2, ToleratedFailureCount=1)
    first = flow.take(2)
    running = flow.counts(running=2, pending=3, succeeded=0, failed=0, total=5)
    arn = running["mapRunArn"]
    name = flow.machine.rsplit(":", 1)[1]
    assert arn.startswith(f"{BASE}:mapRun:{name}/Items:")
    assert running["status"] == "RUNNING" and "stopDate" not in running
    assert running["executionArn"] == flow.execution
    assert (running["maxConcurrency"], running["toleratedFailureCount"],
            running["toleratedFailurePercentage"]) == (2, 1, 0.0)
    assert running["executionCounts"] == running["itemCounts"]
    assert running["redriveCount"] == 0
    listed = sfn.list_map_runs(executionArn=flow.execution)["mapRuns"]
    assert [(m["mapRunArn"], m["stateMachineArn"], m["executionArn"]) for m in listed] == [
        (arn, flow.machine, flow.execution)]
    assert "stopDate" not in listed[0]
    history = sfn.get_execution_history(executionArn=flow.execution)["events"]
    started = [e for e in history if e["type"] == "MapRunStarted"]
    assert started[0]["mapRunStartedEventDetails"]["mapRunArn"] == arn

    sfn.send_task_failure(taskToken=first[0], error="Broken", cause="item 0")  # tolerated
    flow.take(1)
    flow.counts(failed=1, running=2, pending=2)
    sfn.update_map_run(mapRunArn=arn, maxConcurrency=0)  # no limit: the rest start now
    flow.take(2)
    updated = flow.counts(running=4, pending=0, failed=1)
    assert updated["maxConcurrency"] == 0

    for token in flow.tokens[1:]:
        sfn.send_task_success(taskToken=token, output="{}")
    assert flow.status()["status"] == "SUCCEEDED"
    done = flow.counts(succeeded=4, failed=1, running=0, pending=0, aborted=0, total=5)
    assert done["status"] == "SUCCEEDED" and done["stopDate"] >= done["startDate"]
    listed = sfn.list_map_runs(executionArn=flow.execution)["mapRuns"]
    assert listed[0]["stopDate"] == done["stopDate"]
    assert sfn.list_executions(mapRunArn=arn)["executions"] == []
    with pytest.raises(ClientError) as caught:
        sfn.update_map_run(mapRunArn=arn, maxConcurrency=1)
    assert code(caught) == "ValidationException"


def test_failures_past_an_updated_tolerance_fail_the_map_run(sfn: Any) -> None:
    flow = Flow(sfn, 4, MaxConcurrency=2, ToleratedFailurePercentage=50)
    tokens = flow.take(2)
    arn = flow.map_run_arn()
    sfn.update_map_run(mapRunArn=arn, toleratedFailurePercentage=25.0)
    assert flow.counts()["toleratedFailurePercentage"] == 25.0
    sfn.send_task_failure(taskToken=tokens[0], error="Broken", cause="one is tolerated")
    second = flow.take(1)
    flow.counts(failed=1, running=2, pending=1)
    sfn.send_task_failure(taskToken=second[0], error="Broken", cause="two are too many")
    done = flow.status()
    assert (done["status"], done["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    failed = flow.counts(failed=2, running=0)
    assert failed["status"] == "FAILED"
    assert (failed["itemCounts"]["aborted"], failed["itemCounts"]["pending"]) == (1, 1)
    events = [e["type"] for e in sfn.get_execution_history(executionArn=flow.execution)["events"]]
    assert "MapRunFailed" in events


def test_stopping_the_execution_aborts_the_map_run(sfn: Any) -> None:
    flow = Flow(sfn, 2, MaxConcurrency=1)
    flow.take(1)
    flow.counts(running=1, pending=1)
    sfn.stop_execution(executionArn=flow.execution)
    aborted = flow.counts(running=0, aborted=1, pending=1)
    assert aborted["status"] == "ABORTED" and "stopDate" in aborted


def test_unknown_and_malformed_map_run_arns(sfn: Any) -> None:
    unknown = f"{BASE}:mapRun:m/Items:{uuid.uuid4()}"
    for call in (lambda: sfn.describe_map_run(mapRunArn=unknown),
                 lambda: sfn.update_map_run(mapRunArn=unknown, maxConcurrency=1),
                 lambda: sfn.list_executions(mapRunArn=unknown)):
        with pytest.raises(ClientError) as caught:
            call()
        assert code(caught) == "ResourceNotFound" and unknown in str(caught.value)
    for bad in ("nope", f"{BASE}:stateMachine:m", f"{BASE}:mapRun:m"):
        with pytest.raises(ClientError) as caught:
            sfn.describe_map_run(mapRunArn=bad)
        assert code(caught) == "InvalidArn"
    with pytest.raises(ClientError) as caught:
        sfn.list_map_runs(executionArn=f"{BASE}:execution:m:nope")
    assert code(caught) == "ExecutionDoesNotExist"
    with pytest.raises(ClientError) as caught:
        sfn.list_map_runs(executionArn=unknown)
    assert code(caught) == "InvalidArn"
    with pytest.raises(ClientError) as caught:  # nothing to change
        sfn.update_map_run(mapRunArn=unknown)
    assert code(caught) == "ValidationException"
    with pytest.raises(ClientError) as caught:  # the model's range, checked before anything
        sfn.update_map_run(mapRunArn=unknown, toleratedFailurePercentage=101.0)
    assert code(caught) == "ValidationException"
    assert "toleratedFailurePercentage" in caught.value.response["Error"]["Message"]
