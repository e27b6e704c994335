"""A local cluster of real processes: a private redis-server on a free port, Celery
worker processes and the scheduler process. Used by the test suite and the benchmarks
to run the distributed configuration on one machine."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import redis

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
            [sys.executable, "-m", "scheduler.cli", *args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(
        self, concurrency: int = 1, queues: str | None = None
    ) -> subprocess.Popen[bytes]:
        name = f"worker{len(self.workers)}"
        args = ["worker", "--concurrency", str(concurrency), "--loglevel", "WARNING"]
        if queues:
            args += ["--queues", queues]
        process = self._spawn(name, args)
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
