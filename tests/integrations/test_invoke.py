"""The Invoker: Lambda ARNs, bare names, `lambda:invoke`, and custom integrations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integrations.invoke import Invoker
from integrations.registry import HandlerRegistry
from scheduler.arns import Account
from scheduler.asl.errors import StatesError

FN = "arn:aws:lambda:us-east-1:123456789012:function"
INVOKE = "arn:aws:states:::lambda:invoke"


class OutOfStock(Exception):
    pass


def reserve(event: Any, context: Any) -> Any:
    if event == {"sku": "none"}:
        raise OutOfStock("sku none has 0 units")
    return {"event": event, "function": context.function_name,
            "arn": context.invoked_function_arn}


@pytest.fixture
def invoker() -> Invoker:
    registry = HandlerRegistry()
    registry.register("reserve", reserve)
    return Invoker(registry)


def fails(invoker: Invoker, resource: str, payload: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        invoker(resource, payload, None)
    return caught.value


# ----- Lambda ARNs and bare names -------------------------------------------------------


def test_lambda_arn_with_a_qualifier_reaches_the_handler(invoker: Invoker) -> None:
    result = invoker(f"{FN}:reserve:prod", {"sku": "a1"}, None)
    assert result == {"event": {"sku": "a1"}, "function": "reserve",
                      "arn": f"{FN}:reserve:prod"}


def test_bare_name_gets_a_full_arn_in_its_context(invoker: Invoker) -> None:
    assert invoker("reserve", 5, None)["arn"] == f"{FN}:reserve"
    other = Invoker(invoker.handlers, Account("eu-west-1", "999988887777"))
    assert other("reserve", 5, None)["arn"] == (
        "arn:aws:lambda:eu-west-1:999988887777:function:reserve"
    )


def test_unknown_lambda_arn_is_resource_not_found(invoker: Invoker) -> None:
    error = fails(invoker, f"{FN}:refund", {})
    assert error.error == "Lambda.ResourceNotFoundException"
    assert f"Function not found: {FN}:refund" in (error.cause or "")


def test_unknown_bare_resource_is_a_task_failure(invoker: Invoker) -> None:
    error = fails(invoker, "refund", {})
    assert error.error == "States.TaskFailed"
    assert error.cause == "No handler is registered for resource 'refund'"


def test_a_handler_exception_is_the_tasks_error(invoker: Invoker) -> None:
    error = fails(invoker, f"{FN}:reserve", {"sku": "none"})
    assert error.error == "OutOfStock"
    assert json.loads(error.cause or "")["errorMessage"] == "sku none has 0 units"


# ----- lambda:invoke --------------------------------------------------------------------


def test_lambda_invoke_wraps_the_result_in_the_invoke_response(invoker: Invoker) -> None:
    response = invoker(INVOKE, {"FunctionName": "reserve", "Payload": {"sku": "a1"}}, None)
    assert sorted(response) == [
        "ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode",
    ]
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["Payload"]["event"] == {"sku": "a1"}
    metadata = response["SdkHttpMetadata"]
    assert metadata["HttpStatusCode"] == 200
    request_id = response["SdkResponseMetadata"]["RequestId"]
    assert metadata["HttpHeaders"]["x-amzn-RequestId"] == request_id
    assert metadata["AllHttpHeaders"]["x-amzn-RequestId"] == [request_id]
    body = json.dumps(response["Payload"], separators=(",", ":")).encode()
    assert metadata["HttpHeaders"]["Content-Length"] == str(len(body))


def test_a_payload_string_of_json_text_reaches_the_handler_parsed(invoker: Invoker) -> None:
    response = invoker(INVOKE, {"FunctionName": "reserve", "Payload": '{"sku": "b2"}'}, None)
    assert response["Payload"]["event"] == {"sku": "b2"}


def test_a_payload_string_that_is_not_json_arrives_as_the_string(invoker: Invoker) -> None:
    response = invoker(INVOKE, {"FunctionName": "reserve", "Payload": "plain words"}, None)
    assert response["Payload"]["event"] == "plain words"


def test_no_payload_sends_an_empty_object(invoker: Invoker) -> None:
    response = invoker(INVOKE, {"FunctionName": "reserve"}, None)
    assert response["Payload"]["event"] == {}


@pytest.mark.parametrize(
    ("function", "arn"),
    [
        ("reserve", f"{FN}:reserve"),
        ("reserve:prod", f"{FN}:reserve:prod"),
        ("123456789012:function:reserve", f"{FN}:reserve"),
        (f"{FN}:reserve", f"{FN}:reserve"),
        (f"{FN}:reserve:7", f"{FN}:reserve:7"),
    ],
)
def test_every_function_name_form_reaches_the_function(
    invoker: Invoker, function: str, arn: str
) -> None:
    payload = invoker(INVOKE, {"FunctionName": function, "Payload": 1}, None)["Payload"]
    assert payload == {"event": 1, "function": "reserve", "arn": arn}


@pytest.mark.parametrize("payload", [{"Payload": {}}, None, ["reserve"]])
def test_missing_function_name_is_a_runtime_error(invoker: Invoker, payload: Any) -> None:
    error = fails(invoker, INVOKE, payload)
    assert error.error == "States.Runtime"
    assert "'FunctionName' is required" in (error.cause or "")


def test_unknown_function_through_lambda_invoke(invoker: Invoker) -> None:
    error = fails(invoker, INVOKE, {"FunctionName": "refund", "Payload": {}})
    assert error.error == "Lambda.ResourceNotFoundException"
    assert (error.cause or "").startswith(
        f"Function not found: {FN}:refund:$LATEST (Service: AWSLambda; Status Code: 404; "
        "Error Code: ResourceNotFoundException; Request ID: "
    )


def test_unknown_qualified_function_keeps_its_qualifier(invoker: Invoker) -> None:
    error = fails(invoker, INVOKE, {"FunctionName": "refund:live"})
    assert (error.cause or "").startswith(f"Function not found: {FN}:refund:live (")


def test_a_handler_error_through_lambda_invoke_has_a_compact_cause(invoker: Invoker) -> None:
    error = fails(invoker, INVOKE, {"FunctionName": "reserve", "Payload": {"sku": "none"}})
    assert error.error == "OutOfStock"
    assert (error.cause or "").startswith('{"errorMessage":"sku none has 0 units",')


# ----- custom integrations --------------------------------------------------------------


def test_a_custom_integration_handles_its_prefix(invoker: Invoker) -> None:
    sent: list[tuple[str, Any, float | None]] = []

    def sqs(resource: str, payload: Any, timeout: float | None) -> Any:
        sent.append((resource, payload, timeout))
        return {"MessageId": "m-1"}

    invoker.add("arn:aws:states:::sqs:", sqs)
    resource = "arn:aws:states:::sqs:sendMessage"
    assert invoker(resource, {"MessageBody": "hi"}, 5.0) == {"MessageId": "m-1"}
    assert sent == [(resource, {"MessageBody": "hi"}, 5.0)]


def test_the_longest_prefix_wins_whatever_the_order_added(invoker: Invoker) -> None:
    invoker.add("arn:aws:states:::sqs:sendMessage.waitForTaskToken", lambda r, p, t: "callback")
    invoker.add("arn:aws:states:::sqs:", lambda r, p, t: "plain")
    assert invoker("arn:aws:states:::sqs:sendMessage", {}, None) == "plain"
    assert invoker("arn:aws:states:::sqs:sendMessage.waitForTaskToken", {}, None) == "callback"


def test_a_longer_prefix_overrides_the_builtin_lambda_invoke(invoker: Invoker) -> None:
    invoker.add(f"{INVOKE}.waitForTaskToken", lambda r, p, t: "token")
    assert invoker(f"{INVOKE}.waitForTaskToken", {"FunctionName": "reserve"}, None) == "token"
    assert invoker(INVOKE, {"FunctionName": "reserve"}, None)["StatusCode"] == 200


def test_adding_the_same_prefix_again_replaces_it(invoker: Invoker) -> None:
    invoker.add(INVOKE, lambda r, p, t: "mine")
    assert invoker(INVOKE, {"FunctionName": "reserve"}, None) == "mine"
    invoker.add("arn:aws:states:::sns:", lambda r, p, t: "first")
    invoker.add("arn:aws:states:::sns:", lambda r, p, t: "second")
    assert invoker("arn:aws:states:::sns:publish", {}, None) == "second"


def test_a_custom_integration_may_take_over_lambda_arns(invoker: Invoker) -> None:
    invoker.add("arn:aws:lambda:", lambda r, p, t: {"remote": r})
    assert invoker(f"{FN}:anything", {}, None) == {"remote": f"{FN}:anything"}
    assert invoker("reserve", 1, None)["event"] == 1  # bare names still go to local handlers
