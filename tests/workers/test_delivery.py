"""Celery delivery: the same transition message delivered twice changes nothing."""

from __future__ import annotations

import time

from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionStatus
from tests.cluster import ClusterRuntime

WAIT_THEN_PASS = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": 100, "Next": "P"},
        "P": {"Type": "Pass", "Result": "done", "ResultPath": "$.r", "End": True},
    },
}


def test_a_duplicated_step_message_changes_neither_history_nor_output(
    cluster_runtime: ClusterRuntime,
) -> None:
    record = cluster_runtime.start(WAIT_THEN_PASS, {"x": 1})
    run = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait for the Wait to be entered
        run = cluster_runtime.store.load_run(record.arn, "0")
        if run is not None and run.pending is not None:
            break
        time.sleep(0.005)
    assert run is not None and run.pending is not None
    wake = Message(record.arn, "0", run.seq, Kind.WAKE)
    for _ in range(3):  # the scheduler will send it once more when it is due
        cluster_runtime.runtime.dispatcher.send(wake)
    final = cluster_runtime.wait(record)
    time.sleep(1.5)  # let the timer's own (now stale) delivery arrive too
    history = cluster_runtime.history(final)
    assert final.status == ExecutionStatus.SUCCEEDED
    assert final.output == {"x": 1, "r": "done"}
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history] == [1, 2, 3, 4, 5, 6]
    replay = Message(record.arn, "0", 0, Kind.ENTER)
    cluster_runtime.runtime.dispatcher.send(replay)  # the very first step, again
    time.sleep(0.5)
    assert cluster_runtime.history(final) == history
