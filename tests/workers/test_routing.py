"""Queues routed per state machine: a machine's steps and Task calls go to its own
queues, served only by the workers started on them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.config import ConfigError, load_settings
from scheduler.engine.records import ExecutionStatus
from tests.cluster import ClusterRuntime
from workers.dispatcher import machine_name
from workers.local_cluster import Cluster, RedisServer

ROUTED = {"StartAt": "M", "States": {"M": {
    "Type": "Map", "End": True,
    "ItemProcessor": {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:times_ten",
        "End": True}}}}}}


@pytest.fixture
def vip_only(
    tmp_path: Path, cluster_env: dict[str, str]
) -> Iterator[ClusterRuntime]:
    """A cluster whose only worker serves the `vip` queues."""
    env = {**cluster_env, "STEPLINE_QUEUE_ROUTES": "vip-machine=vip"}
    server = RedisServer(tmp_path / "redis")
    server.start()
    processes = Cluster(server.url, tmp_path / "logs", env)
    processes.start_worker(queues="vip.steps,vip.tasks")
    processes.start_scheduler()
    try:
        yield ClusterRuntime(server.url, env)
    finally:
        processes.stop()
        server.stop()


def test_a_routed_machine_runs_on_its_own_workers_only(vip_only: ClusterRuntime) -> None:
    routed = vip_only.start(ROUTED, list(range(40)), machine_name="vip-machine")
    other = vip_only.start(ROUTED, [1], machine_name="other-machine")
    final = vip_only.wait(routed, timeout=60)
    assert final.status == ExecutionStatus.SUCCEEDED
    assert final.output == [i * 10 for i in range(40)]
    time.sleep(0.5)
    # Nobody serves the default queues here, so the unrouted machine has not moved.
    still = vip_only.store.get_execution(other.arn)
    assert still is not None and still.status == ExecutionStatus.RUNNING
    assert still.transitions == 0


def test_routes_come_from_the_settings() -> None:
    settings = load_settings(environ={"STEPLINE_QUEUE_ROUTES": "orders=fast, reports=batch"})
    assert settings.queue_routes == {"orders": "fast", "reports": "batch"}
    with pytest.raises(ConfigError, match="STEPLINE_QUEUE_ROUTES"):
        load_settings(environ={"STEPLINE_QUEUE_ROUTES": "orders"})
    assert machine_name("arn:aws:states:us-east-1:1:execution:orders:run-7") == "orders"
    assert machine_name("arn:aws:states:us-east-1:1:express:orders:run-7:uuid") == "orders"
