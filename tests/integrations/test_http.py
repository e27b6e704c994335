"""`http:invoke` against a real local HTTP server: requests, auth from named connections,
response shape, AWS's error names, and a full execution with Retry and Catch."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from integrations.connections import parse_connections
from integrations.http import HTTP_INVOKE, build_request, form_encode
from integrations.invoke import Invoker
from integrations.settings import IntegrationSettings
from scheduler.asl.errors import StatesError
from scheduler.runtime import EmbeddedRuntime
from tests.integrations.conftest import Reply, ScriptedServer

CONNECTIONS = {
    "basic": {"authorization_type": "BASIC", "username": "svc", "password": "pa55-w0rd"},
    "apikey": {
        "authorization_type": "API_KEY",
        "api_key_name": "X-Api-Key",
        "api_key_value": "k-123-secret",
        "headers": {"Header-Param": "connection_header_param"},
        "query": {"QueryParam": "connection_query_param"},
        "body": {"BodyParam": "connection_body_param"},
    },
}
ARN = "arn:aws:events:us-east-1:123456789012:connection/{}/81210c42-8af1-456b-9c4a-6ff02fc664ac"


def invoker_with(connections: dict[str, Any]) -> Invoker:
    settings = IntegrationSettings(connections=parse_connections(connections, {}))
    return Invoker(integrations=settings)


def call(invoker: Invoker, payload: dict[str, Any]) -> Any:
    return invoker(HTTP_INVOKE, payload, None)


def fails(invoker: Invoker, payload: dict[str, Any]) -> StatesError:
    with pytest.raises(StatesError) as caught:
        call(invoker, payload)
    return caught.value


# ----- request building (no network) ------------------------------------------------------


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", "array%5B0%5D=a&array%5B1%5D=b"),
        ("REPEAT", "array=a&array=b"),
        ("COMMAS", "array=a%2Cb"),
        ("BRACKETS", "array%5B%5D=a&array%5B%5D=b"),
    ],
)
def test_form_encoding_of_arrays_follows_the_array_format(array_format: str, expected: str) -> None:
    assert form_encode({"array": ["a", "b"]}, array_format) == expected


def test_form_encoding_nests_objects_and_encodes_spaces_as_aws_does() -> None:
    body = {"description": "Monthly subscription", "metadata": {"order_details": "monthly"}}
    assert form_encode(body) == (
        "description=Monthly%20subscription&metadata%5Border_details%5D=monthly"
    )


@pytest.mark.parametrize("header", ["Authorization", "host", "X-Amz-Date", "x-forwarded-for"])
def test_forbidden_headers_fail_with_states_runtime(header: str) -> None:
    with pytest.raises(StatesError) as caught:
        build_request(
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Headers": {header: "v"}}, None
        )
    assert caught.value.error == "States.Runtime"
    assert header in str(caught.value.cause)


@pytest.mark.parametrize(
    "payload",
    [
        {"ApiEndpoint": "ftp://x.test", "Method": "GET"},
        {"ApiEndpoint": "https://x.test", "Method": "BREW"},
        {"ApiEndpoint": "https://x.test", "Method": "GET",
         "Transform": {"RequestBodyEncoding": "X"}},
    ],
)
def test_invalid_parameters_fail_with_states_runtime(payload: dict[str, Any]) -> None:
    with pytest.raises(StatesError) as caught:
        build_request(payload, None)
    assert caught.value.error == "States.Runtime"


# ----- against a real server ---------------------------------------------------------------


def test_get_returns_the_response_as_aws_shapes_it(http_server: ScriptedServer) -> None:
    http_server.replies["/v1/customers"] = Reply(body=b'{"data": [1, 2]}', headers={"X-Id": "7"})
    result = call(
        Invoker(integrations=IntegrationSettings()),
        {
            "ApiEndpoint": f"{http_server.url}/v1/customers",
            "Method": "GET",
            "QueryParameters": {"currency": "usd", "tags": ["a", "b"]},
            "Headers": {"Request-Id": "r-1"},
        },
    )
    assert result["StatusCode"] == 200 and result["StatusText"] == "OK"
    assert result["ResponseBody"] == {"data": [1, 2]}
    assert result["Headers"]["x-id"] == ["7"]
    assert result["Headers"]["content-type"] == ["application/json"]
    request = http_server.last()
    assert request.path == "/v1/customers?currency=usd&tags=a&tags=b"
    assert request.headers["Request-Id"] == "r-1"
    assert request.headers["Range"] == "bytes=0-262144"
    assert request.headers["User-Agent"].startswith("Stepline|HttpInvoke|us-east-1")


def test_text_responses_stay_text(http_server: ScriptedServer) -> None:
    http_server.replies["/t"] = Reply(body=b"plain words", content_type="text/plain")
    result = call(Invoker(integrations=IntegrationSettings()),
                  {"ApiEndpoint": f"{http_server.url}/t", "Method": "GET"})
    assert result["ResponseBody"] == "plain words"


def test_post_sends_json_and_url_encoded_bodies(http_server: ScriptedServer) -> None:
    invoker = Invoker(integrations=IntegrationSettings())
    endpoint = f"{http_server.url}/v1/invoices"
    call(invoker, {"ApiEndpoint": endpoint, "Method": "POST", "RequestBody": {"a": [1, "x"]}})
    assert http_server.last().body == b'{"a":[1,"x"]}'
    assert http_server.last().headers["Content-Type"] == "application/json; charset=UTF-8"
    call(invoker, {
        "ApiEndpoint": endpoint, "Method": "POST",
        "Headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "RequestBody": {"customer": "c 1", "items": ["a", "b"]},
        "Transform": {"RequestBodyEncoding": "URL_ENCODED",
                      "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}},
    })
    assert http_server.last().body == b"customer=c%201&items%5B%5D=a&items%5B%5D=b"
    assert http_server.last().headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_basic_auth_comes_from_the_named_connection(http_server: ScriptedServer) -> None:
    invoker = invoker_with(CONNECTIONS)
    call(invoker, {"ApiEndpoint": f"{http_server.url}/x", "Method": "GET",
                   "Authentication": {"ConnectionArn": ARN.format("basic")}})
    expected = "Basic " + base64.b64encode(b"svc:pa55-w0rd").decode()
    assert http_server.last().headers["Authorization"] == expected


def test_api_key_connection_merges_and_wins_as_aws_documents(http_server: ScriptedServer) -> None:
    invoker = invoker_with(CONNECTIONS)
    call(invoker, {
        "ApiEndpoint": f"{http_server.url}/path", "Method": "POST",
        "InvocationConfig": {"ConnectionArn": ARN.format("apikey")},
        "Headers": {"Request-Id": "my_request_id", "Header-Param": "state_machine_header_param"},
        "RequestBody": {"Job": "Engineer", "BodyParam": "state_machine_body_param"},
        "QueryParameters": {"QueryParam": "state_machine_query_param"},
    })
    request = http_server.last()
    assert request.path == "/path?QueryParam=connection_query_param"
    assert request.headers["X-Api-Key"] == "k-123-secret"
    assert request.headers["Header-Param"] == "connection_header_param"
    assert request.headers["Request-Id"] == "my_request_id"
    assert request.json() == {"Job": "Engineer", "BodyParam": "connection_body_param"}


def test_a_string_body_cannot_merge_with_connection_body(http_server: ScriptedServer) -> None:
    error = fails(invoker_with(CONNECTIONS), {
        "ApiEndpoint": f"{http_server.url}/x", "Method": "POST", "RequestBody": "raw",
        "Authentication": {"ConnectionArn": ARN.format("apikey")},
    })
    assert error.error == "States.Runtime"
    assert http_server.requests == []


def test_oauth_client_credentials_fetches_and_caches_a_token(http_server: ScriptedServer) -> None:
    http_server.replies["/oauth/token"] = Reply(
        body=b'{"access_token": "tok-1", "expires_in": 3600, "token_type": "Bearer"}'
    )
    invoker = invoker_with({"oauth": {
        "authorization_type": "OAUTH_CLIENT_CREDENTIALS",
        "authorization_endpoint": f"{http_server.url}/oauth/token",
        "client_id": "cid", "client_secret": "csecret", "oauth_body": {"scope": "read"},
    }})
    payload = {"ApiEndpoint": f"{http_server.url}/api", "Method": "GET",
               "Authentication": {"ConnectionArn": "oauth"}}
    call(invoker, payload)
    call(invoker, payload)
    token_requests = [r for r in http_server.requests if r.path.startswith("/oauth")]
    assert len(token_requests) == 1
    assert token_requests[0].body == b"grant_type=client_credentials&scope=read"
    assert token_requests[0].headers["Authorization"] == "Basic " + base64.b64encode(
        b"cid:csecret").decode()
    assert http_server.last().headers["Authorization"] == "Bearer tok-1"


def test_a_refused_oauth_token_is_an_invalid_connection_state(http_server: ScriptedServer) -> None:
    http_server.replies["/oauth/token"] = Reply(status=401, body=b'{"error": "invalid_client"}')
    invoker = invoker_with({"oauth": {
        "authorization_type": "OAUTH_CLIENT_CREDENTIALS",
        "authorization_endpoint": f"{http_server.url}/oauth/token",
        "client_id": "cid", "client_secret": "csecret",
    }})
    error = fails(invoker, {"ApiEndpoint": f"{http_server.url}/api", "Method": "GET",
                            "Authentication": {"ConnectionArn": "oauth"}})
    assert error.error == "Events.ConnectionResource.InvalidConnectionState"
    assert "csecret" not in str(error.cause)


def test_an_unknown_connection_is_resource_not_found(http_server: ScriptedServer) -> None:
    error = fails(invoker_with({}), {"ApiEndpoint": f"{http_server.url}/x", "Method": "GET",
                                     "Authentication": {"ConnectionArn": ARN.format("nope")}})
    assert error.error == "Events.ConnectionResource.ResourceNotFound"
    assert "'nope'" in str(error.cause)


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_non_2xx_fails_with_the_status_code_error(http_server: ScriptedServer, status: int) -> None:
    http_server.replies["/x"] = Reply(status=status, body=b'{"message": "nope"}')
    error = fails(Invoker(integrations=IntegrationSettings()),
                  {"ApiEndpoint": f"{http_server.url}/x", "Method": "GET"})
    assert error.error == f"States.Http.StatusCode.{status}"
    cause = json.loads(str(error.cause))
    assert cause["StatusCode"] == status and cause["ResponseBody"] == {"message": "nope"}


def test_no_server_is_a_socket_error() -> None:
    from tests.integrations.conftest import free_port

    error = fails(Invoker(integrations=IntegrationSettings()),
                  {"ApiEndpoint": f"http://127.0.0.1:{free_port()}/x", "Method": "GET"})
    assert error.error == "States.Http.Socket"


def test_a_slow_server_times_out_as_a_socket_error(http_server: ScriptedServer) -> None:
    http_server.replies["/slow"] = Reply(delay=1.0)
    with pytest.raises(StatesError) as caught:
        Invoker(integrations=IntegrationSettings())(
            HTTP_INVOKE, {"ApiEndpoint": f"{http_server.url}/slow", "Method": "GET"}, 0.2
        )
    assert caught.value.error == "States.Http.Socket"


def test_binary_responses_fail_with_states_runtime(http_server: ScriptedServer) -> None:
    http_server.replies["/img"] = Reply(body=b"\x89PNG", content_type="image/png")
    error = fails(Invoker(integrations=IntegrationSettings()),
                  {"ApiEndpoint": f"{http_server.url}/img", "Method": "GET"})
    assert error.error == "States.Runtime"


def test_callback_forms_are_refused_clearly() -> None:
    with pytest.raises(StatesError) as caught:
        Invoker(integrations=IntegrationSettings())(
            HTTP_INVOKE + ".waitForTaskToken", {"ApiEndpoint": "https://x.test", "Method": "GET"},
            None,
        )
    assert caught.value.error == "States.Runtime"


# ----- through a full execution ------------------------------------------------------------


def machine(endpoint: str) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": HTTP_INVOKE,
                "Parameters": {
                    "ApiEndpoint.$": "States.Format('" + endpoint + "/{}', $.id)",
                    "Method": "GET",
                    "Authentication": {"ConnectionArn": ARN.format("basic")},
                },
                "ResultSelector": {"body.$": "$.ResponseBody", "status.$": "$.StatusCode"},
                "Retry": [{"ErrorEquals": ["States.Http.StatusCode.503"],
                           "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "Missing"}],
                "End": True,
            },
            "Missing": {"Type": "Pass", "Result": "missing", "End": True},
        },
    }


def test_an_execution_calls_the_api_with_the_connection(
    http_server: ScriptedServer,
    runtime_for: Callable[[IntegrationSettings], EmbeddedRuntime],
) -> None:
    http_server.replies["/items/7"] = Reply(body=b'{"id": 7}')
    runtime = runtime_for(IntegrationSettings(connections=parse_connections(CONNECTIONS, {})))
    record = runtime.run(machine(f"{http_server.url}/items"), {"id": 7}, timeout=10)
    assert record.status.value == "SUCCEEDED", record.cause
    assert record.output == {"body": {"id": 7}, "status": 200}
    history = json.dumps(runtime.history(record))
    assert "pa55-w0rd" not in history and base64.b64encode(b"svc:pa55-w0rd").decode() not in history


def test_an_execution_catches_a_404_and_retries_a_503(
    http_server: ScriptedServer,
    runtime_for: Callable[[IntegrationSettings], EmbeddedRuntime],
) -> None:
    http_server.replies["/items/1"] = Reply(status=404)
    http_server.replies["/items/2"] = Reply(status=503)
    runtime = runtime_for(IntegrationSettings(connections=parse_connections(CONNECTIONS, {})))
    caught = runtime.run(machine(f"{http_server.url}/items"), {"id": 1}, timeout=10)
    assert caught.status.value == "SUCCEEDED" and caught.output == "missing"
    failed = runtime.run(machine(f"{http_server.url}/items"), {"id": 2}, timeout=10)
    assert failed.status.value == "FAILED"
    assert failed.error == "States.Http.StatusCode.503"
    assert len([r for r in http_server.requests if r.path == "/items/2"]) == 3


def test_connection_secrets_never_reach_the_logs(
    http_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    invoker = invoker_with({"q": {"authorization_type": "API_KEY", "api_key_name": "X-Key",
                                  "api_key_value": "hdr-secret",
                                  "query": {"api_key": "query-secret"}}})
    with caplog.at_level("DEBUG"):
        call(invoker, {"ApiEndpoint": f"{http_server.url}/x", "Method": "GET",
                       "Authentication": {"ConnectionArn": "q"}})
    assert http_server.last().path == "/x?api_key=query-secret"
    assert "query-secret" not in caplog.text and "hdr-secret" not in caplog.text
