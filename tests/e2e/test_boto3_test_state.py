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


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


EVENTS = "arn:aws:states:::events:putEvents"
PUT_EVENTS = {"Type": "Task", "Resource": EVENTS, "Parameters": {"Entries.$": "$.entries"},
              "ResultSelector": {"id.$": "$.Entries[0].EventId"}, "ResultPath": "$.sent",
              "End": True}


def test_a_mocked_task_result_flows_through_the_data_flow(sfn: Any) -> None:
    mock = {"result": json.dumps({"Entries": [{"EventId": "e-1"}], "FailedEntryCount": 0})}
    result = run(sfn, PUT_EVENTS, {"entries": []}, mock=mock, inspectionLevel="DEBUG")
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"entries": [], "sent": {"id": "e-1"}}
    inspection = result["inspectionData"]
    assert json.loads(inspection["afterParameters"]) == {"Entries": []}
    assert json.loads(inspection["result"])["Entries"] == [{"EventId": "e-1"}]
    assert json.loads(inspection["afterResultSelector"]) == {"id": "e-1"}


@pytest.mark.parametrize(
    ("mocked", "mode", "message"),
    [
        ({"Entries": "x"}, "STRICT", "Field 'Entries' must be an array"),
        ({"Entries": [{"EventId": 7}]}, "PRESENT", "Field 'EventId' must be a string"),
        ({"Entries": [{"EventId": "a"}], "NotInTheModel": 1}, "STRICT", None),
    ],
)
def test_a_mocked_result_is_checked_against_the_api_model(
    sfn: Any, mocked: Any, mode: str, message: str | None
) -> None:
    mock = {"result": json.dumps(mocked), "fieldValidationMode": mode}
    if message is None:
        assert run(sfn, PUT_EVENTS, {"entries": []}, mock=mock)["status"] == "SUCCEEDED"
        return
    code, text = error_of(lambda: run(sfn, PUT_EVENTS, {"entries": []}, mock=mock))
    assert code == "ValidationException"
    assert text == f"Mock result schema validation error: {message}"
    none = {"result": json.dumps(mocked), "fieldValidationMode": "NONE"}
    unchecked = run(sfn, {"Type": "Task", "Resource": EVENTS, "End": True}, {}, mock=none)
    assert json.loads(unchecked["output"]) == mocked


def test_strict_mode_wants_required_fields(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True,
             "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:x"}}
    mock = {"result": json.dumps({"executionArn": "arn"})}
    assert error_of(lambda: run(sfn, state, {}, mock=mock)) == (
        "ValidationException",
        "Mock result schema validation error: Required field 'ExecutionArn' is missing")
    present = {**mock, "fieldValidationMode": "PRESENT"}
    assert run(sfn, state, {}, mock=present)["status"] == "SUCCEEDED"


RETRY_CATCH = {
    "Type": "Task", "Resource": f"{LAMBDA}:reserve", "End": True,
    "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2, "IntervalSeconds": 3}],
    "Catch": [{"ErrorEquals": ["Other"], "Next": "Never"},
              {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle"}],
}


def test_a_mocked_error_is_retried_then_caught(sfn: Any) -> None:
    mock = {"errorOutput": {"error": "Busy", "cause": "try later"}}
    first = run(sfn, RETRY_CATCH, {"id": 1}, mock=mock, inspectionLevel="DEBUG")
    assert (first["status"], first["error"], first["cause"]) == ("RETRIABLE", "Busy", "try later")
    assert first["inspectionData"]["errorDetails"] == {
        "retryIndex": 0, "retryBackoffIntervalSeconds": 3}
    second = run(sfn, RETRY_CATCH, {"id": 1}, mock=mock, inspectionLevel="DEBUG",
                 stateConfiguration={"retrierRetryCount": 1})
    assert second["inspectionData"]["errorDetails"]["retryBackoffIntervalSeconds"] == 6
    last = run(sfn, RETRY_CATCH, {"id": 1}, mock=mock, inspectionLevel="DEBUG",
               stateConfiguration={"retrierRetryCount": 2})
    assert (last["status"], last["nextState"]) == ("CAUGHT_ERROR", "Handle")
    assert json.loads(last["output"]) == {"id": 1, "error": {"Error": "Busy", "Cause": "try later"}}
    assert last["inspectionData"]["errorDetails"] == {"catchIndex": 1}


def test_an_unhandled_mocked_error_fails_the_state(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True}
    failed = run(sfn, state, {}, mock={"errorOutput": {"error": "Boom"}})
    assert (failed["status"], failed["error"]) == ("FAILED", "Boom") and "cause" not in failed


@pytest.mark.parametrize(
    ("state", "extra", "code", "message"),
    [
        ({"Type": "Pass", "End": True}, {"mock": {"result": "{}"}}, "ValidationException",
         "State type 'Pass' is not supported when a mock is specified"),
        ({"Type": "Choice", "Default": "A", "Choices": [
            {"Variable": "$.a", "IsPresent": True, "Next": "A"}]},
         {"mock": {"errorOutput": {"error": "E"}}}, "ValidationException",
         "State type 'Choice' is not supported when a mock is specified"),
        (PUT_EVENTS, {"mock": {"result": "{}", "errorOutput": {"error": "E"}}},
         "ValidationException",
         "A test mock should have only one of the following fields: [result, errorOutput]."),
        (PUT_EVENTS, {"mock": {}}, "ValidationException",
         "A test mock should have only one of the following fields: [result, errorOutput]."),
        (PUT_EVENTS, {"mock": {"result": "{}"}, "revealSecrets": True}, "ValidationException",
         "TestState does not support RevealSecrets when a mock is specified."),
        (PUT_EVENTS, {"mock": {"result": "{not json"}}, "ValidationException", None),
        ({"Type": "Pass", "End": True}, {"context": "{}"}, "ValidationException", None),
        ({"Type": "Pass", "End": True}, {"variables": "[1]"}, "ValidationException", None),
        ({"Type": "Pass", "End": True}, {"variables": "nope"}, "ValidationException", None),
        ({"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:a",
          "End": True}, {}, "ValidationException", None),
        ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
          "End": True}, {}, "ValidationException", None),
    ],
)
def test_bad_requests_are_refused_with_aws_errors(
    sfn: Any, state: dict[str, Any], extra: dict[str, Any], code: str, message: str | None
) -> None:
    got_code, got_message = error_of(lambda: run(sfn, state, {}, **extra))
    assert got_code == code
    if message is not None:
        assert got_message == message


def test_bad_input_and_definitions_are_refused(sfn: Any) -> None:
    pass_state = json.dumps({"Type": "Pass", "End": True})
    assert error_of(lambda: sfn.test_state(definition=pass_state, input="{oops"))[0] == (
        "InvalidExecutionInput")
    assert error_of(lambda: sfn.test_state(definition="{oops", input="{}"))[0] == (
        "InvalidDefinition")
    assert error_of(lambda: sfn.test_state(definition="[]", input="{}"))[0] == "InvalidDefinition"
    bad_map = {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "X", "States": {}}}
    assert error_of(lambda: run(sfn, bad_map, []))[0] == "InvalidDefinition"


def test_an_activity_task_runs_with_a_mock(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:a",
             "Next": "After"}
    result = run(sfn, state, {}, mock={"result": json.dumps({"done": True})})
    assert (result["status"], result["nextState"]) == ("SUCCEEDED", "After")
    assert json.loads(result["output"]) == {"done": True}


MACHINE = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Result": {"n": 1}, "Next": "Fan"},
        "Fan": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": True}}}]},
    },
}


def test_one_state_of_a_full_definition(sfn: Any) -> None:
    result = sfn.test_state(definition=json.dumps(MACHINE), stateName="First", input="{}")
    assert (result["status"], result["nextState"]) == ("SUCCEEDED", "Fan")
    assert json.loads(result["output"]) == {"n": 1}
    inner = sfn.test_state(definition=json.dumps(MACHINE), stateName="Inner", input='{"a": 1}')
    assert json.loads(inner["output"]) == {"a": 1}
    assert error_of(lambda: sfn.test_state(
        definition=json.dumps(MACHINE), stateName="Nope", input="{}")) == (
        "ValidationException", "State not found in definition")
    broken = {"StartAt": "First", "States": {"First": {"Type": "Pass", "Next": "Gone"}}}
    code, message = error_of(lambda: sfn.test_state(
        definition=json.dumps(broken), stateName="First", input="{}"))
    assert code == "InvalidDefinition" and "/States/First/Next" in message
    code, _ = error_of(lambda: sfn.test_state(
        definition=json.dumps({"Type": "Pass", "End": True}), stateName="First", input="{}"))
    assert code == "InvalidDefinition"


def test_variables_and_context_are_read_and_reported(sfn: Any) -> None:
    state = {"Type": "Pass", "Parameters": {"who.$": "$owner", "name.$": "$$.Execution.Name"},
             "Assign": {"seen.$": "$.who"}, "End": True}
    result = run(sfn, state, {"x": 5}, variables=json.dumps({"owner": "ana"}),
                 inspectionLevel="DEBUG")
    assert json.loads(result["output"]) == {"who": "ana", "name": "TestState"}
    assert json.loads(result["inspectionData"]["variables"]) == {"owner": "ana", "seen": "ana"}
    task = {"Type": "Task", "Resource": f"{LAMBDA}:double", "End": True,
            "Parameters": {"exec.$": "$$.Execution.Name", "retry.$": "$$.State.RetryCount"},
            "ResultPath": "$.r"}
    mocked = run(sfn, task, {}, mock={"result": "1"}, inspectionLevel="DEBUG",
                 context=json.dumps({"Execution": {"Name": "nightly"}}),
                 stateConfiguration={"retrierRetryCount": 2})
    assert json.loads(mocked["inspectionData"]["afterParameters"]) == {
        "exec": "nightly", "retry": 2}


def test_a_missing_variable_fails_the_state(sfn: Any) -> None:
    state = {"Type": "Pass", "Parameters": {"who.$": "$owner"}, "End": True}
    result = run(sfn, state, {})
    assert result["status"] == "FAILED" and result["error"] == "States.Runtime"


def test_jsonata_states_show_their_arguments(sfn: Any) -> None:
    state = {"Type": "Task", "QueryLanguage": "JSONata", "Resource": EVENTS, "End": True,
             "Arguments": {"Entries": "{% [{'Detail': $states.input.d}] %}"},
             "Output": "{% $states.result.FailedEntryCount %}"}
    mock = {"result": json.dumps({"FailedEntryCount": 0, "Entries": []})}
    result = run(sfn, state, {"d": "x"}, mock=mock, inspectionLevel="TRACE")
    assert json.loads(result["output"]) == 0
    assert json.loads(result["inspectionData"]["afterArguments"]) == {"Entries": [{"Detail": "x"}]}


PARALLEL = {"Type": "Parallel", "Next": "After", "ResultSelector": {"both.$": "$"},
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 3600,
                                                  "Next": "C"},
                                            "C": {"Type": "Pass", "End": True}}}]}


def test_a_parallel_state_with_a_mock_or_run(sfn: Any) -> None:
    mocked = run(sfn, PARALLEL, {"v": 1}, mock={"result": json.dumps(["x", "y"])})
    assert json.loads(mocked["output"]) == {"both": ["x", "y"]}
    assert mocked["nextState"] == "After"
    ran = run(sfn, PARALLEL, {"v": 1}, inspectionLevel="DEBUG")
    assert json.loads(ran["output"]) == {"both": ["a", {"v": 1}]}
    assert json.loads(ran["inspectionData"]["result"]) == ["a", {"v": 1}]
    assert error_of(lambda: run(sfn, PARALLEL, {}, mock={"result": '["only one"]'})) == (
        "ValidationException",
        "Mocked result must contain the same number of items as number of Parallel branches.")
    assert error_of(lambda: run(sfn, PARALLEL, {}, mock={"result": '{"a": 1}'})) == (
        "ValidationException", "Mocked result must be an array.")


def test_a_failing_branch_fails_the_parallel_state(sfn: Any) -> None:
    state = {"Type": "Parallel", "End": True, "Catch": [
        {"ErrorEquals": ["Broken"], "Next": "Fix"}], "Branches": [
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Broken", "Cause": "c"}}}]}
    result = run(sfn, state, {})
    assert (result["status"], result["error"], result["nextState"]) == (
        "CAUGHT_ERROR", "Broken", "Fix")
    mocked = run(sfn, state, {}, mock={"errorOutput": {"error": "Other", "cause": "x"}},
                 stateConfiguration={"errorCausedByState": "F"})
    assert (mocked["status"], mocked["error"]) == ("FAILED", "Other")
    assert error_of(lambda: run(sfn, state, {}, mock={"errorOutput": {"error": "E"}},
                                stateConfiguration={"errorCausedByState": "Nope"}))[0] == (
        "ValidationException")


MAP = {"Type": "Map", "ItemsPath": "$.values", "ToleratedFailureCount": 1, "MaxConcurrency": 2,
       "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
       "ItemProcessor": {"StartAt": "Check", "States": {
           "Check": {"Type": "Choice", "Default": "Keep", "Choices": [
               {"Variable": "$.v", "NumericGreaterThan": 9, "Next": "TooBig"}]},
           "TooBig": {"Type": "Fail", "Error": "TooBig"},
           "Keep": {"Type": "Pass", "End": True}}},
       "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Over"}],
       "End": True}


def test_a_map_state_runs_its_iterations(sfn: Any) -> None:
    result = run(sfn, MAP, {"values": [1, 20]}, inspectionLevel="DEBUG")
    assert result["status"] == "SUCCEEDED"
    output = json.loads(result["output"])
    assert output[0] == {"v": 1, "i": 0} and output[1]["Error"] == "TooBig"
    inspection = result["inspectionData"]
    assert json.loads(inspection["afterItemsPath"]) == [1, 20]
    assert json.loads(inspection["afterItemSelector"]) == [{"v": 1, "i": 0}, {"v": 20, "i": 1}]
    assert (inspection["maxConcurrency"], inspection["toleratedFailureCount"]) == (2, 1)
    over = run(sfn, MAP, {"values": [10, 20]})
    assert (over["status"], over["error"], over["nextState"]) == (
        "CAUGHT_ERROR", "States.ExceedToleratedFailureThreshold", "Over")


def test_a_map_state_with_a_mock(sfn: Any) -> None:
    mocked = run(sfn, MAP, {"values": [1, 2, 3]}, mock={"result": "[1, 2, 3]"})
    assert json.loads(mocked["output"]) == [1, 2, 3]
    tolerated = run(sfn, MAP, {"values": [1, 2, 3]}, mock={"result": "[1, 2, 3]"},
                    stateConfiguration={"mapIterationFailureCount": 1})
    assert tolerated["status"] == "SUCCEEDED"
    over = run(sfn, MAP, {"values": [1, 2, 3]}, mock={"result": "[1, 2, 3]"},
               stateConfiguration={"mapIterationFailureCount": 2}, inspectionLevel="DEBUG")
    assert (over["status"], over["nextState"]) == ("CAUGHT_ERROR", "Over")
    assert over["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    assert error_of(lambda: run(sfn, MAP, {"values": []}, mock={"result": '{"a": 1}'})) == (
        "ValidationException", "Mocked result must be an array.")


def test_a_map_over_a_non_array_fails(sfn: Any) -> None:
    result = run(sfn, {**MAP, "Catch": []}, {"values": "nope"})
    assert (result["status"], result["error"]) == ("FAILED", "States.Runtime")


READER_MAP = {"Type": "Map", "End": True,
              "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                             "ReaderConfig": {"InputType": "JSON"},
                             "Parameters": {"Bucket": "b", "Key": "k"}},
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                                    "ExecutionType": "STANDARD"},
                                "StartAt": "Square", "States": {"Square": {
                                    "Type": "Pass", "Parameters": {"n.$": "States.MathAdd($, 1)"},
                                    "End": True}}}}


def test_a_map_with_an_item_reader_iterates_the_reader_data(sfn: Any) -> None:
    result = run(sfn, READER_MAP, {"Bucket": "b", "Key": "k"},
                 stateConfiguration={"mapItemReaderData": "[1, 4, 9]"})
    assert json.loads(result["output"]) == [{"n": 2}, {"n": 5}, {"n": 10}]
    assert error_of(lambda: run(sfn, READER_MAP, {}))[0] == "ValidationException"
    assert error_of(lambda: run(sfn, READER_MAP, {}, stateConfiguration={
        "mapItemReaderData": '"a,b\\n1,2"'}))[0] == "ValidationException"
    mocked = run(sfn, READER_MAP, {}, mock={"result": "[7]"})
    assert json.loads(mocked["output"]) == [7]


def test_a_map_with_a_result_writer_mocks_an_object(sfn: Any) -> None:
    writer = {**READER_MAP, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                              "Parameters": {"Bucket": "b", "Prefix": "p"}}}
    result = run(sfn, writer, {}, mock={"result": json.dumps({"ResultWriterDetails": {}})})
    assert json.loads(result["output"]) == {"ResultWriterDetails": {}}
    assert error_of(lambda: run(sfn, writer, {}, mock={"result": "[1]"})) == (
        "ValidationException", "Mocked result must be a JSON object.")


def test_a_callback_task_with_a_mock_sees_a_task_token(sfn: Any) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
             "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
             "End": True}
    result = run(sfn, state, {}, mock={"result": '{"approved": true}'}, inspectionLevel="DEBUG")
    assert json.loads(result["output"]) == {"approved": True}
    assert json.loads(result["inspectionData"]["afterParameters"])["MessageBody"]["token"]
