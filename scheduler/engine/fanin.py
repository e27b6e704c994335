"""Fan-out bookkeeping for Parallel and Map: launching children, counting them back in.

Pure functions over the `Fanout` record, so the embedded store and the Redis store's
atomic commit apply exactly the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.asl.errors import ErrorName
from scheduler.asl.fanout import failure_tolerated
from scheduler.asl.model import MapState, ParallelState
from scheduler.asl.outcome import FanOut
from scheduler.asl.retry import error_output
from scheduler.engine.records import Fanout, Run


def new_fanout(run: Run, state: ParallelState | MapState, outcome: FanOut, started: int) -> Fanout:
    """The record a Parallel/Map run keeps while its children run."""
    total = len(outcome.inputs)
    if isinstance(state, ParallelState):
        machines = [(*run.machine, state.name, i) for i in range(total)]
        kind = "Parallel"
    else:
        machines = [(*run.machine, state.name, 0)]
        kind = "Map"
    return Fanout(
        kind=kind,
        total=total,
        inputs=list(outcome.inputs),
        machines=machines,
        max_concurrency=outcome.max_concurrency,
        results=[None] * total,
        tolerated_count=outcome.tolerated_failure_count,
        tolerated_percentage=outcome.tolerated_failure_percentage,
        started_event_id=started,
    )


def launch_child(parent: Run, fanout: Fanout) -> Run:
    """The next child run (its cursor still to be set to its machine's StartAt)."""
    index = fanout.launched
    fanout.launched += 1
    machine = fanout.machines[index] if fanout.kind == "Parallel" else fanout.machines[0]
    child_id = f"{parent.id}.{parent.children}"
    parent.children += 1
    return Run(
        id=child_id,
        machine=tuple(machine),
        state="",
        input=fanout.inputs[index],
        parent=parent.id,
        index=index,
        quiet=parent.quiet or fanout.map_run_arn is not None,
    )


@dataclass(frozen=True, slots=True)
class ChildDecision:
    """What a finished child means for its parent."""

    launch_next: bool
    join: bool


def child_finished(
    fanout: Fanout, index: int, output: Any, error: tuple[str, str | None] | None
) -> ChildDecision:
    """Record a child's result; say whether to launch another and whether to join now.

    A failed Parallel branch fails the Parallel at once with the branch's error. A failed
    Map iteration does too, unless ToleratedFailureCount/Percentage allow it; past the
    tolerance the Map fails with States.ExceedToleratedFailureThreshold.
    """
    fanout.finished += 1
    if error is not None:
        fanout.failed += 1
        fanout.results[index] = error_output(*error)
        tolerance_set = (
            fanout.tolerated_count is not None or fanout.tolerated_percentage is not None
        )
        if fanout.kind == "Parallel" or not failure_tolerated(
            fanout.tolerated_count, fanout.tolerated_percentage, fanout.failed, fanout.total
        ):
            fanout.failure = (
                (
                    ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                    "The specified tolerated failure threshold was exceeded",
                )
                if tolerance_set
                else error
            )
            return ChildDecision(launch_next=False, join=True)
    else:
        fanout.results[index] = output
    return ChildDecision(
        launch_next=fanout.launched < fanout.total,
        join=fanout.finished == fanout.total,
    )
