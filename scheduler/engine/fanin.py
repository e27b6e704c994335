"""Fan-out bookkeeping for Parallel and Map: the rules for counting children back in.

Pure functions over the `Fanout` record. The embedded store applies them directly; the
Redis store applies the same rules inside its atomic commit.
"""

from __future__ import annotations

import math

from scheduler.asl.errors import ErrorName
from scheduler.asl.model import MapState, ParallelState
from scheduler.asl.outcome import FanOut
from scheduler.asl.retry import error_output
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import Fanout, Run
from scheduler.engine.store import ChildReport

THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def max_failures(count: int | None, percentage: float | None, total: int) -> int:
    """How many iterations may fail before the Map fails (0: none may)."""
    allowed = 0
    if count is not None:
        allowed = max(allowed, count)
    if percentage is not None:
        allowed = max(allowed, math.floor(percentage * total) // 100)
    return allowed


def new_fanout(run: Run, state: ParallelState | MapState, outcome: FanOut, started: int) -> Fanout:
    """The record a Parallel/Map run keeps while its children run (run.seq already bumped)."""
    total = len(outcome.inputs)
    count, percentage = outcome.tolerated_failure_count, outcome.tolerated_failure_percentage
    limit = outcome.max_concurrency
    return Fanout(
        kind="Parallel" if isinstance(state, ParallelState) else "Map",
        total=total,
        first_child=run.children,
        launched=total if limit <= 0 else min(total, limit),
        parent_seq=run.seq,
        results=[None] * total,
        max_failures=max_failures(count, percentage, total),
        tolerance_set=count is not None or percentage is not None,
        started_event_id=started,
        max_concurrency=max(0, limit),
    )


def child_id(parent_id: str, fanout: Fanout, index: int) -> str:
    """The run id of child `index`."""
    return f"{parent_id}.{fanout.first_child + index}"


def apply_report(fanout: Fanout, report: ChildReport, execution_arn: str) -> list[Message]:
    """Record a child's end; return what follows: a sibling to launch, and/or the JOIN.

    A failed Parallel branch fails the Parallel at once with the branch's error. A failed
    Map iteration does too, unless ToleratedFailureCount/Percentage allow it; past the
    tolerance the Map fails with States.ExceedToleratedFailureThreshold. Reports after
    the JOIN (siblings still finishing) change nothing.
    """
    if fanout.joined:
        return []
    fanout.finished += 1
    if report.error is not None:
        fanout.failed += 1
        fanout.results[report.index] = error_output(*report.error)
        if fanout.kind == "Parallel" or fanout.failed > fanout.max_failures:
            fanout.failure = (
                (ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD.value, THRESHOLD_CAUSE)
                if fanout.tolerance_set
                else report.error
            )
    else:
        fanout.results[report.index] = report.output
    messages = launch_more(fanout, report.parent, execution_arn, report.last_state_event)
    if fanout.failure is not None or fanout.finished == fanout.total:
        fanout.joined = True
        last = report.last_state_event if fanout.failure is not None else report.last_event
        join = Message(execution_arn, report.parent, fanout.parent_seq, Kind.JOIN, {"after": last})
        messages.append(join)
    return messages


def launch_more(fanout: Fanout, parent: str, execution_arn: str, after: int) -> list[Message]:
    """The children to launch now: while fewer than MaxConcurrency run (all, without a
    limit), none after a failure. Each is announced after the event `after`."""
    messages = []
    limit = fanout.max_concurrency
    while (
        fanout.failure is None
        and fanout.launched < fanout.total
        and (limit <= 0 or fanout.launched - fanout.finished < limit)
    ):
        sibling = child_id(parent, fanout, fanout.launched)
        fanout.launched += 1
        messages.append(Message(execution_arn, sibling, 0, Kind.ENTER, {"after": after}))
    return messages
