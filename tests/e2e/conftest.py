"""Real `stepline server` / `stepline api` processes on free ports, and clients pointed at
them: the embedded server, and the Redis + Celery configurations on a private
redis-server with real worker processes (workers/local_cluster.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.config import Config

from workers.local_cluster import Cluster, RedisServer, free_port

ROLE = "arn:aws:iam::123456789012:role/stepline"
HANDLERS = '''
def double(event, context):
    return {"n": event["n"] * 2}


class OutOfStock(Exception):
    pass


def reserve(event, context):
    raise OutOfStock(f"no {event['item']} left")


def flaky_once(event, context):
    if event["redrives"] == 0:
        raise OutOfStock("not yet")
    return {"redrives": event["redrives"]}
'''


#: The configurations every boto3 flow runs against: the embedded `stepline server`;
#: `stepline api` beside a cluster (two `stepline worker` processes and `stepline
#: scheduler`); `stepline server` with REDIS_URL (its own workers and timer thread).
MODES = ["embedded", "api", "server-redis"]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without Stepline's settings (other tests set some), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPLINE_", "REDIS_"))}
    return {**env, **extra}


@dataclass
class Server:
    """A running `stepline server` (or `stepline api`)."""

    process: subprocess.Popen[str]
    url: str
    log: Path
    mode: str = "embedded"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def write_handlers(folder: Path) -> Path:
    handlers = folder / "shop.py"
    handlers.write_text(HANDLERS)
    return handlers


def start_server(
    tmp: Path,
    *extra: str,
    command: str = "server",
    env: dict[str, str] | None = None,
    mode: str = "embedded",
    handlers: bool = True,
) -> Server:
    """Start `stepline server` (or `command`) and wait until /healthz answers."""
    port = free_port()
    log = tmp / f"{command}-{port}.log"
    options = ["--handlers", str(write_handlers(tmp))] if handlers else []
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", command, "--port", str(port), *options, *extra],
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, cwd=tmp,
        env=env if env is not None else clean_env(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stepline {command} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return Server(process, url, log, mode)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"stepline {command} did not come up:\n{log.read_text()}")


def start_cluster(redis: RedisServer, folder: Path, workers: int = 2) -> Cluster:
    """`stepline worker` processes (with the e2e handlers) and `stepline scheduler`."""
    handlers = write_handlers(folder)
    clean = clean_env(STEPLINE_HANDLERS=str(handlers), STEPLINE_PREFETCH="1")
    with mock.patch.dict(os.environ, clean, clear=True):  # Cluster copies os.environ
        cluster = Cluster(redis.url, folder / "logs", {})
    for _ in range(workers):
        cluster.start_worker()
    cluster.start_scheduler()
    return cluster


def wait_ready(url: str, timeout: float = 30) -> None:
    """Wait until /readyz answers 200 (the workers may still be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="session", params=MODES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    """A running server in each configuration, one at a time."""
    mode: str = request.param
    folder = tmp_path_factory.mktemp(mode)
    if mode == "embedded":
        running = start_server(folder)
        yield running
        running.stop()
        return
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisServer(folder / "redis")
    redis.start()
    cluster = start_cluster(redis, folder) if mode == "api" else None
    try:
        env = clean_env(REDIS_URL=redis.url)
        if mode == "api":
            running = start_server(folder, command="api", env=env, mode=mode, handlers=False)
        else:
            running = start_server(folder, "--workers", "2", env=env, mode=mode)
        wait_ready(running.url)
        yield running
        assert running.stop() == 0
    finally:
        if cluster is not None:
            cluster.stop()
        redis.stop()


@pytest.fixture(scope="session")
def sfn(server: Server) -> Any:
    """boto3's Step Functions client, pointed at the server (no host prefix for sync-)."""
    return client(server.url)


def client(url: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
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
