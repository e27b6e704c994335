"""TestState through boto3: one state, run once, with what it did."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import ROLE

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function"


def needs_local_handlers(request: pytest.FixtureRequest) -> None:
    """TestState calls a Task's resource from the API process; `stepline api` alone has
    no handlers of its own (they live in the workers) unless its config names them."""
    if "[api]" in request.node.name:
        pytest.skip("the API-only process was started without handlers")


def run(sfn: Any, state: dict[str, Any], data: Any, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = sfn.test_state(
        definition=json.dumps(state), roleArn=ROLE, input=json.dumps(data), **extra
    )
    return result


def test_a_pass_state_shows_every_data_flow_stage(sfn: Any) -> None:
    state = {"Type": "Pass", "InputPath": "$.order", "Parameters": {"id.$": "$.id"},
             "ResultPath": "$.picked", "Next": "Ship"}
    result = run(sfn, state, {"order": {"id": 7, "qty": 2}}, inspectionLevel="DEBUG")
    assert result["status"] == "SUCCEEDED" and result["nextState"] == "Ship"
    assert json.loads(result["output"]) == {"order": {"id": 7, "qty": 2}, "picked": {"id": 7}}
    inspection = result["inspectionData"]
    assert json.loads(inspection["afterInputPath"]) == {"id": 7, "qty": 2}
    assert json.loads(inspection["afterParameters"]) == {"id": 7}


def test_a_task_calls_its_handler_once(sfn: Any, request: pytest.FixtureRequest) -> None:
    needs_local_handlers(request)
    state = {"Type": "Task", "Resource": f"{LAMBDA}:double", "ResultSelector": {"d.$": "$.n"},
             "End": True}
    result = run(sfn, state, {"n": 4}, inspectionLevel="DEBUG")
    assert result["status"] == "SUCCEEDED" and "nextState" not in result
    assert json.loads(result["output"]) == {"d": 8}
    assert json.loads(result["inspectionData"]["result"]) == {"n": 8}


def test_a_failing_task_is_caught_or_retriable(
    sfn: Any, request: pytest.FixtureRequest
) -> None:
    needs_local_handlers(request)
    caught = run(sfn, {"Type": "Task", "Resource": f"{LAMBDA}:reserve", "End": True,
                       "Catch": [{"ErrorEquals": ["OutOfStock"], "Next": "Backorder"}]},
                 {"item": "lamp"})
    assert (caught["status"], caught["error"], caught["nextState"]) == (
        "CAUGHT_ERROR", "OutOfStock", "Backorder")
    retried = run(sfn, {"Type": "Task", "Resource": f"{LAMBDA}:reserve", "End": True,
                        "Retry": [{"ErrorEquals": ["States.ALL"]}]}, {"item": "lamp"})
    assert retried["status"] == "RETRIABLE"


def test_choice_and_fail(sfn: Any) -> None:
    choice = {"Type": "Choice", "Default": "Small",
              "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}]}
    assert run(sfn, choice, {"n": 11})["nextState"] == "Big"
    assert run(sfn, choice, {"n": 1})["nextState"] == "Small"
    failed = run(sfn, {"Type": "Fail", "Error": "Nope", "Cause": "because"}, {})
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Nope", "because")


def test_an_invalid_state_is_refused(sfn: Any) -> None:
    with pytest.raises(ClientError) as caught:
        run(sfn, {"Type": "Pass", "Next": "X", "End": True}, {})
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"
