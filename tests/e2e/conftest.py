"""A real `stepline server` process on a free port, and clients pointed at it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/stepline"
HANDLERS = '''
def double(event, context):
    return {"n": event["n"] * 2}


class OutOfStock(Exception):
    pass


def reserve(event, context):
    raise OutOfStock(f"no {event['item']} left")
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running `stepline server`."""

    process: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_server(tmp: Path, *extra: str) -> Server:
    """Start `stepline server` and wait until /healthz answers."""
    handlers = tmp / "shop.py"
    handlers.write_text(HANDLERS)
    port = free_port()
    log = tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPLINE_", "REDIS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "server", "--port", str(port),
         "--handlers", str(handlers), *extra],
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, cwd=tmp, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stepline server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return Server(process, url, log)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"stepline server did not come up:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sfn(server: Server) -> Any:
    """boto3's Step Functions client, pointed at the server (no host prefix for sync-)."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
    )


_counter = iter(range(1_000_000))


def unique(prefix: str) -> str:
    """A name no other test uses (the server lives for the whole session)."""
    return f"{prefix}-{next(_counter)}"


def definition(**states: Any) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


def wait_until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
