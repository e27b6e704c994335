"""Map runs through the service, on both engines: the embedded engine, and the Redis
engine with the session's Celery workers. The map's children wait on an activity, so the
test decides when each one ends and reads the counts in between."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scheduler.arns import Account
from scheduler.config import load_settings
from scheduler.engine.map_runs import MapRunLimits
from scheduler.engine.records import ExecutionRecord, ExecutionStatus, MapRun, MapRunStatus
from scheduler.service import EmbeddedEngine, StepFunctions, build_service
from scheduler.service import tasks as task_actions
from scheduler.service.engine_redis import RedisEngine
from scheduler.service.errors import (
    ExecutionDoesNotExist,
    InvalidArn,
    ResourceNotFound,
    ValidationException,
)
from scheduler.service.map_runs import counts
from tests.scheduler.service.conftest import config


@pytest.fixture(params=["embedded", "redis"])
def sfn(request: pytest.FixtureRequest) -> Iterator[StepFunctions]:
    """The service over each engine."""
    if request.param == "embedded":
        embedded = EmbeddedEngine()
        embedded.start()
        yield build_service(embedded)
        embedded.close()
        return
    cluster = request.getfixturevalue("cluster")
    env = request.getfixturevalue("cluster_env")
    settings = load_settings(environ={**os.environ, **env}, redis_url=cluster.redis_url)
    engine = RedisEngine.from_settings(settings)
    engine.start()
    yield build_service(
        engine, engine.registry_kv(), account=Account(settings.region, settings.account)
    )
    engine.close()


def distributed(activity: str, **fields: Any) -> str:
    return json.dumps({
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}},
                },
                "End": True,
                **fields,
            }
        },
    })


def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class Flow:
    """One execution of a Distributed Map whose children wait on an activity."""

    def __init__(self, sfn: StepFunctions, items: int, **fields: Any) -> None:
        self.sfn = sfn
        name = f"m-{uuid.uuid4().hex[:8]}"
        self.activity = sfn.activities.create(name).arn
        machine, _ = sfn.registry.create(name, config(distributed(self.activity, **fields)))
        started = sfn.executions.start(machine.arn, input_text=json.dumps(list(range(items))))
        self.execution = started.record.arn
        self.tokens: list[str] = []

    def map_run(self) -> MapRun:
        runs, _ = eventually(lambda: self.sfn.map_runs.list_runs(self.execution)[0] and
                             self.sfn.map_runs.list_runs(self.execution))
        return self.sfn.map_runs.describe(runs[0].arn)

    def take(self, count: int) -> list[str]:
        """Tokens of `count` more children that started (each waits for its answer)."""
        for _ in range(count):
            task = eventually(
                lambda: task_actions.get_activity_task(self.sfn.engine, self.activity, None, 1)
            )
            self.tokens.append(task["taskToken"])
        return self.tokens[-count:]

    def succeed(self, token: str) -> None:
        task_actions.send_task_success(self.sfn.engine, token, "{}")

    def fail(self, token: str) -> None:
        task_actions.send_task_failure(self.sfn.engine, token, "Broken", "item failed")

    def counted(self, **expected: int) -> MapRun:
        """The map run once its counts are `expected` (they follow the children's ends)."""
        def matches() -> MapRun | None:
            found = self.map_run()
            current = counts(found)
            ok = all(getattr(current, k) == v for k, v in expected.items())
            return found if ok else None
        return eventually(matches)

    def ended(self) -> ExecutionRecord:
        return eventually(lambda: (r := self.sfn.executions.describe(self.execution)[0])
                          .status != ExecutionStatus.RUNNING and r)


def test_counts_follow_the_children_and_update_lets_more_run(sfn: StepFunctions) -> None:
    flow = Flow(sfn, 5, MaxConcurrency=2, ToleratedFailureCount=1)
    first = flow.take(2)
    running = flow.counted(running=2, pending=3)
    assert running.status == MapRunStatus.RUNNING and running.stop_date is None
    assert (running.max_concurrency, running.tolerated_failure_count) == (2, 1)
    assert running.total == 5 and running.execution_arn == flow.execution
    assert ":mapRun:" in running.arn and "/Items:" in running.arn

    flow.fail(first[0])  # one failure is tolerated; the next child starts in its place
    flow.take(1)
    flow.counted(failed=1, running=2, pending=2)

    sfn.map_runs.update(running.arn, MapRunLimits(max_concurrency=10))
    flow.take(2)  # the two children held back start now
    updated = flow.counted(running=4, pending=0, failed=1)
    assert updated.max_concurrency == 10

    for token in flow.tokens[1:]:
        flow.succeed(token)
    assert flow.ended().status == ExecutionStatus.SUCCEEDED
    done = flow.map_run()
    assert done.status == MapRunStatus.SUCCEEDED and done.stop_date is not None
    final = counts(done)
    assert (final.succeeded, final.failed, final.running, final.pending) == (4, 1, 0, 0)
    assert final.total == 5 and final.aborted == 0
    listed, token = sfn.map_runs.list_runs(flow.execution)
    assert [m.arn for m in listed] == [done.arn] and token is None
    assert listed[0].stop_date == done.stop_date
    with pytest.raises(ValidationException):  # it no longer runs
        sfn.map_runs.update(done.arn, MapRunLimits(max_concurrency=1))


def test_a_lowered_tolerance_fails_the_map_run(sfn: StepFunctions) -> None:
    flow = Flow(sfn, 4, MaxConcurrency=3, ToleratedFailurePercentage=50)
    tokens = flow.take(3)
    flow.fail(tokens[0])
    flow.take(1)
    before = flow.counted(failed=1, running=3, pending=0)
    assert before.tolerated_failure_percentage == 50.0
    sfn.map_runs.update(before.arn, MapRunLimits(tolerated_failure_count=0,
                                                 tolerated_failure_percentage=0.0))
    record = flow.ended()
    assert record.status == ExecutionStatus.FAILED
    assert record.error == "States.ExceedToleratedFailureThreshold"
    failed = flow.map_run()
    assert failed.status == MapRunStatus.FAILED
    final = counts(failed)
    assert (final.failed, final.aborted, final.running, final.succeeded) == (1, 3, 0, 0)


def test_stopping_the_execution_aborts_its_map_run(sfn: StepFunctions) -> None:
    flow = Flow(sfn, 3, MaxConcurrency=1)
    flow.succeed(flow.take(1)[0])
    flow.take(1)
    flow.counted(succeeded=1, running=1, pending=1)
    sfn.executions.stop(flow.execution, None, None)
    aborted = eventually(lambda: (m := flow.map_run()).status != MapRunStatus.RUNNING and m)
    assert aborted.status == MapRunStatus.ABORTED and aborted.stop_date is not None
    final = counts(aborted)
    assert (final.succeeded, final.aborted, final.pending, final.running) == (1, 1, 1, 0)


def test_unknown_and_malformed_arns(sfn: StepFunctions) -> None:
    base = "arn:aws:states:us-east-1:123456789012"
    with pytest.raises(ResourceNotFound):
        sfn.map_runs.describe(f"{base}:mapRun:m/Items:{uuid.uuid4()}")
    with pytest.raises(ResourceNotFound):
        sfn.map_runs.update(f"{base}:mapRun:m/Items:x", MapRunLimits(max_concurrency=1))
    with pytest.raises(ResourceNotFound):
        sfn.map_runs.executions(f"{base}:mapRun:m/Items:x")
    for bad in ("not-an-arn", f"{base}:stateMachine:m", f"{base}:mapRun:only"):
        with pytest.raises(InvalidArn):
            sfn.map_runs.describe(bad)
    with pytest.raises(InvalidArn):
        sfn.map_runs.list_runs(f"{base}:mapRun:m/Items:x")
    with pytest.raises(ExecutionDoesNotExist):
        sfn.map_runs.list_runs(f"{base}:execution:m:nope")
    with pytest.raises(ValidationException):
        sfn.map_runs.update(f"{base}:mapRun:m/Items:x", MapRunLimits())
