"""The protocol as a client sees it: targets, bodies, AWS error shapes, health, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from scheduler.api import ACTIONS, create_app
from scheduler.api import app as app_module
from scheduler.api.metrics import Metrics
from scheduler.api.shapes import operation_names
from scheduler.service import EmbeddedEngine, build_service

ROLE = "arn:aws:iam::123456789012:role/r"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


@pytest.fixture
def engine() -> Iterator[EmbeddedEngine]:
    running = EmbeddedEngine()
    running.start()
    yield running
    running.close()


@pytest.fixture
def client(engine: EmbeddedEngine) -> TestClient:
    metrics = Metrics()
    engine.subscribe(metrics.execution_ended)
    return TestClient(create_app(build_service(engine), metrics=metrics, ready=engine.ready))


def call(client: TestClient, action: str, body: Any = None, raw: bytes | None = None) -> Any:
    content = raw if raw is not None else json.dumps(body or {}).encode()
    return client.post(
        "/",
        content=content,
        headers={"X-Amz-Target": f"AWSStepFunctions.{action}",
                 "Content-Type": "application/x-amz-json-1.0"},
    )


def test_every_served_action_is_an_action_of_the_service() -> None:
    assert set(ACTIONS) <= set(operation_names())


def test_success_is_json_with_aws_content_type_and_request_id(client: TestClient) -> None:
    response = call(client, "CreateStateMachine", {"name": "m", "definition": PASS,
                                                   "roleArn": ROLE})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    assert response.headers["x-amzn-requestid"]
    body = response.json()
    assert body["stateMachineArn"].endswith(":stateMachine:m")
    assert isinstance(body["creationDate"], float)


@pytest.mark.parametrize(
    ("target", "code"),
    [(None, "UnknownOperationException"), ("AWSStepFunctions.Nope", "UnknownOperationException"),
     ("Other.ListActivities", "UnknownOperationException"),
     ("AWSStepFunctions.ListMapRuns", "UnsupportedOperation")],
)
def test_unknown_and_unsupported_actions(client: TestClient, target: str | None,
                                         code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every action of the service is served now: take one away to see the answer.
    monkeypatch.delitem(app_module.ACTIONS, "ListMapRuns")
    headers = {"X-Amz-Target": target} if target else {}
    response = client.post("/", content=b"{}", headers=headers)
    assert response.status_code == 400
    assert response.json()["__type"] == code and response.json()["message"]


def test_a_body_that_is_not_a_json_object(client: TestClient) -> None:
    for raw in (b"{nope", b"[1]"):
        response = call(client, "ListActivities", raw=raw)
        assert response.status_code == 400
        assert response.json()["__type"] == "SerializationException"


def test_members_of_the_wrong_type(client: TestClient) -> None:
    response = call(client, "ListActivities", {"maxResults": "ten"})
    assert response.json()["__type"] == "SerializationException"
    response = call(client, "GetExecutionHistory", {"executionArn": "a", "reverseOrder": 1})
    assert response.json()["__type"] == "SerializationException"


def test_missing_members_and_constraints_are_validation_exceptions(client: TestClient) -> None:
    response = call(client, "CreateStateMachine", {"name": "x" * 81, "definition": PASS})
    body = response.json()
    assert response.status_code == 400 and body["__type"] == "ValidationException"
    assert body["message"].startswith("2 validation errors detected: ")
    assert "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in (
        body["message"])
    assert "Member must have length less than or equal to 80" in body["message"]
    response = call(client, "CreateStateMachine", {"name": "m", "definition": PASS,
                                                   "roleArn": ROLE, "type": "FAST"})
    assert "Member must satisfy enum value set: [STANDARD, EXPRESS]" in response.json()["message"]
    response = call(client, "ListActivities", {"maxResults": 5000})
    assert "less than or equal to 1000" in response.json()["message"]


def test_sensitive_values_are_not_echoed(client: TestClient) -> None:
    response = call(client, "ValidateStateMachineDefinition", {"definition": ""})
    message = response.json()["message"]
    assert "Value at 'definition' failed to satisfy constraint" in message


def test_service_errors_keep_their_aws_code_and_extra_members(client: TestClient) -> None:
    created = call(client, "CreateStateMachine", {"name": "m", "definition": PASS,
                                                  "roleArn": ROLE}).json()
    tags = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    response = call(client, "TagResource", {"resourceArn": created["stateMachineArn"],
                                            "tags": tags})
    assert response.json() == {"__type": "TooManyTags", "message": response.json()["message"],
                               "resourceName": "m"}


def test_oversized_request_bodies_are_refused(client: TestClient) -> None:
    response = call(client, "ListActivities", raw=b" " * (5 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["__type"] == "RequestEntityTooLargeException"


def test_an_internal_error_has_no_stack_trace(client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: Any, body: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setitem(ACTIONS, "ListActivities", broken)
    response = call(client, "ListActivities", {})
    assert response.status_code == 500
    assert response.json()["__type"] == "InternalServerError"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_health_readiness_and_metrics(client: TestClient, engine: EmbeddedEngine) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    created = call(client, "CreateStateMachine", {"name": "m", "definition": PASS,
                                                  "roleArn": ROLE}).json()
    started = call(client, "StartExecution", {"stateMachineArn": created["stateMachineArn"]})
    engine.wait(started.json()["executionArn"], 5)
    call(client, "DescribeActivity", {"activityArn": "bad"})
    text = client.get("/metrics").text
    assert 'stepline_api_requests_total{action="StartExecution",result="OK"} 1.0' in text
    assert 'stepline_api_requests_total{action="DescribeActivity",result="InvalidArn"} 1.0' in text
    assert 'stepline_executions_started_total{type="STANDARD"} 1.0' in text
    assert 'stepline_executions_finished_total{status="SUCCEEDED",type="STANDARD"} 1.0' in text
    engine.close()
    assert client.get("/readyz").status_code == 503


def test_validate_definition_reports_diagnostics(client: TestClient) -> None:
    bad = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    body = call(client, "ValidateStateMachineDefinition", {"definition": bad}).json()
    assert body["result"] == "FAIL" and body["truncated"] is False
    assert body["diagnostics"][0]["code"] == "MISSING_TRANSITION_TARGET"
    assert body["diagnostics"][0]["location"] == "/States/A/Next"
    ok = call(client, "ValidateStateMachineDefinition", {"definition": PASS}).json()
    assert ok == {"result": "OK", "diagnostics": [], "truncated": False}
