"""The server process itself: health, metrics, and stopping cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, start_server


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(response.status), response.read().decode()


def test_health_readiness_and_metrics(server: Server, sfn: Any) -> None:
    sfn.list_activities()
    assert get(f"{server.url}/healthz") == (200, '{"status":"ok"}')
    assert get(f"{server.url}/readyz")[0] == 200
    status, text = get(f"{server.url}/metrics")
    assert status == 200
    assert 'stepline_api_requests_total{action="ListActivities",result="OK"}' in text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_ctrl_c_and_sigterm_stop_cleanly(tmp_path: Path, sig: int) -> None:
    running = start_server(tmp_path)
    assert running.stop(sig) == 0
    log = running.log.read_text()
    assert "Shutting down" in log and "Traceback" not in log


def test_a_port_in_use_is_reported(tmp_path: Path, server: Server) -> None:
    port = server.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "server", "--port", port],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "address already in use" in done.stderr
