"""Stopping and redriving executions, on both engine configurations."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.engine.lifecycle import NotRedrivable, redrive_status
from scheduler.engine.records import ExecutionStatus
from tests.scheduler.engine.conftest import lambda_arn
from tests.scheduler.engine.test_engine import types

FLAKY_ONCE = {"StartAt": "First", "States": {
    "First": {"Type": "Pass", "Result": "ran", "ResultPath": "$.first", "Next": "Flaky"},
    "Flaky": {"Type": "Task", "Resource": lambda_arn("fail_until"), "ResultPath": "$.flaky",
              "Parameters": {"retry.$": "$$.Execution.RedriveCount", "succeed_at": 1},
              "End": True}}}


def test_redrive_restarts_at_the_state_that_failed(runtime: Any) -> None:
    record = runtime.run(FLAKY_ONCE, {"order": 1})
    assert record.status == ExecutionStatus.FAILED and record.error == "TimeoutError"
    assert redrive_status(record) == "REDRIVABLE"
    runtime.engine.redrive_execution(record.arn)
    final = runtime.wait(record)
    assert final.status == ExecutionStatus.SUCCEEDED, (final.error, final.cause)
    assert final.output == {"order": 1, "first": "ran", "flaky": {"attempts": 2}}
    assert final.redrive_count == 1
    kinds = types(runtime, final)
    assert kinds.count("PassStateEntered") == 1  # the state before the failure is not re-run
    assert kinds.count("TaskStateEntered") == 2
    assert kinds[kinds.index("ExecutionFailed") + 1] == "ExecutionRedriven"
    events = runtime.history(final)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def test_an_aborted_execution_redrives_from_where_it_waited(runtime: Any) -> None:
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "finished", "End": True}}}
    record = runtime.start(definition, {})
    runtime.engine.stop_execution(record.arn, error="Manual", cause="operator")
    assert runtime.wait(record).status == ExecutionStatus.ABORTED
    runtime.engine.redrive_execution(record.arn)
    final = runtime.wait(record)
    assert final.status == ExecutionStatus.SUCCEEDED
    assert final.output == "finished"


def test_a_succeeded_execution_cannot_be_redriven(runtime: Any) -> None:
    record = runtime.run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {})
    assert redrive_status(record) == "NOT_REDRIVABLE"
    with pytest.raises(NotRedrivable):
        runtime.engine.redrive_execution(record.arn)
