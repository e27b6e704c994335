"""Stopping and redriving executions: the two lifecycle changes a client asks for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scheduler.asl.errors import SteplineError
from scheduler.engine.messages import Kind, Message
from scheduler.engine.records import (
    ExecutionRecord,
    ExecutionStatus,
    RunStatus,
    StateMachineType,
)
from scheduler.engine.step import Step
from scheduler.engine.store import ExecutionEnd, apply_end

if TYPE_CHECKING:
    from scheduler.engine.engine import Engine

ROOT_RUN = "0"
MAX_REDRIVES = 1000
REDRIVABLE = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)


class NotRedrivable(SteplineError):
    """An execution that cannot be redriven (AWS: ExecutionNotRedrivable)."""


def stop_execution(
    engine: Engine, arn: str, error: str | None, cause: str | None
) -> ExecutionRecord | None:
    """Abort a running execution: ExecutionAborted, every branch stopped."""
    record = engine.store.get_execution(arn)
    if record is None or record.status != ExecutionStatus.RUNNING:
        return record
    step = Step(engine.store, record, engine.clock.now())
    details: dict[str, Any] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    root = engine.store.load_run(arn, ROOT_RUN)
    children = running_children(engine, arn)
    previous = root.last_event_id if root is not None else 0
    step.event(None, "ExecutionAborted", details, previous=previous)
    end = ExecutionEnd(ExecutionStatus.ABORTED, step.now, None, error, cause)
    step.writes.end = end
    step.writes.drop_all_runs = True
    step.writes.forget_after = engine.forget_after(record)
    if root is not None:
        root.status = RunStatus.DONE
        step.save(root)
        step.writes.keep_root = True
    apply_end(record, end)
    engine.commit(step)
    for child in children:  # AWS stops the `.sync` children of a stopped execution
        engine.stop_execution(child)
    return record


def running_children(engine: Engine, arn: str) -> list[str]:
    """The child executions that Tasks of execution `arn` run with `.sync` (and wait for)."""
    return [
        str(run.pending["child"])
        for run in engine.store.load_runs(arn)
        if run.status == RunStatus.TASK and run.pending and run.pending.get("child")
    ]


def redrive_status(record: ExecutionRecord) -> str:
    """AWS's `redriveStatus` for DescribeExecution."""
    if (
        record.type == StateMachineType.STANDARD
        and record.status in REDRIVABLE
        and record.redrive_count < MAX_REDRIVES
    ):
        return "REDRIVABLE"
    return "NOT_REDRIVABLE"


def redrive_execution(engine: Engine, arn: str) -> ExecutionRecord:
    """Enter the state where the execution stopped again, with the input it had.

    A Parallel or Map that failed runs again as a whole (AWS re-runs only the branches
    and iterations that did not succeed).
    """
    record = engine.store.get_execution(arn)
    if record is None:
        raise NotRedrivable(f"Execution Does Not Exist: '{arn}'")
    if redrive_status(record) != "REDRIVABLE":
        raise NotRedrivable(f"Execution '{arn}' is {record.status.value} and cannot be redriven")
    root = engine.store.load_run(arn, ROOT_RUN)
    if root is None:
        raise NotRedrivable(f"Execution '{arn}' kept no state to redrive from")
    step = Step(engine.store, record, engine.clock.now())
    record.redrive_count += 1
    record.status = ExecutionStatus.RUNNING
    record.stop_date = None
    record.error = record.cause = record.output = None
    last = engine.store.event_id_base(arn) - 1
    step.event(None, "ExecutionRedriven", {"redriveCount": record.redrive_count}, previous=last)
    root.seq += 1
    root.status = RunStatus.READY
    root.pending = None
    root.last_event_id = step.writes.events[-1].id
    step.save(root)
    step.writes.redrive = True
    step.writes.messages.append(Message(arn, ROOT_RUN, root.seq, Kind.ENTER))
    engine.commit(step)
    return record
