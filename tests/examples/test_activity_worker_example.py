"""`examples/activity_worker` as its README runs it: a `stepline server`, the worker from
`stepline activity-worker`, the state machine and inputs from the folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROLE, Server, clean_env, client, start_server, wait_until

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "activity_worker"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("example"), handlers=False)
    yield running
    running.stop(signal.SIGKILL)  # a killed worker's long poll would hold a graceful stop


_names = iter(range(1000))


@pytest.fixture
def setup(server: Server) -> tuple[Any, str, str]:
    """The client, the activity and the state machine, created as the README creates them.

    Each test gets its own activity (the definition's ARN renamed): a worker killed by an
    earlier test may leave a long poll open on the server, which could take this test's
    task."""
    sfn = client(server.url)
    name = f"approve-order-{next(_names)}"
    activity = sfn.create_activity(name=name)["activityArn"]
    definition = (FOLDER / "definition.asl.json").read_text().replace(":approve-order", f":{name}")
    machine = sfn.create_state_machine(name=f"approvals-{name}", definition=definition,
                                       roleArn=ROLE)
    return sfn, activity, machine["stateMachineArn"]


def start_worker(server: Server, activity: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "activity-worker", "--activity", activity,
         "--handler", str(FOLDER / "worker.py") + ":approve", "--heartbeat", "2",
         "--endpoint-url", server.url],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, env=clean_env(),
    )


def finished(sfn: Any, arn: str, timeout: float = 40) -> dict[str, Any]:
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout)
    result: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    return result


@pytest.fixture
def worker(server: Server, setup: tuple[Any, str, str], tmp_path: Path) -> Iterator[None]:
    process = start_worker(server, setup[1], tmp_path / "worker.log")
    yield
    process.kill()
    process.wait(10)


def test_the_definition_is_valid() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "validate", str(FOLDER / "definition.asl.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_slow_review_is_kept_alive_by_heartbeats(
    setup: tuple[Any, str, str], worker: None
) -> None:
    sfn, _, machine = setup
    data = (FOLDER / "input_small.json").read_text()
    done = finished(sfn, sfn.start_execution(stateMachineArn=machine, input=data)["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["approval"] == {"approved": True, "id": "A-17"}


def test_a_large_order_is_rejected_through_the_catch(
    setup: tuple[Any, str, str], worker: None
) -> None:
    sfn, _, machine = setup
    data = (FOLDER / "input_large.json").read_text()
    done = finished(sfn, sfn.start_execution(stateMachineArn=machine, input=data)["executionArn"])
    assert json.loads(done["output"]) == {
        "id": "B-42", "status": "rejected", "reason": "order B-42 totals 4800, over the 1000 limit"}


def test_a_worker_stopped_mid_review_is_retried(
    server: Server, setup: tuple[Any, str, str], tmp_path: Path
) -> None:
    sfn, activity, machine = setup
    first = start_worker(server, activity, tmp_path / "first.log")
    data = (FOLDER / "input_small.json").read_text()
    arn = sfn.start_execution(stateMachineArn=machine, input=data)["executionArn"]

    def started() -> bool:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return any(e["type"] == "ActivityStarted" for e in events)

    wait_until(started, 20)
    first.kill()
    first.wait(10)
    second = start_worker(server, activity, tmp_path / "second.log")
    try:
        done = finished(sfn, arn)
    finally:
        second.kill()
        second.wait(10)
    assert done["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=arn)["events"]
    timed_out = [e for e in events if e["type"] == "ActivityTimedOut"]
    assert timed_out[0]["activityTimedOutEventDetails"]["error"] == "States.HeartbeatTimeout"
