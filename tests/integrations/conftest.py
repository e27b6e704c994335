"""Real local servers for the integration tests: moto's standalone AWS server and a small
HTTP server that records what it receives and answers what a test scripted."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from integrations.settings import IntegrationSettings
from scheduler.engine.engine import EngineSettings
from scheduler.runtime import EmbeddedRuntime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's standalone server (the same HTTP API as AWS), on a free port."""
    server_module = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials for boto3 and no profile files: tests never reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def runtime_for() -> Iterator[Callable[[IntegrationSettings], EmbeddedRuntime]]:
    """Embedded runtimes whose invoker uses the given integration settings."""
    made: list[EmbeddedRuntime] = []

    def make(settings: IntegrationSettings) -> EmbeddedRuntime:
        runtime = EmbeddedRuntime(settings=EngineSettings(time_scale=0.01))
        runtime.invoker.configure(settings)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


@dataclass
class Recorded:
    """One request the HTTP server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class ScriptedServer:
    """An HTTP server: `replies[path]` says how to answer; `requests` records each call."""

    url: str
    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def last(self) -> Recorded:
        return self.requests[-1]


def _handler(state: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                Recorded(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
            )
            reply = state.replies.get(self.path.split("?", 1)[0], Reply())
            if reply.delay:
                threading.Event().wait(reply.delay)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    """A local HTTP server started for the test."""
    port = free_port()
    state = ScriptedServer(f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
