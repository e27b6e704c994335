"""Map runs (Distributed Map): the record a run starts with, its counters read from the
fan-out, how it ends, and the new limits UpdateMapRun sets.

Pure functions over `MapRun` and `Fanout`; the embedded store applies them directly, the
Redis store applies the same rules in Lua (`commit.lua`, `redis_store.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scheduler.asl.errors import ErrorName
from scheduler.asl.outcome import FanOut
from scheduler.engine.fanin import THRESHOLD_CAUSE, launch_more, max_failures
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import ExecutionRecord, Fanout, MapRun, MapRunStatus

if TYPE_CHECKING:
    from scheduler.engine.engine import Engine


@dataclass(frozen=True, slots=True)
class MapRunLimits:
    """UpdateMapRun's request: each limit to change, or None to keep it."""

    max_concurrency: int | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: float | None = None


def new_map_run(
    arn: str, record: ExecutionRecord, run_id: str, outcome: FanOut, now: float
) -> MapRun:
    """The map run a Distributed Map starts (its limits as the state resolved them)."""
    return MapRun(
        arn=arn,
        execution_arn=record.arn,
        state_machine_arn=record.state_machine_arn,
        run_id=run_id,
        start_date=now,
        total=len(outcome.inputs),
        max_concurrency=max(0, outcome.max_concurrency),
        tolerated_failure_count=outcome.tolerated_failure_count or 0,
        tolerated_failure_percentage=float(outcome.tolerated_failure_percentage or 0.0),
    )


def observe(map_run: MapRun, fanout: Fanout) -> None:
    """Copy the fan-out's counters into the map run."""
    map_run.launched = fanout.launched
    map_run.finished = fanout.finished
    map_run.failed = fanout.failed


def retire(map_run: MapRun, fanout: Fanout, now: float) -> None:
    """The fan-out is gone: freeze the counters and the status (ABORTED when it went
    before its children were counted in: the execution ended or a sibling failed)."""
    if map_run.status != MapRunStatus.RUNNING:
        return
    observe(map_run, fanout)
    if not fanout.joined:
        map_run.status = MapRunStatus.ABORTED
    elif fanout.failure is not None:
        map_run.status = MapRunStatus.FAILED
    else:
        map_run.status = MapRunStatus.SUCCEEDED
    map_run.stop_date = now


def apply_limits(
    map_run: MapRun, fanout: Fanout, limits: MapRunLimits, execution_arn: str
) -> list[Message]:
    """Set new limits on a running map run; the children they let start now, and the
    JOIN when the failures already counted are past a lowered tolerance."""
    if limits.max_concurrency is not None:
        map_run.max_concurrency = fanout.max_concurrency = limits.max_concurrency
    if limits.tolerated_failure_count is not None:
        map_run.tolerated_failure_count = limits.tolerated_failure_count
    if limits.tolerated_failure_percentage is not None:
        map_run.tolerated_failure_percentage = limits.tolerated_failure_percentage
    tolerance = (limits.tolerated_failure_count, limits.tolerated_failure_percentage)
    if tolerance != (None, None):
        fanout.tolerance_set = True
        fanout.max_failures = max_failures(
            map_run.tolerated_failure_count, map_run.tolerated_failure_percentage, fanout.total
        )
        if fanout.failed > fanout.max_failures:
            fanout.failure = (ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD.value, THRESHOLD_CAUSE)
            fanout.joined = True
            after = {"after": fanout.started_event_id}
            return [Message(execution_arn, map_run.run_id, fanout.parent_seq, Kind.JOIN, after)]
    return launch_more(fanout, map_run.run_id, execution_arn, fanout.started_event_id)


def update_map_run(engine: Engine, arn: str, limits: MapRunLimits) -> bool:
    """UpdateMapRun: new limits on a running map run, and the children they let start
    sent at once. False when the map run is not running."""
    produced = engine.store.update_map_run(arn, limits)
    if produced is None:
        return False
    if produced:
        engine.dispatcher.send_many(produced)
    return True
