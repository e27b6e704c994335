"""The Celery tasks on real workers: a chain of Task states made back to back inside one
`stepline.invoke` (for up to CHAIN_SECONDS), and what breaks such a chain."""

from __future__ import annotations

from typing import Any

from scheduler.engine.records import ExecutionStatus
from tests.cluster import ClusterRuntime
from workers.tasks import CHAIN_SECONDS

ADD = "arn:aws:lambda:us-east-1:123456789012:function:slow_add"
FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:fail_until"


def chain(count: int, pause: float) -> dict[str, Any]:
    states: dict[str, Any] = {
        f"T{i}": {
            "Type": "Task",
            "Resource": ADD,
            "Parameters": {"n.$": "$.n", "pause": pause},
            "Next": f"T{i + 1}",
        }
        for i in range(count)
    }
    states[f"T{count - 1}"].pop("Next")
    states[f"T{count - 1}"]["End"] = True
    return {"StartAt": "T0", "States": states}


def test_a_chain_longer_than_one_budget_runs_every_task_once(
    cluster_runtime: ClusterRuntime,
) -> None:
    pause = CHAIN_SECONDS / 5  # several budgets' worth of calls
    record = cluster_runtime.run(chain(25, pause), {"n": 0})
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output == {"n": 25, "pause": pause}
    history = cluster_runtime.history(record)
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    entered = [e["stateEnteredEventDetails"]["name"] for e in history
               if e["type"] == "TaskStateEntered"]
    assert entered == [f"T{i}" for i in range(25)]
    assert sum(e["type"] == "LambdaFunctionSucceeded" for e in history) == 25


def test_a_retry_in_the_middle_of_a_chain_waits_its_interval_then_goes_on(
    cluster_runtime: ClusterRuntime,
) -> None:
    definition = {
        "StartAt": "Before",
        "States": {
            "Before": {"Type": "Task", "Resource": ADD, "Parameters": {"n": 1, "pause": 0},
                       "ResultPath": "$.before", "Next": "Flaky"},
            "Flaky": {
                "Type": "Task",
                "Resource": FLAKY,
                "Parameters": {"retry.$": "$$.State.RetryCount", "succeed_at": 2},
                "Retry": [{"ErrorEquals": ["TimeoutError"], "IntervalSeconds": 1,
                           "BackoffRate": 1, "MaxAttempts": 3}],
                "ResultPath": "$.flaky",
                "Next": "After",
            },
            "After": {"Type": "Task", "Resource": ADD, "Parameters": {"n": 10, "pause": 0},
                      "ResultPath": "$.after", "End": True},
        },
    }
    record = cluster_runtime.run(definition, {})
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output["flaky"] == {"attempts": 3}
    assert record.output["after"]["n"] == 11
    types = [e["type"] for e in cluster_runtime.history(record)]
    assert types.count("LambdaFunctionFailed") == 2
    assert types.count("LambdaFunctionSucceeded") == 3


def test_a_slow_call_does_not_hold_back_the_outcomes_of_its_batch(
    cluster_runtime: ClusterRuntime,
) -> None:
    """The two items' calls travel in one `stepline.invokes`; the quick one's outcome is
    applied while the slow one still runs, so its events come first in the history
    although its call was made second."""
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
            "StartAt": "Add",
            "States": {"Add": {"Type": "Task", "Resource": ADD, "End": True}},
        }}},
    }
    items = [{"n": 0, "pause": 1.0}, {"n": 10, "pause": 0}]
    record = cluster_runtime.run(definition, items)
    assert record.status == ExecutionStatus.SUCCEEDED
    assert record.output == [{"n": 1, "pause": 1.0}, {"n": 11, "pause": 0}]
    ended = [
        e["mapIterationSucceededEventDetails"]["index"]
        for e in cluster_runtime.history(record)
        if e["type"] == "MapIterationSucceeded"
    ]
    assert ended == [1, 0]
