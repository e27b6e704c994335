"""TestState's TRACE inspection of an HTTP Task, with and without revealSecrets: a real
`stepline server` whose config holds a connection, calling a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import client, start_server
from workers.local_cluster import free_port

CONFIG = """
[connections.billing]
authorization_type = "API_KEY"
api_key_name = "X-Api-Key"
api_key_value = "k-123-secret"
[connections.billing.query]
tenant = "acme-secret"
"""


class Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder: Path = tmp_path_factory.mktemp("trace")
    (folder / "stepline.toml").write_text(CONFIG)
    running = start_server(folder)
    yield client(running.url)
    running.stop()


def http_state(url: str) -> str:
    return json.dumps({
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke", "End": True,
        "Parameters": {"ApiEndpoint": f"{url}/orders", "Method": "GET",
                       "QueryParameters": {"page": "2"},
                       "Authentication": {"ConnectionArn": "billing"}},
        "ResultSelector": {"body.$": "$.ResponseBody"}})


def test_trace_shows_the_request_without_the_connections_secrets(sfn: Any, echo_url: str) -> None:
    result = sfn.test_state(definition=http_state(echo_url), input="{}", inspectionLevel="TRACE")
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"body": {"path": "/orders?page=2&tenant=acme-secret"}}
    request, response = result["inspectionData"]["request"], result["inspectionData"]["response"]
    assert (request["method"], request["protocol"]) == ("GET", "http")
    assert request["url"] == f"{echo_url}/orders?page=2"
    assert "X-Api-Key" not in json.loads(request["headers"])
    assert (response["statusCode"], response["statusMessage"]) == ("200", "OK")
    assert json.loads(response["body"]) == {"path": "/orders?page=2&tenant=acme-secret"}


def test_reveal_secrets_shows_the_request_as_sent(sfn: Any, echo_url: str) -> None:
    result = sfn.test_state(definition=http_state(echo_url), input="{}", inspectionLevel="TRACE",
                            revealSecrets=True)
    request = result["inspectionData"]["request"]
    assert request["url"] == f"{echo_url}/orders?page=2&tenant=acme-secret"
    assert json.loads(request["headers"])["X-Api-Key"] == "k-123-secret"


def test_debug_shows_no_http_exchange(sfn: Any, echo_url: str) -> None:
    result = sfn.test_state(definition=http_state(echo_url), input="{}", inspectionLevel="DEBUG")
    assert "request" not in result["inspectionData"]
    assert json.loads(result["inspectionData"]["afterResultSelector"])["body"]["path"]
