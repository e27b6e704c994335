"""Session fixtures for the distributed configuration: a private redis-server, two
Celery worker processes and the scheduler process, shared by every cluster test."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import ClusterRuntime, toml_table
from tests.conformance.cases import conformance_dir, handler_table, load_cases
from workers.local_cluster import Cluster, RedisServer

ENGINE_HANDLERS = Path(__file__).parent / "scheduler" / "engine" / "handlers.py"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cluster_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Settings every cluster process shares, including the handler table."""
    folder = tmp_path_factory.mktemp("cluster")
    handlers = handler_table(load_cases()) if conformance_dir() else {}
    config = folder / "stepline.toml"
    config.write_text(
        'account = "111111111111"\n'
        f"handler_paths = [{json.dumps(str(ENGINE_HANDLERS))}]\n"
        f"[handlers]\n{toml_table(handlers)}\n"
    )
    return {
        "STEPLINE_CONFIG": str(config),
        "STEPLINE_TIME_SCALE": "0.01",
        "STEPLINE_PREFETCH": "1",
    }


@pytest.fixture(scope="session")
def cluster(
    redis_server: RedisServer, cluster_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    processes = Cluster(redis_server.url, tmp_path_factory.mktemp("logs"), cluster_env)
    processes.start_worker()
    processes.start_worker()
    processes.start_scheduler()
    yield processes
    processes.stop()


@pytest.fixture(scope="session")
def cluster_runtime(cluster: Cluster, cluster_env: dict[str, str]) -> ClusterRuntime:
    return ClusterRuntime(cluster.redis_url, cluster_env)
