"""Crash tests with real processes: SIGKILL workers and the scheduler, restart Redis.

Each test gets its own redis-server and processes. Every execution must finish with the
right output, with no state applied twice (one StateEntered per real entry) and none
lost. Steps lost with a killed worker come back through the outbox sweep (a short lease
here, STEPLINE_LEASE_SECONDS).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.engine.records import ExecutionStatus
from tests.cluster import ClusterRuntime
from workers.local_cluster import Cluster, RedisServer

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:slow_add"


def task_chain(n: int) -> dict[str, Any]:
    states: dict[str, Any] = {
        f"T{i}": {"Type": "Task", "Resource": LAMBDA, "Next": f"T{i + 1}"} for i in range(n)
    }
    states[f"T{n - 1}"] = {"Type": "Task", "Resource": LAMBDA, "End": True}
    return {"StartAt": "T0", "States": states}


def entered_once_each(runtime: ClusterRuntime, record: Any) -> list[str]:
    names = [
        e["stateEnteredEventDetails"]["name"]
        for e in runtime.history(record)
        if e["type"].endswith("StateEntered")
    ]
    return names


@pytest.fixture
def crash_env(cluster_env: dict[str, str]) -> dict[str, str]:
    return {**cluster_env, "STEPLINE_LEASE_SECONDS": "2"}


@pytest.fixture
def private_cluster(
    tmp_path: Path, crash_env: dict[str, str]
) -> Iterator[tuple[RedisServer, Cluster, ClusterRuntime]]:
    server = RedisServer(tmp_path / "redis", appendonly=True)
    server.start()
    processes = Cluster(server.url, tmp_path / "logs", crash_env)
    processes.start_worker()
    processes.start_worker()
    processes.start_scheduler()
    runtime = ClusterRuntime(server.url, crash_env)
    try:
        yield server, processes, runtime
    finally:
        processes.stop()
        server.stop()


def wait_until(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sigkill_a_worker_during_a_50_state_execution(
    private_cluster: tuple[RedisServer, Cluster, ClusterRuntime],
) -> None:
    _, processes, runtime = private_cluster
    record = runtime.start(task_chain(50), {"n": 0, "pause": 0.03})
    wait_until(lambda: (runtime.store.get_execution(record.arn) or record).transitions >= 10)
    processes.kill(processes.workers[0])
    processes.start_worker()
    final = runtime.wait(record, timeout=60)
    assert final.status == ExecutionStatus.SUCCEEDED, (final.error, final.cause)
    assert final.output == {"n": 50, "pause": 0.03}
    names = entered_once_each(runtime, final)
    assert names == [f"T{i}" for i in range(50)]


def test_sigkill_a_worker_during_a_200_item_map(
    private_cluster: tuple[RedisServer, Cluster, ClusterRuntime],
) -> None:
    _, processes, runtime = private_cluster
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "End": True,
                "MaxConcurrency": 20,
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": True}},
                },
            }
        },
    }
    items = [{"n": i, "pause": 0.01} for i in range(200)]
    record = runtime.start(definition, items)
    wait_until(lambda: (runtime.store.get_execution(record.arn) or record).transitions >= 30)
    processes.kill(processes.workers[1])
    processes.start_worker()
    final = runtime.wait(record, timeout=90)
    assert final.status == ExecutionStatus.SUCCEEDED, (final.error, final.cause)
    assert [item["n"] for item in final.output] == list(range(1, 201))
    history = runtime.history(final)
    started = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in history
        if e["type"] == "MapIterationStarted"
    ]
    assert sorted(started) == list(range(200))
    assert sum(e["type"] == "TaskStateEntered" for e in history) == 200


def test_sigkill_the_scheduler_while_100_waits_are_pending(
    private_cluster: tuple[RedisServer, Cluster, ClusterRuntime],
) -> None:
    _, processes, runtime = private_cluster
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Done"},
            "Done": {"Type": "Pass", "Result": "woke", "ResultPath": "$.state", "End": True},
        },
    }
    # time_scale 0.01: a Wait of 200 s lasts 2 s.
    records = [runtime.start(definition, {"wait": 200, "i": i}) for i in range(100)]
    assert processes.scheduler is not None
    processes.kill(processes.scheduler)
    time.sleep(2.5)  # every Wait is now due, and nobody fires it
    assert all(
        (runtime.store.get_execution(r.arn) or r).status == ExecutionStatus.RUNNING for r in records
    )
    processes.start_scheduler()
    finals = [runtime.wait(r, timeout=60) for r in records]
    assert [f.output for f in finals] == [
        {"wait": 200, "i": i, "state": "woke"} for i in range(100)
    ]
    for final in finals:
        assert [e["type"] for e in runtime.history(final)].count("WaitStateExited") == 1


def test_redis_restart_with_aof_loses_nothing(
    private_cluster: tuple[RedisServer, Cluster, ClusterRuntime],
) -> None:
    server, _, runtime = private_cluster
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 300, "Next": "T"},
            "T": {"Type": "Task", "Resource": LAMBDA, "End": True},
        },
    }
    records = [runtime.start(definition, {"n": i, "pause": 0}) for i in range(20)]
    server.stop(kill=True)  # appendfsync always: every commit is on disk
    server.start()
    finals = [runtime.wait(r, timeout=60) for r in records]
    assert [f.status for f in finals] == [ExecutionStatus.SUCCEEDED] * 20
    assert [f.output for f in finals] == [{"n": i + 1, "pause": 0} for i in range(20)]
