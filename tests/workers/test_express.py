"""Express executions on the cluster run inside one worker task, with no per-transition
persistence: nothing about them is in Redis until they end."""

from __future__ import annotations

import time

from scheduler.engine.records import ExecutionStatus, StateMachineType
from tests.cluster import ClusterRuntime

DEFINITION = {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 50, "Next": "P"},
    "P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}}}


def test_express_runs_in_one_task_and_keeps_only_its_end(
    cluster_runtime: ClusterRuntime,
) -> None:
    record = cluster_runtime.start(DEFINITION, {"a": 2, "b": 3}, type_=StateMachineType.EXPRESS)
    assert ":express:" in record.arn
    time.sleep(0.2)  # mid-Wait (50 s scaled by 0.01)
    running = cluster_runtime.store.get_execution(record.arn)
    assert running is not None and running.status == ExecutionStatus.RUNNING
    assert cluster_runtime.store.history(record.arn) == []
    assert cluster_runtime.store.load_run(record.arn, "0") is None
    final = cluster_runtime.wait(record)
    assert final.status == ExecutionStatus.SUCCEEDED
    assert final.output == {"sum": 5}
    kinds = [e["type"] for e in cluster_runtime.history(final)]
    assert kinds == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited",
                     "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert final.transitions == 2
