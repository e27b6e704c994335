"""A private cluster for the benchmark, and what it can tell about itself.

`started_cluster` starts a private redis-server on a free port, N Celery worker processes
(`stepline worker --concurrency 1`, prefork pool: a main process and one pool
child each) and the scheduler process (`workers/local_cluster.py`), and builds a client
runtime in this process (`workers.runtime.build_runtime`: the engine to start executions
with, the Redis store to read them back). Nothing touches the machine's shared Redis.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from integrations.registry import HandlerRegistry
from scheduler.config import load_settings
from scheduler.service.engine_redis import START_LINGER_SECONDS
from workers.local_cluster import Cluster, RedisServer
from workers.runtime import WorkerRuntime, build_runtime

HANDLERS_FILE = Path(__file__).resolve().parent / "noop_handlers.py"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PREFIX = "stepline:"
"""Key prefix of every Stepline key in the private Redis."""


@dataclass
class BenchCluster:
    """A running private cluster and a client of it."""

    workers: int
    server: RedisServer
    processes: Cluster
    runtime: WorkerRuntime
    """The client side: `.engine.start_execution`, `.store.get_execution`."""
    poller: Any
    """A Redis client on one connection (pipelines included) for polling, INFO and MEMORY;
    its address is known, so its own commands can be left out of a MONITOR capture."""
    notifier: Any
    """A Redis client for keyspace notifications (the server sends hash events: `Kh`)."""

    @property
    def port(self) -> int:
        """The private redis-server's port."""
        return self.server.port

    def process_tree(self) -> dict[str, int]:
        """Every cluster process by role: `worker0`, `worker0.pool1`, ..., `scheduler`."""
        tree: dict[str, int] = {}
        for number, process in enumerate(self.processes.workers):
            tree[f"worker{number}"] = process.pid
            for index, child in enumerate(child_pids(process.pid), start=1):
                tree[f"worker{number}.pool{index}"] = child
        if self.processes.scheduler is not None:
            tree["scheduler"] = self.processes.scheduler.pid
        return tree

    def cpu_roles(self) -> dict[str, int]:
        """`process_tree` plus the redis-server and this process (`client`)."""
        roles = self.process_tree()
        if self.server.process is not None:
            roles["redis"] = self.server.process.pid
        roles["client"] = os.getpid()
        return roles

    def poller_address(self) -> str:
        """`ip:port` of the poller's connection, as MONITOR shows it."""
        return str(self.poller.client_info()["addr"])


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid` (a Celery worker's pool processes)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(word) for word in text.split()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def status_kib(pid: int, field: str) -> int | None:
    """A `/proc/PID/status` figure in KiB (`VmHWM`: peak RSS, `VmRSS`: current)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def write_config(folder: Path) -> Path:
    """The workers' config file: the no-op handler and nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "stepline.toml"
    config.write_text(f"handler_paths = [{json.dumps(str(HANDLERS_FILE))}]\n")
    return config


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` with `values` set, restored afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def client_runtime(url: str, env: Mapping[str, str]) -> WorkerRuntime:
    """An engine over the private Redis and broker, configured as the API server's is
    (first steps gathered for START_LINGER_SECONDS)."""
    with patched_environ(env):
        settings = load_settings(environ={}, redis_url=url)
        return build_runtime(settings, HandlerRegistry(), START_LINGER_SECONDS)


def wait_for_workers(runtime: WorkerRuntime, count: int, timeout: float) -> None:
    """Block until `count` workers answer a Celery ping (at most `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        replies = runtime.dispatcher.app.control.ping(timeout=0.5) or []
        if len(replies) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(replies)} of {count} workers answered in {timeout} s")
        time.sleep(0.2)


@contextmanager
def started_cluster(
    workers: int, folder: Path, prefetch: int, ready_timeout: float = 60.0
) -> Iterator[BenchCluster]:
    """A private redis-server, `workers` worker processes and the scheduler; stopped after."""
    server = RedisServer(folder / "redis")
    server.start()
    env = {
        "STEPLINE_CONFIG": str(write_config(folder)),
        "STEPLINE_PREFETCH": str(prefetch),
        "STEPLINE_BROKER_URL": server.url,
        "STEPLINE_PREFIX": PREFIX,
    }
    processes = Cluster(server.url, folder / "logs", env)
    poller = redis.Redis(
        connection_pool=redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
            port=server.port, decode_responses=True, max_connections=1
        )
    )
    notifier = redis.Redis(port=server.port, decode_responses=True)
    try:
        for _ in range(workers):
            processes.start_worker(concurrency=1)
        processes.start_scheduler()
        runtime = client_runtime(server.url, env)
        wait_for_workers(runtime, workers, ready_timeout)
        poller.config_set("notify-keyspace-events", "Kh")
        yield BenchCluster(workers, server, processes, runtime, poller, notifier)
    finally:
        processes.stop()
        poller.close()
        notifier.close()
        server.stop()
