"""Executions through boto3: start rules, describe, list, history, stop, sync."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import ROLE, definition, unique, wait_until

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"
DOUBLE = definition(D={"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True})
WAIT = definition(W={"Type": "Wait", "Seconds": 60, "End": True})
RESERVE = definition(R={"Type": "Task", "Resource": f"{LAMBDA}:reserve", "End": True})


def machine(sfn: Any, text: str, type_: str = "STANDARD", **extra: Any) -> str:
    arn: str = sfn.create_state_machine(name=unique("m"), definition=text, roleArn=ROLE,
                                        type=type_, **extra)["stateMachineArn"]
    return arn


def finished(sfn: Any, arn: str) -> dict[str, Any]:
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    result: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    return result


def test_an_execution_runs_a_handler_and_reports_its_output(sfn: Any) -> None:
    arn = machine(sfn, DOUBLE)
    started = sfn.start_execution(stateMachineArn=arn, name="first", input='{"n": 21}')
    name = arn.rsplit(":", 1)[1]
    assert started["executionArn"] == (
        f"arn:aws:states:us-east-1:123456789012:execution:{name}:first")
    done = finished(sfn, started["executionArn"])
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"n": 42}
    assert done["stopDate"] >= done["startDate"] and json.loads(done["input"]) == {"n": 21}
    for_execution = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert for_execution["definition"] == DOUBLE and for_execution["name"] == name


def test_a_failing_handler_fails_the_execution_with_its_error(sfn: Any) -> None:
    arn = machine(sfn, RESERVE)
    started = sfn.start_execution(stateMachineArn=arn, input='{"item": "socks"}')
    done = finished(sfn, started["executionArn"])
    assert (done["status"], done["error"]) == ("FAILED", "OutOfStock")
    assert "no socks left" in done["cause"]


def test_idempotent_start_and_duplicate_names(sfn: Any) -> None:
    arn = machine(sfn, WAIT)
    first = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 2}')
    sfn.stop_execution(executionArn=first["executionArn"])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"name": "bad name"}, "InvalidName"), ({"name": "n" * 81}, "ValidationException"),
     ({"input": "{not json"}, "InvalidExecutionInput"),
     ({"input": json.dumps({"blob": "x" * (256 * 1024)})}, "InvalidExecutionInput")],
)
def test_bad_starts_are_refused(sfn: Any, kwargs: dict[str, str], error: str) -> None:
    arn = machine(sfn, WAIT)
    with pytest.raises(ClientError) as caught:
        sfn.start_execution(stateMachineArn=arn, **kwargs)
    assert caught.value.response["Error"]["Code"] == error
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_starting_a_missing_machine(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:no")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:a:b")


def test_stop_list_filter_and_pages(sfn: Any) -> None:
    arn = machine(sfn, WAIT)
    arns = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"]
            for i in range(3)]
    stopped = sfn.stop_execution(executionArn=arns[0], error="Cancelled", cause="customer asked")
    assert "stopDate" in stopped
    aborted = sfn.describe_execution(executionArn=arns[0])
    assert (aborted["status"], aborted["error"], aborted["cause"]) == (
        "ABORTED", "Cancelled", "customer asked")
    running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)
    assert [e["name"] for e in running["executions"]] == ["e2"]
    rest = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING",
                               nextToken=running["nextToken"])
    assert [e["name"] for e in rest["executions"]] == ["e1"] and "nextToken" not in rest
    everything = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["status"] for e in everything] == ["RUNNING", "RUNNING", "ABORTED"]
    first = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert [e["name"] for e in first["executions"]] == ["e2", "e1"]
    last = sfn.list_executions(stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert [e["name"] for e in last["executions"]] == ["e0"] and "nextToken" not in last
    for execution in arns[1:]:
        sfn.stop_execution(executionArn=execution)


def test_history_in_order_reversed_paged_and_without_data(sfn: Any) -> None:
    arn = machine(sfn, definition(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass",
                                                                       "End": True}))
    execution = sfn.start_execution(stateMachineArn=arn, input='{"card": "4242"}')
    finished(sfn, execution["executionArn"])
    events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered",
        "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"card": "4242"}
    backwards = sfn.get_execution_history(executionArn=execution["executionArn"],
                                          reverseOrder=True, maxResults=2)
    assert [e["id"] for e in backwards["events"]] == [6, 5]
    more = sfn.get_execution_history(executionArn=execution["executionArn"], reverseOrder=True,
                                     maxResults=2, nextToken=backwards["nextToken"])
    assert [e["id"] for e in more["events"]] == [4, 3]
    bare = sfn.get_execution_history(executionArn=execution["executionArn"],
                                     includeExecutionData=False)
    assert "4242" not in json.dumps(bare["events"], default=str)


def test_versions_and_aliases_start_executions(sfn: Any) -> None:
    arn = machine(sfn, DOUBLE, publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=WAIT)
    alias = sfn.create_state_machine_alias(name="stable", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:1", "weight": 100}])["stateMachineAliasArn"]
    by_alias = sfn.start_execution(stateMachineArn=alias, input='{"n": 2}')
    done = finished(sfn, by_alias["executionArn"])
    assert json.loads(done["output"]) == {"n": 4}
    assert done["stateMachineAliasArn"] == alias
    assert done["stateMachineVersionArn"] == f"{arn}:1"
    by_version = sfn.start_execution(stateMachineArn=f"{arn}:1", input='{"n": 5}')
    assert json.loads(finished(sfn, by_version["executionArn"])["output"]) == {"n": 10}
    listed = sfn.list_executions(stateMachineArn=alias)["executions"]
    assert [e["executionArn"] for e in listed] == [by_alias["executionArn"]]


def test_start_sync_execution_returns_the_result(sfn: Any) -> None:
    arn = machine(sfn, DOUBLE, type_="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=arn, input='{"n": 4}')
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"n": 8}
    assert ":express:" in result["executionArn"]
    assert result["billingDetails"]["billedDurationInMilliseconds"] >= 100
    failed = sfn.start_sync_execution(stateMachineArn=machine(sfn, RESERVE, type_="EXPRESS"),
                                      input='{"item": "hats"}')
    assert (failed["status"], failed["error"]) == ("FAILED", "OutOfStock")
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=machine(sfn, DOUBLE))
