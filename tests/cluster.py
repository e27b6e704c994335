"""Real processes for the distributed configuration: a redis-server on a free port, Celery
worker processes and the scheduler process, and a runtime facade over them that tests
use exactly like the embedded runtime (`run`, `start`, `wait`, `history`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis

from scheduler.arns import Account
from scheduler.config import load_settings
from scheduler.engine.engine import Engine
from scheduler.engine.history import to_aws_event
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, StateMachineType
from workers.runtime import WorkerRuntime, build_runtime

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A private redis-server (never the machine's shared one)."""

    def __init__(self, folder: Path, appendonly: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(self.folder),
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self, kill: bool = False) -> None:
        if self.process is not None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(10)
            self.process = None


class Cluster:
    """Worker and scheduler processes against one Redis."""

    def __init__(self, redis_url: str, log_folder: Path, env: Mapping[str, str]) -> None:
        self.redis_url = redis_url
        self.log_folder = log_folder
        self.env = {**os.environ, **env, "REDIS_URL": redis_url}
        self.workers: list[subprocess.Popen[bytes]] = []
        self.scheduler: subprocess.Popen[bytes] | None = None

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.log_folder.mkdir(parents=True, exist_ok=True)
        log = open(self.log_folder / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        return subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, concurrency: int = 1) -> subprocess.Popen[bytes]:
        name = f"worker{len(self.workers)}"
        process = self._spawn(
            name, ["worker", "--concurrency", str(concurrency), "--loglevel", "WARNING"]
        )
        self.workers.append(process)
        return process

    def start_scheduler(self) -> None:
        self.scheduler = self._spawn("scheduler", ["scheduler"])

    @staticmethod
    def kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Kill a process and its children (a Celery worker's pool processes)."""
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(20)

    def stop(self) -> None:
        for process in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            if process.poll() is None:
                self.kill(process, signal.SIGTERM)
        self.workers.clear()
        self.scheduler = None


class ClusterRuntime:
    """Starts executions on the cluster and waits for them, like EmbeddedRuntime."""

    def __init__(self, redis_url: str, env: Mapping[str, str]) -> None:
        for key, value in env.items():
            os.environ.setdefault(key, value)
        settings = load_settings(redis_url=redis_url)
        self.runtime: WorkerRuntime = build_runtime(settings)
        self.engine: Engine = self.runtime.engine
        self.store = self.runtime.store
        self.account = Account(settings.region, settings.account)

    def start(
        self,
        definition: str | dict[str, Any],
        input_value: Any = None,
        *,
        name: str | None = None,
        machine_name: str = "stepline",
        role_arn: str = "",
        type_: StateMachineType = StateMachineType.STANDARD,
    ) -> ExecutionRecord:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        execution_name = name or str(uuid.uuid4())
        if type_ == StateMachineType.EXPRESS:
            arn = self.account.express_execution(machine_name, execution_name, str(uuid.uuid4()))
        else:
            arn = self.account.execution(machine_name, execution_name)
        record = self.engine.start_execution(
            arn=arn,
            name=execution_name,
            state_machine_arn=self.account.state_machine(machine_name),
            definition=text,
            input_value={} if input_value is None else input_value,
            role_arn=role_arn,
            type_=type_,
        )
        assert record is not None
        return record

    def wait(self, record: ExecutionRecord, timeout: float | None = 60) -> ExecutionRecord:
        deadline = time.monotonic() + (timeout or 60)
        while True:
            current = self.store.get_execution(record.arn)
            assert current is not None
            if current.status != ExecutionStatus.RUNNING or time.monotonic() > deadline:
                return current
            time.sleep(0.003)

    def run(
        self,
        definition: str | dict[str, Any],
        input_value: Any = None,
        *,
        timeout: float | None = 60,
        **options: Any,
    ) -> ExecutionRecord:
        return self.wait(self.start(definition, input_value, **options), timeout)

    def history(self, record: ExecutionRecord) -> list[dict[str, Any]]:
        return [to_aws_event(event) for event in self.store.history(record.arn)]

    def close(self) -> None:
        """Nothing to release: the processes belong to the Cluster."""
