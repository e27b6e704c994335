"""The activity-worker helper against a real `stepline server`, the worker in its own
process (`stepline activity-worker`): success, failure into Catch, heartbeats keeping a
long task alive, a worker killed mid-task (HeartbeatTimeout, then Retry), a clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.activity_worker import failure_of, run_activity_worker
from tests.e2e.conftest import ROLE, Server, clean_env, client, start_server, unique, wait_until

WORK = '''
import time


class Declined(Exception):
    pass


def echo(order):
    return {"seen": order}


def decline(order):
    raise Declined(f"order {order['id']} declined")


def slow(order):
    time.sleep(order["seconds"])
    return {"slept": order["seconds"]}
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("activities"))
    yield running
    # Killed workers leave long polls open, which a graceful stop would wait out (60 s).
    running.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def sfn(server: Server) -> Any:
    return client(server.url)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("worker") / "work.py"
    path.write_text(WORK)
    return path


class Workers:
    """`stepline activity-worker` processes started by a test, stopped after it."""

    def __init__(self, url: str, work: Path, folder: Path) -> None:
        self.url, self.work, self.folder = url, work, folder
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, activity: str, function: str, *extra: str) -> subprocess.Popen[str]:
        log = (self.folder / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "activity-worker", "--activity", activity,
             "--handler", f"{self.work}:{function}", "--endpoint-url", self.url, *extra],
            stdout=log, stderr=subprocess.STDOUT, text=True, env=clean_env(),
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)


@pytest.fixture
def workers(server: Server, work: Path, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(server.url, work, tmp_path)
    yield started
    started.stop_all()


def approval_machine(sfn: Any, **task: Any) -> tuple[str, str]:
    """An activity and a machine whose one Task waits on it; (activity ARN, machine ARN)."""
    activity = sfn.create_activity(name=unique("approve"))["activityArn"]
    states = {
        "Approve": {"Type": "Task", "Resource": activity, "ResultPath": "$.approval",
                    "Next": "Done", **task},
        "Done": {"Type": "Succeed"},
    }
    if "Catch" in task:
        states["Declined"] = {"Type": "Pass", "End": True}
    text = json.dumps({"StartAt": "Approve", "States": states})
    arn = sfn.create_state_machine(name=unique("approvals"), definition=text, roleArn=ROLE)
    return activity, arn["stateMachineArn"]


def run(sfn: Any, machine: str, data: Any, timeout: float = 30) -> dict[str, Any]:
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(data))
    arn = execution["executionArn"]
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout)
    result: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    return result


def event_types(sfn: Any, arn: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]


def test_the_handler_output_is_the_task_result(sfn: Any, workers: Workers) -> None:
    activity, machine = approval_machine(sfn)
    workers.start(activity, "echo", "--worker-name", "clerk-1")
    done = run(sfn, machine, {"id": 7})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"id": 7, "approval": {"seen": {"id": 7}}}


def test_an_exception_is_a_task_failure_that_catch_can_name(sfn: Any, workers: Workers) -> None:
    catch = [{"ErrorEquals": ["Declined"], "ResultPath": "$.why", "Next": "Declined"}]
    activity, machine = approval_machine(sfn, Catch=catch)
    workers.start(activity, "decline")
    done = run(sfn, machine, {"id": 9})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["why"] == {"Error": "Declined", "Cause": "order 9 declined"}


def test_heartbeats_keep_a_long_task_alive(sfn: Any, workers: Workers) -> None:
    activity, machine = approval_machine(sfn, HeartbeatSeconds=2)
    workers.start(activity, "slow", "--heartbeat", "0.5")
    done = run(sfn, machine, {"seconds": 5})
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"])["approval"] == {"slept": 5}


def test_without_heartbeats_the_same_task_times_out(sfn: Any, workers: Workers) -> None:
    activity, machine = approval_machine(sfn, HeartbeatSeconds=2)
    workers.start(activity, "slow")
    done = run(sfn, machine, {"seconds": 5})
    assert (done["status"], done["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_a_worker_killed_mid_task_times_out_and_the_retry_reaches_another(
    sfn: Any, workers: Workers
) -> None:
    retry = [{"ErrorEquals": ["States.HeartbeatTimeout"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    activity, machine = approval_machine(sfn, HeartbeatSeconds=2, Retry=retry)
    first = workers.start(activity, "slow", "--heartbeat", "0.5")
    arn = sfn.start_execution(stateMachineArn=machine, input='{"seconds": 60}')["executionArn"]
    wait_until(lambda: "ActivityStarted" in event_types(sfn, arn), 20)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    workers.start(activity, "echo")
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 30)
    done = sfn.describe_execution(executionArn=arn)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["approval"] == {"seen": {"seconds": 60}}
    kinds = [k for k in event_types(sfn, arn) if k.startswith("Activity")]
    assert kinds == ["ActivityScheduled", "ActivityStarted", "ActivityTimedOut",
                     "ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]


def test_sigterm_finishes_the_task_in_hand_then_exits(sfn: Any, workers: Workers) -> None:
    activity, machine = approval_machine(sfn)
    worker = workers.start(activity, "slow")
    arn = sfn.start_execution(stateMachineArn=machine, input='{"seconds": 2}')["executionArn"]
    wait_until(lambda: "ActivityStarted" in event_types(sfn, arn), 20)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(20) == 0
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


def test_a_stop_event_ends_the_loop_after_the_task_in_hand(sfn: Any) -> None:
    activity, machine = approval_machine(sfn)
    stop = threading.Event()

    def handler(order: Any) -> Any:
        stop.set()  # asked to stop while working: this task still completes
        return {"ok": order["id"]}

    ran: list[int] = []
    thread = threading.Thread(target=lambda: ran.append(run_activity_worker(
        activity, handler, client=sfn, stop_event=stop, worker_name="in-process")))
    thread.start()
    done = run(sfn, machine, {"id": 3})
    thread.join(30)
    assert not thread.is_alive() and ran == [1]
    assert json.loads(done["output"])["approval"] == {"ok": 3}


def test_an_output_that_is_not_json_fails_the_task(sfn: Any) -> None:
    activity, machine = approval_machine(sfn)
    thread = threading.Thread(target=lambda: run_activity_worker(
        activity, lambda order: {1, 2}, client=sfn, max_tasks=1))
    thread.start()
    done = run(sfn, machine, {})
    thread.join(30)
    assert (done["status"], done["error"]) == ("FAILED", "TypeError")


def test_an_activity_that_does_not_exist_stops_the_worker(sfn: Any, workers: Workers) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:activity:nobody-made-this"
    worker = workers.start(missing, "echo")
    assert worker.wait(20) == 1


def test_a_bad_handler_reference_is_a_usage_error(server: Server) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "activity-worker", "--activity", "arn",
         "--handler", "no_such_module_here:f", "--endpoint-url", server.url],
        capture_output=True, text=True, timeout=30, env=clean_env(), check=False,
    )
    assert done.returncode == 2 and "no_such_module_here" in done.stderr


def test_failures_are_named_after_the_exception_within_aws_limits() -> None:
    class OutOfStock(Exception):
        pass

    assert failure_of(OutOfStock("lamp")) == ("OutOfStock", "lamp")
    error, cause = failure_of(ValueError("x" * 40_000))
    assert error == "ValueError" and len(cause) == 32768
