"""Callbacks and activities: a parked task ends when its token comes back, on both
engine configurations."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from scheduler.engine.callbacks import (
    get_activity_task,
    send_task_failure,
    send_task_heartbeat,
    send_task_success,
)
from scheduler.engine.records import ExecutionStatus
from scheduler.engine.tokens import InvalidToken, TaskDoesNotExist, TaskTimedOut, make_token
from tests.scheduler.engine.test_engine import types

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:approve"


def activity_machine(**task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": ACTIVITY,
                "ResultPath": "$.approval",
                "Catch": [
                    {"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Rejected"}
                ],
                "End": True,
                **task,
            },
            "Rejected": {"Type": "Pass", "End": True},
        },
    }


def in_background(work: Any) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_an_activity_worker_takes_the_task_and_answers(runtime: Any) -> None:
    record = runtime.start(activity_machine(), {"order": 7})
    taken: list[dict[str, Any]] = []

    def worker() -> None:
        task = get_activity_task(runtime.engine, ACTIVITY, "worker-1", timeout=10)
        assert task is not None
        taken.append(task)
        send_task_success(runtime.engine, task["taskToken"], {"approved": True})

    thread = in_background(worker)
    final = runtime.wait(record)
    thread.join(5)
    assert json.loads(taken[0]["input"]) == {"order": 7}
    assert final.status == ExecutionStatus.SUCCEEDED
    assert final.output == {"order": 7, "approval": {"approved": True}}
    assert types(runtime, final) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_send_task_failure_goes_through_catch(runtime: Any) -> None:
    record = runtime.start(activity_machine(), {})

    def worker() -> None:
        task = get_activity_task(runtime.engine, ACTIVITY, "w", timeout=10)
        assert task is not None
        send_task_failure(runtime.engine, task["taskToken"], "Rejected", "over budget")

    in_background(worker)
    final = runtime.wait(record)
    assert final.output == {"error": {"Error": "Rejected", "Cause": "over budget"}}
    assert "ActivityFailed" in types(runtime, final)


def test_a_token_works_once(runtime: Any) -> None:
    record = runtime.start(activity_machine(), {})
    tokens: list[str] = []

    def worker() -> None:
        task = get_activity_task(runtime.engine, ACTIVITY, "w", timeout=10)
        assert task is not None
        tokens.append(task["taskToken"])
        send_task_success(runtime.engine, task["taskToken"], "yes")

    in_background(worker)
    assert runtime.wait(record).output == {"approval": "yes"}
    with pytest.raises(TaskTimedOut):
        send_task_success(runtime.engine, tokens[0], "again")


def test_tokens_stepline_did_not_issue_are_refused(runtime: Any) -> None:
    with pytest.raises(InvalidToken):
        send_task_success(runtime.engine, "not a token!", {})
    with pytest.raises(TaskDoesNotExist):
        send_task_success(runtime.engine, make_token("arn:aws:states:x", "0", 1), {})


def test_wait_for_task_token_hands_the_token_to_the_call(runtime: Any) -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "remember_token",
                    "Payload": {"token.$": "$$.Task.Token", "who.$": "$.who"},
                },
                "End": True,
            }
        },
    }
    record = runtime.start(definition, {"who": "ops"})

    def caller_of_the_callback() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            submitted = [e for e in runtime.history(record) if e["type"] == "TaskSubmitted"]
            if submitted:
                output = json.loads(submitted[0]["taskSubmittedEventDetails"]["output"])
                assert output["Payload"]["who"] == "ops"
                send_task_success(runtime.engine, output["Payload"]["token"], {"answer": 42})
                return
            time.sleep(0.01)

    in_background(caller_of_the_callback)
    final = runtime.wait(record, timeout=15)
    assert final.output == {"answer": 42}
    assert types(runtime, final) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_a_task_without_heartbeats_times_out(runtime: Any) -> None:
    definition = activity_machine(HeartbeatSeconds=5, TimeoutSeconds=600)
    record = runtime.start(definition, {})
    final = runtime.wait(record)
    assert final.status == ExecutionStatus.FAILED
    assert final.error == "States.HeartbeatTimeout"
    assert types(runtime, final)[-2:] == ["ActivityTimedOut", "ExecutionFailed"]


def test_heartbeats_keep_a_slow_task_alive(runtime: Any, request: pytest.FixtureRequest) -> None:
    if "embedded" in request.node.name:
        pytest.skip("the skipping clock jumps over real-time heartbeats; the cluster shows it")
    definition = activity_machine(HeartbeatSeconds=30, TimeoutSeconds=600)  # 0.3 s scaled
    record = runtime.start(definition, {})

    def worker() -> None:
        task = get_activity_task(runtime.engine, ACTIVITY, "w", timeout=10)
        assert task is not None
        for _ in range(6):  # 0.6 s of work, a beat every 0.1 s
            time.sleep(0.1)
            send_task_heartbeat(runtime.engine, task["taskToken"])
        send_task_success(runtime.engine, task["taskToken"], "done")

    in_background(worker)
    final = runtime.wait(record)
    assert final.status == ExecutionStatus.SUCCEEDED, (final.error, final.cause)
