"""The server process itself: health, readiness, metrics, and stopping cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, clean_env, start_server, wait_ready
from workers.local_cluster import RedisServer


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_health_readiness_and_metrics(server: Server, sfn: Any) -> None:
    sfn.list_activities()
    assert get(f"{server.url}/healthz") == (200, '{"status":"ok"}')
    assert get(f"{server.url}/readyz") == (200, '{"status":"ready"}')
    status, text = get(f"{server.url}/metrics")
    assert status == 200
    assert 'stepline_api_requests_total{action="ListActivities",result="OK"}' in text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_ctrl_c_and_sigterm_stop_cleanly(tmp_path: Path, sig: int) -> None:
    running = start_server(tmp_path)
    assert running.stop(sig) == 0
    log = running.log.read_text()
    assert "Shutting down" in log and "Traceback" not in log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads child processes from /proc")
def test_the_server_on_redis_stops_its_workers_and_says_when_redis_is_gone(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    try:
        running = start_server(tmp_path, "--workers", "1",
                               env=clean_env(REDIS_URL=redis.url), mode="server-redis")
        wait_ready(running.url)
        workers = _children(running.process.pid)
        assert len(workers) == 1
    finally:
        redis.stop()
    assert get(f"{running.url}/readyz") == (503, '{"status":"not ready"}')
    assert get(f"{running.url}/healthz")[0] == 200
    assert running.stop(signal.SIGINT) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
    log = running.log.read_text()
    assert "Shutting down" in log and "Traceback" not in log


def test_api_needs_redis(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "api", "--port", "0"],
        capture_output=True, text=True, timeout=30, cwd=tmp_path, env=clean_env(),
    )
    assert done.returncode == 2 and "REDIS_URL" in done.stderr


@pytest.mark.parametrize("server", ["embedded"], indirect=True)
def test_a_port_in_use_is_reported(tmp_path: Path, server: Server) -> None:
    port = server.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "server", "--port", port],
        capture_output=True, text=True, timeout=30, cwd=tmp_path, env=clean_env(),
    )
    assert done.returncode != 0
    assert "address already in use" in done.stderr
